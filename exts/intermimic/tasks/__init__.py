"""Gym registration of the InterMimic tasks (discovered by Isaac Lab via ``isaaclab.tasks``)."""

import gymnasium as gym

TEACHER_TASK = "InterMimic-Teacher-v0"
TEACHER_PLAY_TASK = "InterMimic-Teacher-Play-v0"
STUDENT_TASK = "InterMimic-Student-v0"
STUDENT_PLAY_TASK = "InterMimic-Student-Play-v0"
STUDENT_TRANSFORMER_TASK = "InterMimic-Student-Transformer-v0"
STUDENT_TRANSFORMER_PLAY_TASK = "InterMimic-Student-Transformer-Play-v0"
G1_TEACHER_TASK = "InterMimic-G1-Teacher-v0"
G1_TEACHER_PLAY_TASK = "InterMimic-G1-Teacher-Play-v0"
G1_STUDENT_TASK = "InterMimic-G1-Student-v0"
G1_STUDENT_PLAY_TASK = "InterMimic-G1-Student-Play-v0"
G1_STUDENT_TRANSFORMER_TASK = "InterMimic-G1-Student-Transformer-v0"
G1_STUDENT_TRANSFORMER_PLAY_TASK = "InterMimic-G1-Student-Transformer-Play-v0"

_AGENTS = f"{__name__}.agents"
_TEACHER_RUNNER = f"{_AGENTS}.rsl_rl_ppo_cfg:TeacherPPORunnerCfg"
_STUDENT_RUNNER = f"{_AGENTS}.rsl_rl_student_cfg:StudentRunnerCfg"
_TRANSFORMER_RUNNER = f"{_AGENTS}.rsl_rl_student_cfg:StudentTransformerRunnerCfg"
_G1_TEACHER_RUNNER = f"{_AGENTS}.rsl_rl_ppo_cfg:G1TeacherPPORunnerCfg"
_G1_STUDENT_RUNNER = f"{_AGENTS}.rsl_rl_student_cfg:G1StudentRunnerCfg"
_G1_TRANSFORMER_RUNNER = f"{_AGENTS}.rsl_rl_student_cfg:G1StudentTransformerRunnerCfg"

TASKS = {
    # task id: (env cfg, runner cfg)
    TEACHER_TASK: (f"{__name__}.hoi_env_cfg:HOIEnvCfg", _TEACHER_RUNNER),
    TEACHER_PLAY_TASK: (f"{__name__}.hoi_env_cfg:HOIEnvCfg_PLAY", _TEACHER_RUNNER),
    STUDENT_TASK: (f"{__name__}.student_env_cfg:HOIStudentEnvCfg", _STUDENT_RUNNER),
    STUDENT_PLAY_TASK: (f"{__name__}.student_env_cfg:HOIStudentEnvCfg_PLAY", _STUDENT_RUNNER),
    STUDENT_TRANSFORMER_TASK: (f"{__name__}.student_env_cfg:HOIStudentTransformerEnvCfg", _TRANSFORMER_RUNNER),
    STUDENT_TRANSFORMER_PLAY_TASK: (f"{__name__}.student_env_cfg:HOIStudentTransformerEnvCfg_PLAY", _TRANSFORMER_RUNNER),
    G1_TEACHER_TASK: (f"{__name__}.g1_env_cfg:G1HOIEnvCfg", _G1_TEACHER_RUNNER),
    G1_TEACHER_PLAY_TASK: (f"{__name__}.g1_env_cfg:G1HOIEnvCfg_PLAY", _G1_TEACHER_RUNNER),
    G1_STUDENT_TASK: (f"{__name__}.g1_env_cfg:G1HOIStudentEnvCfg", _G1_STUDENT_RUNNER),
    G1_STUDENT_PLAY_TASK: (f"{__name__}.g1_env_cfg:G1HOIStudentEnvCfg_PLAY", _G1_STUDENT_RUNNER),
    G1_STUDENT_TRANSFORMER_TASK: (f"{__name__}.g1_env_cfg:G1HOIStudentTransformerEnvCfg", _G1_TRANSFORMER_RUNNER),
    G1_STUDENT_TRANSFORMER_PLAY_TASK: (f"{__name__}.g1_env_cfg:G1HOIStudentTransformerEnvCfg_PLAY",
                                       _G1_TRANSFORMER_RUNNER),
}
PLAY_TASKS = {TEACHER_TASK: TEACHER_PLAY_TASK, STUDENT_TASK: STUDENT_PLAY_TASK,
              STUDENT_TRANSFORMER_TASK: STUDENT_TRANSFORMER_PLAY_TASK, G1_TEACHER_TASK: G1_TEACHER_PLAY_TASK,
              G1_STUDENT_TASK: G1_STUDENT_PLAY_TASK, G1_STUDENT_TRANSFORMER_TASK: G1_STUDENT_TRANSFORMER_PLAY_TASK}  # fmt: skip
"""Training task -> its task for watching policies."""

for _task, (_env_cfg, _runner_cfg) in TASKS.items():
    if _task not in gym.registry:
        gym.register(
            id=_task,
            entry_point=f"{__name__}.hoi_env:HOIEnv",
            disable_env_checker=True,
            kwargs={"env_cfg_entry_point": _env_cfg, "rsl_rl_cfg_entry_point": _runner_cfg, "default_agent": "rsl_rl"},
        )

"""Gym registration of the InterMimic tasks (discovered by Isaac Lab via ``isaaclab.tasks``)."""

import gymnasium as gym

TEACHER_TASK = "InterMimic-Teacher-v0"
TEACHER_PLAY_TASK = "InterMimic-Teacher-Play-v0"

_ENV_CFGS = f"{__name__}.hoi_env_cfg"
_AGENTS = f"{__name__}.agents"

for _task, _cfg in ((TEACHER_TASK, "HOIEnvCfg"), (TEACHER_PLAY_TASK, "HOIEnvCfg_PLAY")):
    if _task not in gym.registry:
        gym.register(
            id=_task,
            entry_point=f"{__name__}.hoi_env:HOIEnv",
            disable_env_checker=True,
            kwargs={
                "env_cfg_entry_point": f"{_ENV_CFGS}:{_cfg}",
                "rsl_rl_cfg_entry_point": f"{_AGENTS}.rsl_rl_ppo_cfg:TeacherPPORunnerCfg",
                "default_agent": "rsl_rl",
            },
        )

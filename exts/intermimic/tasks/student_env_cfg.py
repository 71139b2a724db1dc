"""The student environments: the teacher's scene and MDP terms, three observation groups.

* ``teacher``: each teacher's own input, against the raw motion capture the teachers learned
  from, offsets {1, 16};
* ``policy``: the student's input, against the teacher-corrected references, offsets {1, 16}
  (MLP student) or {0, 1, 4, 16} (Transformer student, one token per offset);
* ``critic``: the value function's input, corrected references, the policy's offsets (as the
  release: {1, 16} for the MLP student, {0, 1, 4, 16} for the Transformer student).

Rewards, terminations and episode starts use the corrected references; an episode starts at
its clip's first frame with probability 0.5 (otherwise failure-prioritised), without physical
state initialisation, as the authors' student training.
"""

from __future__ import annotations

from isaaclab.utils import configclass

from .hoi_env_cfg import HOIEnvCfg, hoi_observation_group, start_at_clip_beginnings

TEACHER_OFFSETS = (1, 16)
MLP_STUDENT_OFFSETS = (1, 16)
TRANSFORMER_STUDENT_OFFSETS = (0, 1, 4, 16)


@configclass
class StudentObservationsCfg:
    policy = hoi_observation_group("corrected", MLP_STUDENT_OFFSETS)
    critic = hoi_observation_group("corrected", MLP_STUDENT_OFFSETS)
    teacher = hoi_observation_group("raw", TEACHER_OFFSETS)


@configclass
class HOIStudentEnvCfg(HOIEnvCfg):
    """Student distillation with the MLP student."""

    observations: StudentObservationsCfg = StudentObservationsCfg()

    def __post_init__(self):
        super().__post_init__()
        motion = self.commands.motion
        motion.teacher_source = "raw"
        motion.reward_source = "corrected"
        motion.init_source = "corrected"
        motion.state_init.start_at_zero_prob = 0.5
        motion.state_init.psi = False


@configclass
class HOIStudentTransformerEnvCfg(HOIStudentEnvCfg):
    """Student distillation with the Transformer student (four offset tokens)."""

    def __post_init__(self):
        super().__post_init__()
        self.observations.policy = hoi_observation_group("corrected", TRANSFORMER_STUDENT_OFFSETS)
        self.observations.critic = hoi_observation_group("corrected", TRANSFORMER_STUDENT_OFFSETS)


def critic_follows_policy(cfg, keep: set[str] | frozenset = frozenset()) -> list[str]:
    """The critic group takes the policy group's observation-term parameters other than the
    reference source and offsets (e.g. the release's ``reference_key_positions`` quirk set by
    ``experiment=release_parity`` on the policy group), except those set on the command line
    (``keep``: env paths); returns the paths changed."""
    observations = getattr(cfg, "observations", None)
    policy, critic = getattr(observations, "policy", None), getattr(observations, "critic", None)
    if policy is None or critic is None:
        return []
    changed = []
    for name, term in vars(critic).items():
        source = getattr(policy, name, None)
        if not isinstance(getattr(term, "params", None), dict) or not isinstance(getattr(source, "params", None), dict):
            continue
        for key, value in source.params.items():
            path = f"observations.critic.{name}.params.{key}"
            if key in ("source", "offsets") or path in keep or term.params.get(key) == value:
                continue
            term.params[key] = value
            changed.append(f"env.{path}={value}")
    return changed


def share_identical_critic(env_cfg, agent_cfg) -> bool:
    """When the critic observation group equals the policy group term by term, drop it and let
    the critic read the policy group (``agent_cfg.obs_groups``): the same observations are then
    computed and stored once, not twice. Returns whether it did."""
    from isaaclab.utils import to_dict

    observations = getattr(env_cfg, "observations", None)
    policy, critic = getattr(observations, "policy", None), getattr(observations, "critic", None)
    groups = getattr(agent_cfg, "obs_groups", None)
    if policy is None or critic is None or not isinstance(groups, dict) or list(groups.get("critic", [])) != ["critic"]:
        return False
    if to_dict(policy) != to_dict(critic):
        return False
    observations.critic = None
    agent_cfg.obs_groups = {**groups, "critic": ["policy"]}
    return True


def _for_play(cfg: HOIStudentEnvCfg) -> None:
    """Watching a student: few envs, starts at clip beginnings, no teachers needed."""
    cfg.scene.num_envs = 4
    cfg.commands.motion.debug_vis = True
    cfg.observations.teacher = None
    start_at_clip_beginnings(cfg)


@configclass
class HOIStudentEnvCfg_PLAY(HOIStudentEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        _for_play(self)


@configclass
class HOIStudentTransformerEnvCfg_PLAY(HOIStudentTransformerEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        _for_play(self)

"""Student runner configs (docs/training.md, "Training the student"): the project's distillation
runner with the authors' release settings."""

from __future__ import annotations

from isaaclab.utils import configclass

from isaaclab_rl.rsl_rl import RslRlOnPolicyRunnerCfg

from .reliability_cfg import RunReliabilityCfg
from .student_schedule_cfg import ScheduleSettings
from .rsl_rl_ppo_cfg import (
    RELEASE_PPO,
    ClippedMLPModelCfg,
    FixedGaussianDistributionCfg,
    InterMimicPpoAlgorithmCfg,
    default_device,
    release_mlp,
)


_S = ScheduleSettings


@configclass
class StudentDistillationAlgorithmCfg(InterMimicPpoAlgorithmCfg):
    """PPO settings plus the student schedule (see ``intermimic.learning.student_schedule``)."""

    class_name: str = "intermimic.learning.distillation:InterMimicDistillation"
    expert_loss_coef: float = _S.expert_loss_coef
    """Weight of the behaviour-cloning loss E_BC."""
    mix_start: int = _S.mix_start
    """Iteration until which every environment executes its teacher's action (beta = 1)."""
    mix_iterations: int = _S.mix_iterations
    """Iterations over which beta falls from 1 to 0."""
    bc_iterations: int = _S.bc_iterations
    """Iterations of pure behaviour cloning."""
    critic_warmup_iterations: int = _S.critic_warmup_iterations
    """Iterations over which the value-loss weight ramps from 0 to value_loss_coef."""
    ppo_start: int = _S.ppo_start
    """First iteration at which PPO may switch on."""
    ev_start: int = _S.ev_start
    """First iteration at which the critic's explained variance is averaged (the release's 7000:
    PPO is allowed from ``ppo_start`` but needs the average, so it starts after 7000)."""
    ev_threshold: float = _S.ev_threshold
    ev_streak: int = _S.ev_streak
    """Consecutive mini-batch updates with the running explained variance >= ev_threshold."""
    ev_rate: float = _S.ev_rate
    """Rate of the running average of the explained variance."""
    actor_ramp: int = _S.actor_ramp
    """PPO updates over which the actor loss weight ramps to 1 and the BC weight falls."""
    bc_floor: float = _S.bc_floor
    """Smallest BC weight (times expert_loss_coef) once PPO is on."""


@configclass
class TransformerModelCfg(ClippedMLPModelCfg):
    """The Transformer student: one token per observation block (future offset)."""

    class_name: str = "intermimic.learning.transformer:TransformerModel"
    hidden_dims: list[int] = []
    activation: str = "relu"
    """Unused (the network is the Transformer below)."""
    obs_normalization: bool = True
    num_tokens: int = 4
    width: int = 256
    heads: int = 4
    ff_width: int = 512
    layers: int = 3
    readout_token: int = 1
    """Token whose encoding gives the action (1: the offset-1 block of {0, 1, 4, 16}, as the release)."""
    head_dims: list[int] = []
    """Hidden layers between the read-out token and the action layer."""


@configclass
class StudentRunnerCfg(RslRlOnPolicyRunnerCfg):
    class_name: str = "intermimic.learning.student_runner:StudentRunner"
    reliability: RunReliabilityCfg = RunReliabilityCfg()
    eval_interval: int = 0
    """Every this many iterations, evaluate the student on fixed starts (as ``evaluate``); 0: never."""
    device = default_device()
    num_steps_per_env = 16
    max_iterations = 20000
    save_interval = 500
    experiment_name = "intermimic_student"
    obs_groups = {"actor": ["policy"], "critic": ["critic"]}
    clip_actions = 1.0
    teachers: dict[str, str] = {}
    """Subject id (as text, e.g. ``"2"``) -> teacher checkpoint (a model_<it>.pt or a teacher run folder)."""
    teacher_activation: str = "relu"
    actor = release_mlp(actor=True)
    critic = release_mlp(actor=False)
    algorithm = StudentDistillationAlgorithmCfg(**RELEASE_PPO)


@configclass
class StudentTransformerRunnerCfg(StudentRunnerCfg):
    experiment_name = "intermimic_student_transformer"
    actor = TransformerModelCfg(distribution_cfg=FixedGaussianDistributionCfg())
    critic = ClippedMLPModelCfg(hidden_dims=[256], activation="relu", obs_normalization=True)
    """The release's critic of the Transformer student: an MLP [256] on the full normalised
    {0, 1, 4, 16} input (6396 values)."""


@configclass
class G1StudentRunnerCfg(StudentRunnerCfg):
    """The student schedule on the G1, distilling G1 teachers."""

    experiment_name = "intermimic_g1_student"


@configclass
class G1StudentTransformerRunnerCfg(StudentTransformerRunnerCfg):
    """The Transformer student on the G1, distilling G1 teachers."""

    experiment_name = "intermimic_g1_student_transformer"

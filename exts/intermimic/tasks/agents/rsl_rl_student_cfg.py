"""Student runner configs (docs/training.md, "Training the student"): the project's distillation
runner with the authors' release settings."""

from __future__ import annotations

from isaaclab.utils import configclass

from isaaclab_rl.rsl_rl import RslRlOnPolicyRunnerCfg

from ...learning.reliability_cfg import RunReliabilityCfg
from .rsl_rl_ppo_cfg import ClippedMLPModelCfg, FixedGaussianDistributionCfg, InterMimicPpoAlgorithmCfg, default_device


@configclass
class StudentDistillationAlgorithmCfg(InterMimicPpoAlgorithmCfg):
    """PPO settings plus the student schedule (see ``intermimic.learning.student_schedule``)."""

    class_name: str = "intermimic.learning.distillation:InterMimicDistillation"
    expert_loss_coef: float = 1.0
    """Weight of the behaviour-cloning loss E_BC."""
    mix_start: int = 500
    """Iteration until which every environment executes its teacher's action (beta = 1)."""
    mix_iterations: int = 5000
    """Iterations over which beta falls from 1 to 0."""
    bc_iterations: int = 5000
    """Iterations of pure behaviour cloning."""
    critic_warmup_iterations: int = 1000
    """Iterations over which the value-loss weight ramps from 0 to value_loss_coef."""
    ppo_start: int = 6000
    """First iteration at which PPO may switch on."""
    ev_start: int = 6000
    """First iteration at which the critic's explained variance is tracked."""
    ev_threshold: float = 0.6
    ev_streak: int = 3
    """Consecutive mini-batch updates with the running explained variance >= ev_threshold."""
    ev_rate: float = 0.01
    """Rate of the running average of the explained variance."""
    actor_ramp: int = 4000
    """PPO updates over which the actor loss weight ramps to 1 and the BC weight falls."""
    bc_floor: float = 0.1
    """Smallest BC weight (times expert_loss_coef) once PPO is on."""


def _student_mlp() -> ClippedMLPModelCfg:
    return ClippedMLPModelCfg(
        hidden_dims=[1024, 1024, 512], activation="relu", obs_normalization=True,
        distribution_cfg=FixedGaussianDistributionCfg(),
    )  # fmt: skip


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
    actor = _student_mlp()
    critic = ClippedMLPModelCfg(hidden_dims=[1024, 1024, 512], activation="relu", obs_normalization=True)
    algorithm = StudentDistillationAlgorithmCfg(
        learning_rate=2.0e-5,
        schedule="fixed",
        gamma=0.99,
        lam=0.95,
        clip_param=0.2,
        num_learning_epochs=6,
        num_mini_batches=8,
        value_loss_coef=5.0,
        use_clipped_value_loss=False,
        entropy_coef=0.0,
        desired_kl=None,
        max_grad_norm=None,
        normalize_advantage_per_mini_batch=False,
    )


@configclass
class StudentTransformerRunnerCfg(StudentRunnerCfg):
    experiment_name = "intermimic_student_transformer"
    actor = TransformerModelCfg(distribution_cfg=FixedGaussianDistributionCfg())

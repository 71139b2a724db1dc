"""Teacher PPO runner config (docs/method.md §8) in rsl_rl 5.5.1 keys."""

from __future__ import annotations

import math

from isaaclab.utils import configclass

from isaaclab_rl.rsl_rl import RslRlMLPModelCfg, RslRlOnPolicyRunnerCfg, RslRlPpoAlgorithmCfg

from .reliability_cfg import RunReliabilityCfg

TEACHER_ACTION_STD = math.exp(-2.9)  # ~0.055, fixed


def default_device() -> str:
    """The learner's device when none is given: CUDA when available, else the CPU."""
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


FULL_ITERATIONS = 20000
CPU_DEMO_ITERATIONS = 20
"""Without a GPU a run is a short demonstration: 20000 iterations would take days on a CPU."""


def default_max_iterations() -> int:
    """Learning iterations when none are given: the full run with CUDA, a demonstration without
    (so ``isaaclab train`` on a CPU-only machine also stops after minutes)."""
    return FULL_ITERATIONS if default_device() != "cpu" else CPU_DEMO_ITERATIONS


@configclass
class FixedGaussianDistributionCfg(RslRlMLPModelCfg.GaussianDistributionCfg):
    """Gaussian action distribution whose standard deviation is not learned."""

    init_std: float = TEACHER_ACTION_STD
    learn_std: bool = False


@configclass
class ClippedMLPModelCfg(RslRlMLPModelCfg):
    """MLP with running observation normalisation clipped to +-obs_clip (docs/method.md §5)."""

    class_name: str = "intermimic.learning.models:ClippedMLPModel"
    obs_clip: float = 5.0
    normalizer: str = "rsl_rl"
    """``rsl_rl``: (x - mean) / (std + 0.01); ``release``: rl_games' (x - mean) / sqrt(var + 1e-5)."""


@configclass
class InterMimicPpoAlgorithmCfg(RslRlPpoAlgorithmCfg):
    class_name: str = "intermimic.learning.ppo:InterMimicPPO"
    bound_loss_coef: float = 10.0
    action_bound: float = 1.0
    max_grad_norm: float | None = None
    """Gradient-norm clipping threshold; None: no clipping (the release's ``truncate_grads: False``)."""
    normalizer_update: str = "iteration"
    """When the observation statistics learn: ``iteration`` (rsl_rl: once per iteration, from the
    rollout, after the gradient steps) or ``mini_batch`` (the release: from every mini-batch,
    before its gradient step)."""


RELEASE_PPO = dict(
    learning_rate=2.0e-5,
    schedule="fixed",
    gamma=0.99,
    lam=0.95,
    clip_param=0.2,
    num_learning_epochs=6,
    num_mini_batches=8,
    value_loss_coef=5.0,
    use_clipped_value_loss=False,  # the release: clip_value False
    entropy_coef=0.0,
    desired_kl=0.01,  # only read by the adaptive schedule
    max_grad_norm=None,  # the release: truncate_grads False
    normalize_advantage_per_mini_batch=False,
)
"""PPO settings of the release, shared by the teacher and the student."""


def release_mlp(actor: bool) -> ClippedMLPModelCfg:
    """The release's MLP [1024, 1024, 512] (ReLU, clipped observation normalisation); the actor
    with the fixed action standard deviation."""
    dist = FixedGaussianDistributionCfg() if actor else None
    return ClippedMLPModelCfg(hidden_dims=[1024, 1024, 512], activation="relu", obs_normalization=True,
                              distribution_cfg=dist)  # fmt: skip


@configclass
class TeacherPPORunnerCfg(RslRlOnPolicyRunnerCfg):
    project_runner: str | None = "intermimic.learning.teacher_runner:TeacherRunner"
    """Runner built by the project's scripts (fault-tolerant loop, docs/reliability.md); ``class_name``
    stays rsl_rl's ``OnPolicyRunner``, the only one ``isaaclab train`` can build. None: that one."""
    reliability: RunReliabilityCfg = RunReliabilityCfg()
    eval_interval: int = 0
    """Every this many iterations, evaluate the policy on fixed starts (every clip from frame 0,
    as ``evaluate``) and log ``Eval/*``; 0: never."""
    device = default_device()
    num_steps_per_env = 32
    max_iterations = default_max_iterations()
    save_interval = 500
    experiment_name = "intermimic_teacher"
    obs_groups = {"actor": ["policy"], "critic": ["policy"]}
    clip_actions = 1.0
    actor = release_mlp(actor=True)
    critic = release_mlp(actor=False)
    algorithm = InterMimicPpoAlgorithmCfg(**RELEASE_PPO)


@configclass
class G1TeacherPPORunnerCfg(TeacherPPORunnerCfg):
    """The teacher's PPO settings on the G1 (the release's G1 config repeats the SMPL-X ones)."""

    experiment_name = "intermimic_g1_teacher"

"""Teacher PPO runner config (METHOD section 8) in rsl_rl 5.5.1 keys."""

from __future__ import annotations

import math

from isaaclab.utils import configclass

from isaaclab_rl.rsl_rl import RslRlMLPModelCfg, RslRlOnPolicyRunnerCfg, RslRlPpoAlgorithmCfg

from ...learning.reliability_cfg import RunReliabilityCfg

TEACHER_ACTION_STD = math.exp(-2.9)  # ~0.055, fixed


def default_device() -> str:
    """The learner's device when none is given: CUDA when available, else the CPU."""
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


@configclass
class FixedGaussianDistributionCfg(RslRlMLPModelCfg.GaussianDistributionCfg):
    """Gaussian action distribution whose standard deviation is not learned."""

    init_std: float = TEACHER_ACTION_STD
    learn_std: bool = False


@configclass
class ClippedMLPModelCfg(RslRlMLPModelCfg):
    """MLP with running observation normalisation clipped to +-obs_clip (METHOD section 5)."""

    class_name: str = "intermimic.learning.models:ClippedMLPModel"
    obs_clip: float = 5.0


@configclass
class InterMimicPpoAlgorithmCfg(RslRlPpoAlgorithmCfg):
    class_name: str = "intermimic.learning.ppo:InterMimicPPO"
    bound_loss_coef: float = 10.0
    action_bound: float = 1.0


@configclass
class TeacherPPORunnerCfg(RslRlOnPolicyRunnerCfg):
    project_runner: str | None = "intermimic.learning.teacher_runner:TeacherRunner"
    """Runner built by the project's scripts (fault-tolerant loop, docs/reliability.md); ``class_name``
    stays rsl_rl's ``OnPolicyRunner``, the only one ``isaaclab train`` can build. None: that one."""
    reliability: RunReliabilityCfg = RunReliabilityCfg()
    device = default_device()
    num_steps_per_env = 32
    max_iterations = 20000
    save_interval = 500
    experiment_name = "intermimic_teacher"
    obs_groups = {"actor": ["policy"], "critic": ["policy"]}
    clip_actions = 1.0
    actor = ClippedMLPModelCfg(
        hidden_dims=[1024, 1024, 512],
        activation="relu",
        obs_normalization=True,
        distribution_cfg=FixedGaussianDistributionCfg(),
    )
    critic = ClippedMLPModelCfg(hidden_dims=[1024, 1024, 512], activation="relu", obs_normalization=True)
    algorithm = InterMimicPpoAlgorithmCfg(
        learning_rate=2.0e-5,
        schedule="fixed",
        gamma=0.99,
        lam=0.95,
        clip_param=0.2,
        num_learning_epochs=6,
        num_mini_batches=8,
        value_loss_coef=5.0,
        use_clipped_value_loss=True,
        entropy_coef=0.0,
        desired_kl=0.01,
        max_grad_norm=1.0,
        normalize_advantage_per_mini_batch=False,
    )

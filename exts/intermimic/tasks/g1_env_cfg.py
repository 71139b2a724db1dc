"""The InterMimic tasks on the Unitree G1 with Dex3 hands (docs/g1.md).

The SMPL-X tasks' scene, MDP terms and schedules, with the robot read from the user's URDF
(``env.robot_urdf=...``) and robot reference clips written by ``retarget-robot`` (``--motion
DIR``). Every term indexes the G1's own body groups (the 20 key bodies of the release's map, the
Dex3 hand groups, the contact bodies), so rewards, terminations and PSI work as for SMPL-X.
"""

from __future__ import annotations

from isaaclab.utils import configclass

from ..assets.g1_dex3 import RELEASE_OBJECT_DENSITY
from . import mdp
from .hoi_env_cfg import TIMINGS, HOIEnvCfg, HOIEnvCfg_PLAY
from .physics import SimTiming
from .student_env_cfg import HOIStudentEnvCfg, HOIStudentEnvCfg_PLAY, HOIStudentTransformerEnvCfg, HOIStudentTransformerEnvCfg_PLAY

G1_EMBODIMENT = "g1_dex3"

RELEASE_G1_TIMING = SimTiming(
    physics_hz=120, position_iterations=4, velocity_iterations=0, max_depenetration_velocity=50.0,
    object_density=RELEASE_OBJECT_DENSITY, ground_friction=0.9, ground_restitution=0.7,
)  # fmt: skip
"""The release's G1 physics (``omomo_g1_29dof_with_hand.yaml``): sim dt 1/60 s with 2 substeps,
TGS 4 position / 0 velocity iterations, depenetration 50, ground restitution 0.7, density 25."""
RELEASE_G1_REWARD_WEIGHTS = mdp.RewardWeightsCfg(p=10.0, r=10.0, op=0.0, opv=0.01, ig=20.0, eg1=5.0e-5, eg2=5.0e-5,
                                                 eg3=5.0e-9)  # fmt: skip
"""The release's G1 reward weights (the others are this project's defaults, as its SMPL-X configs)."""
RELEASE_G1_SETTING = "release_g1"


def use_g1(cfg) -> None:
    """Point an InterMimic env cfg at the G1: embodiment, robot clips, the release's G1 object density."""
    cfg.embodiment = G1_EMBODIMENT
    cfg.commands.motion.motion.embodiment = G1_EMBODIMENT
    cfg.object_density = RELEASE_OBJECT_DENSITY
    cfg.object_densities = {}


class _G1Timing:
    """Timing presets set the object density; the G1 keeps the release's lighter objects. The
    G1 also takes the release's G1 setting, ``env.timing=release_g1`` (``experiment=release_g1``)."""

    def timing_presets(self):
        return {**TIMINGS, RELEASE_G1_SETTING: (RELEASE_G1_TIMING, RELEASE_G1_REWARD_WEIGHTS)}

    def apply_timing(self) -> None:
        applied = self.applied_timing
        super().apply_timing()
        if applied != self.applied_timing:
            self.object_density = RELEASE_OBJECT_DENSITY
            self.robot_collision_filter = "release" if self.timing == RELEASE_G1_SETTING else "neighbours"


@configclass
class G1HOIEnvCfg(_G1Timing, HOIEnvCfg):
    """InterMimic teacher environment on the G1 (``InterMimic-G1-Teacher-v0``)."""

    def __post_init__(self):
        super().__post_init__()
        use_g1(self)


@configclass
class G1HOIEnvCfg_PLAY(_G1Timing, HOIEnvCfg_PLAY):
    def __post_init__(self):
        super().__post_init__()
        use_g1(self)


@configclass
class G1HOIStudentEnvCfg(_G1Timing, HOIStudentEnvCfg):
    """Student distillation from G1 teachers (``InterMimic-G1-Student-v0``)."""

    def __post_init__(self):
        super().__post_init__()
        use_g1(self)


@configclass
class G1HOIStudentEnvCfg_PLAY(_G1Timing, HOIStudentEnvCfg_PLAY):
    def __post_init__(self):
        super().__post_init__()
        use_g1(self)


@configclass
class G1HOIStudentTransformerEnvCfg(_G1Timing, HOIStudentTransformerEnvCfg):
    """Transformer student distilled from G1 teachers (``InterMimic-G1-Student-Transformer-v0``)."""

    def __post_init__(self):
        super().__post_init__()
        use_g1(self)


@configclass
class G1HOIStudentTransformerEnvCfg_PLAY(_G1Timing, HOIStudentTransformerEnvCfg_PLAY):
    def __post_init__(self):
        super().__post_init__()
        use_g1(self)

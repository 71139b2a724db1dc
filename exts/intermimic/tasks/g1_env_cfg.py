"""The InterMimic tasks on the Unitree G1 with Dex3 hands (docs/g1.md).

The SMPL-X tasks' scene, MDP terms and schedules, with the robot read from the user's URDF
(``env.robot_urdf=...``) and robot reference clips written by ``retarget-robot`` (``--motion
DIR``). Every term indexes the G1's own body groups (the 20 key bodies of the release's map, the
Dex3 hand groups, the contact bodies), so rewards, terminations and PSI work as for SMPL-X.
"""

from __future__ import annotations

from isaaclab.utils import configclass

from ..assets.g1_dex3 import RELEASE_OBJECT_DENSITY
from .hoi_env_cfg import HOIEnvCfg, HOIEnvCfg_PLAY
from .student_env_cfg import HOIStudentEnvCfg, HOIStudentEnvCfg_PLAY

G1_EMBODIMENT = "g1_dex3"


def use_g1(cfg) -> None:
    """Point an InterMimic env cfg at the G1: embodiment, robot clips, the release's G1 object density."""
    cfg.embodiment = G1_EMBODIMENT
    cfg.commands.motion.motion.embodiment = G1_EMBODIMENT
    cfg.object_density = RELEASE_OBJECT_DENSITY
    cfg.object_densities = {}


class _G1Timing:
    """Timing presets set the object density; the G1 keeps the release's lighter objects."""

    def apply_timing(self) -> None:
        applied = self.applied_timing
        super().apply_timing()
        if applied != self.applied_timing:
            self.object_density = RELEASE_OBJECT_DENSITY


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

"""Physics presets, chosen on the command line with ``physics=<name>``.

* ``newton`` (default): Newton with the MuJoCo-Warp solver; kit-less, CPU or GPU.
* ``isaacsim_physx``: PhysX through Isaac Sim (GPU workstation, ``pip install .[isaacsim]``).
"""

from __future__ import annotations

from dataclasses import dataclass

from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg
from isaaclab_physx.physics import PhysxCfg

from isaaclab.utils import configclass

from isaaclab_tasks.utils import PresetCfg


@dataclass(frozen=True)
class SimTiming:
    """Physics rate and solver settings of one of the two published settings (docs/method.md §3)."""

    physics_hz: int
    position_iterations: int
    max_depenetration_velocity: float
    object_density: float
    ground_friction: float
    ground_restitution: float
    velocity_iterations: int = 1
    """Solver velocity iterations of the humanoid and the object (the release runs 1)."""


HIGH_FIDELITY = SimTiming(240, 8, 20.0, 1000.0, 0.9, 0.1)
"""The default: goes with the ``OMOMO_new`` clips."""
LEGACY = SimTiming(120, 4, 100.0, 200.0, 0.9, 0.7)
"""The release's older setting."""
POLICY_HZ = 30


@configclass
class HOIPhysicsCfg(PresetCfg):
    newton: NewtonCfg = NewtonCfg(
        solver_cfg=MJWarpSolverCfg(
            njmax=600,
            nconmax=150,
            integrator="implicitfast",
            cone="pyramidal",
            impratio=1.0,
            # Newton's collision pipeline: MuJoCo-Warp's own contacts would collide every env with
            # env 0's meshes, which breaks scenes holding different objects in different envs
            use_mujoco_contacts=False,
        ),
        num_substeps=1,
    )
    isaacsim_physx: PhysxCfg = PhysxCfg(
        bounce_threshold_velocity=0.2,
        gpu_max_rigid_contact_count=2**23,
        gpu_max_rigid_patch_count=2**23,
    )
    default: NewtonCfg = newton

"""Physics presets, chosen on the command line with ``physics=<name>``.

* ``ovphysx`` (default): PhysX, the engine the method was published with, without Isaac Sim,
  through Isaac Lab's ``isaaclab_ov`` backend (the ``ovphysx`` runtime, installed with the
  package); kit-less, CPU or GPU.
* ``newton_mjwarp`` (``newton`` is accepted too): Newton with the MuJoCo-Warp solver; kit-less,
  CPU or GPU. (Isaac Lab 3.0 calls this preset ``newton_mjwarp`` and reads ``newton`` as its old
  name.)
* ``isaacsim_physx``: PhysX through Isaac Sim (GPU workstation, Isaac Sim installed separately).

A run records its physics (``<run>/params/env.yaml``); playing, evaluating or resuming it keeps
that physics unless ``physics=`` names another (:func:`preset_of_recorded`).

Both PhysX presets read the same USD files and take the release's PhysX settings: TGS solver,
bounce threshold 0.2 m/s, the humanoid's contact offset 0.02 m and rest offset 0 (its collision
properties, :mod:`~intermimic.assets.humanoid`), the solver iterations and maximum depenetration
velocity of the chosen timing (:data:`HIGH_FIDELITY`, :data:`LEGACY`, set on the assets by
``HOIEnvCfg.apply_timing``), and GPU pair/contact capacities sized for 8192 environments.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg
from isaaclab_ov.physics import OvPhysxCfg
from isaaclab_physx.physics import PhysxCfg

from isaaclab.utils import configclass

from isaaclab_tasks.utils import PresetCfg

from ..utils.errors import UserError


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

BOUNCE_THRESHOLD_VELOCITY = 0.2
"""Relative speed (m/s) below which a contact does not bounce (the release, both settings)."""

# GPU buffers for 8192 environments. Per environment at most 52 humanoid shapes x 64 object hulls
# plus the ground's pairs can overlap (3444 pairs; self-collision is off), typically a few hundred;
# each touching pair makes a patch of up to 4 contacts.
MAX_ENVS = 8192
GPU_FOUND_LOST_PAIRS = 2**24  # 2048 pairs found or lost per env and step
GPU_FOUND_LOST_AGGREGATE_PAIRS = 2**25
GPU_TOTAL_AGGREGATE_PAIRS = 2**22  # humanoid, object and ground aggregates: a few pairs per env
GPU_RIGID_CONTACTS = 2**23  # 1024 contacts per env
GPU_RIGID_PATCHES = 2**23
GPU_COLLISION_STACK_BYTES = 2**28

_GPU_CAPACITIES = dict(
    gpu_max_rigid_contact_count=GPU_RIGID_CONTACTS,
    gpu_max_rigid_patch_count=GPU_RIGID_PATCHES,
    gpu_found_lost_pairs_capacity=GPU_FOUND_LOST_PAIRS,
    gpu_found_lost_aggregate_pairs_capacity=GPU_FOUND_LOST_AGGREGATE_PAIRS,
    gpu_total_aggregate_pairs_capacity=GPU_TOTAL_AGGREGATE_PAIRS,
    gpu_collision_stack_size=GPU_COLLISION_STACK_BYTES,
)


@configclass
class HOIPhysicsCfg(PresetCfg):
    newton_mjwarp: NewtonCfg = NewtonCfg(
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
    ovphysx: OvPhysxCfg = OvPhysxCfg(**_GPU_CAPACITIES)
    isaacsim_physx: PhysxCfg = PhysxCfg(
        solver_type=1,  # TGS
        bounce_threshold_velocity=BOUNCE_THRESHOLD_VELOCITY,
        **_GPU_CAPACITIES,
    )
    default: OvPhysxCfg = ovphysx


DEFAULT_PHYSICS = "ovphysx"
"""The preset of ``HOIPhysicsCfg.default`` (what a command runs without ``physics=``)."""


def is_physx(physics) -> bool:
    """Whether a physics config runs PhysX (kit-less or under Isaac Sim)."""
    return isinstance(physics, (OvPhysxCfg, PhysxCfg))


def physics_name(physics) -> str:
    """The preset name of a physics config."""
    if isinstance(physics, OvPhysxCfg):
        return "ovphysx"
    if isinstance(physics, PhysxCfg):
        return "isaacsim_physx"
    return "newton_mjwarp"


_MANAGER_PRESETS = {"OvPhysxManager": "ovphysx", "PhysxManager": "isaacsim_physx", "NewtonMJWarpManager": "newton_mjwarp"}


def preset_of_recorded(physics) -> str | None:
    """The preset name of a physics config as a run recorded it (a dict from ``params/env.yaml``:
    its ``class_type`` names the backend's manager), or None when it names none of the presets."""
    class_type = physics.get("class_type") if isinstance(physics, dict) else None
    if not isinstance(class_type, str):
        return None
    return _MANAGER_PRESETS.get(class_type.rpartition(":")[2].rpartition(".")[2])


PRESET_ALIASES = {"newton": "newton_mjwarp"}
"""Other names ``physics=`` accepts (Isaac Lab's old name of the Newton preset)."""


OVPHYSX_INSTALL = 'pip install "isaaclab[ovphysx]==3.0.0"'
ISAACSIM_INSTALL = (
    'uv pip install "isaaclab[isaacsim]==3.0.0" --overrides '
    "https://raw.githubusercontent.com/isaac-sim/IsaacLab/v3.0.0/tools/wheel_builder/uv-overrides.txt "
    "--extra-index-url https://pypi.nvidia.com --index-strategy unsafe-best-match"
)
"""Isaac Lab 3.0's own install of Isaac Sim with Isaac Lab's wheel (docs/install.md)."""


def require_physics_backend(name: str) -> None:
    """UserError naming the install when the runtime of preset ``name`` is not installed."""
    if name == "ovphysx" and importlib.util.find_spec("ovphysx") is None:
        raise UserError(
            f"physics=ovphysx: the kit-less PhysX runtime (ovphysx) is not installed; install it with "
            f"{OVPHYSX_INSTALL} (./intermimic.sh setup does)"
        )
    if name == "isaacsim_physx" and importlib.util.find_spec("isaacsim") is None:
        raise UserError(
            f"physics=isaacsim_physx: Isaac Sim is not installed; install it with {ISAACSIM_INSTALL} "
            "(docs/install.md, 'PhysX under Isaac Sim'), or use physics=ovphysx for PhysX without Isaac Sim"
        )


def author_physx_scene(stage, scene_path: str) -> None:
    """Write the release's scene-level PhysX settings onto the physics scene prim: TGS solver and
    the bounce threshold (Isaac Lab's kit-less PhysX reads them from the USD scene; under Isaac Sim
    :class:`PhysxCfg` writes the same values)."""
    from pxr import Sdf

    prim = stage.GetPrimAtPath(scene_path)
    if not prim.IsValid():
        raise RuntimeError(f"no physics scene prim at {scene_path}")
    prim.CreateAttribute("physxScene:solverType", Sdf.ValueTypeNames.Token).Set("TGS")
    prim.CreateAttribute("physxScene:bounceThreshold", Sdf.ValueTypeNames.Float).Set(BOUNCE_THRESHOLD_VELOCITY)


def prepare_physx(sim, sim_cfg) -> None:
    """Before the scene of a kit-less PhysX simulation is built: the release's scene settings on
    its USD stage, and host buffers Isaac Lab can allocate without CUDA (:mod:`.ovphysx_cpu`).
    Nothing for Newton, or for PhysX under Isaac Sim (its :class:`PhysxCfg` writes the settings)."""
    if not isinstance(sim_cfg.physics, OvPhysxCfg):
        return
    from .ovphysx_cpu import allow_pinned_host_buffers

    author_physx_scene(sim.stage, sim_cfg.physics_prim_path)
    allow_pinned_host_buffers()

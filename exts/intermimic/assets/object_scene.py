"""One object per environment: scene entity, per-env object assignment and contact sensors.

Environments may hold different objects (a ``MultiAssetSpawnerCfg`` with one variant per
object). Isaac Lab turns the variants into world prototypes and a scene-level clone strategy
picks one per environment; :func:`cyclic_clone_strategy` gives environment ``i`` object
``i % N`` (Isaac Lab's default, ``sequential``, gives contiguous blocks instead). Whatever the
strategy, :func:`env_object_ids` reads back which object each environment actually got, so
the motion command can assign each environment only clips of its object.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .objects import ObjectAsset

OBJECT_PRIM_NAME = "Object"
DEFAULT_OBJECT_POS = (1.0, 0.0, 0.6)
"""Spawn position (env frame) before the first reset places the object at a clip's pose."""


def cyclic_clone_strategy(weights: np.ndarray, num_clones: int) -> np.ndarray:
    """Clone strategy giving environment ``i`` world prototype ``i % N`` (weights are ignored)."""
    return np.arange(num_clones) % len(weights)


def solver_props_like(articulation_cfg):
    """PhysX rigid-body solver settings of an articulation's spawn config (position and velocity
    iterations, maximum depenetration velocity), for the object to use the humanoid's: the
    release sets them once for the whole simulation."""
    from isaaclab_physx.sim.schemas import PhysxArticulationCfg, PhysxRigidBodyCfg

    spawn = articulation_cfg.spawn
    fragments = spawn.articulation_props if isinstance(spawn.articulation_props, list) else [spawn.articulation_props]
    physx = next(f for f in fragments if isinstance(f, PhysxArticulationCfg))
    return PhysxRigidBodyCfg(
        solver_position_iteration_count=physx.solver_position_iteration_count,
        solver_velocity_iteration_count=physx.solver_velocity_iteration_count,
        max_depenetration_velocity=spawn.rigid_props.max_depenetration_velocity,
    )


def object_spawn_cfg(assets: Sequence[ObjectAsset], rigid_props=None):
    """Spawner for one object per environment, one variant per asset (in the given order);
    ``rigid_props`` (e.g. :func:`solver_props_like`) apply to every variant."""
    import isaaclab.sim as sim_utils

    if not assets:
        raise ValueError("object_spawn_cfg: at least one object asset is required")
    variants = [
        sim_utils.UsdFileCfg(usd_path=str(a.usd_path), activate_contact_sensors=True, rigid_props=rigid_props)
        for a in assets
    ]
    if len(variants) == 1:
        return variants[0]
    return sim_utils.MultiAssetSpawnerCfg(assets_cfg=variants, activate_contact_sensors=True, random_choice=False)


def object_cfg(
    assets: Sequence[ObjectAsset],
    prim_path: str = "{ENV_REGEX_NS}/" + OBJECT_PRIM_NAME,
    pos: tuple[float, float, float] = DEFAULT_OBJECT_POS,
    rigid_props=None,
):
    """``RigidObjectCfg`` of the per-environment object."""
    from isaaclab.assets import RigidObjectCfg

    return RigidObjectCfg(
        prim_path=prim_path,
        spawn=object_spawn_cfg(assets, rigid_props),
        init_state=RigidObjectCfg.InitialStateCfg(pos=pos),
    )


def add_objects_to_scene(scene_cfg, assets: Sequence[ObjectAsset], name: str = "object", **kwargs) -> None:
    """Put ``assets`` into ``scene_cfg`` as entity ``name``; environment ``i`` gets ``assets[i % N]``."""
    setattr(scene_cfg, name, object_cfg(assets, **kwargs))
    scene_cfg.clone_cfg.clone_strategy = cyclic_clone_strategy


def object_contact_sensor_cfg(prim_path: str = "{ENV_REGEX_NS}/" + OBJECT_PRIM_NAME, history_length: int = 1):
    """Net contact force on the object (``data.net_forces_w``: ``[num_envs, 1, 3]``)."""
    from isaaclab.sensors import ContactSensorCfg

    return ContactSensorCfg(prim_path=prim_path, history_length=history_length)


def humanoid_object_contact_sensor_cfg(
    robot_prim_path: str = "{ENV_REGEX_NS}/Robot",
    object_prim_path: str = "{ENV_REGEX_NS}/" + OBJECT_PRIM_NAME,
    history_length: int = 1,
):
    """Per-body forces between each humanoid body and the object.

    ``data.force_matrix_w``: ``[num_envs, num_bodies, 1, 3]`` (simulator body order; map with
    :func:`~intermimic.assets.sim_indices.canonical_body_ids`), alongside the net forces.
    """
    from isaaclab.sensors import ContactSensorCfg

    return ContactSensorCfg(
        prim_path=f"{robot_prim_path}/.*", filter_prim_paths_expr=[object_prim_path], history_length=history_length
    )


def check_per_env_collision_geometry() -> None:
    """Fail when the active physics cannot give environments different collision meshes.

    Newton's MuJoCo Warp solver, when it generates contacts itself (``use_mujoco_contacts``,
    its default), builds one MuJoCo model from environment 0 and uses environment 0's collision
    meshes in every environment (measured: a chair dropped in environment 1 came to rest at the
    table's height). Newton's own collision pipeline (``use_mujoco_contacts=False``) collides
    each environment's own shapes.
    """
    from isaaclab.sim import SimulationContext

    sim = SimulationContext.instance()
    solver = getattr(getattr(sim.cfg, "physics", None), "solver_cfg", None) if sim is not None else None
    if solver is not None and getattr(solver, "use_mujoco_contacts", False):
        raise RuntimeError(
            "environments hold different objects, but the physics is Newton's MuJoCo Warp solver with "
            "use_mujoco_contacts=True, which collides every environment with environment 0's meshes. "
            "Set MJWarpSolverCfg(use_mujoco_contacts=False) so that Newton's collision pipeline is used."
        )


def _variant_usd_paths(spawn) -> list[str]:
    variants = getattr(spawn, "assets_cfg", None)
    return [str(v.usd_path) for v in variants] if variants is not None else [str(spawn.usd_path)]


def env_object_ids(scene, name: str = "object") -> torch.Tensor:
    """Index (into the asset list the entity was built from) of the object in each environment.

    Read from the scene's clone plan, so it is what the simulator holds whatever the clone
    strategy was. Returns a ``long`` tensor ``[num_envs]`` on the scene's device. Raises when
    the environments hold different objects under physics that cannot simulate that (see
    :func:`check_per_env_collision_geometry`).
    """
    entity_cfg = scene[name].cfg
    usd_paths = _variant_usd_paths(entity_cfg.spawn)
    if len(usd_paths) == 1:
        return torch.zeros(scene.num_envs, dtype=torch.long, device=scene.device)
    plan = scene.clone_plan
    if plan is None:
        raise RuntimeError(f"scene entity '{name}' has several object variants but the scene has no clone plan")
    topology = plan.topology
    starts = np.asarray(topology.world_prototype_starts)
    members = np.asarray(topology.world_prototypes)
    ids = []
    for world_proto in np.asarray(topology.world_prototype_layout):
        found = None
        for asset in members[starts[world_proto + 1] : starts[world_proto + 2]]:
            proto_cfg = plan.asset_cfgs[asset]
            if proto_cfg.prim_path != entity_cfg.prim_path:
                continue
            found = usd_paths.index(_variant_usd_paths(proto_cfg.spawn)[0])
        if found is None:
            raise RuntimeError(f"no object variant of scene entity '{name}' found in a world prototype")
        ids.append(found)
    if len(set(ids)) > 1:
        check_per_env_collision_geometry()
    return torch.tensor(ids, dtype=torch.long, device=scene.device)


def env_surface_points(assets: Sequence[ObjectAsset], object_ids: torch.Tensor) -> torch.Tensor:
    """Surface sample points of each environment's object, ``[num_envs, P, 3]`` (object frame)."""
    points = torch.stack([a.surface_points for a in assets]).to(object_ids.device)
    return points[object_ids]

"""A local ground: one large static box whose top face is the plane z = 0 (no cloud asset), with
the release's contact and rest offsets (:mod:`.physx_settings`)."""

from __future__ import annotations

from . import physx_settings as physx

GROUND_SIZE_M = 2000.0
GROUND_THICKNESS_M = 1.0


def ground_cfg(friction: float, restitution: float, prim_path: str = "/World/ground"):
    import isaaclab.sim as sim_utils
    from isaaclab.assets import AssetBaseCfg

    return AssetBaseCfg(
        prim_path=prim_path,
        spawn=sim_utils.CuboidCfg(
            size=(GROUND_SIZE_M, GROUND_SIZE_M, GROUND_THICKNESS_M),
            collision_props=sim_utils.CollisionPropertiesCfg(
                contact_offset=physx.CONTACT_OFFSET, rest_offset=physx.REST_OFFSET
            ),
            physics_material=sim_utils.RigidBodyMaterialCfg(
                static_friction=friction,
                dynamic_friction=friction,
                restitution=restitution,
                friction_combine_mode="average",
                restitution_combine_mode="average",
            ),
            visual_material=sim_utils.PreviewSurfaceCfg(diffuse_color=(0.55, 0.6, 0.55)),
        ),
        init_state=AssetBaseCfg.InitialStateCfg(pos=(0.0, 0.0, -0.5 * GROUND_THICKNESS_M)),
    )

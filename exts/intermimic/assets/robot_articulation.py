"""Isaac Lab articulation config of a robot embodiment (the Unitree G1 with Dex3 hands).

The robot's URDF is compiled by MuJoCo (the robot module's ``mjcf_text``, e.g.
:func:`~intermimic.assets.g1_dex3.mjcf_text`) and the MJCF converted to USD by the converter
the SMPL-X humanoid already uses, cached by content hash: Newton reads that USD kit-less on the
CPU or GPU, and PhysX reads the same file. The PD
actuators carry the embodiment's per-joint gains, armature and effort/velocity limits, each
joint named by its own name. Self-collision follows the embodiment
(:attr:`~intermimic.assets.embodiment_spec.Embodiment.self_collisions`); its filtered body pairs
are part of the model (MJCF ``<exclude>`` -> USD ``physics:filteredPairs``, which Newton and
PhysX both read).
"""

from __future__ import annotations

import re
from pathlib import Path

from .embodiment import robot_module
from .embodiment_spec import Embodiment
from .usd_convert import mjcf_to_usd


def robot_usd_path(emb: Embodiment) -> Path:
    """USD file of a robot embodiment read from its URDF (``emb.source``)."""
    module = robot_module(emb.name)
    text = module.mjcf_text(emb.source, emb.collision_filter) if emb.collision_filter else module.mjcf_text(emb.source)
    return mjcf_to_usd(text, emb.name)


def _per_joint(emb: Embodiment, values) -> dict[str, float]:
    return {re.escape(j): float(v) for j, v in zip(emb.joint_names, values)}


def _self_collision(props, enabled: bool):
    """The articulation property fragments ``props`` with self-collision set to ``enabled``."""
    out = []
    for fragment in props if isinstance(props, list) else [props]:
        for name in ("enabled_self_collisions", "self_collision_enabled"):  # PhysX, Newton
            if hasattr(fragment, name):
                fragment = fragment.replace(**{name: enabled})
        out.append(fragment)
    return out


def robot_articulation_cfg(emb: Embodiment, like):
    """``like`` (the scene's humanoid ArticulationCfg: prim path, solver and rigid-body settings)
    with the robot's USD, self-collision setting, initial pose and PD actuators."""
    from isaaclab.actuators import ImplicitActuatorCfg
    from isaaclab.assets import ArticulationCfg

    return like.replace(
        spawn=like.spawn.replace(usd_path=str(robot_usd_path(emb)),
                                 articulation_props=_self_collision(like.spawn.articulation_props, emb.self_collisions)),
        init_state=ArticulationCfg.InitialStateCfg(
            pos=(0.0, 0.0, emb.default_root_height), joint_pos=_per_joint(emb, emb.default_joint_pos)
        ),
        actuators={
            emb.name: ImplicitActuatorCfg(
                joint_names_expr=[re.escape(j) for j in emb.joint_names],
                stiffness=_per_joint(emb, emb.stiffness),
                damping=_per_joint(emb, emb.damping),
                armature=_per_joint(emb, emb.armature),
                effort_limit_sim=_per_joint(emb, emb.effort_limit),
                velocity_limit_sim=_per_joint(emb, emb.velocity_limit),
            )
        },
    )

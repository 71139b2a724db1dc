"""What a runtime outside this package needs to run an exported policy: the ``deployment`` part
of the export metadata (:func:`deployment_metadata`).

A deployment rebuilds the policy's observation from its own simulated (or measured) state and a
reference clip, so the metadata names everything that observation depends on besides the two:
the body order and the body groups each term reads, the future offsets and the term order of a
block, the rule giving every body its reference contact label, the contact force threshold,
the object surface sampling, and the training simulator's physics, objects and failure
distances (for a sim-to-sim check such as ``deploy/g1_mujoco.py``, which documents how each term
is computed). Joint order, PD gains, effort limits and the action mapping are in the metadata's
top level (:func:`~intermimic.learning.export.policy_metadata`).
"""

from __future__ import annotations

from ..assets.primitives import NUM_SURFACE_POINTS, SURFACE_POINT_SEED

DEPLOYMENT_FORMAT = 1
FIELD_DECAY = 5.0
"""The interaction field's encoding e(d) = d / (|d| + 1e-6) exp(-FIELD_DECAY |d|) (observations.field_encoding)."""

FAILURE_TERMS = {"fall": "min_height", "key_body_error": "threshold", "object_error": "threshold"}
"""Failure terms whose distance a deployment checks, and the parameter holding it."""


def _ids(tensor) -> list[int]:
    return [int(i) for i in tensor.tolist()]


def _physics(base) -> dict:
    cfg = base.cfg
    solver = getattr(getattr(cfg.sim, "physics", None), "solver_cfg", None)
    out = {
        "physics_hz": round(1.0 / cfg.sim.dt, 6),
        "decimation": int(cfg.decimation),
        "ground_friction": float(cfg.sim.physics_material.static_friction),
        "ground_restitution": float(cfg.sim.physics_material.restitution),
        "timing": getattr(cfg, "timing", None),
    }
    if solver is not None:
        out["solver"] = {k: getattr(solver, k) for k in ("integrator", "cone", "impratio") if hasattr(solver, k)}
    return out


def _objects(base) -> dict:
    out = {}
    for asset in getattr(base, "object_assets", None) or ():
        out[asset.name] = {
            "density": float(asset.physics.density),
            "friction": float(asset.physics.friction),
            "mass": round(float(asset.expected_mass), 6),
            "convex_parts": [[[round(float(x), 6) for x in v] for v in part.vertices] for part in asset.parts],
        }
    return out


def _failures(base, length_scale: float) -> dict:
    manager = base.termination_manager
    out = {"min_steps": 2}
    for name, param in FAILURE_TERMS.items():
        if name in manager.active_terms:
            params = manager.get_term_cfg(name).params
            value = float(params.get(param, {"fall": 0.3, "key_body_error": 0.5, "object_error": 0.5}[name]))
            out[name] = value if name == "fall" else value * length_scale
            out["min_steps"] = int(params.get("min_steps", out["min_steps"]))
    return out


def deployment_metadata(env, group: str) -> dict | None:
    """The ``deployment`` metadata of ``env``'s observation group ``group`` (None when the group
    is not one of the HOI observation groups, laid out block by block)."""
    base = env.unwrapped
    cmd = base.command_manager.get_term("motion")
    emb, groups = cmd.embodiment, cmd.groups
    layout = getattr(base.observation_manager, "layouts", {}).get(group)
    if layout is None:
        return None
    order = getattr(base.cfg, "contact_body_order", "body")
    terms = getattr(base.cfg.observations, group)
    quirk = bool(getattr(getattr(terms, "reference_key_positions", None), "params", {}).get("release_quirk", False))
    sources = {getattr(getattr(terms, t, None), "params", {}).get("source") for t in layout.terms} - {None}
    return {
        "format": DEPLOYMENT_FORMAT,
        "bodies": list(emb.body_names),
        "key_bodies": _ids(groups.ids("key", "cpu")),
        "rotation_error_bodies": _ids(groups.ids("rotation_error", "cpu")),
        "contact_bodies": _ids(groups.ids("contact_orders", "cpu", order)),
        "contact_label_sources": [emb.contact_label_body(b) for b in emb.body_names],
        "contact_force_threshold": float(cmd.cfg.contact_force_threshold),
        "contact_window_steps": int(cmd.contact_window_steps),
        "observation": {
            "group": group, "terms": list(layout.terms), "term_dims": list(layout.term_dims),
            "offsets": list(layout.offsets or cmd.future_offsets), "field_decay": FIELD_DECAY,
            "reference_key_positions_release_quirk": quirk,
            "reference_source": sources.pop() if len(sources) == 1 else cmd.cfg.teacher_source,
        },  # fmt: skip
        "object_surface_points": {"count": NUM_SURFACE_POINTS, "seed": SURFACE_POINT_SEED,
                                  "centre": "vertex mean"},  # fmt: skip
        "reference_fps": float(cmd.library.fps),
        "physics": _physics(base),
        "robot": {
            "self_collisions": bool(emb.self_collisions),
            "collision_filter_pairs": [list(p) for p in emb.collision_filter_pairs],
            "joint_velocity_limit": list(emb.velocity_limit),
            "length_scale": float(emb.length_scale),
        },
        "objects": _objects(base),
        "failures": _failures(base, emb.length_scale),
    }

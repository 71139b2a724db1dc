"""Simulator indices of an embodiment's bodies, joints and contact-sensor entries, in the
embodiment's canonical order, matched by name (the simulator may order them differently:
Newton and PhysX traverse the USD their own way)."""

from __future__ import annotations

import re

from .embodiment import get_embodiment
from .embodiment_spec import Embodiment


def _embodiment(emb: Embodiment | None) -> Embodiment:
    return emb if emb is not None else get_embodiment()


def joint_name_patterns(emb: Embodiment | None = None) -> list[str]:
    """One regex per canonical DOF, in canonical order, matching the simulator's DOF name.

    SMPL-X: each body's three hinges are one joint ``<Body>_joint`` whose DOFs the simulators
    name ``<Body>_joint:0/:1/:2`` (``humanoid_spec.SIM_DOF_NAMES``). Other embodiments have one
    named hinge per DOF.
    """
    emb = _embodiment(emb)
    if emb.name == "smplx":
        from . import humanoid_spec as spec

        return [re.escape(name) for name in spec.SIM_DOF_NAMES]
    return [re.escape(j) for j in emb.joint_names]


def _resolved(ids, expected: int, what: str, emb: Embodiment) -> list[int]:
    ids = list(ids)
    if len(ids) != expected:
        raise RuntimeError(f"expected {expected} {emb.name} {what}, resolved {len(ids)}")
    return ids


def canonical_joint_ids(articulation, emb: Embodiment | None = None) -> list[int]:
    """Simulator joint indices of the embodiment's DOFs in canonical order."""
    emb = _embodiment(emb)
    ids, _ = articulation.find_joints(joint_name_patterns(emb), preserve_order=True)
    return _resolved(ids, emb.num_dofs, "joints", emb)


def canonical_body_ids(articulation, emb: Embodiment | None = None) -> list[int]:
    """Simulator body indices of the embodiment's bodies in canonical order."""
    emb = _embodiment(emb)
    ids, _ = articulation.find_bodies([re.escape(b) for b in emb.body_names], preserve_order=True)
    return _resolved(ids, emb.num_bodies, "bodies", emb)


def canonical_sensor_ids(contact_sensor, emb: Embodiment | None = None) -> list[int]:
    """Contact-sensor indices of the embodiment's bodies in canonical order, matched by body
    name: a sensor may order its bodies differently from the articulation (PhysX: USD traversal
    order)."""
    import warnings

    emb = _embodiment(emb)
    with warnings.catch_warnings():  # Newton's sensor reads its names through a deprecated alias
        warnings.simplefilter("ignore", DeprecationWarning)
        ids, _ = contact_sensor.find_sensors([re.escape(b) for b in emb.body_names], preserve_order=True)
    return _resolved(ids, emb.num_bodies, "bodies in the contact sensor", emb)

"""Write the SMPL-X humanoid as an MJCF file from :mod:`humanoid_spec`.

The MJCF carries topology, geometry, densities, joint limits and armature. PD gains are
written as MuJoCo position actuators only when asked (``actuators=True``) so that MuJoCo
users can simulate the file directly; for Isaac Lab the gains come from the articulation's
actuator config instead (same numbers, same module).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from . import humanoid_spec as spec
from .physx_settings import HUMANOID_FRICTION


def _fmt(values) -> str:
    return " ".join(f"{v:.9g}" for v in values)


def geom_element(parent: ET.Element, body: str, geom) -> None:
    """Append the MJCF <geom> of one body's collision shape (sphere, capsule or box) under ``parent``."""
    attrs = {"name": f"{body}_geom", "density": f"{spec.body_density(body):.6f}"}
    if isinstance(geom, spec.Sphere):
        attrs.update(type="sphere", size=_fmt([geom.radius]), pos=_fmt(geom.pos))
    elif isinstance(geom, spec.Capsule):
        attrs.update(type="capsule", size=_fmt([geom.radius]), fromto=_fmt([*geom.start, *geom.end]))
    elif isinstance(geom, spec.Box):
        attrs.update(type="box", size=_fmt(geom.half_size), pos=_fmt(geom.pos))
    else:  # pragma: no cover - spec only holds the three kinds
        raise TypeError(f"unsupported geometry {geom!r} on body {body}")
    ET.SubElement(parent, "geom", attrs)


def build_mjcf(
    body_offsets=None,
    *,
    model_name: str = "intermimic_smplx_humanoid",
    actuators: bool = False,
    root_height: float = 1.0,
) -> str:
    """Return the humanoid MJCF as a string.

    Args:
        body_offsets: optional per-body offsets (52 x 3) replacing the canonical ones, e.g. a
            subject-specific skeleton. Geometry is kept canonical.
        actuators: add position actuators with the PD gains (for plain MuJoCo use).
        root_height: initial pelvis height of the free body.
    """
    offsets = spec.BODY_OFFSETS if body_offsets is None else [tuple(map(float, o)) for o in body_offsets]
    if len(offsets) != spec.NUM_BODIES:
        raise ValueError(f"body_offsets: expected {spec.NUM_BODIES} rows, got {len(offsets)}")

    root = ET.Element("mujoco", {"model": model_name})
    ET.SubElement(root, "compiler", {"angle": "radian", "autolimits": "true"})
    ET.SubElement(root, "option", {"timestep": f"{1.0 / 240.0:.8f}"})
    default = ET.SubElement(root, "default")
    ET.SubElement(default, "joint", {"armature": f"{spec.ARMATURE}", "damping": "0", "stiffness": "0"})
    geom = {"condim": "3", "contype": "1", "conaffinity": "1", "friction": f"{HUMANOID_FRICTION} 0.005 0.0001"}
    ET.SubElement(default, "geom", geom)
    world = ET.SubElement(root, "worldbody")

    elements: list[ET.Element] = []
    for i, name in enumerate(spec.BODY_NAMES):
        parent_idx = spec.PARENT_INDICES[i]
        parent = world if parent_idx < 0 else elements[parent_idx]
        pos = (0.0, 0.0, root_height) if parent_idx < 0 else offsets[i]
        body = ET.SubElement(parent, "body", {"name": name, "pos": _fmt(pos)})
        if parent_idx < 0:
            ET.SubElement(body, "freejoint", {"name": name})
        else:
            for axis_name, axis in zip(spec.HINGE_AXES, ("1 0 0", "0 1 0", "0 0 1")):
                joint = f"{name}_{axis_name}"
                lo, hi = spec.joint_limits_rad(joint)
                ET.SubElement(
                    body,
                    "joint",
                    {"name": joint, "type": "hinge", "axis": axis, "range": _fmt([lo, hi])},
                )
        geom_element(body, name, spec.BODY_GEOMS[i])
        elements.append(body)

    # self-collision off (plain MuJoCo): humanoid geoms collide with conaffinity-1 geoms (a
    # floor) but not with each other. In Isaac Lab the articulation setting does the same.
    for geom in root.iter("geom"):
        geom.set("contype", "1")
        geom.set("conaffinity", "2")

    if actuators:
        act = ET.SubElement(root, "actuator")
        for joint in spec.JOINT_NAMES:
            kp, kd = spec.joint_gains(joint)
            ET.SubElement(act, "position", {"name": joint, "joint": joint, "kp": f"{kp:g}", "kv": f"{kd:g}"})

    ET.indent(root)
    return ET.tostring(root, encoding="unicode")

"""One joint per body in a converted USD: a body turned by a stack of hinges gets one D6 joint.

An MJCF body that turns about several axes holds one hinge per axis, applied in sequence; the
MJCF -> USD converter writes them as revolute joints between the same two bodies. Newton merges
such a stack into one joint, PhysX does not (it keeps the first hinge and skips the others).
:func:`merge_hinge_stacks` rewrites every stack as one ``UsdPhysics`` joint with the three
translations locked and one limited, driven rotation axis per hinge, in the hinges' order (a D6
joint).
Newton reads it as the same three-axis joint it built from the hinges; PhysX makes it a
spherical articulation joint. Both name its DOFs ``<joint>:0``, ``<joint>:1``, ``<joint>:2``.

The two simulators parameterise such a joint differently (see :mod:`.joint_coordinates`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

_ROT_AXES = {"X": "rotX", "Y": "rotY", "Z": "rotZ"}
_TRANS_AXES = ("transX", "transY", "transZ")
ARMATURE_ATTR = "newton:armature"


def _hinge_stacks(stage) -> list[list]:
    """Revolute joints grouped by the (body0, body1) pair they connect, in authored order; only
    pairs with more than one joint."""
    from pxr import UsdPhysics

    stacks: dict[tuple, list] = {}
    for prim in stage.Traverse():
        if prim.IsA(UsdPhysics.RevoluteJoint):
            joint = UsdPhysics.RevoluteJoint(prim)
            pair = (tuple(joint.GetBody0Rel().GetTargets()), tuple(joint.GetBody1Rel().GetTargets()))
            stacks.setdefault(pair, []).append(joint)
    return [joints for joints in stacks.values() if len(joints) > 1]


def _same(values, what: str, joints) -> object:
    first = values[0]
    if any(v != first for v in values[1:]):
        names = [j.GetPrim().GetName() for j in joints]
        raise ValueError(f"hinges {names} between the same bodies differ in {what}; cannot merge them into one joint")
    return first


def _merge(stage, hinges, name: str) -> None:
    from pxr import Sdf, UsdPhysics

    names = [h.GetPrim().GetName() for h in hinges]
    axes = [h.GetAxisAttr().Get() for h in hinges]
    if len(hinges) > 3 or axes != ["X", "Y", "Z"][: len(hinges)]:
        raise ValueError(f"hinges {names}: axes {axes}; only hinges about x, then y, then z merge into one joint")
    frames = {}
    for attr in ("LocalPos0", "LocalPos1", "LocalRot0", "LocalRot1"):
        frames[attr] = _same([getattr(h, f"Get{attr}Attr")().Get() for h in hinges], attr, hinges)
    body0 = hinges[0].GetBody0Rel().GetTargets()
    body1 = hinges[0].GetBody1Rel().GetTargets()
    limits = [(h.GetLowerLimitAttr().Get(), h.GetUpperLimitAttr().Get()) for h in hinges]
    armature = _same([h.GetPrim().GetAttribute(ARMATURE_ATTR).Get() for h in hinges], "armature", hinges)
    parent = hinges[0].GetPrim().GetParent().GetPath()
    for hinge in hinges:
        stage.RemovePrim(hinge.GetPrim().GetPath())

    joint = UsdPhysics.Joint.Define(stage, parent.AppendChild(name))
    joint.CreateBody0Rel().SetTargets(body0)
    joint.CreateBody1Rel().SetTargets(body1)
    for attr, value in frames.items():
        getattr(joint, f"Create{attr}Attr")(value)
    prim = joint.GetPrim()
    for axis in _TRANS_AXES:  # lower above upper: locked
        limit = UsdPhysics.LimitAPI.Apply(prim, axis)
        limit.CreateLowAttr(1.0)
        limit.CreateHighAttr(-1.0)
    for axis, (lo, hi) in zip(axes, limits):
        limit = UsdPhysics.LimitAPI.Apply(prim, _ROT_AXES[axis])
        limit.CreateLowAttr(float(lo))  # degrees, as the hinges'
        limit.CreateHighAttr(float(hi))
        # a drive per axis: PhysX drives only the axes that have one; its gains come from the
        # articulation's actuator config, as the hinges' did
        drive = UsdPhysics.DriveAPI.Apply(prim, _ROT_AXES[axis])
        drive.CreateTypeAttr("force")
        drive.CreateStiffnessAttr(0.0)
        drive.CreateDampingAttr(0.0)
    for axis in set(_ROT_AXES) - set(axes):  # an axis no hinge turns about is locked too
        limit = UsdPhysics.LimitAPI.Apply(prim, _ROT_AXES[axis])
        limit.CreateLowAttr(1.0)
        limit.CreateHighAttr(-1.0)
    if armature is not None:
        prim.AddAppliedSchema("NewtonJointAPI")
        prim.CreateAttribute(ARMATURE_ATTR, Sdf.ValueTypeNames.Float).Set(float(armature))


def merge_hinge_stacks(usd_file: str | Path, joint_name: Callable[[str], str]) -> list[str]:
    """Rewrite ``usd_file`` in place: each stack of hinges between the same two bodies becomes one
    D6 joint named ``joint_name(<child body name>)``. Returns the merged joints' names."""
    from pxr import Sdf, Usd

    stage = Usd.Stage.Open(str(usd_file))
    merged = []
    for hinges in _hinge_stacks(stage):
        child = Sdf.Path(hinges[0].GetBody1Rel().GetTargets()[0]).name
        name = joint_name(child)
        _merge(stage, hinges, name)
        merged.append(name)
    stage.GetRootLayer().Save()
    return merged

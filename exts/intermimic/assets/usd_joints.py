"""Joints of a converted USD that PhysX simulates as Newton does: one joint per body, every axis driven.

An MJCF body that turns about several axes holds one hinge per axis, applied in sequence; the
MJCF -> USD converter writes them as revolute joints between the same two bodies. Newton merges
such a stack into one joint, PhysX does not (it keeps the first hinge and skips the others).
:func:`merge_hinge_stacks` rewrites every stack as one ``UsdPhysics`` joint with the three
translations locked and one limited, driven rotation axis per hinge, in the hinges' order (a D6
joint). Newton reads it as the same three-axis joint it built from the hinges; PhysX makes it a
spherical articulation joint. Both name its DOFs ``<joint>:0``, ``<joint>:1``, ``<joint>:2``.

The two simulators parameterise such a joint differently (see :mod:`.joint_coordinates`).

PhysX also drives only the joint axes that carry a ``UsdPhysics.DriveAPI``, which the converter
writes only for MJCF actuators; :func:`drive_every_hinge` gives every remaining hinge one (zero
gains: the articulation's actuator config sets them, on either simulator).
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
        _add_drive(prim, _ROT_AXES[axis])  # PhysX drives only the axes that have a drive
    for axis in set(_ROT_AXES) - set(axes):  # an axis no hinge turns about is locked too
        limit = UsdPhysics.LimitAPI.Apply(prim, _ROT_AXES[axis])
        limit.CreateLowAttr(1.0)
        limit.CreateHighAttr(-1.0)
    if armature is not None:
        prim.AddAppliedSchema("NewtonJointAPI")
        prim.CreateAttribute(ARMATURE_ATTR, Sdf.ValueTypeNames.Float).Set(float(armature))


def _add_drive(prim, axis: str) -> None:
    from pxr import UsdPhysics

    drive = UsdPhysics.DriveAPI.Apply(prim, axis)
    drive.CreateTypeAttr("force")
    drive.CreateStiffnessAttr(0.0)
    drive.CreateDampingAttr(0.0)


def drive_every_hinge(stage) -> int:
    """Give each revolute joint without a drive an angular drive (zero gains); returns how many."""
    from pxr import UsdPhysics

    added = 0
    for prim in stage.Traverse():
        if prim.IsA(UsdPhysics.RevoluteJoint) and not prim.HasAPI(UsdPhysics.DriveAPI, "angular"):
            _add_drive(prim, "angular")
            added += 1
    return added


def merge_hinge_stacks(stage, joint_name: Callable[[str], str]) -> list[str]:
    """Each stack of hinges between the same two bodies becomes one D6 joint named
    ``joint_name(<child body name>)``. Returns the merged joints' names."""
    from pxr import Sdf

    merged = []
    for hinges in _hinge_stacks(stage):
        child = Sdf.Path(hinges[0].GetBody1Rel().GetTargets()[0]).name
        name = joint_name(child)
        _merge(stage, hinges, name)
        merged.append(name)
    return merged


def prepare_joints(usd_file: str | Path, joint_name: Callable[[str], str] | None = None) -> None:
    """Rewrite ``usd_file`` in place for PhysX and Newton alike: hinge stacks merged into one joint
    per body (when ``joint_name`` is given), then a drive on every remaining hinge."""
    from pxr import Usd

    stage = Usd.Stage.Open(str(usd_file))
    if joint_name is not None:
        merge_hinge_stacks(stage, joint_name)
    drive_every_hinge(stage)
    stage.GetRootLayer().Save()

"""The generated humanoid against the canonical MJCF in the sample data and the method's numbers."""

import math

import numpy as np
import pytest

from intermimic.assets import humanoid_spec as spec
from intermimic.assets.humanoid_mjcf import build_mjcf

pytestmark = pytest.mark.unit
mujoco = pytest.importorskip("mujoco")


@pytest.fixture(scope="module")
def model():
    return mujoco.MjModel.from_xml_string(build_mjcf())


@pytest.fixture(scope="module")
def reference(sample_data):
    return mujoco.MjModel.from_xml_path(str(sample_data / "humanoid" / "omomo.xml"))


def test_counts_and_canonical_order(model):
    assert model.nbody - 1 == 52
    bodies = [model.body(i).name for i in range(1, model.nbody)]
    assert bodies == list(spec.BODY_NAMES)
    hinges = [model.joint(i).name for i in range(model.njnt) if model.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE]
    assert len(hinges) == 153
    assert hinges == list(spec.JOINT_NAMES)
    assert model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE


def test_method_facts(model):
    """Numbers quoted in docs/method.md §2, independent of the reference file."""
    fingers = [j for j in spec.JOINT_NAMES if spec.is_finger(j.rsplit("_", 1)[0])]
    assert len(fingers) == 90
    assert spec.joint_gains("L_Knee_y") == (800.0, 80.0)
    assert spec.joint_gains("R_Toe_z") == (500.0, 50.0)
    assert spec.joint_gains("Chest_x") == (1000.0, 100.0)
    assert spec.joint_gains("L_Elbow_x") == (500.0, 50.0)
    assert spec.joint_gains("R_Wrist_y") == (300.0, 30.0)
    assert spec.joint_gains("L_Thumb2_z") == (100.0, 10.0)
    assert spec.joint_limits_deg("L_Index3_x") == (-90.0, 5.625)
    assert spec.joint_limits_deg("R_Index3_x") == (-5.625, 90.0)
    assert spec.joint_limits_deg("L_Index1_x") == (-55.625, 55.625)
    assert spec.joint_limits_deg("L_Index1_y") == (-5.625, 5.625)
    np.testing.assert_allclose(model.dof_armature[6:], 0.02)


def test_body_offsets_match_reference_within_1mm(model, reference):
    ref_names = [reference.body(i).name for i in range(1, reference.nbody)]
    assert ref_names == list(spec.BODY_NAMES)
    # root position differs by design (initial height); every other offset is the skeleton
    np.testing.assert_allclose(model.body_pos[2:], reference.body_pos[2:], atol=1e-3, rtol=0)


def test_joint_limits_gains_and_masses_match_reference(model, reference):
    np.testing.assert_allclose(model.jnt_range[1:], reference.jnt_range[1:], atol=math.radians(0.01), rtol=0)
    # the reference file stores the PD gains as joint stiffness/damping attributes
    gains = np.array([spec.joint_gains(j) for j in spec.JOINT_NAMES])
    np.testing.assert_allclose(gains[:, 0], reference.jnt_stiffness[1:])
    np.testing.assert_allclose(gains[:, 1], reference.dof_damping[6:])
    np.testing.assert_allclose(model.body_mass[1:], reference.body_mass[1:], rtol=1e-6)


def test_usd_conversion_has_52_rigid_bodies(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERMIMIC_CACHE", str(tmp_path))
    from pxr import Usd, UsdPhysics

    from intermimic.assets.humanoid import humanoid_usd_path

    path = humanoid_usd_path()
    stage = Usd.Stage.Open(str(path))
    bodies = [p.GetName() for p in stage.Traverse() if p.HasAPI(UsdPhysics.RigidBodyAPI)]
    assert sorted(bodies) == sorted(spec.BODY_NAMES)
    # one joint per body (a D6 joint PhysX and Newton both accept), its three rotation axes limited
    # as the body's x, y, z hinges and its translations locked; no hinge left
    assert not [p.GetName() for p in stage.Traverse() if p.IsA(UsdPhysics.RevoluteJoint)]
    joints = {p.GetName(): p for p in stage.Traverse() if p.IsA(UsdPhysics.Joint)}
    assert sorted(joints) == sorted(spec.body_joint_name(b) for b in spec.ACTUATED_BODY_NAMES)
    for body in spec.ACTUATED_BODY_NAMES:
        prim = joints[spec.body_joint_name(body)]
        assert UsdPhysics.Joint(prim).GetBody1Rel().GetTargets()[0].name == body
        for axis in spec.HINGE_AXES:
            limit = UsdPhysics.LimitAPI(prim, f"rot{axis.upper()}")
            lo, hi = spec.joint_limits_deg(f"{body}_{axis}")
            assert (limit.GetLowAttr().Get(), limit.GetHighAttr().Get()) == pytest.approx((lo, hi), abs=1e-4)
        for axis in "XYZ":
            limit = UsdPhysics.LimitAPI(prim, f"trans{axis}")
            assert limit.GetLowAttr().Get() > limit.GetHighAttr().Get()  # locked
        assert prim.GetAttribute("newton:armature").Get() == pytest.approx(spec.ARMATURE)
    # cached by content: a second call returns the same file without converting again
    assert humanoid_usd_path() == path


def test_user_mjcf_with_wrong_topology_is_rejected(tmp_path):
    from intermimic.assets.humanoid import humanoid_usd_path

    bad = tmp_path / "bad.xml"
    bad.write_text('<mujoco><worldbody><body name="Pelvis"><freejoint/><geom size="0.1"/></body></worldbody></mujoco>')
    with pytest.raises(ValueError, match="bad.xml: bodies must be the 52 SMPL-X bodies"):
        humanoid_usd_path(bad)

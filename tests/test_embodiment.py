"""Embodiments: the SMPL-X view of humanoid_spec and the G1 + Dex3 read from the shared URDF.

The G1 checks parse the URDF independently with ElementTree and compare with what the loader
(MuJoCo's URDF compiler) gives.
"""

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from conftest import G1_URDF

from intermimic.assets import humanoid_spec as spec
from intermimic.assets.embodiment import get_embodiment

URDF = G1_URDF
needs_urdf = pytest.mark.skipif(not URDF.is_file(), reason=f"G1 description absent: {URDF}")

pytestmark = pytest.mark.unit


def test_smplx_embodiment_matches_spec():
    e = get_embodiment()
    assert e.name == "smplx" and e.body_names == spec.BODY_NAMES and e.num_dofs == 153
    assert e.key_body_names == spec.KEY_BODY_NAMES and e.contact_body_names == spec.CONTACT_BODY_NAMES
    j = spec.JOINT_NAMES.index("L_Index3_x")
    assert (e.joint_lower[j], e.joint_upper[j]) == pytest.approx(spec.joint_limits_rad("L_Index3_x"))
    assert e.stiffness[spec.JOINT_NAMES.index("L_Hip_x")] == 800.0


def test_unknown_embodiment_is_refused():
    with pytest.raises(ValueError, match="unknown embodiment"):
        get_embodiment("atlas")


@pytest.fixture(scope="module")
def g1():
    return get_embodiment("g1_dex3", urdf=URDF)


@pytest.fixture(scope="module")
def urdf_xml():
    return ET.parse(URDF).getroot()


@needs_urdf
def test_g1_joints_limits_and_masses_match_the_file(g1, urdf_xml):
    revolute = {j.get("name"): j for j in urdf_xml.iter("joint") if j.get("type") == "revolute"}
    assert g1.num_dofs == 43 and set(g1.joint_names) == set(revolute)
    for name in ("left_knee_joint", "right_ankle_pitch_joint", "waist_yaw_joint", "left_hand_thumb_0_joint"):
        lim = revolute[name].find("limit")
        i = g1.joint_names.index(name)
        assert g1.joint_lower[i] == pytest.approx(float(lim.get("lower")), abs=1e-6)
        assert g1.joint_upper[i] == pytest.approx(float(lim.get("upper")), abs=1e-6)
        assert g1.effort_limit[i] == float(lim.get("effort"))
        assert g1.velocity_limit[i] == float(lim.get("velocity"))
    masses = {link.get("name"): float(link.find("inertial/mass").get("value")) for link in urdf_xml.iter("link")
              if link.find("inertial/mass") is not None}  # fmt: skip
    assert len(g1.body_names) == len(list(urdf_xml.iter("link"))) == 59
    for name in ("pelvis", "torso_link", "left_knee_link", "right_hand_index_1_link"):
        assert g1.body_masses[g1.body_names.index(name)] == pytest.approx(masses[name], rel=1e-6)
    assert sum(g1.body_masses) == pytest.approx(sum(masses.values()), rel=1e-6)
    assert sum(g1.body_masses) == pytest.approx(34.39, abs=0.01)


@needs_urdf
def test_g1_body_groups_found_by_name(g1):
    assert len(g1.key_body_names) == 20 and len(set(g1.key_body_names)) == 20
    assert all(b in g1.body_names for b in g1.key_body_names + g1.contact_body_names)
    assert "left_hand_index_1_link" in g1.contact_body_names and "left_hand_index_tip_link" not in g1.contact_body_names
    assert set(g1.reference_bodies.values()) <= set(spec.BODY_NAMES)
    assert g1.reference_bodies["mid360_link"] == "Head"
    for side, prefix in (("L", "left_"), ("R", "right_")):
        assert all(b.startswith(prefix) for b in g1.hand_body_names[side])


@needs_urdf
def test_g1_gain_presets(g1):
    kp = dict(zip(g1.joint_names, g1.stiffness))
    kd = dict(zip(g1.joint_names, g1.damping))
    assert (kp["left_knee_joint"], kp["waist_pitch_joint"], kp["right_elbow_joint"]) == (500.0, 300.0, 300.0)
    assert (kp["left_wrist_yaw_joint"], kp["right_hand_thumb_2_joint"]) == (200.0, 100.0)
    assert all(kd[j] == pytest.approx(kp[j] / 10) for j in g1.joint_names)
    assert set(g1.armature) == {0.0}
    arm = get_embodiment("g1_dex3", urdf=URDF, gains="armature")
    i = arm.joint_names.index("left_knee_joint")
    w = 2 * math.pi * 10.0  # Kp = J w^2, Kd = 2 zeta J w (zeta 2)
    assert arm.stiffness[i] == pytest.approx(arm.armature[i] * w * w)
    assert arm.damping[i] == pytest.approx(4.0 * arm.armature[i] * w)


@needs_urdf
def test_g1_action_offset_scale_and_initial_pose(g1):
    offset, scale = g1.action_offset_scale()
    for i in range(g1.num_dofs):
        assert offset[i] - scale[i] == pytest.approx(g1.joint_lower[i])
        assert offset[i] + scale[i] == pytest.approx(g1.joint_upper[i])
        assert g1.joint_lower[i] <= g1.default_joint_pos[i] <= g1.joint_upper[i]
    assert g1.default_joint_pos[g1.joint_names.index("right_knee_joint")] == 0.3


def test_g1_bad_urdf_is_reported(tmp_path):
    bad = tmp_path / "robot.urdf"
    bad.write_text("<sdf/>")
    with pytest.raises(ValueError, match="not a URDF"):
        get_embodiment("g1_dex3", urdf=bad)
    with pytest.raises(FileNotFoundError):
        get_embodiment("g1_dex3", urdf=tmp_path / "missing.urdf")


def _links_with_colliders(urdf_xml) -> set[str]:
    return {link.get("name") for link in urdf_xml.iter("link") if link.find("collision") is not None}


@needs_urdf
def test_g1_body_tree_and_contact_label_sources_follow_the_file(g1, urdf_xml):
    """Each body's parent is the parent link of the URDF joint that carries it; a body with a
    collider that is not a contact body takes the label of the contact body fewest joints away
    (the contact labels of robot clips cover the contact bodies only); a body without a collider
    (the URDF gives the link no <collision>) takes none."""
    parent_of = {j.find("child").get("link"): j.find("parent").get("link") for j in urdf_xml.iter("joint")}
    for b, name in enumerate(g1.body_names):
        p = g1.body_parents[b]
        assert (p == -1) if name == "pelvis" else (g1.body_names[p] == parent_of[name]), name
    colliders = _links_with_colliders(urdf_xml)
    assert set(g1.collider_body_names) == colliders and len(colliders) == 46
    assert set(g1.contact_label_sources) == colliders - set(g1.contact_body_names)
    expected = {"left_hand_palm_link": "left_wrist_yaw_link", "pelvis_contour_link": "left_hip_yaw_link",
                "right_hand_middle_0_link": "right_hand_middle_1_link", "left_ankle_pitch_link": "left_knee_link",
                "head_link": "torso_link", "right_wrist_roll_link": "right_elbow_link"}  # fmt: skip
    for body, source in expected.items():
        assert g1.contact_label_body(body) == source, body
    assert g1.contact_label_body("left_knee_link") == "left_knee_link"
    for body in ("pelvis", "left_hand_index_tip_link", "mid360_link", "waist_yaw_link"):
        assert body not in colliders and g1.contact_label_body(body) is None, body


@needs_urdf
def test_g1_contact_bodies_are_the_key_bodies_on_their_colliders(g1, urdf_xml):
    """A key body without a collider is replaced by the nearest link above it that has one (the
    fingertip frames by their finger links); the lidar frame mid360_link (the release's "Head")
    sits on the torso, which is a contact body already, so 19 contact bodies remain. Each takes
    the label of the SMPL-X body its key body tracks."""
    colliders = _links_with_colliders(urdf_xml)
    parent_of = {j.find("child").get("link"): j.find("parent").get("link") for j in urdf_xml.iter("joint")}
    expected = {}
    for key, human in g1.reference_bodies.items():
        body = key
        while body not in colliders:
            body = parent_of[body]
        expected.setdefault(body, human)
    assert g1.contact_reference_bodies == expected and len(expected) == 19
    assert set(g1.contact_body_names) == set(expected) and set(g1.contact_body_names) <= colliders
    assert g1.contact_reference_bodies["left_hand_index_1_link"] == "L_Index3"
    assert "mid360_link" not in g1.contact_body_names and g1.contact_reference_bodies["torso_link"] == "Torso"


@needs_urdf
def test_g1_jointed_bodies_leg_length_and_self_collision_filter(g1, urdf_xml):
    """E_r's bodies: the pelvis and every link a revolute joint carries. The length scale is the
    G1's hip -> knee -> ankle length (URDF joint origins) over the SMPL-X humanoid's. Self-collision
    is on, filtered as the release does between one leg's hip, knee and ankle links (hip and ankle
    still collide, left and right too) and between links one joint apart."""
    revolute_children = {j.find("child").get("link") for j in urdf_xml.iter("joint") if j.get("type") == "revolute"}
    assert set(g1.jointed_body_names) == revolute_children | {"pelvis"} and len(g1.jointed_body_names) == 44
    joints = {j.find("child").get("link"): j for j in urdf_xml.iter("joint")}

    def transform(link):
        """4x4 pose of ``link`` in its parent link's frame, from the joint's <origin> (xyz, rpy)."""
        o = joints[link].find("origin")
        r, p, y = (float(v) for v in (o.get("rpy") or "0 0 0").split())
        rx = np.array([[1, 0, 0], [0, np.cos(r), -np.sin(r)], [0, np.sin(r), np.cos(r)]])
        ry = np.array([[np.cos(p), 0, np.sin(p)], [0, 1, 0], [-np.sin(p), 0, np.cos(p)]])
        rz = np.array([[np.cos(y), -np.sin(y), 0], [np.sin(y), np.cos(y), 0], [0, 0, 1]])
        t = np.eye(4)
        t[:3, :3], t[:3, 3] = rz @ ry @ rx, [float(v) for v in o.get("xyz").split()]
        return t

    legs = []
    for side in ("left", "right"):  # hip centre: the roll link's origin
        knee = transform(f"{side}_hip_yaw_link") @ transform(f"{side}_knee_link")
        ankle = knee @ transform(f"{side}_ankle_pitch_link") @ transform(f"{side}_ankle_roll_link")
        legs.append(np.linalg.norm(knee[:3, 3]) + np.linalg.norm(ankle[:3, 3] - knee[:3, 3]))
    smplx = sum(math.dist(spec.BODY_OFFSETS[spec.body_index(f"{s}_{b}")], (0, 0, 0)) for s in "LR" for b in ("Knee", "Ankle"))
    assert g1.length_scale == pytest.approx(sum(legs) / smplx, rel=1e-4) and 0.7 < g1.length_scale < 0.85
    assert g1.self_collisions and not get_embodiment().self_collisions
    pairs = {frozenset(p) for p in g1.collision_filter_pairs}
    for side in ("left", "right"):
        leg = {g: [b for b in g1.body_names if b.startswith(f"{side}_{g}")] for g in ("hip", "knee", "ankle")}
        for a, b in (("hip", "knee"), ("knee", "ankle"), ("hip", "hip"), ("ankle", "ankle")):
            assert all(frozenset((x, y)) in pairs for x in leg[a] for y in leg[b] if x != y), (side, a, b)
        assert not any(frozenset((x, y)) in pairs for x in leg["hip"] for y in leg["ankle"])
    assert frozenset(("left_knee_link", "right_knee_link")) not in pairs
    assert frozenset(("pelvis_contour_link", "left_hip_pitch_link")) in pairs  # both on the pelvis
    assert frozenset(("torso_link", "left_shoulder_roll_link")) not in pairs
    assert all(a in g1.collider_body_names and b in g1.collider_body_names for a, b in g1.collision_filter_pairs)


def test_smplx_collides_everywhere_and_every_body_is_jointed():
    e = get_embodiment()
    assert e.colliding_body_names == e.body_names == e.rotation_reward_body_names
    assert e.length_scale == 1.0 and not e.collision_filter_pairs

"""Humanoid variants: a user-supplied MJCF of the canonical topology, and per-subject skeletons
from SMPL-X shape parameters (the SMPL-X model files are not available here, so the betas ->
joints step is replaced by synthetic SMPL-X joint tables)."""

import re

import numpy as np
import pytest

from intermimic.assets import humanoid_spec as spec
from intermimic.assets import smplx_subject as subj
from intermimic.assets.humanoid import check_mjcf_topology, humanoid_usd_path

pytestmark = pytest.mark.unit
mujoco = pytest.importorskip("mujoco")


# --- user MJCF -----------------------------------------------------------------------------


def test_authors_mjcf_is_accepted_and_converted(sample_data):
    path = sample_data / "humanoid" / "omomo.xml"
    check_mjcf_topology(path.read_text(), str(path))
    usd = humanoid_usd_path(path)
    assert usd.is_file() and usd.suffix.startswith(".usd")
    assert humanoid_usd_path(path) == usd  # cached


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda x: re.sub(r'<body name="R_Thumb3".*?</body>', "", x, flags=re.S), r"missing \['R_Thumb3'\]"),
        (lambda x: x.replace('name="Neck"', 'name="Neck2"', 1), r"missing \['Neck'\].*unexpected \['Neck2'\]"),
        (lambda x: re.sub(r'<joint name="L_Knee_z"[^>]*/>', "", x), "expected 153 hinge joints"),
        (lambda x: x.replace("<worldbody>", "<worldbody><body>", 1), "not a valid MJCF"),
    ],
    ids=["missing body", "renamed body", "missing hinge", "broken xml"],
)
def test_wrong_topology_is_refused_with_a_clear_error(sample_data, tmp_path, edit, message):
    # without its actuator block, so that a removed joint is a topology error, not a dangling actuator
    text = re.sub(r"<actuator>.*?</actuator>", "", (sample_data / "humanoid" / "omomo.xml").read_text(), flags=re.S)
    check_mjcf_topology(text, "unchanged")
    bad = tmp_path / "bad.xml"
    bad.write_text(edit(text))
    with pytest.raises(ValueError, match=message) as err:
        humanoid_usd_path(bad)
    assert str(bad) in str(err.value)


def test_missing_mjcf_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.xml"):
        humanoid_usd_path(tmp_path / "nope.xml")


# --- SMPL-X subjects -----------------------------------------------------------------------


def test_missing_smplx_model_names_the_paths(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        subj.subject_body_offsets(np.zeros(10), tmp_path, gender="female")
    text = str(err.value)
    assert str(tmp_path / "SMPLX_FEMALE.npz") in text and str(tmp_path / "smplx" / "SMPLX_FEMALE.pkl") in text
    assert "smpl-x.is.tue.mpg.de" in text
    with pytest.raises(ValueError, match="gender"):
        subj.smplx_model_file(tmp_path, gender="other")
    with pytest.raises(FileNotFoundError):
        subj.subject_humanoid_cfg(betas=np.zeros(10), model_dir=tmp_path)


def test_model_file_lookup(tmp_path):
    (tmp_path / "smplx").mkdir()
    f = tmp_path / "smplx" / "SMPLX_NEUTRAL.npz"
    f.write_bytes(b"")
    assert subj.smplx_model_file(tmp_path) == f
    assert subj.smplx_model_file(f) == f


def _smplx_joints_from_skeleton(offsets: np.ndarray) -> np.ndarray:
    """A synthetic SMPL-X joint table ``[55, 3]`` (SMPL-X frame) whose skeleton is ``offsets``.

    Built independently of the module under test: global positions by walking the parent chain,
    the axis change written out, SMPL-X's joint order by joint names; jaw and eyes at random."""
    pos = np.zeros((spec.NUM_BODIES, 3))
    for i, parent in enumerate(spec.PARENT_INDICES):
        pos[i] = offsets[i] if parent < 0 else pos[parent] + offsets[i]
    x_fwd, y_left, z_up = pos[:, 0], pos[:, 1], pos[:, 2]
    smplx_frame = np.stack([y_left, z_up, x_fwd], axis=1)  # SMPL-X: x left, y up, z forward
    names = {
        "Pelvis": "pelvis", "L_Hip": "left_hip", "R_Hip": "right_hip", "Torso": "spine1", "L_Knee": "left_knee",
        "R_Knee": "right_knee", "Spine": "spine2", "L_Ankle": "left_ankle", "R_Ankle": "right_ankle",
        "Chest": "spine3", "L_Toe": "left_foot", "R_Toe": "right_foot", "Neck": "neck", "L_Thorax": "left_collar",
        "R_Thorax": "right_collar", "Head": "head", "L_Shoulder": "left_shoulder", "R_Shoulder": "right_shoulder",
        "L_Elbow": "left_elbow", "R_Elbow": "right_elbow", "L_Wrist": "left_wrist", "R_Wrist": "right_wrist",
    }  # fmt: skip
    order = [*names.values(), "jaw", "left_eye", "right_eye"]
    for side in ("left", "right"):
        order += [f"{side}_{f}{k}" for f in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2, 3)]
    joints = np.random.default_rng(0).normal(size=(55, 3))
    for body, i in zip(spec.BODY_NAMES, range(spec.NUM_BODIES)):
        if body in names:
            key = names[body]
        else:
            side, rest = body.split("_", 1)
            key = f"{'left' if side == 'L' else 'right'}_{rest[:-1].lower()}{rest[-1]}"
        joints[order.index(key)] = smplx_frame[i]
    return joints


def test_canonical_joints_give_the_canonical_skeleton():
    canonical = np.array(spec.BODY_OFFSETS)
    offsets = subj.body_offsets_from_smplx_joints(_smplx_joints_from_skeleton(canonical))
    np.testing.assert_allclose(offsets[1:], canonical[1:], atol=1e-12)
    with pytest.raises(ValueError, match=r"\(55, 3\)"):
        subj.body_offsets_from_smplx_joints(np.zeros((52, 3)))


def test_subject_skeleton_reaches_mujoco(monkeypatch, tmp_path):
    """A taller subject (synthetic joints: the canonical skeleton x 1.1, legs x 1.2): the MJCF
    built for it places every body where the subject's joints are (MuJoCo forward kinematics,
    zero pose), with the canonical limits and topology."""
    scale = np.full((spec.NUM_BODIES, 1), 1.1)
    scale[spec.LEG_BODY_IDS] = 1.2
    skeleton = np.array(spec.BODY_OFFSETS) * scale
    joints = _smplx_joints_from_skeleton(skeleton)
    monkeypatch.setattr(subj, "smplx_rest_joints", lambda betas, model_dir, gender="neutral": joints)
    text = subj.subject_mjcf(betas=np.zeros(10), model_dir=tmp_path)
    check_mjcf_topology(text, "subject")
    model = mujoco.MjModel.from_xml_string(text)
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    expected = (joints[list(subj.SMPLX_JOINT_OF_BODY)] - joints[0]) @ np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]]).T
    np.testing.assert_allclose(data.xpos[1:] - data.xpos[1], expected, atol=1e-6)
    assert not np.allclose(data.xpos[1:] - data.xpos[1], expected / 1.1, atol=1e-3)
    canonical = mujoco.MjModel.from_xml_string(subj.build_mjcf())
    np.testing.assert_allclose(model.jnt_range, canonical.jnt_range)


def test_subject_humanoid_cfg_from_offsets():
    skeleton = np.array(spec.BODY_OFFSETS) * 0.95
    cfg = subj.subject_humanoid_cfg(body_offsets=skeleton)
    assert cfg.spawn.usd_path.endswith((".usd", ".usda", ".usdc"))
    assert cfg.actuators["smplx"].stiffness["L_Knee_joint:.*"] == 800.0

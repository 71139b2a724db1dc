"""SMPL-X -> clip conversion, tested without SMPL-X model files: missing-file errors, the contact
rules, skin-to-object distances, and clip assembly from a synthetic SMPL-X skeleton."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from intermimic.assets import humanoid_spec as spec
from intermimic.assets.object_registry import ObjectRegistry
from intermimic.assets.primitives import DEMO_BOX_HALF_SIZE, DEMO_OBJECT_NAME, box_mesh, sample_surface
from intermimic.motion import clip_format as cf
from intermimic.motion.convert.contacts import body_distances, labels_from_distances, manipulated_from_labels
from intermimic.motion.kinematics import exp_map_to_hinge_sequence, forward_kinematics
from intermimic.motion.convert.smplx_sequence import (  # fmt: skip
    NUM_SMPLX_JOINTS,
    SMPL_TO_HUMANOID,
    SMPLX_JOINT_OF_BODY,
    Y_UP_TO_Z_UP,
    ConvertOptions,
    PosedBody,
    SmplxSequence,
    assemble_clip,
    convert_sequence,
    find_model_file,
    read_sequences,
)
from intermimic.motion.validation import check_clip
from intermimic.utils.paths import REPO_ROOT
from intermimic.utils import rotations as rot

pytestmark = pytest.mark.unit


# -------------------------------------------------------------------------------------------------
def test_missing_model_files_are_reported_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match="SMPLX_NEUTRAL.npz.*smpl-x.is.tue.mpg.de"):
        find_model_file(tmp_path, "neutral")
    with pytest.raises(FileNotFoundError, match="no SMPL-X model folder given"):
        find_model_file(None, "female")
    (tmp_path / "smplx").mkdir()
    (tmp_path / "smplx" / "SMPLX_FEMALE.npz").write_bytes(b"")
    assert find_model_file(tmp_path, "female") == tmp_path / "smplx" / "SMPLX_FEMALE.npz"
    with pytest.raises(ValueError, match="unknown SMPL-X gender"):
        find_model_file(tmp_path, "other")


def _omomo_like(T=20) -> dict:
    g = np.random.default_rng(0)
    return {
        "seq_name": "sub3_demobox_007", "betas": g.normal(size=(1, 16)) * 0.1, "gender": "male",
        "trans": g.normal(size=(T, 3)), "root_orient": g.normal(size=(T, 3)) * 0.1,
        "pose_body": g.normal(size=(T, 63)) * 0.1, "obj_trans": g.normal(size=(T, 3, 1)),
        "obj_rot": np.tile(np.eye(3), (T, 1, 1)), "obj_scale": np.ones(T),
    }  # fmt: skip


def test_convert_cli_fails_clearly_without_model_files(tmp_path):
    seq = tmp_path / "seq.npz"
    np.savez(seq, **_omomo_like())
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "source" / "convert.py"), str(seq), "--smplx-models", str(tmp_path / "none"),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "SMPL-X model file for gender 'male' not found" in result.stderr and "--smplx-models" in result.stderr
    assert not (tmp_path / "out").exists()


def test_reading_omomo_style_sequences(tmp_path):
    data = _omomo_like(T=12)
    path = tmp_path / "set.pkl"
    import pickle

    with open(path, "wb") as f:
        pickle.dump({0: data, 1: dict(data, seq_name="sub4_demobox_001")}, f)
    seqs = read_sequences(path)
    assert [(s.name, s.subject, s.object, s.gender, s.num_frames) for s in seqs] == [
        ("sub3_demobox_007", 3, "demobox", "male", 12), ("sub4_demobox_001", 4, "demobox", "male", 12)]
    assert seqs[0].obj_trans.shape == (12, 3) and seqs[0].pose_hand is None
    bad = dict(data, pose_body=data["pose_body"][:, :60])
    np.savez(tmp_path / "bad.npz", **bad)
    with pytest.raises(ValueError, match=r"'pose_body' has shape \(12, 60\), expected \[T, 63\]"):
        read_sequences(tmp_path / "bad.npz")
    np.savez(tmp_path / "scaled.npz", **dict(data, obj_scale=np.full(12, 1.2)))
    with pytest.raises(ValueError, match="object scale 1.2 is not supported"):
        read_sequences(tmp_path / "scaled.npz")


# -------------------------------------------------------------------------------------------------
def test_contact_label_rules():
    d = torch.full((4, 52), 0.5)
    lw, rw = spec.body_index("L_Wrist"), spec.body_index("R_Index3")
    la, head = spec.body_index("L_Ankle"), spec.body_index("Head")
    d[0, lw] = 0.015  # touching -> +1
    d[1, lw] = 0.02  # at the contact distance -> +1
    d[1, head] = 0.05  # in between -> 0
    d[2, rw] = 0.0999  # just closer than the penalize distance -> 0
    d[3, la] = 0.0  # feet stay neutral even in contact
    labels = labels_from_distances(d)
    assert labels[0, lw] == 1 and labels[1, lw] == 1 and labels[1, head] == 0 and labels[2, rw] == 0
    assert (labels[:, spec.body_indices(("L_Ankle", "L_Toe", "R_Ankle", "R_Toe"))] == 0).all()
    assert labels[0, head] == -1 and labels[3, lw] == -1
    assert manipulated_from_labels(labels).tolist() == [1.0, 1.0, 0.0, 0.0]
    custom = labels_from_distances(d, contact=0.01, penalize=0.2)
    assert custom[0, lw] == 0 and custom[2, rw] == 0 and custom[0, head] == -1
    with pytest.raises(ValueError, match="must be below"):
        labels_from_distances(d, contact=0.2, penalize=0.1)


def test_skin_to_object_distances():
    """Vertices at known distances from the faces of a rotated, moved box."""
    hx, hy, hz = DEMO_BOX_HALF_SIZE
    pts = sample_surface(*box_mesh(DEMO_BOX_HALF_SIZE), n=16384)
    local = torch.tensor([[hx + 0.05, 0.0, 0.0], [0.0, hy + 0.01, 0.0], [0.0, 0.0, hz + 0.30], [hx + 0.2, 0.0, 0.0]])
    vertex_body = torch.tensor([17, 36, 13, 36])  # L_Wrist, R_Wrist, Head, R_Wrist again (farther)
    quat = rot.from_exp_map(torch.tensor([[0.3, -0.2, 1.0]]))
    pos = torch.tensor([[1.0, 2.0, 0.5]])
    world = pos[:, None] + rot.rotate(quat[:, None].expand(-1, 4, -1), local[None])
    d = body_distances(world, vertex_body, pos, quat, pts)
    assert d.shape == (1, 52)
    torch.testing.assert_close(d[0, [17, 36, 13]], torch.tensor([0.05, 0.01, 0.30]), atol=0.01, rtol=0)
    assert torch.isinf(d[0, 0])  # a body without vertices


# -------------------------------------------------------------------------------------------------
def _smplx_parents() -> torch.Tensor:
    parents = torch.zeros(NUM_SMPLX_JOINTS, dtype=torch.long)
    for b, j in enumerate(SMPLX_JOINT_OF_BODY):
        p = spec.PARENT_INDICES[b]
        parents[j] = -1 if p < 0 else SMPLX_JOINT_OF_BODY[p]
    parents[22:25] = 15  # jaw and eyes hang off the head
    return parents


def _synthetic_smplx(T=25, seed=0):
    """Joint positions of a skeleton posed in the SMPL-X frame: the canonical humanoid's bone
    offsets expressed in that frame, random local rotations, FK with rotation matrices."""
    g = torch.Generator().manual_seed(seed)
    parents = _smplx_parents()
    c = SMPL_TO_HUMANOID
    offsets = torch.zeros(NUM_SMPLX_JOINTS, 3, dtype=torch.float64)
    for b, j in enumerate(SMPLX_JOINT_OF_BODY):
        offsets[j] = c.T @ torch.tensor(spec.BODY_OFFSETS[b], dtype=torch.float64)
    pose = 0.4 * torch.randn(T, NUM_SMPLX_JOINTS, 3, generator=g, dtype=torch.float64)
    pose[:, 0] = torch.tensor([-math.pi / 2, 0.0, 0.0]) + 0.1 * pose[:, 0]  # y-up body standing in a z-up world
    trans = torch.randn(T, 3, generator=g, dtype=torch.float64) * 0.1 + torch.tensor([0.0, 0.0, 1.0])
    from intermimic.motion.kinematics import quat_to_matrix

    local = quat_to_matrix(rot.from_exp_map(pose))
    world_r = [local[:, 0]]
    joints = [trans]
    for j in range(1, NUM_SMPLX_JOINTS):
        p = int(parents[j])
        joints.append(joints[p] + (world_r[p] @ offsets[j][:, None])[..., 0])
        world_r.append(world_r[p] @ local[:, j])
    return torch.stack(joints, 1), pose, parents


def test_assembled_clip_is_consistent_with_the_humanoid_skeleton():
    joints, pose, parents = _synthetic_smplx()
    T = joints.shape[0]
    obj_pos = torch.zeros(T, 3, dtype=torch.float64)
    obj_quat = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64).expand(T, 4)
    contact = torch.zeros(T, 52)
    contact[5:9, spec.body_index("L_Wrist")] = 1
    clip = assemble_clip(joints, pose, parents, obj_pos, obj_quat, contact)
    check_clip(clip, "synthetic")
    # positions are the SMPL-X joints of the humanoid bodies, in body order
    torch.testing.assert_close(cf.field(clip, "body_pos"), joints[:, list(SMPLX_JOINT_OF_BODY)].float())
    # the joint columns drive the canonical humanoid to exactly those positions and rotations
    hinges = exp_map_to_hinge_sequence(cf.field(clip, "dof_pos").double())
    pos, quat = forward_kinematics(cf.field(clip, "root_pos").double(), cf.field(clip, "root_quat").double(), hinges)
    assert (pos - cf.field(clip, "body_pos").double()).norm(dim=-1).max() < 1e-5
    assert rot.angle_between(quat, cf.field(clip, "body_quat").double()).max() < 1e-4
    assert cf.field(clip, "obj_manipulated").tolist() == [1.0 if 5 <= t < 9 else 0.0 for t in range(T)]
    wrong = parents.clone()
    wrong[4] = 2  # left knee on the right hip
    with pytest.raises(ValueError, match="expects"):
        assemble_clip(joints, pose, wrong, obj_pos, obj_quat, contact)


def _sequence_and_body(joints, pose, parents, obj_trans, obj_rot, vertices, vertex_body) -> tuple:
    T = joints.shape[0]
    seq = SmplxSequence(
        name="sub1_demobox_000", betas=torch.zeros(10), gender="neutral", trans=torch.zeros(T, 3),
        root_orient=pose[:, 0], pose_body=pose[:, 1:22].reshape(T, 63), pose_hand=None, obj_trans=obj_trans,
        obj_rot=obj_rot, obj_scale=1.0, object=DEMO_OBJECT_NAME, subject=1,
    )  # fmt: skip
    return seq, PosedBody(joints, vertices, pose, parents, vertex_body)


def test_conversion_labels_contacts_and_handles_a_y_up_world():
    joints, pose, parents = _synthetic_smplx(T=10, seed=1)
    T = joints.shape[0]
    # skin: a vertex 1 cm below each body origin; put the box right next to the right wrist
    vertex_body = torch.arange(52)
    vertices = joints[:, list(SMPLX_JOINT_OF_BODY)] - torch.tensor([0.0, 0.0, 0.01], dtype=torch.float64)
    wrist = joints[:, SMPLX_JOINT_OF_BODY[spec.body_index("R_Wrist")]]
    obj_rot = torch.eye(3, dtype=torch.float64).expand(T, 3, 3).clone()
    obj_trans = wrist - torch.tensor([0.0, 0.0, 0.01 + DEMO_BOX_HALF_SIZE[2] + 0.005], dtype=torch.float64)
    seq, body = _sequence_and_body(joints, pose, parents, obj_trans, obj_rot, vertices, vertex_body)
    registry = ObjectRegistry(None)
    options = ConvertOptions(object_frame="centred", floor=False)
    clip = convert_sequence(seq, body, registry, options)
    check_clip(clip, "converted")
    labels = cf.field(clip, "contact")
    assert (labels[:, spec.body_index("R_Wrist")] == 1).all()
    assert (cf.field(clip, "obj_manipulated") == 1).all()
    torch.testing.assert_close(cf.field(clip, "obj_pos").double(), obj_trans, check_dtype=False)

    # the same scene described in a y-up world converts to the same clip
    to_y = Y_UP_TO_Z_UP.T
    pose_y = pose.clone()
    pose_y[:, 0] = rot.to_exp_map(rot.multiply(_quat(to_y).expand(T, 4), rot.from_exp_map(pose[:, 0])))
    seq_y, body_y = _sequence_and_body(
        joints @ to_y.T, pose_y, parents, obj_trans @ to_y.T, to_y @ obj_rot, vertices @ to_y.T, vertex_body
    )
    clip_y = convert_sequence(seq_y, body_y, registry, ConvertOptions(up_axis="y", object_frame="centred", floor=False))
    for name in ("root_pos", "body_pos", "obj_pos", "contact"):
        torch.testing.assert_close(cf.field(clip_y, name), cf.field(clip, name), atol=1e-5, rtol=0)
    assert rot.angle_between(cf.field(clip_y, "body_quat"), cf.field(clip, "body_quat")).max() < 1e-4

    # the floor option puts the lowest skin vertex at z = 0 and moves the object along
    floored = convert_sequence(seq, body, registry, ConvertOptions(object_frame="centred"))
    drop = float(vertices[..., 2].min())
    torch.testing.assert_close(cf.field(floored, "root_pos")[:, 2], cf.field(clip, "root_pos")[:, 2] - drop)
    torch.testing.assert_close(cf.field(floored, "obj_pos")[:, 2], cf.field(clip, "obj_pos")[:, 2] - drop)


def _quat(m: torch.Tensor) -> torch.Tensor:
    from intermimic.motion.kinematics import matrix_to_quat

    return matrix_to_quat(m)

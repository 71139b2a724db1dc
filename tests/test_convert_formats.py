"""Other conversions: the release's .pt layout as output, and joint positions -> clips by inverse
kinematics (generated interactions)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch

import body_model_helpers as h
from conftest import load_script, require_sample_data
from intermimic.assets import humanoid_spec as spec
from intermimic.motion import clip_format as cf
from intermimic.motion.clip_io import load_clip_file
from intermimic.motion.convert.body_model import SMPLH
from intermimic.motion.convert.humanoid_ik import solve_positions
from intermimic.motion.convert.release_pt import save_release_pt
from intermimic.motion.kinematics import forward_kinematics, quat_to_matrix
from intermimic.motion.validation import check_clip
from intermimic.utils import rotations as rot

pytestmark = pytest.mark.unit
IK_POS_MEAN = 0.0002
IK_POS_MAX = 0.001
"""Inverse kinematics: body positions within 0.2 mm on average and 1 mm at most of the targets."""
IK_ROT_DEG = 0.5
"""... and the rotations that positions determine (bodies with two or more children) within 0.5 degree."""
IK_BONE_DEG = 1.0
"""... and every bone's direction within 1 degree (the finger tips' bones are 2 cm long: 0.35 mm)."""
DETERMINED = ("Pelvis", "Chest", "L_Wrist", "R_Wrist")


def _records(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_a_release_clip_read_and_written_back_equals_the_original(tmp_path):
    data = require_sample_data()
    for folder in ("OMOMO_new", "OMOMO_retarget"):
        original = data / folder / "sub2_woodchair_003.pt"
        clip = load_clip_file(original)
        copy = save_release_pt(tmp_path / folder / original.name, clip)
        before, after = _records(original), _records(copy)
        ours = {k: v for k, v in before.items() if not k.endswith("serialization_id")}  # random per file
        assert ours and all(after.get(k) == v for k, v in ours.items()), sorted(set(after) ^ set(before))
        again = torch.load(copy, weights_only=True)
        first = torch.load(original, weights_only=True)
        assert again.dtype == first.dtype == torch.float32 and again.requires_grad == first.requires_grad
        assert torch.equal(again.detach(), first.detach()) and again.stride() == first.stride()
    with pytest.raises(FileExistsError):
        save_release_pt(copy, clip)


def test_converting_to_the_release_layout(body_models, tmp_path):
    h.write_interact_dataset(tmp_path / "data", "omomo", body_models, h.known_clip(slice(125, 145)))
    out = tmp_path / "out"
    assert load_script("convert").main(["--format", "interact", str(tmp_path / "data"), "--dataset", "omomo",
                                        "--body-models", str(body_models), "--out", str(out),
                                        "--format-out", "release_pt"]) == 0  # fmt: skip
    for name in ("sub10_box_000", "sub11_box_000"):
        stored = torch.load(out / f"{name}.pt", weights_only=True)
        assert stored.requires_grad and stored.dtype == torch.float32 and stored.shape == (20, cf.CLIP_WIDTH)
        assert f"{name}/data.pkl" in _records(out / f"{name}.pt")
        check_clip(load_clip_file(out / f"{name}.pt"), name)
    assert "objects/box/box.obj" in (out / "objects" / "box.urdf").read_text()


# -------------------------------------------------------------------------------------------------
def _known_positions(frames=slice(125, 135)):
    clip = h.known_clip(frames)
    pos, quat = forward_kinematics(cf.field(clip, "root_pos"), cf.field(clip, "root_quat"), cf.field(clip, "dof_pos"),
                                   "exp_map")  # fmt: skip
    return clip, pos, quat


def test_inverse_kinematics_recovers_a_known_pose_from_its_positions():
    """Positions from forward kinematics of a known pose: the solved pose puts every body back
    (IK_POS_*), and the rotations that positions determine come back (IK_ROT_DEG). Twist about a
    bone with one child, and the rotation of a body without children, are not determined by
    positions: they stay near the rest rotation instead."""
    _, pos, quat = _known_positions()
    ik = solve_positions(pos.numpy(), np.asarray(spec.BODY_OFFSETS))
    dof = rot.to_exp_map(torch.as_tensor(ik.local_quat)).reshape(pos.shape[0], -1)
    got_pos, got_quat = forward_kinematics(torch.as_tensor(ik.root_pos), torch.as_tensor(ik.root_quat), dof, "exp_map")
    err = (got_pos - pos).norm(dim=-1)
    assert err.mean() < IK_POS_MEAN and err.max() < IK_POS_MAX
    assert np.abs(ik.residual - err.numpy()).max() < 1e-6  # the reported residual is the real one
    ids = spec.body_indices(DETERMINED)
    assert np.degrees(float(rot.angle_between(got_quat[:, ids], quat[:, ids]).max())) < IK_ROT_DEG
    children = {i: [c for c, p in enumerate(spec.PARENT_INDICES) if p == i] for i in range(spec.NUM_BODIES)}
    for b, kids in children.items():  # every bone points where the known pose's does
        for c in kids:
            want = pos[:, c] - pos[:, b]
            got = got_pos[:, c] - got_pos[:, b]
            cos = (want * got).sum(-1) / (want.norm(dim=-1) * got.norm(dim=-1))
            assert np.degrees(float(torch.arccos(cos.clamp(max=1.0)).max())) < IK_BONE_DEG, spec.BODY_NAMES[c]


def test_inverse_kinematics_with_body_joints_only_keeps_the_hands_flat():
    _, pos, _ = _known_positions(slice(125, 130))
    mask = np.array([not spec.is_finger(n) for n in spec.BODY_NAMES])
    ik = solve_positions(pos.numpy(), np.asarray(spec.BODY_OFFSETS), mask)
    assert ik.residual.shape == (5, int(mask.sum())) and ik.residual.max() < IK_POS_MAX
    fingers = [b - 1 for b in range(1, spec.NUM_BODIES) if not mask[b]]
    identity = torch.tensor([0.0, 0.0, 0.0, 1.0], dtype=torch.float64)
    assert np.degrees(float(rot.angle_between(torch.as_tensor(ik.local_quat[:, fingers]), identity).max())) < 0.5
    with pytest.raises(ValueError, match="needs a target for L_Hip"):
        solve_positions(pos.numpy(), np.asarray(spec.BODY_OFFSETS), mask & (np.arange(52) != spec.body_index("L_Hip")))


def test_joint_positions_convert_to_a_clip(tmp_path):
    """A generator's output (52 SMPL-H joints, y-up, 60 fps, object pose as axis-angle) -> one
    valid clip whose bodies are where the input put them (up to the floor shift)."""
    clip, pos, _ = _known_positions(slice(125, 137))
    joints = torch.zeros(pos.shape[0], 52, 3, dtype=torch.float64)
    joints[:, list(SMPLH.joint_of_body)] = pos
    to_y = h.Y_UP_TO_Z_UP.T
    y_up = joints @ to_y.T
    obj_rot = to_y @ quat_to_matrix(cf.field(clip, "obj_quat"))
    seq = {"seq_name": "sub7_demobox_000", "joints": np.repeat(y_up.numpy(), 2, 0), "fps": 60,
           "obj_trans": np.repeat((cf.field(clip, "obj_pos") @ to_y.T).numpy(), 2, 0),
           "obj_angles": np.repeat(rot.to_exp_map(h._quat_of(obj_rot)).numpy(), 2, 0)}  # fmt: skip
    np.savez(tmp_path / "generated.npz", **seq)
    out = tmp_path / "out"
    assert load_script("convert").main(["--format", "joints", str(tmp_path / "generated.npz"), "--up-axis", "y",
                                        "--object-frame", "centred", "--out", str(out)]) == 0  # fmt: skip
    got = check_clip(load_clip_file(out / "sub7_demobox_000.pt"), "joints").double()
    shift = cf.field(got, "root_pos")[0, 2] - pos[0, 0, 2]
    moved = pos + torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64) * shift
    assert (cf.field(got, "body_pos") - moved).norm(dim=-1).max() < IK_POS_MAX
    assert (cf.field(got, "obj_pos") - cf.field(clip, "obj_pos") - torch.tensor([0.0, 0.0, 1.0]) * shift).norm(dim=-1).max() < 1e-5
    assert cf.field(got, "contact")[:, spec.body_indices(("L_Wrist", "R_Wrist"))].max() == 1  # the hands hold the box
    report = json.loads((out / "report.json").read_text())
    notes = " ".join(report["sequences"][0]["notes"])
    assert "60 fps -> 30 fps" in notes and "IK: input points" in notes
    assert (out / "humanoids" / "sub7.xml").is_file()


ROUND_TRIP_CLIPS = ("sub2_largetable_003", "sub2_woodchair_007")
ROUND_TRIP_FRAMES = 60
ROTATION_MEDIAN_DEG = {"trunk": 15.0, "arms": 20.0, "legs": 15.0, "hands": 15.0}
"""Largest median rotation error per body group; measured on these clips: trunk 2.8, arms 11-14,
legs 4-9, hands 3 degrees (docs/data.md lists every sample clip)."""


def test_joint_positions_of_real_clips_convert_back_to_a_body_that_can_follow_them(sample_data, tmp_path):
    """Teacher-corrected sample clips (states of this humanoid) turned into 52 SMPL-H joint positions
    and converted back: the bodies where the input put them (1 cm mean), no joint value beyond its
    limit, the feet on the floor (median lowest skin point within 0.5 cm), and the body rotations
    close to the clips' (median per group); the report says what could not be matched."""
    from intermimic.motion.convert.humanoid_skin import posed_skin
    from intermimic.motion.clip_io import load_clip_file

    lo, hi = (np.asarray(v) for v in zip(*(spec.joint_limits_rad(j) for j in spec.JOINT_NAMES)))
    angles = []
    for name in ROUND_TRIP_CLIPS:
        source = load_clip_file(sample_data / "OMOMO_retarget" / f"{name}.pt").double()[1 : ROUND_TRIP_FRAMES + 1]
        pos = cf.field(source, "body_pos")
        joints = torch.zeros(pos.shape[0], 52, 3, dtype=torch.float64)
        joints[:, list(SMPLH.joint_of_body)] = pos
        np.savez(tmp_path / f"{name}.npz", seq_name=name, joints=joints.numpy(), obj_trans=cf.field(source, "obj_pos").numpy(),
                 obj_rot=cf.field(source, "obj_quat").numpy())  # fmt: skip
        out = tmp_path / "out"
        assert load_script("convert").main(["--format", "joints", str(tmp_path / f"{name}.npz"), "--object-frame",
                                            "centred", "--objects-dir", str(sample_data / "objects"), "--out",
                                            str(out)]) == 0  # fmt: skip
        got = check_clip(load_clip_file(out / f"{name}.pt"), name).double()
        shift = (cf.field(got, "body_pos")[:, 0, 2] - pos[:, 0, 2]).median()
        error = (cf.field(got, "body_pos") - pos - torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64) * shift).norm(dim=-1)
        assert error.mean() < 0.01, (name, float(error.mean()))
        hinges = rot.to_hinges(rot.from_exp_map(cf.field(got, "dof_pos").reshape(pos.shape[0], -1, 3))).reshape(pos.shape[0], -1)
        beyond = np.maximum(lo - hinges.numpy(), hinges.numpy() - hi)
        assert beyond.max() < 1e-6, (name, spec.JOINT_NAMES[int(beyond.max(axis=0).argmax())])
        lowest = posed_skin(cf.field(got, "body_pos"), cf.field(got, "body_quat"))[0][..., 2].min(dim=1).values
        assert abs(float(lowest.median())) < 0.005, (name, float(lowest.median()))
        angles.append(np.degrees(rot.angle_between(cf.field(got, "body_quat"), cf.field(source, "body_quat")).numpy()))
        notes = " ".join(json.loads((out / "report.json").read_text())["sequences"][0]["notes"])
        assert "lowest skin point" in notes and "rotations left open" in notes and "joint limits" in notes
    angles = np.concatenate(angles)
    from intermimic.benchmarks.joints_roundtrip import body_group_names

    for group, bodies in body_group_names().items():
        median = float(np.median(angles[:, spec.body_indices(bodies)]))
        assert median < ROTATION_MEDIAN_DEG[group], (group, median)


def test_a_finger_pose_beyond_the_limits_gets_the_nearest_pose_inside_them(tmp_path):
    """Fingers bent by random rotations on every axis (beyond the ±5.6 degree side limits): the
    converted clip's joints stay inside their limits, the report names the joints held at a limit."""
    clip = h.known_clip(slice(125, 131), within_limits=False)
    pos = forward_kinematics(cf.field(clip, "root_pos"), cf.field(clip, "root_quat"), cf.field(clip, "dof_pos"), "exp_map")[0]
    joints = torch.zeros(pos.shape[0], 52, 3, dtype=torch.float64)
    joints[:, list(SMPLH.joint_of_body)] = pos
    np.savez(tmp_path / "bent.npz", seq_name="sub7_demobox_000", joints=joints.numpy(),
             obj_trans=cf.field(clip, "obj_pos").numpy(), obj_rot=cf.field(clip, "obj_quat").numpy())  # fmt: skip
    asked = rot.to_hinges(rot.from_exp_map(cf.field(clip, "dof_pos").reshape(pos.shape[0], -1, 3))).reshape(pos.shape[0], -1)
    lo, hi = (torch.tensor(v) for v in zip(*(spec.joint_limits_rad(j) for j in spec.JOINT_NAMES)))
    assert ((asked < lo - 0.05) | (asked > hi + 0.05)).any()  # the input asks for poses beyond the limits
    out = tmp_path / "out"
    assert load_script("convert").main(["--format", "joints", str(tmp_path / "bent.npz"), "--object-frame", "centred",
                                        "--out", str(out)]) == 0  # fmt: skip
    got = check_clip(load_clip_file(out / "sub7_demobox_000.pt"), "bent").double()
    hinges = rot.to_hinges(rot.from_exp_map(cf.field(got, "dof_pos").reshape(pos.shape[0], -1, 3))).reshape(pos.shape[0], -1)
    assert ((hinges >= lo - 1e-6) & (hinges <= hi + 1e-6)).all()
    notes = " ".join(json.loads((out / "report.json").read_text())["sequences"][0]["notes"])
    assert "joint limits held" in notes and "at a limit" in notes and "no joint value beyond its limit" in notes
    body = cf.field(got, "body_pos")
    assert (body[:, spec.body_index("L_Wrist")] - pos[:, spec.body_index("L_Wrist")] - (body[0, 0] - pos[0, 0])).norm(dim=-1).max() < 0.01

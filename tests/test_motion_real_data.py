"""The motion library on the real InterMimic sample clips (skipped when the data is absent)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from intermimic.motion import clip_format as cf
from intermimic.motion.clip_io import load_clip_file, save_clip_file
from intermimic.motion.kinematics import forward_kinematics
from intermimic.motion.loader import load_library
from intermimic.utils import rotations as rot

from conftest import require_sample_data

pytestmark = pytest.mark.unit


def _cfg(data, corrected=True, **kw):
    return SimpleNamespace(
        files=[str(data / "OMOMO_new")], corrected=[str(data / "OMOMO_retarget")] if corrected else [],
        subjects=[], objects_dir=str(data / "objects"), strict=False, future_horizon=16, **kw,
    )  # fmt: skip


@pytest.fixture(scope="module")
def data():
    return require_sample_data()


@pytest.fixture(scope="module")
def library(data):
    return load_library(_cfg(data), verbose=False)


def _file_rows(path) -> torch.Tensor:
    return load_clip_file(path).float()


def test_every_clip_loads_with_its_corrected_clip(library, data):
    raw_files = sorted((data / "OMOMO_new").glob("*.pt"))
    assert len(raw_files) == 27 and len(list((data / "OMOMO_retarget").glob("*.pt"))) == 27
    assert library.rejected == []
    assert library.num_clips == len(raw_files)
    assert sorted(library.sources) == ["corrected", "raw"]
    for info, path in zip(library.clips, raw_files):
        sub, obj, _ = path.stem.split("_")
        assert (info.name, info.subject, info.object) == (path.stem, int(sub.removeprefix("sub")), obj)
        # both sources drop row 0 (a placeholder in the corrected file) and stay frame-aligned
        assert info.num_frames == _file_rows(path).shape[0] - 1
    assert library.subjects == [2]
    assert library.object_names == ["largetable", "woodchair"]
    counts = torch.bincount(library.clip_object).tolist()
    assert counts == [sum(p.stem.split("_")[1] == n for p in raw_files) for n in library.object_names]


def test_raw_only_library_keeps_every_row(data):
    lib = load_library(_cfg(data, corrected=False), verbose=False)
    assert list(lib.sources) == ["raw"]
    for info in lib.clips:
        assert info.num_frames == _file_rows(info.path).shape[0]


def test_corrected_source_skips_its_zero_row(library):
    for c, info in enumerate(library.clips[:5]):
        rows = _file_rows(info.corrected_path)
        assert rows[0, : cf.COLUMNS["contact"].start].abs().max() == 0  # the pose part of row 0 is empty
        frames = torch.arange(info.num_frames)
        ref = library.state(torch.full_like(frames, c), frames, "corrected")
        torch.testing.assert_close(ref.root_pos, cf.field(rows[1:], "root_pos"), rtol=0, atol=0)
        torch.testing.assert_close(ref.body_pos, cf.field(rows[1:], "body_pos"), rtol=0, atol=0)
        raw = library.state(torch.full_like(frames, c), frames, "raw")
        torch.testing.assert_close(raw.obj_pos, cf.field(_file_rows(info.path)[1:], "obj_pos"), rtol=0, atol=0)


def test_quaternions_are_unit(library):
    for frames in library.sources.values():
        for q in (frames.root_quat, frames.body_quat, frames.obj_quat):
            assert (q.norm(dim=-1) - 1).abs().max() < 1e-5


def test_velocities_match_finite_differences(library):
    fps = 30.0
    for c in (0, 9, 20):
        n = int(library.clip_length[c])
        frames = torch.arange(n)
        for source in ("raw", "corrected"):
            ref = library.state(torch.full_like(frames, c), frames, source)
            rows = _file_rows(library.clips[c].path if source == "raw" else library.clips[c].corrected_path)[1:]
            for name, vel in (("root_pos", ref.root_lin_vel), ("obj_pos", ref.obj_lin_vel), ("body_pos", ref.body_lin_vel)):
                pos = cf.field(rows, name)
                torch.testing.assert_close(vel[1:], (pos[1:] - pos[:-1]) * fps, rtol=1e-5, atol=1e-4)
                assert vel[0].abs().max() == 0
            for name, w in (("root_quat", ref.root_ang_vel), ("body_quat", ref.body_ang_vel), ("obj_quat", ref.obj_ang_vel)):
                q = rot.normalize(cf.field(rows, name))
                stepped = rot.multiply(rot.from_exp_map(w[1:] / fps), q[:-1])
                assert rot.angle_between(stepped, q[1:]).max() < 1e-3, name
            d = ref.dof_pos[:-1] + ref.dof_vel[1:] / fps - ref.dof_pos[1:]
            assert (torch.remainder(d + math.pi, 2 * math.pi) - math.pi).abs().max() < 1e-4


def test_joint_angles_reproduce_body_rotations_by_forward_kinematics(library):
    """The hinge angles (converted from the files' exp maps) drive the skeleton to the stored
    body rotations; on the canonical body (corrected clips) also to the stored positions."""
    for source in ("raw", "corrected"):
        f = library.sources[source]
        pos, quat = forward_kinematics(f.root_pos, f.root_quat, f.dof_pos, "hinge")
        assert rot.angle_between(quat, f.body_quat).max() < 1e-3, source
        if source == "corrected":
            assert (pos - f.body_pos).norm(dim=-1).max() < 1e-3


def test_interaction_field_is_the_nearest_surface_point(library):
    clip_ids = torch.tensor([0, 3, 17, 25])
    frames = torch.tensor([0, 40, 100, 7])
    ref = library.state(clip_ids, frames)
    pts = library.object_points[library.clip_object[clip_ids]]  # [4, P, 3] object frame
    world = ref.obj_pos[:, None] + rot.rotate(ref.obj_quat[:, None], pts)
    exact = "donot_use_mm_for_euclid_dist"
    nearest = torch.cdist(ref.body_pos, world, compute_mode=exact).min(dim=-1).values  # [4, 52]
    torch.testing.assert_close(ref.interaction_field.norm(dim=-1), nearest, rtol=0, atol=1e-5)
    # expressed in the heading frame: rotating it back gives body minus a surface point
    heading = rot.yaw_quat(rot.yaw(ref.root_quat))[:, None]
    point = ref.body_pos - rot.rotate(heading, ref.interaction_field)
    assert torch.cdist(point, world, compute_mode=exact).min(dim=-1).values.max() < 1e-5


def test_save_load_round_trip_is_exact(data, tmp_path):
    for path in sorted((data / "OMOMO_new").glob("*.pt"))[:3] + sorted((data / "OMOMO_retarget").glob("*.pt"))[:3]:
        original = load_clip_file(path)
        out = save_clip_file(tmp_path / path.parent.name / path.name, original)
        again = load_clip_file(out)
        assert again.dtype == torch.float32 and torch.equal(again, original)


def test_library_export_matches_the_files(library):
    for c in (0, 26):
        info = library.clips[c]
        rows = _file_rows(info.path)[info.first_row :]
        back = library.clip_tensor(c, "raw")
        for name in ("root_pos", "body_pos", "obj_pos", "contact", "obj_manipulated"):
            assert torch.equal(cf.field(back, name), cf.field(rows, name)), name
        for name in ("root_quat", "obj_quat", "body_quat"):
            torch.testing.assert_close(cf.field(back, name), cf.field(rows, name), rtol=0, atol=1e-6)
        qa = rot.from_exp_map(cf.field(back, "dof_pos").reshape(-1, 51, 3))
        qb = rot.from_exp_map(cf.field(rows, "dof_pos").reshape(-1, 51, 3))
        assert rot.angle_between(qa, qb).max() < 1e-3

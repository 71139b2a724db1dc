"""Packed motion library queries on synthetic clips: exactness, clamping, clip boundaries, memory."""

from __future__ import annotations

import math

import pytest
import torch

from intermimic.assets.primitives import demo_box_points
from intermimic.motion import clip_format as cf
from intermimic.motion.library import pack_clips
from intermimic.motion.packed import PackedFrames
from intermimic.motion.packed import frames_from_clip
from intermimic.motion.demo.synthetic import synthetic_clips
from intermimic.utils import rotations as rot

pytestmark = pytest.mark.unit

LENGTHS = (40, 25, 60)


@pytest.fixture(scope="module")
def entries():
    return synthetic_clips(LENGTHS, corrected=True)


@pytest.fixture(scope="module")
def library(entries):
    return pack_clips(entries, {"demobox": demo_box_points()})


def test_layout_matches_clips(library, entries):
    assert library.num_clips == len(LENGTHS)
    assert library.clip_length.tolist() == list(LENGTHS)
    assert library.clip_start.tolist() == [0, LENGTHS[0], LENGTHS[0] + LENGTHS[1]]
    assert library.sources.keys() == {"raw", "corrected"}
    for c, e in enumerate(entries):
        start = int(library.clip_start[c])
        stored = library.sources["raw"].body_pos[start : start + LENGTHS[c]]
        assert torch.equal(stored, cf.field(e.raw, "body_pos"))


def test_state_matches_per_clip_derivation(library, entries):
    """The packed gather gives what deriving the whole clip up front gives."""
    points = demo_box_points()
    for c, e in enumerate(entries):
        full = frames_from_clip(e.corrected, points)
        frames = torch.arange(LENGTHS[c])
        got = library.state(torch.full_like(frames, c), frames, "corrected")
        for name, value in full.fields().items():
            torch.testing.assert_close(getattr(got, name), value, rtol=0, atol=1e-6, msg=name)


def test_velocities_are_finite_differences_and_zero_at_clip_starts(library, entries):
    fps = library.fps
    for c, e in enumerate(entries):
        frames = torch.arange(LENGTHS[c])
        ref = library.state(torch.full_like(frames, c), frames)
        pos = cf.field(e.raw, "body_pos")
        torch.testing.assert_close(ref.body_lin_vel[1:], (pos[1:] - pos[:-1]) * fps, rtol=1e-5, atol=1e-5)
        obj = cf.field(e.raw, "obj_pos")
        torch.testing.assert_close(ref.obj_lin_vel[1:], (obj[1:] - obj[:-1]) * fps, rtol=1e-5, atol=1e-5)
        # rotating by the angular velocity for one frame lands on the next rotation
        for w, q in ((ref.body_ang_vel, ref.body_quat), (ref.root_ang_vel, ref.root_quat), (ref.obj_ang_vel, ref.obj_quat)):
            stepped = rot.multiply(rot.from_exp_map(w[1:] / fps), q[:-1])
            assert rot.angle_between(stepped, q[1:]).max() < 1e-3
        # joint rates integrate to the next joint angles (modulo a full turn)
        d = ref.dof_pos[:-1] + ref.dof_vel[1:] / fps - ref.dof_pos[1:]
        assert (torch.remainder(d + math.pi, 2 * math.pi) - math.pi).abs().max() < 1e-4
        # frame 0 of every clip: zero, never a difference with the previous clip's last frame
        for name in ("root_lin_vel", "root_ang_vel", "dof_vel", "body_lin_vel", "body_ang_vel", "obj_lin_vel", "obj_ang_vel"):
            assert torch.count_nonzero(getattr(ref, name)[0]) == 0, name


def test_interpolation_is_exact_at_frame_times(library):
    clip_ids = torch.tensor([0, 1, 2, 2, 1])
    frames = torch.tensor([0, 7, 13, 59, 24])
    exact = library.state(clip_ids, frames)
    timed = library.state_at_time(clip_ids, frames.double() / library.fps)
    for name, value in exact.fields().items():
        assert torch.equal(getattr(timed, name), value), name


def test_interpolation_between_frames(library):
    clip_ids = torch.tensor([0, 2])
    frames = torch.tensor([10, 30])
    a, b = library.state(clip_ids, frames), library.state(clip_ids, frames + 1)
    mid = library.state_at_time(clip_ids, (frames + 0.5) / library.fps)
    torch.testing.assert_close(mid.body_pos, 0.5 * (a.body_pos + b.body_pos))
    # the halfway rotation is equally far from both ends, and half as far as they are apart
    da, db = rot.angle_between(mid.body_quat, a.body_quat), rot.angle_between(mid.body_quat, b.body_quat)
    torch.testing.assert_close(da, db, atol=2e-4, rtol=0)
    torch.testing.assert_close(da, 0.5 * rot.angle_between(a.body_quat, b.body_quat), atol=2e-4, rtol=0)
    # times past the end clamp to the last frame
    end = library.state_at_time(torch.tensor([1]), torch.tensor([100.0]))
    last = library.state(torch.tensor([1]), torch.tensor([LENGTHS[1] - 1]))
    assert torch.equal(end.root_pos, last.root_pos)


@pytest.mark.parametrize("offsets", [(1, 16), (1, 2, 4, 16)])
def test_future_offsets_clamp_at_clip_ends(library, offsets):
    clip_ids = torch.tensor([0, 0, 1, 2, 1])
    frames = torch.tensor([0, 35, 24, 50, 3])
    fut = library.future(clip_ids, frames, offsets)
    assert fut.body_pos.shape == (5, len(offsets), 52, 3)
    for e in range(len(clip_ids)):
        c = int(clip_ids[e])
        for j, k in enumerate(offsets):
            want = min(int(frames[e]) + k, LENGTHS[c] - 1)
            ref = library.state(clip_ids[e : e + 1], torch.tensor([want]))
            assert torch.equal(fut.root_pos[e, j], ref.root_pos[0]), (e, k)
            assert torch.equal(fut.interaction_field[e, j], ref.interaction_field[0]), (e, k)
            assert torch.equal(fut.dof_vel[e, j], ref.dof_vel[0]), (e, k)


def test_sources_are_aligned_and_selectable(library, entries):
    frames = torch.tensor([5, 5])
    clip_ids = torch.tensor([1, 1])
    raw = library.state(clip_ids, frames, "raw")
    corr = library.state(clip_ids, frames, "corrected")
    torch.testing.assert_close(corr.root_pos - raw.root_pos, torch.full_like(raw.root_pos, 0.01))
    with pytest.raises(KeyError, match="reference source 'teacher' is not loaded"):
        library.state(clip_ids, frames, "teacher")


def test_clip_tensor_round_trip(library, entries):
    for c, e in enumerate(entries):
        back = library.clip_tensor(c)
        for name in ("root_pos", "body_pos", "obj_pos", "contact", "obj_manipulated"):
            assert torch.equal(cf.field(back, name), cf.field(e.raw, name)), name
        # joint columns: same local rotations
        qa = rot.from_exp_map(cf.field(back, "dof_pos").reshape(-1, 51, 3))
        qb = rot.from_exp_map(cf.field(e.raw, "dof_pos").reshape(-1, 51, 3))
        assert rot.angle_between(qa, qb).max() < 1e-4


def test_memory_per_frame_meets_the_ten_hour_target(library):
    per_frame = PackedFrames.bytes_per_frame()
    assert library.nbytes("raw") == per_frame * library.num_frames
    ten_hours = 10 * 3600 * library.fps
    assert per_frame * ten_hours < 6e9 * 0.5, per_frame  # well under 6 GB per source

"""Grid videos, contact sheets and stills from scene frames, without a simulator: sizes and frame
counts of the decoded files, success/failure badge colours, which frames are kept and rendered,
no file after a failure, and the one-line errors of --video_grid."""

from __future__ import annotations

import dataclasses
from argparse import Namespace
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import load_script
from picture_helpers import badge_pixels as _badge_pixels

pytestmark = pytest.mark.unit
TILE = (192, 144)  # multiples of 16: H.264 keeps the size


@pytest.fixture(scope="module")
def scene():
    from intermimic.evaluation.demo_scene import demo_scene_frames

    return demo_scene_frames()  # the demo lift: moving in frames 20-58 and 100-135


class CountingRenderer:
    """Wraps a renderer and records which frames it drew."""

    def __init__(self, inner):
        self.inner, self.size, self.drawn = inner, inner.size, []

    def start_clip(self, first):
        self.inner.start_clip(first)

    def render(self, frame):
        self.drawn.append(frame)
        return self.inner.render(frame)

    def close(self):
        self.inner.close()


def _skeleton(size=TILE):
    from intermimic.evaluation.video import SkeletonRenderer

    return CountingRenderer(SkeletonRenderer(size))


def _attempt(frames, success, clip_id=0, keep_all=True):
    from intermimic.evaluation.kept_attempts import AttemptFrames, KeptAttempt

    recorded = AttemptFrames(keep_all)
    for f in frames:
        recorded.add(f)
    return KeptAttempt(clip_id, len(frames), success, recorded)


# -- which frames are kept ------------------------------------------------------------------
@pytest.mark.parametrize("count", [1, 2, 3, 7, 8, 121])
def test_attempt_frames_keep_first_middle_last_in_half_the_memory(count):
    from intermimic.evaluation.kept_attempts import AttemptFrames

    kept = AttemptFrames(keep_all=False)
    longest = 0
    for k in range(count):
        kept.add(k)
        longest = max(longest, len(kept.tail))
    assert kept.picks() == [0, (count - 1) // 2, count - 1]
    assert longest <= count // 2 + 1
    with pytest.raises(ValueError):
        kept.all()


def test_kept_attempts_follow_the_evaluation_kept_flag(monkeypatch, scene):
    """Scheduled envs of chosen clips are captured each step; an attempt's frames replace the
    clip's only when the evaluation keeps it; unscheduled envs and other clips are not captured;
    kept frames own their arrays and drop the object's points when the renderer does not draw them."""
    import torch

    from intermimic.evaluation import kept_attempts

    step = {"t": 0}
    batches = []

    class FakeCapture:
        def __init__(self, cmd, envs):
            self.envs = list(envs)
            self.body_pos = np.stack([scene[0].body_pos] * len(self.envs))
            batches.append(self.body_pos)

        def frame(self, i):
            return dataclasses.replace(scene[step["t"]], body_pos=self.body_pos[i], caption=f"{self.envs[i]} {step['t']}")

    def captions(frames):
        return [f.caption for f in frames]

    monkeypatch.setattr(kept_attempts, "SceneCapture", FakeCapture)
    cmd = SimpleNamespace(clip_ids=torch.tensor([0, 1, 2]), scheduled=torch.tensor([True, True, False]))
    rec = kept_attempts.KeptAttempts(cmd, full=[0], sheets=[1], points=False)
    for t in range(5):
        step["t"] = t
        rec.on_step()
    rec.on_attempt(0, 0, steps=5, success=False, kept=True)
    rec.on_attempt(1, 1, steps=5, success=True, kept=False)  # a shorter attempt than one kept before
    assert set(rec.kept) == {0} and captions(rec.kept[0].frames.all()) == [f"0 {t}" for t in range(5)]
    assert 2 not in rec.running  # env 2 runs no scheduled attempt
    for t in range(5, 8):
        step["t"] = t
        rec.on_step()
    rec.on_attempt(1, 1, steps=3, success=True, kept=True)
    assert rec.kept[1].success and captions(rec.kept[1].frames.picks()) == ["1 5", "1 6", "1 7"]
    kept = rec.kept[0].frames.all() + rec.kept[1].frames.picks()
    assert not any(np.shares_memory(f.body_pos, b) for f in kept for b in batches)
    assert all(f.object_points.shape == (0, 3) and f.ref_object_points.shape == (0, 3) for f in kept)
    np.testing.assert_array_equal(kept[0].ref_body_pos, scene[0].ref_body_pos)


# -- grid video -----------------------------------------------------------------------------
@pytest.mark.parametrize(("tiles", "shape"), [(1, (1, 1)), (2, (2, 1)), (3, (2, 2)), (4, (2, 2)), (5, (3, 2)), (9, (3, 3))])
def test_grid_shape(tiles, shape):
    from intermimic.evaluation.picture_grid import grid_shape

    assert grid_shape(tiles) == shape


def test_grid_video_has_one_tile_per_clip_the_longest_length_and_badges(tmp_path, scene):
    from intermimic.evaluation.grid_video import write_grid_video
    from intermimic.evaluation.video_files import read_video_frames

    attempts = [_attempt(scene[25:45], success=True), _attempt(scene[100:112], success=False, clip_id=1),
                _attempt(scene[110:125], success=False, clip_id=2)]  # fmt: skip
    renderer = _skeleton()
    path = write_grid_video(tmp_path / "grid.mp4", attempts, renderer, fps=30.0, progress=False)
    frames, size = read_video_frames(path)
    w, h = TILE
    assert size == (2 * w, 2 * h) and len(frames) == 20  # 2 x 2 tiles; the longest attempt
    assert len(renderer.drawn) == 20 + 12 + 15  # a finished tile holds its last picture, drawn once
    tiles = [frames[5][r * h : (r + 1) * h, c * w : (c + 1) * w] for r, c in ((0, 0), (0, 1), (1, 0))]
    (red0, green0), (red1, green1), (red2, green2) = map(_badge_pixels, tiles)
    assert green0 > 80 and red0 < 10, (red0, green0)
    assert red1 > 80 and green1 < 10, (red1, green1)
    assert red2 > 80 and green2 < 10, (red2, green2)
    empty = frames[5][h:, w:].astype(np.int32)
    assert empty.std() < 3  # the fourth cell is left empty
    # the second tile (12 frames) holds its last frame; the first keeps moving
    still = np.abs(frames[15][:h, w:].astype(np.int32) - frames[19][:h, w:]).mean()
    moving = np.abs(frames[15][:h, :w].astype(np.int32) - frames[19][:h, :w]).mean()
    assert still < 1.0 < moving, (still, moving)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.mp4"]


def test_grid_gif_is_written_at_half_size(tmp_path, scene):
    from intermimic.evaluation.grid_video import write_grid_video
    from intermimic.evaluation.video_files import read_video_frames

    attempts = [_attempt(scene[25:31], True), _attempt(scene[100:104], False, clip_id=1)]
    path = write_grid_video(tmp_path / "grid.gif", attempts, _skeleton(), fps=30.0, progress=False)
    frames, size = read_video_frames(path)
    assert size == (TILE[0], TILE[1] // 2) and len(frames) == 3  # 2 x 1 tiles at half size, every second frame


def test_a_renderer_failure_leaves_no_grid_video(tmp_path, scene):
    from intermimic.evaluation.grid_video import write_grid_video

    class Failing(CountingRenderer):
        def render(self, frame):
            if len(self.drawn) == 7:
                raise RuntimeError("renderer died")
            return super().render(frame)

    with pytest.raises(RuntimeError, match="renderer died"):
        write_grid_video(tmp_path / "grid.mp4", [_attempt(scene[:10], True)], Failing(_skeleton().inner), 30.0, progress=False)
    assert list(tmp_path.iterdir()) == []


# -- contact sheets -------------------------------------------------------------------------
def test_contact_sheets_render_three_frames_per_clip_with_the_outcome_badge(tmp_path, scene):
    from PIL import Image

    from intermimic.evaluation.contact_sheet import write_contact_sheets

    kept = {0: _attempt(scene[25:34], True, 0, keep_all=False), 2: _attempt(scene[100:120], False, 2, keep_all=False)}
    renderer = _skeleton()
    files = write_contact_sheets(tmp_path, kept, ["sub0_a", "sub0_b", "sub1/c d"], renderer)
    assert [p.relative_to(tmp_path).as_posix() for p in files] == ["contact_sheets/sub0_a.png", "contact_sheets/sub1_c_d.png"]
    assert renderer.drawn == [dataclasses.replace(f, badge=b) for f, b in
                              ((scene[25], "success"), (scene[29], "success"), (scene[33], "success"),
                               (scene[100], "failure"), (scene[109], "failure"), (scene[119], "failure"))]  # fmt: skip
    w, h = TILE
    for path, success in zip(files, (True, False)):
        sheet = np.asarray(Image.open(path).convert("RGB"))
        assert sheet.shape == (h, 3 * w, 3)
        tiles = [sheet[:, k * w : (k + 1) * w] for k in range(3)]
        assert np.abs(tiles[0].astype(np.int32) - tiles[2]).mean() > 0.5  # three different frames
        for tile in tiles:
            red, green = _badge_pixels(tile)
            assert (green > 80 and red < 10) if success else (red > 80 and green < 10), (path, red, green)


def test_mujoco_contact_sheet_badge_is_red_for_a_failure(tmp_path, scene):
    from intermimic.utils.gl_backend import gl_backend_problem

    if gl_backend_problem():
        pytest.skip(f"no offscreen OpenGL: {gl_backend_problem()}")
    from intermimic.evaluation.contact_sheet import contact_sheet
    from intermimic.evaluation.demo_scene import demo_object_mesh
    from intermimic.evaluation.mujoco_renderer import MujocoRenderer

    renderer = MujocoRenderer([demo_object_mesh()], size=(320, 240))
    try:
        sheet = contact_sheet(renderer, _attempt(scene[:5], False, keep_all=False))
    finally:
        renderer.close()
    assert sheet.shape == (240, 960, 3)
    for k in range(3):
        red, green = _badge_pixels(sheet[:, 320 * k : 320 * (k + 1)])
        assert red > 80 and green < 10, (k, red, green)


# -- stills ---------------------------------------------------------------------------------
def test_a_png_video_is_a_still_of_each_clips_middle_frame(tmp_path, scene, monkeypatch):
    from PIL import Image

    from intermimic.evaluation import video as video_mod

    renderer = _skeleton()
    monkeypatch.setattr(video_mod, "make_renderer", lambda *a, **k: renderer)
    rec = video_mod.RolloutVideo(tmp_path / "still.png", cmd=SimpleNamespace(library=None), clip_ids=[0, 1],
                                 fps=30.0, size=TILE)  # fmt: skip
    rec._episode(0, scene[:11], None)
    rec._episode(1, scene[20:24], None)
    assert rec.close() == tmp_path / "still.png"
    assert renderer.drawn == [scene[5], scene[21]]  # only the middle frames are rendered
    assert np.asarray(Image.open(tmp_path / "still.png")).shape[:2] == (TILE[1], 2 * TILE[0])


# -- user errors ----------------------------------------------------------------------------
def _args(**kw):
    base = {"video": "grid.mp4", "video_grid": 2, "video_clips": None, "video_size": (640, 480), "renderer": "skeleton",
            "contact_sheets": "off"}  # fmt: skip
    return Namespace(**{**base, **kw})


@pytest.mark.parametrize(("changes", "expected"), [
    ({"video": None}, "--video_grid 2: expected --video PATH.mp4"),
    ({"video": "grid.png"}, "--video_grid 2: expected --video PATH.mp4 (or .gif) as the file of the grid video, got grid.png"),
    ({"video": "grid.avi"}, "--video grid.avi: expected a file name ending in .mp4, .gif or .png"),
    ({"video_grid": 49}, "--video_grid 49: 49 tiles of --video_size 640x480 make a 4480x3360 video"),
])  # fmt: skip
def test_video_grid_needs_a_video_file_of_a_possible_size(changes, expected):
    from intermimic.utils.errors import UserError
    from intermimic.evaluation.video import check_video_args

    with pytest.raises(UserError, match=expected.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        check_video_args(_args(**changes))


CLIPS = ["a", "b", "c"]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"video_grid": 4}, "--video_grid 4: expected K from 1 to 3 (the clips evaluated)"),
    ({"video_grid": 3, "video_clips": ["a", "c"]}, "--video_grid 3: --video_clips names 2 clip(s); expected K from 1 to 2"),
    ({"video_clips": ["a", "x"]}, "--video_clips: no clip named x in the loaded data"),
])  # fmt: skip
def test_video_grid_must_fit_the_evaluated_clips(changes, expected):
    from intermimic.utils.errors import UserError
    from intermimic.evaluation.evaluation_pictures import grid_clip_names

    with pytest.raises(UserError) as err:
        grid_clip_names(_args(**changes), CLIPS)
    assert str(err.value).startswith(expected), str(err.value)


def test_video_grid_picks_the_first_k_clips_or_the_named_ones():
    from intermimic.evaluation.evaluation_pictures import grid_clip_names

    assert grid_clip_names(_args(video_grid=2), CLIPS) == ["a", "b"]
    assert grid_clip_names(_args(video_grid=2, video_clips=["c", "a", "b"]), CLIPS) == ["c", "a"]
    assert grid_clip_names(_args(video_grid=None), CLIPS) == []


@pytest.mark.parametrize("argv", [["--video_grid", "0"], ["--video_grid", "two"], ["--contact_sheets", "maybe"]])
def test_evaluate_parser_rejects_bad_picture_switches(argv):
    from intermimic.utils.errors import UserError

    with pytest.raises(UserError, match="--video_grid|--contact_sheets"):
        load_script("evaluate").build_parser().parse_args(argv)

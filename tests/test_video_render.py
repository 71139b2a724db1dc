"""The MuJoCo video renderer on known states: where the object's pixels are, that an arm's joint
moves the humanoid's pixels, decodable files of the expected size, no file after a failure."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.unit


def _renderer_or_skip(**kwargs):
    from intermimic.utils.gl_backend import gl_backend_problem

    problem = gl_backend_problem()
    if problem:
        pytest.skip(f"no offscreen OpenGL: {problem}")
    from intermimic.assets.object_registry import ObjectRegistry
    from intermimic.evaluation.mujoco_renderer import MujocoRenderer
    from intermimic.assets.primitives import DEMO_OBJECT_NAME

    return MujocoRenderer([ObjectRegistry().mesh(DEMO_OBJECT_NAME)], **kwargs)


def _frame(dof=None, obj_pos=(1.0, 0.0, 0.3), root=(0.0, 0.0, 0.95)):
    """A scene frame from forward kinematics of hinge angles ``dof`` (zeros: the rest pose)."""
    from intermimic.evaluation.scene_capture import SceneFrame
    from intermimic.motion.kinematics import forward_kinematics

    dof = torch.zeros(153) if dof is None else dof
    pos, quat = forward_kinematics(torch.tensor(root), torch.tensor([0.0, 0.0, 0.0, 1.0]), dof)
    pos, quat = pos.numpy(), quat.numpy()
    unit = np.array([0.0, 0.0, 0.0, 1.0])
    none = np.zeros((0, 3))
    return SceneFrame(pos, none, pos, none, "", body_quat=quat, ref_body_quat=quat, object_id=0,
                      obj_pos=np.asarray(obj_pos, float), obj_quat=unit, ref_obj_pos=np.asarray(obj_pos, float),
                      ref_obj_quat=unit)  # fmt: skip


def _object_mask(image):
    """Pixels of the yellow object on the dark grey ground."""
    r, g, b = (image[..., k].astype(np.int32) for k in range(3))
    return (r - b > 20) & (g - b > 10)  # yellow, lit or in shade; the ground and sky are grey-blue


def test_object_pixels_sit_where_its_projected_centre_is():
    renderer = _renderer_or_skip(camera="side", ghost=False)
    try:
        for obj_pos in ((0.0, 0.0, 0.85), (0.3, 0.0, 1.1), (-0.35, 0.0, 0.6), (0.1, 0.4, 0.9)):
            frame = _frame(obj_pos=obj_pos, root=(0.0, 0.0, -5.0))  # humanoid under the ground, out of view
            renderer.start_clip(frame)
            image = renderer.render_scene(frame)
            mask = _object_mask(image)
            assert mask.sum() > 200, f"object not visible at {obj_pos}"
            ys, xs = np.nonzero(mask)
            (px, py), = renderer.project(np.asarray(obj_pos))
            assert abs(xs.mean() - px) < 4 and abs(ys.mean() - py) < 4, (obj_pos, xs.mean(), ys.mean(), px, py)
    finally:
        renderer.close()


def test_moving_one_arm_joint_changes_the_humanoid_pixels_there_only():
    from intermimic.assets.humanoid_spec import JOINT_NAMES

    renderer = _renderer_or_skip(camera="front", ghost=False)
    try:
        rest = _frame(obj_pos=(0.0, 5.0, 0.3))
        renderer.start_clip(rest)
        a, again = renderer.render_scene(rest), renderer.render_scene(rest)
        assert np.abs(a.astype(np.int32) - again).max() <= 30  # the same state draws the same picture
        dof = torch.zeros(153)
        dof[list(JOINT_NAMES).index("L_Shoulder_y")] = 1.2
        moved = renderer.render_scene(_frame(dof, obj_pos=(0.0, 5.0, 0.3)))
        changed = np.abs(a.astype(np.int32) - moved.astype(np.int32)).max(-1) > 30
        assert changed.sum() > 300
        ys, xs = np.nonzero(changed)
        # only one side of the image changes: the left arm, seen from the front, is on the image's right
        w = a.shape[1]
        assert (xs > w / 2).mean() > 0.9, (xs > w / 2).mean()
    finally:
        renderer.close()


def test_video_file_has_the_frames_and_size_and_decodes(tmp_path):
    from intermimic.evaluation.video_files import open_video, read_video_frames

    renderer = _renderer_or_skip(size=(320, 240))
    try:
        for name in ("v.mp4", "v.gif"):
            writer = open_video(tmp_path / name, 30.0, renderer.size)
            for k in range(10):
                writer.write(renderer.render(_frame(obj_pos=(0.5 + 0.05 * k, 0.0, 0.3))))
            assert writer.close() == tmp_path / name
        frames, size = read_video_frames(tmp_path / "v.mp4")
        assert len(frames) == 10 and size == (320, 240)
        assert np.abs(frames[0].astype(np.int32) - frames[-1].astype(np.int32)).mean() > 0.2
        gif, gif_size = read_video_frames(tmp_path / "v.gif")
        assert len(gif) == 5 and gif_size == (160, 120)  # every second frame, half size
        assert sorted(p.name for p in tmp_path.iterdir()) == ["v.gif", "v.mp4"]
    finally:
        renderer.close()


class _FailingRenderer:
    size = (320, 240)

    def __init__(self, fail_at):
        self.fail_at, self.calls = fail_at, 0

    def start_clip(self, first):
        pass

    def render(self, frame):
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("renderer died")
        return np.full((240, 320, 3), 80, np.uint8)

    def close(self):
        pass


@pytest.mark.parametrize("name", ["fail.mp4", "fail.gif"])
def test_a_renderer_failure_mid_video_leaves_no_file(tmp_path, monkeypatch, name):
    from intermimic.evaluation import video as video_mod

    failing = _FailingRenderer(fail_at=6)
    monkeypatch.setattr(video_mod, "make_renderer", lambda *a, **k: failing)
    rec = video_mod.RolloutVideo(tmp_path / name, cmd=SimpleNamespace(library=None), clip_ids=None, fps=30.0, size=(320, 240))
    with pytest.raises(RuntimeError, match="renderer died"):
        rec._episode(0, [_frame()] * 10, None)
    assert failing.calls == 6
    assert list(tmp_path.iterdir()) == []  # neither the video nor a temporary file
    assert rec.close() is None


def test_without_opengl_the_default_falls_back_to_the_skeleton_with_one_warning(monkeypatch, capsys):
    from intermimic.utils.errors import UserError
    from intermimic.utils import gl_backend
    from intermimic.evaluation.video import resolve_renderer

    monkeypatch.setattr(gl_backend, "gl_backend_problem", lambda: "no OpenGL context with MUJOCO_GL=osmesa")
    assert resolve_renderer(None) == "skeleton"
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "warning" in lines[0] and "skeleton" in lines[0]
    with pytest.raises(UserError, match="--renderer mujoco"):
        resolve_renderer("mujoco")
    assert resolve_renderer("skeleton") == "skeleton"


@pytest.mark.parametrize(("display", "osmesa", "expected"), [(None, "libOSMesa.so.8", "osmesa"), (None, None, "disable"),
                                                            (":0", None, None)])  # fmt: skip
def test_headless_backend_is_only_chosen_when_its_library_exists(monkeypatch, display, osmesa, expected):
    """MuJoCo imports the backend MUJOCO_GL names when it is imported: naming OSMesa where it is
    missing would break every command (not only videos), so rendering is disabled instead."""
    import ctypes.util

    from intermimic.utils import gl_backend

    for var in ("MUJOCO_GL", "PYOPENGL_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    if display:
        monkeypatch.setenv("DISPLAY", display)
    monkeypatch.setattr(gl_backend, "_has_nvidia_egl", lambda: False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: osmesa if name == "OSMesa" else None)
    gl_backend.choose_headless_gl()
    assert gl_backend.os.environ.get("MUJOCO_GL") == expected
    if expected == "disable":
        assert "libosmesa6" in gl_backend._disabled_because
    monkeypatch.setattr(gl_backend, "_disabled_because", None)

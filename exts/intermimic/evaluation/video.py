"""Offscreen videos of rollouts, on any machine (no display, no GPU, no OpenGL).

Each frame is drawn in software with matplotlib: the simulated humanoid as a blue skeleton
(every body joined to its parent), the simulated object as its green surface points, and the
reference as a ghost (orange skeleton, grey object points). The camera follows the humanoid.
Frames go to an H.264 MP4 through the ffmpeg binary that ships with ``imageio-ffmpeg``; the file
is written under a temporary name and renamed when complete.

:class:`RolloutVideo` records chosen clips of a rollout (every step of each clip's first
attempt, clips one after another) and is driven by ``play``, ``evaluate`` and ``replay``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..assets.humanoid_spec import PARENT_INDICES
from ..cli import UserError

VIDEO_SIZE = (640, 480)
OBJECT_POINTS_DRAWN = 256
"""Surface points per object drawn in each frame (an even subset of the object's points)."""
VIEW_HALF_WIDTH = 1.3
"""Half the width (m) of the region around the humanoid that the camera shows."""


@dataclass
class SceneFrame:
    """What one video frame shows (env-local coordinates, metres)."""

    body_pos: np.ndarray  # [52, 3] simulated humanoid
    object_points: np.ndarray  # [P, 3] simulated object surface points
    ref_body_pos: np.ndarray  # [52, 3] reference humanoid (ghost)
    ref_object_points: np.ndarray  # [P, 3]
    caption: str


def capture_frames(cmd, env_ids: list[int], captions: list[str]) -> list[SceneFrame]:
    """Scene frames of ``env_ids`` from an HOI reference command's current state."""
    ids = torch.as_tensor(env_ids, device=cmd.device)
    ref = cmd.reference()
    body = cmd.body_pos[ids].cpu().numpy()
    ref_body = ref.body_pos[ids].cpu().numpy()
    if cmd.object is not None:
        points = cmd.object_points_w()[ids]
        ref_points = cmd.ref_object_points_w()[ids]
        stride = max(1, points.shape[1] // OBJECT_POINTS_DRAWN)
        points, ref_points = points[:, ::stride].cpu().numpy(), ref_points[:, ::stride].cpu().numpy()
    else:
        points = ref_points = np.zeros((len(env_ids), 0, 3), dtype=np.float32)
    return [SceneFrame(body[i], points[i], ref_body[i], ref_points[i], captions[i]) for i in range(len(env_ids))]


class SkeletonRenderer:
    """Draws :class:`SceneFrame` s into RGB images (matplotlib's Agg backend, one figure reused)."""

    def __init__(self, size: tuple[int, int] = VIDEO_SIZE):
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
        from mpl_toolkits.mplot3d.art3d import Line3DCollection

        self.size = size
        dpi = 100
        self.fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.canvas = FigureCanvasAgg(self.fig)
        ax = self.fig.add_axes((0.0, 0.0, 1.0, 0.93), projection="3d")
        ax.view_init(elev=18.0, azim=-60.0)
        ax.set_box_aspect((1.0, 1.0, 2.2 / (2 * VIEW_HALF_WIDTH)), zoom=1.3)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.tick_params(labelsize=6)
        self.ax = ax
        self.bones = [i for i, p in enumerate(PARENT_INDICES) if p >= 0]
        empty = np.zeros((len(self.bones), 2, 3))
        self.ref_lines = Line3DCollection(empty, colors=(1.0, 0.55, 0.1, 0.55), linewidths=2.5)
        self.sim_lines = Line3DCollection(empty, colors=(0.12, 0.35, 0.85, 1.0), linewidths=3.0)
        ax.add_collection3d(self.ref_lines, autolim=False)
        ax.add_collection3d(self.sim_lines, autolim=False)
        self.ref_points = ax.scatter([], [], [], s=2, c=[(0.5, 0.5, 0.5, 0.35)], depthshade=False)
        self.sim_points = ax.scatter([], [], [], s=3, c=[(0.1, 0.65, 0.2, 0.9)], depthshade=False)
        self.sim_joints = ax.scatter([], [], [], s=6, c=[(0.05, 0.15, 0.5, 1.0)], depthshade=False)
        self.title = self.fig.text(0.02, 0.96, "", fontsize=8, family="monospace")
        self.fig.text(0.02, 0.02, "blue/green: simulated humanoid/object, orange/grey: reference", fontsize=7)

    def _segments(self, pos: np.ndarray) -> np.ndarray:
        return np.stack([pos[[PARENT_INDICES[i] for i in self.bones]], pos[self.bones]], axis=1)

    def render(self, frame: SceneFrame) -> np.ndarray:
        ax = self.ax
        self.sim_lines.set_segments(self._segments(frame.body_pos))
        self.ref_lines.set_segments(self._segments(frame.ref_body_pos))
        for artist, pts in ((self.sim_points, frame.object_points), (self.ref_points, frame.ref_object_points),
                            (self.sim_joints, frame.body_pos)):  # fmt: skip
            artist._offsets3d = (pts[:, 0], pts[:, 1], pts[:, 2])
        cx, cy = (float(v) for v in frame.body_pos[0, :2])
        ax.set_xlim(cx - VIEW_HALF_WIDTH, cx + VIEW_HALF_WIDTH)
        ax.set_ylim(cy - VIEW_HALF_WIDTH, cy + VIEW_HALF_WIDTH)
        ax.set_zlim(0.0, 2.2)
        self.title.set_text(frame.caption)
        self.canvas.draw()
        image = np.asarray(self.canvas.buffer_rgba())[..., :3]
        return np.ascontiguousarray(image)


class Mp4Writer:
    """H.264 MP4 from RGB frames; the file appears under its name only once it is complete."""

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int] = VIDEO_SIZE):
        try:
            import imageio_ffmpeg
        except ImportError as exc:  # declared in setup.py; a clear line if it is missing
            raise UserError("writing videos needs the imageio-ffmpeg package: pip install imageio-ffmpeg") from exc
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_name(f".{self.path.stem}.partial.mp4")
        self.frames = 0
        self._gen = imageio_ffmpeg.write_frames(
            str(self.tmp), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
            macro_block_size=16, quality=7, ffmpeg_log_level="error",
        )  # fmt: skip
        self._gen.send(None)

    def write(self, image: np.ndarray) -> None:
        self._gen.send(np.ascontiguousarray(image, dtype=np.uint8))
        self.frames += 1

    def close(self) -> Path | None:
        """Finish the file; returns its path (None, and nothing written, when no frame came)."""
        self._gen.close()
        if self.frames == 0:
            self.tmp.unlink(missing_ok=True)
            return None
        os.replace(self.tmp, self.path)
        return self.path


def read_video_frames(path: str | os.PathLike) -> tuple[list[np.ndarray], tuple[int, int]]:
    """All frames of a video file as RGB arrays, and the frame size (for checks)."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    w, h = meta["size"]
    frames = [np.frombuffer(f, dtype=np.uint8).reshape(h, w, 3) for f in reader]
    return frames, (w, h)


class RolloutVideo:
    """Records chosen clips of a rollout into one MP4.

    Args:
        path: the MP4 file.
        cmd: the env's HOI reference command.
        clip_ids: library clip ids to record (their first attempt each, in the order they end);
            ``None``: the first episode of env 0.
        fps: frame rate (the policy rate).
    """

    def __init__(self, path, cmd, clip_ids: list[int] | None, fps: float):
        self.path = Path(path)
        self.cmd = cmd
        self.wanted = None if clip_ids is None else set(clip_ids)
        self.fps = fps
        self.recording: dict[int, tuple[int, list[SceneFrame]]] = {}  # env id -> (clip id, frames) of its episode
        self.recorded: set[int] = set()
        self.first_env_done = False
        self._renderer = None
        self._writer = None

    # -- which envs are recorded -----------------------------------------------------------
    def _wanted_envs(self) -> list[int]:
        if self.wanted is None:
            return [] if self.first_env_done else [0]
        clips = self.cmd.clip_ids.tolist()
        scheduled = self.cmd.scheduled.tolist()
        busy = {clip for clip, _ in self.recording.values()}
        envs = []
        for e, c in enumerate(clips):
            if e in self.recording or (c in self.wanted and c not in self.recorded and c not in busy and scheduled[e]):
                envs.append(e)
                busy.add(c)
        return envs

    @property
    def done(self) -> bool:
        """Every chosen clip has been recorded."""
        if self.wanted is None:
            return self.first_env_done
        return self.wanted <= self.recorded

    # -- driving from a plain policy loop (play) ---------------------------------------------
    def start(self, env):
        """Schedule the chosen clips (if any) and reset the wrapped env; returns its observations."""
        if self.wanted is not None:
            from .evaluator import clip_queues

            self.cmd.set_clip_schedule(clip_queues(self.cmd.library, sorted(self.wanted)))
            obs, _ = env.reset()
        else:
            obs = env.get_observations()
        self.on_step()
        return obs

    def after_step(self, dones: torch.Tensor) -> None:
        """After an env step: write the episodes that ended, capture the running ones."""
        self.end_episodes(torch.nonzero(dones > 0).flatten().tolist())
        self.on_step()

    # -- driving from evaluation (observer of evaluate_policy) -------------------------------
    def on_step(self, env=None) -> None:
        """Capture the current state of the recorded envs (call once per step)."""
        envs = self._wanted_envs()
        if not envs:
            return
        cmd = self.cmd
        e_h, e_o = cmd.tracking_errors()
        frames = cmd.frame.tolist()
        captions = [
            f"{cmd.library.clips[int(cmd.clip_ids[e])].name}  frame {frames[e]:>4}/{int(cmd.clip_length[e]) - 1}  "
            f"E_h {100 * float(e_h[e]):5.1f} cm  E_o {100 * float(e_o[e]):5.1f} cm"
            for e in envs
        ]
        for e, frame in zip(envs, capture_frames(cmd, envs, captions)):
            self.recording.setdefault(e, (int(cmd.clip_ids[e]), []))[1].append(frame)

    def on_attempt(self, env_id: int, clip_id: int, steps: int = 0, success: bool = False, kept: bool = False) -> None:
        """The episode of ``env_id`` ended: write its frames."""
        self.end_episodes([env_id])

    def end_episodes(self, env_ids) -> None:
        for e in env_ids:
            clip, frames = self.recording.pop(int(e), (None, None))
            if frames is None:
                continue
            self.first_env_done = self.first_env_done or int(e) == 0
            self.recorded.add(clip)
            self._write(frames)

    def _write(self, frames: list[SceneFrame]) -> None:
        if self._writer is None:
            self._renderer = SkeletonRenderer()
            self._writer = Mp4Writer(self.path, self.fps, self._renderer.size)
        for f in frames:
            self._writer.write(self._renderer.render(f))

    def close(self) -> Path | None:
        """Write the episodes still running and finish the file (None when nothing was recorded)."""
        self.end_episodes(list(self.recording))
        if self._writer is None:
            return None
        path = self._writer.close()
        self._writer = None
        return path


def clip_ids_from_names(library, names: list[str] | None) -> list[int] | None:
    """Library ids of clip names (``None`` stays ``None``); an unknown name is a one-line error."""
    if not names:
        return None
    known = [c.name for c in library.clips]
    missing = [n for n in names if n not in known]
    if missing:
        raise UserError(f"--video_clips: no clip named {', '.join(missing)} in the loaded data "
                         f"(clips: {', '.join(known[:10])}{' ...' if len(known) > 10 else ''})")  # fmt: skip
    return [known.index(n) for n in names]


def add_video_args(parser) -> None:
    """``--video PATH.mp4`` and ``--video_clips NAME...`` on a script's parser."""
    parser.add_argument("--video", default=None, metavar="PATH.mp4",
                        help="Render chosen clips offscreen into this MP4 (humanoid, object, reference ghost).")
    parser.add_argument("--video_clips", nargs="+", default=None, metavar="CLIP",
                        help="Clip names to render (default: the first episode of environment 0).")  # fmt: skip


def check_video_args(args) -> None:
    """UserError for a ``--video`` name that is not an MP4 file (checked before anything is built)."""
    if getattr(args, "video", None) and not str(args.video).endswith(".mp4"):
        raise UserError(f"--video {args.video}: expected a file name ending in .mp4")


def video_for(args, env) -> RolloutVideo | None:
    """The :class:`RolloutVideo` that ``--video``/``--video_clips`` ask for (None without ``--video``)."""
    if not getattr(args, "video", None):
        return None
    check_video_args(args)
    base = env.unwrapped
    cmd = base.command_manager.get_term("motion")
    return RolloutVideo(args.video, cmd, clip_ids_from_names(cmd.library, args.video_clips), 1.0 / base.step_dt)

"""Offscreen videos of rollouts, on any machine (no display, no GPU).

Two renderers draw :class:`~intermimic.evaluation.scene_capture.SceneFrame` s:

* ``mujoco`` (default): MuJoCo's offscreen renderer on the real geometry
  (:mod:`.mujoco_renderer`): the embodiment's bodies (the SMPL-X humanoid's geoms, or a robot's
  own meshes such as the G1's), the object's mesh, a ground with a grid,
  shadows, the reference as a translucent ghost, contacts coloured, a caption. Needs an OpenGL
  backend without a display: OSMesa (Debian's ``libosmesa6``) on a CPU, EGL on a GPU.
* ``skeleton``: matplotlib (no OpenGL at all): the embodiment as a blue skeleton (a bone from each
  body to its parent, ``Embodiment.body_parents``), the object as
  green surface points, the reference as an orange skeleton and grey points.

When the MuJoCo renderer cannot start and no renderer was asked for, one warning line says so
and the skeleton renderer is used. Frames go to an MP4 or GIF (:mod:`.video_files`), each file
complete or absent; a PNG name makes a still of each recorded clip's middle frame (only that
frame is rendered).

:class:`RolloutVideo` records chosen clips of a rollout (every step of each clip's first
attempt, clips one after another) and is driven by ``play``, ``evaluate`` and ``replay``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..utils.errors import UserError, log
from .caption import draw_caption
from .kept_attempts import middle_index
from .scene_capture import OBJECT_POINTS_DRAWN, SceneCapture, SceneFrame  # noqa: F401 - re-exported
from .video_files import STILL_SUFFIX, VIDEO_SUFFIXES, Mp4Writer, open_video, read_video_frames  # noqa: F401 - re-exported

VIDEO_SIZE = (640, 480)
RENDERERS = ("mujoco", "skeleton")
CAMERAS = ("side", "front", "top")
VIEW_HALF_WIDTH = 1.3
"""Half the width (m) of the region around the humanoid that the skeleton camera shows."""
SKELETON_BADGE_TOP = 0.08
"""Top of the skeleton renderer's badge, as a fraction of the height (below its two-line title)."""


def capture_frames(cmd, env_ids: list[int], captions: list[str] | None = None) -> list[SceneFrame]:
    """Scene frames of ``env_ids`` from an HOI reference command's current state."""
    batch = SceneCapture(cmd, env_ids)
    return [batch.frame(i, None if captions is None else captions[i]) for i in range(len(env_ids))]


def body_parents(embodiment=None) -> tuple[int, ...]:
    """Parent index of each body of ``embodiment`` (None: the SMPL-X humanoid); -1 for the root."""
    from ..assets.embodiment import get_embodiment

    embodiment = embodiment if embodiment is not None else get_embodiment()
    if not embodiment.body_parents:
        raise ValueError(f"embodiment {embodiment.name}: no body_parents to draw a skeleton from")
    return tuple(embodiment.body_parents)


class SkeletonRenderer:
    """Draws :class:`SceneFrame` s into RGB images (matplotlib's Agg backend, one figure reused).

    Args:
        size: (width, height) of the images.
        embodiment: the :class:`~intermimic.assets.embodiment_spec.Embodiment` the frames show
            (None: the SMPL-X humanoid); one bone per body with a parent.
    """

    def __init__(self, size: tuple[int, int] = VIDEO_SIZE, embodiment=None):
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
        self.parents = body_parents(embodiment)
        self.bones = [i for i, p in enumerate(self.parents) if p >= 0]
        empty = np.zeros((len(self.bones), 2, 3))
        self.ref_lines = Line3DCollection(empty, colors=(1.0, 0.55, 0.1, 0.55), linewidths=2.5)
        self.sim_lines = Line3DCollection(empty, colors=(0.12, 0.35, 0.85, 1.0), linewidths=3.0)
        ax.add_collection3d(self.ref_lines, autolim=False)
        ax.add_collection3d(self.sim_lines, autolim=False)
        self.ref_points = ax.scatter([], [], [], s=2, c=[(0.5, 0.5, 0.5, 0.35)], depthshade=False)
        self.sim_points = ax.scatter([], [], [], s=3, c=[(0.1, 0.65, 0.2, 0.9)], depthshade=False)
        self.sim_joints = ax.scatter([], [], [], s=6, c=[(0.05, 0.15, 0.5, 1.0)], depthshade=False)
        self.title = self.fig.text(0.02, 0.965, "", fontsize=8, family="monospace", va="top")
        self.fig.text(0.02, 0.02, "blue/green: simulated humanoid/object, orange/grey: reference", fontsize=7)

    def _segments(self, pos: np.ndarray) -> np.ndarray:
        return np.stack([pos[[self.parents[i] for i in self.bones]], pos[self.bones]], axis=1)

    def start_clip(self, first: SceneFrame) -> None:
        pass  # the skeleton camera keeps one direction

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
        image = np.ascontiguousarray(np.asarray(self.canvas.buffer_rgba())[..., :3])
        if frame.badge:
            image = draw_caption(image, "", badge=frame.badge, badge_top=SKELETON_BADGE_TOP * self.size[1])
        return image

    def close(self) -> None:
        pass


def library_object_meshes(library) -> list:
    """The mesh of each library object, by object id (the simulated objects' own meshes)."""
    from ..assets.object_registry import ObjectRegistry

    registry = ObjectRegistry(library.objects_dir)
    return [registry.mesh(name) for name in library.object_names]


def make_renderer(kind: str, library=None, size: tuple[int, int] = VIDEO_SIZE, camera: str = "side", ghost: bool = True,
                  embodiment=None):  # fmt: skip
    """A renderer of ``kind`` (see :data:`RENDERERS`) for the objects of ``library`` and the
    bodies of ``embodiment`` (None: the SMPL-X humanoid)."""
    if kind == "skeleton":
        return SkeletonRenderer(size, embodiment=embodiment)
    from .mujoco_renderer import MujocoRenderer

    meshes = library_object_meshes(library) if library is not None else []
    return MujocoRenderer(meshes, size=size, camera=camera, ghost=ghost, embodiment=embodiment)


def command_embodiment(cmd):
    """The embodiment a motion command drives (None, the SMPL-X humanoid, where it names none)."""
    return getattr(cmd, "embodiment", None)


class RolloutVideo:
    """Records chosen clips of a rollout into one MP4 (or GIF, or a PNG still of their middle frames).

    Args:
        path: the video file (``.mp4`` or ``.gif``; ``.png``: a still, each clip's middle frame in a grid).
        cmd: the env's HOI reference command.
        clip_ids: library clip ids to record (their first attempt each, in the order they end);
            ``None``: the first episode of env 0.
        fps: frame rate (the policy rate).
        renderer: ``"mujoco"`` or ``"skeleton"``; size, camera and ghost as for :func:`make_renderer`
            (the bodies drawn are those of the command's embodiment).
    """

    def __init__(self, path, cmd, clip_ids: list[int] | None, fps: float, renderer: str = "skeleton",
                 size: tuple[int, int] = VIDEO_SIZE, camera: str = "side", ghost: bool = True):  # fmt: skip
        self.path = Path(path)
        self.cmd = cmd
        self.wanted = None if clip_ids is None else set(clip_ids)
        self.fps = fps
        self.renderer_kind, self.size, self.camera, self.ghost = renderer, tuple(size), camera, ghost
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
        for e, frame in zip(envs, capture_frames(self.cmd, envs)):
            self.recording.setdefault(e, (int(self.cmd.clip_ids[e]), []))[1].append(frame)

    def on_attempt(self, env_id: int, clip_id: int, steps: int = 0, success: bool = False, kept: bool = False) -> None:
        """The episode of ``env_id`` ended: write its frames."""
        self.end_episodes([env_id], success)

    def end_episodes(self, env_ids, success: bool | None = None) -> None:
        for e in env_ids:
            clip, frames = self.recording.pop(int(e), (None, None))
            if frames is None:
                continue
            self.first_env_done = self.first_env_done or int(e) == 0
            self.recorded.add(clip)
            self._episode(clip, frames, success)

    def _episode(self, clip: int, frames: list[SceneFrame], success: bool | None) -> None:
        """One recorded episode is complete: render it into the file."""
        try:
            if self._writer is None:
                self._renderer = make_renderer(self.renderer_kind, self.cmd.library, self.size, self.camera, self.ghost,
                                               embodiment=command_embodiment(self.cmd))  # fmt: skip
                self._writer = open_video(self.path, self.fps, self.size)
            self._renderer.start_clip(frames[0])
            if self.path.suffix == STILL_SUFFIX:
                frames = [frames[middle_index(len(frames))]]
            for f in frames:
                self._writer.write(self._renderer.render(f))
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop the unfinished file (nothing is left under its name or a temporary one)."""
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        self._close_renderer()

    def _close_renderer(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def close(self) -> Path | None:
        """Write the episodes still running and finish the file (None when nothing was recorded)."""
        self.end_episodes(list(self.recording))
        self._close_renderer()
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


def video_size(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` (e.g. 1280x720) as a checked argument type."""
    import argparse

    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 640x480, got '{text}'") from None
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise argparse.ArgumentTypeError(f"expected a width and height from 16 to 4096, got '{text}'")
    return w, h


def add_video_args(parser) -> None:
    """``--video PATH.mp4|.gif|.png``, ``--video_clips NAME...`` and the rendering options on a script's parser."""
    parser.add_argument("--video", default=None, metavar="PATH.mp4",
                        help="Render chosen clips offscreen into this MP4 (.gif: an animated GIF; .png: a still of "
                             "each clip's middle frame): humanoid, object, reference ghost.")
    parser.add_argument("--video_clips", nargs="+", default=None, metavar="CLIP",
                        help="Clip names to render (default: the first episode of environment 0).")
    parser.add_argument("--renderer", choices=RENDERERS, default=None,
                        help="mujoco: the real geometry (OpenGL: OSMesa or EGL); skeleton: matplotlib stick figure "
                             "(default: mujoco, or skeleton with a warning when no OpenGL backend works).")
    parser.add_argument("--camera", choices=CAMERAS, default="side",
                        help="Camera preset following the humanoid (default: side).")
    parser.add_argument("--ghost", choices=("on", "off"), default="on", help="Draw the reference as a ghost (default: on).")
    parser.add_argument("--video_size", type=video_size, default=VIDEO_SIZE, metavar="WxH",
                        help="Frame size in pixels (default: 640x480).")  # fmt: skip


def resolve_renderer(requested: str | None) -> str:
    """The renderer to use: ``requested``, or (None) mujoco when an OpenGL backend works, else
    skeleton with one warning line. An explicit mujoco that cannot start is a UserError."""
    if requested == "skeleton":
        return "skeleton"
    from ..utils.gl_backend import gl_backend_problem

    problem = gl_backend_problem()
    if problem is None:
        return "mujoco"
    if requested == "mujoco":
        raise UserError(f"--renderer mujoco: {problem}; or use --renderer skeleton")
    log(f"warning: videos use the skeleton renderer: {problem}")
    return "skeleton"


def check_video_args(args) -> None:
    """UserError for a ``--video`` name that is not an MP4/GIF/PNG file or a ``--video_grid``
    without a video file or too large; picks the renderer (checked before anything is built)."""
    video = getattr(args, "video", None)
    if video and not str(video).endswith(VIDEO_SUFFIXES):
        raise UserError(f"--video {video}: expected a file name ending in .mp4, .gif or .png")
    grid = getattr(args, "video_grid", None)
    if grid:
        from .picture_grid import MAX_PIXELS, grid_size

        if not video or str(video).endswith(STILL_SUFFIX):
            raise UserError(f"--video_grid {grid}: expected --video PATH.mp4 (or .gif) as the file of the grid video"
                            + (f", got {video}" if video else ""))  # fmt: skip
        w, h = grid_size(grid, tuple(args.video_size))
        if max(w, h) > MAX_PIXELS:
            tile = "x".join(map(str, args.video_size))
            raise UserError(f"--video_grid {grid}: {grid} tiles of --video_size {tile} make a {w}x{h} video; expected "
                            f"at most {MAX_PIXELS} pixels a side (use fewer tiles or a smaller --video_size)")  # fmt: skip
    if video or grid or getattr(args, "contact_sheets", "off") == "on":
        if not getattr(args, "_renderer_resolved", False):
            args.renderer = resolve_renderer(getattr(args, "renderer", None))
            args._renderer_resolved = True


def renderer_options(args) -> dict:
    """The renderer keyword arguments that the parsed arguments ask for."""
    return {"renderer": args.renderer or "mujoco", "size": tuple(args.video_size), "camera": args.camera,
            "ghost": args.ghost == "on"}  # fmt: skip


def video_for(args, env) -> RolloutVideo | None:
    """The :class:`RolloutVideo` that ``--video``/``--video_clips`` ask for (None without ``--video``)."""
    if not getattr(args, "video", None):
        return None
    check_video_args(args)
    base = env.unwrapped
    cmd = base.command_manager.get_term("motion")
    clips = clip_ids_from_names(cmd.library, args.video_clips)
    return RolloutVideo(args.video, cmd, clips, 1.0 / base.step_dt, **renderer_options(args))

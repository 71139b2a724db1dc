"""What ``evaluate`` and ``track`` draw from the kept attempts: the grid video (``--video_grid K``),
the contact sheets (``--contact_sheets on|off``) and a video per clip (``track --videos on``).

:class:`EvaluationPictures` records the kept attempts during the evaluation
(:class:`~intermimic.evaluation.kept_attempts.KeptAttempts`) and afterwards renders, with one
renderer, the grid video of K clips, one contact sheet per evaluated clip and, when asked, one
video per evaluated clip (its kept attempt, with the success/failure badge).
"""

from __future__ import annotations

from pathlib import Path

from ..utils.errors import UserError
from ..utils.arguments import int_at_least
from .contact_sheet import SHEETS_FOLDER, write_contact_sheets
from .kept_attempts import KeptAttempts

CLIP_VIDEOS_FOLDER = "videos"
from .video import clip_ids_from_names, command_embodiment, make_renderer, renderer_options


def add_evaluation_picture_args(parser) -> None:
    """``--video_grid K`` and ``--contact_sheets on|off`` on evaluate's parser."""
    parser.add_argument("--video_grid", type=int_at_least(1), default=None, metavar="K",
                        help="With --video: K evaluated clips side by side in one video (a grid; each tile a clip's "
                             "kept attempt with a success/failure badge): the first K clips, or the first K of "
                             "--video_clips. --video_size is the size of a tile.")
    parser.add_argument("--contact_sheets", choices=("on", "off"), default="on",
                        help=f"A PNG per clip with the first, middle and last frame of its kept attempt, in "
                             f"<out>/{SHEETS_FOLDER}/ (default: on; only those frames are rendered).")  # fmt: skip


def grid_clip_names(args, clip_names: list[str]) -> list[str]:
    """The clips of the grid video (``[]`` without ``--video_grid``); UserError when K does not fit
    the evaluated clips or ``--video_clips`` (checked before the simulation is built)."""
    k = getattr(args, "video_grid", None)
    if not k:
        return []
    named = args.video_clips or []
    missing = [n for n in named if n not in clip_names]
    if missing:
        raise UserError(f"--video_clips: no clip named {', '.join(missing)} in the loaded data "
                        f"(clips: {', '.join(clip_names[:10])}{' ...' if len(clip_names) > 10 else ''})")  # fmt: skip
    if named and k > len(named):
        raise UserError(f"--video_grid {k}: --video_clips names {len(named)} clip(s); expected K from 1 to "
                        f"{len(named)}, or name at least {k} clips")  # fmt: skip
    if k > len(clip_names):
        raise UserError(f"--video_grid {k}: expected K from 1 to {len(clip_names)} (the clips evaluated)")
    return (named or clip_names)[:k]


class EvaluationPictures:
    """Grid video and contact sheets of one evaluation.

    Args:
        cmd: the env's HOI reference command.
        grid_clips: clip ids of the grid's tiles, in order (empty: no grid video).
        video: the grid video's file (with ``grid_clips``).
        sheets: write a contact sheet per evaluated clip.
        fps: frame rate of the grid video.
        clip_videos: write a video per evaluated clip into ``<folder>/videos/<clip>.mp4`` (every
            frame of every clip's kept attempt is held until the end: about 3 KB a frame).
        options: :func:`~intermimic.evaluation.video.make_renderer` keyword arguments (renderer kind as ``renderer``).
    """

    def __init__(self, cmd, grid_clips: list[int], video: str | None, sheets: bool, fps: float,
                 clip_videos: bool = False, **options):  # fmt: skip
        self.library = cmd.library
        self.embodiment = command_embodiment(cmd)
        self.grid_clips, self.video, self.sheets, self.fps = list(grid_clips), video, sheets, fps
        self.clip_videos = clip_videos
        self.options = options
        full = list(range(len(self.library.clips))) if clip_videos else self.grid_clips
        self.recorder = KeptAttempts(cmd, full=full, sheets=None if sheets else [],
                                     points=options.get("renderer") == "skeleton")  # fmt: skip

    def write(self, folder: str | Path) -> list[str]:
        """Render the grid video and the contact sheets; returns one log line per output."""
        from .grid_video import write_grid_video

        kept = self.recorder.kept
        if not kept:
            return []
        opts = dict(self.options)
        renderer = make_renderer(opts.pop("renderer"), self.library, embodiment=self.embodiment, **opts)
        lines = []
        try:
            tiles = [kept[c] for c in self.grid_clips if c in kept]
            if tiles:
                path = write_grid_video(self.video, tiles, renderer, self.fps)
                lines.append(f"grid video ({len(tiles)} clips): {path}")
            names = [c.name for c in self.library.clips]
            if self.sheets:
                files = write_contact_sheets(folder, kept, names, renderer)
                lines.append(f"contact sheets ({len(files)} clips): {Path(folder) / SHEETS_FOLDER}/")
            if self.clip_videos:
                for clip_id, attempt in sorted(kept.items()):
                    write_grid_video(Path(folder) / CLIP_VIDEOS_FOLDER / f"{names[clip_id]}.mp4", [attempt], renderer,
                                     self.fps, progress=False)  # fmt: skip
                lines.append(f"videos ({len(kept)} clips): {Path(folder) / CLIP_VIDEOS_FOLDER}/")
        finally:
            renderer.close()
        return lines


def pictures_for(args, env) -> EvaluationPictures | None:
    """The :class:`EvaluationPictures` that ``--video_grid`` / ``--contact_sheets`` / ``--videos``
    ask for (None: none of them)."""
    sheets = getattr(args, "contact_sheets", "off") == "on"
    clip_videos = getattr(args, "videos", "off") == "on"
    if not (getattr(args, "video_grid", None) or sheets or clip_videos):
        return None
    base = env.unwrapped
    cmd = base.command_manager.get_term("motion")
    names = [c.name for c in cmd.library.clips]
    grid = clip_ids_from_names(cmd.library, grid_clip_names(args, names)) or []
    return EvaluationPictures(cmd, grid, getattr(args, "video", None), sheets, 1.0 / base.step_dt, clip_videos=clip_videos,
                              **renderer_options(args))  # fmt: skip

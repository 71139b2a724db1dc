"""One video of several clips side by side: a grid of tiles, each tile one clip's kept attempt.

Tiles are filled row by row in the order given; every tile plays from the first frame at once,
the video lasts as long as the longest attempt, and a shorter one holds its last frame. Each
tile carries the renderer's caption (clip name, frame, errors) and a success (green) or failure
(red) badge. The file is complete or absent (:func:`~intermimic.evaluation.video_files.open_video`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .picture_grid import compose_grid, grid_size
from .video_files import open_video

def badge_of(success: bool) -> str:
    return "success" if success else "failure"


def write_grid_video(path: str | Path, attempts: list, renderer, fps: float, progress: bool = True) -> Path:
    """Render ``attempts`` (:class:`~intermimic.evaluation.kept_attempts.KeptAttempt` s with all
    their frames) as a grid video into ``path`` (.mp4 or .gif); returns the path."""
    from ..utils.progress import progress as progress_bar

    clips = [[dataclasses.replace(f, badge=badge_of(a.success)) for f in a.frames.all()] for a in attempts]
    tile = tuple(renderer.size)
    length = max(len(frames) for frames in clips)
    writer = open_video(path, fps, grid_size(len(clips), tile))
    held: list[np.ndarray | None] = [None] * len(clips)  # the last image of a tile whose clip has ended
    bar = progress_bar(total=length, desc="rendering the grid video", unit="frame", enabled=progress)
    try:
        for t in range(length):
            images = []
            for i, frames in enumerate(clips):
                image = held[i]
                if image is None:
                    renderer.start_clip(frames[0])  # each tile keeps its own camera direction
                    image = renderer.render(frames[t])
                    if t == len(frames) - 1:
                        held[i] = image
                images.append(image)
            writer.write(compose_grid(images, tile))
            bar.update(1)
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    return writer.close()

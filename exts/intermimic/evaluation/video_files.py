"""Video and picture files from RGB frames, each complete or absent.

* :class:`Mp4Writer`: H.264 MP4 through the ffmpeg binary that ships with ``imageio-ffmpeg``,
  streamed to a hidden temporary file and renamed when complete.
* :class:`GifWriter`: an animated GIF for READMEs (half size, every second frame, at most
  :data:`GIF_MAX_FRAMES` frames), written at the end.
* :class:`StillWriter`: a PNG still, the images it is given in a grid (one per recorded clip).
* :func:`write_png`: one picture.

:meth:`abort` removes what a writer has written so far (a failure mid-video leaves no file).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..utils.errors import UserError
from ..utils.atomic_write import atomic_write, temporary_path
from .picture_grid import compose_grid

VIDEO_SUFFIXES = (".mp4", ".gif", ".png")
STILL_SUFFIX = ".png"
GIF_MAX_FRAMES = 300
"""Frames kept in a GIF (after taking every second frame); later frames are dropped."""


class Mp4Writer:
    """H.264 MP4 from RGB frames; the file appears under its name only once it is complete."""

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int] = (640, 480)):
        try:
            import imageio_ffmpeg
        except ImportError as exc:  # declared in setup.py; a clear line if it is missing
            raise UserError("writing videos needs the imageio-ffmpeg package: pip install imageio-ffmpeg") from exc
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temporary_path(self.path)
        self.frames = 0
        self._gen = imageio_ffmpeg.write_frames(
            str(self.tmp), size, fps=fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
            macro_block_size=16, quality=7, ffmpeg_log_level="error", output_params=["-f", "mp4"],
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

    def abort(self) -> None:
        """Stop and remove the unfinished file."""
        try:
            self._gen.close()
        finally:
            self.tmp.unlink(missing_ok=True)


class GifWriter:
    """Animated GIF from RGB frames (half size, every second frame), written when closed."""

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int] = (640, 480)):
        self.path = Path(path)
        self.fps = fps
        self.frames = 0
        self._images = []

    def write(self, image: np.ndarray) -> None:
        from PIL import Image

        self.frames += 1
        if (self.frames - 1) % 2 or len(self._images) >= GIF_MAX_FRAMES:
            return
        picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
        picture = picture.resize((picture.width // 2, picture.height // 2), Image.Resampling.LANCZOS)
        self._images.append(picture.quantize(colors=192, method=Image.Quantize.MEDIANCUT))

    def close(self) -> Path | None:
        if not self._images:
            return None
        first, rest = self._images[0], self._images[1:]
        duration = round(2000.0 / self.fps)
        atomic_write(self.path, lambda tmp: first.save(tmp, format="GIF", save_all=True, append_images=rest,
                                                       duration=duration, loop=0, optimize=True))  # fmt: skip
        self._images = []
        return self.path

    def abort(self) -> None:
        self._images = []


class StillWriter:
    """A PNG still of the images it is given, in a grid (row by row), written when closed."""

    def __init__(self, path: str | os.PathLike, fps: float = 30.0, size: tuple[int, int] = (640, 480)):
        self.path = Path(path)
        self.size = tuple(size)
        self.frames = 0
        self._images = []

    def write(self, image: np.ndarray) -> None:
        self._images.append(np.ascontiguousarray(image, dtype=np.uint8))
        self.frames += 1

    def close(self) -> Path | None:
        if not self._images:
            return None
        picture = compose_grid(self._images, self.size)
        self._images = []
        return write_png(self.path, picture)

    def abort(self) -> None:
        self._images = []


def open_video(path: str | os.PathLike, fps: float, size: tuple[int, int]):
    """The writer for ``path`` by its suffix (``.mp4``, ``.gif`` or ``.png``)."""
    name = str(path)
    if name.endswith(".gif"):
        return GifWriter(path, fps, size)
    if name.endswith(STILL_SUFFIX):
        return StillWriter(path, fps, size)
    return Mp4Writer(path, fps, size)


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    return atomic_write(path, lambda tmp: picture.save(tmp, format="PNG", optimize=True))


def read_video_frames(path: str | os.PathLike) -> tuple[list[np.ndarray], tuple[int, int]]:
    """All frames of a video file (MP4 or GIF) as RGB arrays, and the frame size (for checks)."""
    if str(path).endswith(".gif"):
        from PIL import Image, ImageSequence

        with Image.open(path) as gif:
            frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
        return frames, (frames[0].shape[1], frames[0].shape[0])
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    meta = reader.__next__()
    w, h = meta["size"]
    frames = [np.frombuffer(f, dtype=np.uint8).reshape(h, w, 3) for f in reader]
    return frames, (w, h)

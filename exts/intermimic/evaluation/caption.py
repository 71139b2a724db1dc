"""Text drawn onto rendered frames: the caption band on top, a legend line, a success badge."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

BADGE_COLOURS = {"success": (40, 170, 70), "failure": (200, 45, 40)}
"""Fill colour (RGB) of each badge; its text is white."""
BADGE_ALPHA = 230


@lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def text_size(height: int) -> int:
    """Font size (px) of the caption and badge on an image ``height`` pixels high."""
    return max(10, round(height / 34))


def caption_band_height(height: int, lines: int) -> int:
    """Height (px) of the dark band holding ``lines`` caption lines (0 without a caption)."""
    size = text_size(height)
    return int(lines * size * 1.25 + size * 0.6) if lines else 0


def badge_box(width: int, height: int, badge: str, top: float = 0.0) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of ``badge``'s filled box in the top right corner, below ``top`` pixels."""
    size = text_size(height)
    text_width = _font(size).getlength(badge.upper())
    x0, y0 = width - text_width - size * 1.4, top + size * 0.3
    return x0, y0, width - size * 0.4, y0 + size * 1.5


def draw_badge(picture, badge: str, top: float = 0.0) -> None:
    """Draw ``badge`` ("success" / "failure") onto a PIL image (see :func:`badge_box`)."""
    from PIL import ImageDraw

    w, h = picture.size
    size = text_size(h)
    box = badge_box(w, h, badge, top)
    draw = ImageDraw.Draw(picture, "RGBA")
    draw.rectangle(box, fill=(*BADGE_COLOURS.get(badge, (90, 90, 90)), BADGE_ALPHA))
    draw.text((box[0] + size * 0.5, box[1] + size * 0.2), badge.upper(), fill=(255, 255, 255), font=_font(size))


def draw_caption(image: np.ndarray, caption: str, legend: str = "", badge: str | None = None,
                 badge_top: float | None = None) -> np.ndarray:  # fmt: skip
    """``image`` (RGB, ``[H, W, 3]``) with ``caption`` (one or more lines) on a dark band at the top,
    ``legend`` at the bottom and ``badge`` ("success" / "failure") in the top right corner, below
    the caption band (or ``badge_top`` pixels from the top)."""
    from PIL import Image, ImageDraw

    h, w = image.shape[:2]
    size = text_size(h)
    font = _font(size)
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture, "RGBA")
    lines = [line for line in caption.splitlines() if line] if caption else []
    if lines:
        draw.rectangle((0, 0, w, caption_band_height(h, len(lines))), fill=(0, 0, 0, 150))
        for i, line in enumerate(lines):
            draw.text((size * 0.5, size * 0.3 + i * size * 1.25), line, fill=(240, 240, 240), font=font)
    if legend:
        small = _font(max(9, round(size * 0.8)))
        draw.rectangle((0, h - size * 1.3, w, h), fill=(0, 0, 0, 120))
        draw.text((size * 0.5, h - size * 1.15), legend, fill=(215, 215, 215), font=small)
    if badge:
        draw_badge(picture, badge, caption_band_height(h, len(lines)) if badge_top is None else badge_top)
    return np.asarray(picture)

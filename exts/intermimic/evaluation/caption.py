"""Text drawn onto rendered frames: the caption band on top, a legend line, a success badge."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

BADGE_COLOURS = {"success": (40, 170, 70), "failure": (200, 45, 40)}


@lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    return ImageFont.load_default(size=size)


def draw_caption(image: np.ndarray, caption: str, legend: str = "", badge: str | None = None) -> np.ndarray:
    """``image`` (RGB, ``[H, W, 3]``) with ``caption`` (one or more lines) on a dark band at the top,
    ``legend`` at the bottom and ``badge`` ("success" / "failure") in the top right corner."""
    from PIL import Image, ImageDraw

    h, w = image.shape[:2]
    size = max(10, round(h / 34))
    font = _font(size)
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture, "RGBA")
    lines = [line for line in caption.splitlines() if line] if caption else []
    if lines:
        band = int(len(lines) * size * 1.25 + size * 0.6)
        draw.rectangle((0, 0, w, band), fill=(0, 0, 0, 150))
        for i, line in enumerate(lines):
            draw.text((size * 0.5, size * 0.3 + i * size * 1.25), line, fill=(240, 240, 240), font=font)
    if legend:
        small = _font(max(9, round(size * 0.8)))
        draw.rectangle((0, h - size * 1.3, w, h), fill=(0, 0, 0, 120))
        draw.text((size * 0.5, h - size * 1.15), legend, fill=(215, 215, 215), font=small)
    if badge:
        text = badge.upper()
        tw = draw.textlength(text, font=font)
        x0, y0 = w - tw - size * 1.4, size * 0.3 + (len(lines) * size * 1.25 + size * 0.6 if lines else 0)
        draw.rectangle((x0, y0, w - size * 0.4, y0 + size * 1.5), fill=(*BADGE_COLOURS.get(badge, (90, 90, 90)), 230))
        draw.text((x0 + size * 0.5, y0 + size * 0.2), text, fill=(255, 255, 255), font=font)
    return np.asarray(picture)

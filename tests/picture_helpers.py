"""Reading rendered pictures in tests: the success/failure badge's colour in a tile."""

from __future__ import annotations

import numpy as np


def badge_pixels(tile: np.ndarray) -> tuple[int, int]:
    """(red, green) badge-coloured pixels in the top right of a tile (where the badge is drawn;
    the scene there is sky or ground, never this red or green)."""
    h, w = tile.shape[:2]
    corner = tile[: h // 4, int(0.6 * w) :].astype(np.int32)
    r, g, b = corner[..., 0], corner[..., 1], corner[..., 2]
    red = (r > 150) & (g < 90) & (b < 90)
    green = (g > 125) & (r < 90) & (b < 110)
    return int(red.sum()), int(green.sum())


def shows_badge(tile: np.ndarray, success: bool, least: int = 80) -> bool:
    """The tile carries the green (success) or red (failure) badge, and not the other one."""
    red, green = badge_pixels(tile)
    return (green >= least and red < 10) if success else (red >= least and green < 10)

"""Grids of equally sized pictures (tiles filled row by row): their shape, size and composition,
shared by the grid video and the PNG stills."""

from __future__ import annotations

import math

import numpy as np

BACKGROUND = (24, 24, 28)
"""Colour of grid cells without a clip."""
MAX_PIXELS = 4096
"""Largest width and height of a grid video."""


def grid_shape(tiles: int) -> tuple[int, int]:
    """(columns, rows) of a grid of ``tiles`` tiles: as square as possible, wider than high."""
    cols = math.ceil(math.sqrt(tiles))
    return cols, math.ceil(tiles / cols)


def grid_size(tiles: int, tile_size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) in pixels of a grid of ``tiles`` tiles of ``tile_size``."""
    cols, rows = grid_shape(tiles)
    return cols * tile_size[0], rows * tile_size[1]


def compose_grid(images: list[np.ndarray], tile_size: tuple[int, int]) -> np.ndarray:
    """The grid picture of tile ``images`` (each ``[h, w, 3]`` of ``tile_size``), row by row."""
    cols, rows = grid_shape(len(images))
    w, h = tile_size
    out = np.empty((rows * h, cols * w, 3), np.uint8)
    out[...] = BACKGROUND
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        out[r * h : (r + 1) * h, c * w : (c + 1) * w] = image
    return out

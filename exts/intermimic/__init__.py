"""InterMimic for Isaac Lab: physics-based whole-body human-object interaction imitation."""

import os

__version__ = "0.1.0"

EXT_DIR = os.path.dirname(os.path.abspath(__file__))
"""Folder of the ``intermimic`` package."""

from .evaluation.gl_backend import choose_headless_gl  # noqa: E402

choose_headless_gl()  # before anything imports MuJoCo or PyOpenGL (offscreen videos)

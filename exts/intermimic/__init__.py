"""InterMimic for Isaac Lab: physics-based whole-body human-object interaction imitation.

The package holds rooms only (docs/layout.md): utils, assets, motion, retarget, tasks,
evaluation, learning, app, benchmarks.
"""

from .utils.gl_backend import choose_headless_gl

__version__ = "0.1.0"

choose_headless_gl()  # before anything imports MuJoCo or PyOpenGL (offscreen videos)

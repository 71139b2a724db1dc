"""Humanoid and object assets (see docs/assets.md)."""

# Isaac Lab puts the Newton and MuJoCo USD schema plugins (which the MJCF -> USD converter writes)
# on USD's plugin search path when imported, without loading USD itself: before any USD use here.
import isaaclab  # noqa: F401

"""MJCF -> USD conversion through ``mujoco-usd-converter``, cached by content hash."""

from __future__ import annotations

import re
from pathlib import Path

from .cache import cached_dir, content_hash

_LIGHT = re.compile(r"<light\b[^>]*/>", re.S)
_PLANE = re.compile(r"<geom\b[^>]*type=\"plane\"[^>]*/>", re.S)


def strip_scene_elements(mjcf_text: str) -> str:
    """Remove lights and ground planes, which must not become part of the robot asset."""
    return _PLANE.sub("", _LIGHT.sub("", mjcf_text))


def mjcf_to_usd(mjcf_text: str, name: str) -> Path:
    """Convert an MJCF document to a single-layer USD file and return its path."""
    import mujoco_usd_converter

    mjcf_text = strip_scene_elements(mjcf_text)
    key = content_hash(mjcf_text, mujoco_usd_converter.__version__, "usd-v1")

    def build(out: Path) -> None:
        src = out / f"{name}.xml"
        src.write_text(mjcf_text)
        converter = mujoco_usd_converter.Converter(layer_structure=False, scene=False)
        converter.convert(str(src), str(out / "usd"))

    folder = cached_dir("usd", key, build)
    files = sorted((folder / "usd").glob("*.usd*"))
    if not files:
        raise RuntimeError(f"mujoco-usd-converter produced no USD file in {folder / 'usd'}")
    return files[0]

"""MJCF -> USD conversion through ``mujoco-usd-converter``, cached by content hash."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from .cache import cached_dir, content_hash

_LIGHT = re.compile(r"<light\b[^>]*/>", re.S)
_PLANE = re.compile(r"<geom\b[^>]*type=\"plane\"[^>]*/>", re.S)


_SCHEMA_PLUGINS = (("newton_usd_schemas", "."), ("mujoco_usd_converter", "plugins"))
_PROBE_SCHEMA = "NewtonCollisionAPI"


def register_usd_schema_plugins() -> None:
    """Make the USD schemas the MJCF converter writes (Newton's, MuJoCo's) known to USD.

    USD builds its schema registry once per process, the first time any schema is used, and
    ignores schema plugins registered afterwards; the converter registers its plugins only when
    imported. Registering the plugin folders early (this runs when ``intermimic.assets`` is
    imported) keeps conversions working after other USD work in the same process.
    """
    from pxr import Plug

    paths = []
    for module, sub in _SCHEMA_PLUGINS:
        found = importlib.util.find_spec(module)
        if found is not None and found.origin:
            paths.append(str((Path(found.origin).parent / sub).resolve()))
    Plug.Registry().RegisterPlugins(paths)


def _require_schemas() -> None:
    from pxr import Usd

    register_usd_schema_plugins()
    if Usd.SchemaRegistry.FindSchemaInfo(_PROBE_SCHEMA) is None:
        raise RuntimeError(
            f"USD does not know the '{_PROBE_SCHEMA}' schema that MJCF -> USD conversion writes: USD's schema "
            "registry was built before the newton-usd-schemas plugins were registered. Import intermimic.assets "
            "before creating any USD stage in this process."
        )


def strip_scene_elements(mjcf_text: str) -> str:
    """Remove lights and ground planes, which must not become part of the robot asset."""
    return _PLANE.sub("", _LIGHT.sub("", mjcf_text))


def mjcf_to_usd(mjcf_text: str, name: str) -> Path:
    """Convert an MJCF document to a single-layer USD file and return its path."""
    import mujoco_usd_converter

    mjcf_text = strip_scene_elements(mjcf_text)
    key = content_hash(mjcf_text, mujoco_usd_converter.__version__, "usd-v1")

    def build(out: Path) -> None:
        _require_schemas()
        src = out / f"{name}.xml"
        src.write_text(mjcf_text)
        converter = mujoco_usd_converter.Converter(layer_structure=False, scene=False)
        converter.convert(str(src), str(out / "usd"))

    folder = cached_dir("usd", key, build)
    files = sorted((folder / "usd").glob("*.usd*"))
    if not files:
        raise RuntimeError(f"mujoco-usd-converter produced no USD file in {folder / 'usd'}")
    return files[0]

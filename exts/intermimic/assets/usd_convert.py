"""MJCF -> USD conversion through ``mujoco-usd-converter``, cached by content hash.

Nothing here imports ``pxr`` before a conversion runs: under Isaac Sim, USD must be loaded by the
app first, and the package's configs are imported before the app starts.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
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
    imported. ``import isaaclab`` puts both plugin folders on USD's search path without loading
    USD (``intermimic.assets`` imports it first); this registers them again right before a
    conversion, for a process that used USD before importing Isaac Lab.
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
            "registry was built before the newton-usd-schemas plugins were registered. Import isaaclab (or "
            "intermimic.assets) before creating any USD stage in this process."
        )


def strip_scene_elements(mjcf_text: str) -> str:
    """Remove lights and ground planes, which must not become part of the robot asset."""
    return _PLANE.sub("", _LIGHT.sub("", mjcf_text))


def mjcf_to_usd(mjcf_text: str, name: str, joint_name: Callable[[str], str] | None = None) -> Path:
    """Convert an MJCF document to a single-layer USD file and return its path.

    Every hinge gets a drive, which PhysX needs to drive it; with ``joint_name``, each body's stack
    of hinges becomes one joint named ``joint_name(<body>)``, which PhysX accepts
    (:mod:`.usd_joints`).
    """
    import mujoco_usd_converter

    mjcf_text = strip_scene_elements(mjcf_text)
    joints_tag = "hinges" if joint_name is None else f"one-joint-per-body:{joint_name('<body>')}"
    key = content_hash(mjcf_text, mujoco_usd_converter.__version__, "usd-v2-driven", joints_tag)

    def build(out: Path) -> None:
        from .usd_joints import prepare_joints

        _require_schemas()
        src = out / f"{name}.xml"
        src.write_text(mjcf_text)
        converter = mujoco_usd_converter.Converter(layer_structure=False, scene=False)
        converter.convert(str(src), str(out / "usd"))
        for usd_file in (out / "usd").glob("*.usd*"):
            prepare_joints(usd_file, joint_name)

    folder = cached_dir("usd", key, build)
    files = sorted((folder / "usd").glob("*.usd*"))
    if not files:
        raise RuntimeError(f"mujoco-usd-converter produced no USD file in {folder / 'usd'}")
    return files[0]

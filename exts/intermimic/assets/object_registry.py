"""Object registry: maps the object names used in clip files to meshes.

An objects folder holds ``<name>/<name>.obj`` (or ``.stl``) meshes and/or ``<name>.urdf``
files naming a mesh (relative paths resolved against the folder). The built-in demo box is
always known. Meshes are centred on their vertex mean, which is the convention of the
InterMimic object frames (the released meshes are already centred), so surface points,
collision geometry and clip object poses all share one frame.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .object_mesh import ObjectMesh
from .objects import DEFAULT_DENSITY, DecompositionCfg, ObjectAsset, ObjectPhysicsCfg, decompose, object_usd
from .primitives import DEMO_BOX_HALF_SIZE, DEMO_OBJECT_NAME, box_mesh

MESH_SUFFIXES = (".obj", ".stl", ".ply")
THIN_WALLED_OBJECTS = frozenset({"plasticbox", "trashcan"})
"""OMOMO objects with thin walls: they get the thin-walled contact rest offset (as in the release)."""


LFS_POINTER_PREFIX = b"version https://git-lfs"


class ObjectMeshError(ValueError):
    """An object's mesh file (or the URDF naming it) that cannot be used; the message names the file."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def _empty_mesh_reason(path: str) -> str:
    """Why a mesh file yields no triangles, in words a user can act on."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(LFS_POINTER_PREFIX))
    except OSError:
        head = b""
    if head.startswith(LFS_POINTER_PREFIX):
        return "mesh has no triangles: the file is a Git LFS pointer, not the mesh (fetch it: git lfs pull)"
    if not head:
        return "mesh has no triangles: the file is empty (a broken download or copy?)"
    return "mesh has no triangles (expected a triangle mesh: .obj, .stl or .ply)"


def describe_mesh_problems(problems: dict[str, str]) -> str:
    """One line for unreadable object meshes (``{object: problem}``, from :meth:`ObjectRegistry.mesh_problems`)."""
    what = "the mesh of object" if len(problems) == 1 else "the meshes of objects"
    return f"cannot read {what} {', '.join(sorted(problems))}: " + "; ".join(problems[n] for n in sorted(problems))


def _mesh_from_urdf(urdf: Path) -> Path:
    """The mesh file a URDF names (its collision mesh, else its visual mesh)."""
    try:
        root = ET.parse(urdf).getroot()
    except ET.ParseError as exc:
        raise ObjectMeshError(urdf, f"not a valid URDF file: {exc}") from exc
    meshes = [m for tag in ("collision", "visual") for e in root.iter(tag) for m in e.iter("mesh")]
    if not meshes or not meshes[0].get("filename"):
        raise ObjectMeshError(urdf, "no <mesh filename=...> element found")
    filename = meshes[0].get("filename").removeprefix("package://")
    for base in (urdf.parent, urdf.parent.parent):
        for candidate in (base / filename, base / Path(filename).name, base / urdf.stem / Path(filename).name):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(f"{urdf}: mesh '{filename}' not found next to the URDF")


@lru_cache(maxsize=64)
def _load_mesh_file(path: str) -> tuple[np.ndarray, np.ndarray]:
    import trimesh

    try:
        mesh = trimesh.load(path, force="mesh", process=False)
    except Exception as exc:
        raise ObjectMeshError(path, f"cannot read mesh: {exc}") from exc
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    faces = np.asarray(mesh.faces, dtype=np.int64)
    if len(vertices) == 0 or len(faces) == 0:
        raise ObjectMeshError(path, _empty_mesh_reason(path))
    return vertices - vertices.mean(axis=0), faces


class ObjectRegistry:
    """Resolves object names to meshes from an objects folder (plus the built-in demo box)."""

    def __init__(self, objects_dir: str | Path | None = None):
        self.objects_dir = Path(objects_dir).expanduser() if objects_dir else None
        if self.objects_dir is not None and not self.objects_dir.is_dir():
            raise FileNotFoundError(f"objects folder not found: {self.objects_dir}")

    def names(self) -> list[str]:
        found = {DEMO_OBJECT_NAME}
        if self.objects_dir is not None:
            for p in self.objects_dir.iterdir():
                if p.is_dir() and any((p / f"{p.name}{s}").is_file() for s in MESH_SUFFIXES):
                    found.add(p.name)
                elif p.suffix == ".urdf" or p.suffix in MESH_SUFFIXES:
                    found.add(p.stem)
        return sorted(found)

    def mesh_path(self, name: str) -> Path:
        if self.objects_dir is None:
            raise KeyError(f"unknown object '{name}': no objects folder given (known: {self.names()})")
        for suffix in MESH_SUFFIXES:
            for candidate in (self.objects_dir / name / f"{name}{suffix}", self.objects_dir / f"{name}{suffix}"):
                if candidate.is_file():
                    return candidate
        urdf = self.objects_dir / f"{name}.urdf"
        if urdf.is_file():
            return _mesh_from_urdf(urdf)
        raise KeyError(f"unknown object '{name}': no mesh or URDF for it in {self.objects_dir} (known: {self.names()})")

    def mesh(self, name: str) -> ObjectMesh:
        if name == DEMO_OBJECT_NAME:
            v, f = box_mesh(DEMO_BOX_HALF_SIZE)
            return ObjectMesh(name, v, f, "builtin")
        path = self.mesh_path(name)
        v, f = _load_mesh_file(str(path))
        return ObjectMesh(name, v, f, str(path))

    def mesh_problem(self, name: str) -> str | None:
        """None when the mesh of a known object reads, else one line naming the file and what is wrong."""
        try:
            self.mesh(name)
        except (ObjectMeshError, FileNotFoundError) as exc:
            return str(exc)
        return None

    def mesh_problems(self, names) -> dict[str, str]:
        """:meth:`mesh_problem` of each known object in ``names`` that has one (unknown names are left out)."""
        known = set(self.names())
        problems = {n: self.mesh_problem(n) for n in sorted(set(names) & known)}
        return {n: p for n, p in problems.items() if p}

    def surface_points(self, name: str) -> torch.Tensor:
        return self.mesh(name).surface_points()

    def physics(self, name: str, density: float = DEFAULT_DENSITY) -> ObjectPhysicsCfg:
        """Physical properties of an object: the defaults at ``density``, with the thin-walled rest
        offset for the objects in :data:`THIN_WALLED_OBJECTS`."""
        if name in THIN_WALLED_OBJECTS:
            return ObjectPhysicsCfg.thin_walled(density=density)
        return ObjectPhysicsCfg(density=density)

    def asset(self, name: str, physics=None, decomposition=None, visual: bool = True, num_collision_shapes=None):
        """The spawnable :class:`~intermimic.assets.objects.ObjectAsset` of an object (built once,
        cached); ``physics`` defaults to :meth:`physics` of the object."""
        physics = physics or self.physics(name)
        mesh = self.mesh(name)
        usd_path, parts, points = object_usd(
            mesh, physics, decomposition or DecompositionCfg(), visual, num_collision_shapes
        )
        return ObjectAsset(name, usd_path, points, parts, physics)

    def assets(self, names, physics=None, decomposition=None, visual: bool = True) -> list:
        """Assets of several objects (in the given order) sharing one collider count, for one scene.

        ``physics`` is one :class:`~intermimic.assets.objects.ObjectPhysicsCfg` for all objects
        or a dict of them by object name (objects not in it get :meth:`physics`).
        """
        decomposition = decomposition or DecompositionCfg()
        per_name = physics if isinstance(physics, dict) else {n: physics for n in names}
        count = max(len(decompose(self.mesh(n), decomposition)) for n in names)
        return [self.asset(n, per_name.get(n) or self.physics(n), decomposition, visual, count) for n in names]

"""Interactive objects: mesh -> convex decomposition -> one dynamic rigid body as a USD file.

The pipeline for an object named in a clip file:

1. :class:`~intermimic.assets.object_registry.ObjectRegistry` finds its mesh (centred, the
   frame of the clips' object poses) and its surface sample points.
2. :func:`decompose` splits the mesh into convex parts with ``coacd`` (at most 64 hulls of at
   most 64 vertices by default). This takes seconds to minutes on large meshes, so the result
   is cached by a hash of the mesh and the parameters.
3. :func:`object_usd` writes a USD file holding one rigid body whose colliders are the convex
   parts (each with the ``convexHull`` approximation, which every backend supports; asking the
   simulator for a decomposition instead would redo it at every scene build), the physical properties of
   :class:`ObjectPhysicsCfg`, the original mesh as a visual, and the surface sample points.
   Also cached by content hash.

Spawning (one object per environment, possibly different objects in different environments)
lives in :mod:`intermimic.assets.object_scene`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .cache import cached_dir, content_hash
from .object_mesh import ObjectMesh
from .physx_settings import CONTACT_OFFSET

logger = logging.getLogger(__name__)

DEFAULT_DENSITY = 1000.0
"""Object density (kg/m^3) of the high-fidelity setting."""
LEGACY_DENSITY = 200.0
"""Object density (kg/m^3) of the release's older setting."""
DEFAULT_REST_OFFSET = 0.002
THIN_WALLED_REST_OFFSET = 0.015
"""Rest offset (m) for thin-walled objects, whose hulls would otherwise interpenetrate."""

ROOT_PRIM = "/Object"
COLLISION_SCOPE = "collisions"
PARTS_GROUP = "convex_parts"
PADDING_GROUP = "inert_padding"
SURFACE_POINTS_ATTR = "intermimic:surfacePoints"
OBJECT_NAME_ATTR = "intermimic:objectName"
_USD_FORMAT = "object-usd-v2"
_DECOMPOSITION_FORMAT = "coacd-v2"


@dataclass(frozen=True)
class DecompositionCfg:
    """Convex decomposition parameters (``coacd``)."""

    max_hulls: int = 64
    """Upper bound on the number of convex parts."""
    max_hull_vertices: int = 64
    """Upper bound on the vertices of each part."""
    threshold: float = 0.05
    """Concavity threshold: smaller values give more, tighter parts."""
    seed: int = 0


@dataclass(frozen=True)
class ObjectPhysicsCfg:
    """Physical properties of an object rigid body (docs/method.md §2)."""

    density: float = DEFAULT_DENSITY
    friction: float = 0.6
    """Static and dynamic friction coefficient."""
    restitution: float = 0.05
    rest_offset: float = DEFAULT_REST_OFFSET
    """Separation at rest (m); Newton reads it as the shape margin."""
    contact_offset: float = CONTACT_OFFSET
    """Distance (m) at which contacts start being generated; must exceed ``rest_offset``."""
    linear_damping: float = 0.01
    angular_damping: float = 0.01

    def __post_init__(self):
        if self.density <= 0:
            raise ValueError(f"ObjectPhysicsCfg.density must be positive, got {self.density}")
        if self.contact_offset <= self.rest_offset:
            raise ValueError(
                f"ObjectPhysicsCfg.contact_offset ({self.contact_offset}) must exceed rest_offset ({self.rest_offset})"
            )

    @classmethod
    def thin_walled(cls, **kwargs) -> ObjectPhysicsCfg:
        kwargs.setdefault("rest_offset", THIN_WALLED_REST_OFFSET)
        kwargs.setdefault("contact_offset", CONTACT_OFFSET)  # the release's, for every shape
        return cls(**kwargs)


@dataclass(frozen=True)
class ConvexPart:
    vertices: np.ndarray  # [V, 3]
    faces: np.ndarray  # [F, 3], outward-facing

    def volume(self) -> float:
        tri = self.vertices[self.faces]
        return float(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6.0)


@dataclass(frozen=True)
class ObjectAsset:
    """A spawnable object: its USD file and the data observations and rewards need."""

    name: str
    usd_path: Path
    surface_points: torch.Tensor  # [P, 3], object frame
    parts: tuple[ConvexPart, ...] = field(repr=False)
    physics: ObjectPhysicsCfg = ObjectPhysicsCfg()

    @property
    def collision_volume(self) -> float:
        """Sum of the convex parts' volumes (m^3): the volume the simulator's mass comes from."""
        return sum(p.volume() for p in self.parts)

    @property
    def expected_mass(self) -> float:
        return self.collision_volume * self.physics.density


# ---------------------------------------------------------------------------------------
# Convex decomposition
# ---------------------------------------------------------------------------------------


def _mesh_key(mesh: ObjectMesh) -> str:
    return content_hash(
        np.ascontiguousarray(mesh.vertices, dtype=np.float64).tobytes(),
        np.ascontiguousarray(mesh.faces, dtype=np.int64).tobytes(),
    )


def outward_faces(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Flip a closed convex part's triangles so that they face away from its centroid."""
    centre = vertices.mean(axis=0)
    tri = vertices[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    inward = np.einsum("ij,ij->i", normal, tri.mean(axis=1) - centre) < 0
    faces = faces.copy()
    faces[inward] = faces[inward][:, ::-1]
    return faces


def _run_coacd(mesh: ObjectMesh, cfg: DecompositionCfg) -> list[ConvexPart]:
    import coacd

    import trimesh

    coacd.set_log_level("error")
    # merge repeated vertices (STL files are triangle soups): coacd remeshes any mesh it does
    # not find manifold on a voxel grid, which inflates it by about a voxel
    merged = trimesh.Trimesh(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces), process=True)
    parts = coacd.run_coacd(
        coacd.Mesh(np.asarray(merged.vertices, dtype=np.float64), np.asarray(merged.faces, dtype=np.int32)),
        threshold=cfg.threshold,
        max_convex_hull=cfg.max_hulls,
        max_ch_vertex=cfg.max_hull_vertices,
        decimate=True,
        seed=cfg.seed,
    )
    out = []
    for v, f in parts:
        v, f = np.asarray(v, dtype=np.float64), np.asarray(f, dtype=np.int64)
        if len(v) >= 4 and len(f) >= 4:
            out.append(ConvexPart(v, outward_faces(v, f)))
    if not out:
        raise RuntimeError(f"convex decomposition of object '{mesh.name}' ({mesh.source}) produced no parts")
    return out


def decompose(mesh: ObjectMesh, cfg: DecompositionCfg = DecompositionCfg()) -> tuple[ConvexPart, ...]:
    """Convex parts of an object mesh, computed once and cached by content hash."""
    key = content_hash(_DECOMPOSITION_FORMAT, _mesh_key(mesh), json.dumps(asdict(cfg), sort_keys=True))

    def build(out: Path) -> None:
        logger.warning(
            "Convex decomposition of object '%s' (%d vertices, %d triangles; up to %d hulls x %d vertices): "
            "this runs once and is cached.",
            mesh.name, len(mesh.vertices), len(mesh.faces), cfg.max_hulls, cfg.max_hull_vertices,
        )  # fmt: skip
        start = time.perf_counter()
        parts = _run_coacd(mesh, cfg)
        arrays = {f"v{i}": p.vertices for i, p in enumerate(parts)} | {f"f{i}": p.faces for i, p in enumerate(parts)}
        np.savez(out / "parts.npz", **arrays)
        seconds = time.perf_counter() - start
        info = {"object": mesh.name, "source": mesh.source, "parts": len(parts), "seconds": round(seconds, 2)}
        (out / "info.json").write_text(json.dumps(info | {"cfg": asdict(cfg)}, indent=1))
        logger.warning("Decomposed '%s' into %d convex parts in %.1f s.", mesh.name, len(parts), seconds)

    folder = cached_dir("convex", key, build)
    with np.load(folder / "parts.npz") as data:
        n = len(data.files) // 2
        return tuple(ConvexPart(data[f"v{i}"], data[f"f{i}"]) for i in range(n))


# ---------------------------------------------------------------------------------------
# USD authoring
# ---------------------------------------------------------------------------------------


def _define_mesh(stage, path: str, vertices: np.ndarray, faces: np.ndarray):
    from pxr import UsdGeom, Vt

    mesh = UsdGeom.Mesh.Define(stage, path)
    mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(np.asarray(vertices, dtype=np.float32)))
    mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(faces), 3, dtype=np.int32)))
    mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(np.asarray(faces, dtype=np.int32).reshape(-1)))
    mesh.CreateSubdivisionSchemeAttr("none")
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    mesh.CreateExtentAttr([tuple(map(float, lo)), tuple(map(float, hi))])
    return mesh


_PAD_VERTICES = 1e-3 * np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
_PAD_FACES = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], dtype=np.int64)


def _write_object_usd(
    path: Path,
    mesh: ObjectMesh,
    parts: tuple[ConvexPart, ...],
    points: np.ndarray,
    physics: ObjectPhysicsCfg,
    visual: bool,
    num_collision_shapes: int,
) -> None:
    from pxr import Gf, Sdf, Usd, UsdGeom, UsdPhysics, UsdShade, Vt

    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    UsdPhysics.SetStageKilogramsPerUnit(stage, 1.0)

    root = UsdGeom.Xform.Define(stage, ROOT_PRIM).GetPrim()
    stage.SetDefaultPrim(root)
    UsdPhysics.RigidBodyAPI.Apply(root)
    UsdPhysics.MassAPI.Apply(root).CreateDensityAttr(float(physics.density))
    root.AddAppliedSchema("PhysxRigidBodyAPI")
    root.CreateAttribute("physxRigidBody:linearDamping", Sdf.ValueTypeNames.Float).Set(physics.linear_damping)
    root.CreateAttribute("physxRigidBody:angularDamping", Sdf.ValueTypeNames.Float).Set(physics.angular_damping)
    root.CreateAttribute(OBJECT_NAME_ATTR, Sdf.ValueTypeNames.String).Set(mesh.name)
    root.CreateAttribute(SURFACE_POINTS_ATTR, Sdf.ValueTypeNames.Float3Array).Set(
        Vt.Vec3fArray.FromNumpy(np.asarray(points, dtype=np.float32))
    )

    material = UsdShade.Material.Define(stage, f"{ROOT_PRIM}/physics_material")
    mat_api = UsdPhysics.MaterialAPI.Apply(material.GetPrim())
    mat_api.CreateStaticFrictionAttr(float(physics.friction))
    mat_api.CreateDynamicFrictionAttr(float(physics.friction))
    mat_api.CreateRestitutionAttr(float(physics.restitution))

    UsdGeom.Scope.Define(stage, f"{ROOT_PRIM}/{COLLISION_SCOPE}")
    for i, part in enumerate(parts):
        hull = _define_mesh(stage, f"{ROOT_PRIM}/{COLLISION_SCOPE}/hull_{i:03d}", part.vertices, part.faces)
        prim = hull.GetPrim()
        hull.CreatePurposeAttr(UsdGeom.Tokens.guide)
        UsdPhysics.CollisionAPI.Apply(prim)
        UsdPhysics.MeshCollisionAPI.Apply(prim).CreateApproximationAttr(UsdPhysics.Tokens.convexHull)
        prim.AddAppliedSchema("PhysxCollisionAPI")
        prim.CreateAttribute("physxCollision:restOffset", Sdf.ValueTypeNames.Float).Set(physics.rest_offset)
        prim.CreateAttribute("physxCollision:contactOffset", Sdf.ValueTypeNames.Float).Set(physics.contact_offset)
        binding = UsdShade.MaterialBindingAPI.Apply(prim)
        binding.Bind(material, UsdShade.Tokens.weakerThanDescendants, "physics")

    # Padding: MuJoCo Warp batches environments as copies of one model, so every environment
    # must hold the same number of shapes of the same types. Objects with fewer convex parts get
    # inert convex parts up to the common count: a 1 mm tetrahedron (~1e-7 kg) hidden at the
    # centroid of the largest part, in a collision group of its own. Newton numbers the groups
    # of one file 1, 2, ... in the order it meets their shapes (the parts come first, so they get
    # group 1, the default group of everything else) and lets a positive group collide only with
    # itself, so the padding touches nothing.
    if num_collision_shapes > len(parts):
        parts_group = UsdPhysics.CollisionGroup.Define(stage, f"{ROOT_PRIM}/{PARTS_GROUP}")
        for i in range(len(parts)):
            parts_group.GetCollidersCollectionAPI().CreateIncludesRel().AddTarget(
                f"{ROOT_PRIM}/{COLLISION_SCOPE}/hull_{i:03d}"
            )
        group = UsdPhysics.CollisionGroup.Define(stage, f"{ROOT_PRIM}/{PADDING_GROUP}")
        largest = max(parts, key=ConvexPart.volume)
        centre = largest.vertices[largest.faces].mean(axis=(0, 1))
        for i in range(len(parts), num_collision_shapes):
            pad = _define_mesh(
                stage, f"{ROOT_PRIM}/{COLLISION_SCOPE}/pad_{i:03d}", centre + _PAD_VERTICES, _PAD_FACES
            )
            prim = pad.GetPrim()
            pad.CreatePurposeAttr(UsdGeom.Tokens.guide)
            UsdPhysics.CollisionAPI.Apply(prim)
            UsdPhysics.MeshCollisionAPI.Apply(prim).CreateApproximationAttr(UsdPhysics.Tokens.convexHull)
            group.GetCollidersCollectionAPI().CreateIncludesRel().AddTarget(prim.GetPath())

    if visual:
        vis = _define_mesh(stage, f"{ROOT_PRIM}/visual", mesh.vertices, mesh.faces)
        vis.CreateDisplayColorAttr([Gf.Vec3f(0.7, 0.8, 0.9)])
    stage.GetRootLayer().Save()


def object_usd(
    mesh: ObjectMesh,
    physics: ObjectPhysicsCfg = ObjectPhysicsCfg(),
    decomposition: DecompositionCfg = DecompositionCfg(),
    visual: bool = True,
    num_collision_shapes: int | None = None,
) -> tuple[Path, tuple[ConvexPart, ...], torch.Tensor]:
    """USD file of an object rigid body, with its convex parts and surface points.

    ``num_collision_shapes`` pads the collider count with inert shapes, so that all objects of
    a scene have the same count (see :meth:`ObjectRegistry.assets`); by default it is the
    number of convex parts.
    """
    parts = decompose(mesh, decomposition)
    points = mesh.surface_points()
    num_shapes = len(parts) if num_collision_shapes is None else int(num_collision_shapes)
    if num_shapes < len(parts):
        raise ValueError(
            f"object '{mesh.name}': num_collision_shapes={num_shapes} is less than its {len(parts)} convex parts"
        )
    key = content_hash(
        _USD_FORMAT,
        mesh.name,
        _mesh_key(mesh),
        json.dumps(asdict(decomposition), sort_keys=True),
        json.dumps(asdict(physics), sort_keys=True),
        str(visual),
        str(num_shapes),
        points.numpy().tobytes(),
    )

    def build(out: Path) -> None:
        _write_object_usd(out / f"{mesh.name}.usda", mesh, parts, points.numpy(), physics, visual, num_shapes)
        np.save(out / "surface_points.npy", points.numpy())

    folder = cached_dir("objects", key, build)
    return folder / f"{mesh.name}.usda", parts, points


def read_surface_points(usd_path: str | Path) -> torch.Tensor:
    """The surface sample points stored in an object USD file (object frame)."""
    from pxr import Usd

    stage = Usd.Stage.Open(str(usd_path))
    prim = stage.GetDefaultPrim()
    attr = prim.GetAttribute(SURFACE_POINTS_ATTR) if prim else None
    if attr is None or not attr.IsValid():
        raise ValueError(f"{usd_path}: no '{SURFACE_POINTS_ATTR}' attribute on the default prim")
    return torch.from_numpy(np.asarray(attr.Get(), dtype=np.float32))

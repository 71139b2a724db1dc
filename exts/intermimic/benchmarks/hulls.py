"""How closely the objects' collision hulls follow their meshes (``./intermimic.sh benchmark hulls``).

For every object of an objects folder (or the built-in demo box) it decomposes the mesh as the
tasks do (:func:`~intermimic.assets.objects.decompose`, CoACD) and prints per object: the parts,
how far the hulls' surface lies from the mesh (points spread evenly over the hulls' surface; their
unsigned distance to the mesh: median, 90th percentile, largest), how far the mesh lies from the
hulls (the mesh's surface sample points outside every hull: largest distance), the hulls' volume
and the mass it gives at the high-fidelity and the legacy density. The simulated contact surface
and mass come from the hulls, so these say how much of the object the simulator sees.

``--vhacd`` adds the same numbers for V-HACD 4 (``pip install vhacdx``) with the release's
parameters (resolution 300000, at most 64 hulls of 64 vertices). The release's Isaac Gym ran an
older V-HACD whose hulls cannot be rebuilt here; V-HACD 4 shows how far such a decomposition can
stray from the mesh.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from ..utils.atomic_write import atomic_write_text
from ..utils.errors import UserError

HELP = "collision hulls against their meshes: hull-to-mesh distance, volume, mass per object"
"""One line for ``benchmark hulls``."""
SAMPLES = 4000
"""Points spread over the hulls' surface per object."""
RELEASE_VHACD = {"resolution": 300000, "maxConvexHulls": 64, "maxNumVerticesPerCH": 64}


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--objects_dir", default=None, metavar="DIR",
                   help="folder of object meshes (default: the built-in demo box only)")  # fmt: skip
    p.add_argument("--objects", nargs="+", default=None, metavar="NAME", help="objects to measure (default: all)")
    p.add_argument("--vhacd", action="store_true", help="also V-HACD 4 with the release's parameters (needs vhacdx)")
    p.add_argument("--json", default=None, metavar="FILE", help="also write every number to FILE (JSON)")


def hull_mesh_distances(parts, mesh, samples: int = SAMPLES, seed: int = 0) -> dict:
    """Distances between the convex ``parts`` and ``mesh`` (an :class:`~intermimic.assets.object_mesh.ObjectMesh`), in cm."""
    import trimesh
    from trimesh.proximity import signed_distance

    surface = trimesh.Trimesh(mesh.vertices, mesh.faces, process=False)
    hulls = [trimesh.Trimesh(p.vertices, p.faces, process=False) for p in parts]
    areas = np.array([h.area for h in hulls])
    counts = np.maximum(1, np.round(samples * areas / areas.sum()).astype(int))
    points = np.concatenate([trimesh.sample.sample_surface_even(h, n, seed=seed)[0] if n > 3
                             else h.vertices[:n] for h, n in zip(hulls, counts)])  # fmt: skip
    _, bulge, _ = trimesh.proximity.closest_point(surface, points)
    mesh_points = mesh.surface_points().numpy().astype(np.float64)
    outside = np.full(len(mesh_points), np.inf)
    for h in hulls:
        outside = np.minimum(outside, np.maximum(0.0, -signed_distance(h, mesh_points)))
    volume = float(sum(p.volume() for p in parts))
    return {
        "parts": len(parts),
        "hull_to_mesh_median_cm": 100 * float(np.median(bulge)),
        "hull_to_mesh_p90_cm": 100 * float(np.percentile(bulge, 90)),
        "hull_to_mesh_max_cm": 100 * float(bulge.max()),
        "mesh_outside_hulls_max_cm": 100 * float(outside.max()),
        "volume_l": 1000 * volume,
    }


def vhacd_parts(mesh):
    """V-HACD 4 parts of ``mesh`` with the release's parameters."""
    try:
        import vhacdx
    except ImportError as exc:
        raise UserError("--vhacd needs V-HACD 4's Python binding: .venv/bin/pip install vhacdx") from exc
    from ..assets.objects import ConvexPart, outward_faces

    hulls = vhacdx.compute_vhacd(np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces, np.uint32), **RELEASE_VHACD)
    parts = []
    for vertices, faces in hulls:
        vertices = np.asarray(vertices, np.float64)
        parts.append(ConvexPart(vertices, outward_faces(vertices, np.asarray(faces, np.int64).reshape(-1, 3))))
    return tuple(parts)


def run(args, overrides: list[str]) -> int:
    from ..assets.object_registry import ObjectRegistry
    from ..assets.objects import DEFAULT_DENSITY, LEGACY_DENSITY, DecompositionCfg, decompose

    registry = ObjectRegistry(args.objects_dir)
    names = args.objects or registry.names()
    unknown = sorted(set(names) - set(registry.names()))
    if unknown:
        raise UserError(f"--objects: unknown {unknown}; {args.objects_dir or 'the built-in objects'} has {registry.names()}")
    methods = {"coacd": lambda m: decompose(m, DecompositionCfg())}
    if args.vhacd:
        methods["vhacd4"] = vhacd_parts
    rows = []
    for name in names:
        mesh = registry.mesh(name)
        for method, make in methods.items():
            start = time.perf_counter()
            parts = make(mesh)
            row = {"object": name, "method": method, **hull_mesh_distances(parts, mesh),
                   "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
            row["mass_kg"] = {str(int(d)): row["volume_l"] / 1000 * d for d in (DEFAULT_DENSITY, LEGACY_DENSITY)}
            rows.append(row)
    print(format_table(rows))
    if args.json:
        atomic_write_text(args.json, json.dumps(rows, indent=2))
        print(f"numbers written to {args.json}")
    return 0


def format_table(rows: list[dict]) -> str:
    head = ("| object | decomposition | parts | hull to mesh, median / p90 / max (cm) | mesh outside hulls, max (cm) "
            "| volume (l) | mass at 1000 / 200 kg/m^3 (kg) |")  # fmt: skip
    lines = [head, "|---|---|---|---|---|---|---|"]
    for r in rows:
        mass = r["mass_kg"]
        lines.append(f"| {r['object']} | {r['method']} | {r['parts']} | {r['hull_to_mesh_median_cm']:.2f} / "
                     f"{r['hull_to_mesh_p90_cm']:.2f} / {r['hull_to_mesh_max_cm']:.2f} | {r['mesh_outside_hulls_max_cm']:.2f} "
                     f"| {r['volume_l']:.2f} | {mass['1000']:.2f} / {mass['200']:.2f} |")  # fmt: skip
    return "\n".join(lines)

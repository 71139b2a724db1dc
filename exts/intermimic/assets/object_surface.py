"""Approximate signed distance to an object's surface, fast enough for every frame of a clip.

The released object meshes are triangle soups (hundreds of separate pieces, some facing
inwards), so neither ray parity nor face winding tells inside from outside. Here:

* the surface is sampled densely (about 2 mm apart) and put in a k-d tree: a point's distance is
  its distance to the nearest sample (exact to about the sample spacing);
* a voxel grid (:data:`VOXEL` m) marks the voxels the surface passes through (grown by one voxel
  to close small gaps) and flood-fills the outside from the grid's border: voxels neither
  outside nor on the surface are inside;
* each sample's face normal is turned to point to the outside (the side whose probe voxel is
  outside), and points in the surface band take the sign of their offset along the normals of
  their nearest samples (median of :data:`SIGN_NEIGHBOURS`).

Negative distances are inside. Walls thinner than about one voxel cannot be told apart.
"""

from __future__ import annotations

import numpy as np

from ..utils import quat_np

SAMPLES_PER_M2 = 200_000
MIN_SAMPLES, MAX_SAMPLES = 20_000, 400_000
VOXEL = 0.004
SIGN_NEIGHBOURS = 8
MAX_VOXELS = 40_000_000


class ObjectSurface:
    """Signed distance to a triangle mesh (object frame: the centred mesh of :class:`ObjectMesh`)."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray, seed: int = 0):
        from scipy.spatial import cKDTree

        v = np.asarray(vertices, dtype=np.float64)
        f = np.asarray(faces, dtype=np.int64)
        a, b, c = v[f[:, 0]], v[f[:, 1]], v[f[:, 2]]
        cross = np.cross(b - a, c - a)
        area2 = np.linalg.norm(cross, axis=-1)
        keep = area2 > 1e-14
        if not keep.any():
            raise ValueError("object mesh has no triangles with area")
        a, b, c, cross, area2 = a[keep], b[keep], c[keep], cross[keep], area2[keep]
        total = 0.5 * float(area2.sum())
        n = int(np.clip(total * SAMPLES_PER_M2, MIN_SAMPLES, MAX_SAMPLES))
        rng = np.random.default_rng(seed)
        tri = rng.choice(len(a), size=n, p=area2 / area2.sum())
        r1, r2 = rng.random(n), rng.random(n)
        flip = r1 + r2 > 1
        r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
        self.points = a[tri] + r1[:, None] * (b[tri] - a[tri]) + r2[:, None] * (c[tri] - a[tri])
        self.normals = (cross / area2[:, None])[tri]
        self.spacing = float(np.sqrt(total / n))
        self.tree = cKDTree(self.points)
        self._build_grid()
        self._orient_normals()

    @classmethod
    def from_mesh(cls, mesh) -> ObjectSurface:
        """From an :class:`~intermimic.assets.object_mesh.ObjectMesh`."""
        return cls(mesh.vertices, mesh.faces)

    # ---------------------------------------------------------------------------------------------
    def _build_grid(self) -> None:
        from scipy import ndimage

        voxel = VOXEL
        lo = self.points.min(axis=0) - 3 * voxel
        hi = self.points.max(axis=0) + 3 * voxel
        while np.prod(np.ceil((hi - lo) / voxel)) > MAX_VOXELS:
            voxel *= 1.5
        shape = tuple(int(s) for s in np.ceil((hi - lo) / voxel) + 1)
        surface = np.zeros(shape, dtype=bool)
        idx = np.floor((self.points - lo) / voxel).astype(np.int64)
        surface[idx[:, 0], idx[:, 1], idx[:, 2]] = True
        surface = ndimage.binary_dilation(surface, iterations=1)
        labels, _ = ndimage.label(~surface)
        self.outside = labels == labels[0, 0, 0]
        self.band = surface
        self.origin, self.voxel, self.shape = lo, voxel, np.array(shape)

    def _cells(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Voxel index of each point, and whether it lies in the grid."""
        idx = np.floor((p - self.origin) / self.voxel).astype(np.int64)
        in_grid = np.all((idx >= 0) & (idx < self.shape), axis=1)
        return np.clip(idx, 0, self.shape - 1), in_grid

    def _is_outside(self, p: np.ndarray) -> np.ndarray:
        idx, in_grid = self._cells(p)
        return ~in_grid | self.outside[idx[:, 0], idx[:, 1], idx[:, 2]]

    def _orient_normals(self) -> None:
        probe = 2.0 * self.voxel
        ahead = self._is_outside(self.points + probe * self.normals)
        behind = self._is_outside(self.points - probe * self.normals)
        self.normals[behind & ~ahead] *= -1.0

    # ---------------------------------------------------------------------------------------------
    def signed_distance(self, points: np.ndarray, with_normal: bool = False):
        """``[N, 3]`` object-frame points -> ``[N]`` signed distances (m, negative inside), and
        with ``with_normal`` the outward unit normal ``[N, 3]`` at the nearest surface sample."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        dist, nearest = self.tree.query(p)
        cells, in_grid = self._cells(p)
        outside = ~in_grid | self.outside[cells[:, 0], cells[:, 1], cells[:, 2]]
        band = in_grid & self.band[cells[:, 0], cells[:, 1], cells[:, 2]]
        sign = np.where(outside, 1.0, -1.0)
        if band.any():  # near the surface: the side of the nearest samples' outward normals
            _, idx = self.tree.query(p[band], k=SIGN_NEIGHBOURS)
            along = np.einsum("nkj,nkj->nk", p[band][:, None] - self.points[idx], self.normals[idx])
            sign[band] = np.where(np.median(along, axis=1) < 0.0, -1.0, 1.0)
        d = sign * dist
        return (d, self.normals[nearest]) if with_normal else d

    def depth(self, points: np.ndarray) -> np.ndarray:
        """``[N, 3]`` object-frame points -> ``[N]`` depth inside the object (m, 0 outside). Points in
        outside voxels are answered from the grid alone (most of a clip's hand points)."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        out = np.zeros(len(p))
        cells, in_grid = self._cells(p)
        candidate = in_grid & ~self.outside[cells[:, 0], cells[:, 1], cells[:, 2]]
        if candidate.any():
            out[candidate] = np.clip(-self.signed_distance(p[candidate]), 0.0, None)
        return out

    @staticmethod
    def to_object_frame(points: np.ndarray, obj_pos: np.ndarray, obj_quat_xyzw: np.ndarray) -> np.ndarray:
        """World points ``[T, P, 3]`` -> the object's frame at its pose per frame (pos ``[T, 3]``, quat xyzw)."""
        R = quat_np.to_matrix(np.asarray(obj_quat_xyzw, dtype=np.float64))
        return np.einsum("tji,tpj->tpi", R, np.asarray(points, dtype=np.float64) - np.asarray(obj_pos)[:, None])

    def signed_distance_world(self, points: np.ndarray, obj_pos: np.ndarray, obj_quat_xyzw: np.ndarray) -> np.ndarray:
        """``points`` ``[T, P, 3]`` in the world, object pose per frame -> ``[T, P]`` signed distances."""
        local = self.to_object_frame(points, obj_pos, obj_quat_xyzw)
        return self.signed_distance(local.reshape(-1, 3)).reshape(local.shape[:2])

    def depth_world(self, points: np.ndarray, obj_pos: np.ndarray, obj_quat_xyzw: np.ndarray) -> np.ndarray:
        """``points`` ``[T, P, 3]`` in the world, object pose per frame -> ``[T, P]`` depths inside."""
        local = self.to_object_frame(points, obj_pos, obj_quat_xyzw)
        return self.depth(local.reshape(-1, 3)).reshape(local.shape[:2])

"""Contact labels of converted clips, from distances between body surfaces and the object.

docs/method.md §1 defines the labels (+1 promote, 0 neutral, -1 penalize) but not how to
derive them; the rule used here, from each body part's distance to the object surface:

* ``d <= CONTACT_DISTANCE`` (2 cm): +1, the body part touches the object;
* ``d >= PENALIZE_DISTANCE`` (10 cm): -1, it is clearly away and should stay away;
* in between: 0, no preference (near misses and grazing);
* ankles and toes are always 0: they stand on the ground, and contact sensing does not tell
  the ground from the object, so rewarding or penalizing their contact would be wrong.

The object counts as manipulated in a frame when a hand body (wrist or finger) is labelled +1.
"""

from __future__ import annotations

import torch

from ...assets import humanoid_spec as spec

CONTACT_DISTANCE = 0.02
PENALIZE_DISTANCE = 0.10
NEUTRAL_BODIES = ("L_Ankle", "L_Toe", "R_Ankle", "R_Toe")


def labels_from_distances(
    distance: torch.Tensor, contact: float = CONTACT_DISTANCE, penalize: float = PENALIZE_DISTANCE
) -> torch.Tensor:
    """``[T, 52]`` body-to-object distances (m) -> ``[T, 52]`` labels in {-1, 0, +1}."""
    if distance.shape[-1] != spec.NUM_BODIES:
        raise ValueError(f"expected distances for {spec.NUM_BODIES} bodies, got {distance.shape[-1]}")
    if not contact < penalize:
        raise ValueError(f"contact distance {contact} must be below the penalize distance {penalize}")
    labels = torch.zeros_like(distance)
    labels[distance >= penalize] = -1.0
    labels[distance <= contact] = 1.0
    labels[..., spec.body_indices(NEUTRAL_BODIES)] = 0.0
    return labels


def manipulated_from_labels(labels: torch.Tensor) -> torch.Tensor:
    """``[T]`` 1 where any hand body is labelled +1, else 0."""
    hands = spec.HAND_BODY_IDS["L"] + spec.HAND_BODY_IDS["R"]
    return (labels[..., hands] > 0).any(dim=-1).to(labels.dtype)


def body_distances(
    vertices: torch.Tensor, vertex_body: torch.Tensor, obj_pos: torch.Tensor, obj_quat: torch.Tensor,
    surface_points: torch.Tensor,
) -> torch.Tensor:  # fmt: skip
    """Distance from each body part's skin to the object surface, per frame.

    Args:
        vertices: ``[T, V, 3]`` body mesh vertices, world frame.
        vertex_body: ``[V]`` body index (0-51) of each vertex.
        obj_pos, obj_quat: ``[T, 3]``/``[T, 4]`` object pose (xyzw).
        surface_points: ``[P, 3]`` dense samples of the object surface, object frame.
    Returns:
        ``[T, 52]`` the smallest vertex-to-surface distance of each body (inf for a body
        without vertices).
    """
    from scipy.spatial import cKDTree

    from ...utils import rotations as rot

    tree = cKDTree(surface_points.double().cpu().numpy())
    local = rot.rotate_inverse(obj_quat[:, None, :].double(), vertices.double() - obj_pos[:, None, :].double())
    d, _ = tree.query(local.reshape(-1, 3).cpu().numpy(), k=1, workers=-1)
    d = torch.from_numpy(d).reshape(vertices.shape[:2]).to(torch.float32)  # [T, V]
    out = torch.full((vertices.shape[0], spec.NUM_BODIES), float("inf"))
    index = vertex_body.long().cpu()[None].expand_as(d)
    return out.scatter_reduce(1, index, d, reduce="amin", include_self=True)


# -------------------------------------------------------------------------------------------------
# InterAct's rule (``convert --contact-rule interact``, the default of ``--format interact``)
# -------------------------------------------------------------------------------------------------
INTERACT_COMMIT = "0e74c3f"
"""The InterAct commit (``simulation/interact2mimic.py``, 2026-05-24) whose rule this follows."""
INTERACT_VERTEX_POINTS = 8192
"""Mesh vertices InterAct measures distances to (all of them when the mesh has fewer)."""
INTERACT_SURFACE_POINTS = 8192
"""Points spread evenly over the mesh's surface that InterAct adds to them."""
INTERACT_CONTACT = 0.02
INTERACT_MARGIN = 0.005
INTERACT_IDLE_THRESHOLD = 0.01
INTERACT_FAR = 0.10
INTERACT_OFF_GROUND = 0.10
INTERACT_STILL_FOOT = 0.02
INTERACT_FALL_TOLERANCE = 6.0
GRAVITY = 9.8
FEET = {"L": ("L_Ankle", "L_Toe"), "R": ("R_Ankle", "R_Toe")}
_GOLDEN = (5**0.5 - 1) / 2


def spread_vertices(vertices, count: int = INTERACT_VERTEX_POINTS):
    """``count`` of a mesh's (finite) vertices, evenly spaced along their order sorted by x, then
    y, then z (every vertex when there are no more than ``count``): corners and thin parts keep
    points whatever the file's vertex order."""
    import numpy as np

    v = np.asarray(vertices, dtype=np.float64)
    v = v[np.isfinite(v).all(axis=1)]
    if len(v) <= count:
        return v.copy()
    ranked = v[np.lexsort((v[:, 2], v[:, 1], v[:, 0]))]
    return ranked[np.linspace(0, len(v) - 1, count).astype(np.int64)]


def spread_surface(vertices, faces, count: int = INTERACT_SURFACE_POINTS):
    """``count`` points over a mesh's surface with no randomness: each triangle gets its share of
    ``count`` by area (whole points, the leftover ones to the largest remainders), one point at its
    centroid, or several on a low-discrepancy pattern (square-root radius, golden-ratio angle)."""
    import numpy as np

    tri = np.asarray(vertices, dtype=np.float64)[np.asarray(faces, dtype=np.int64)]  # [F, 3, 3]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=-1)
    good = np.isfinite(tri).all(axis=(1, 2)) & np.isfinite(area) & (area > 1e-12)
    if not good.any():
        return spread_vertices(vertices, count)
    tri, area = tri[good], area[good]
    share = area / area.sum() * count
    n = np.floor(share).astype(np.int64)
    short = count - int(n.sum())
    if short > 0:
        n[np.argsort(-(share - n), kind="stable")[:short]] += 1
    out = [tri[n == 1].mean(axis=1)]
    for k in np.unique(n[n > 1]):
        j = (np.arange(k) + 0.5)
        r, a = np.sqrt(j / k), (j * _GOLDEN) % 1.0
        weights = np.stack([1.0 - r, r * (1.0 - a), r * a], axis=-1)  # [k, 3] barycentric
        out.append(np.einsum("kc,fcd->fkd", weights, tri[n == k]).reshape(-1, 3))
    return np.concatenate(out)


def interact_contact_points(vertices, faces):
    """The object points InterAct's rule measures the body's distance to: :func:`spread_vertices`
    and :func:`spread_surface`, duplicates removed."""
    import numpy as np

    return np.unique(np.concatenate([spread_vertices(vertices), spread_surface(vertices, faces)]), axis=0)


def interact_labels(distance: torch.Tensor, body_lowest: torch.Tensor, ground: float, obj_lowest: torch.Tensor,
                    obj_pos: torch.Tensor, toe_pos: torch.Tensor, fps: float = 30.0):  # fmt: skip
    """Contact labels and the manipulated flag as InterAct's converter (``simulation/interact2mimic.py``
    at commit :data:`INTERACT_COMMIT`) derives them, in the z-up world.

    Args:
        distance: ``[T, 52]`` each body's smallest skin distance to the object's points
            (:func:`interact_contact_points`).
        body_lowest: ``[T, 52]`` height of each body's lowest skin point.
        ground: the lowest point of body and object (every mesh vertex) over the whole sequence.
        obj_lowest: ``[T]`` height of the object's lowest mesh vertex.
        obj_pos: ``[T, 3]`` object position (for "falling": acceleration within 6 m/s^2 of
            +9.8 m/s^2 upwards, the release converter's test).
        toe_pos: ``[T, 2, 3]`` left and right toe positions (a foot moving more than 2 cm between
            frames is off the ground; of two moving feet the slower counts as still).
    Returns:
        ``([T, 52] labels, [T] manipulated flag)``. The object is in contact in a frame (the flag)
        when the closest body is within 2 cm, or when the object is off the ground (its lowest
        point more than 10 cm above the sequence's lowest point) and not falling; never when the
        closest body is farther than 10 cm. A body is +1 when within 5 mm of the closest body's
        distance in a frame with contact (1 cm without), -1 when farther than 10 cm; the ankle and
        toe of a foot on the ground (lowest point within 10 cm of the ground, and still) or
        touching the object are never -1.
    """
    T = distance.shape[0]
    closest = distance.min(dim=1).values
    on_ground = (obj_lowest - ground) < INTERACT_OFF_GROUND
    falling = torch.zeros(T, dtype=torch.bool)
    if T >= 3:
        acc = (obj_pos[2:] - 2 * obj_pos[1:-1] + obj_pos[:-2]) * fps * fps
        up = torch.tensor([0.0, 0.0, GRAVITY], dtype=acc.dtype)
        f = (acc - up).norm(dim=-1) < INTERACT_FALL_TOLERANCE
        falling = torch.cat([f[0:2], f])
    in_contact = ((closest < INTERACT_CONTACT) | (~on_ground & ~falling)) & ~(closest > INTERACT_FAR)
    threshold = torch.where(in_contact, closest + INTERACT_MARGIN, torch.full_like(closest, INTERACT_IDLE_THRESHOLD))
    contact = distance < threshold[:, None]
    far = distance > INTERACT_FAR
    off_ground = (body_lowest - ground) > INTERACT_OFF_GROUND
    step = torch.zeros(T, 2)
    step[1:] = (toe_pos[1:, :, :2] - toe_pos[:-1, :, :2]).norm(dim=-1).to(step.dtype)
    still = step < INTERACT_STILL_FOOT
    both_moving = ~still[:, 0] & ~still[:, 1]
    still[:, 0] |= both_moving & (step[:, 0] <= step[:, 1])
    still[:, 1] |= both_moving & (step[:, 0] > step[:, 1])
    still[0] = True
    for k, side in enumerate("LR"):
        ids = spec.body_indices(FEET[side])
        lifted = off_ground[:, ids] | ~still[:, k : k + 1]
        keep = (~lifted).any(dim=1) | contact[:, ids].any(dim=1)
        far[:, ids] &= ~keep[:, None]
    labels = contact.to(distance.dtype)
    labels[far] = -1.0
    return labels, in_contact.to(distance.dtype)

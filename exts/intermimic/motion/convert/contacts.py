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

"""Body-to-object-point relations in bounded memory: the interaction graph's per-step
statistics and the interaction field's nearest points.

The interaction graph joins each key body j to each object surface point k:
``ig[j, k] = p_j - o_k`` in the simulation and ``ig^[j, k] = p^_j - o^_k`` in the reference.
The reward needs

    E_ig = 1/2 sum_jk |ig - ig^|^2 (w_jk + w^_jk),   w = a / sum(a),  a = 1 / clamp(|ig|^2, 0.01)

(``w^`` from ``ig^`` alike), and the interaction-graph termination needs, per normalisation
floor f, ``max_jk |ig - ig^| / max(|ig^|, f)`` and ``max_jk |ig - ig^| / max(|ig|, f)``.

Everything here depends on a pair only through three squared distances: ``|ig|^2``,
``|ig^|^2`` and ``|ig - ig^|^2 = |(p_j - p^_j) - (o_k - o^_k)|^2``. They are computed for a
chunk of points at a time, coordinate by coordinate (``[E, J, chunk]`` tensors, never the
``[E, J, P, 3]`` vectors), and reduced into running sums and maxima, so the memory is bounded
by ``pairs_per_chunk`` whatever the env count.

The interaction field needs each body's nearest object point (:func:`nearest_point_offsets`),
computed a block of envs at a time for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import torch

MIN_SQUARED_DISTANCE = 0.01
"""a = 1 / clamp(|ig|^2, 0.01): pairs closer than 10 cm all weigh as 10 cm."""
PAIRS_PER_CHUNK = 1 << 24
"""(env, body, point) pairs per chunk: each temporary ``[E, J, chunk]`` float32 tensor holds at
most 64 MB (about ten are alive at once)."""


@dataclass
class InteractionGraphStats:
    error: torch.Tensor
    """E_ig per env, ``[E]``."""
    ratio_by_ref: dict[float, torch.Tensor] = field(default_factory=dict)
    """floor -> max over pairs of |ig - ig^| / max(|ig^|, floor), ``[E]``."""
    ratio_by_sim: dict[float, torch.Tensor] = field(default_factory=dict)
    """floor -> max over pairs of |ig - ig^| / max(|ig|, floor), ``[E]``."""


def points_stride(num_points: int, wanted: int | None) -> int:
    """Stride of the evenly strided subset of about ``wanted`` points (None: every point)."""
    if wanted is None:
        return 1
    return max(1, num_points // max(1, wanted))


def _coordinate_major(x: torch.Tensor) -> torch.Tensor:
    """``[E, N, 3]`` -> ``[3, E, N]`` (contiguous), so each coordinate is one plain tensor."""
    return x.permute(2, 0, 1).contiguous()


def _squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """|a_j - b_k|^2 for coordinate-major ``a [3, E, J]`` and ``b [3, E, K]``: ``[E, J, K]``."""
    out = None
    for c in range(3):
        d = a[c].unsqueeze(-1) - b[c].unsqueeze(-2)
        out = d * d if out is None else out.addcmul_(d, d)
    return out


def interaction_graph_stats(
    body_pos: torch.Tensor,
    ref_body_pos: torch.Tensor,
    points: torch.Tensor,
    ref_points: torch.Tensor,
    floors: Iterable[float] = (),
    pairs_per_chunk: int = PAIRS_PER_CHUNK,
) -> InteractionGraphStats:
    """E_ig and the termination ratios for key bodies ``[E, J, 3]`` (simulated, reference) and
    object points ``[E, P, 3]`` (simulated, reference), all in one frame."""
    floors = sorted({float(f) for f in floors})
    num_envs, num_bodies, _ = body_pos.shape
    body = _coordinate_major(body_pos)
    ref_body = _coordinate_major(ref_body_pos)
    body_err = body - ref_body
    chunk = max(1, pairs_per_chunk // max(1, num_envs * num_bodies))

    zeros = body_pos.new_zeros(num_envs)
    sum_a, sum_ref_a, sum_da, sum_ref_da = zeros.clone(), zeros.clone(), zeros.clone(), zeros.clone()
    max_by_ref = {f: zeros.clone() for f in floors}
    max_by_sim = {f: zeros.clone() for f in floors}
    for start in range(0, points.shape[1], chunk):
        pts = _coordinate_major(points[:, start : start + chunk])
        ref_pts = _coordinate_major(ref_points[:, start : start + chunk])
        sim_sq = _squared_distances(body, pts)  # |ig|^2
        ref_sq = _squared_distances(ref_body, ref_pts)  # |ig^|^2
        diff_sq = _squared_distances(body_err, pts - ref_pts)  # |ig - ig^|^2
        for f in floors:
            f2 = f * f
            max_by_ref[f] = torch.maximum(max_by_ref[f], (diff_sq / ref_sq.clamp_min(f2)).amax(dim=(1, 2)))
            max_by_sim[f] = torch.maximum(max_by_sim[f], (diff_sq / sim_sq.clamp_min(f2)).amax(dim=(1, 2)))
        a = sim_sq.clamp_min_(MIN_SQUARED_DISTANCE).reciprocal_()
        ref_a = ref_sq.clamp_min_(MIN_SQUARED_DISTANCE).reciprocal_()
        sum_a += a.sum(dim=(1, 2))
        sum_ref_a += ref_a.sum(dim=(1, 2))
        sum_da += (diff_sq * a).sum(dim=(1, 2))
        sum_ref_da += (diff_sq * ref_a).sum(dim=(1, 2))
    error = 0.5 * (sum_da / sum_a + sum_ref_da / sum_ref_a)
    return InteractionGraphStats(
        error=error,
        ratio_by_ref={f: m.sqrt() for f, m in max_by_ref.items()},
        ratio_by_sim={f: m.sqrt() for f, m in max_by_sim.items()},
    )


def nearest_point_offsets(body_pos: torch.Tensor, points: torch.Tensor, pairs_per_chunk: int = PAIRS_PER_CHUNK) -> torch.Tensor:
    """Each body minus its nearest object point, ``[E, B, 3]``, for bodies ``[E, B, 3]`` and
    points ``[E, P, 3]``; the ``[E, B, P]`` distances exist for a block of envs at a time."""
    num_envs, num_bodies, _ = body_pos.shape
    rows = max(1, pairs_per_chunk // max(1, num_bodies * points.shape[1]))
    out = torch.empty_like(body_pos)
    for start in range(0, num_envs, rows):
        body, pts = body_pos[start : start + rows], points[start : start + rows]
        # distances by differences, not by matrix products: exact in float32 whatever the
        # matmul precision (TF32) a launcher chose, so nearest points agree on every device
        nearest = torch.cdist(body, pts, compute_mode="donot_use_mm_for_euclid_dist").argmin(dim=-1)
        out[start : start + rows] = body - torch.gather(pts, 1, nearest[..., None].expand(-1, -1, 3))
    return out

"""The chunked interaction-graph statistics against the straightforward formulas (no simulator).

The reference implementations below materialise the full ``[E, J, P, 3]`` graphs, as the
reward and the termination used to: E_ig = 1/2 sum |ig - ig^|^2 (w + w^) with
w = normalised 1 / clamp(|ig|^2, 0.01), and the ratios max |ig - ig^| / max(|ig^|, floor).
"""

import pytest
import torch

from intermimic.assets import humanoid_spec as spec
from intermimic.tasks.mdp.interaction_graph import interaction_graph_stats, nearest_point_offsets, points_stride

pytestmark = pytest.mark.unit
KEY = spec.KEY_BODY_IDS


# ---------------------------------------------------------------------------------------
# Reference: the full-graph formulas
# ---------------------------------------------------------------------------------------
def full_graph(body_pos: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    return body_pos[:, :, None, :] - points[:, None, :, :]


def full_weights(ig: torch.Tensor) -> torch.Tensor:
    w = 1.0 / (ig**2).sum(-1).clamp_min(0.01)
    return w / w.sum(dim=(1, 2), keepdim=True)


def full_error(ig_sim: torch.Tensor, ig_ref: torch.Tensor) -> torch.Tensor:
    w = full_weights(ig_sim) + full_weights(ig_ref)
    return 0.5 * (((ig_sim - ig_ref) ** 2).sum(-1) * w).sum(dim=(1, 2))


def full_ratios(ig_sim: torch.Tensor, ig_ref: torch.Tensor, floor: float) -> tuple[torch.Tensor, torch.Tensor]:
    diff = (ig_sim - ig_ref).norm(dim=-1)
    by_ref = (diff / ig_ref.norm(dim=-1).clamp_min(floor)).amax(dim=(1, 2))
    by_sim = (diff / ig_sim.norm(dim=-1).clamp_min(floor)).amax(dim=(1, 2))
    return by_ref, by_sim


# ---------------------------------------------------------------------------------------
def _state(num_envs=6, num_points=300, error_scale=0.1, seed=0):
    """Key bodies around a person standing next to an object 0.5 m across, some bodies within
    10 cm of the surface; the simulation deviates from the reference by ``error_scale`` m."""
    g = torch.Generator().manual_seed(seed)
    offset = torch.randn(num_envs, 1, 3, generator=g) * 3.0  # env-local positions far from 0
    ref_points = offset + torch.rand(num_envs, num_points, 3, generator=g) * 0.5
    ref_body = offset + torch.randn(num_envs, len(KEY), 3, generator=g) * 0.6
    ref_body[:, :4] = ref_points[:, :4] + 0.02 * torch.randn(num_envs, 4, 3, generator=g)  # hands on the object
    body = ref_body + error_scale * torch.randn(ref_body.shape, generator=g)
    points = ref_points + error_scale * torch.randn(num_envs, 1, 3, generator=g)  # object moved as a whole
    return body, ref_body, points, ref_points


@pytest.mark.parametrize("error_scale", [0.0, 0.003, 0.1, 1.0])
@pytest.mark.parametrize("pairs_per_chunk", [1, 5000, 1 << 24])
def test_error_and_ratios_equal_the_full_graph_formulas(error_scale, pairs_per_chunk):
    body, ref_body, points, ref_points = _state(error_scale=error_scale)
    ig_sim, ig_ref = full_graph(body, points), full_graph(ref_body, ref_points)
    stats = interaction_graph_stats(body, ref_body, points, ref_points, floors=(0.5, 0.1), pairs_per_chunk=pairs_per_chunk)
    torch.testing.assert_close(stats.error, full_error(ig_sim, ig_ref), rtol=1e-4, atol=1e-7)
    for floor in (0.5, 0.1):
        by_ref, by_sim = full_ratios(ig_sim, ig_ref, floor)
        torch.testing.assert_close(stats.ratio_by_ref[floor], by_ref, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(stats.ratio_by_sim[floor], by_sim, rtol=1e-4, atol=1e-6)


def test_error_vanishes_when_the_simulation_is_the_reference_moved_rigidly():
    """ig depends on relative positions only: translating body and object together costs nothing."""
    body, ref_body, points, ref_points = _state(error_scale=0.0)
    shift = torch.tensor([1.5, -2.0, 0.3])
    stats = interaction_graph_stats(ref_body + shift, ref_body, ref_points + shift, ref_points, floors=(0.5,))
    torch.testing.assert_close(stats.error, torch.zeros(len(body)), atol=1e-9, rtol=0)
    torch.testing.assert_close(stats.ratio_by_ref[0.5], torch.zeros(len(body)), atol=1e-4, rtol=0)


def test_close_pairs_dominate_the_error():
    """The same 5 cm error costs more on a body near the object than on a far one."""
    body, ref_body, points, ref_points = _state(error_scale=0.0)
    far = int(((ref_body[0, :, None] - ref_points[0, None]).norm(dim=-1).amin(-1)).argmax())
    errors = []
    for j in (0, far):  # body 0 touches the object
        moved = ref_body.clone()
        moved[:, j, 0] += 0.05
        errors.append(interaction_graph_stats(moved, ref_body, ref_points, ref_points).error[0])
    assert errors[0] > 2.0 * errors[1] > 0


def test_points_stride_picks_an_even_subset():
    assert points_stride(1024, 1024) == 1 and points_stride(1024, None) == 1
    assert points_stride(16384, 1024) == 16 and points_stride(100, 1024) == 1


# ---------------------------------------------------------------------------------------
# Interaction field: nearest object point per body
# ---------------------------------------------------------------------------------------
def full_nearest_offsets(body_pos: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """The straightforward form: all [E, B, P] distances at once."""
    nearest = torch.cdist(body_pos, points).argmin(dim=-1)
    return body_pos - torch.gather(points, 1, nearest[..., None].expand(-1, -1, 3))


@pytest.mark.parametrize("pairs_per_chunk", [1, 52 * 300 * 2 + 7, 1 << 24])
def test_nearest_point_offsets_equal_the_full_computation(pairs_per_chunk):
    body, _, points, _ = _state(num_envs=7)
    body = torch.cat([body, body + 0.3], dim=1)  # 42 bodies
    got = nearest_point_offsets(body, points, pairs_per_chunk=pairs_per_chunk)
    torch.testing.assert_close(got, full_nearest_offsets(body, points), rtol=0, atol=0)
    # and it is the nearest point: no point is closer than |offset|
    brute = (body[:, :, None] - points[:, None]).norm(dim=-1).amin(-1)
    torch.testing.assert_close(got.norm(dim=-1), brute, rtol=1e-5, atol=1e-6)

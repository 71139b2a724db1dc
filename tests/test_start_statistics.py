"""Start-frame statistics implied by the sampler's weights, checked against a hand computation
and against draws."""

import pytest
import torch

from intermimic.tasks.mdp.state_init import StartFrameSampler


@pytest.mark.unit
def test_start_statistics_follow_failure_history():
    # one clip of 6 frames, 2 frames kept free at the end -> frames 0..3 may start
    sampler = StartFrameSampler(torch.tensor([0]), torch.tensor([6]), min_frames_left=2, p_zero=0.2, priority=1.0,
                                decay=1.0)
    sampler.record_failures(torch.tensor([0, 0, 0]), torch.tensor([3, 3, 1]))
    # weights 1 + failures: [1, 2, 1, 3] -> p = [1, 2, 1, 3] / 7
    expected_zero = 0.2 + 0.8 * 1 / 7
    expected_fraction = 0.8 * (0 * 1 + 1 * 2 + 2 * 1 + 3 * 3) / 7 / 6
    stats = sampler.start_statistics(torch.tensor([0]))
    assert stats["frame0_share"] == pytest.approx(expected_zero)
    assert stats["start_fraction"] == pytest.approx(expected_fraction)
    gen = torch.Generator().manual_seed(0)
    frames = sampler.sample(torch.zeros(200_000, dtype=torch.long), generator=gen).float()
    assert float((frames == 0).float().mean()) == pytest.approx(expected_zero, abs=0.005)
    assert float(frames.mean() / 6) == pytest.approx(expected_fraction, abs=0.005)

"""A checkpoint written the way the authors' release stores one (rl_games, ``intermimic``
network builder with ``separate: True``), for the tests of release-checkpoint loading."""

from __future__ import annotations

import math

import torch

OBS, ACT, UNITS = 3198, 153, (1024, 1024, 512)


def release_checkpoint(seed=0) -> dict:
    """Random weights in the release's key names and shapes, rl_games' observation statistics."""
    g = torch.Generator().manual_seed(seed)
    model = {}
    for trunk, head, out in (("actor_mlp", "mu", ACT), ("critic_mlp", "value", 1)):
        sizes = (OBS, *UNITS)
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            model[f"a2c_network.{trunk}.{2 * i}.weight"] = torch.randn(n_out, n_in, generator=g) / math.sqrt(n_in)
            model[f"a2c_network.{trunk}.{2 * i}.bias"] = 0.1 * torch.randn(n_out, generator=g)
        model[f"a2c_network.{head}.weight"] = torch.randn(out, UNITS[-1], generator=g) / math.sqrt(UNITS[-1])
        model[f"a2c_network.{head}.bias"] = 0.1 * torch.randn(out, generator=g)
    model["a2c_network.sigma"] = torch.full((ACT,), -2.9)
    stats = {
        "running_mean": torch.randn(OBS, generator=g, dtype=torch.float64),
        # some features almost constant: their variance is below the 1e-5 floor
        "running_var": torch.rand(OBS, generator=g, dtype=torch.float64) * 4 + (torch.arange(OBS) % 50 == 0) * -3.99,
        "count": torch.tensor(123456.0, dtype=torch.float64),
    }
    stats["running_var"] = stats["running_var"].clamp_min(1e-7)
    return {"model": model, "running_mean_std": stats, "epoch": 7000, "frame": 0, "optimizer": {}}

"""Which physics steps of a policy step a body's contact is read over (docs/method.md §5).

The release steps Isaac Gym's ``gym.simulate`` twice per policy step (``controlFrequencyInv: 2``),
each call running ``substeps`` PhysX steps (4 at 240 Hz, 2 at 120 Hz), and refreshes the net
contact force tensor once, after the second call. Isaac Gym's default contact collection
(``CC_ALL_SUBSTEPS``) gathers the contacts of every substep of a ``simulate`` call, and the tensor
holds the forces of the last call. So a body counts as touching when it touched in any physics
step of the **second half** of the policy step: the release's window.

Here the contact sensor keeps one entry per physics step (its history, updated at every
physics step), and every reader (observations, r_cg, the hand-contact termination, evaluation)
goes through :func:`contact_in_window` / :func:`force_over_window` with the same window:

* ``release`` (default): the last ``decimation / 2`` physics steps (4 of 8 at 240 Hz, 2 of 4
  at 120 Hz);
* ``policy_step``: all ``decimation`` physics steps of the policy step;
* ``last_step``: the final physics step only (what this package read before; kept to compare).
"""

from __future__ import annotations

import torch

RELEASE_SIMULATE_CALLS = 2
"""``gym.simulate`` calls per policy step in the release (its ``controlFrequencyInv``)."""
CONTACT_WINDOWS = ("release", "policy_step", "last_step")


def window_steps(window: str, decimation: int) -> int:
    """Physics steps the contact window ``window`` covers at ``decimation`` physics steps per policy step."""
    if window not in CONTACT_WINDOWS:
        raise ValueError(f"env.commands.motion.contact_window: unknown window '{window}', expected one of "
                         f"{', '.join(CONTACT_WINDOWS)}")  # fmt: skip
    if window == "last_step":
        return 1
    if window == "policy_step":
        return max(1, decimation)
    return max(1, decimation // RELEASE_SIMULATE_CALLS)


def contact_in_window(history: torch.Tensor, steps: int, threshold: float) -> torch.Tensor:
    """``[E, H, B, 3]`` per-physics-step forces (newest first) -> ``[E, B]``: whether any force
    component exceeded ``threshold`` in any of the newest ``steps`` physics steps."""
    recent = history[:, :steps]
    return (recent.abs() > threshold).any(dim=-1).any(dim=1)


def force_over_window(history: torch.Tensor, steps: int) -> torch.Tensor:
    """``[E, H, B, 3]`` per-physics-step forces (newest first) -> ``[E, B, 3]``: the mean force
    over the newest ``steps`` physics steps (the impulse of the window over its duration)."""
    return history[:, :steps].mean(dim=1)


def configure_contact_sensor(cfg) -> int:
    """Size the history of the sensor the reference command reads so that it holds the command's
    contact window (one entry per physics step); returns the window's length in physics steps."""
    motion = cfg.commands.motion
    steps = window_steps(motion.contact_window, cfg.decimation)
    sensor = getattr(cfg.scene, motion.contact_sensor_name, None)
    if sensor is None:
        raise ValueError(f"env.commands.motion.contact_sensor_name: the scene has no sensor "
                         f"'{motion.contact_sensor_name}'")  # fmt: skip
    sensor.history_length = max(int(sensor.history_length or 0), steps)
    sensor.update_period = 0.0
    return steps

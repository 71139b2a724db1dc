"""Footstep plans for the demo motions: where each foot is, and where the pelvis goes, over time.

A walk is a sequence of steps straight ahead (+x), alternating feet. Each step lifts one foot
(the swing foot) off the ground, carries it forward along a smooth arc and puts it down flat,
while the other foot stays planted. Between steps both feet are down (double support). The
first and last steps are half as long as the others, so a walk starts and ends with the feet
side by side. The pelvis moves forward smoothly, passing the midpoint of the feet in every
double support, and sways towards the standing foot in single support.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


def smootherstep(x: torch.Tensor) -> torch.Tensor:
    """0 -> 1 with zero velocity and acceleration at both ends."""
    x = x.clamp(0.0, 1.0)
    return x * x * x * (x * (6.0 * x - 15.0) + 10.0)


def keyed(t: torch.Tensor, keys: list[tuple[float, float]]) -> torch.Tensor:
    """Scalar track through ``(time, value)`` keys, eased between consecutive keys, held outside."""
    out = torch.full_like(t, float(keys[0][1]))
    for (t0, v0), (t1, v1) in zip(keys[:-1], keys[1:]):
        if t1 <= t0:
            out = torch.where(t >= t1, torch.full_like(t, float(v1)), out)
            continue
        s = smootherstep((t - t0) / (t1 - t0))
        out = torch.where(t >= t0, v0 + (v1 - v0) * s, out)
    return out


def hermite_spline(t: torch.Tensor, times: list[float], values: list[float]) -> torch.Tensor:
    """C1 cubic through keypoints (Catmull-Rom tangents, zero at the ends), held outside."""
    n = len(times)
    slopes = [0.0] * n
    for i in range(1, n - 1):
        slopes[i] = (values[i + 1] - values[i - 1]) / (times[i + 1] - times[i - 1])
    out = torch.full_like(t, float(values[0]))
    for i in range(n - 1):
        t0, t1 = times[i], times[i + 1]
        h = t1 - t0
        s = ((t - t0) / h).clamp(0.0, 1.0)
        h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
        h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
        seg = h00 * values[i] + h10 * h * slopes[i] + h01 * values[i + 1] + h11 * h * slopes[i + 1]
        out = torch.where(t >= t0, seg, out)
    return torch.where(t >= times[-1], torch.full_like(t, float(values[-1])), out)


@dataclass
class Step:
    foot: str  # "L" or "R"
    lift: float  # time the foot leaves the ground
    land: float  # time it is down again
    start_x: float
    end_x: float


@dataclass
class Walk:
    """A straight walk along +x.

    Args:
        start: time the first foot lifts off (the pelvis starts shifting half a double support
            earlier).
        feet_x: ``{"L": x, "R": x}`` ankle positions before the walk.
        steps: number of steps (>= 2); the feet end side by side.
        step_length: distance between consecutive footfalls of alternating feet.
        first: the foot that steps first.
        step_time: duration of one step (swing + the double support after it).
        double_support: the part of ``step_time`` with both feet down.
        clearance: highest lift of a swing foot above its planted height.
        sway: sideways pelvis shift towards the standing foot (m).
    """

    start: float
    feet_x: dict[str, float]
    steps: int
    step_length: float
    first: str = "L"
    step_time: float = 0.55
    double_support: float = 0.12
    clearance: float = 0.06
    sway: float = 0.025
    plan: list[Step] = field(init=False)

    def __post_init__(self):
        if self.steps < 2:
            raise ValueError("a walk needs at least 2 steps")
        swing = self.step_time - self.double_support
        x = dict(self.feet_x)
        base = max(x.values())
        other = {"L": "R", "R": "L"}
        foot = self.first
        self.plan = []
        for i in range(self.steps):
            lift = self.start + i * self.step_time
            target = base + min(i + 1, self.steps - 1) * self.step_length
            self.plan.append(Step(foot, lift, lift + swing, x[foot], target))
            x[foot] = target
            foot = other[foot]
        self.final_x = x

    @property
    def end(self) -> float:
        """Time the last foot is down."""
        return self.plan[-1].land

    def foot_x_and_lift(self, t: torch.Tensor, side: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Ankle x and height above its planted height for one foot, ``[T]`` each."""
        x = torch.full_like(t, float(self.feet_x[side]))
        z = torch.zeros_like(t)
        for step in self.plan:
            if step.foot != side:
                continue
            s = ((t - step.lift) / (step.land - step.lift)).clamp(0.0, 1.0)
            moving = (t >= step.lift) & (t <= step.land)
            x = torch.where(t >= step.lift, step.start_x + (step.end_x - step.start_x) * smootherstep(s), x)
            z = torch.where(moving, self.clearance * torch.sin(torch.pi * s) ** 2, z)
        return x, z

    def stance(self, t: torch.Tensor, side: str) -> torch.Tensor:
        """True where the foot is on the ground."""
        down = torch.ones_like(t, dtype=torch.bool)
        for step in self.plan:
            if step.foot == side:
                down &= ~((t > step.lift) & (t < step.land))
        return down

    def pelvis_x(self, t: torch.Tensor) -> torch.Tensor:
        """Pelvis forward position: through the feet midpoint in every double support."""
        half_ds = self.double_support / 2
        times = [self.start - half_ds]
        x = dict(self.feet_x)
        values = [0.5 * (x["L"] + x["R"])]
        for step in self.plan:
            x[step.foot] = step.end_x
            times.append(step.land + half_ds)
            values.append(0.5 * (x["L"] + x["R"]))
        return hermite_spline(t, times, values)

    def pelvis_sway(self, t: torch.Tensor, lanes: dict[str, float]) -> torch.Tensor:
        """Pelvis sideways position: towards the standing foot in each single support."""
        mid = 0.5 * (lanes["L"] + lanes["R"])
        half_ds = self.double_support / 2
        times, values = [self.start - half_ds], [mid]
        for step in self.plan:
            stand = "R" if step.foot == "L" else "L"
            direction = 1.0 if lanes[stand] > mid else -1.0
            times += [0.5 * (step.lift + step.land), step.land + half_ds]
            values += [mid + direction * self.sway, mid]
        return hermite_spline(t, times, values)

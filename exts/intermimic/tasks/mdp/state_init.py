"""Episode starts: failure-prioritised reference state initialisation and PSI (docs/method.md §7).

Pure tensor bookkeeping, independent of the simulator:

* :class:`SimState` packs a humanoid + object state into one vector per env.
* :class:`StartFrameSampler` draws start frames, prioritising frames where rollouts failed;
  :class:`ReleaseStartFrameSampler` draws them as the authors' release does.
* :class:`PhysicalStateBuffer` keeps, per (clip, frame), the motion-capture state (slot 0, score
  1) and simulated states recorded from earlier rollouts (slots 1.., scored), and draws a slot
  in proportion to its score.
* :class:`EpisodeRecorder` keeps each env's simulated states of the running episode so that
  PSI can score them when the episode ends.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ...assets.humanoid_spec import NUM_DOFS

DOFS = "dofs"
_LAYOUT = (
    ("root_pos", 3), ("root_quat", 4), ("root_lin_vel", 3), ("root_ang_vel", 3),
    ("dof_pos", DOFS), ("dof_vel", DOFS),
    ("obj_pos", 3), ("obj_quat", 4), ("obj_lin_vel", 3), ("obj_ang_vel", 3),
)  # fmt: skip
"""The packed state's fields and widths (``dofs``: the embodiment's joint count)."""
_FIXED_WIDTH = sum(w for _, w in _LAYOUT if w != DOFS)


def state_dim(num_dofs: int = NUM_DOFS) -> int:
    """Width of a packed :class:`SimState` of an embodiment with ``num_dofs`` joints."""
    return _FIXED_WIDTH + 2 * num_dofs


STATE_DIM = state_dim()
"""Width of the SMPL-X humanoid's packed state."""


@dataclass
class SimState:
    """Simulated state of humanoid and object, env-local positions (all ``[n, ...]``)."""

    root_pos: torch.Tensor
    root_quat: torch.Tensor
    root_lin_vel: torch.Tensor
    root_ang_vel: torch.Tensor
    dof_pos: torch.Tensor
    dof_vel: torch.Tensor
    obj_pos: torch.Tensor
    obj_quat: torch.Tensor
    obj_lin_vel: torch.Tensor
    obj_ang_vel: torch.Tensor

    def pack(self) -> torch.Tensor:
        return torch.cat([getattr(self, name) for name, _ in _LAYOUT], dim=-1)

    @staticmethod
    def unpack(x: torch.Tensor) -> SimState:
        """The state packed in ``x`` (the joint count follows from its width)."""
        num_dofs, odd = divmod(x.shape[-1] - _FIXED_WIDTH, 2)
        if odd or num_dofs <= 0:
            raise ValueError(f"a packed state of width {x.shape[-1]} fits no joint count")
        parts, col = {}, 0
        for name, width in _LAYOUT:
            width = num_dofs if width == DOFS else width
            parts[name] = x[..., col : col + width]
            col += width
        return SimState(**parts)


class StartFrameSampler:
    """Draw (frame) starts per clip; frame 0 with probability ``p_zero``, otherwise frames are
    weighted by ``1 + priority * failures`` where ``failures`` counts rollouts that failed there."""

    def __init__(self, clip_start: torch.Tensor, clip_length: torch.Tensor, min_frames_left: int,
                 p_zero: float = 0.1, priority: float = 1.0, decay: float = 0.999):  # fmt: skip
        self.clip_start = clip_start
        self.clip_length = clip_length
        self.min_frames_left = min_frames_left
        self.p_zero = p_zero
        self.priority = priority
        self.decay = decay
        self.failures = torch.zeros(int(clip_length.sum()), device=clip_start.device)
        clips = torch.arange(len(clip_length), device=clip_start.device)
        self._clip_of_frame = torch.repeat_interleave(clips, clip_length)
        """Per flat frame, its clip."""
        self._frame_in_clip = torch.arange(len(self._clip_of_frame), device=clip_start.device) - clip_start[self._clip_of_frame]
        """Per flat frame, its index in its clip."""

    def record_failures(self, clip_ids: torch.Tensor, frames: torch.Tensor, failed: torch.Tensor | None = None) -> None:
        """Rollouts of ``clip_ids`` failed at ``frames`` (only those with ``failed`` set, when given).
        The statistics decay once per call that records a failure. No host sync."""
        if len(clip_ids) == 0:
            return
        last = self.clip_length[clip_ids] - 1
        idx = self.clip_start[clip_ids] + torch.minimum(frames.clamp_min(0), last)
        counts = torch.ones_like(idx, dtype=self.failures.dtype) if failed is None else failed.to(self.failures.dtype)
        self.failures.mul_(torch.where(counts.sum() > 0, self.decay, 1.0))
        self.failures.index_add_(0, idx, counts)

    def _span(self) -> torch.Tensor:
        """Per clip, how many of its first frames a start may take."""
        return (self.clip_length - self.min_frames_left).clamp_min(1)

    def _weights_of_all_frames(self) -> torch.Tensor:
        """Unnormalised start weight of every frame, flat (frames beyond a clip's span included)."""
        return 1.0 + self.priority * self.failures

    def _start_weights(self) -> torch.Tensor:
        """Start weight of every flat frame, 0 beyond its clip's span."""
        in_span = self._frame_in_clip < self._span()[self._clip_of_frame]
        return self._weights_of_all_frames() * in_span

    def frame_weights(self, clip: int) -> torch.Tensor:
        """Unnormalised weights of the frames a start of ``clip`` may take (its first
        :meth:`_span` frames)."""
        start, span = int(self.clip_start[clip]), int(self._span()[clip])
        return self._weights_of_all_frames()[start : start + span]

    def start_statistics(self, clip_ids: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """What the current weights imply for starts (averaged over ``clip_ids``, one entry per
        start, or over every clip alike): the expected share of frame-0 starts and the expected
        start frame as a fraction of the clip (0-d tensors: read them when logging)."""
        lengths, clip_of_frame, local = self.clip_length, self._clip_of_frame, self._frame_in_clip
        w = self._start_weights()
        total = torch.zeros(len(lengths), device=w.device, dtype=w.dtype).index_add_(0, clip_of_frame, w)
        moment = torch.zeros_like(total).index_add_(0, clip_of_frame, w * local)
        zero = self.p_zero + (1.0 - self.p_zero) * w[self.clip_start] / total
        fraction = (1.0 - self.p_zero) * moment / total / lengths
        if clip_ids is not None:
            zero, fraction = zero[clip_ids], fraction[clip_ids]
        return {"frame0_share": zero.mean(), "start_fraction": fraction.mean()}

    def sample(self, clip_ids: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Start frame for each of ``clip_ids``: frame 0 with probability ``p_zero``, else a frame of
        the clip's span in proportion to its weight, drawn for all envs at once (the inverse of the
        cumulative weights at a uniform draw, in float64 so a frame of weight 1 keeps its share
        among millions). No host sync."""
        n = len(clip_ids)
        device = clip_ids.device
        cumulative = torch.cumsum(self._start_weights().double(), dim=0)
        start = self.clip_start[clip_ids]
        end = start + self._span()[clip_ids] - 1
        before = torch.where(start > 0, cumulative[(start - 1).clamp_min(0)], torch.zeros_like(start, dtype=torch.float64))
        total = cumulative[end] - before
        u = before + (1.0 - torch.rand(n, device=device, generator=generator, dtype=torch.float64)) * total
        picked = torch.searchsorted(cumulative, u).clamp(min=start, max=end)
        frames = picked - start
        at_zero = torch.rand(n, device=device, generator=generator) < self.p_zero
        return torch.where(at_zero, torch.zeros_like(frames), frames)

    def state_dict(self) -> dict:
        """The failure statistics (what a resumed run needs to draw the same way)."""
        return {"failures": self.failures.detach().cpu().clone()}

    def load_state_dict(self, state: dict) -> None:
        failures = state["failures"]
        if failures.shape != self.failures.shape:
            raise ValueError(f"its start-frame statistics cover {failures.shape[0]} frames, the loaded data has "
                             f"{self.failures.shape[0]} (resume with the same data set)")  # fmt: skip
        self.failures.copy_(failures.to(self.failures))


class ReleaseStartFrameSampler(StartFrameSampler):
    """The release's start frames: frame 0 with probability ``p_zero``, otherwise a frame in
    ``[0, max(1, L - episode_steps))`` weighted by ``1 / (sum of the frame's PSI slot scores)``
    (slot 0 scores 1, so without PSI the draw is uniform): frames whose simulated slots score well
    are drawn less often, and clips no longer than an episode always start at frame 0."""

    def __init__(self, clip_start: torch.Tensor, clip_length: torch.Tensor, episode_steps: int,
                 p_zero: float = 0.1, psi: PhysicalStateBuffer | None = None):  # fmt: skip
        super().__init__(clip_start, clip_length, min_frames_left=0, p_zero=p_zero, priority=0.0)
        self.episode_steps = episode_steps
        self.psi = psi

    def _span(self) -> torch.Tensor:
        return (self.clip_length - self.episode_steps).clamp_min(1)

    def _weights_of_all_frames(self) -> torch.Tensor:
        if self.psi is None:
            return torch.ones_like(self.failures)
        return 1.0 / (1.0 + self.psi.scores.sum(-1))


def release_psi_frames(frames: torch.Tensor, clip_length: torch.Tensor, episode_steps: int) -> torch.Tensor:
    """Where the release stores PSI states: clips longer than an episode, frames at least an
    episode before the clip's end (``frames <= L - episode_steps``)."""
    return (clip_length > episode_steps) & (frames <= clip_length - episode_steps)


class PhysicalStateBuffer:
    """Per (clip, frame) slots of start states: slot 0 is the motion-capture state (score 1,
    not stored here), slots ``1..num_slots-1`` are simulated states with scores."""

    def __init__(self, num_frames: int, num_slots: int = 3, state_dim: int = STATE_DIM, device="cpu",
                 replace_threshold: float = 0.5, score_decay: float = 1.0e-5):  # fmt: skip
        if num_slots < 2:
            raise ValueError("PSI needs at least one simulated slot (num_slots >= 2)")
        self.num_slots = num_slots
        self.replace_threshold = replace_threshold
        self.score_decay = score_decay
        self.states = torch.zeros(num_frames, num_slots - 1, state_dim, device=device)
        self.scores = torch.zeros(num_frames, num_slots - 1, device=device)

    def decay(self) -> None:
        self.scores.mul_(1.0 - self.score_decay)

    def insert(self, frame_idx: torch.Tensor, states: torch.Tensor, scores: torch.Tensor) -> int:
        """Offer simulated ``states`` recorded at flat frame indices with their ``scores``, as the
        release does: per frame the best offer (the first of equal ones) is kept, and if it scores
        above the threshold it replaces the lowest-scored simulated slot of that frame (the first
        of equal ones), whatever that slot's score. A non-finite state is never stored. Returns
        how many were stored."""
        winners = self.select_offers(frame_idx, scores, torch.isfinite(states).all(dim=-1))
        self.store(frame_idx[winners], states[winners], scores[winners])
        return len(winners)

    def select_offers(self, frame_idx: torch.Tensor, scores: torch.Tensor, usable: torch.Tensor) -> torch.Tensor:
        """Indices of the offers :meth:`insert` would store (``usable``: finite states), per frame
        the best one above the threshold. Two host syncs (the candidates' and the winners'
        count), whatever the number of offers; nothing of the size of the offers' states is made."""
        candidates = torch.nonzero((scores > self.replace_threshold) & usable).squeeze(-1)
        frames, offered = frame_idx[candidates], scores[candidates]
        num_frames = self.scores.shape[0]
        best = torch.full((num_frames,), -torch.inf, device=offered.device, dtype=offered.dtype)
        best.scatter_reduce_(0, frames, offered, reduce="amax")
        order = torch.arange(len(candidates), device=offered.device)
        first_best = torch.full((num_frames,), len(candidates), device=offered.device, dtype=torch.long)
        first_best.scatter_reduce_(0, frames, torch.where(offered == best[frames], order, len(candidates)), reduce="amin")
        return candidates[torch.nonzero(first_best[frames] == order).squeeze(-1)]

    def store(self, frame_idx: torch.Tensor, states: torch.Tensor, scores: torch.Tensor) -> None:
        """Write states (one per frame) into each frame's lowest-scored simulated slot."""
        worst = self.scores[frame_idx].argmin(dim=-1)
        self.states[frame_idx, worst] = states
        self.scores[frame_idx, worst] = scores

    def sample_slots(self, frame_idx: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Slot per frame, drawn in proportion to the scores (slot 0 has score 1)."""
        weights = torch.cat([torch.ones(len(frame_idx), 1, device=self.scores.device), self.scores[frame_idx]], dim=-1)
        return torch.multinomial(weights, 1, generator=generator).squeeze(-1)

    def stored_state(self, frame_idx: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
        """Packed states of simulated slots (``slots >= 1``)."""
        return self.states[frame_idx, slots - 1]

    def fill_ratio(self) -> torch.Tensor:
        """Share of simulated slots holding a state (a 0-d tensor)."""
        return (self.scores > 0).float().mean()

    def state_dict(self) -> dict:
        """The stored simulated slots (only the filled ones: index ``[n, 2]`` of (frame, slot),
        their states and scores)."""
        frame, slot = torch.nonzero(self.scores > 0).unbind(dim=-1)
        return {
            "shape": tuple(self.states.shape), "index": torch.stack([frame, slot], dim=-1).cpu(),
            "states": self.states[frame, slot].cpu(), "scores": self.scores[frame, slot].cpu(),
        }  # fmt: skip

    def load_state_dict(self, state: dict) -> None:
        shape = tuple(state["shape"])
        if shape != tuple(self.states.shape):
            raise ValueError(f"its PSI buffer has (frames, simulated slots, state size) {shape}, this run has "
                             f"{tuple(self.states.shape)} (resume with the same data set and psi_slots)")  # fmt: skip
        index = state["index"].to(self.states.device)
        self.states.zero_()
        self.scores.zero_()
        self.states[index[:, 0], index[:, 1]] = state["states"].to(self.states)
        self.scores[index[:, 0], index[:, 1]] = state["scores"].to(self.scores)


def psi_scores(frames: torch.Tensor, end_frame: torch.Tensor, planned_end: torch.Tensor) -> torch.Tensor:
    """Score of a state recorded at ``frames`` of an episode that ended at ``end_frame`` but
    was planned to run until ``planned_end``: the share of the remaining plan it survived."""
    return (end_frame - frames).float() / (planned_end - frames).clamp_min(1).float()


class EpisodeRecorder:
    """Ring of the running episode's packed states per env (``[E, max_steps, D]``), and whether
    each recorded state is finite."""

    def __init__(self, num_envs: int, max_steps: int, state_dim: int = STATE_DIM, device="cpu"):
        # one spare row per env takes the steps beyond the buffer, so recording never masks
        self._buffer = torch.zeros(num_envs, max_steps + 1, state_dim, device=device)
        self._finite = torch.ones(num_envs, max_steps + 1, dtype=torch.bool, device=device)
        self._envs = torch.arange(num_envs, device=device)
        self.max_steps = max_steps

    @property
    def states(self) -> torch.Tensor:
        """``[E, max_steps, D]``: each env's state at each episode step (a view)."""
        return self._buffer[:, : self.max_steps]

    @property
    def finite(self) -> torch.Tensor:
        """``[E, max_steps]``: whether the state recorded there holds no NaN or infinity."""
        return self._finite[:, : self.max_steps]

    def record(self, step: torch.Tensor, state: torch.Tensor) -> None:
        """Store each env's state at its episode step (steps beyond the buffer are dropped). No
        host sync."""
        row = step.clamp(0, self.max_steps)  # max_steps: the spare row
        self._buffer[self._envs, row] = state
        self._finite[self._envs, row] = torch.isfinite(state).all(dim=-1)

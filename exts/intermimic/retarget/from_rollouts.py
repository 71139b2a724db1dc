"""Dynamics-aware retargeting: a teacher's rollouts written back as clips.

Each clip is played from frame 0 (the evaluation setting) and the simulated humanoid and object
of every step are recorded. A clip file in the same 591-column format is made from them, laid
out like the teacher-corrected references of the sample data (``OMOMO_retarget``):

* as many rows as the source file; row ``r`` holds the simulated state at the source row ``r``
  (library frame ``r - first_row``), frame 0 being the start state;
* row 0 is a placeholder: its pose columns are zero;
* contact labels and the object-manipulated flag are the source file's, row for row.

Only clips whose rollout reached the last frame are written, unless asked; outputs are written
under a temporary name and renamed, and an existing clip is never replaced unless asked.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from ..motion import clip_format as cf
from ..motion.clip_io import load_clip_file, save_clip_file
from ..utils.atomic_write import atomic_write
from ..motion.kinematics import hinge_to_exp_map

LABEL_FIELDS = ("contact", "obj_manipulated")
"""Columns copied from the source clip (everything else is the simulated state)."""


def simulated_clip_rows(cmd) -> torch.Tensor:
    """The simulated state of every env as clip rows ``[E, 591]`` (labels zero), env-local frame."""
    n = cmd.num_envs
    has_obj = cmd.object is not None
    state = cmd.sim_state()
    return cf.assemble(
        root_pos=state.root_pos, root_quat=state.root_quat, dof_pos=hinge_to_exp_map(state.dof_pos),
        body_pos=cmd.body_pos.reshape(n, -1), body_quat=cmd.body_quat.reshape(n, -1),
        obj_pos=state.obj_pos if has_obj else torch.zeros(n, 3, device=cmd.device),
        obj_quat=state.obj_quat if has_obj else state.root_quat.new_tensor([0.0, 0.0, 0.0, 1.0]).expand(n, 4),
    ).cpu()  # fmt: skip


def source_rows(library, clip_id: int) -> torch.Tensor:
    """The clip's source file (all rows), or the library's raw frames for clips without a file."""
    info = library.clips[clip_id]
    if info.path and Path(info.path).is_file():
        return load_clip_file(info.path).to(torch.float32)
    return library.clip_tensor(clip_id, "raw").cpu()


def build_clip(source: torch.Tensor, first_row: int, frames: torch.Tensor) -> torch.Tensor:
    """A retargeted clip: ``frames[f]`` (simulated frame f, clip rows) at row ``first_row + f``,
    row 0 a zero-pose placeholder, labels from ``source``. Rows past the last simulated frame
    are cut off (a rollout that ended early gives a shorter clip)."""
    rows = min(source.shape[0], first_row + frames.shape[0])
    out = torch.zeros(rows, cf.CLIP_WIDTH)
    out[first_row:rows] = frames[: rows - first_row]
    out[0] = 0.0
    for name in LABEL_FIELDS:
        col = cf.COLUMNS[name].slice
        out[:, col] = source[:rows, col]
    return out


@dataclass
class RetargetedClip:
    clip: str
    frames: int
    steps: int
    success: bool
    written: str | None
    note: str = ""


class RolloutRecorder:
    """Evaluation observer: the simulated states of each env's running attempt, and those of each
    clip's kept attempt (as clip rows, simulated frames 1..n)."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.running: dict[int, list[torch.Tensor]] = {e: [] for e in range(cmd.num_envs)}
        self.kept: dict[int, torch.Tensor] = {}

    def on_step(self, env=None) -> None:
        rows = simulated_clip_rows(self.cmd)
        for e in torch.nonzero(self.cmd.scheduled).flatten().tolist():  # only attempts that count
            self.running[e].append(rows[e])

    def on_attempt(self, env_id: int, clip_id: int, steps: int, success: bool, kept: bool) -> None:
        rows = self.running[env_id]
        self.running[env_id] = []
        if kept:
            self.kept[clip_id] = torch.stack(rows[-steps:]) if steps else torch.zeros(0, cf.CLIP_WIDTH)


def write_retargeted(library, table, recorder: RolloutRecorder, out_dir: str | os.PathLike, init_source: str,
                     write_all: bool = False, overwrite: bool = False) -> list[RetargetedClip]:  # fmt: skip
    """Write the kept rollouts of ``table``'s clips into ``out_dir`` (failed ones, with
    ``write_all``, into ``out_dir/failed``, cut where they ended); returns one entry per clip."""
    out = Path(out_dir)
    results = []
    for clip_id, result in sorted(table.results.items()):
        info = library.clips[clip_id]
        entry = RetargetedClip(info.name, info.num_frames, result.steps, result.success, None)
        results.append(entry)
        if not result.success and not write_all:
            entry.note = f"not written: ended by {result.cause} at step {result.steps}"
            continue
        folder = out if result.success else out / "failed"
        path = folder / f"{info.name}.pt"
        if path.exists() and not overwrite:
            entry.note = f"kept the existing {path} (use --overwrite to replace it)"
            continue
        start = library.clip_tensor(clip_id, init_source)[:1].cpu()  # frame 0: the start state
        frames = torch.cat([start, recorder.kept[clip_id]])
        folder.mkdir(parents=True, exist_ok=True)
        entry.written = str(save_clip_file(path, build_clip(source_rows(library, clip_id), info.first_row, frames), overwrite=True))
    return results


def write_summary(results: list[RetargetedClip], out_dir: str | os.PathLike, meta: dict) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = {"meta": meta, "succeeded": sum(r.success for r in results), "clips": [asdict(r) for r in results]}
    return atomic_write(out / "retarget.json", lambda tmp: tmp.write_text(json.dumps(data, indent=2)))


def format_summary(results: list[RetargetedClip]) -> str:
    width = max([len("clip")] + [len(r.clip) for r in results])
    lines = [f"{'clip':<{width}}  frames  steps  success  written"]
    for r in results:
        lines.append(f"{r.clip:<{width}}  {r.frames:>6}  {r.steps:>5}  {'yes' if r.success else 'no':>7}  "
                     f"{r.written or r.note}")  # fmt: skip
    lines.append(f"{sum(r.success for r in results)}/{len(results)} clips tracked to their last frame; "
                 f"{sum(r.written is not None for r in results)} written")  # fmt: skip
    return "\n".join(lines)

"""Dynamics-aware retargeting: a teacher's rollouts written back as clips.

Each clip is played from frame 0 (the evaluation setting) and the simulated humanoid and object
of every step are recorded. A clip file in the same 591-column format is made from them, laid
out like the teacher-corrected references of the sample data (``OMOMO_retarget``):

* as many rows as the source file; row ``r`` holds the simulated state at the source row ``r``
  (library frame ``r - first_row``), frame 0 being the start state;
* row 0 is a placeholder: its pose columns are zero;
* contact labels and the object-manipulated flag are the source file's, row for row.

A robot teacher's rollouts (the G1) become robot clips (``.npz``, :mod:`~intermimic.motion.robot_clip`)
instead: frame ``f`` the simulated state at library frame ``f`` (frame 0 the start state), as many
frames as the library clip, the contact labels, object-manipulated flag, object name and scale
the source robot clip's, so the folder pairs with the raw robot clips as their corrected clips.

Only clips whose rollout reached the last frame are written, unless asked; outputs are written
under a temporary name and renamed, and an existing clip is never replaced unless asked.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
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


def robot_rows(root_pos, root_quat, dof_pos, body_pos, body_quat, obj_pos, obj_quat) -> torch.Tensor:
    """A robot's state as flat rows ``[E, 14 + J + 7 B]``: root position and rotation, joint
    positions, body positions and rotations, object position and rotation (:func:`split_robot_rows`)."""
    n = root_pos.shape[0]
    return torch.cat([root_pos, root_quat, dof_pos, body_pos.reshape(n, -1), body_quat.reshape(n, -1), obj_pos,
                      obj_quat], dim=-1).cpu()  # fmt: skip


def split_robot_rows(rows: torch.Tensor, num_dofs: int, num_bodies: int) -> dict[str, np.ndarray]:
    """The parts of :func:`robot_rows` ``[T, D]`` by name, as numpy arrays."""
    sizes = {"root_pos": 3, "root_quat": 4, "dof_pos": num_dofs, "body_pos": 3 * num_bodies,
             "body_quat": 4 * num_bodies, "object_pos": 3, "object_quat": 4}  # fmt: skip
    parts = dict(zip(sizes, torch.split(rows, list(sizes.values()), dim=-1)))
    out = {k: v.numpy().astype(np.float32) for k, v in parts.items()}
    out["body_pos"] = out["body_pos"].reshape(len(rows), num_bodies, 3)
    out["body_quat"] = out["body_quat"].reshape(len(rows), num_bodies, 4)
    return out


def simulated_rows(cmd) -> torch.Tensor:
    """The simulated state of every env as rows: clip rows for the SMPL-X humanoid, :func:`robot_rows` for a robot."""
    if cmd.embodiment.name == "smplx":
        return simulated_clip_rows(cmd)
    state = cmd.sim_state()
    return robot_rows(state.root_pos, state.root_quat, state.dof_pos, cmd.body_pos, cmd.body_quat, state.obj_pos,
                      state.obj_quat)  # fmt: skip


def start_row(library, clip_id: int, init_source: str, embodiment) -> torch.Tensor:
    """Frame 0 of a clip's start source as one row (the rollout's start state)."""
    if embodiment.name == "smplx":
        return library.clip_tensor(clip_id, init_source)[:1].cpu()
    zero = torch.zeros(1, dtype=torch.long, device=library.clip_start.device)
    ref = library.state(torch.tensor([clip_id], device=zero.device), zero, init_source)
    return robot_rows(ref.root_pos, ref.root_quat, ref.dof_pos, ref.body_pos, ref.body_quat, ref.obj_pos, ref.obj_quat)


def build_robot_clip(source, first_row: int, frames: torch.Tensor, embodiment):
    """A retargeted robot clip: ``frames[f]`` (:func:`robot_rows`) at frame f, labels, object name
    and scale from the ``source`` robot clip's rows ``first_row + f``; cut to the source's length."""
    from ..motion.robot_clip import RobotClip

    T = min(source.num_frames - first_row, frames.shape[0])
    parts = split_robot_rows(frames[:T], embodiment.num_dofs, embodiment.num_bodies)
    labels = slice(first_row, first_row + T)
    return RobotClip(
        robot=embodiment.name, source=source.source, fps=source.fps, scale=source.scale,
        joint_names=embodiment.joint_names, body_names=embodiment.body_names, **parts,
        object_name=source.object_name, contact_body_names=source.contact_body_names, contact=source.contact[labels],
        object_contact=source.object_contact[labels],
    )  # fmt: skip


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
        rows = simulated_rows(self.cmd)
        for e in torch.nonzero(self.cmd.scheduled).flatten().tolist():  # only attempts that count
            self.running[e].append(rows[e])

    def on_attempt(self, env_id: int, clip_id: int, steps: int, success: bool, kept: bool) -> None:
        rows = self.running[env_id]
        self.running[env_id] = []
        if kept:
            self.kept[clip_id] = torch.stack(rows[-steps:]) if steps else torch.zeros(0, rows[0].shape[-1] if rows else 0)


def write_retargeted(library, table, recorder: RolloutRecorder, out_dir: str | os.PathLike, init_source: str,
                     write_all: bool = False, overwrite: bool = False, embodiment=None) -> list[RetargetedClip]:  # fmt: skip
    """Write the kept rollouts of ``table``'s clips into ``out_dir`` (failed ones, with
    ``write_all``, into ``out_dir/failed``, cut where they ended); returns one entry per clip.
    ``embodiment`` (default: the recorder's command's) decides the format: 591-column ``.pt``
    clips for the SMPL-X humanoid, ``.npz`` robot clips for a robot."""
    from ..motion.robot_clip import SUFFIX, load_robot_clip, save_robot_clip

    emb = embodiment or recorder.cmd.embodiment
    robot = emb.name != "smplx"
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
        path = folder / f"{info.name}{SUFFIX if robot else '.pt'}"
        if path.exists() and not overwrite:
            entry.note = f"kept the existing {path} (use --overwrite to replace it)"
            continue
        start = start_row(library, clip_id, init_source, emb)  # frame 0: the start state
        frames = torch.cat([start, recorder.kept[clip_id]])
        folder.mkdir(parents=True, exist_ok=True)
        if robot:
            clip = build_robot_clip(load_robot_clip(info.path), info.first_row, frames, emb)
            entry.written = str(save_robot_clip(path, clip, overwrite=True))
        else:
            clip = build_clip(source_rows(library, clip_id), info.first_row, frames)
            entry.written = str(save_clip_file(path, clip, overwrite=True))
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

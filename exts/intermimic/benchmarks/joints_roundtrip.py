"""Clips turned into joint positions and converted back (``./intermimic.sh benchmark joints``).

``convert --format joints`` sees only body positions (a text-to-interaction generator's output).
This takes clips whose joint rotations are known, keeps their body positions and object poses,
converts those as ``convert --format joints`` does (inverse kinematics on the humanoid's own
joints, the floor rule, contact labels) and compares the result with the clips. Per clip:

* body positions: mean and largest distance from the input (cm, after the floor rule's shift);
* joint limits: joint values beyond their limit (count; the IK keeps every one inside) and the
  joints that rest at a limit;
* floor: the median over frames of the lowest skin point's height (cm);
* body rotations: the angle between each converted body's world rotation and the clip's, median
  and 90th percentile per body group (trunk, arms, legs, hands), degrees.

The teacher-corrected sample clips are states of this very humanoid, so their rotations are ones
it can take (the raw capture's are the subject's own body).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from ..utils.arguments import int_at_least
from ..utils.atomic_write import atomic_write_text
from ..utils.errors import UserError

HELP = "clips -> joint positions -> clips again: positions, joint limits, floor, rotation error per body group"
"""One line for ``benchmark joints``."""


def body_group_names() -> dict[str, list[str]]:
    """The body groups the rotation error is reported for (SMPL-X body names)."""
    from ..assets import humanoid_spec as spec

    return {
        "trunk": ["Pelvis", "Torso", "Spine", "Chest", "Neck", "Head"],
        "arms": [f"{s}_{b}" for s in "LR" for b in ("Thorax", "Shoulder", "Elbow")],
        "legs": [f"{s}_{b}" for s in "LR" for b in ("Hip", "Knee", "Ankle", "Toe")],
        "hands": [n for n in spec.BODY_NAMES if n.endswith("_Wrist") or spec.is_finger(n)],
    }


def rotation_stats(angle: np.ndarray) -> dict[str, dict[str, float]]:
    """``[T, 52]`` rotation errors (degrees) -> median and 90th percentile per body group."""
    from ..assets import humanoid_spec as spec

    groups = {g: spec.body_indices(n) for g, n in body_group_names().items()}
    return {g: {"median": float(np.median(angle[:, ids])), "p90": float(np.percentile(angle[:, ids], 90))}
            for g, ids in groups.items()}  # fmt: skip


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("clips", nargs="+", metavar="CLIP", help="clip files (.pt) or folders of them")
    p.add_argument("--objects_dir", default=None, metavar="DIR", help="the clips' object meshes (default: ../objects)")
    p.add_argument("--frames", type=int_at_least(2), default=None, help="convert only each clip's first N rows")
    p.add_argument("--skip_first_row", action="store_true",
                   help="drop row 0 (the placeholder row of teacher-corrected clips)")  # fmt: skip
    p.add_argument("--json", default=None, metavar="FILE", help="also write every number to FILE (JSON)")


def round_trip(clip: torch.Tensor, registry, object_name: str) -> dict:
    """Convert the body positions and object poses of ``clip`` back into a clip; the numbers above."""
    from ..assets import humanoid_spec as spec
    from ..motion import clip_format as cf
    from ..motion.convert.joints import JointSequence, convert_joint_sequence
    from ..motion.convert.posed_body import ConvertOptions
    from ..motion.kinematics import quat_to_matrix
    from ..utils import rotations as rot

    clip = clip.detach().double()
    pos = cf.field(clip, "body_pos")
    T = pos.shape[0]
    seq = JointSequence("clip", pos.clone(), torch.ones(spec.NUM_BODIES, dtype=torch.bool), cf.field(clip, "obj_pos"),
                        quat_to_matrix(cf.field(clip, "obj_quat")), object_name, 0)  # fmt: skip
    start = time.perf_counter()
    done = convert_joint_sequence(seq, registry, ConvertOptions(object_frame="centred"))
    seconds = time.perf_counter() - start
    got = done.clip
    shift = float((cf.field(got, "body_pos")[:, 0, 2] - pos[:, 0, 2]).median())
    error = (cf.field(got, "body_pos") - pos - torch.tensor([0.0, 0.0, shift], dtype=pos.dtype)).norm(dim=-1)
    hinges = rot.to_hinges(rot.from_exp_map(cf.field(got, "dof_pos").reshape(T, -1, 3))).reshape(T, -1).numpy()
    lo, hi = np.asarray([spec.joint_limits_rad(j) for j in spec.JOINT_NAMES]).T
    beyond = np.maximum(lo - hinges, hinges - hi) > 1e-6
    angle = np.degrees(rot.angle_between(cf.field(got, "body_quat"), cf.field(clip, "body_quat")).numpy())
    return {
        "frames": T, "seconds": round(seconds, 1),
        "position_mean_cm": 100 * float(error.mean()), "position_max_cm": 100 * float(error.max()),
        "beyond_limit": int(beyond.sum()), "joints_at_limit": len(done.at_limit),
        "floor_cm": done.floor_cm, "rotation_deg": rotation_stats(angle),
        "angles": angle,
    }  # fmt: skip


def run(args, overrides: list[str]) -> int:
    from pathlib import Path

    from ..assets.object_registry import ObjectRegistry
    from ..motion.clip_io import load_clip_file
    from ..motion.clip_format import parse_clip_name

    files = []
    for item in args.clips:
        path = Path(item).expanduser()
        if not path.exists():
            raise UserError(f"CLIP: {path}: no such file or folder")
        files += sorted(path.glob("*.pt")) if path.is_dir() else [path]
    if not files:
        raise UserError(f"CLIP: no clip files (.pt) in {args.clips}")
    objects_dir = args.objects_dir or next((str(p) for f in files for p in (f.parent / "objects", f.parent.parent / "objects")
                                             if p.is_dir()), None)  # fmt: skip
    registry = ObjectRegistry(objects_dir)
    rows, pooled = [], []
    for f in files:
        name = parse_clip_name(f.stem)
        if name.object is None or name.object not in registry.names():
            raise UserError(f"{f}: object '{name.object}' has no mesh in {objects_dir or 'the built-in objects'}")
        clip = load_clip_file(f)[1 if args.skip_first_row else 0 :]
        clip = clip[: args.frames] if args.frames else clip
        row = round_trip(clip, registry, name.object)
        pooled.append(row.pop("angles"))
        rows.append({"clip": f.stem, **row})
        print(format_row(rows[-1]), flush=True)
    summary = rotation_stats(np.concatenate(pooled))
    print(format_summary(rows, summary))
    if args.json:
        atomic_write_text(args.json, json.dumps({"clips": rows, "rotation_deg": summary}, indent=1))
        print(f"numbers written to {args.json}")
    return 0


def format_row(r: dict) -> str:
    rotation = "  ".join(f"{g} {v['median']:.1f}/{v['p90']:.1f}" for g, v in r["rotation_deg"].items())
    return (f"{r['clip']}: {r['frames']} frames ({r['seconds']:.0f} s) | positions {r['position_mean_cm']:.2f} cm mean, "
            f"{r['position_max_cm']:.2f} max | beyond a limit {r['beyond_limit']} | floor {r['floor_cm']:.2f} cm | "
            f"rotation deg median/p90: {rotation}")  # fmt: skip


def format_summary(rows: list[dict], summary: dict) -> str:
    frames = sum(r["frames"] for r in rows)
    worst = max(rows, key=lambda r: r["position_mean_cm"])
    floor = sorted(r["floor_cm"] for r in rows)
    lines = [f"{len(rows)} clips, {frames} frames: positions {worst['position_mean_cm']:.2f} cm mean at worst "
             f"({worst['clip']}), {sum(r['beyond_limit'] for r in rows)} joint values beyond a limit, floor median "
             f"{floor[len(floor) // 2]:.2f} cm (clips {floor[0]:.2f}-{floor[-1]:.2f})",
             "| group | median (deg) | 90th percentile (deg) |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {g} | {v['median']:.1f} | {v['p90']:.1f} |" for g, v in summary.items()]
    return "\n".join(lines)

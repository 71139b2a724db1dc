"""Retarget SMPL-X human-object interaction clips onto a robot: one robot reference clip per clip.

    ./intermimic.sh retarget-robot --robot g1_dex3 --urdf PATH DATA_DIR OUT_DIR [--clips NAME ...]
        [--scale S|per-clip] [--objects-dir DIR] [--max-frames N] [--max-error-cm E] [--repair-positions] [--overwrite]

DATA_DIR is a folder of InterMimic clips (.pt, e.g. OMOMO_new/), one clip file, or ``demo`` for
the built-in demo clips. The URDF is the user's Unitree G1 (29 DOF) + Dex3-1 description
(g1_29dof_with_hand.urdf with its meshes/ folder). Each clip is solved frame by frame with
differential IK (mink on the MuJoCo model of the URDF) and written as OUT_DIR/<clip>.npz
(format: exts/intermimic/motion/robot_clip.py, docs/g1.md). Object meshes (for the
hand-object distances and penetration) come from --objects-dir, by default an 'objects' folder
in or next to DATA_DIR. A table is printed and written to OUT_DIR/retarget_robot.json; clips that
cannot be read or whose IK does not converge are reported one line each and the rest converted.
Clips whose body positions do not follow their joint rotations (docs/data.md) are not converted
unless --repair-positions recomputes the positions. Clips of an object whose mesh cannot be read
are skipped, the rest converted, and the command ends with one error line naming the mesh file.
Exit status: 0 when a clip was converted (or all were already there), 2 when none could be or an
object's mesh could not be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.arguments import ArgumentParser, float_above, int_at_least  # fmt: skip
from intermimic.utils.errors import UserError, as_user_error, command, log  # fmt: skip

ROBOTS = ("g1_dex3",)
DEMO = "demo"
OBJECTS_DIR = "objects"
REPORT_NAME = "retarget_robot.json"
DEFAULT_MAX_ERROR_CM = 10.0
DEFAULT_SCALE = 0.75
"""The release's G1 scaling (``scaling: 0.75``)."""
PER_CLIP = "per-clip"


def scale_arg(text: str) -> float | None:
    """--scale: a positive number, or 'per-clip' (None: each clip's leg-length ratio)."""
    if text == PER_CLIP:
        return None
    try:
        return float_above(0)(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a number > 0 or '{PER_CLIP}', got '{text}'") from None


scale_arg.__name__ = f"number > 0 or '{PER_CLIP}'"


def build_parser():
    p = ArgumentParser(description=__doc__)
    p.add_argument("data", metavar="DATA_DIR", help="folder of SMPL-X clips (.pt), one clip file, or 'demo'")
    p.add_argument("out", metavar="OUT_DIR", help="folder for the robot clips (.npz) and the report")
    p.add_argument("--robot", choices=ROBOTS, default="g1_dex3", help="embodiment (default: %(default)s)")
    p.add_argument("--urdf", required=True, help="the robot's URDF (G1 + Dex3: g1_29dof_with_hand.urdf)")
    p.add_argument("--clips", nargs="+", metavar="NAME", help="clip names (file stems) to convert (default: all)")
    p.add_argument("--scale", type=scale_arg, default=DEFAULT_SCALE,
                   help="human -> robot size factor (default: %(default)s, the release's G1 scaling, for every clip, "
                   "so a subject's raw and teacher-corrected clips get one size); 'per-clip': each clip's robot leg "
                   "length / human leg length")  # fmt: skip
    p.add_argument("--objects-dir", "--objects_dir", dest="objects_dir",
                   help="object meshes (default: an 'objects' folder in or next to DATA_DIR)")
    p.add_argument("--max-frames", "--max_frames", dest="max_frames", type=int_at_least(2),
                   help="convert only the first N rows of each clip file (quick checks; a placeholder row 0 counts)")
    p.add_argument("--max-error-cm", "--max_error_cm", dest="max_error_cm", type=float_above(0),
                   default=DEFAULT_MAX_ERROR_CM, help="a clip whose mean key-body error exceeds this is reported "
                   "as not converged (default: %(default)s)")  # fmt: skip
    p.add_argument("--repair-positions", "--repair_positions", dest="repair_positions", action="store_true",
                   help="recompute body positions that do not follow the joint rotations (forward kinematics) "
                        "instead of leaving those clips unconverted (docs/data.md)")  # fmt: skip
    p.add_argument("--overwrite", action="store_true", help="replace robot clips that already exist in OUT_DIR")
    return p


# -------------------------------------------------------------------------------------------------
# Inputs
# -------------------------------------------------------------------------------------------------
class Source:
    """A clip to convert: its name, where it comes from, and how to read it."""

    def __init__(self, name: str, path: str, load, object_name: str | None = None):
        from intermimic.motion.clip_format import parse_clip_name

        self.name, self.path, self.load = name, path, load  # load() -> [T, 591] tensor; raises ClipError
        self.object = object_name if object_name is not None else (parse_clip_name(name).object or "")


def _file_source(path: Path) -> Source:
    from intermimic.motion.clip_io import load_clip_file

    return Source(path.stem, str(path), lambda: load_clip_file(path))


def find_sources(data: str, clips: list[str] | None) -> list[Source]:
    if data == DEMO and not Path(data).exists():
        from intermimic.motion.demo.clips import demo_clips

        found = [Source(c.info.name, f"demo:{c.info.name}", (lambda raw=c.raw: raw), c.info.object)
                 for c in demo_clips()]  # fmt: skip
    else:
        path = Path(data).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix == ".pt")
            if not files:
                raise UserError(f"DATA_DIR {data}: no clip files (.pt) in this folder")
            found = [_file_source(p) for p in files]
        elif path.is_file():
            found = [_file_source(path)]
        else:
            raise UserError(f"DATA_DIR {data}: no such file or folder (expected a folder of .pt clips, a clip file "
                            "or 'demo')")  # fmt: skip
    if clips:
        names = {s.name for s in found}
        unknown = [c for c in clips if c not in names]
        if unknown:
            raise UserError(f"--clips: no clip named {', '.join(unknown)} in {data} (it has {len(names)} clips, "
                            f"e.g. {', '.join(sorted(names)[:3])})")  # fmt: skip
        found = [s for s in found if s.name in set(clips)]
    return found


def objects_folder(data: str, given: str | None) -> str | None:
    if given is not None:
        if not Path(given).expanduser().is_dir():
            raise UserError(f"--objects-dir {given}: no such folder")
        return given
    if data == DEMO:
        return None
    path = Path(data).expanduser()
    base = path if path.is_dir() else path.parent
    for candidate in (base / OBJECTS_DIR, base.parent / OBJECTS_DIR):
        if candidate.is_dir():
            return str(candidate)
    return None


def read_source(src: Source, repair_positions: bool = False, repaired: list | None = None):
    """The clip tensor, validated, without leading placeholder rows (all body positions zero, as
    row 0 of teacher-corrected clips), and how many rows were dropped. With ``repair_positions``
    body positions off forward kinematics are recomputed (the faults go to ``repaired``)."""
    from intermimic.motion import clip_format as cf
    from intermimic.motion.validation import ClipError, check_clip

    clip = src.load()
    first = 0
    if hasattr(clip, "dim") and clip.dim() == 2 and clip.shape[1] == cf.CLIP_WIDTH:
        body = clip[:, cf.COLUMNS["body_pos"].slice]
        nonzero = (body.abs().sum(dim=1) > 0).nonzero()
        first = int(nonzero[0]) if len(nonzero) else clip.shape[0]
        clip = clip[first:]
        if clip.shape[0] == 0:
            raise ClipError(src.path, "every row is a zero placeholder (no body positions)")
    clip = check_clip(clip, src.path, min_frames=2, row_offset=first, repair_positions=repair_positions,
                      repaired=repaired)  # fmt: skip
    return clip, first


# -------------------------------------------------------------------------------------------------
# One clip
# -------------------------------------------------------------------------------------------------
class Surfaces:
    """Object surfaces by name, built once; ``None`` for objects without a mesh."""

    def __init__(self, objects_dir: str | None):
        from intermimic.assets.object_registry import ObjectRegistry

        self.registry = ObjectRegistry(objects_dir)
        self.cache: dict[str, object] = {}

    def get(self, name: str | None):
        from intermimic.assets.object_surface import ObjectSurface

        if not name or name not in self.registry.names():
            return None
        if name not in self.cache:
            self.cache[name] = ObjectSurface.from_mesh(self.registry.mesh(name))
        return self.cache[name]


def convert_clip(robot, src: Source, out_path: Path, surfaces: Surfaces, args) -> dict:
    """Retarget and write one clip; returns its report row. Raises ClipError / NotConverged."""
    from intermimic.motion.clip_format import CLIP_FPS
    from intermimic.motion.robot_clip import save_robot_clip
    from intermimic.retarget.robot_model import forward_kinematics
    from intermimic.retarget.robot_quality import measure
    from intermimic.retarget.robot_ik import NotConverged, solve, to_robot_clip
    from intermimic.retarget.robot_targets import HumanClip

    repaired: list = []
    clip, dropped = read_source(src, args.repair_positions, repaired)
    human = HumanClip.from_clip(clip, CLIP_FPS)
    if args.max_frames:  # file rows, so that a raw and a corrected clip cut alike stay aligned
        human = human.take(max(2, args.max_frames - dropped))
    object_name = src.object
    surface = surfaces.get(object_name)
    solution = solve(robot, human, scale=args.scale, surface=surface)
    kin = forward_kinematics(robot, solution.qpos)
    quality = measure(robot, human, solution, kin, surface)
    if not quality.key_error_mean_cm <= args.max_error_cm:
        raise NotConverged(f"mean key-body error {quality.key_error_mean_cm:.1f} cm exceeds --max-error-cm "
                           f"{args.max_error_cm:g} (worst: {quality.worst_key_body})")  # fmt: skip
    save_robot_clip(out_path, to_robot_clip(robot, solution, kin, human, src.name, object_name), overwrite=True)
    row = {"clip": src.name, "status": "converted", "file": str(out_path), "object": object_name,
           "object_mesh": surface is not None, **quality.as_dict()}  # fmt: skip
    if repaired:
        row["positions_repaired"] = [f.body for f in repaired]
    return row


# -------------------------------------------------------------------------------------------------
# Report
# -------------------------------------------------------------------------------------------------
COLUMNS = (
    ("clip", "clip", "{}"), ("frames", "frames", "{}"), ("key_error_mean_cm", "key cm", "{:.1f}"),
    ("key_error_max_cm", "key max", "{:.1f}"), ("contact_distance_error_mean_cm", "contact cm", "{:.1f}"),
    ("contact_distance_error_max_cm", "contact max", "{:.1f}"), ("penetration_max_cm", "pen. max", "{:.1f}"),
    ("joint_limit_hits_body_pct", "limits %", "{:.1f}"), ("foot_slide_mean_cm", "slide cm", "{:.1f}"),
    ("foot_slide_max_cm", "slide max", "{:.1f}"), ("self_penetration_frames", "self-pen.", "{}"),
    ("seconds_per_clip_second", "s/clip-s", "{:.2f}"),
)  # fmt: skip


def format_table(rows: list[dict]) -> str:
    cells = [[head for _, head, _ in COLUMNS]]
    for row in rows:
        cells.append(["-" if row.get(k) is None else fmt.format(row[k]) for k, _, fmt in COLUMNS])
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in cells]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def summary(rows: list[dict]) -> dict:
    done = [r for r in rows if r["status"] == "converted"]
    if not done:
        return {}
    frames = sum(r["frames"] for r in done)

    def weighted(key):
        vals = [(r[key], r["frames"]) for r in done if r.get(key) is not None]
        return round(sum(v * n for v, n in vals) / sum(n for _, n in vals), 3) if vals else None

    def worst(key):
        vals = [r[key] for r in done if r.get(key) is not None]
        return round(max(vals), 3) if vals else None

    return {
        "clips": len(done), "frames": frames, "key_error_mean_cm": weighted("key_error_mean_cm"),
        "key_error_max_cm": worst("key_error_max_cm"),
        "contact_distance_error_mean_cm": weighted("contact_distance_error_mean_cm"),
        "contact_distance_error_max_cm": worst("contact_distance_error_max_cm"),
        "penetration_max_cm": worst("penetration_max_cm"), "penetration_mean_cm": weighted("penetration_mean_cm"),
        "joint_limit_hits_body_pct": weighted("joint_limit_hits_body_pct"),
        "joint_limit_violations": sum(r["joint_limit_violations"] for r in done),
        "foot_slide_mean_cm": weighted("foot_slide_mean_cm"), "foot_slide_max_cm": worst("foot_slide_max_cm"),
        "self_penetration_frames": sum(r.get("self_penetration_frames", 0) for r in done),
        "self_penetration_max_cm": worst("self_penetration_max_cm"),
        "seconds_per_clip_second": weighted("seconds_per_clip_second"),
    }  # fmt: skip


def write_report(out_dir: Path, rows: list[dict], failed: list[dict], settings: dict) -> Path:
    from intermimic.utils.atomic_write import atomic_write_text

    report = {"settings": settings, "summary": summary(rows), "clips": rows, "failed": failed}
    return atomic_write_text(out_dir / REPORT_NAME, json.dumps(report, indent=2) + "\n")


# -------------------------------------------------------------------------------------------------
MANIFEST = "dataset.yaml"


def write_manifest(out_dir: Path, robot: str, data: str, objects_dir: str | None) -> Path:
    """A data-set manifest of the folder's robot clips (with the objects folder they need), its
    paths relative to itself (``${manifest_dir}``)."""
    from intermimic.utils.atomic_write import atomic_write_text

    lines = [f"description: {robot} robot clips retargeted by retarget-robot from {data}",
             "data_root: ${manifest_dir}", "files: [.]"]  # fmt: skip
    if objects_dir:  # relative to the manifest, symbolic links kept: the folders may move together
        relative = os.path.relpath(os.path.abspath(os.path.expanduser(objects_dir)), os.path.abspath(out_dir))
        lines.append(f"objects_dir: {json.dumps(relative)}")
    text = "\n".join(lines) + "\n"
    return atomic_write_text(out_dir / MANIFEST, text)


@command
def main(argv: list[str] | None = None) -> dict:
    args = build_parser().parse_args(argv)
    from intermimic.assets.object_registry import describe_mesh_problems
    from intermimic.motion.robot_clip import SUFFIX
    from intermimic.retarget.robot_model import load_robot
    from intermimic.retarget.robot_ik import NotConverged
    from intermimic.motion.threads import single_thread
    from intermimic.motion.validation import ClipError
    from intermimic.utils.progress import progress

    if not Path(args.urdf).expanduser().is_file():
        raise UserError(f"--urdf {args.urdf}: no such file (expected the G1 + Dex3 URDF, g1_29dof_with_hand.urdf)")
    sources = find_sources(args.data, args.clips)
    objects_dir = objects_folder(args.data, args.objects_dir)
    out_dir = Path(args.out).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"OUT_DIR {args.out}: exists and is not a folder")
    with as_user_error(FileNotFoundError, ValueError, context=f"--urdf {args.urdf}: "):
        robot = load_robot(args.urdf)
    with as_user_error(FileNotFoundError, ValueError, context="--objects-dir: "):
        surfaces = Surfaces(objects_dir)
    log(f"retargeting {len(sources)} clip(s) onto {args.robot} -> {out_dir}")
    mesh_problems = surfaces.registry.mesh_problems({s.object for s in sources if s.object})
    for name, problem in mesh_problems.items():
        log(f"object {name}: {problem}; its clips are skipped", file=sys.stderr)
    unmeshed = sorted({s.object or "(unnamed)" for s in sources} - set(surfaces.registry.names()))
    if unmeshed:
        log(f"no mesh for object(s) {', '.join(unmeshed)} in {objects_dir or 'the built-in objects'} "
            "(--objects-dir): their hand-object distances and penetration are not measured")  # fmt: skip

    rows, failed, kept = [], [], []
    mesh_skipped = 0
    start = time.perf_counter()
    with single_thread():
        for src in progress(sources, desc="retarget-robot", unit="clip", enabled=len(sources) > 1):
            out_path = out_dir / f"{src.name}{SUFFIX}"
            if out_path.exists() and not args.overwrite:
                kept.append(src.name)
                continue
            if src.object in mesh_problems:
                mesh_skipped += 1
                failed.append({"clip": src.name, "path": src.path, "reason": f"object '{src.object}': its mesh cannot "
                               f"be read: {mesh_problems[src.object]}"})  # fmt: skip
                continue
            try:
                rows.append(convert_clip(robot, src, out_path, surfaces, args))
            except (ClipError, NotConverged) as exc:
                reason = str(exc).removeprefix(f"{src.path}: ")
                failed.append({"clip": src.name, "path": src.path, "reason": reason})
    if rows:
        print(format_table(rows), flush=True)
    repaired = [f"{r['clip']} ({', '.join(r['positions_repaired'])})" for r in rows if r.get("positions_repaired")]
    if repaired:
        log(f"repaired body positions (--repair-positions) of {len(repaired)} clip(s): {', '.join(repaired)}")
    for f in failed:
        log(f"not converted: {f['path']}: {f['reason']}", file=sys.stderr)
    if kept:
        log(f"kept {len(kept)} existing robot clip(s) in {out_dir} (--overwrite replaces them)")
    settings = {"robot": args.robot, "urdf": str(Path(args.urdf).expanduser().resolve()), "data": args.data,
                "objects_dir": objects_dir, "scale": args.scale or "per clip (leg length ratio)",
                "max_frames": args.max_frames, "max_error_cm": args.max_error_cm,
                "repair_positions": args.repair_positions,
                "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    path = write_report(out_dir, rows, failed, settings)
    if rows or kept:
        manifest = write_manifest(out_dir, args.robot, args.data, objects_dir)
        log(f"train on these clips with --motion {manifest}")
    log(f"{len(rows)} converted, {len(failed)} not converted, {len(kept)} kept; report: {path}")
    if mesh_skipped:
        raise UserError(f"{describe_mesh_problems(mesh_problems)} ({mesh_skipped} clip(s) skipped, "
                        f"{len(rows)} converted; report: {path})")  # fmt: skip
    if not rows and failed:
        raise UserError(f"no clip converted ({len(failed)} could not be; reasons above and in {path})")
    return {"converted": rows, "failed": failed, "kept": kept, "report": str(path)}


if __name__ == "__main__":
    main()

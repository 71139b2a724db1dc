"""Inspect a motion data set: clip counts, durations, subjects, objects, rejected files.

    ./intermimic.sh data inspect PATH [--json] [--corrected DIR] [--objects-dir DIR] [--repair-positions]

PATH is a clip file, a folder of clips, a YAML manifest (e.g. config/datasets/omomo_sub2.yaml),
a folder in the InterMimic release layout (OMOMO_new/, OMOMO_retarget/, objects/), or
``demo`` for the built-in demo clips. Clips are read and validated exactly as training loads
them: body positions that do not follow the joint rotations are listed by clip, body and
frames (--repair-positions shows the data as training with dataset.repair_positions=true reads
it), object meshes that cannot be read are named. Exit status: 0 all clips loaded, 1 some files
rejected, 2 nothing usable or an object mesh unreadable.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.arguments import ArgumentParser, int_at_least  # noqa: E402
from intermimic.utils.errors import UserError, as_user_error, command  # noqa: E402

RAW_DIR, CORRECTED_DIR, OBJECTS_DIR = "OMOMO_new", "OMOMO_retarget", "objects"


def build_parser():
    p = ArgumentParser(description=__doc__)
    p.add_argument("path", help="clip file, folder, manifest (.yaml), release folder, or 'demo'")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--corrected", action="append", default=[], help="folder of teacher-corrected clips (repeatable)")
    p.add_argument("--objects-dir", help="object meshes (default: an 'objects' folder next to the clips)")
    p.add_argument("--future-horizon", type=int_at_least(0), default=16, help="shorter clips are rejected (default: %(default)s)")
    p.add_argument("--repair-positions", action="store_true",
                   help="recompute body positions that do not follow the joint rotations (forward kinematics) "
                        "instead of rejecting their clips, as dataset.repair_positions=true does for training")
    return p


def motion_cfg(args) -> SimpleNamespace:
    """The motion data config PATH stands for (release folders are expanded)."""
    path = Path(args.path).expanduser()
    files, corrected, objects_dir = [str(path)], list(args.corrected), args.objects_dir
    if path.is_dir() and (path / RAW_DIR).is_dir():  # the release layout
        files = [str(path / RAW_DIR)]
        if not corrected and (path / CORRECTED_DIR).is_dir():
            corrected = [str(path / CORRECTED_DIR)]
        if objects_dir is None and (path / OBJECTS_DIR).is_dir():
            objects_dir = str(path / OBJECTS_DIR)
    elif objects_dir is None and path.suffix not in (".yaml", ".yml"):
        sibling = (path if path.is_dir() else path.parent).parent / OBJECTS_DIR
        if sibling.is_dir():
            objects_dir = str(sibling)
    return SimpleNamespace(files=files, corrected=corrected, subjects=[], objects_dir=objects_dir, strict=False,
                           future_horizon=args.future_horizon, repair_positions=args.repair_positions)  # fmt: skip


def _group(clips, key) -> dict:
    out: dict = {}
    for c in clips:
        g = out.setdefault(key(c), {"clips": 0, "frames": 0})
        g["clips"] += 1
        g["frames"] += c.info.num_frames
    return dict(sorted(out.items()))


def _faults(entries) -> list[dict]:
    """(path, faults, row_offset) entries as JSON: frames are file rows, distances in cm."""
    return [{"path": path, "bodies": [
        {"body": f.body, "frames": [r + row_offset for r in f.frames], "max_offset_cm": round(100 * f.max_offset, 2),
         "max_bone_change_cm": round(100 * f.max_bone_change, 2)} for f in faults]}
        for path, faults, row_offset in entries]  # fmt: skip


def summarize(path: str, clips, rejected, skipped, objects_dir, corrected: bool, fps: float, report=None) -> dict:
    lengths = [c.info.num_frames for c in clips]
    frames = sum(lengths)
    by_subject = _group(clips, lambda c: c.info.subject)
    by_object = _group(clips, lambda c: c.info.object)
    for groups in (by_subject, by_object):
        for g in groups.values():
            g["seconds"] = round(g["frames"] / fps, 2)
    return {
        "path": path,
        "clips": len(clips),
        "rejected_files": len(rejected),
        "skipped_files": len(skipped),
        "frames": frames,
        "seconds": round(frames / fps, 2),
        "fps": fps,
        "clip_frames": {"min": min(lengths), "mean": round(frames / len(lengths), 1), "max": max(lengths)} if lengths else None,
        "sources": ["raw", "corrected"] if corrected else ["raw"],
        "objects_dir": objects_dir,
        "subjects": {str(k): v for k, v in by_subject.items()},
        "objects": by_object,
        "rejected": [{"path": r.path, "reason": r.reason} for r in rejected],
        "body_positions_off": _faults(report.position_faults if report else []),
        "body_positions_repaired": _faults(report.repaired if report else []),
        "unreadable_meshes": dict(report.mesh_problems) if report else {},
    }


def format_text(s: dict) -> str:
    fps = s["fps"]
    lines = [f"data set: {s['path']}"]
    lines.append(f"clips: {s['clips']} loaded, {s['rejected_files']} rejected, {s['skipped_files']} skipped by filters")
    if s["clip_frames"]:
        c = s["clip_frames"]
        lines.append(
            f"frames: {s['frames']} at {fps:g} fps = {s['seconds']:.1f} s ({s['seconds'] / 3600:.2f} h); per clip "
            f"{c['min']}/{c['mean']:g}/{c['max']} frames min/mean/max ({c['min'] / fps:.1f}/{c['mean'] / fps:.1f}/{c['max'] / fps:.1f} s)"
        )
    lines.append("sources: " + " + ".join(s["sources"]))
    lines.append(f"objects folder: {s['objects_dir'] or '(none: built-in objects only)'}")
    for title, groups in (("subjects", s["subjects"]), ("objects", s["objects"])):
        lines.append(f"{title}: {len(groups)}")
        lines += [f"  {k}: {g['clips']} clips, {g['seconds']:.1f} s" for k, g in groups.items()]
    from intermimic.motion.body_positions import POSITION_TOL, frame_ranges

    titles = {
        "body_positions_off": "body positions that do not follow the joint rotations (forward kinematics, tolerance "
        f"{100 * POSITION_TOL:g} cm; --repair-positions recomputes them): {{}} file(s) rejected",
        "body_positions_repaired": "body positions recomputed from the joint rotations (--repair-positions): {} file(s)",
    }  # fmt: skip
    for key, title in titles.items():
        if s[key]:
            lines.append(title.format(len(s[key])))
            for entry in s[key]:
                lines.append(f"  {entry['path']}")
                lines += [f"    {b['body']}: {len(b['frames'])} frame(s) ({frame_ranges(b['frames'])}), up to "
                          f"{b['max_offset_cm']:.1f} cm off, bone length change up to {b['max_bone_change_cm']:.1f} cm"
                          for b in entry["bodies"]]  # fmt: skip
    if s["unreadable_meshes"]:
        lines.append(f"unreadable object meshes: {len(s['unreadable_meshes'])} (their clips are rejected)")
        lines += [f"  {name}: {problem}" for name, problem in s["unreadable_meshes"].items()]
    if s["rejected"]:
        short = {f"object '{name}': {problem}": f"object '{name}': its mesh cannot be read (above)"
                 for name, problem in s["unreadable_meshes"].items()}  # fmt: skip
        listed = {e["path"] for e in s["body_positions_off"]}
        lines.append("rejected:")
        lines += [f"  {r['path']}: " + ("body positions do not follow the joint rotations (above)"
                                       if r["path"] in listed else short.get(r["reason"], r["reason"]))
                  for r in s["rejected"]]  # fmt: skip
    return "\n".join(lines)


@command
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from intermimic.motion.clip_format import CLIP_FPS

    report = None
    if args.path == "demo":
        from intermimic.motion.demo import demo_clips

        clips, rejected, skipped, objects_dir, corrected = demo_clips(), [], [], None, True
    else:
        from intermimic.motion.reader import read_dataset_report

        with as_user_error(FileNotFoundError, ValueError, context="data inspect: "):
            report = read_dataset_report(motion_cfg(args), progress=not args.json)
        clips, rejected, skipped = report.clips, report.rejected, report.skipped
        objects_dir, corrected = report.objects_dir, report.corrected
    summary = summarize(args.path, clips, rejected, skipped, objects_dir, corrected, CLIP_FPS, report)
    print(json.dumps(summary, indent=2) if args.json else format_text(summary))
    if report is not None and report.mesh_problems:
        from intermimic.assets.object_registry import describe_mesh_problems

        raise UserError(describe_mesh_problems(report.mesh_problems))
    if not clips:
        return 2
    return 1 if rejected else 0


if __name__ == "__main__":
    sys.exit(main())

"""Convert SMPL-X motion + object poses (OMOMO-style sequences) into InterMimic clips.

    ./intermimic.sh convert --smplx-models ~/models --objects-dir ~/omomo/objects \
        --out ~/omomo/clips data/omomo/train_diffusion_manip_seq_joints24.p

Each input file holds one sequence (a mapping of arrays) or a mapping of sequences; see
docs/data.md for the keys. Every sequence becomes ``<out>/sub{ID}_{object}_{index}.pt``,
validated like any loaded clip (body positions included: --repair-positions recomputes those that
do not follow the joint rotations). Sequences of an object whose mesh cannot be read are skipped,
the rest converted, and the command ends with one error line naming the mesh file. Each clip file appears complete or not at all (a killed run
leaves no half-written clip); existing clips are kept unless ``--overwrite``. SMPL-X model
files are user-supplied (licence).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.arguments import ArgumentParser, float_above  # noqa: E402
from intermimic.utils.errors import UserError, as_user_error, command, log  # noqa: E402


def build_parser():
    p = ArgumentParser(description=__doc__)
    p.add_argument("inputs", nargs="+", help="sequence files (.npz, .pt, .pkl, .p) or folders of them")
    p.add_argument("--smplx-models", required=True, help="folder with SMPLX_{NEUTRAL,MALE,FEMALE}.npz (or smplx/ inside it)")
    p.add_argument("--objects-dir", help="object meshes (<name>/<name>.obj or <name>.urdf)")
    p.add_argument("--out", default="converted_clips", help="output folder (default: %(default)s)")
    p.add_argument("--subject", type=int, help="subject id for every sequence (default: from its name)")
    p.add_argument("--object", dest="object_name", help="object name for every sequence (default: from its name)")
    p.add_argument("--up-axis", choices=("z", "y"), default="z", help="up axis of the input world (OMOMO: z)")
    p.add_argument("--object-frame", choices=("raw", "centred"), default="raw",
                   help="object poses move the mesh as stored (raw, OMOMO) or centred on its vertex mean")
    p.add_argument("--no-floor", action="store_true", help="keep heights as given (default: lowest skin vertex at z=0)")
    p.add_argument("--contact-distance", type=float_above(0), default=0.02, help="body-object distance for label +1 (m)")
    p.add_argument("--penalize-distance", type=float_above(0), default=0.10, help="body-object distance for label -1 (m)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--repair-positions", action="store_true",
                   help="recompute body positions that do not follow the joint rotations (forward kinematics) "
                        "instead of leaving the sequence unconverted (docs/data.md)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    return p


def _input_files(inputs: list[str]) -> list[Path]:
    files = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".npz", ".pt", ".pkl", ".p"))
        elif path.is_file():
            files.append(path)
        else:
            raise UserError(f"input not found: {path}")
    if not files:
        raise UserError(f"no sequence files (.npz, .pt, .pkl, .p) in {inputs}")
    return files


@command
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.penalize_distance <= args.contact_distance:
        raise UserError(f"--penalize-distance {args.penalize_distance}: expected more than --contact-distance "
                        f"{args.contact_distance}")  # fmt: skip
    from intermimic.assets.object_registry import ObjectRegistry, describe_mesh_problems
    from intermimic.motion.clip_io import save_clip_file
    from intermimic.motion.convert.smplx_sequence import (  # fmt: skip
        ConvertOptions,
        convert_sequence,
        find_model_file,
        pose_smplx,
        read_sequences,
    )
    from intermimic.motion.validation import ClipError, check_clip
    from intermimic.utils.progress import progress

    with as_user_error(FileNotFoundError, KeyError, ValueError):
        overrides = {"subject": args.subject, "object_name": args.object_name}
        sequences = [s for f in _input_files(args.inputs) for s in read_sequences(f, **overrides)]
        for gender in sorted({s.gender for s in sequences}):
            find_model_file(args.smplx_models, gender)  # fail before any work
        registry = ObjectRegistry(args.objects_dir)
        missing = sorted({s.object for s in sequences} - set(registry.names()))
        if missing:
            raise KeyError(f"objects {missing} have no mesh in {args.objects_dir or 'the built-in objects'}; "
                           f"known: {registry.names()}")  # fmt: skip
    mesh_problems = registry.mesh_problems({s.object for s in sequences})

    options = ConvertOptions(
        up_axis=args.up_axis, object_frame=args.object_frame, floor=not args.no_floor,
        contact_distance=args.contact_distance, penalize_distance=args.penalize_distance,
    )  # fmt: skip
    out = Path(args.out).expanduser()
    written, skipped, mesh_skipped, failed = 0, 0, 0, []
    for seq in progress(sequences, desc="converting", unit="sequence"):
        target = out / f"{seq.name}.pt"
        if target.exists() and not args.overwrite:
            skipped += 1
            continue
        if seq.object in mesh_problems:
            failed.append(f"{seq.name}: object '{seq.object}': its mesh cannot be read")
            mesh_skipped += 1
            continue
        body = pose_smplx(seq, args.smplx_models, device=args.device)
        clip = convert_sequence(seq, body, registry, options)
        try:
            clip = check_clip(clip, target, min_frames=1, repair_positions=args.repair_positions)
        except ClipError as exc:
            failed.append(str(exc))
            continue
        try:  # complete or absent, never half-written; existing clips only replaced with --overwrite
            save_clip_file(target, clip, overwrite=args.overwrite)
        except FileExistsError:  # created meanwhile by another process
            skipped += 1
            continue
        written += 1
    print(f"wrote {written} clip(s) to {out}" + (f"; {skipped} existing file(s) kept (use --overwrite)" if skipped else ""))
    for line in failed:
        log(f"not converted: {line}", file=sys.stderr)
    if mesh_skipped:
        raise UserError(f"{describe_mesh_problems(mesh_problems)} ({len(failed)} sequence(s) not converted, "
                        f"{written} written)")  # fmt: skip
    if failed:
        raise UserError(f"{len(failed)} sequence(s) not converted (reasons above), {written} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())

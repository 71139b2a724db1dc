"""Convert motion data into InterMimic clips (docs/data.md).

    ./intermimic.sh convert --format interact DATA_ROOT --dataset behave --body-models ~/models --out data/behave
    ./intermimic.sh convert --preset behave                      # paths from config/datasets/behave.yaml
    ./intermimic.sh convert --body-models ~/models --objects-dir ~/omomo/objects --out ~/omomo/clips \\
        ~/omomo/train_diffusion_manip_seq_joints24.p               # --format smplx-sequence (the default)
    ./intermimic.sh convert --format joints --objects-dir OBJECTS --out OUT generated/*.npz

Formats (``--format``):

* ``interact``: every sequence of one of InterAct's data sets (behave, omomo, neuraldome, imhd,
  intercap, grab), or those ``--sequences`` names; ``DATA_ROOT`` is InterAct's ``data`` folder
  (or the data set's own folder), object meshes come from its ``objects/``;
* ``smplx-sequence``: SMPL-X parameters + object poses (OMOMO's files, CHOIS and HOIDiNi output);
* ``joints``: joint positions + object poses (HOI-Diff, InterAct's text2interaction), rotations
  by inverse kinematics onto the humanoid.

The output folder gets the clips (``--format-out clip``, or ``release_pt``: the authors'
release's ``.pt`` layout), the objects' meshes, a humanoid per subject (``humanoids/``),
``dataset.yaml`` (train with ``--motion OUT/dataset.yaml``) and ``report.json``/``report.txt``.
Every file appears complete or not at all; a clip already there that passes validation is
kept (a stopped run resumes), ``--overwrite`` converts again. Every clip is validated like a
loaded one, body positions included (``--repair-positions`` recomputes those that do not follow
the joint rotations). A sequence that cannot be converted gets one line naming its file and
field, and the others convert; sequences of an object whose mesh cannot be read are skipped and
the command ends with one error line naming the mesh file. Exit status: 0 everything converted,
1 some sequences skipped, 2 nothing converted, a mesh that cannot be read, or a bad command line.
Body-model files (SMPL-H, SMPL-X) are the user's (licence; docs/data.md says where to get them).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# The inverse kinematics of --format joints is many small matrix products: one BLAS thread is
# several times faster than a pool of them (set before numpy loads; a value you set is kept).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.arguments import ArgumentParser, float_above  # noqa: E402
from intermimic.utils.errors import UserError, as_user_error, command, log  # noqa: E402

FORMATS = ("smplx-sequence", "interact", "joints")
DATASETS = ("behave", "omomo", "neuraldome", "imhd", "intercap", "grab")
"""InterAct's data sets (the same list as ``intermimic.motion.convert.interact.DATASETS``)."""


def build_parser():
    p = ArgumentParser(description=__doc__)
    p.add_argument("inputs", nargs="*", help="interact: DATA_ROOT (InterAct's data folder, or one data set's); other "
                                             "formats: sequence files (.npz, .pt, .pkl, .p) or folders of them")  # fmt: skip
    p.add_argument("--format", choices=FORMATS, default="smplx-sequence", help="input format (default: %(default)s)")
    p.add_argument("--format-out", choices=("clip", "release_pt"), default="clip",
                   help="clip files as the package writes them (default), or the authors' release's .pt layout")
    p.add_argument("--dataset", choices=DATASETS, help="interact: which data set")
    p.add_argument("--preset", help="a data set preset (config/datasets/<name>.yaml) whose 'convert' section gives "
                                    "DATA_ROOT, --dataset and --body-models, and whose data_root is --out")  # fmt: skip
    p.add_argument("--body-models", "--smplx-models", dest="body_models",
                   help="folder of the SMPL-H / SMPL-X model files (smplh/, smplx/; see docs/data.md)")
    p.add_argument("--objects-dir", help="object meshes (<name>/<name>.obj or <name>.urdf); interact: DATA_ROOT's objects/")
    p.add_argument("--out", help="output folder (default: converted_clips)")
    p.add_argument("--sequences", nargs="+", metavar="ID", help="interact: convert only these sequences (folder names)")
    p.add_argument("--sequence-list", help="interact: a text file with one sequence id per line")
    p.add_argument("--sequences-folder", choices=("auto", "sequences_canonical", "sequences"), default="auto",
                   help="interact: which sequences folder (default: sequences_canonical when present, as InterAct's "
                        "converter reads, else sequences)")  # fmt: skip
    p.add_argument("--fps", type=float_above(0), help="frame rate of the input when its files do not say (a multiple "
                                                      "of 30; taken every n-th frame)")  # fmt: skip
    p.add_argument("--subject", type=int, help="subject id for every sequence (default: from its name)")
    p.add_argument("--object", dest="object_name", help="object name for every sequence (default: from its name)")
    p.add_argument("--up-axis", choices=("z", "y"), default=None, help="up axis of the input world (default: z; interact: y)")
    p.add_argument("--object-frame", choices=("raw", "centred"), default="raw",
                   help="object poses move the mesh as stored (raw, default) or centred on its vertex mean")
    p.add_argument("--no-floor", action="store_true", help="keep heights as given (default: lowest skin point at z=0)")
    p.add_argument("--skeleton", choices=("fit", "canonical"), default="fit",
                   help="joints: bone lengths measured in the input (fit, default) or the humanoid's own")
    p.add_argument("--contact-distance", type=float_above(0), default=0.02, help="body-object distance for label +1 (m)")
    p.add_argument("--penalize-distance", type=float_above(0), default=0.10, help="body-object distance for label -1 (m)")
    p.add_argument("--contact-rule", choices=("distance", "interact"), default=None,
                   help="contact labels as InterAct's converter derives them (interact; the default of --format "
                        "interact) or by the package's distance rule (distance; the default of the other formats); "
                        "docs/data.md compares them")  # fmt: skip
    p.add_argument("--device", default="cpu", help="where the body model runs (cpu, cuda)")
    p.add_argument("--repair-positions", action="store_true",
                   help="recompute body positions that do not follow the joint rotations (forward kinematics) "
                        "instead of skipping the sequence (docs/data.md)")  # fmt: skip
    p.add_argument("--overwrite", action="store_true", help="convert again sequences whose clip exists and is valid")
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


def apply_preset(args) -> None:
    """Fill DATA_ROOT, --dataset, --body-models, --format and --out from a data set preset's ``convert`` section."""
    from omegaconf import OmegaConf

    from intermimic.app.presets import dataset_overrides, load_preset

    with as_user_error(FileNotFoundError, KeyError, ValueError, context=f"--preset {args.preset}: "):
        raw = OmegaConf.to_container(load_preset("datasets", args.preset), resolve=True) or {}
        section = raw.get("convert") or {}
        if not section:
            raise ValueError("has no 'convert' section (source, dataset, body_models)")
        out = dataset_overrides(args.preset, []).get("files", [None])[0]
    from intermimic.utils.paths import REPO_ROOT

    def path(value):  # relative to the repository root, as data_root is
        p = Path(os.path.expanduser(str(value)))
        return os.path.normpath(p if p.is_absolute() else REPO_ROOT / p)

    args.format = section.get("format", "interact") if args.format == "smplx-sequence" else args.format
    args.dataset = args.dataset or section.get("dataset")
    args.body_models = args.body_models or (path(section["body_models"]) if section.get("body_models") else None)
    if not args.inputs and section.get("source"):
        args.inputs = [path(section["source"])]
    args.out = args.out or out
    where = f"(set {{}} or edit config/datasets/{args.preset}.yaml)"
    if args.inputs and not Path(args.inputs[0]).is_dir():
        raise UserError(f"--preset {args.preset}: InterAct data folder {args.inputs[0]} not found "
                        + where.format("INTERACT_DATA_ROOT"))  # fmt: skip
    if args.body_models and not Path(args.body_models).is_dir():
        raise UserError(f"--preset {args.preset}: body-model folder {args.body_models} not found "
                        + where.format("INTERMIMIC_BODY_MODELS"))  # fmt: skip


@command
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.preset:
        apply_preset(args)
    if args.contact_rule is None:  # InterAct's data keep InterAct's labels; other formats the package's rule
        args.contact_rule = "interact" if args.format == "interact" else "distance"
    if args.penalize_distance <= args.contact_distance:
        raise UserError(f"--penalize-distance {args.penalize_distance}: expected more than --contact-distance "
                        f"{args.contact_distance}")  # fmt: skip
    if not args.inputs:
        raise UserError("no input: give DATA_ROOT (--format interact) or sequence files (see --help)")
    out = Path(args.out or "converted_clips").expanduser()
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    jobs, registry, meta = {"interact": interact_jobs, "smplx-sequence": smplx_jobs, "joints": joints_jobs}[args.format](args)
    return run_jobs(jobs, registry, out, args, meta)


# -------------------------------------------------------------------------------------------------
# One job per sequence: (id, clip name, subject, object, make) with make() -> Converted
# -------------------------------------------------------------------------------------------------
def interact_jobs(args):
    from intermimic.assets.object_registry import ObjectRegistry
    from intermimic.motion.convert.body_model import ModelCache, find_model_file
    from intermimic.motion.convert.dataset_writer import Converted
    from intermimic.motion.convert.interact import (  # fmt: skip
        DATASETS as CONVENTIONS,
        convert_sequence,
        dataset_root,
        interact_options,
        read_sequence,
        scan_sequences,
        sequences_folder,
    )

    if not args.dataset:
        raise UserError(f"--format interact needs --dataset (one of {', '.join(DATASETS)})")
    if len(args.inputs) != 1:
        raise UserError(f"--format interact takes one DATA_ROOT, got {len(args.inputs)}: {' '.join(args.inputs)}")
    if not args.body_models:
        raise UserError("--format interact needs --body-models DIR (the SMPL-H / SMPL-X model files; docs/data.md)")
    if not Path(args.body_models).expanduser().is_dir():
        raise UserError(f"--body-models {args.body_models}: no such folder")
    convention = CONVENTIONS[args.dataset]
    only = list(args.sequences or [])
    if args.sequence_list:
        with as_user_error(OSError, context="--sequence-list: "):
            only += [s.strip() for s in Path(args.sequence_list).expanduser().read_text().splitlines() if s.strip()]
    with as_user_error(FileNotFoundError):
        root = dataset_root(args.inputs[0], args.dataset)
        folder = sequences_folder(root, args.sequences_folder)
        infos = scan_sequences(folder, only or None)
        objects_dir = Path(args.objects_dir).expanduser() if args.objects_dir else root / "objects"
        registry = ObjectRegistry(objects_dir)
    models = ModelCache(args.body_models, args.device)
    missing = {}
    for gender in sorted({i.gender for i in infos if i.gender}):
        try:
            find_model_file(args.body_models, convention.model_type, gender, convention.prefer)
        except (FileNotFoundError, ValueError) as exc:
            missing[gender] = str(exc)
    if infos and all(i.problem is None and i.gender in missing for i in infos):
        raise UserError(next(iter(missing.values())))
    options = interact_options(
        floor=not args.no_floor, contact_distance=args.contact_distance, penalize_distance=args.penalize_distance,
        contact_rule=args.contact_rule, **({"up_axis": args.up_axis} if args.up_axis else {}),
    )  # fmt: skip

    def make(info):
        def run():
            if info.gender in missing:
                raise FileNotFoundError(f"{info.human}: field 'gender' is '{info.gender}': {missing[info.gender]}")
            seq = read_sequence(info, convention, args.fps)
            done = convert_sequence(seq, convention, models, registry, options)
            return Converted(done.clip, seq.object, done.body_offsets, str(done.model_file), seq.notes)

        return run

    jobs = [(i.id, i.clip_name, i.subject, i.clip_object, make(i)) for i in infos]
    meta = {"format": "interact", "dataset": args.dataset, "source": str(folder), "objects_dir": str(objects_dir),
            "body_models": str(Path(args.body_models).expanduser().resolve()), "model_type": convention.model_type,
            "description": f"{args.dataset} (InterAct) converted to InterMimic clips"}  # fmt: skip
    return jobs, registry, meta


def smplx_jobs(args):
    from intermimic.assets.object_registry import ObjectRegistry
    from intermimic.motion.convert.body_model import ModelCache, body_offsets_from_rest_joints
    from intermimic.motion.convert.dataset_writer import Converted
    from intermimic.motion.convert.smplx_sequence import (  # fmt: skip
        ConvertOptions,
        convert_sequence,
        find_model_file,
        pose_smplx,
        read_sequences,
    )

    with as_user_error(FileNotFoundError, KeyError, ValueError):
        overrides = {"subject": args.subject, "object_name": args.object_name}
        sequences = [s for f in _input_files(args.inputs) for s in read_sequences(f, **overrides)]
        for gender in sorted({s.gender for s in sequences}):
            find_model_file(args.body_models, gender)  # fail before any work
        registry = ObjectRegistry(args.objects_dir)
        missing = sorted({s.object for s in sequences} - set(registry.names()))
        if missing:
            raise KeyError(f"objects {missing} have no mesh in {args.objects_dir or 'the built-in objects'}; "
                           f"known: {registry.names()}")  # fmt: skip
    options = ConvertOptions(
        up_axis=args.up_axis or "z", object_frame=args.object_frame, floor=not args.no_floor,
        contact_distance=args.contact_distance, penalize_distance=args.penalize_distance, contact_rule=args.contact_rule,
    )  # fmt: skip
    models = ModelCache(args.body_models, args.device)

    def make(seq):
        def run():
            body = pose_smplx(seq, args.body_models, device=args.device, models=models)
            model = models.get("smplx", seq.gender)
            template = model.shaped_template(betas=seq.betas.numpy())
            skeleton = body_offsets_from_rest_joints(model.rest_joints(template), model.kind)
            return Converted(convert_sequence(seq, body, registry, options), seq.object, skeleton, str(model.path))

        return run

    jobs = [(s.name, s.name, s.subject, s.object, make(s)) for s in sequences]
    meta = {"format": "smplx-sequence", "source": ", ".join(args.inputs), "objects_dir": args.objects_dir,
            "description": "SMPL-X sequences converted to InterMimic clips"}  # fmt: skip
    return jobs, registry, meta


def joints_jobs(args):
    from intermimic.assets.object_registry import ObjectRegistry
    from intermimic.motion.convert.dataset_writer import Converted
    from intermimic.motion.convert.joints import convert_joint_sequence, read_sequences
    from intermimic.motion.convert.posed_body import ConvertOptions

    with as_user_error(FileNotFoundError, KeyError, ValueError):
        overrides = {"subject": args.subject, "object_name": args.object_name, "up_axis": args.up_axis or "z",
                     "fps": args.fps}  # fmt: skip
        sequences = [s for f in _input_files(args.inputs) for s in read_sequences(f, **overrides)]
        registry = ObjectRegistry(args.objects_dir)
    options = ConvertOptions(object_frame=args.object_frame, floor=not args.no_floor, contact_rule=args.contact_rule,
                             contact_distance=args.contact_distance, penalize_distance=args.penalize_distance)  # fmt: skip

    def make(seq):
        def run():
            if seq.object not in registry.names():
                raise KeyError(f"{seq.name}: object '{seq.object}' has no mesh in {args.objects_dir or 'the built-in objects'}"
                               f" (known: {', '.join(registry.names())})")  # fmt: skip
            done = convert_joint_sequence(seq, registry, options, skeleton=args.skeleton)
            notes = seq.notes + done.notes()
            return Converted(done.clip, seq.object, done.body_offsets, None, notes)

        return run

    jobs = [(s.name, s.name, s.subject, s.object, make(s)) for s in sequences]
    meta = {"format": "joints", "source": ", ".join(args.inputs), "objects_dir": args.objects_dir,
            "skeleton": args.skeleton, "description": "joint-position sequences converted to InterMimic clips"}  # fmt: skip
    return jobs, registry, meta


# -------------------------------------------------------------------------------------------------
def run_jobs(jobs, registry, out: Path, args, meta: dict) -> int:
    from intermimic.motion.convert.dataset_writer import MANIFEST, REPORT_TEXT, DatasetWriter, format_report
    from intermimic.motion.threads import single_thread
    from intermimic.utils.progress import progress

    writer = DatasetWriter(out, registry, out_format=args.format_out, overwrite=args.overwrite,
                           repair_positions=args.repair_positions)  # fmt: skip
    meta = {**meta, "format_out": args.format_out, "contact_rule": args.contact_rule}
    log(f"converting {len(jobs)} sequence(s) ({args.format}) -> {out}")
    with single_thread():
        for sequence_id, clip_name, subject, object_name, make in progress(jobs, desc="convert", unit="sequence",
                                                                            enabled=len(jobs) > 1):  # fmt: skip
            if clip_name is None:  # the sequence's files could not even be looked at
                make_error = _first_error(make)
                writer.results.append(_skipped(sequence_id, make_error))
                log(f"skipped {sequence_id}: {make_error}", file=sys.stderr)
                continue
            result = writer.convert(sequence_id, clip_name, subject, object_name, make)
            if result.status == "skipped":
                log(f"skipped {sequence_id}: {result.reason}", file=sys.stderr)
    report = writer.finish(meta)
    s = report["summary"]
    print(format_report(report).split("\n\n")[0], flush=True)
    if s["converted"] + s["kept"]:
        log(f"train on these clips with --motion {writer.out / MANIFEST}")
    log(f"{s['converted']} converted, {s['kept']} kept, {s['skipped']} skipped; report: {writer.out / REPORT_TEXT}")
    if writer.mesh_problems:
        from intermimic.assets.object_registry import describe_mesh_problems

        raise UserError(f"{describe_mesh_problems(writer.mesh_problems)} ({s['skipped']} sequence(s) skipped, "
                        f"{s['converted'] + s['kept']} written)")  # fmt: skip
    if not (s["converted"] + s["kept"]):
        return 2
    return 1 if s["skipped"] else 0


def _first_error(make) -> str:
    try:
        make()
    except (ValueError, KeyError, FileNotFoundError) as exc:
        return str(exc).strip("'\"")
    return "cannot be read"


def _skipped(sequence_id: str, reason: str):
    from intermimic.motion.convert.dataset_writer import SequenceResult

    return SequenceResult(sequence_id, None, "skipped", reason)


if __name__ == "__main__":
    sys.exit(main())

"""Reading data sets of InterMimic clips: single files, folders and YAML manifests.

:func:`read_dataset_report` finds every clip a motion data config names, pairs it with its
teacher-corrected clip when corrected folders are given, validates both, and returns the good
clips together with every rejected file and its reason. Nothing is dropped silently: a file is
either loaded, rejected with a reason, or skipped by an explicit subject/object filter (and
counted as such). With ``strict`` the first problem raises instead.

Manifest (``.yaml``) keys, all optional except one of ``files``/``clips``::

    description: free text
    data_root: base of the relative paths below (itself relative to the repository root);
               may read an environment variable: ${oc.env:INTERMIMIC_DATA_ROOT,../shared/data/...}
               or name the manifest's own folder: ${manifest_dir} (paths relative to the manifest)
    files: [clip files, folders, or other manifests]
    corrected: [folders of teacher-corrected clips, matched by file name]
    subjects: [subject ids to keep]
    objects: [object names to keep]
    objects_dir: folder of object meshes
    strict: true/false
    repair_positions: true/false (body positions from forward kinematics of the joint rotations)
    clips:     # explicit clips, with optional overrides of what the file name says
      - {file: path.pt, corrected: path.pt, subject: 3, object: box}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..assets.object_registry import ObjectRegistry
from ..utils.paths import REPO_ROOT
from . import validation as val
from .clip_format import parse_clip_name
from .clip_io import load_clip_file
from .library import ClipInfo, LoadedClip, Rejection, format_rejections
from .robot_library import read_robot_pair

MANIFEST_SUFFIXES = (".yaml", ".yml")
CLIP_SUFFIXES = (".pt", ".npz")
"""SMPL-X clips (``.pt``, the 591-column format) and robot clips (``.npz``, from ``retarget-robot``)."""
MANIFEST_KEYS = ("description", "data_root", "files", "corrected", "subjects", "objects", "objects_dir", "strict",
                 "repair_positions", "clips", "convert")  # fmt: skip


@dataclass
class ClipSource:
    """A clip file to read, with what is known about it before reading."""

    path: Path
    subject: int | None = None
    object: str | None = None
    corrected: Path | None = None
    corrected_dirs: tuple[Path, ...] = ()
    subjects: tuple[int, ...] = ()
    """Subject filter of the manifest that listed the clip (empty: all)."""
    objects: tuple[str, ...] = ()
    """Object filter of the manifest that listed the clip (empty: all)."""

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass
class DatasetReport:
    """What reading a data set produced."""

    clips: list[LoadedClip]
    rejected: list[Rejection] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Files left out on purpose by a subject or object filter."""
    objects_dir: str | None = None
    corrected: bool = False
    """Whether teacher-corrected clips were requested (and paired with every loaded clip)."""
    mesh_problems: dict[str, str] = field(default_factory=dict)
    """Objects whose mesh cannot be read (their clips are rejected): object -> problem naming the file."""
    position_faults: list[tuple[str, list, int]] = field(default_factory=list)
    """Files rejected because body positions do not follow the joint rotations: (path, faults, file row of
    the faults' frame 0) (:class:`~intermimic.motion.body_positions.BodyFault`)."""
    repaired: list[tuple[str, list, int]] = field(default_factory=list)
    """Files whose body positions the repair (``repair_positions``) replaced, same layout."""

    def summary_text(self) -> str:
        frames = sum(c.info.num_frames for c in self.clips)
        subjects = sorted({c.info.subject for c in self.clips})
        objects = sorted({c.info.object for c in self.clips})
        lines = [
            f"loaded {len(self.clips)} clips ({frames} frames), subjects {subjects}, objects {objects}"
            + (", with teacher-corrected references" if self.corrected else "")
        ]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} file(s) by subject/object filters")
        if self.repaired:
            lines.append(f"repaired body positions in {len(self.repaired)} file(s) (repair_positions)")
        lines += format_rejections(self.rejected)
        return "\n".join(lines)


# -------------------------------------------------------------------------------------------------
# Finding clip files
# -------------------------------------------------------------------------------------------------
@dataclass
class _Found:
    sources: list[ClipSource] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    objects_dirs: list[str] = field(default_factory=list)
    strict: bool | None = None
    repair_positions: bool | None = None


def _resolve(value, root: Path) -> Path:
    p = Path(os.path.expanduser(str(value)))
    return p if p.is_absolute() else root / p


def _check_exists(path: Path, what: str) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found: {path}")


def _expand_path(path: Path, corrected_dirs: tuple[Path, ...], found: _Found, seen: set[Path]) -> None:
    """Add the clips a file, folder or manifest names."""
    _check_exists(path, "motion data path")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in CLIP_SUFFIXES)
        if not files:
            found.rejected.append(Rejection(str(path), "folder holds no clip files (.pt, or .npz robot clips)"))
        found.sources += [ClipSource(p, corrected_dirs=corrected_dirs) for p in files]
    elif path.suffix in MANIFEST_SUFFIXES:
        _read_manifest(path, corrected_dirs, found, seen)
    elif path.suffix in CLIP_SUFFIXES:
        found.sources.append(ClipSource(path, corrected_dirs=corrected_dirs))
    else:
        found.rejected.append(
            Rejection(str(path), "not a clip file (.pt, .npz robot clip), a folder of clips or a manifest (.yaml/.yml)")
        )


MANIFEST_DIR = "manifest_dir"
"""What a manifest's values may interpolate (``${manifest_dir}``) for the manifest's own folder."""


def _read_manifest(path: Path, corrected_dirs: tuple[Path, ...], found: _Found, seen: set[Path]) -> None:
    from omegaconf import DictConfig, OmegaConf

    key = path.resolve()
    if key in seen:
        raise ValueError(f"manifest {path} includes itself (directly or through other manifests)")
    seen = seen | {key}
    try:
        loaded = OmegaConf.load(path)
        if isinstance(loaded, DictConfig):  # ${manifest_dir}: the manifest's folder (symbolic links kept)
            loaded = OmegaConf.merge({MANIFEST_DIR: os.path.abspath(path.parent)}, loaded)
        data = OmegaConf.to_container(loaded, resolve=True) or {}
    except Exception as exc:
        raise ValueError(f"{path}: cannot read the manifest: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a manifest must be a mapping with keys {list(MANIFEST_KEYS)}")
    data.pop(MANIFEST_DIR, None)
    unknown = sorted(set(data) - set(MANIFEST_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown manifest keys {unknown}; expected some of {list(MANIFEST_KEYS)}")
    root = _resolve(data.get("data_root", "."), REPO_ROOT)
    subjects = tuple(int(s) for s in data.get("subjects") or ())
    objects = tuple(str(o) for o in data.get("objects") or ())
    own_corrected = tuple(_resolve(c, root) for c in data.get("corrected") or ())
    for c in own_corrected:
        _check_exists(c, f"{path}: corrected clips folder")
    dirs = own_corrected or corrected_dirs
    if data.get("objects_dir"):
        found.objects_dirs.append(str(_resolve(data["objects_dir"], root)))
    if data.get("strict") is not None:
        found.strict = bool(data["strict"])
    if data.get("repair_positions") is not None:
        found.repair_positions = bool(data["repair_positions"])
    start = len(found.sources)
    for item in data.get("files") or ():
        _expand_path(_resolve(item, root), dirs, found, seen)
    for i, item in enumerate(data.get("clips") or ()):
        if isinstance(item, str):
            item = {"file": item}
        if not isinstance(item, dict) or "file" not in item:
            raise ValueError(f"{path}: clips[{i}] must be a file path or a mapping with a 'file' key")
        extra = sorted(set(item) - {"file", "corrected", "subject", "object"})
        if extra:
            raise ValueError(f"{path}: clips[{i}] has unknown keys {extra}; expected file, corrected, subject, object")
        clip_path = _resolve(item["file"], root)
        _check_exists(clip_path, f"{path}: clips[{i}] file")
        corrected = _resolve(item["corrected"], root) if item.get("corrected") else None
        if corrected is not None:
            _check_exists(corrected, f"{path}: clips[{i}] corrected file")
        found.sources.append(
            ClipSource(
                clip_path, subject=int(item["subject"]) if item.get("subject") is not None else None,
                object=item.get("object"), corrected=corrected, corrected_dirs=dirs,
            )
        )  # fmt: skip
    if not data.get("files") and not data.get("clips"):
        raise ValueError(f"{path}: the manifest lists no clips (give 'files' or 'clips')")
    for s in found.sources[start:]:
        s.subjects = s.subjects or subjects
        s.objects = s.objects or objects


def find_clips(cfg) -> _Found:
    """Every clip file the config names (files, folders, manifests), before reading any."""
    found = _Found()
    corrected_dirs = tuple(Path(os.path.expanduser(str(c))) for c in getattr(cfg, "corrected", None) or ())
    for c in corrected_dirs:
        _check_exists(c, "corrected clips folder")
    for item in getattr(cfg, "files", None) or ():
        _expand_path(Path(os.path.expanduser(str(item))), corrected_dirs, found, set())
    return found


# -------------------------------------------------------------------------------------------------
# Reading and validating
# -------------------------------------------------------------------------------------------------
def find_corrected(src: ClipSource) -> Path | None:
    if src.corrected is not None:
        return src.corrected
    for d in src.corrected_dirs:
        candidate = d / src.path.name
        if candidate.is_file():
            return candidate
    return None


def read_clip(
    src: ClipSource, known_objects, objects_dir, min_frames: int, want_corrected: bool, embodiment: str = "smplx",
    repair_positions: bool = False, repaired: list | None = None,
) -> LoadedClip:
    """Read and validate one clip (and its corrected clip) of ``embodiment``; raises :class:`ClipError`.

    With ``repair_positions`` body positions off the joint rotations' forward kinematics are set to
    it (SMPL-X clips); ``repaired`` then receives ``(path, faults, row_offset)`` of each repaired file."""
    if (src.path.suffix == ".npz") != (embodiment != "smplx"):
        expected = "an SMPL-X clip (.pt)" if embodiment == "smplx" else f"a {embodiment} robot clip (.npz)"
        hint = "" if embodiment == "smplx" else " (turn SMPL-X clips into robot clips with retarget-robot, docs/g1.md)"
        raise val.ClipError(src.path, f"the task simulates {embodiment}, so expected {expected}{hint}")
    parsed = parse_clip_name(src.name)
    subject = src.subject if src.subject is not None else parsed.subject
    obj = src.object if src.object is not None else parsed.object
    problems: list[val.ClipError] = []  # every problem of the file is listed, not only the first

    def collect(check, *args):
        try:
            return check(*args)
        except val.ClipError as exc:
            problems.append(exc)
            return None

    if subject is None or obj is None:
        problems.append(val.ClipError(
            src.path, f"cannot tell subject and object from the file name '{src.path.name}' (expected "
            f"sub{{ID}}_{{object}}_{{index}}{src.path.suffix}); name them in a manifest entry (subject:, object:)",
        ))  # fmt: skip
    else:
        collect(val.check_object, src.path, obj, known_objects, objects_dir)
    corrected_path = None
    if want_corrected:
        corrected_path = find_corrected(src)
        if corrected_path is None:
            problems.append(val.ClipError(
                src.path, f"no teacher-corrected clip named {src.path.name} in "
                f"{', '.join(str(d) for d in src.corrected_dirs)}",
            ))  # fmt: skip
    if embodiment != "smplx":
        pair = collect(read_robot_pair, src.path, corrected_path, embodiment)
        num_frames = pair[0].num_frames if pair else None
    else:
        pair = collect(_read_smplx_pair, src.path, corrected_path, repair_positions, repaired)
        num_frames = pair[0].shape[0] if pair else None
    if pair is not None:
        collect(val.check_length, src.path, num_frames, min_frames, pair[2])
    val.raise_collected(src.path, problems)
    raw, corrected, first_row = pair
    info = ClipInfo(
        name=src.name, subject=int(subject), object=str(obj), num_frames=num_frames, path=str(src.path),
        corrected_path=str(corrected_path) if corrected_path else None, first_row=first_row,
    )  # fmt: skip
    return LoadedClip(info=info, raw=raw, corrected=corrected)


def _read_smplx_pair(path: Path, corrected_path: Path | None, repair: bool = False, repaired: list | None = None):
    """(raw, corrected or None, first raw row kept) of an SMPL-X clip file and its corrected clip."""

    def check(clip, file, row_offset=0):
        faults: list = []
        clip = val.check_clip(clip, file, row_offset=row_offset, repair_positions=repair, repaired=faults)
        if faults and repaired is not None:
            repaired.append((str(file), faults, row_offset))
        return clip

    problems: list[val.ClipError] = []

    def collect(fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except val.ClipError as exc:
            problems.append(exc)
            return None

    stored_raw = load_clip_file(path)
    raw = collect(check, stored_raw, path)
    if corrected_path is None:
        val.raise_collected(path, problems)
        return raw.contiguous(), None, 0
    stored = load_clip_file(corrected_path)
    collect(val.check_corrected_pair, stored_raw, stored, path, corrected_path)
    corrected = collect(check, stored[1:], corrected_path, row_offset=1)
    val.raise_collected(path, problems)
    # row 0 of a corrected clip is a placeholder: align both sources
    return raw[1:].contiguous(), corrected.contiguous(), 1


def read_dataset_report(cfg, progress: bool = True) -> DatasetReport:
    """Read every clip the motion data config names; see the module docstring."""
    from .threads import single_thread

    with single_thread():
        return _read_dataset_report(cfg, progress)


def _read_dataset_report(cfg, progress: bool) -> DatasetReport:
    """``cfg`` needs ``files`` and may have ``corrected``, ``subjects``, ``objects_dir``,
    ``strict``, ``repair_positions`` and ``future_horizon`` (a :class:`~intermimic.motion.config.MotionDataCfg`)."""
    found = find_clips(cfg)
    strict = bool(getattr(cfg, "strict", False)) or bool(found.strict)
    repair = bool(getattr(cfg, "repair_positions", False)) or bool(found.repair_positions)
    objects_dir = getattr(cfg, "objects_dir", None)
    if not objects_dir and found.objects_dirs:
        if len(set(found.objects_dirs)) > 1:
            raise ValueError(f"manifests name different objects folders {sorted(set(found.objects_dirs))}; "
                             "set objects_dir to one folder holding all objects")  # fmt: skip
        objects_dir = found.objects_dirs[0]
    registry = ObjectRegistry(objects_dir)
    known = registry.names()
    want_corrected = bool(getattr(cfg, "load_corrected", True)) and any(
        s.corrected is not None or s.corrected_dirs for s in found.sources
    )
    subjects = set(int(s) for s in getattr(cfg, "subjects", None) or ())
    min_frames = int(getattr(cfg, "future_horizon", 16)) + 1
    report = DatasetReport(clips=[], rejected=list(found.rejected), objects_dir=objects_dir, corrected=want_corrected)
    if strict and report.rejected:
        r = report.rejected[0]
        raise val.ClipError(r.path, r.reason)

    names: dict[str, Path] = {}
    meshes_read: set[str] = set()
    from ..utils.progress import progress as progress_reporter

    sources = progress_reporter(found.sources, desc="reading clips", unit="clip", enabled=progress and len(found.sources) > 1)
    for src in sources:
        parsed = parse_clip_name(src.name)
        subject = src.subject if src.subject is not None else parsed.subject
        obj = src.object if src.object is not None else parsed.object
        if (subjects and subject not in subjects) or (src.subjects and subject not in src.subjects) or (
            src.objects and obj not in src.objects
        ):
            report.skipped.append(str(src.path))
            continue
        try:
            if src.name in names:
                raise val.ClipError(src.path, f"duplicate clip name '{src.name}' (also {names[src.name]})")
            if obj in known and obj not in meshes_read:  # each object's mesh read once (the scene needs it)
                meshes_read.add(obj)
                problem = registry.mesh_problem(obj)
                if problem:
                    report.mesh_problems[obj] = problem
            if obj in report.mesh_problems:
                raise val.ClipError(src.path, f"object '{obj}': {report.mesh_problems[obj]}")
            repaired: list = []
            clip = read_clip(src, known, objects_dir, min_frames, want_corrected, getattr(cfg, "embodiment", "smplx"),
                             repair, repaired)  # fmt: skip
        except val.ClipError as exc:
            if strict:
                raise
            report.rejected.append(Rejection(exc.path, str(exc)[len(exc.path) + 2 :]))
            positions = exc.position_errors if isinstance(exc, val.ClipProblems) else [exc]
            for error in positions:
                if isinstance(error, val.BodyPositionError):
                    report.position_faults.append((error.path, error.faults, error.row_offset))
            continue
        names[src.name] = src.path
        report.clips.append(clip)
        report.repaired += repaired
    return report


def read_dataset(cfg) -> list[LoadedClip]:
    """The good clips of :func:`read_dataset_report` (rejections are reported on stderr)."""
    report = read_dataset_report(cfg)
    if report.rejected:
        import sys

        print(report.summary_text(), file=sys.stderr)
    return report.clips


def object_points_for(names, objects_dir) -> dict[str, torch.Tensor]:
    """Surface sample points of each named object (from the object registry)."""
    registry = ObjectRegistry(objects_dir)
    return {name: registry.surface_points(name) for name in sorted(set(names))}

"""InterAct's human-object data sets -> InterMimic clips.

InterAct (``wzyabcas/InterAct``) brings BEHAVE, OMOMO, NeuralDome, IMHD, InterCap and GRAB into
one layout, per data set ``<set>/sequences[_canonical]/<id>/`` with

* ``human.npz``: ``poses`` (axis-angle: root, 21 body joints, then the hands: 2 x 15 joints, or
  2 x K PCA coefficients), ``betas`` (or GRAB's per-subject template ``vtemp``), ``trans``,
  ``gender``;
* ``object.npz``: ``angles`` ``[T, 3]`` axis-angle, ``trans`` ``[T, 3]``, ``name``; the pose
  moves the mesh ``objects/<name>/<name>.obj`` as stored in its file;
* y-up, metres, 30 fps (InterAct takes GRAB's every 4th frame of 120).

What differs between the data sets (:data:`DATASETS`, as InterAct's own converter poses them):

| set | model | shape | hands | mean hand added |
|---|---|---|---|---|
| behave | SMPL-H | 10 betas | axis-angle | yes |
| neuraldome, imhd | SMPL-H (AMASS) | 16 betas | axis-angle | no |
| omomo | SMPL-X (AMASS) | 16 betas | axis-angle (zero) | no |
| intercap | SMPL-X | 10 betas | 12 PCA components per hand | no (flat hand mean) |
| grab | SMPL-X | ``vtemp`` | 24 PCA components per hand | yes |

Each sequence is posed with its own gender's model (:mod:`body_model`), turned z-up, put on the
floor as InterAct does (the lowest skin vertex of the first 30 frames at z = 0, then lifted if
the object's mesh reaches below the ground in the first frame) and labelled with the package's
contact rule (:mod:`contacts`). A frame rate that is a multiple of 30 (``fps`` in ``human.npz``
or ``--fps``) is reduced to 30 by taking every n-th frame, as InterAct does for GRAB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import clip_format as cf
from .body_model import KINDS, ModelCache, body_offsets_from_rest_joints
from .posed_body import ConvertOptions, PosedBody, convert_posed


@dataclass(frozen=True)
class DatasetConvention:
    """How one InterAct data set's ``human.npz`` is posed."""

    name: str
    model_type: str
    """``smplh`` or ``smplx``."""
    num_betas: int | None
    """Shape parameters per sequence (None: GRAB's per-subject ``vtemp`` instead)."""
    prefer: str
    """Which model files are tried first: ``package`` (``SMPLH_<G>.pkl``, ``SMPLX_<G>.npz``, as the
    ``smplx`` package's ``create`` finds them) or ``amass`` (``smplh/<gender>/model.npz``)."""
    pca_components: int
    """Hand PCA components per hand in ``poses`` (0: axis-angle, 2 x 15 joints)."""
    hand_mean: bool
    """The hand poses are relative to the model's mean hand (added before posing)."""


DATASETS: dict[str, DatasetConvention] = {
    "behave": DatasetConvention("behave", "smplh", 10, "package", 0, True),
    "omomo": DatasetConvention("omomo", "smplx", 16, "package", 0, False),
    "neuraldome": DatasetConvention("neuraldome", "smplh", 16, "amass", 0, False),
    "imhd": DatasetConvention("imhd", "smplh", 16, "amass", 0, False),
    "intercap": DatasetConvention("intercap", "smplx", 10, "package", 12, False),
    "grab": DatasetConvention("grab", "smplx", None, "package", 24, True),
}
SEQUENCE_FOLDERS = ("sequences_canonical", "sequences")
"""Where a data set's sequences are, in the order looked for (InterAct's converter reads the canonical ones)."""
FLOOR_FRAMES = 30
"""InterAct puts the lowest skin vertex of a sequence's first 30 frames on the floor."""
_SUBJECT = re.compile(r"(?:^|_)(?:sub|subject|s)(\d+)(?=_|$)", re.IGNORECASE)


class SequenceError(ValueError):
    """A sequence that cannot be converted: the message names the file and the field."""


def interact_options(**overrides) -> ConvertOptions:
    """The conversion options of InterAct data (y-up, meshes as stored, InterAct's floor)."""
    base = dict(up_axis="y", object_frame="raw", floor=True, floor_frames=FLOOR_FRAMES, lift_object=True)
    return ConvertOptions(**{**base, **overrides})


# -------------------------------------------------------------------------------------------------
# Finding sequences
# -------------------------------------------------------------------------------------------------
def dataset_root(data_root: str | Path, dataset: str) -> Path:
    """The data set's folder: ``DATA_ROOT/<dataset>`` (InterAct's ``data`` folder) or ``DATA_ROOT`` itself."""
    root = Path(data_root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"InterAct data folder not found: {root}")
    for candidate in (root / dataset, root):
        if any((candidate / f).is_dir() for f in SEQUENCE_FOLDERS):
            return candidate
    raise FileNotFoundError(f"{root}: no {dataset}/{SEQUENCE_FOLDERS[0]}/ or {dataset}/{SEQUENCE_FOLDERS[1]}/ "
                            f"(nor {SEQUENCE_FOLDERS[1]}/ directly in it): expected InterAct's data folder or one data "
                            "set's folder")  # fmt: skip


def sequences_folder(root: Path, which: str = "auto") -> Path:
    names = SEQUENCE_FOLDERS if which == "auto" else (which,)
    for name in names:
        if (root / name).is_dir():
            return root / name
    raise FileNotFoundError(f"{root}: no folder {' or '.join(names)}")


@dataclass
class SequenceInfo:
    """One sequence folder, with what a first look at its files tells."""

    id: str
    folder: Path
    object: str | None = None
    gender: str | None = None
    subject: int | None = None
    clip_name: str | None = None
    clip_object: str | None = None
    """The object's name in the clip name (the source name without characters a clip name cannot hold)."""
    problem: str | None = None

    @property
    def human(self) -> Path:
        return self.folder / "human.npz"

    @property
    def object_file(self) -> Path:
        return self.folder / "object.npz"


def subject_token(sequence_id: str) -> int | None:
    """The subject number in an InterAct sequence id (``Date01_Sub03_...``, ``sub10_...``, ``s2_...``,
    ``subject01_...``), or None."""
    m = _SUBJECT.search(sequence_id)
    return int(m.group(1)) if m else None


def _scalar_str(value) -> str:
    value = np.asarray(value)
    if value.dtype.kind in "SU" or value.dtype == object:
        value = value.reshape(-1)[0] if value.shape else value.item()
        return value.decode() if isinstance(value, bytes) else str(value)
    raise ValueError(f"expected a string, found an array of {value.dtype}")


def _clean_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "", name) or "object"


def scan_sequences(folder: Path, only: list[str] | None = None) -> list[SequenceInfo]:
    """Every sequence folder (sorted), with object name, gender, subject and clip name; a
    sequence whose first look fails carries its ``problem``. Clip names are
    ``sub{subject}_{object}_{index}``, the index counting each subject's sequences of one object in
    id order over the whole data set (so converting a list of sequences names them the same)."""
    infos = [SequenceInfo(p.name, p) for p in sorted(folder.iterdir()) if p.is_dir()]
    if not infos:
        raise FileNotFoundError(f"{folder}: no sequence folders")
    for info in infos:
        try:
            if not info.human.is_file():
                raise SequenceError(f"{info.human}: missing (every sequence folder holds human.npz and object.npz)")
            if not info.object_file.is_file():
                raise SequenceError(f"{info.object_file}: missing (every sequence folder holds human.npz and object.npz)")
            info.object = _read_field(info.object_file, "name", _scalar_str)
            info.gender = _read_field(info.human, "gender", lambda v: _scalar_str(v).lower())
        except SequenceError as exc:
            info.problem = str(exc)
    tokens = sorted({t for t in (subject_token(i.id) for i in infos) if t is not None})
    first_parts = sorted({i.id.split("_")[0] for i in infos})
    for info in infos:
        token = subject_token(info.id)
        info.subject = token if token is not None else (tokens[-1] + 1 if tokens else 1) + first_parts.index(info.id.split("_")[0])
    counters: dict[tuple[int, str], int] = {}
    for info in infos:
        if info.object is None:
            continue
        key = (info.subject, _clean_name(info.object))
        info.clip_object = key[1]
        info.clip_name = f"sub{info.subject}_{key[1]}_{counters.get(key, 0):03d}"
        counters[key] = counters.get(key, 0) + 1
    if only is not None:
        by_id = {i.id: i for i in infos}
        unknown = [s for s in only if s not in by_id]
        if unknown:
            raise FileNotFoundError(f"{folder}: no sequence {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}")
        infos = [by_id[s] for s in only]
    return infos


def _read_field(path: Path, key: str, convert=None):
    try:
        with np.load(path, allow_pickle=True) as f:
            if key not in f.files:
                raise SequenceError(f"{path}: missing field '{key}' (has: {', '.join(f.files)})")
            value = f[key]
    except SequenceError:
        raise
    except Exception as exc:  # a truncated or foreign file
        raise SequenceError(f"{path}: cannot read it as an .npz file: {exc}") from None
    try:
        return convert(value) if convert else value
    except (ValueError, TypeError) as exc:
        raise SequenceError(f"{path}: field '{key}': {exc}") from None


# -------------------------------------------------------------------------------------------------
# Reading one sequence
# -------------------------------------------------------------------------------------------------
@dataclass
class InterActSequence:
    """One sequence's arrays at 30 fps, in InterAct's y-up world."""

    info: SequenceInfo
    poses: np.ndarray  # [T, 66 + hands]
    trans: np.ndarray  # [T, 3]
    betas: np.ndarray | None
    vtemp: np.ndarray | None
    gender: str
    obj_angles: np.ndarray  # [T, 3]
    obj_trans: np.ndarray  # [T, 3]
    object: str
    source_fps: float = cf.CLIP_FPS
    notes: list[str] = field(default_factory=list)

    @property
    def num_frames(self) -> int:
        return self.poses.shape[0]


def _load(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=True) as f:
            return {k: f[k] for k in f.files}
    except Exception as exc:
        raise SequenceError(f"{path}: cannot read it as an .npz file: {exc}") from None


def _array(data: dict, path: Path, key: str, width: int | tuple[int, ...] | None = None, optional: bool = False):
    if key not in data:
        if optional:
            return None
        raise SequenceError(f"{path}: missing field '{key}' (has: {', '.join(sorted(data))})")
    try:
        value = np.asarray(data[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise SequenceError(f"{path}: field '{key}' is not numeric") from None
    if width is not None:
        widths = (width,) if isinstance(width, int) else width
        if value.ndim != 2 or value.shape[1] not in widths:
            want = " or ".join(f"[T, {w}]" for w in widths)
            raise SequenceError(f"{path}: field '{key}' has shape {list(value.shape)}, expected {want}")
    bad = ~np.isfinite(value)
    if bad.any():
        where = np.argwhere(bad)[0]
        at = f"frame {where[0]}" if value.ndim == 2 else f"entry {tuple(where)}"
        raise SequenceError(f"{path}: field '{key}' has {int(bad.sum())} non-finite value(s), first at {at}")
    return value


def _frame_step(fps: float, path: Path, key: str) -> int:
    step = fps / cf.CLIP_FPS
    if fps <= 0 or abs(step - round(step)) > 1e-6 or round(step) < 1:
        raise SequenceError(f"{path}: field '{key}' is {fps:g} fps; expected {cf.CLIP_FPS} or a multiple of it "
                            f"(taken every n-th frame, as InterAct does for GRAB's 120 fps)")  # fmt: skip
    return int(round(step))


def sequence_betas(betas: np.ndarray, info: SequenceInfo) -> tuple[np.ndarray, str | None]:
    """One shape vector: ``[K]`` as stored, or row 0 of per-frame betas ``[T, K]`` (as InterAct),
    with a warning (the second value) when the rows differ: the body's shape would change over the
    sequence, which a clip cannot hold."""
    if betas.ndim <= 1 or (betas.ndim == 2 and betas.shape[0] == 1):
        return betas.reshape(-1), None
    if betas.ndim != 2:
        raise SequenceError(f"{info.human}: field 'betas' has shape {list(betas.shape)}, expected [K] or [T, K]")
    spread = float(np.abs(betas - betas[:1]).max())
    if spread <= 1e-6:
        return betas[0], None
    return betas[0], (f"warning: per-frame 'betas' differ across frames (by up to {spread:.3g}); frame 0's are "
                      "used, as InterAct does")  # fmt: skip


def read_sequence(info: SequenceInfo, convention: DatasetConvention, fps: float | None = None) -> InterActSequence:
    """Read and check one sequence (shapes, finite values, equal lengths, frame rate); raises
    :class:`SequenceError` naming the file and field."""
    if info.problem:
        raise SequenceError(info.problem)
    human, obj = _load(info.human), _load(info.object_file)
    k = convention.pca_components
    hand_widths = (66 + 90,) + ((66 + 2 * k,) if k else ())
    poses = _array(human, info.human, "poses", hand_widths)
    trans = _array(human, info.human, "trans", 3)
    betas_note = None
    if convention.num_betas is None:
        vtemp = _array(human, info.human, "vtemp")
        betas = None
        if vtemp.ndim != 2 or vtemp.shape[1] != 3:
            raise SequenceError(f"{info.human}: field 'vtemp' has shape {list(vtemp.shape)}, expected [V, 3]")
    else:
        vtemp = None
        betas, betas_note = sequence_betas(
            _array(human, info.human, "beta" if "beta" in human and "betas" not in human else "betas"), info
        )
    angles = _array(obj, info.object_file, "angles", 3)
    obj_trans = _array(obj, info.object_file, "trans", 3)
    lengths = {"human.npz 'poses'": poses.shape[0], "human.npz 'trans'": trans.shape[0],
               "object.npz 'angles'": angles.shape[0], "object.npz 'trans'": obj_trans.shape[0]}  # fmt: skip
    if len(set(lengths.values())) != 1:
        items = ", ".join(f"{k} {v}" for k, v in lengths.items())
        raise SequenceError(f"{info.folder}: field lengths differ ({items} frames); a sequence has one length")
    source_fps, fps_key = (float(fps), "--fps") if fps else (None, "fps")
    if source_fps is None:
        for key in ("fps", "mocap_framerate", "mocap_frame_rate"):
            if key in human:
                source_fps, fps_key = float(np.asarray(human[key]).reshape(-1)[0]), key
                break
    source_fps = source_fps or float(cf.CLIP_FPS)
    step = _frame_step(source_fps, info.human, fps_key)
    seq = InterActSequence(
        info=info, poses=poses[::step], trans=trans[::step], betas=betas, vtemp=vtemp, gender=info.gender or "neutral",
        obj_angles=angles[::step], obj_trans=obj_trans[::step], object=str(info.object), source_fps=source_fps,
    )  # fmt: skip
    if step > 1:
        seq.notes.append(f"{source_fps:g} fps -> {cf.CLIP_FPS} fps (every {step}th frame)")
    if betas_note:
        seq.notes.append(betas_note)
    if seq.gender not in ("neutral", "male", "female"):
        raise SequenceError(f"{info.human}: field 'gender' is '{seq.gender}', expected male, female or neutral")
    return seq


# -------------------------------------------------------------------------------------------------
# Converting one sequence
# -------------------------------------------------------------------------------------------------
@dataclass
class ConvertedSequence:
    clip: torch.Tensor
    body_offsets: np.ndarray
    """The subject's skeleton ``[52, 3]`` (the per-subject humanoid's body offsets)."""
    model_file: Path


def pose_sequence(seq: InterActSequence, convention: DatasetConvention, models: ModelCache):
    """The posed body and the subject's skeleton of a sequence; the model file used."""
    model = models.get(convention.model_type, seq.gender, convention.prefer)
    source = f"{seq.info.human}: "
    try:
        template = model.shaped_template(betas=seq.betas, vtemp=seq.vtemp, source=source)
        hands = model.full_hands(seq.poses[:, 66:], convention.hand_mean, source=source)
    except ValueError as exc:
        raise SequenceError(str(exc)) from None
    joints, vertices = model.pose(template, seq.poses[:, :3], seq.poses[:, 3:66], hands, seq.trans)
    T = seq.num_frames
    parts = [torch.as_tensor(seq.poses[:, :66]).reshape(T, 22, 3)]
    if model.kind.name == "smplx":
        parts.append(torch.zeros(T, 3, 3, dtype=torch.float64))  # jaw and eyes
    parts.append(torch.as_tensor(hands).reshape(T, 30, 3))
    full_pose = torch.cat(parts, dim=1)
    body = PosedBody(joints, vertices.float(), full_pose, model.parents, model.vertex_body, model.kind)
    skeleton = body_offsets_from_rest_joints(model.rest_joints(template), KINDS[convention.model_type])
    return body, skeleton, model.path


def convert_sequence(seq: InterActSequence, convention: DatasetConvention, models: ModelCache, registry,
                     options: ConvertOptions | None = None) -> ConvertedSequence:  # fmt: skip
    """The clip of one InterAct sequence (and the subject's skeleton)."""
    from ..kinematics import quat_to_matrix
    from ...utils import rotations as rot

    if seq.object not in registry.names():
        raise SequenceError(f"{seq.info.object_file}: field 'name' is '{seq.object}', which has no mesh in "
                            f"{registry.objects_dir} (looked for {seq.object}/{seq.object}.obj)")  # fmt: skip
    body, skeleton, model_file = pose_sequence(seq, convention, models)
    obj_rot = quat_to_matrix(rot.from_exp_map(torch.as_tensor(seq.obj_angles)))
    clip = convert_posed(body, torch.as_tensor(seq.obj_trans), obj_rot, seq.object, registry,
                         options or interact_options())  # fmt: skip
    return ConvertedSequence(clip, skeleton, model_file)

"""SMPL-H and SMPL-X body models for the converters, posed through the ``smplx`` package.

The model files are licensed separately and never shipped; the user passes the folder that
holds them. Two layouts are read, the one the ``smplx`` package's ``create`` uses and the
AMASS one (``human_body_prior``'s ``BodyModel``):

* ``smplh/SMPLH_<GENDER>.pkl|.npz`` (SMPL-H merged with MANO, 10 shape components) and
  ``smplh/<gender>/model.npz`` (AMASS's extended SMPL+H, 16 shape components);
* ``smplx/SMPLX_<GENDER>.npz|.pkl`` (both layouts name the SMPL-X files the same way).

Either kind of file is posed by the ``smplx`` package's linear blend skinning. The subject's
shape enters as the shaped template (template plus shape blend shapes, or GRAB's per-subject
``vtemp``), which is what the model's ``betas`` do inside the skinning; this also keeps all 16
AMASS shape components (the package itself would keep 10 of a file with fewer than 300).
Hand poses are expanded from PCA coefficients and given the model's mean hand where the data
set's convention asks for it, so the pose handed to the model and the rotations stored in a
clip are the same numbers.

SMPL-H has the humanoid's 52 joints (22 body, 15 + 15 finger joints); SMPL-X has 55 (jaw and
eyes after the head, whose skin counts as the head's).
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ...assets import humanoid_spec as spec
from ...assets.smplx_subject import NUM_SMPLX_JOINTS, SMPLX_JOINT_OF_BODY, SMPLX_TO_HUMANOID

MODEL_TYPES = ("smplh", "smplx")
MODEL_NAMES = {"smplh": "SMPL-H", "smplx": "SMPL-X"}
GENDERS = ("neutral", "male", "female")
DOWNLOAD_HELP = {
    "smplh": "SMPL+H: register at https://mano.is.tue.mpg.de and download 'Extended SMPL+H model' (AMASS, "
             "smplh/<gender>/model.npz) or the SMPL+H files merged with MANO (smplh/SMPLH_<GENDER>.pkl, see the smplx "
             "package's tools)",
    "smplx": "SMPL-X: register at https://smpl-x.is.tue.mpg.de and download the SMPL-X model (smplx/SMPLX_<GENDER>.npz)",
}  # fmt: skip


@dataclass(frozen=True)
class ModelKind:
    """What differs between SMPL-H and SMPL-X for the converters."""

    name: str
    num_joints: int
    joint_of_body: tuple[int, ...]
    """Model joint of each humanoid body, in humanoid body order."""
    head_joints: tuple[int, ...]
    """Model joints without a humanoid body whose skin counts as the head's (SMPL-X jaw and eyes)."""
    first_finger: int
    """Model joint of the first left finger joint (the right hand's 15 follow the left's)."""


SMPLX_FIRST_FINGER = 25
SMPLX_HEAD_JOINTS = (22, 23, 24)


def _smplh_joint_of_body() -> tuple[int, ...]:
    """SMPL-H's joints are SMPL-X's without jaw and eyes: its fingers start 3 joints earlier."""
    return tuple(j - len(SMPLX_HEAD_JOINTS) if j >= SMPLX_FIRST_FINGER else j for j in SMPLX_JOINT_OF_BODY)

SMPLH = ModelKind("smplh", 52, _smplh_joint_of_body(), (), SMPLX_FIRST_FINGER - len(SMPLX_HEAD_JOINTS))
SMPLX = ModelKind("smplx", NUM_SMPLX_JOINTS, SMPLX_JOINT_OF_BODY, SMPLX_HEAD_JOINTS, SMPLX_FIRST_FINGER)
KINDS = {"smplh": SMPLH, "smplx": SMPLX}


# -------------------------------------------------------------------------------------------------
# Finding and reading model files
# -------------------------------------------------------------------------------------------------
def model_file_candidates(model_dir: str | os.PathLike, model_type: str, gender: str, prefer: str = "package") -> list[Path]:
    """Files that may hold the ``model_type`` model of ``gender`` under ``model_dir``, in the order
    tried: the ``smplx`` package's names first (``prefer="package"``) or AMASS's (``"amass"``)."""
    if model_type not in KINDS:
        raise ValueError(f"unknown body model type '{model_type}' (expected one of {', '.join(MODEL_TYPES)})")
    if gender not in GENDERS:
        raise ValueError(f"unknown gender '{gender}' (expected one of {', '.join(GENDERS)})")
    root = Path(model_dir).expanduser()
    folders = [root / model_type, root] if root.name.lower() != model_type else [root]
    stem = f"{model_type.upper()}_{gender.upper()}"
    package = [f / f"{stem}.{ext}" for f in folders for ext in (("pkl", "npz") if model_type == "smplh" else ("npz", "pkl"))]
    amass = [f / gender / "model.npz" for f in folders]
    return (amass + package) if prefer == "amass" else (package + amass)


def find_model_file(model_dir: str | os.PathLike | None, model_type: str, gender: str, prefer: str = "package") -> Path:
    """The model file, or a :class:`FileNotFoundError` naming the model type and every file tried."""
    if not model_dir:
        raise FileNotFoundError(f"no body-model folder given (--body-models); {DOWNLOAD_HELP[model_type]}")
    candidates = model_file_candidates(model_dir, model_type, gender, prefer)
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(
        f"{MODEL_NAMES[model_type]} model file for gender '{gender}' not found: looked for "
        f"{', '.join(str(c) for c in candidates)}. {DOWNLOAD_HELP[model_type]}"
    )


class _NoChumpy(pickle.Unpickler):
    def find_class(self, module, name):
        if module.startswith("chumpy"):
            raise ModuleNotFoundError("chumpy")
        return super().find_class(module, name)


REQUIRED_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table", "f")


def read_model_data(path: str | os.PathLike, keys: tuple[str, ...] | None = None) -> dict:
    """The arrays of a model file (``.npz`` or ``.pkl``; of an ``.npz`` only ``keys`` when given),
    as plain numpy; ValueError naming the file when it is not a readable body-model file."""
    path = Path(path)
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=True) as f:
                names = set(f.files)
                data = {k: f[k] for k in (f.files if keys is None else keys) if k in names}
        elif path.suffix == ".pkl":
            with open(path, "rb") as f:
                data = _NoChumpy(f, encoding="latin1").load()
            names = set(data) if isinstance(data, dict) else set()
        else:
            raise ValueError("expected a .npz or .pkl model file")
    except ModuleNotFoundError as exc:
        raise ValueError(f"{path}: holds {exc.name} objects (an unconverted SMPL/MANO release file); use the files merged "
                         "and converted by the smplx package's tools, or the AMASS-style model.npz") from None  # fmt: skip
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: cannot read the body-model file: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a body-model file holds a mapping of arrays, found {type(data).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in names]
    if missing:
        raise ValueError(f"{path}: not a body-model file: missing {', '.join(missing)}")
    return data


def shape_capacity(model_type: str, shapedirs: np.ndarray) -> int:
    """How many shape components a file holds (SMPL-X files hold 300 shape + 100 expression, or
    the first release 10 + 10; SMPL-H files only shape components)."""
    k = int(shapedirs.shape[-1]) if shapedirs.ndim == 3 else 1
    if model_type == "smplx":
        return 300 if k >= 300 else min(k, 10)
    return k


# -------------------------------------------------------------------------------------------------
# One loaded model
# -------------------------------------------------------------------------------------------------
class BodyModel:
    """One model file, posed through the ``smplx`` package (``smplx.SMPLH`` / ``smplx.SMPLX``).

    Args:
        path: the model file.
        model_type: ``smplh`` or ``smplx``.
        gender: the model's gender (what the file is).
    """

    def __init__(self, path: str | os.PathLike, model_type: str, gender: str, device: str = "cpu"):
        import smplx
        from smplx.utils import Struct

        self.path, self.kind, self.gender, self.device = Path(path), KINDS[model_type], gender, device
        wanted = None if model_type == "smplh" else ("v_template", "shapedirs", "kintree_table", "hands_componentsl",
                                                      "hands_componentsr", "hands_meanl", "hands_meanr")  # fmt: skip
        data = read_model_data(self.path, wanted)  # SMPL-H: all of it (handed to the package); SMPL-X: the package reads it
        self.num_vertices = int(np.asarray(data["v_template"]).shape[0])
        self.template = np.asarray(data["v_template"], dtype=np.float64)
        shapedirs = np.asarray(data["shapedirs"])
        self.shape_dirs = shapedirs[..., : shape_capacity(model_type, shapedirs)]  # as stored (float32 in most files)
        kintree = np.asarray(data["kintree_table"])
        if kintree.shape[-1] < self.kind.num_joints:
            raise ValueError(f"{self.path}: has {kintree.shape[-1]} joints, a {model_type.upper()} model has "
                             f"{self.kind.num_joints}")  # fmt: skip
        self.hand_components = {s: np.asarray(data[f"hands_components{s}"], np.float64) if f"hands_components{s}" in data
                                else None for s in "lr"}  # fmt: skip
        self.hand_mean = {s: np.asarray(data[f"hands_mean{s}"], np.float64).reshape(-1) if f"hands_mean{s}" in data
                          else None for s in "lr"}  # fmt: skip
        common = dict(gender=gender, use_pca=False, flat_hand_mean=True, batch_size=1, num_betas=1)
        with contextlib.redirect_stdout(io.StringIO()):  # the package prints a warning per file with few components
            if model_type == "smplh":
                struct = dict(data)
                for s in "lr":  # the package reads them even without PCA; only needed (and checked) for PCA hands
                    struct.setdefault(f"hands_components{s}", np.zeros((45, 45)))
                    struct.setdefault(f"hands_mean{s}", np.zeros(45))
                model = smplx.SMPLH(str(self.path), data_struct=Struct(**struct), ext=self.path.suffix[1:], **common)
            else:
                model = smplx.SMPLX(str(self.path), ext=self.path.suffix[1:], num_expression_coeffs=10, **common)
        self.model = model.to(device).eval()
        self.parents = self.model.parents.detach().cpu().long()[: self.kind.num_joints].clone()
        self.parents[0] = -1
        self.vertex_body = vertex_bodies(self.model.lbs_weights.detach().cpu(), self.kind)

    @property
    def shape_components(self) -> int:
        return int(self.shape_dirs.shape[-1])

    def shaped_template(self, betas: np.ndarray | None = None, vtemp: np.ndarray | None = None,
                        source: str = "") -> np.ndarray:  # fmt: skip
        """The rest-pose vertices ``[V, 3]`` of a subject: ``vtemp`` as given (GRAB), or the
        template plus the shape blend shapes of ``betas``."""
        if vtemp is not None:
            vtemp = np.asarray(vtemp, dtype=np.float64)
            if vtemp.shape != (self.num_vertices, 3):
                raise ValueError(f"{source}'vtemp' has shape {tuple(vtemp.shape)}, expected [{self.num_vertices}, 3] "
                                 f"(the vertices of {self.path})")  # fmt: skip
            return vtemp
        betas = np.zeros(0) if betas is None else np.asarray(betas, dtype=np.float64).reshape(-1)
        if betas.shape[0] > self.shape_components:
            extra = betas[self.shape_components :]
            if np.abs(extra).max() > 0:
                raise ValueError(
                    f"{source}'betas' has {betas.shape[0]} shape parameters, but {self.path} holds {self.shape_components} "
                    f"shape components (use a {self.kind.name.upper()} file with at least {betas.shape[0]}, e.g. AMASS's "
                    "model.npz)"
                )
            betas = betas[: self.shape_components]
        return self.template + self.shape_dirs[..., : betas.shape[0]].astype(np.float64) @ betas

    def full_hands(self, hands: np.ndarray, add_mean: bool, source: str = "") -> np.ndarray:
        """Axis-angle finger rotations ``[T, 90]`` (left 15, right 15 joints) from ``[T, 90]``
        axis-angle or ``[T, 2K]`` PCA coefficients (K per hand), plus the model's mean hand if ``add_mean``."""
        hands = np.asarray(hands, dtype=np.float64)
        T, width = hands.shape
        if width != 90:
            k = width // 2
            if width % 2 or k > 45:
                raise ValueError(f"{source}hand pose has {width} values per frame, expected 90 (axis-angle) or 2 x K PCA "
                                 "coefficients")  # fmt: skip
            sides = []
            for i, s in enumerate("lr"):
                comps = self.hand_components[s]
                if comps is None or comps.shape[0] < k:
                    raise ValueError(f"{self.path}: no {k} hand PCA components 'hands_components{s}' for PCA hands")
                sides.append(hands[:, i * k : (i + 1) * k] @ comps[:k])
            hands = np.concatenate(sides, axis=1)
        if add_mean:
            for i, s in enumerate("lr"):
                if self.hand_mean[s] is None:
                    raise ValueError(f"{self.path}: no mean hand pose 'hands_mean{s}'")
                hands[:, i * 45 : (i + 1) * 45] += self.hand_mean[s][None]
        return hands

    @torch.no_grad()
    def pose(self, template: np.ndarray, root_orient, body_pose, hands, trans, batch: int = 256):
        """Joints ``[T, J, 3]`` (float64) and vertices ``[T, V, 3]`` (float32) of the posed model, on the CPU.

        Args:
            template: the subject's rest vertices (:meth:`shaped_template`).
            root_orient, body_pose, hands, trans: ``[T, 3]``, ``[T, 63]``, ``[T, 90]`` (axis-angle,
                :meth:`full_hands`), ``[T, 3]``.
        """
        dev = self.device
        self.model.v_template.copy_(torch.as_tensor(template, dtype=self.model.v_template.dtype))
        f32 = lambda x: torch.as_tensor(np.asarray(x), dtype=torch.float32, device=dev)  # noqa: E731
        root_orient, body_pose, hands, trans = f32(root_orient), f32(body_pose), f32(hands), f32(trans)
        T = root_orient.shape[0]
        joints, vertices = [], []
        for s in range(0, T, batch):
            e = min(T, s + batch)
            n = e - s
            extra = {}
            if self.kind is SMPLX:
                zeros3 = torch.zeros(n, 3, device=dev)
                extra = dict(jaw_pose=zeros3, leye_pose=zeros3, reye_pose=zeros3,
                             expression=torch.zeros(n, self.model.num_expression_coeffs, device=dev))  # fmt: skip
            out = self.model(
                betas=torch.zeros(n, self.model.num_betas, device=dev), global_orient=root_orient[s:e],
                body_pose=body_pose[s:e], left_hand_pose=hands[s:e, :45], right_hand_pose=hands[s:e, 45:],
                transl=trans[s:e], return_verts=True, **extra,
            )  # fmt: skip
            joints.append(out.joints[:, : self.kind.num_joints].double().cpu())
            vertices.append(out.vertices.float().cpu())
        return torch.cat(joints), torch.cat(vertices)

    def rest_joints(self, template: np.ndarray) -> np.ndarray:
        """Rest-pose joint locations ``[J, 3]`` (model frame) of the subject with ``template``."""
        regressor = self.model.J_regressor.detach().cpu().double().numpy()
        return (regressor @ template)[: self.kind.num_joints]


def vertex_bodies(lbs_weights: torch.Tensor, kind: ModelKind) -> torch.Tensor:
    """Humanoid body of each model vertex: the joint with the largest skinning weight."""
    joint = lbs_weights[:, : kind.num_joints].argmax(dim=-1)
    body_of_joint = torch.full((kind.num_joints,), -1, dtype=torch.long)
    body_of_joint[list(kind.joint_of_body)] = torch.arange(spec.NUM_BODIES)
    body_of_joint[list(kind.head_joints)] = spec.body_index("Head")
    return body_of_joint[joint]


SMPL_TO_HUMANOID = SMPLX_TO_HUMANOID
"""Maps vectors in the SMPL body frame (x left, y up, z forward; SMPL-H and SMPL-X alike) to the
humanoid's (x forward, y left, z up)."""


def body_offsets_from_rest_joints(rest_joints: np.ndarray, kind: ModelKind) -> np.ndarray:
    """The humanoid skeleton ``[52, 3]`` (parent-relative offsets, humanoid frame) of a subject
    from the model's rest joints ``[J, 3]``: the per-subject body of ``assets.smplx_subject``."""
    body_pos = np.asarray(rest_joints, dtype=np.float64)[list(kind.joint_of_body)] @ SMPL_TO_HUMANOID.T
    offsets = np.zeros((spec.NUM_BODIES, 3))
    for i, parent in enumerate(spec.PARENT_INDICES):
        if parent >= 0:
            offsets[i] = body_pos[i] - body_pos[parent]
    return offsets


class ModelCache:
    """Loaded models by (file, gender), so that a data set loads each file once."""

    def __init__(self, model_dir, device: str = "cpu"):
        self.model_dir, self.device = model_dir, device
        self._models: dict[tuple[Path, str], BodyModel] = {}

    def get(self, model_type: str, gender: str, prefer: str = "package") -> BodyModel:
        path = find_model_file(self.model_dir, model_type, gender, prefer)
        key = (path, gender)
        if key not in self._models:
            self._models[key] = BodyModel(path, model_type, gender, self.device)
        return self._models[key]

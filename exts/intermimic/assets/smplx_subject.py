"""Per-subject humanoids: the canonical topology with a skeleton from SMPL-X shape parameters.

The SMPL-X model files are licensed separately and are not shipped: the user downloads them
(https://smpl-x.is.tue.mpg.de) and passes their folder. For given shape parameters (betas) the
rest-pose joint locations come from the model's joint regressor applied to the shaped
template mesh (through the ``smplx`` package); each body's offset from its parent becomes the
MJCF body position. Topology, joint limits, gains and collision geometry stay canonical.

This is an option, not the default: the authors train every policy on the one canonical body.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import humanoid_spec as spec
from .humanoid_mjcf import build_mjcf

GENDERS = ("neutral", "male", "female")
MODEL_SUFFIXES = (".npz", ".pkl")

_SMPLX_JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip
"""The first 22 SMPL-X joints, in the model's order (jaw and eyes follow, then 2 x 15 finger joints)."""
_SMPLX_FIRST_FINGER = {"L": 25, "R": 40}
_SMPLX_FINGER_ORDER = ("Index", "Middle", "Pinky", "Ring", "Thumb")

_BODY_TO_SMPLX_NAME = {
    "Pelvis": "pelvis", "L_Hip": "left_hip", "L_Knee": "left_knee", "L_Ankle": "left_ankle", "L_Toe": "left_foot",
    "R_Hip": "right_hip", "R_Knee": "right_knee", "R_Ankle": "right_ankle", "R_Toe": "right_foot",
    "Torso": "spine1", "Spine": "spine2", "Chest": "spine3", "Neck": "neck", "Head": "head",
    "L_Thorax": "left_collar", "L_Shoulder": "left_shoulder", "L_Elbow": "left_elbow", "L_Wrist": "left_wrist",
    "R_Thorax": "right_collar", "R_Shoulder": "right_shoulder", "R_Elbow": "right_elbow", "R_Wrist": "right_wrist",
}  # fmt: skip


def _smplx_index(body: str) -> int:
    if body in _BODY_TO_SMPLX_NAME:
        return _SMPLX_JOINT_NAMES.index(_BODY_TO_SMPLX_NAME[body])
    side, rest = body.split("_", 1)
    finger, link = rest[:-1], int(rest[-1])
    return _SMPLX_FIRST_FINGER[side] + 3 * _SMPLX_FINGER_ORDER.index(finger) + (link - 1)


SMPLX_JOINT_OF_BODY: tuple[int, ...] = tuple(_smplx_index(b) for b in spec.BODY_NAMES)
"""For each of the 52 bodies (canonical order), the index of its joint among SMPL-X's 55."""
NUM_SMPLX_JOINTS = 55

# SMPL-X's frame is Y-up with X to the body's left and Z forward; the humanoid's is Z-up with
# X forward and Y to the left: (x, y, z)_humanoid = (z, x, y)_smplx.
SMPLX_TO_HUMANOID = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def smplx_model_file(model_dir: str | Path, gender: str = "neutral") -> Path:
    """The SMPL-X model file for ``gender`` in a user-supplied folder (or the file itself)."""
    if gender not in GENDERS:
        raise ValueError(f"SMPL-X gender must be one of {GENDERS}, got '{gender}'")
    path = Path(model_dir).expanduser()
    if path.is_file():
        return path
    stem = f"SMPLX_{gender.upper()}"
    tried = [base / f"{stem}{suffix}" for base in (path, path / "smplx") for suffix in MODEL_SUFFIXES]
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"SMPL-X model file for gender '{gender}' not found; looked for "
        + ", ".join(str(p) for p in tried)
        + ". The SMPL-X model files are not distributed with this project: download them from "
        "https://smpl-x.is.tue.mpg.de and pass the folder that holds them."
    )


def smplx_rest_joints(betas: Sequence[float], model_dir: str | Path, gender: str = "neutral") -> np.ndarray:
    """Rest-pose joint locations ``[55, 3]`` (SMPL-X frame, metres) for the shape ``betas``."""
    model_file = smplx_model_file(model_dir, gender)
    try:
        import smplx
        import torch
    except ImportError as exc:  # pragma: no cover - smplx is an install requirement
        raise ImportError("per-subject humanoids need the 'smplx' package (pip install smplx)") from exc
    betas_t = torch.as_tensor(np.asarray(betas, dtype=np.float32)).reshape(1, -1)
    model = smplx.SMPLX(
        str(model_file), gender=gender, num_betas=betas_t.shape[1], use_pca=False, ext=model_file.suffix[1:]
    )
    with torch.no_grad():
        out = model(betas=betas_t, return_verts=False)
    return out.joints[0, :NUM_SMPLX_JOINTS].cpu().numpy().astype(np.float64)


def body_offsets_from_smplx_joints(joints: np.ndarray) -> np.ndarray:
    """Per-body offsets ``[52, 3]`` (humanoid frame, parent-relative) from SMPL-X rest joints ``[55, 3]``."""
    joints = np.asarray(joints, dtype=np.float64)
    if joints.shape != (NUM_SMPLX_JOINTS, 3):
        raise ValueError(f"SMPL-X rest joints: expected shape ({NUM_SMPLX_JOINTS}, 3), got {joints.shape}")
    body_pos = joints[list(SMPLX_JOINT_OF_BODY)] @ SMPLX_TO_HUMANOID.T
    offsets = np.zeros((spec.NUM_BODIES, 3))
    for i, parent in enumerate(spec.PARENT_INDICES):
        if parent >= 0:
            offsets[i] = body_pos[i] - body_pos[parent]
    return offsets


def subject_body_offsets(betas: Sequence[float], model_dir: str | Path, gender: str = "neutral") -> np.ndarray:
    """The skeleton ``[52, 3]`` of the subject with shape ``betas``."""
    return body_offsets_from_smplx_joints(smplx_rest_joints(betas, model_dir, gender))


def subject_mjcf(
    betas: Sequence[float] | None = None,
    model_dir: str | Path | None = None,
    gender: str = "neutral",
    body_offsets: np.ndarray | None = None,
) -> str:
    """MJCF of a subject's humanoid, from ``betas`` + SMPL-X files, or from precomputed ``body_offsets``."""
    if body_offsets is None:
        if betas is None or model_dir is None:
            raise ValueError("subject_mjcf: give either body_offsets, or betas and the SMPL-X model_dir")
        body_offsets = subject_body_offsets(betas, model_dir, gender)
    return build_mjcf(body_offsets=np.asarray(body_offsets), model_name="intermimic_smplx_subject", root_height=0.0)


def subject_humanoid_cfg(
    betas: Sequence[float] | None = None,
    model_dir: str | Path | None = None,
    gender: str = "neutral",
    body_offsets: np.ndarray | None = None,
    **kwargs,
):
    """``ArticulationCfg`` of a subject's humanoid (USD converted once and cached); see :func:`subject_mjcf`."""
    from .humanoid import humanoid_cfg
    from .humanoid import humanoid_usd

    usd = humanoid_usd(subject_mjcf(betas, model_dir, gender, body_offsets), "intermimic_smplx_subject")
    return humanoid_cfg(usd_path=usd, **kwargs)

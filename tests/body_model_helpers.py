"""Synthetic SMPL-H / SMPL-X model files and InterAct data sets, written by the tests.

The licensed model files are not available here, so the tests write files in the same formats
(the keys the ``smplx`` package and AMASS's loaders read, full vertex counts so that the
package's extra vertex joints exist) whose joint regressor reproduces a known skeleton: the
canonical humanoid's, in the SMPL body frame, with the pelvis off the origin as in the real
models. Each joint owns one vertex at the joint (the regressor picks it) and a cloud of skin
vertices around it (skinning weight 1 to that joint). Shape components move each joint's
vertices by a fixed random vector per component, so betas change the skeleton. Pose blend
shapes are zero (they move the skin, never the joints); in ``.pkl`` files they are stored as a
call to ``numpy.zeros`` so the files stay small.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from intermimic.assets import humanoid_spec as spec
from intermimic.motion import clip_format as cf
from intermimic.motion.convert.body_model import SMPL_TO_HUMANOID, SMPLH, SMPLX
from intermimic.motion.convert.posed_body import Y_UP_TO_Z_UP, model_pose_from_humanoid
from intermimic.utils import rotations as rot

NUM_VERTICES = {"smplh": 6890, "smplx": 10475}
PELVIS_REST = np.array([0.003, -0.35, 0.012])
"""Rest position of the pelvis joint in the model frame (the real models' is about (0, -0.2 .. -0.35, 0))."""
SHAPE_SCALE = 0.01
"""Metres a joint moves per unit of one shape component."""


class _Zeros:
    """Pickles as ``numpy.zeros(shape, float32)``: a large zero array in a few bytes."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def __reduce__(self):
        return (np.zeros, (self.shape, np.float32))


def rest_body_positions() -> np.ndarray:
    """Rest positions ``[52, 3]`` of the canonical humanoid's bodies (humanoid frame, pelvis at 0)."""
    pos = np.zeros((spec.NUM_BODIES, 3))
    for i, p in enumerate(spec.PARENT_INDICES):
        if p >= 0:
            pos[i] = pos[p] + np.asarray(spec.BODY_OFFSETS[i])
    return pos


def rest_joints(model_type: str) -> np.ndarray:
    """Rest joints ``[J, 3]`` in the model frame: the canonical skeleton (plus jaw and eyes for SMPL-X)."""
    kind = SMPLH if model_type == "smplh" else SMPLX
    joints = np.zeros((kind.num_joints, 3))
    joints[list(kind.joint_of_body)] = rest_body_positions() @ SMPL_TO_HUMANOID  # humanoid -> model frame
    head = joints[kind.joint_of_body[spec.body_index("Head")]]
    for j, off in zip(kind.head_joints, ((0.0, -0.02, 0.05), (0.03, 0.05, 0.08), (-0.03, 0.05, 0.08))):
        joints[j] = head + np.asarray(off)
    return joints + PELVIS_REST


def parents(model_type: str) -> np.ndarray:
    kind = SMPLH if model_type == "smplh" else SMPLX
    out = np.zeros(kind.num_joints, dtype=np.int64)
    for b, j in enumerate(kind.joint_of_body):
        p = spec.PARENT_INDICES[b]
        out[j] = -1 if p < 0 else kind.joint_of_body[p]
    for j in kind.head_joints:
        out[j] = kind.joint_of_body[spec.body_index("Head")]
    return out


def model_data(model_type: str, shape_components: int, seed: int = 0) -> dict:
    """The arrays of a synthetic model file."""
    g = np.random.default_rng(seed)
    J = 52 if model_type == "smplh" else 55
    V = NUM_VERTICES[model_type]
    joints = rest_joints(model_type)
    owner = np.concatenate([np.arange(J), np.arange(V - J) % J])
    radius = np.where(np.isin(owner, [SMPLH.joint_of_body[b] if model_type == "smplh" else SMPLX.joint_of_body[b]
                                      for b in range(spec.NUM_BODIES) if spec.is_finger(spec.BODY_NAMES[b])]), 0.008, 0.04)  # fmt: skip
    dirs = g.normal(size=(V, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    vertices = joints[owner] + (radius[:, None] * dirs) * (np.arange(V) >= J)[:, None]
    regressor = np.zeros((J, V))
    regressor[np.arange(J), np.arange(J)] = 1.0
    weights = np.zeros((V, J))
    weights[np.arange(V), owner] = 1.0
    per_joint = np.zeros((J, 3, shape_components))
    per_joint[..., :16] = g.normal(size=(J, 3, min(16, shape_components))) * SHAPE_SCALE  # the rest zero: small files
    shapedirs = per_joint[owner].astype(np.float32)
    kintree = np.stack([parents(model_type), np.arange(J)])
    kintree[0, 0] = 4294967295 if model_type == "smplh" else -1
    comps = {s: np.linalg.qr(g.normal(size=(45, 45)))[0].T for s in "lr"}  # orthonormal rows
    data = {
        "v_template": vertices, "f": np.array([[0, 1, 2], [3, 4, 5]], dtype=np.int64), "J_regressor": regressor,
        "weights": weights, "kintree_table": kintree, "shapedirs": shapedirs,
        "posedirs": _Zeros((V, 3, 9 * (J - 1))),
        "hands_componentsl": comps["l"], "hands_componentsr": comps["r"],
        "hands_meanl": g.normal(size=45) * 0.1, "hands_meanr": g.normal(size=45) * 0.1,
    }  # fmt: skip
    if model_type == "smplx":
        data["lmk_faces_idx"] = np.array([0, 1], dtype=np.int64)
        data["lmk_bary_coords"] = np.full((2, 3), 1.0 / 3.0)
    return data


def write_model_file(path: Path, model_type: str, shape_components: int, seed: int = 0) -> Path:
    """A synthetic model file (``.pkl`` or ``.npz`` by the suffix of ``path``)."""
    data = model_data(model_type, shape_components, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".pkl":
        with open(path, "wb") as f:
            pickle.dump(data, f, protocol=2)
    else:
        data["posedirs"] = np.zeros(data["posedirs"].shape, np.float32)
        np.savez_compressed(path, **data)
    return path


def write_model_folder(root: Path) -> Path:
    """Every file the InterAct conventions look for: smplx-package SMPL-H ``.pkl`` (10 components),
    AMASS SMPL-H ``model.npz`` (16), SMPL-X ``.npz`` (400: 300 shape + 100 expression) and ``.pkl``."""
    for i, gender in enumerate(("male", "female")):
        write_model_file(root / "smplh" / f"SMPLH_{gender.upper()}.pkl", "smplh", 10, seed=10 + i)
    for i, gender in enumerate(("male", "female", "neutral")):
        write_model_file(root / "smplh" / gender / "model.npz", "smplh", 16, seed=20 + i)
        write_model_file(root / "smplx" / f"SMPLX_{gender.upper()}.npz", "smplx", 400, seed=30 + i)
    write_model_file(root / "smplx" / "SMPLX_MALE.pkl", "smplx", 20, seed=40)
    return root


# -------------------------------------------------------------------------------------------------
# Known poses -> model parameters
# -------------------------------------------------------------------------------------------------
def humanoid_pose(clip: torch.Tensor):
    """Root position ``[T, 3]``, root rotation ``[T, 4]`` and local rotations ``[T, 51, 4]`` of a clip."""
    clip = clip.double()
    local = rot.from_exp_map(cf.field(clip, "dof_pos").reshape(-1, 51, 3))
    return cf.field(clip, "root_pos"), rot.normalize(cf.field(clip, "root_quat")), local


def model_parameters(clip: torch.Tensor, model_type: str, rest_pelvis: np.ndarray, y_up: bool = False):
    """Axis-angle pose ``[T, J, 3]`` and translation ``[T, 3]`` that put a model whose rest pelvis
    joint is at ``rest_pelvis`` into the clip's pose (z-up world, or the same scene y-up)."""
    kind = SMPLH if model_type == "smplh" else SMPLX
    root_pos, root_quat, local = humanoid_pose(clip)
    if y_up:
        to_y = Y_UP_TO_Z_UP.T
        from intermimic.motion.kinematics import matrix_to_quat

        root_quat = rot.multiply(matrix_to_quat(to_y).expand_as(root_quat), root_quat)
        root_pos = root_pos @ to_y.T
    pose = model_pose_from_humanoid(local, root_quat, kind)
    return pose, root_pos - torch.as_tensor(rest_pelvis, dtype=torch.float64)

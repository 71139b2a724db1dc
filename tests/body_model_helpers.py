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


# -------------------------------------------------------------------------------------------------
# Synthetic InterAct data sets
# -------------------------------------------------------------------------------------------------
BOX_HALF = (0.2, 0.15, 0.15)
"""The demo box's half size: the synthetic sequences are demo clips, whose box this is."""
BOX_FILE_OFFSET = np.array([0.05, -0.02, 0.03])
"""Where the box's centre sits in its mesh file (InterAct's meshes need not be centred)."""
SEQUENCE_IDS = {
    "behave": ("Date01_Sub01_box_lift", "Date02_Sub02_box_lift"),
    "omomo": ("sub10_box_000", "sub11_box_001"),
    "neuraldome": ("subject01_box_0", "subject02_box_1"),
    "imhd": ("20230825_box_0", "20230901_box_1"),
    "intercap": ("Sub01_Object01_Seg_0_box", "Sub03_Object01_Seg_1_box"),
    "grab": ("s1_box_lift_1", "s2_box_lift_1"),
}
GENDERS = {"behave": ("male", "female"), "intercap": ("male", "female"), "grab": ("male", "female")}
FPS = {"grab": 120}


def write_box_mesh(objects: Path, name: str = "box") -> Path:
    import trimesh

    mesh = trimesh.creation.box(extents=2 * np.asarray(BOX_HALF))
    mesh.apply_translation(BOX_FILE_OFFSET)
    path = objects / name / f"{name}.obj"
    path.parent.mkdir(parents=True, exist_ok=True)
    mesh.export(path)
    return path


def known_clip(frames: slice = slice(125, 165), finger_curl: float = 0.3, within_limits: bool = True) -> torch.Tensor:
    """The known motion: part of the demo clip lift_and_place (squatting, grasping and lifting the
    box), with fingers bent by random rotations of about ``finger_curl`` rad (the demo's are flat),
    inside the finger joints' limits unless ``within_limits`` is False; body positions and
    rotations recomputed by forward kinematics."""
    from intermimic.motion.demo import demo_clips
    from intermimic.motion.kinematics import forward_kinematics

    clip = next(c for c in demo_clips() if c.info.name.endswith("lift_and_place")).raw[frames].double().clone()
    dof = cf.field(clip, "dof_pos").reshape(-1, 51, 3).clone()
    g = torch.Generator().manual_seed(7)
    for b in range(1, spec.NUM_BODIES):
        if spec.is_finger(spec.BODY_NAMES[b]):
            if within_limits:  # hinge angles the humanoid's finger joints can take
                lo, hi = (torch.tensor(v, dtype=torch.float64) for v in zip(*(spec.joint_limits_rad(f"{spec.BODY_NAMES[b]}_{a}")
                                                                              for a in spec.HINGE_AXES)))  # fmt: skip
                hinges = (finger_curl * torch.randn(3, generator=g, dtype=torch.float64)).clamp(0.9 * lo, 0.9 * hi)
                dof[:, b - 1] = rot.to_exp_map(rot.from_hinges(hinges))
            else:
                dof[:, b - 1] = finger_curl * torch.randn(3, generator=g, dtype=torch.float64)
    pos, quat = forward_kinematics(cf.field(clip, "root_pos"), cf.field(clip, "root_quat"), dof.reshape(-1, 153), "exp_map")
    f = cf.COLUMNS
    clip[:, f["dof_pos"].slice] = dof.reshape(-1, 153)
    clip[:, f["body_pos"].slice] = pos.reshape(-1, 156)
    clip[:, f["body_quat"].slice] = quat.reshape(-1, 208)
    return clip


def write_interact_sequence(folder: Path, dataset: str, model_root: Path, clip: torch.Tensor, gender: str,
                            seed: int = 0, betas_scale: float = 1.0) -> dict:  # fmt: skip
    """One InterAct sequence (``human.npz``, ``object.npz``, y-up) that poses the humanoid as ``clip``.
    Returns what the test needs to know: betas/vtemp, the model file, the expected finger rotations."""
    from intermimic.motion.convert.body_model import BodyModel, find_model_file
    from intermimic.motion.convert.interact import DATASETS as CONVENTIONS
    from intermimic.motion.kinematics import quat_to_matrix

    conv = CONVENTIONS[dataset]
    g = np.random.default_rng(seed)
    model = BodyModel(find_model_file(model_root, conv.model_type, gender, conv.prefer), conv.model_type, gender)
    if conv.num_betas is None:
        vtemp = model.shaped_template(g.normal(size=16) * betas_scale)
        template, betas = vtemp, None
    else:
        betas = g.normal(size=conv.num_betas) * betas_scale
        template, vtemp = model.shaped_template(betas), None
    pose, trans = model_parameters(clip, conv.model_type, model.rest_joints(template)[0], y_up=True)
    T = pose.shape[0]
    kind = model.kind
    hands = pose[:, kind.first_finger : kind.first_finger + 30].reshape(T, 90).numpy()
    mean = np.concatenate([model.hand_mean["l"], model.hand_mean["r"]])
    stored = hands - mean if conv.hand_mean else hands
    expected_hands = hands
    if conv.pca_components:
        k = conv.pca_components
        coeffs = [stored[:, i * 45 : (i + 1) * 45] @ model.hand_components[s][:k].T for i, s in enumerate("lr")]
        stored = np.concatenate(coeffs, axis=1)
        expected_hands = np.concatenate([c @ model.hand_components[s][:k] for c, s in zip(coeffs, "lr")], axis=1)
        expected_hands = expected_hands + (mean if conv.hand_mean else 0.0)
    poses = np.concatenate([pose[:, :22].reshape(T, 66).numpy(), stored], axis=1)
    # the object: the clip's box pose (centred) as the pose of the mesh file, y-up
    to_y = Y_UP_TO_Z_UP.T
    obj_rot = to_y @ quat_to_matrix(rot.normalize(cf.field(clip, "obj_quat").double()))
    obj_pos = cf.field(clip, "obj_pos").double() @ to_y.T
    obj_trans = obj_pos - obj_rot @ torch.as_tensor(BOX_FILE_OFFSET)
    obj_angles = rot.to_exp_map(_quat_of(obj_rot)).numpy()
    repeat = FPS.get(dataset, 30) // 30
    human = {"poses": poses, "trans": trans.numpy(), "gender": gender}
    human.update({"vtemp": vtemp} if vtemp is not None else {"betas": betas})
    if repeat > 1:
        human.update(poses=np.repeat(poses, repeat, 0), trans=np.repeat(human["trans"], repeat, 0), fps=30 * repeat)
    obj = {"angles": np.repeat(obj_angles, repeat, 0), "trans": np.repeat(obj_trans.numpy(), repeat, 0), "name": "box"}
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "human.npz", **human)
    np.savez(folder / "object.npz", **obj)
    return {"betas": betas, "vtemp": vtemp, "model": model.path, "hands": expected_hands, "template": template,
            "rest_joints": model.rest_joints(template), "kind": kind}  # fmt: skip


def _quat_of(m: torch.Tensor) -> torch.Tensor:
    from intermimic.motion.kinematics import matrix_to_quat

    return matrix_to_quat(m)


def write_interact_dataset(data_root: Path, dataset: str, model_root: Path, clip: torch.Tensor | None = None) -> dict:
    """InterAct's layout for one data set, ``DATA_ROOT/<dataset>/sequences/<id>/`` plus ``objects/box/box.obj``;
    returns per sequence id what :func:`write_interact_sequence` returns."""
    clip = known_clip() if clip is None else clip
    root = data_root / dataset
    write_box_mesh(root / "objects")
    genders = GENDERS.get(dataset, ("male", "neutral"))
    return {sid: write_interact_sequence(root / "sequences" / sid, dataset, model_root, clip, genders[i], seed=i)
            for i, sid in enumerate(SEQUENCE_IDS[dataset])}  # fmt: skip


def humanoid_local_rotations(pose: torch.Tensor, kind) -> torch.Tensor:
    """Humanoid local rotations ``[T, 51, 4]`` of a model pose ``[T, J, 3]``."""
    from intermimic.motion.convert.posed_body import humanoid_rotations

    return humanoid_rotations(pose, torch.as_tensor(parents(kind.name)), kind=kind)[0]


def mjcf_body_offsets(path: Path) -> np.ndarray:
    """The body offsets ``[52, 3]`` (canonical order) of a humanoid MJCF file."""
    import xml.etree.ElementTree as ET

    pos = {b.get("name"): [float(v) for v in (b.get("pos") or "0 0 0").split()] for b in ET.parse(path).iter("body")}
    return np.asarray([pos[name] if i else [0.0, 0.0, 0.0] for i, name in enumerate(spec.BODY_NAMES)])

#!/usr/bin/env python3
"""Sim-to-sim check: an exported G1 policy run in plain MuJoCo, outside the training code.

    python deploy/g1_mujoco.py --policy RUN/exported/policy.onnx --urdf g1_29dof_with_hand.urdf \\
        --objects-dir DIR CLIP.npz [CLIP.npz ...] [--steps N] [--compare evaluation.json]

Imports numpy, mujoco and onnxruntime only (and Python's standard library), never the
``intermimic`` package: everything the policy was trained with comes from the metadata that
``play --export`` stores in the ONNX file (``policy.json`` holds the same).

The scene: the robot compiled by MuJoCo from the URDF (links fixed to others kept as bodies, a
free joint on the pelvis, self-collision with the metadata's filtered body pairs), one MuJoCo
position servo per joint with the metadata's stiffness, damping, armature and effort limit; a
ground plane; the clip's object, a free body whose collision shapes are the convex parts the
training simulator used (metadata), at its density. The physics runs at the metadata's rate,
the policy at its policy rate: every policy step the servo targets become
``q* = action_offset + action_scale * clip(a, -1, 1)`` and the physics steps ``decimation`` times.
MuJoCo takes ``--substeps`` (default 4) steps per physics step of the training rate: its
integrator treats a servo's damping implicitly but its stiffness explicitly, and the Dex3 finger
links are light (1.8e-5 kg m^2 about the distal joints), so at 240 Hz a finger servo gives
sqrt(kp / I) * dt = 9.8 where an explicit step is stable below 2 (the training simulators treat
both terms of the drive implicitly). At one substep the scene is on the edge of instability and
a small change in MuJoCo's numerics tips it over: mujoco 4.0 computes a self-contact between two
mesh links (thumb and hip) 0.07 mm deeper than 3.x, the runs part from there and 4.0's fingers
blow up. At 4 substeps mujoco 3.12 and 4.0 hold the reference alike. The contact window is
counted in physics steps of the training rate.

Versions: tested with mujoco 3.12.0 and 4.0.1 (``deploy/requirements.txt``); another version
runs with one line saying so. MuJoCo's warnings are printed (``[mujoco] ...``) instead of going
to ``MUJOCO_LOG.TXT`` in the working folder; a clip whose simulation MuJoCo reports unstable (and
resets) ends there, ``ended by`` ``mujoco_unstable``.

Each clip (a robot clip of ``retarget-robot`` or ``retarget``, read with numpy) starts from its
frame 0 (the robot, the object and their velocities as the reference has them) and runs to its
last frame or until it fails as in training: the pelvis below the fall height, or E_h or E_o
above their distances, from the episode's 2nd step on. Per clip it prints the steps survived
(``survival`` = steps / (frames - 1)), E_h (mean key-body distance) and E_o (mean object
surface-point distance) over steps 1..n-1 as ``evaluate`` computes them, next to
``evaluate``'s numbers for the same clip when ``--compare`` names its ``evaluation.json``.

The observation (:func:`observation`) is rebuilt from the simulated state and the clip. With H
the inverse heading (yaw only) of the simulated pelvis, tn(q) a rotation's rotated x and z axes,
e(d) = d / (|d| + 1e-6) exp(-5 |d|), and a hat for the reference at frame t + k, one block per
future offset k (``observation.offsets``), its terms in ``observation.terms`` order:

  root_height                 pelvis height
  body_positions              H (p_b - p_root) of every body but the pelvis
  body_rotations              tn(H q_b) of every body
  body_linear_velocities      H v_b (the body frame origin's velocity)
  body_angular_velocities     H w_b
  contact                     1[any component of the body's net contact force > threshold in any of the
                              policy step's last contact_window_steps physics steps], contact bodies
  key_position_error          H (p^_b - p_b), key bodies
  rotation_error              tn(H (q^_b^-1 q_b) H^-1), rotation-error bodies
  contact_error               c^ ((c^ + 1) / 2 - c), contact bodies (c^ the reference label)
  reference_key_positions     H (p^_b - p^_root), key bodies
  reference_rotations         tn(H q^_b), rotation-error bodies
  key_linear_velocity_error   H (v^_b - v_b), key bodies
  angular_velocity_error      H (w^_b - w_b), rotation-error bodies
  object_state                H v_o, H w_o, H (p^_o - p_o), tn(H (q^_o^-1 q_o) H^-1), H (v^_o - v_o), H (w^_o - w_o)
  interaction_field           e(H (p_b - nearest object surface point)), every body
  interaction_field_error     e(d^_b) - e(d_b), key bodies (d^ from the reference, its nearest point)

Reference velocities are frame differences at the clip rate (the first frame's are zero, angular
ones from the relative rotation); a body's reference contact label is that of the contact body
the metadata names for it (``contact_label_sources``); object surface points are sampled from
the object mesh, centred on its vertex mean, as the metadata says (area-stratified, seeded).
Quaternions are xyzw, as in the clips.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

TESTED_MUJOCO = ("3.12.0", "4.0.1")
"""MuJoCo versions this script was run with, the same results on each (``deploy/requirements.txt``)."""

DEFAULT_SUBSTEPS = 4
"""MuJoCo steps per physics step of the training rate (the module docstring says why)."""

# -------------------------------------------------------------------------------------------------
# Quaternions (xyzw), on arrays of any leading shape
# -------------------------------------------------------------------------------------------------


def q_normalize(q):
    return q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-9)


def q_conj(q):
    return np.concatenate([-q[..., :3], q[..., 3:]], axis=-1)


def q_mul(a, b):
    ax, ay, az, aw = np.moveaxis(a, -1, 0)
    bx, by, bz, bw = np.moveaxis(b, -1, 0)
    return np.stack([aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz], axis=-1)  # fmt: skip


def q_rotate(q, v):
    xyz, w = q[..., :3], q[..., 3:]
    xyz, v = np.broadcast_arrays(xyz, v)
    t = 2.0 * np.cross(xyz, v)
    return v + w * t + np.cross(xyz, t)


def heading_inverse(q):
    """The yaw-only rotation undoing the heading of q (the rotated x axis' angle about z)."""
    fwd = q_rotate(q, np.array([1.0, 0.0, 0.0], dtype=q.dtype))
    half = -0.5 * np.arctan2(fwd[..., 1], fwd[..., 0])
    zero = np.zeros_like(half)
    return np.stack([zero, zero, np.sin(half), np.cos(half)], axis=-1)


def tangent_normal(q):
    x = q_rotate(q, np.array([1.0, 0.0, 0.0], dtype=q.dtype))
    z = q_rotate(q, np.array([0.0, 0.0, 1.0], dtype=q.dtype))
    return np.concatenate([x, z], axis=-1)


def to_exp_map(q):
    q = q_normalize(q)
    q = np.where(q[..., 3:] < 0, -q, q)
    s = np.linalg.norm(q[..., :3], axis=-1)
    angle = 2.0 * np.arctan2(s, q[..., 3])
    k = np.where(s < 1e-6, 2.0, angle / np.where(s < 1e-6, 1.0, s))
    return q[..., :3] * k[..., None]


def field_encoding(d, decay: float):
    n = np.linalg.norm(d, axis=-1, keepdims=True)
    return d / (n + 1e-6) * np.exp(-decay * n)


# -------------------------------------------------------------------------------------------------
# Metadata, object meshes, clips
# -------------------------------------------------------------------------------------------------
class UserError(Exception):
    """A mistake in the command line or the files it names (printed as one line, exit status 2)."""


def find_policy(path: Path) -> Path:
    """The ONNX file ``--policy`` names: the file, a run folder's ``exported/policy.onnx``, or that of
    the latest run (by folder name) of an experiment folder."""
    if path.is_dir():
        runs = [path] + sorted((p for p in path.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
        path = next((r / "exported" / "policy.onnx" for r in runs if (r / "exported" / "policy.onnx").is_file()),
                    path / "exported" / "policy.onnx")  # fmt: skip
    if not path.is_file():
        raise UserError(f"--policy {path}: no such file (expected RUN/exported/policy.onnx from play --export)")
    return path


def load_policy(path: Path):
    """(onnxruntime session, metadata, the ONNX file) of an exported policy (file, run or experiment folder)."""
    import onnxruntime as ort

    path = find_policy(path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = {k: json.loads(v) for k, v in session.get_modelmeta().custom_metadata_map.items()}
    if not meta.get("deployment"):
        raise UserError(f"--policy {path}: its metadata has no 'deployment' entry (export it again with play --export)")
    return session, meta, path


def read_mesh(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (centred on their mean) and triangles of an .obj file (polygons as fans)."""
    vertices, faces = [], []
    for line in path.read_text().splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "v":
            vertices.append([float(x) for x in parts[1:4]])
        elif parts[0] == "f":
            idx = [int(p.split("/")[0]) for p in parts[1:]]
            idx = [i - 1 if i > 0 else len(vertices) + i for i in idx]
            faces += [[idx[0], idx[j], idx[j + 1]] for j in range(1, len(idx) - 1)]
    v, f = np.asarray(vertices, dtype=np.float64), np.asarray(faces, dtype=np.int64)
    if len(v) == 0 or len(f) == 0:
        raise UserError(f"{path}: no triangles in this mesh")
    return v - v.mean(axis=0), f


def find_mesh(objects_dir: Path, name: str) -> Path:
    for candidate in (objects_dir / name / f"{name}.obj", objects_dir / f"{name}.obj"):
        if candidate.is_file():
            return candidate
    raise UserError(f"--objects-dir {objects_dir}: no mesh for object '{name}' ({name}/{name}.obj or {name}.obj)")


def surface_points(vertices: np.ndarray, faces: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` points spread uniformly by area: one per equal slice of the cumulative area
    (stratified), at a uniform point of the triangle, from numpy's default generator."""
    rng = np.random.default_rng(seed)
    tri = vertices[faces]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    cdf = np.cumsum(area) / area.sum()
    u = (np.arange(count) + rng.random(count)) / count
    idx = np.minimum(np.searchsorted(cdf, u), len(faces) - 1)
    r1, r2 = rng.random(count), rng.random(count)
    s = np.sqrt(r1)
    a, b, c = tri[idx, 0], tri[idx, 1], tri[idx, 2]
    return ((1 - s)[:, None] * a + (s * (1 - r2))[:, None] * b + (s * r2)[:, None] * c).astype(np.float32)


def _order(have, want, what: str, where) -> list[int]:
    have = [str(x) for x in have]
    missing = sorted(set(want) - set(have))
    if missing:
        raise UserError(f"{where}: its {what} lack {missing[:4]} (a clip of another robot description?)")
    return [have.index(n) for n in want]


class Reference:
    """A robot clip in the policy's body and joint order, with the derived reference quantities."""

    def __init__(self, path: Path, meta: dict, points: np.ndarray):
        dep = meta["deployment"]
        try:
            data = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: cannot read it as a robot clip (.npz): {exc}") from None
        with data:
            if "format" not in data or str(data["format"]) != "intermimic-robot-clip":
                raise UserError(f"{path}: not a robot clip (no 'format' entry 'intermimic-robot-clip')")
            bodies = _order(data["body_names"], dep["bodies"], "bodies", path)
            joints = _order(data["joint_names"], meta["joint_names"], "joints", path)
            f32 = np.float32
            self.name, self.object_name = str(data["source"]), str(data["object_name"])
            self.root_pos = data["root_pos"].astype(f32)
            self.root_quat = q_normalize(data["root_quat"].astype(f32))
            self.dof_pos = data["dof_pos"][:, joints].astype(f32)
            self.body_pos = data["body_pos"][:, bodies].astype(f32)
            self.body_quat = q_normalize(data["body_quat"][:, bodies].astype(f32))
            self.obj_pos = data["object_pos"].astype(f32)
            self.obj_quat = q_normalize(data["object_quat"].astype(f32))
            labels = data["contact"].astype(f32)
            names = [str(n) for n in data["contact_body_names"]]
        self.num_frames = len(self.root_pos)
        self.contact = np.zeros((self.num_frames, len(dep["bodies"])), dtype=f32)
        for b, source in enumerate(dep["contact_label_sources"]):
            if source is not None and source in names:
                self.contact[:, b] = labels[:, names.index(source)]
        self.fps = float(dep["reference_fps"])
        self.points = points
        # each body's nearest surface point per frame (object frame), as the training library packs it
        local = q_rotate(q_conj(self.obj_quat)[:, None], self.body_pos - self.obj_pos[:, None]).reshape(-1, 3)
        score = (points * points).sum(-1)[None] - 2.0 * local @ points.T
        self.nearest = score.argmin(-1).reshape(self.num_frames, -1)

    def frames(self, t) -> dict:
        """The reference at integer frames ``t`` (any shape; clamped to the clip), velocities included."""
        t = np.asarray(t)
        cur = np.minimum(np.maximum(t, 0), self.num_frames - 1)
        prev = np.maximum(cur - 1, 0)
        moving = (cur != prev).astype(np.float32)
        fps = self.fps * moving

        def lin(x):
            return (x[cur] - x[prev]) * fps.reshape(fps.shape + (1,) * (x.ndim - 1))

        def ang(q):
            w = to_exp_map(q_mul(q[cur], q_conj(q[prev]))) * self.fps
            return w * moving.reshape(moving.shape + (1,) * (w.ndim - cur.ndim))

        d = self.dof_pos[cur] - self.dof_pos[prev]
        near = self.points[self.nearest[cur]]
        world = self.obj_pos[cur][..., None, :] + q_rotate(self.obj_quat[cur][..., None, :], near)
        field = q_rotate(heading_inverse(self.root_quat[cur])[..., None, :], self.body_pos[cur] - world)
        return {
            "root_pos": self.root_pos[cur], "root_quat": self.root_quat[cur], "root_lin_vel": lin(self.root_pos),
            "root_ang_vel": ang(self.root_quat), "dof_pos": self.dof_pos[cur],
            "dof_vel": (d - np.round(d / (2 * np.pi)) * (2 * np.pi)) * fps[..., None],
            "body_pos": self.body_pos[cur], "body_quat": self.body_quat[cur], "body_lin_vel": lin(self.body_pos),
            "body_ang_vel": ang(self.body_quat), "obj_pos": self.obj_pos[cur], "obj_quat": self.obj_quat[cur],
            "obj_lin_vel": lin(self.obj_pos), "obj_ang_vel": ang(self.obj_quat), "contact": self.contact[cur],
            "interaction_field": field,
        }  # fmt: skip


# -------------------------------------------------------------------------------------------------
# The observation
# -------------------------------------------------------------------------------------------------
def observation(meta: dict, state: dict, ref: Reference, frame: int) -> np.ndarray:
    """The policy's observation (float32, one block per future offset) for the simulated ``state``
    (``root_pos``, ``root_quat``, per body ``body_pos``/``body_quat``/``body_lin_vel``/
    ``body_ang_vel``/``contact``, ``obj_pos``/``obj_quat``/``obj_lin_vel``/``obj_ang_vel``; world
    frame, the metadata's body order) at reference frame ``frame``."""
    dep = meta["deployment"]
    spec = dep["observation"]
    key, rot_ids, contact_ids = dep["key_bodies"], dep["rotation_error_bodies"], dep["contact_bodies"]
    s = {k: np.asarray(v, dtype=np.float32) for k, v in state.items()}
    offsets = np.asarray(spec["offsets"])
    K = len(offsets)
    fut = ref.frames(frame + offsets)  # [K, ...]
    H = heading_inverse(s["root_quat"])

    def rot(v):
        return q_rotate(H, v)

    def each(x):
        return np.broadcast_to(x.reshape(1, -1), (K, x.size))

    def tn_conj(q):
        h = np.broadcast_to(H, q.shape)
        return tangent_normal(q_mul(q_mul(h, q), q_conj(h)))

    def blocks(x):
        return x.reshape(K, -1)

    points_w = s["obj_pos"] + q_rotate(s["obj_quat"], ref.points)
    diff = s["body_pos"][:, None] - points_w[None]
    nearest = points_w[np.argmin((diff * diff).sum(-1), axis=-1)]
    field = rot(s["body_pos"] - nearest)
    c = s["contact"].astype(np.float32)
    decay = spec["field_decay"]
    terms = {
        "root_height": lambda: each(s["root_pos"][2:3]),
        "body_positions": lambda: each(rot(s["body_pos"][1:] - s["root_pos"])),
        "body_rotations": lambda: each(tangent_normal(q_mul(np.broadcast_to(H, s["body_quat"].shape), s["body_quat"]))),
        "body_linear_velocities": lambda: each(rot(s["body_lin_vel"])),
        "body_angular_velocities": lambda: each(rot(s["body_ang_vel"])),
        "contact": lambda: each(c[contact_ids]),
        "key_position_error": lambda: blocks(rot(fut["body_pos"][:, key] - s["body_pos"][key])),
        "rotation_error": lambda: blocks(tn_conj(q_mul(q_conj(fut["body_quat"][:, rot_ids]), s["body_quat"][rot_ids]))),
        "contact_error": lambda: fut["contact"][:, contact_ids] * ((fut["contact"][:, contact_ids] + 1) * 0.5 - c[contact_ids]),
        "reference_key_positions": lambda: (
            each(rot(s["body_pos"][key] - s["root_pos"])) if spec["reference_key_positions_release_quirk"]
            else blocks(rot(fut["body_pos"][:, key] - fut["root_pos"][:, None]))),
        "reference_rotations": lambda: blocks(tangent_normal(q_mul(np.broadcast_to(H, (K, len(rot_ids), 4)),
                                                                   fut["body_quat"][:, rot_ids]))),
        "key_linear_velocity_error": lambda: blocks(rot(fut["body_lin_vel"][:, key] - s["body_lin_vel"][key])),
        "angular_velocity_error": lambda: blocks(rot(fut["body_ang_vel"][:, rot_ids] - s["body_ang_vel"][rot_ids])),
        "object_state": lambda: np.concatenate([
            each(rot(s["obj_lin_vel"])), each(rot(s["obj_ang_vel"])), rot(fut["obj_pos"] - s["obj_pos"]),
            tn_conj(q_mul(q_conj(fut["obj_quat"]), np.broadcast_to(s["obj_quat"], fut["obj_quat"].shape))),
            rot(fut["obj_lin_vel"] - s["obj_lin_vel"]), rot(fut["obj_ang_vel"] - s["obj_ang_vel"])], axis=-1),
        "interaction_field": lambda: each(field_encoding(field, decay)),
        "interaction_field_error": lambda: blocks(field_encoding(fut["interaction_field"][:, key], decay)
                                                  - field_encoding(field[key], decay)[None]),
    }  # fmt: skip
    unknown = [t for t in spec["terms"] if t not in terms]
    if unknown:
        raise UserError(f"the policy observes terms this script does not know: {unknown}")
    parts = [np.asarray(terms[t](), dtype=np.float32).reshape(K, -1) for t in spec["terms"]]
    for t, p, d in zip(spec["terms"], parts, spec["term_dims"]):
        if p.shape[1] != d:
            raise UserError(f"observation term {t}: {p.shape[1]} values here, {d} in the metadata")
    return np.concatenate(parts, axis=-1).reshape(-1)


# -------------------------------------------------------------------------------------------------
# The MuJoCo scene
# -------------------------------------------------------------------------------------------------
def _urdf_for_mujoco(urdf: Path) -> str:
    root = ET.parse(urdf).getroot()
    if root.tag != "robot":
        raise UserError(f"--urdf {urdf}: not a URDF file (root element <{root.tag}>)")
    for block in root.findall("mujoco"):
        root.remove(block)
    compiler = f'<compiler meshdir="{urdf.parent}" discardvisual="false" fusestatic="false" balanceinertia="true"/>'
    root.insert(0, ET.fromstring(f"<mujoco>{compiler}</mujoco>"))
    return ET.tostring(root, encoding="unicode")


class Scene:
    """The robot, the ground and one object in MuJoCo, with the policy's joint servos."""

    def __init__(self, urdf: Path, meta: dict, object_name: str, object_mesh: tuple[np.ndarray, np.ndarray],
                 substeps: int = DEFAULT_SUBSTEPS):  # fmt: skip
        import mujoco

        dep = meta["deployment"]
        physics = dep["physics"]
        spec = mujoco.MjSpec.from_string(_urdf_for_mujoco(urdf))
        root = spec.body(dep["bodies"][0])
        root.add_freejoint(name="floating_base")
        for a, b in dep["robot"]["collision_filter_pairs"] if dep["robot"]["self_collisions"] else ():
            exclude = spec.add_exclude()
            exclude.bodyname1, exclude.bodyname2 = a, b
        if not dep["robot"]["self_collisions"]:
            for geom in spec.geoms:
                if geom.contype or geom.conaffinity:
                    geom.contype, geom.conaffinity = 2, 1  # the robot collides with the world, not itself
        for k, name in enumerate(meta["joint_names"]):
            joint = spec.joint(name)
            if joint is None:
                raise UserError(f"--urdf {urdf}: no joint '{name}' (the policy's joints come from another description)")
            joint.armature = meta["joint_armature"][k]
            kp, kd, effort = meta["joint_stiffness"][k], meta["joint_damping"][k], meta["joint_effort_limit"][k]
            act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
            act.gaintype, act.biastype = mujoco.mjtGain.mjGAIN_FIXED, mujoco.mjtBias.mjBIAS_AFFINE
            act.gainprm[0], act.biasprm[1], act.biasprm[2] = kp, -kp, -kd
            act.forcelimited, act.forcerange = True, [-effort, effort]
        friction = physics["ground_friction"]
        spec.worldbody.add_geom(name="ground", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 1],
                                friction=[friction, 0.005, 0.0001])  # fmt: skip
        info = dep["objects"].get(object_name)
        if info is None:
            raise UserError(f"object '{object_name}': the policy's training data had no such object "
                            f"(it knows {sorted(dep['objects'])})")  # fmt: skip
        body = spec.worldbody.add_body(name="object")
        body.add_freejoint(name="object_free")
        parts = info.get("convex_parts") or [object_mesh[0]]  # the training's convex parts, else the mesh's hull
        for i, part in enumerate(parts):
            spec.add_mesh(name=f"object_part{i}", uservert=np.asarray(part, dtype=np.float64).reshape(-1))
            body.add_geom(type=mujoco.mjtGeom.mjGEOM_MESH, meshname=f"object_part{i}", density=info["density"],
                          friction=[info["friction"], 0.005, 0.0001])  # fmt: skip
        self.substeps = int(substeps)
        spec.option.timestep = 1.0 / (physics["physics_hz"] * self.substeps)
        solver = physics.get("solver", {})
        spec.option.integrator = {"euler": 0, "rk4": 1, "implicit": 2, "implicitfast": 3}.get(solver.get("integrator"), 3)
        spec.option.cone = {"pyramidal": 0, "elliptic": 1}.get(solver.get("cone"), 0)
        spec.option.impratio = float(solver.get("impratio", 1.0))
        self.model = spec.compile()
        self.data = mujoco.MjData(self.model)
        m = self.model
        self.body_ids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, b) for b in dep["bodies"]]
        self.qpos_ids = [m.jnt_qposadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, j)] for j in meta["joint_names"]]
        self.qvel_ids = [m.jnt_dofadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, j)] for j in meta["joint_names"]]
        self.act_ids = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_ACTUATOR, j) for j in meta["joint_names"]]
        free = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, "floating_base")
        obj = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, "object_free")
        self.root_q, self.root_v = m.jnt_qposadr[free], m.jnt_dofadr[free]
        self.obj_q, self.obj_v = m.jnt_qposadr[obj], m.jnt_dofadr[obj]
        self.obj_body = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, "object")
        self.threshold = dep["contact_force_threshold"]

    def set_state(self, ref: dict) -> None:
        """The reference state (one frame of :meth:`Reference.frames`): poses and velocities."""
        import mujoco

        d = self.data
        d.qpos[:] = self.model.qpos0
        d.qvel[:] = 0.0
        d.qpos[self.root_q : self.root_q + 3] = ref["root_pos"]
        d.qpos[self.root_q + 3 : self.root_q + 7] = np.roll(ref["root_quat"], 1)  # wxyz
        d.qvel[self.root_v : self.root_v + 3] = ref["root_lin_vel"]
        d.qvel[self.root_v + 3 : self.root_v + 6] = q_rotate(q_conj(ref["root_quat"]), ref["root_ang_vel"])  # local
        d.qpos[self.qpos_ids] = ref["dof_pos"]
        d.qvel[self.qvel_ids] = ref["dof_vel"]
        d.qpos[self.obj_q : self.obj_q + 3] = ref["obj_pos"]
        d.qpos[self.obj_q + 3 : self.obj_q + 7] = np.roll(ref["obj_quat"], 1)
        d.qvel[self.obj_v : self.obj_v + 3] = ref["obj_lin_vel"]
        d.qvel[self.obj_v + 3 : self.obj_v + 6] = q_rotate(q_conj(ref["obj_quat"]), ref["obj_ang_vel"])
        d.ctrl[self.act_ids] = ref["dof_pos"]
        mujoco.mj_forward(self.model, d)

    def contact_forces(self) -> np.ndarray:
        """Net contact force on each of the policy's bodies, world frame ``[B, 3]``."""
        import mujoco

        m, d = self.model, self.data
        net = np.zeros((m.nbody, 3))
        wrench = np.zeros(6)
        for i in range(d.ncon):
            con = d.contact[i]
            mujoco.mj_contactForce(m, d, i, wrench)
            force = con.frame.reshape(3, 3).T @ wrench[:3]  # on geom2's body, world frame
            net[m.geom_bodyid[con.geom2]] += force
            net[m.geom_bodyid[con.geom1]] -= force
        return net[self.body_ids]

    def state(self, contact: bool = True) -> dict:
        """The simulated state in the policy's body order (world frame), as :func:`observation` takes it."""
        import mujoco

        m, d = self.model, self.data
        vel = np.zeros((len(self.body_ids), 6))
        for k, b in enumerate(self.body_ids):
            mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, b, vel[k], 0)  # [angular, linear], world
        obj = np.zeros(6)
        mujoco.mj_objectVelocity(m, d, mujoco.mjtObj.mjOBJ_XBODY, self.obj_body, obj, 0)
        forces = self.contact_forces() if contact else np.zeros((len(self.body_ids), 3))
        return {
            "root_pos": d.xpos[self.body_ids[0]].copy(), "root_quat": np.roll(d.xquat[self.body_ids[0]], -1),
            "body_pos": d.xpos[self.body_ids].copy(), "body_quat": np.roll(d.xquat[self.body_ids], -1, axis=-1),
            "body_lin_vel": vel[:, 3:], "body_ang_vel": vel[:, :3], "contact": (np.abs(forces) > self.threshold).any(-1),
            "obj_pos": d.xpos[self.obj_body].copy(), "obj_quat": np.roll(d.xquat[self.obj_body], -1),
            "obj_lin_vel": obj[3:], "obj_ang_vel": obj[:3],
        }  # fmt: skip


# -------------------------------------------------------------------------------------------------
# Running a clip
# -------------------------------------------------------------------------------------------------
MUJOCO_WARNINGS: list[str] = []
"""MuJoCo's warnings of this run, in order (:func:`catch_mujoco_warnings`)."""


def catch_mujoco_warnings() -> None:
    """Print MuJoCo's warnings and keep them in :data:`MUJOCO_WARNINGS` instead of letting MuJoCo
    append them to ``MUJOCO_LOG.TXT`` in the working folder."""
    import mujoco

    def warn(message: str) -> None:
        MUJOCO_WARNINGS.append(message)
        print(f"[mujoco] {message}", file=sys.stderr, flush=True)

    mujoco.set_mju_user_warning(warn)


def version_note() -> str | None:
    """One line when this MuJoCo is not one the script was tested with, else None."""
    import mujoco

    if mujoco.__version__ in TESTED_MUJOCO:
        return None
    return (f"[g1_mujoco] note: mujoco {mujoco.__version__} has not been tested with this script (tested: "
            f"{', '.join(TESTED_MUJOCO)}; deploy/requirements.txt)")  # fmt: skip


def run_clip(session, meta: dict, scene: Scene, ref: Reference, max_steps: int | None = None,
             failures: bool = True) -> dict:  # fmt: skip
    """Play ``ref`` from its frame 0 with the policy (until its last frame, ``max_steps`` or, with
    ``failures``, a failure); returns steps, survival, success, cause, E_h and E_o (cm)."""
    import mujoco

    dep = meta["deployment"]
    fail = dep["failures"]
    key = dep["key_bodies"]
    offset, scale = np.asarray(meta["action_offset"]), np.asarray(meta["action_scale"])
    clip = float(meta.get("action_clip") or 1.0)
    decimation = int(dep["physics"]["decimation"])
    window = int(dep.get("contact_window_steps", 1))
    scene.set_state(ref.frames(0))
    state = scene.state(contact=False)  # the training simulator's contact sensor starts cleared at a reset
    last = ref.num_frames - 1
    limit = last if max_steps is None else min(last, max_steps)
    e_h, e_o, cause, frame = [], [], "clip_end" if limit == last else "max_steps", 0
    while frame < limit:
        obs = observation(meta, state, ref, frame)[None]
        (action,) = session.run(["actions"], {"obs": obs})
        scene.data.ctrl[scene.act_ids] = offset + scale * np.clip(action[0], -clip, clip)
        touched = np.zeros(len(scene.body_ids), dtype=bool)
        warned = len(MUJOCO_WARNINGS)
        for k in range(decimation):
            for _ in range(scene.substeps):
                mujoco.mj_step(scene.model, scene.data)
            if k >= decimation - window:  # the contact window: the policy step's last physics steps
                touched |= (np.abs(scene.contact_forces()) > scene.threshold).any(-1)
        if len(MUJOCO_WARNINGS) > warned:  # MuJoCo reset the unstable state: nothing after it is the policy's
            cause = "mujoco_unstable"
            break
        frame += 1
        state = scene.state(contact=False)
        state["contact"] = touched
        now = ref.frames(frame)
        e_h.append(float(np.linalg.norm(now["body_pos"][key] - state["body_pos"][key], axis=-1).mean()))
        sim_pts = state["obj_pos"] + q_rotate(state["obj_quat"].astype(np.float32), ref.points)
        ref_pts = now["obj_pos"] + q_rotate(now["obj_quat"], ref.points)
        e_o.append(float(np.linalg.norm(sim_pts - ref_pts, axis=-1).mean()))
        if failures and frame >= fail.get("min_steps", 2):
            failed = {"fall": state["root_pos"][2] < fail.get("fall", -np.inf),
                      "key_body_error": e_h[-1] > fail.get("key_body_error", np.inf),
                      "object_error": e_o[-1] > fail.get("object_error", np.inf)}  # fmt: skip
            hit = next((name for name, f in failed.items() if f), None)
            if hit:
                cause = hit
                break
    steps = len(e_h)
    used = max(steps - 1, 1) if steps else 0
    return {
        "clip": ref.name, "frames": ref.num_frames, "steps": steps, "success": cause == "clip_end",
        "survival": steps / max(last, 1), "cause": cause,
        "e_h_cm": 100.0 * float(np.mean(e_h[:used])) if steps else 0.0,
        "e_o_cm": 100.0 * float(np.mean(e_o[:used])) if steps else 0.0,
    }  # fmt: skip


def format_table(rows: list[dict], compare: dict[str, dict]) -> str:
    head = f"{'clip':<24} {'frames':>6} | {'MuJoCo: steps':>13} {'survival':>8} {'E_h cm':>7} {'E_o cm':>7} {'ended by':<15}"
    if compare:
        head += f" | {'evaluate: steps':>15} {'survival':>8} {'E_h cm':>7} {'E_o cm':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = (f"{r['clip']:<24} {r['frames']:>6} | {r['steps']:>13} {r['survival']:>8.2f} {r['e_h_cm']:>7.2f} "
                f"{r['e_o_cm']:>7.2f} {r['cause']:<15}")  # fmt: skip
        other = compare.get(r["clip"])
        if compare:
            line += (f" | {other['steps']:>15} {other['steps'] / max(other['frames'] - 1, 1):>8.2f} "
                     f"{other['e_h_cm']:>7.2f} {other['e_o_cm']:>7.2f}") if other else f" | {'(not evaluated)':>15}"  # fmt: skip
        lines.append(line)
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description="Run an exported G1 policy in plain MuJoCo on robot clips.")
    p.add_argument("clips", nargs="+", type=Path, metavar="CLIP.npz", help="robot clips (retarget-robot / retarget)")
    p.add_argument("--policy", type=Path, required=True,
                   help="RUN/exported/policy.onnx (play --export), a run folder, or an experiment folder (its latest run)")
    p.add_argument("--urdf", type=Path, required=True, help="the robot's URDF (g1_29dof_with_hand.urdf)")
    p.add_argument("--objects-dir", "--objects_dir", dest="objects_dir", type=Path, required=True,
                   help="folder of the object meshes (<name>/<name>.obj or <name>.obj)")  # fmt: skip
    p.add_argument("--steps", type=int, default=None, help="stop each clip after this many policy steps")
    p.add_argument("--no-failures", "--no_failures", dest="failures", action="store_false",
                   help="do not stop a clip where it fails (to watch what happens after)")  # fmt: skip
    p.add_argument("--compare", type=Path, default=None,
                   help="evaluation.json of evaluate for the same checkpoint: its numbers printed beside")
    p.add_argument("--json", type=Path, default=None, help="also write the rows to this file")
    p.add_argument("--substeps", type=int, default=DEFAULT_SUBSTEPS,
                   help=f"MuJoCo steps per physics step of the training rate (default {DEFAULT_SUBSTEPS}; "
                        "1 is unstable for the Dex3 fingers, see the script's docstring)")  # fmt: skip
    return p


def main(argv: list[str] | None = None) -> list[dict]:
    args = build_parser().parse_args(argv)
    try:
        if args.steps is not None and args.steps < 1:
            raise UserError(f"--steps {args.steps}: expected a number >= 1")
        if args.substeps < 1:
            raise UserError(f"--substeps {args.substeps}: expected a number >= 1")
        if not args.urdf.is_file():
            raise UserError(f"--urdf {args.urdf}: no such file")
        if not args.objects_dir.is_dir():
            raise UserError(f"--objects-dir {args.objects_dir}: no such folder")
        session, meta, policy = load_policy(args.policy)
        note = version_note()
        if note:
            print(note, flush=True)
        catch_mujoco_warnings()
        compare = {}
        if args.compare is not None:
            try:
                compare = {c["clip"]: c for c in json.loads(args.compare.read_text())["clips"]}
            except (OSError, ValueError, KeyError) as exc:
                raise UserError(f"--compare {args.compare}: not an evaluation.json of evaluate ({exc})") from None
        dep = meta["deployment"]
        rows, meshes = [], {}
        for path in args.clips:
            if not path.is_file():
                raise UserError(f"{path}: no such clip file")
            name = str(np.load(path, allow_pickle=False)["object_name"])
            if name not in meshes:
                meshes[name] = read_mesh(find_mesh(args.objects_dir, name))
            pts = dep["object_surface_points"]
            ref = Reference(path, meta, surface_points(*meshes[name], pts["count"], pts["seed"]))
            scene = Scene(args.urdf, meta, name, meshes[name], args.substeps)
            rows.append(run_clip(session, meta, scene, ref, args.steps, args.failures))
            print(f"{ref.name}: {rows[-1]['steps']} steps ({rows[-1]['cause']})", flush=True)
    except UserError as exc:
        print(f"[g1_mujoco] error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    import mujoco

    print(f"policy {policy} (task {meta.get('task')}), mujoco {mujoco.__version__}, physics at "
          f"{dep['physics']['physics_hz']:g} Hz ({args.substeps} MuJoCo steps each), policy at {meta['policy_hz']:g} Hz")  # fmt: skip
    print(format_table(rows, compare))
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()

"""The Unitree G1 (29 DOF) with Dex3-1 hands as an embodiment, read from the user's URDF.

The URDF is compiled by MuJoCo (static links kept, a free joint added on the pelvis): the same
model serves the kinematics here and, written out as MJCF, the MJCF -> USD path the SMPL-X
humanoid already uses, so kit-less CPU runs need nothing new. Joints and bodies are taken by name
from the file; body groups and gains below name them, never index them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from .embodiment_spec import Embodiment

ROOT_BODY = "pelvis"
NUM_ACTUATED = 43

# Key bodies (robot body -> SMPL-X body it tracks), the release's keyBodies/keyIndex, in its order.
KEY_BODY_MAP: tuple[tuple[str, str], ...] = (
    ("left_hip_yaw_link", "L_Hip"), ("left_knee_link", "L_Knee"), ("left_ankle_roll_link", "L_Ankle"),
    ("right_hip_yaw_link", "R_Hip"), ("right_knee_link", "R_Knee"), ("right_ankle_roll_link", "R_Ankle"),
    ("torso_link", "Torso"), ("mid360_link", "Head"),
    ("left_shoulder_yaw_link", "L_Shoulder"), ("left_elbow_link", "L_Elbow"), ("left_wrist_yaw_link", "L_Wrist"),
    ("left_hand_index_tip_link", "L_Index3"), ("left_hand_middle_tip_link", "L_Middle3"),
    ("left_hand_thumb_tip_link", "L_Thumb3"),
    ("right_shoulder_yaw_link", "R_Shoulder"), ("right_elbow_link", "R_Elbow"), ("right_wrist_yaw_link", "R_Wrist"),
    ("right_hand_index_tip_link", "R_Index3"), ("right_hand_middle_tip_link", "R_Middle3"),
    ("right_hand_thumb_tip_link", "R_Thumb3"),
)  # fmt: skip
KEY_BODY_NAMES = tuple(robot for robot, _ in KEY_BODY_MAP)

HAND_BODY_NAMES: dict[str, tuple[str, ...]] = {
    side: tuple(
        f"{prefix}_{link}"
        for link in ("wrist_yaw_link", "hand_palm_link", "hand_thumb_0_link", "hand_thumb_1_link", "hand_thumb_2_link",
                     "hand_middle_0_link", "hand_middle_1_link", "hand_index_0_link", "hand_index_1_link")  # fmt: skip
    )
    for side, prefix in (("L", "left"), ("R", "right"))
}

COLLISION_FILTERS = ("neighbours", "release")
"""Which link pairs of the G1 never collide (:func:`collision_filter_pairs`): ``neighbours``
(default) or ``release`` (the release's leg filter only)."""
LEG_LINK_GROUPS = ("hip", "knee", "ankle")
"""Leg links by name, from the pelvis down: the release filters collisions within a group and
between neighbouring groups of one leg (hip-knee, knee-ankle; hip and ankle still collide)."""

# The release's reset pose (init_dof) and root height.
INITIAL_JOINT_POS = {"hip_pitch": -0.1, "knee": 0.3, "ankle_pitch": -0.2, "elbow": 0.5}
INITIAL_ROOT_HEIGHT = 0.94
RELEASE_OBJECT_DENSITY = 25.0
"""Object density (kg/m^3) of the release's G1 config (its SMPL-X configs use 200)."""


def joint_group(joint: str) -> str:
    """leg | waist | arm | wrist | hand, from the joint's name."""
    if "_hand_" in joint:
        return "hand"
    if "wrist" in joint:
        return "wrist"
    if joint.startswith("waist"):
        return "waist"
    if "shoulder" in joint or "elbow" in joint:
        return "arm"
    if any(k in joint for k in ("hip", "knee", "ankle")):
        return "leg"
    raise KeyError(f"G1 joint '{joint}' belongs to no gain group")


RELEASE_KP = {"leg": 500.0, "waist": 300.0, "arm": 300.0, "wrist": 200.0, "hand": 100.0}
"""The release's PD stiffness per group (humanoid_g1.py); damping is Kp / 10; no armature."""

# Sim-to-real preset in the style of BeyondMimic / mjlab: each joint's armature is its motor's
# reflected inertia, Kp = J w^2 and Kd = 2 zeta J w with w = 10 Hz * 2 pi and zeta = 2.
_ARMATURE_5020 = 0.003609725
_ARMATURE_7520_14 = 0.010177520
_ARMATURE_7520_22 = 0.025101925
_ARMATURE_4010 = 0.00425
_ARMATURE_HAND = 0.001
"""Dex3 finger motors: no published reflected inertia; a small value chosen here."""
NATURAL_FREQ = 10.0 * 2.0 * 3.141592653589793
DAMPING_RATIO = 2.0


def motor_armature(joint: str) -> float:
    if "_hand_" in joint:
        return _ARMATURE_HAND
    if any(k in joint for k in ("hip_pitch", "hip_yaw", "waist_yaw")):
        return _ARMATURE_7520_14
    if any(k in joint for k in ("hip_roll", "knee")):
        return _ARMATURE_7520_22
    if any(k in joint for k in ("ankle", "waist_roll", "waist_pitch")):
        return 2.0 * _ARMATURE_5020
    if any(k in joint for k in ("wrist_pitch", "wrist_yaw")):
        return _ARMATURE_4010
    return _ARMATURE_5020  # shoulders, elbow, wrist roll


GAIN_PRESETS = ("release", "armature")


def joint_gains(joint: str, preset: str = "release") -> tuple[float, float, float]:
    """(stiffness, damping, armature) of a joint under a gain preset."""
    if preset == "release":
        kp = RELEASE_KP[joint_group(joint)]
        return kp, kp / 10.0, 0.0
    if preset == "armature":
        j = motor_armature(joint)
        return j * NATURAL_FREQ**2, 2.0 * DAMPING_RATIO * j * NATURAL_FREQ, j
    raise ValueError(f"unknown G1 gain preset '{preset}'; expected one of {', '.join(GAIN_PRESETS)}")


def _urdf_text_for_mujoco(urdf: Path) -> str:
    """The URDF with its mujoco compiler block pointing at the file's folder and keeping static links."""
    text = urdf.read_text()
    compiler = f'<compiler meshdir="{urdf.parent}" discardvisual="false" fusestatic="false" balanceinertia="true"/>'
    root = ET.fromstring(text)
    if root.tag != "robot":
        raise ValueError(f"{urdf}: not a URDF file (root element <{root.tag}>, expected <robot>)")
    block = root.find("mujoco")
    if block is not None:
        root.remove(block)
    root.insert(0, ET.fromstring(f"<mujoco>{compiler}</mujoco>"))
    return ET.tostring(root, encoding="unicode")


def load_mujoco_spec(urdf: str | Path, collision_filter: str = "neighbours"):
    """MuJoCo spec of the robot from the URDF, with a free joint on the pelvis and the link pairs
    of ``collision_filter`` excluded from collision."""
    import mujoco

    path = Path(urdf).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"G1 URDF not found: {path}")
    try:
        spec = mujoco.MjSpec.from_string(_urdf_text_for_mujoco(path))
    except (ValueError, ET.ParseError) as exc:
        raise ValueError(f"{path}: MuJoCo cannot read this URDF: {exc}") from exc
    pelvis = spec.body(ROOT_BODY)
    if pelvis is None:
        raise ValueError(f"{path}: no link named '{ROOT_BODY}'")
    pelvis.add_freejoint(name="floating_base")
    for a, b in collision_filter_pairs(spec, collision_filter):
        exclude = spec.add_exclude()
        exclude.bodyname1, exclude.bodyname2 = a, b
    return spec


def _has_collider(body) -> bool:
    return any(g.contype or g.conaffinity for g in body.geoms)


def _weld_root(body):
    """The body itself if a joint moves it, else the nearest ancestor a joint moves."""
    while not body.joints and body.parent is not None and body.parent.name != "world":
        body = body.parent
    return body.name


def collision_filter_pairs(spec, rule: str = "neighbours") -> tuple[tuple[str, str], ...]:
    """Pairs of collider bodies that never collide with each other, from the robot's tree.

    Both rules filter, per leg, the links of one group or of neighbouring groups of
    :data:`LEG_LINK_GROUPS` (the release's shape filter bits: hip-knee and knee-ankle, so that the
    ankle's full-mesh collider may overlap the knee's; the two legs, and hip and ankle, collide).
    ``neighbours`` also filters links one joint apart once the links fixed to another are counted
    as part of it (MuJoCo's own rule; Newton and PhysX apply it only to a body and its parent);
    ``release`` adds nothing, as the release's Isaac Gym (whose PhysX skips a link and its parent)."""
    if rule not in COLLISION_FILTERS:
        raise ValueError(f"env.robot_collision_filter: unknown rule '{rule}', expected one of {', '.join(COLLISION_FILTERS)}")
    tree = [b for b in spec.bodies if b.name != "world"]  # (the world body's parent is not a body)
    bodies = [b for b in tree if _has_collider(b)]
    weld = {b.name: _weld_root(b) for b in tree}
    weld_parent = {b.name: weld.get(b.parent.name) for b in tree}

    def leg_group(name: str) -> tuple[str, int] | None:
        side = next((s for s in ("left", "right") if name.startswith(f"{s}_")), None)
        group = next((i for i, g in enumerate(LEG_LINK_GROUPS) if f"_{g}" in name), None)
        return None if side is None or group is None else (side, group)

    pairs = []
    for i, a in enumerate(bodies):
        for b in bodies[i + 1 :]:
            wa, wb = weld[a.name], weld[b.name]
            neighbours = rule == "neighbours" and (wa == wb or weld_parent[wa] == wb or weld_parent[wb] == wa)
            ga, gb = leg_group(a.name), leg_group(b.name)
            same_leg = ga is not None and gb is not None and ga[0] == gb[0] and abs(ga[1] - gb[1]) <= 1
            if neighbours or same_leg:
                pairs.append((a.name, b.name))
    return tuple(pairs)


def load_mujoco_model(urdf: str | Path, collision_filter: str = "neighbours"):
    return load_mujoco_spec(urdf, collision_filter).compile()


def mjcf_text(urdf: str | Path, collision_filter: str = "neighbours") -> str:
    """The robot as an MJCF document (for the MJCF -> USD conversion of :mod:`usd_convert`)."""
    spec = load_mujoco_spec(urdf, collision_filter)
    spec.compile()
    return spec.to_xml()


def contact_bodies(bodies: tuple[str, ...], parents: tuple[int, ...], colliders) -> dict[str, str]:
    """Contact body -> the SMPL-X body whose label it takes: for each key body of
    :data:`KEY_BODY_MAP`, the nearest body at or above it in the tree that has a collider (a
    fingertip frame: the finger link carrying it); a key body whose collider body is already
    taken adds none (``mid360_link``, the lidar frame on the torso)."""
    out: dict[str, str] = {}
    for key, human in KEY_BODY_MAP:
        i = bodies.index(key)
        while bodies[i] not in colliders and parents[i] >= 0:
            i = parents[i]
        if bodies[i] in colliders and bodies[i] not in out:
            out[bodies[i]] = human
    return out


def nearest_contact_bodies(bodies: tuple[str, ...], parents: tuple[int, ...], contact: tuple[str, ...],
                           colliders=None) -> dict[str, str]:  # fmt: skip
    """Each non-contact body with a collider (``colliders``; None: every body) -> the contact body
    nearest to it in the kinematic tree (fewest joints apart; the parent side first on a tie):
    whose reference contact label it takes."""
    children: dict[int, list[int]] = {i: [] for i in range(len(bodies))}
    for i, p in enumerate(parents):
        if p >= 0:
            children[p].append(i)
    wanted = {bodies.index(c) for c in contact}
    out = {}
    for start in range(len(bodies)):
        if start in wanted or (colliders is not None and bodies[start] not in colliders):
            continue
        seen, frontier = {start}, [start]
        while frontier and bodies[start] not in out:
            step = []
            for i in frontier:
                for j in ([parents[i]] if parents[i] >= 0 else []) + children[i]:
                    if j not in seen:
                        seen.add(j)
                        step.append(j)
            hit = next((j for j in step if j in wanted), None)
            if hit is not None:
                out[bodies[start]] = bodies[hit]
            frontier = step
    return out


def leg_length(model) -> float:
    """Hip joint centre -> knee -> ankle at the zero pose, mean of both legs (m)."""
    import mujoco

    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)

    def at(name):
        return data.xpos[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)]

    total = 0.0
    for side in ("left", "right"):
        hip, knee, ankle = (at(f"{side}_{link}_link") for link in ("hip_roll", "knee", "ankle_roll"))
        total += float(np.linalg.norm(knee - hip) + np.linalg.norm(ankle - knee))
    return total / 2.0


def smplx_leg_length() -> float:
    """Hip -> knee -> ankle of the SMPL-X humanoid (its body offsets), mean of both legs (m)."""
    from . import humanoid_spec as spec

    offsets = np.asarray(spec.BODY_OFFSETS)
    return float(np.mean([np.linalg.norm(offsets[spec.body_index(f"{s}_{b}")]) for s in "LR" for b in ("Knee", "Ankle")]) * 2)


def _urdf_joint_speeds(urdf: Path) -> dict[str, tuple[float, float]]:
    """(effort, velocity) limit of each revolute joint, from the URDF's <limit> elements."""
    out = {}
    for joint in ET.parse(urdf).getroot().iter("joint"):
        limit = joint.find("limit")
        if joint.get("type") == "revolute" and limit is not None:
            out[joint.get("name")] = (float(limit.get("effort", "inf")), float(limit.get("velocity", "inf")))
    return out


def load_embodiment(urdf: str | Path, gains: str = "release", collision_filter: str = "neighbours") -> Embodiment:
    """The G1 + Dex3 embodiment read from ``urdf`` (bodies/joints in the file's depth-first order),
    its links kept apart by the filter rule ``collision_filter`` (:data:`COLLISION_FILTERS`)."""
    import mujoco

    path = Path(urdf).expanduser().resolve()
    model = load_mujoco_model(path, collision_filter)
    bodies = tuple(model.body(i).name for i in range(1, model.nbody))
    hinges = [i for i in range(model.njnt) if model.jnt_type[i] == mujoco.mjtJoint.mjJNT_HINGE]
    joints = tuple(model.joint(i).name for i in hinges)
    if len(joints) != NUM_ACTUATED:
        raise ValueError(f"{path}: expected {NUM_ACTUATED} revolute joints (G1 29 DOF + 2 x 7 Dex3), found {len(joints)}")
    missing = sorted({b for b in (*KEY_BODY_NAMES, *sum(HAND_BODY_NAMES.values(), ())) if b not in bodies})
    if missing:
        raise ValueError(f"{path}: links {missing[:5]} missing (expected the G1 Dex3 link names)")
    limits = _urdf_joint_speeds(path)
    parents = tuple(int(model.body_parentid[i]) - 1 for i in range(1, model.nbody))
    colliders = tuple(bodies[i - 1] for i in range(1, model.nbody)
                      if any(model.geom_contype[g] or model.geom_conaffinity[g] for g in range(model.ngeom)
                             if model.geom_bodyid[g] == i))  # fmt: skip
    contact = contact_bodies(bodies, parents, set(colliders))
    exclude_ids = zip(model.exclude_signature >> 16, model.exclude_signature & 0xFFFF)
    filter_pairs = tuple((bodies[a - 1], bodies[b - 1]) for a, b in exclude_ids)
    triples = [joint_gains(j, gains) for j in joints]
    default = tuple(next((v for k, v in INITIAL_JOINT_POS.items() if f"_{k}_joint" in j), 0.0) for j in joints)
    emb = Embodiment(
        name="g1_dex3",
        body_names=bodies,
        joint_names=joints,
        joint_lower=tuple(float(model.jnt_range[i][0]) for i in hinges),
        joint_upper=tuple(float(model.jnt_range[i][1]) for i in hinges),
        stiffness=tuple(t[0] for t in triples),
        damping=tuple(t[1] for t in triples),
        armature=tuple(t[2] for t in triples),
        effort_limit=tuple(limits[j][0] for j in joints),
        velocity_limit=tuple(limits[j][1] for j in joints),
        key_body_names=KEY_BODY_NAMES,
        contact_body_names=tuple(contact),
        hand_body_names=dict(HAND_BODY_NAMES),
        finger_joint_names={side: tuple(j for j in joints if j.startswith(f"{prefix}_hand_"))
                            for side, prefix in (("L", "left"), ("R", "right"))},  # the Dex3 joints
        full_weight_body_names=tuple(n for n in KEY_BODY_NAMES if any(k in n for k in ("hip", "knee", "ankle"))),
        default_joint_pos=default,
        default_root_height=INITIAL_ROOT_HEIGHT,
        body_parents=parents,
        contact_label_sources=nearest_contact_bodies(bodies, parents, tuple(contact), set(colliders)),
        body_masses=tuple(float(model.body_mass[i]) for i in range(1, model.nbody)),
        reference_bodies=dict(KEY_BODY_MAP),
        contact_reference_bodies=contact,
        collider_body_names=colliders,
        jointed_body_names=tuple(bodies[i - 1] for i in range(1, model.nbody) if model.body_jntnum[i] > 0),
        length_scale=leg_length(model) / smplx_leg_length(),
        self_collisions=True,
        collision_filter_pairs=filter_pairs,
        collision_filter=collision_filter,
        source=str(path),
    )
    emb.check()
    return emb

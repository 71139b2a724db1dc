"""The canonical SMPL-X humanoid: the single source of truth for its topology.

Everything that needs body names, their order, the key/contact/hand body lists, joint
limits, PD gains, armature or densities imports them from here. Numbers follow the
InterMimic humanoid (52 rigid bodies, pelvis free, 51 bodies x 3 hinges = 153 DOFs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------
# Bodies (depth-first order, as in the clip files)
# ---------------------------------------------------------------------------------------

FINGERS = ("Index", "Middle", "Pinky", "Ring", "Thumb")
"""Finger order inside each hand (three links each)."""


def _hand(side: str) -> list[str]:
    return [f"{side}_{finger}{link}" for finger in FINGERS for link in (1, 2, 3)]


BODY_NAMES: tuple[str, ...] = (
    "Pelvis",
    "L_Hip", "L_Knee", "L_Ankle", "L_Toe",
    "R_Hip", "R_Knee", "R_Ankle", "R_Toe",
    "Torso", "Spine", "Chest", "Neck", "Head",
    "L_Thorax", "L_Shoulder", "L_Elbow", "L_Wrist", *_hand("L"),
    "R_Thorax", "R_Shoulder", "R_Elbow", "R_Wrist", *_hand("R"),
)  # fmt: skip
NUM_BODIES = len(BODY_NAMES)  # 52
ROOT_BODY = "Pelvis"


def body_index(name: str) -> int:
    return BODY_NAMES.index(name)


def body_indices(names) -> list[int]:
    return [BODY_NAMES.index(n) for n in names]


def _parent_name(name: str) -> str | None:
    chains = {
        "L_Hip": "Pelvis", "L_Knee": "L_Hip", "L_Ankle": "L_Knee", "L_Toe": "L_Ankle",
        "R_Hip": "Pelvis", "R_Knee": "R_Hip", "R_Ankle": "R_Knee", "R_Toe": "R_Ankle",
        "Torso": "Pelvis", "Spine": "Torso", "Chest": "Spine", "Neck": "Chest", "Head": "Neck",
        "L_Thorax": "Chest", "L_Shoulder": "L_Thorax", "L_Elbow": "L_Shoulder", "L_Wrist": "L_Elbow",
        "R_Thorax": "Chest", "R_Shoulder": "R_Thorax", "R_Elbow": "R_Shoulder", "R_Wrist": "R_Elbow",
    }  # fmt: skip
    if name == ROOT_BODY:
        return None
    if name in chains:
        return chains[name]
    side, rest = name.split("_", 1)
    link = int(rest[-1])
    return f"{side}_Wrist" if link == 1 else f"{side}_{rest[:-1]}{link - 1}"


PARENT_INDICES: tuple[int, ...] = tuple(
    -1 if _parent_name(n) is None else BODY_NAMES.index(_parent_name(n)) for n in BODY_NAMES
)

# Offset of each body's origin in its parent's frame (metres), canonical body.
BODY_OFFSETS: tuple[tuple[float, float, float], ...] = (
    (0.0, 0.0, 0.0),
    (-0.0111, 0.0758, -0.0952), (-0.0244, 0.0218, -0.389), (-0.0209, -0.0089, -0.4057), (0.1133, 0.0231, -0.0468),
    (-0.0128, -0.0753, -0.1017), (-0.0175, -0.0254, -0.3849), (-0.0174, 0.0032, -0.3968), (0.1071, -0.0181, -0.05),
    (-0.0311, -0.0057, 0.111), (-0.012, 0.0122, 0.1267), (0.0397, -0.0073, 0.046), (-0.0552, -0.006, 0.2172),
    (0.0165, 0.0095, 0.1475),
    (-0.0266, 0.0574, 0.1273), (-0.0313, 0.0928, 0.0525), (-0.0285, 0.2802, -0.056), (0.0059, 0.2367, 0.0094),
    (0.0212, 0.107, -0.0141), (0.0007, 0.0307, -0.0103), (-0.0021, 0.0074, -0.0213),
    (-0.0028, 0.1143, -0.0116), (-0.0048, 0.0268, -0.0145), (-0.0021, 0.0063, -0.023),
    (-0.0428, 0.088, -0.0204), (-0.0058, 0.0122, -0.0138), (-0.0006, 0.0042, -0.0186),
    (-0.0267, 0.1018, -0.0147), (-0.0023, 0.0239, -0.0158), (0.0004, 0.0045, -0.0234),
    (0.0287, 0.0444, -0.023), (0.0112, 0.022, -0.0174), (0.0055, 0.0239, -0.0088),
    (-0.0337, -0.0595, 0.1228), (-0.024, -0.1005, 0.0549), (-0.0208, -0.2705, -0.0503), (-0.0038, -0.2372, 0.005),
    (0.0229, -0.1057, -0.0132), (0.0007, -0.0307, -0.0103), (-0.0021, -0.0074, -0.0213),
    (-0.0011, -0.113, -0.0107), (-0.0048, -0.0268, -0.0145), (-0.0021, -0.0063, -0.023),
    (-0.0411, -0.0867, -0.0196), (-0.0058, -0.0122, -0.0138), (-0.0006, -0.0042, -0.0186),
    (-0.025, -0.1005, -0.0139), (-0.0023, -0.0238, -0.0158), (0.0004, -0.0045, -0.0234),
    (0.0304, -0.043, -0.0222), (0.0112, -0.022, -0.0174), (0.0055, -0.0239, -0.0088),
)  # fmt: skip


# ---------------------------------------------------------------------------------------
# Collision/visual geometry (one primitive per body), in the body frame
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sphere:
    radius: float
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Capsule:
    radius: float
    start: tuple[float, float, float]
    end: tuple[float, float, float]


@dataclass(frozen=True)
class Box:
    half_size: tuple[float, float, float]
    pos: tuple[float, float, float]


def _cap(r, a, b):
    return Capsule(r, tuple(a), tuple(b))


BODY_GEOMS: tuple[Sphere | Capsule | Box, ...] = (
    Sphere(0.1056),
    _cap(0.059, (-0.0049, 0.0044, -0.0778), (-0.0195, 0.0175, -0.3112)),
    _cap(0.0564, (-0.0042, -0.0018, -0.0811), (-0.0167, -0.0071, -0.3246)),
    Box((0.0909, 0.0502, 0.0216), (0.0566, 0.0115, -0.0234)),
    Box((0.0194, 0.0493, 0.0209), (0.0576, -0.0115, 0.0227)),
    _cap(0.0588, (-0.0035, -0.0051, -0.077), (-0.014, -0.0203, -0.3079)),
    _cap(0.0564, (-0.0035, 0.0006, -0.0794), (-0.0139, 0.0026, -0.3175)),
    Box((0.0909, 0.0502, 0.0216), (0.0535, -0.0091, -0.025)),
    Box((0.0194, 0.0493, 0.0209), (0.0545, 0.0091, 0.0243)),
    _cap(0.0817, (-0.0054, 0.0055, 0.057), (-0.0066, 0.0067, 0.0697)),
    _cap(0.0686, (0.0179, -0.0033, 0.0207), (0.0218, -0.004, 0.0253)),
    _cap(0.1145, (-0.0173, -0.0012, 0.0701), (-0.0212, -0.0015, 0.0857)),
    _cap(0.0437, (0.0033, 0.0019, 0.0295), (0.0132, 0.0076, 0.118)),
    Sphere(0.1054),
    _cap(0.0564, (-0.0063, 0.0186, 0.0105), (-0.025, 0.0743, 0.042)),
    _cap(0.0533, (-0.0057, 0.056, -0.0112), (-0.0228, 0.2241, -0.0448)),
    _cap(0.0418, (0.0012, 0.0473, 0.0019), (0.0047, 0.1894, 0.0075)),
    Box((0.0414, 0.0444, 0.0076), (-0.0022, 0.0456, -0.0084)),
    _cap(0.0093, (0.0001, 0.0061, -0.0021), (0.0006, 0.0246, -0.0082)),
    _cap(0.0076, (-0.0004, 0.0015, -0.0043), (-0.0017, 0.0059, -0.017)),
    _cap(0.0067, (0.0, 0.0019, -0.0039), (-0.0001, 0.0075, -0.0154)),
    _cap(0.0096, (-0.001, 0.0054, -0.0029), (-0.0039, 0.0214, -0.0116)),
    _cap(0.0071, (-0.0004, 0.0013, -0.0046), (-0.0017, 0.0051, -0.0184)),
    _cap(0.0064, (0.0, 0.0017, -0.0042), (-0.0001, 0.0067, -0.0168)),
    _cap(0.0071, (-0.0012, 0.0024, -0.0028), (-0.0047, 0.0097, -0.011)),
    _cap(0.0064, (-0.0001, 0.0008, -0.0037), (-0.0005, 0.0033, -0.0149)),
    _cap(0.0051, (0.0003, 0.0012, -0.0033), (0.0011, 0.0049, -0.0133)),
    _cap(0.0082, (-0.0005, 0.0048, -0.0032), (-0.0019, 0.0191, -0.0126)),
    _cap(0.0073, (0.0001, 0.0009, -0.0047), (0.0003, 0.0036, -0.0187)),
    _cap(0.0061, (0.0005, 0.0013, -0.0043), (0.0019, 0.0052, -0.0171)),
    _cap(0.0123, (0.0022, 0.0044, -0.0035), (0.0089, 0.0176, -0.0139)),
    _cap(0.0093, (0.0011, 0.0048, -0.0018), (0.0044, 0.0191, -0.0071)),
    _cap(0.0088, (0.0015, 0.0052, -0.0014), (0.006, 0.0207, -0.0055)),
    _cap(0.0576, (-0.0048, -0.0201, 0.011), (-0.0192, -0.0804, 0.0439)),
    _cap(0.0538, (-0.0042, -0.0541, -0.0101), (-0.0167, -0.2164, -0.0402)),
    _cap(0.042, (-0.0008, -0.0474, 0.001), (-0.003, -0.1897, 0.004)),
    Box((0.0414, 0.0416, 0.0078), (-0.0014, -0.0449, -0.008)),
    _cap(0.0093, (0.0001, -0.0061, -0.0021), (0.0006, -0.0246, -0.0082)),
    _cap(0.0076, (-0.0004, -0.0015, -0.0043), (-0.0017, -0.0059, -0.017)),
    _cap(0.0068, (0.0, -0.0011, -0.0039), (-0.0001, -0.0043, -0.0154)),
    _cap(0.0096, (-0.001, -0.0054, -0.0029), (-0.0039, -0.0214, -0.0116)),
    _cap(0.0071, (-0.0004, -0.0013, -0.0046), (-0.0017, -0.0051, -0.0184)),
    _cap(0.0064, (0.0, -0.0009, -0.0042), (-0.0001, -0.0035, -0.0168)),
    _cap(0.0071, (-0.0012, -0.0024, -0.0028), (-0.0047, -0.0097, -0.011)),
    _cap(0.0064, (-0.0001, -0.0008, -0.0037), (-0.0005, -0.0033, -0.0149)),
    _cap(0.0052, (0.0003, -0.0004, -0.0033), (0.0011, -0.0017, -0.0133)),
    _cap(0.0082, (-0.0005, -0.0048, -0.0032), (-0.0019, -0.0191, -0.0126)),
    _cap(0.0073, (0.0001, -0.0009, -0.0047), (0.0003, -0.0036, -0.0187)),
    _cap(0.0061, (0.0005, -0.0005, -0.0043), (0.0019, -0.002, -0.0171)),
    _cap(0.0123, (0.0022, -0.0044, -0.0035), (0.0089, -0.0176, -0.0139)),
    _cap(0.0093, (0.0011, -0.0048, -0.0018), (0.0044, -0.0191, -0.0071)),
    _cap(0.0091, (0.0015, -0.0044, -0.0014), (0.006, -0.0175, -0.0055)),
)


def body_density(name: str) -> float:
    """Geometry density (kg/m^3) of a body."""
    if name == "Pelvis":
        return 125000.0 / 27.0  # 4629.63
    if name.endswith("_Hip"):
        return 100000.0 / 49.0  # 2040.82
    if name.endswith("_Knee"):
        return 100000.0 / 81.0  # 1234.57
    if name in ("Torso", "Spine", "Chest"):
        return 1100.0
    return 1000.0


# ---------------------------------------------------------------------------------------
# Joints: 3 hinges (x, y, z about the body's own axes, applied in that order) per body
# ---------------------------------------------------------------------------------------

HINGE_AXES = ("x", "y", "z")
ACTUATED_BODY_NAMES: tuple[str, ...] = BODY_NAMES[1:]
JOINT_NAMES: tuple[str, ...] = tuple(f"{b}_{a}" for b in ACTUATED_BODY_NAMES for a in HINGE_AXES)
NUM_DOFS = len(JOINT_NAMES)  # 153
ARMATURE = 0.02


def body_joint_name(body: str) -> str:
    """Name of the simulated joint that turns ``body``: its three hinges as one joint (the USD's D6
    joint, :mod:`.usd_joints`)."""
    return f"{body}_joint"


SIM_DOF_NAMES: tuple[str, ...] = tuple(
    f"{body_joint_name(b)}:{i}" for b in ACTUATED_BODY_NAMES for i in range(len(HINGE_AXES))
)
"""The simulators' names of the DOFs of :data:`JOINT_NAMES`, in that order: Newton and PhysX name
the axes of a multi-axis joint ``<joint>:0/:1/:2`` (the x, y, z hinges)."""

_BODY_LIMIT_DEG = 180.0
_FINGER_FLEX_DEG = 55.625
_FINGER_SIDE_DEG = 5.625
_FINGER_TIP_FLEX_DEG = 90.0


def is_finger(body: str) -> bool:
    return any(f in body for f in FINGERS)


def joint_limits_deg(joint: str) -> tuple[float, float]:
    """(lower, upper) of a hinge in degrees."""
    body, axis = joint.rsplit("_", 1)
    if not is_finger(body):
        return (-_BODY_LIMIT_DEG, _BODY_LIMIT_DEG)
    side, link = body[0], int(body[-1])
    thumb = "Thumb" in body
    if link == 3 and axis == "x":  # distal links flex one way only
        if side == "L":
            return (-_FINGER_TIP_FLEX_DEG, _FINGER_SIDE_DEG)
        return (-_FINGER_SIDE_DEG, _FINGER_TIP_FLEX_DEG)
    if link == 1 and (axis == "x" or thumb):  # proximal flex axis; the thumb base moves freely
        return (-_FINGER_FLEX_DEG, _FINGER_FLEX_DEG)
    if link == 2 and axis == "x" and not thumb:
        return (-_FINGER_FLEX_DEG, _FINGER_FLEX_DEG)
    return (-_FINGER_SIDE_DEG, _FINGER_SIDE_DEG)


def joint_limits_rad(joint: str) -> tuple[float, float]:
    lo, hi = joint_limits_deg(joint)
    return (math.radians(lo), math.radians(hi))


# PD gains (stiffness, damping) by body group.
_GAIN_GROUPS: tuple[tuple[tuple[str, ...], tuple[float, float]], ...] = (
    (("Hip", "Knee", "Ankle"), (800.0, 80.0)),
    (("Toe",), (500.0, 50.0)),
    (("Torso", "Spine", "Chest"), (1000.0, 100.0)),
    (("Neck", "Head", "Thorax", "Shoulder", "Elbow"), (500.0, 50.0)),
    (("Wrist",), (300.0, 30.0)),
)
FINGER_GAINS = (100.0, 10.0)


def body_gains(body: str) -> tuple[float, float]:
    """(stiffness, damping) of the three hinges of a body."""
    if is_finger(body):
        return FINGER_GAINS
    base = body.split("_")[-1]
    for group, gains in _GAIN_GROUPS:
        if base in group:
            return gains
    raise KeyError(f"no PD gains defined for body '{body}'")


def joint_gains(joint: str) -> tuple[float, float]:
    return body_gains(joint.rsplit("_", 1)[0])


# ---------------------------------------------------------------------------------------
# Body subsets used by observations, rewards and terminations
# ---------------------------------------------------------------------------------------

KEY_BODY_NAMES: tuple[str, ...] = (
    "L_Hip", "L_Knee", "L_Ankle", "L_Toe", "R_Hip", "R_Knee", "R_Ankle", "R_Toe",
    "Torso", "Spine", "Chest", "Neck", "Head",
    "L_Thorax", "L_Shoulder", "L_Elbow", "L_Wrist", "R_Thorax", "R_Shoulder", "R_Elbow", "R_Wrist",
)  # fmt: skip
FINGERTIP_NAMES: tuple[str, ...] = tuple(f"{s}_{f}3" for s in "LR" for f in FINGERS)
CONTACT_BODY_NAMES: tuple[str, ...] = tuple(
    n for n in BODY_NAMES if n in KEY_BODY_NAMES or n in FINGERTIP_NAMES
)  # 31, body order
LEG_BODY_NAMES: tuple[str, ...] = tuple(n for n in KEY_BODY_NAMES if n.split("_")[-1] in ("Hip", "Knee", "Ankle", "Toe"))
HAND_BODY_NAMES: dict[str, tuple[str, ...]] = {
    side: (f"{side}_Wrist", *_hand(side)) for side in "LR"
}  # 16 per side
ROTATION_ERROR_BODY_NAMES: tuple[str, ...] = BODY_NAMES[0:18] + BODY_NAMES[33:37]  # 22 (no fingers)

# The release's quirky body sets (reachable with switches; see docs/training.md):
RELEASE_FULL_WEIGHT_BODY_NAMES: tuple[str, ...] = tuple(
    BODY_NAMES[i] for i, n in enumerate(KEY_BODY_NAMES) if n.split("_")[-1] in ("Ankle", "Toe")
)
"""E_p bodies the release weights 1: it picks the ankles and toes by their positions in the key-body
list but uses those positions as body indices, which gives the knees and ankles."""
RELEASE_OTHER_CONTACT_BODY_NAMES: tuple[str, ...] = tuple(
    BODY_NAMES[i] for i in range(len(CONTACT_BODY_NAMES)) if BODY_NAMES[i] not in sum(HAND_BODY_NAMES.values(), ())
)
"""r_other bodies of the release: body indices below the number of contact bodies (31) minus the
hands, i.e. bodies 0-16 (the right thorax, shoulder and elbow are left out)."""
RELEASE_LEGACY_CONTACT_BODY_NAMES: tuple[str, ...] = KEY_BODY_NAMES + FINGERTIP_NAMES
"""The same 31 contact bodies in the order of the release's older configs (``omomo_train.yaml``,
``omomo_all.yaml``, the ones its published teachers and its student use): the 21 key bodies, then
the left and the right fingertips. Its ``omomo_train_new.yaml`` uses body order."""

KEY_BODY_IDS = body_indices(KEY_BODY_NAMES)
CONTACT_BODY_IDS = body_indices(CONTACT_BODY_NAMES)
LEG_BODY_IDS = body_indices(LEG_BODY_NAMES)
HAND_BODY_IDS = {s: body_indices(n) for s, n in HAND_BODY_NAMES.items()}
ROTATION_ERROR_BODY_IDS = body_indices(ROTATION_ERROR_BODY_NAMES)
RELEASE_FULL_WEIGHT_BODY_IDS = body_indices(RELEASE_FULL_WEIGHT_BODY_NAMES)
RELEASE_OTHER_CONTACT_BODY_IDS = body_indices(RELEASE_OTHER_CONTACT_BODY_NAMES)
CONTACT_BODY_ORDERS: dict[str, tuple[int, ...]] = {
    "body": tuple(CONTACT_BODY_IDS),
    "release_legacy": tuple(body_indices(RELEASE_LEGACY_CONTACT_BODY_NAMES)),
}
"""Orders of the contact bodies in the ``contact`` and ``contact_error`` observations
(``env.contact_body_order``)."""

assert NUM_BODIES == 52 and NUM_DOFS == 153 and len(SIM_DOF_NAMES) == NUM_DOFS
assert len(BODY_OFFSETS) == NUM_BODIES and len(BODY_GEOMS) == NUM_BODIES
assert sorted(RELEASE_LEGACY_CONTACT_BODY_NAMES) == sorted(CONTACT_BODY_NAMES)
assert len(KEY_BODY_NAMES) == 21 and len(CONTACT_BODY_NAMES) == 31 and len(ROTATION_ERROR_BODY_NAMES) == 22

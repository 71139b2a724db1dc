"""Robot reference clips (``retarget-robot`` output): one ``.npz`` file per clip.

Plain numpy arrays (``numpy.load(path)`` reads them, no pickle), Z-up world, metres, radians,
quaternions **xyzw** (as the SMPL-X clip format):

=====================  =============  ==========================================================
key                    shape / dtype  meaning
=====================  =============  ==========================================================
format                 str            ``intermimic-robot-clip``
version                int            :data:`FORMAT_VERSION`
robot                  str            embodiment name (``g1_dex3``)
source                 str            source clip name (file stem)
fps                    float          frames per second
scale                  float          human -> robot size factor used
joint_names            [J] str        actuated joints, the embodiment's order
body_names             [B] str        bodies, the embodiment's order (root first)
root_pos               [T, 3]         root body position, world
root_quat              [T, 4]         root body rotation, xyzw
dof_pos                [T, J]         joint positions (rad), within the URDF limits
body_pos               [T, B, 3]      forward kinematics of (root, dof_pos)
body_quat              [T, B, 4]      body rotations, xyzw
object_name            str            the object (from the source clip name; may be empty)
object_pos             [T, 3]         object trajectory on the robot's scale
object_quat            [T, 4]         object rotation, xyzw
contact_body_names     [C] str        the embodiment's contact bodies
contact                [T, C] int8    contact label per contact body {-1, 0, +1} (from the SMPL-X
                                      body each one tracks)
object_contact         [T] int8       the source's object-manipulated flag {0, 1}
=====================  =============  ==========================================================
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..utils.atomic_write import atomic_write

FORMAT = "intermimic-robot-clip"
FORMAT_VERSION = 1
SUFFIX = ".npz"
QUAT_ORDER = "xyzw"


class RobotClipError(ValueError):
    """A robot clip file that cannot be read or does not follow the format; names the file."""


@dataclass
class RobotClip:
    robot: str
    source: str
    fps: float
    scale: float
    joint_names: tuple[str, ...]
    body_names: tuple[str, ...]
    root_pos: np.ndarray
    root_quat: np.ndarray
    dof_pos: np.ndarray
    body_pos: np.ndarray
    body_quat: np.ndarray
    object_name: str
    object_pos: np.ndarray
    object_quat: np.ndarray
    contact_body_names: tuple[str, ...]
    contact: np.ndarray
    object_contact: np.ndarray

    @property
    def num_frames(self) -> int:
        return int(self.root_pos.shape[0])

    def check(self, where: str = "robot clip") -> None:
        """Shapes agree with each other and values are finite; raises :class:`RobotClipError`."""
        T, J, B, C = self.num_frames, len(self.joint_names), len(self.body_names), len(self.contact_body_names)
        expected = {
            "root_pos": (T, 3), "root_quat": (T, 4), "dof_pos": (T, J), "body_pos": (T, B, 3),
            "body_quat": (T, B, 4), "object_pos": (T, 3), "object_quat": (T, 4), "contact": (T, C),
            "object_contact": (T,),
        }  # fmt: skip
        for name, shape in expected.items():
            value = getattr(self, name)
            if value.shape != shape:
                raise RobotClipError(f"{where}: {name} has shape {value.shape}, expected {shape}")
            if not np.all(np.isfinite(value)):
                raise RobotClipError(f"{where}: {name} holds non-finite values")
        if T == 0:
            raise RobotClipError(f"{where}: no frames")


_STRINGS = ("robot", "source", "object_name")
_NAME_LISTS = ("joint_names", "body_names", "contact_body_names")
_INTS = {"contact": np.int8, "object_contact": np.int8}


def save_robot_clip(path: str | os.PathLike, clip: RobotClip, overwrite: bool = False) -> Path:
    """Write ``clip`` to ``path`` (``.npz``), complete or not at all; an existing file is kept and
    :class:`FileExistsError` raised unless ``overwrite``."""
    clip.check(str(path))
    arrays = {"format": np.array(FORMAT), "version": np.array(FORMAT_VERSION)}
    for f in fields(clip):
        value = getattr(clip, f.name)
        if f.name in _STRINGS:
            arrays[f.name] = np.array(str(value))
        elif f.name in _NAME_LISTS:
            arrays[f.name] = np.array([str(v) for v in value])
        elif f.name in _INTS:
            arrays[f.name] = np.asarray(value).astype(_INTS[f.name])
        elif f.name in ("fps", "scale"):
            arrays[f.name] = np.array(float(value))
        else:
            arrays[f.name] = np.asarray(value, dtype=np.float32)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a file object: numpy would append .npz to a name
            np.savez_compressed(handle, **arrays)

    return atomic_write(path, write, overwrite=overwrite)


def load_robot_clip(path: str | os.PathLike) -> RobotClip:
    """Read a robot clip written by :func:`save_robot_clip`; :class:`RobotClipError` names the file
    and what is wrong."""
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as exc:
        raise RobotClipError(f"{path}: cannot read it as a .npz robot clip: {exc}") from exc
    with data:
        if "format" not in data or str(data["format"]) != FORMAT:
            raise RobotClipError(f"{path}: not a robot clip (expected a 'format' entry '{FORMAT}')")
        version = int(data["version"])
        if version > FORMAT_VERSION:
            raise RobotClipError(f"{path}: robot clip format version {version}; this version reads up to "
                                 f"{FORMAT_VERSION}")  # fmt: skip
        missing = [f.name for f in fields(RobotClip) if f.name not in data]
        if missing:
            raise RobotClipError(f"{path}: missing entries {missing}")
        values = {}
        for f in fields(RobotClip):
            value = data[f.name]
            if f.name in _STRINGS:
                values[f.name] = str(value)
            elif f.name in _NAME_LISTS:
                values[f.name] = tuple(str(v) for v in value)
            elif f.name in ("fps", "scale"):
                values[f.name] = float(value)
            else:
                values[f.name] = np.asarray(value)
    clip = RobotClip(**values)
    clip.check(str(path))
    return clip

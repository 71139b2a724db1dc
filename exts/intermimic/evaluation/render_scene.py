"""The MJCF scene the MuJoCo video renderer draws (a drawing model only: nothing is simulated).

Every body of the embodiment and every object is a mocap body whose pose is set from the
simulation each frame. The SMPL-X humanoid's bodies carry its own geometry
(:data:`~intermimic.assets.humanoid_spec.BODY_GEOMS`, written by the humanoid MJCF writer);
another embodiment's bodies (the Unitree G1 + Dex3) carry the visual geoms of the robot's own
compiled MuJoCo model (:func:`robot_drawing`: its mesh files, each geom where it sits in its body;
collision duplicates left out). The objects carry their real meshes. A second, translucent copy
of each is the reference ghost. The ground is a plane with a grid texture; one directional light
casts shadows.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..assets import humanoid_spec as spec
from ..assets.humanoid_mjcf import geom_element

SIM_PREFIX, REF_PREFIX = "sim_", "ref_"
OBJECT_BODY = "object_{}"
"""Name of object ``k``'s body (after the sim/ref prefix)."""
ROBOT_MESH = "robot_mesh_{}"
"""Name of the robot model's mesh ``k`` in the scene's assets."""

HUMAN_RGBA = (0.62, 0.70, 0.86, 1.0)
CONTACT_RGBA = (0.95, 0.22, 0.18, 1.0)
"""A simulated body whose contact sensor sees force."""
OBJECT_RGBA = (0.98, 0.82, 0.30, 1.0)
GHOST_HUMAN_RGBA = (1.0, 0.55, 0.15, 0.28)
GHOST_CONTACT_RGBA = (0.25, 0.95, 0.35, 0.55)
"""A reference body the clip labels as in contact with the object."""
GHOST_OBJECT_RGBA = (0.9, 0.9, 0.95, 0.25)


def _rgba(values) -> str:
    return " ".join(f"{v:.3g}" for v in values)


def _numbers(a: np.ndarray, fmt: str) -> str:
    return " ".join(fmt % v for v in np.asarray(a).ravel())


def _humanoid(world: ET.Element, prefix: str, rgba) -> None:
    for name, geom in zip(spec.BODY_NAMES, spec.BODY_GEOMS):
        body = ET.SubElement(world, "body", {"name": prefix + name, "mocap": "true"})
        geom_element(body, prefix + name, geom)
        element = body[-1]
        element.attrib.pop("density", None)
        element.set("rgba", _rgba(rgba))


def is_smplx(embodiment) -> bool:
    """Whether ``embodiment`` (None: the default) is the SMPL-X humanoid, drawn from its own spec."""
    return embodiment is None or embodiment.name == "smplx"


@functools.lru_cache(maxsize=4)
def _robot_model(name: str, source: str):
    from ..assets.embodiment import robot_module

    return robot_module(name).load_mujoco_model(source)


def embodiment_model(embodiment):
    """The compiled MuJoCo model of a robot embodiment (read from ``embodiment.source``; cached)."""
    return _robot_model(embodiment.name, str(embodiment.source))


@dataclass(frozen=True)
class RobotDrawing:
    """What the scene draws of a robot embodiment: its mesh assets and each body's geoms."""

    meshes: tuple[dict[str, str], ...]
    """MJCF ``<mesh>`` attributes (name, file, scale) of the meshes the drawn geoms use."""
    body_geoms: tuple[tuple[dict[str, str], ...], ...]
    """Per embodiment body (``body_names`` order): MJCF ``<geom>`` attributes (type, mesh or
    size, pos and quat in the body), without name and colour."""


def _is_visual(model, g: int) -> bool:
    return model.geom_contype[g] == 0 and model.geom_conaffinity[g] == 0


def _mesh_file(model, k: int, mesh_dir: Path) -> str:
    start = int(model.mesh_pathadr[k])
    if start < 0:
        raise ValueError(f"robot mesh '{model.mesh(k).name}' has no file (only file meshes can be drawn)")
    path = Path(model.paths[start:].split(b"\0", 1)[0].decode())
    return str(path if path.is_absolute() else mesh_dir / path)


def _source_pose(model, g: int) -> tuple[np.ndarray, np.ndarray]:
    """Pose (pos, quat wxyz) of geom ``g`` in its body as written in the source, before MuJoCo
    moved a mesh geom's frame onto its mesh's centroid and principal axes (``mesh_pos/quat``):
    compiled = source * mesh, so writing the source pose with the same mesh file compiles to the
    same placement again."""
    import mujoco

    pos, quat = np.array(model.geom_pos[g], float), np.array(model.geom_quat[g], float)
    k = int(model.geom_dataid[g])
    if model.geom_type[g] != mujoco.mjtGeom.mjGEOM_MESH or k < 0:
        return pos, quat
    inv, src_quat, shift = np.zeros(4), np.zeros(4), np.zeros(3)
    mujoco.mju_negQuat(inv, np.array(model.mesh_quat[k], float))
    mujoco.mju_mulQuat(src_quat, quat, inv)
    mujoco.mju_rotVecQuat(shift, np.array(model.mesh_pos[k], float), src_quat)
    return pos - shift, src_quat


DRAWN_GEOM_TYPES = ("sphere", "capsule", "ellipsoid", "cylinder", "box", "mesh")


def robot_drawing(embodiment) -> RobotDrawing:
    """The geoms of each embodiment body from the robot's compiled MuJoCo model: a body's visual
    geoms (no collisions: a URDF ``<visual>``), or its collision geoms when it has no visual one;
    mesh geoms refer to the model's own mesh files."""
    return _robot_drawing(embodiment.name, str(embodiment.source), tuple(embodiment.body_names))


@functools.lru_cache(maxsize=4)
def _robot_drawing(name: str, source: str, body_names: tuple[str, ...]) -> RobotDrawing:
    import mujoco

    model = _robot_model(name, source)
    mesh_dir = Path(source).expanduser().resolve().parent
    meshes: dict[int, dict[str, str]] = {}
    bodies = []
    for body_name in body_names:
        b = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, body_name)
        if b < 0:
            raise ValueError(f"embodiment {name}: body '{body_name}' is not in the MuJoCo model of {source}")
        own = range(model.body_geomadr[b], model.body_geomadr[b] + model.body_geomnum[b])
        visual = [g for g in own if _is_visual(model, g)]
        geoms = []
        for g in visual or own:
            kind = mujoco.mjtGeom(model.geom_type[g]).name.removeprefix("mjGEOM_").lower()
            if kind not in DRAWN_GEOM_TYPES:
                continue
            pos, quat = _source_pose(model, g)
            attrib = {"type": kind}
            if kind == "mesh":
                k = int(model.geom_dataid[g])
                if k not in meshes:
                    meshes[k] = {"name": ROBOT_MESH.format(k), "file": _mesh_file(model, k, mesh_dir)}
                    if not np.allclose(model.mesh_scale[k], 1.0):
                        meshes[k]["scale"] = _numbers(model.mesh_scale[k], "%.9g")
                attrib["mesh"] = ROBOT_MESH.format(k)
            else:
                attrib["size"] = _numbers(model.geom_size[g], "%.9g")
            attrib["pos"] = _numbers(pos, "%.9g")
            attrib["quat"] = _numbers(quat, "%.9g")
            geoms.append(attrib)
        bodies.append(tuple(geoms))
    return RobotDrawing(tuple(meshes[k] for k in sorted(meshes)), tuple(bodies))


def _robot(world: ET.Element, drawing: RobotDrawing, body_names, prefix: str, rgba) -> None:
    for name, geoms in zip(body_names, drawing.body_geoms):
        body = ET.SubElement(world, "body", {"name": prefix + name, "mocap": "true"})
        for j, attrib in enumerate(geoms):
            ET.SubElement(body, "geom", {"name": f"{prefix}{name}_{j}", **attrib, "rgba": _rgba(rgba)})


def scene_mjcf(object_meshes, size: tuple[int, int] = (640, 480), embodiment=None) -> str:
    """The drawing scene as an MJCF string.

    Args:
        object_meshes: one mesh per object id (:class:`~intermimic.assets.object_mesh.ObjectMesh`,
            object frame), or an empty list when the task has no object.
        size: the largest image (width, height) that will be rendered.
        embodiment: the :class:`~intermimic.assets.embodiment_spec.Embodiment` drawn (None: the
            SMPL-X humanoid); one mocap body per ``embodiment.body_names`` entry and copy, named
            :data:`SIM_PREFIX` / :data:`REF_PREFIX` + body name.
    """
    drawing = None if is_smplx(embodiment) else robot_drawing(embodiment)
    root = ET.Element("mujoco", {"model": "intermimic_video"})
    ET.SubElement(root, "compiler", {"angle": "radian", "inertiafromgeom": "false"})
    ET.SubElement(root, "statistic", {"extent": "2", "center": "0 0 1"})  # fixes the clip planes (m)
    visual = ET.SubElement(root, "visual")
    ET.SubElement(visual, "global", {"offwidth": str(max(size[0], 64)), "offheight": str(max(size[1], 64))})
    ET.SubElement(visual, "quality", {"shadowsize": "2048", "offsamples": "0"})
    ET.SubElement(visual, "headlight", {"ambient": "0.32 0.32 0.32", "diffuse": "0.45 0.45 0.45", "specular": "0.05 0.05 0.05"})
    ET.SubElement(visual, "map", {"znear": "0.02", "zfar": "60", "shadowscale": "0.6"})
    ET.SubElement(visual, "rgba", {"haze": "0.12 0.13 0.16 1"})
    asset = ET.SubElement(root, "asset")
    ET.SubElement(asset, "texture", {"name": "sky", "type": "skybox", "builtin": "gradient", "rgb1": "0.20 0.22 0.27",
                                     "rgb2": "0.04 0.04 0.06", "width": "256", "height": "256"})  # fmt: skip
    ET.SubElement(asset, "texture", {"name": "grid", "type": "2d", "builtin": "checker", "rgb1": "0.20 0.21 0.24",
                                     "rgb2": "0.16 0.17 0.20", "mark": "edge", "markrgb": "0.32 0.34 0.38",
                                     "width": "256", "height": "256"})  # fmt: skip
    ET.SubElement(asset, "material", {"name": "ground", "texture": "grid", "texrepeat": "2 2", "texuniform": "true"})  # fmt: skip
    for k, mesh in enumerate(object_meshes):
        ET.SubElement(asset, "mesh", {"name": OBJECT_BODY.format(k), "vertex": _numbers(mesh.vertices, "%.5g"),
                                      "face": _numbers(mesh.faces, "%d"), "inertia": "shell"})  # fmt: skip
    for mesh in drawing.meshes if drawing is not None else ():
        ET.SubElement(asset, "mesh", mesh)
    world = ET.SubElement(root, "worldbody")
    ET.SubElement(world, "light", {"name": "sun", "directional": "true", "castshadow": "true", "pos": "0 0 6",
                                   "dir": "0.35 0.25 -1", "diffuse": "0.55 0.55 0.55", "specular": "0.1 0.1 0.1"})  # fmt: skip
    ET.SubElement(world, "geom", {"name": "ground", "type": "plane", "size": "0 0 0.05", "material": "ground"})
    if drawing is None:
        _humanoid(world, SIM_PREFIX, HUMAN_RGBA)
        _humanoid(world, REF_PREFIX, GHOST_HUMAN_RGBA)
    else:
        _robot(world, drawing, embodiment.body_names, SIM_PREFIX, HUMAN_RGBA)
        _robot(world, drawing, embodiment.body_names, REF_PREFIX, GHOST_HUMAN_RGBA)
    for k in range(len(object_meshes)):
        for prefix, rgba in ((SIM_PREFIX, OBJECT_RGBA), (REF_PREFIX, GHOST_OBJECT_RGBA)):
            body = ET.SubElement(world, "body", {"name": prefix + OBJECT_BODY.format(k), "mocap": "true"})
            ET.SubElement(body, "geom", {"name": prefix + OBJECT_BODY.format(k), "type": "mesh",
                                         "mesh": OBJECT_BODY.format(k), "rgba": _rgba(rgba)})  # fmt: skip
    for geom in root.iter("geom"):  # drawing only: nothing collides
        geom.set("contype", "0")
        geom.set("conaffinity", "0")
    return ET.tostring(root, encoding="unicode")

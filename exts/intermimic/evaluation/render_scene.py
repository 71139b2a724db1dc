"""The MJCF scene the MuJoCo video renderer draws (a drawing model only: nothing is simulated).

Every humanoid body and every object is a mocap body whose pose is set from the simulation each
frame; the bodies carry the humanoid's own geometry (:data:`~intermimic.assets.humanoid_spec.BODY_GEOMS`,
written by the humanoid MJCF writer) and the objects their real meshes. A second, translucent
copy of each is the reference ghost. The ground is a plane with a grid texture; one directional
light casts shadows.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from ..assets import humanoid_spec as spec
from ..assets.humanoid_mjcf import geom_element

SIM_PREFIX, REF_PREFIX = "sim_", "ref_"
OBJECT_BODY = "object_{}"
"""Name of object ``k``'s body (after the sim/ref prefix)."""

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


def scene_mjcf(object_meshes, size: tuple[int, int] = (640, 480)) -> str:
    """The drawing scene as an MJCF string.

    Args:
        object_meshes: one mesh per object id (:class:`~intermimic.assets.object_mesh.ObjectMesh`,
            object frame), or an empty list when the task has no object.
        size: the largest image (width, height) that will be rendered.
    """
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
    world = ET.SubElement(root, "worldbody")
    ET.SubElement(world, "light", {"name": "sun", "directional": "true", "castshadow": "true", "pos": "0 0 6",
                                   "dir": "0.35 0.25 -1", "diffuse": "0.55 0.55 0.55", "specular": "0.1 0.1 0.1"})  # fmt: skip
    ET.SubElement(world, "geom", {"name": "ground", "type": "plane", "size": "0 0 0.05", "material": "ground"})
    _humanoid(world, SIM_PREFIX, HUMAN_RGBA)
    _humanoid(world, REF_PREFIX, GHOST_HUMAN_RGBA)
    for k in range(len(object_meshes)):
        for prefix, rgba in ((SIM_PREFIX, OBJECT_RGBA), (REF_PREFIX, GHOST_OBJECT_RGBA)):
            body = ET.SubElement(world, "body", {"name": prefix + OBJECT_BODY.format(k), "mocap": "true"})
            ET.SubElement(body, "geom", {"name": prefix + OBJECT_BODY.format(k), "type": "mesh",
                                         "mesh": OBJECT_BODY.format(k), "rgba": _rgba(rgba)})  # fmt: skip
    for geom in root.iter("geom"):  # drawing only: nothing collides
        geom.set("contype", "0")
        geom.set("conaffinity", "0")
    return ET.tostring(root, encoding="unicode")

"""Video frames rendered from the real geometry with MuJoCo's offscreen renderer.

The scene (:mod:`.render_scene`) holds the bodies of the embodiment (the SMPL-X humanoid by
default, or a robot such as the Unitree G1 + Dex3 with its own meshes), the clip objects' meshes,
their translucent reference copies (the ghost) and a ground with a grid. Each frame poses those
bodies from a :class:`~intermimic.evaluation.video.SceneFrame` (bodies in the embodiment's
``body_names`` order), colours the contacts by body (simulated body touching the object: red;
reference body labelled in contact: green ghost), points the camera at the root body and draws
the caption. Works headless: ``MUJOCO_GL=osmesa`` (software) or ``egl``
(GPU), see :mod:`intermimic.utils.gl_backend`.
"""

from __future__ import annotations

import math

import numpy as np

from . import render_scene as rs
from .caption import draw_caption

CAMERAS = ("side", "front", "top")
"""Camera presets: from the humanoid's right side, from its front, from above."""
CAMERA_AZIMUTH = {"side": -90.0, "front": 180.0, "top": 180.0}
"""Camera azimuth (deg) relative to the humanoid's heading at the clip's first frame."""
CAMERA_ELEVATION = {"side": -14.0, "front": -14.0, "top": -88.0}
CAMERA_DISTANCE = {"side": 3.6, "front": 3.6, "top": 4.5}
LOOKAT_HEIGHT = 0.85
"""Height (m) of the point the camera looks at, above the humanoid's pelvis footprint."""
FOVY = 45.0
LEGEND = "red: body touching the object (sensor)   ghost: reference (green: contact in the clip)"


def _wxyz(q_xyzw: np.ndarray) -> np.ndarray:
    return np.asarray(q_xyzw)[..., [3, 0, 1, 2]]


def heading_deg(q_xyzw) -> float:
    """Yaw (deg) of a body's x axis about world z (the humanoid's facing direction)."""
    x, y, z, w = (float(v) for v in q_xyzw)
    fx, fy = 1.0 - 2.0 * (y * y + z * z), 2.0 * (x * y + w * z)
    return math.degrees(math.atan2(fy, fx))


class MujocoRenderer:
    """Draws scene frames into RGB images.

    Args:
        object_meshes: one mesh per object id (empty when the task has no object).
        size: (width, height) of the images.
        camera: one of :data:`CAMERAS`.
        ghost: draw the reference as a translucent ghost.
        embodiment: the :class:`~intermimic.assets.embodiment_spec.Embodiment` the frames show
            (None: the SMPL-X humanoid).
    """

    def __init__(self, object_meshes=(), size: tuple[int, int] = (640, 480), camera: str = "side", ghost: bool = True,
                 embodiment=None):  # fmt: skip
        import mujoco

        if camera not in CAMERAS:
            raise ValueError(f"camera: expected one of {', '.join(CAMERAS)}, got {camera!r}")
        self._mj = mujoco
        self.size = tuple(size)
        self.camera_name = camera
        self.ghost = ghost
        if embodiment is None:
            from ..assets.embodiment import smplx_embodiment

            embodiment = smplx_embodiment()
        self.embodiment = embodiment
        self.num_bodies = embodiment.num_bodies
        self.model = mujoco.MjModel.from_xml_string(rs.scene_mjcf(list(object_meshes), self.size, embodiment))
        self.model.vis.global_.fovy = FOVY
        self.data = mujoco.MjData(self.model)
        self._gl = mujoco.Renderer(self.model, height=self.size[1], width=self.size[0])
        m = self.model

        def body(name):
            return mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, name)

        def geoms_of(name):
            return m.body_geomadr[body(name)]

        def body_geoms(prefix):  # every geom of the copy's bodies, and the body index of each
            ids = [body(prefix + n) for n in embodiment.body_names]
            geoms = [np.arange(m.body_geomadr[b], m.body_geomadr[b] + m.body_geomnum[b]) for b in ids]
            owner = [np.full(len(g), i) for i, g in enumerate(geoms)]
            return np.concatenate(geoms).astype(int), np.concatenate(owner).astype(int)

        self.sim_mocap = np.array([m.body_mocapid[body(rs.SIM_PREFIX + n)] for n in embodiment.body_names])
        self.ref_mocap = np.array([m.body_mocapid[body(rs.REF_PREFIX + n)] for n in embodiment.body_names])
        self.sim_geoms, self.sim_geom_body = body_geoms(rs.SIM_PREFIX)
        self.ref_geoms, self.ref_geom_body = body_geoms(rs.REF_PREFIX)
        names = [rs.OBJECT_BODY.format(k) for k in range(len(object_meshes))]
        self.sim_obj_mocap = [m.body_mocapid[body(rs.SIM_PREFIX + n)] for n in names]
        self.ref_obj_mocap = [m.body_mocapid[body(rs.REF_PREFIX + n)] for n in names]
        self.sim_obj_geoms = [geoms_of(rs.SIM_PREFIX + n) for n in names]
        self.ref_obj_geoms = [geoms_of(rs.REF_PREFIX + n) for n in names]
        self.cam = mujoco.MjvCamera()
        self.cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        self.azimuth = CAMERA_AZIMUTH[camera]
        self.cam.elevation = CAMERA_ELEVATION[camera]
        self.cam.distance = CAMERA_DISTANCE[camera]

    # -- one clip ------------------------------------------------------------------------
    def start_clip(self, first) -> None:
        """Fix the camera's azimuth from the root body's heading at the clip's first frame."""
        self.azimuth = heading_deg(first.body_quat[0]) + CAMERA_AZIMUTH[self.camera_name]

    def _pose(self, frame) -> None:
        d = self.data
        d.mocap_pos[self.sim_mocap] = frame.body_pos
        d.mocap_quat[self.sim_mocap] = _wxyz(frame.body_quat)
        d.mocap_pos[self.ref_mocap] = frame.ref_body_pos
        d.mocap_quat[self.ref_mocap] = _wxyz(frame.ref_body_quat)
        rgba = self.model.geom_rgba
        n = self.num_bodies
        contact = np.zeros(n, bool) if frame.contact is None else np.asarray(frame.contact, bool)
        ref_contact = np.zeros(n, bool) if frame.ref_contact is None else np.asarray(frame.ref_contact, bool)
        if len(contact) != n or len(ref_contact) != n:
            raise ValueError(f"scene frame: contact flags for {len(contact)}/{len(ref_contact)} bodies, expected "
                             f"{n} (embodiment {self.embodiment.name})")  # fmt: skip
        rgba[self.sim_geoms] = np.where(contact[self.sim_geom_body, None], rs.CONTACT_RGBA, rs.HUMAN_RGBA)
        ghost = np.where(ref_contact[self.ref_geom_body, None], rs.GHOST_CONTACT_RGBA, rs.GHOST_HUMAN_RGBA)
        rgba[self.ref_geoms] = ghost if self.ghost else 0.0
        for k in range(len(self.sim_obj_mocap)):
            shown = k == frame.object_id
            rgba[self.sim_obj_geoms[k]] = rs.OBJECT_RGBA if shown else (0, 0, 0, 0)
            rgba[self.ref_obj_geoms[k]] = rs.GHOST_OBJECT_RGBA if shown and self.ghost else (0, 0, 0, 0)
            if shown:
                d.mocap_pos[self.sim_obj_mocap[k]] = frame.obj_pos
                d.mocap_quat[self.sim_obj_mocap[k]] = _wxyz(frame.obj_quat)
                d.mocap_pos[self.ref_obj_mocap[k]] = frame.ref_obj_pos
                d.mocap_quat[self.ref_obj_mocap[k]] = _wxyz(frame.ref_obj_quat)
        self._mj.mj_kinematics(self.model, d)

    def _aim(self, frame) -> None:
        x, y = (float(v) for v in frame.body_pos[0, :2])
        self.cam.lookat[:] = (x, y, LOOKAT_HEIGHT)
        self.cam.azimuth = self.azimuth

    def render_scene(self, frame) -> np.ndarray:
        """The frame's image without caption (RGB, ``[H, W, 3]``)."""
        self._pose(frame)
        self._aim(frame)
        self._gl.update_scene(self.data, camera=self.cam)
        return self._gl.render()

    def render(self, frame) -> np.ndarray:
        image = self.render_scene(frame)
        return draw_caption(image, frame.caption, LEGEND, getattr(frame, "badge", None))

    def project(self, points: np.ndarray) -> np.ndarray:
        """Pixel coordinates (x right, y down) of world points in the last rendered view, from
        the OpenGL camera MuJoCo used (position, axes, frustum)."""
        left, right_eye = self._gl.scene.camera[0], self._gl.scene.camera[1]  # mono view: the two eyes' mean
        glcam = left
        pos = 0.5 * (np.array(left.pos) + np.array(right_eye.pos))
        fwd, up = np.array(glcam.forward), np.array(glcam.up)
        center = 0.5 * (left.frustum_center + right_eye.frustum_center)
        right = np.cross(fwd, up)
        rel = np.atleast_2d(points) - pos
        depth = rel @ fwd
        u = (rel @ right) / depth * glcam.frustum_near
        v = (rel @ up) / depth * glcam.frustum_near
        half_h = 0.5 * (glcam.frustum_top - glcam.frustum_bottom)
        half_w = half_h * self.size[0] / self.size[1]
        w, h = self.size
        px = (u - center) / half_w * 0.5 * w + 0.5 * w
        py = 0.5 * h - (v - 0.5 * (glcam.frustum_top + glcam.frustum_bottom)) / half_h * 0.5 * h
        return np.stack([px, py], axis=-1)

    def close(self) -> None:
        self._gl.close()

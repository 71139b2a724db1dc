"""Videos of another embodiment: the Unitree G1 + Dex3 drawn from its own meshes by the MuJoCo
renderer (scene compiles, geoms where the robot model puts them, pixels follow the pose, contacts
coloured by body) and as a skeleton from its body parents; the SMPL-X scene is unchanged."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from conftest import G1_URDF

pytestmark = pytest.mark.unit

URDF = G1_URDF
ROOT_HEIGHT = 0.94


@pytest.fixture(scope="module")
def g1():
    if not URDF.is_file():
        pytest.skip(f"G1 description absent: {URDF}")
    from intermimic.assets.embodiment import get_embodiment

    return get_embodiment("g1_dex3", urdf=URDF)


def _renderer_or_skip(embodiment, **kwargs):
    from intermimic.utils.gl_backend import gl_backend_problem

    problem = gl_backend_problem()
    if problem:
        pytest.skip(f"no offscreen OpenGL: {problem}")
    from intermimic.evaluation.mujoco_renderer import MujocoRenderer

    return MujocoRenderer([], embodiment=embodiment, **kwargs)


def _fk_pose(emb):
    """World body positions and xyzw quaternions (``emb.body_names`` order) of the robot's default
    pose, root at :data:`ROOT_HEIGHT`, from MuJoCo's kinematics of the robot's own model."""
    import mujoco

    from intermimic.assets.g1_dex3 import load_mujoco_model

    model = load_mujoco_model(emb.source)
    data = mujoco.MjData(model)
    data.qpos[:] = 0.0
    data.qpos[:7] = (0.0, 0.0, ROOT_HEIGHT, 1.0, 0.0, 0.0, 0.0)
    for name, q in zip(emb.joint_names, emb.default_joint_pos):
        data.qpos[model.jnt_qposadr[model.joint(name).id]] = q
    mujoco.mj_kinematics(model, data)
    ids = [model.body(n).id for n in emb.body_names]
    return data.xpos[ids].copy(), data.xquat[ids][:, [1, 2, 3, 0]].copy()


def _frame(emb, pos, quat, ref_pos=None, contact=None):
    from intermimic.evaluation.scene_capture import SceneFrame

    none = np.zeros((0, 3))
    ref_pos = pos if ref_pos is None else ref_pos
    return SceneFrame(pos, none, ref_pos, none, "", body_quat=quat, ref_body_quat=quat, object_id=-1,
                      contact=contact, ref_contact=np.zeros(emb.num_bodies, bool))  # fmt: skip


def _changed(a, b, threshold=30):
    return np.abs(a.astype(np.int32) - b.astype(np.int32)).max(-1) > threshold


def test_smplx_scene_is_the_default_scene():
    from intermimic.assets.embodiment import get_embodiment
    from intermimic.assets.object_registry import ObjectRegistry
    from intermimic.assets.primitives import DEMO_OBJECT_NAME
    from intermimic.evaluation.render_scene import scene_mjcf

    meshes = [ObjectRegistry().mesh(DEMO_OBJECT_NAME)]
    assert scene_mjcf(meshes, (320, 240), get_embodiment("smplx")) == scene_mjcf(meshes, (320, 240))


def test_g1_scene_compiles_with_a_mocap_body_per_body_and_the_robots_visual_geoms(g1):
    import mujoco

    from intermimic.evaluation import render_scene as rs

    model = mujoco.MjModel.from_xml_string(rs.scene_mjcf([], (320, 240), g1))
    names = [model.body(b).name for b in range(model.nbody) if model.body_mocapid[b] >= 0]
    for prefix in (rs.SIM_PREFIX, rs.REF_PREFIX):
        assert [n[len(prefix):] for n in names if n.startswith(prefix)] == list(g1.body_names)
    assert g1.num_bodies == 59 and model.nmocap == 2 * 59
    robot = rs.embodiment_model(g1)
    drawn = 0
    for name in g1.body_names:
        r = robot.body(name).id
        visual = [g for g in range(robot.body_geomadr[r], robot.body_geomadr[r] + robot.body_geomnum[r])
                  if robot.geom_contype[g] == 0 and robot.geom_conaffinity[g] == 0]  # fmt: skip
        for prefix in (rs.SIM_PREFIX, rs.REF_PREFIX):
            s = model.body(prefix + name).id
            ours = list(range(model.body_geomadr[s], model.body_geomadr[s] + model.body_geomnum[s]))
            assert len(ours) == len(visual), name  # visual geoms only: no collision duplicates
            for g, o in zip(visual, ours):  # same mesh file, compiled to the same place in the body
                assert model.geom_type[o] == robot.geom_type[g]
                np.testing.assert_allclose(model.geom_pos[o], robot.geom_pos[g], atol=1e-6)
                sign = np.sign(model.geom_quat[o] @ robot.geom_quat[g])
                np.testing.assert_allclose(sign * model.geom_quat[o], robot.geom_quat[g], atol=1e-6)
                k, j = model.geom_dataid[o], robot.geom_dataid[g]
                assert model.mesh_vertnum[k] == robot.mesh_vertnum[j]
        drawn += len(visual)
    assert drawn > 40


def test_g1_render_shows_the_robot_where_its_bodies_are(g1):
    pos, quat = _fk_pose(g1)
    renderer = _renderer_or_skip(g1, size=(320, 240), camera="front", ghost=False)
    try:
        frame = _frame(g1, pos, quat)
        renderer.start_clip(frame)
        image = renderer.render_scene(frame)
        hidden = pos + (0.0, 0.0, -5.0)  # under the ground; the camera looks at the same point
        empty = renderer.render_scene(_frame(g1, hidden, quat))
        robot = _changed(image, empty)
        assert robot.sum() > 1500, robot.sum()
        ys, xs = np.nonzero(robot)
        (px, py), = renderer.project(pos[0])
        assert abs(xs.mean() - px) < 25, (xs.mean(), px)  # the robot stands around its pelvis
        assert ys.min() < py < ys.max()

        # the ghost copy 1 m to the robot's left (+y), the camera held by the hidden sim copy:
        # from the front the robot's left is the image's right
        ghost = _renderer_or_skip(g1, size=(320, 240), camera="front", ghost=True)
        try:
            ghost.start_clip(frame)
            centre = _changed(ghost.render_scene(_frame(g1, hidden, quat, ref_pos=pos)), empty, 12)
            side = _changed(ghost.render_scene(_frame(g1, hidden, quat, ref_pos=pos + (0.0, 1.0, 0.0))), empty, 12)
            assert centre.sum() > 500 and side.sum() > 500, (centre.sum(), side.sum())
            shift = np.nonzero(side)[1].mean() - np.nonzero(centre)[1].mean()
            (x0, _), (x1, _) = ghost.project(np.stack([pos[0], pos[0] + (0.0, 1.0, 0.0)]))
            assert shift > 20 and abs(shift - (x1 - x0)) < 0.3 * (x1 - x0), (shift, x1 - x0)
        finally:
            ghost.close()

        # contact flags colour the flagged bodies' meshes red, by body index (the left hand's links)
        contact = np.array([n.startswith(("left_hand", "left_wrist")) for n in g1.body_names])
        assert 5 < contact.sum() < 20
        touched = renderer.render_scene(_frame(g1, pos, quat, contact=contact))
        r, g, b = (touched[..., k].astype(np.int32) for k in range(3))
        red = (r - g > 60) & (r - b > 60)
        r0, g0, b0 = (image[..., k].astype(np.int32) for k in range(3))
        assert red.sum() > 20 and ((r0 - g0 > 60) & (r0 - b0 > 60)).sum() == 0
        assert np.nonzero(red)[1].mean() > px  # the left hand: the image's right, seen from the front
        with pytest.raises(ValueError, match="expected 59"):
            renderer.render_scene(_frame(g1, pos, quat, contact=np.zeros(52, bool)))
    finally:
        renderer.close()


def test_g1_skeleton_has_a_bone_per_body_with_a_parent(g1):
    from intermimic.evaluation.video import SkeletonRenderer

    pos, quat = _fk_pose(g1)
    renderer = SkeletonRenderer((320, 240), embodiment=g1)
    image = renderer.render(_frame(g1, pos, quat))
    assert len(renderer.bones) == 58 and len(renderer.sim_lines.get_segments()) == 58
    assert image.shape == (240, 320, 3)
    for i in renderer.bones:  # each bone joins a body to its parent
        seg = renderer._segments(pos)[renderer.bones.index(i)]
        np.testing.assert_allclose(seg, pos[[g1.body_parents[i], i]])


def test_videos_draw_the_commands_embodiment(tmp_path, monkeypatch):
    from intermimic.evaluation import video as video_mod

    seen = []

    class _Renderer:
        def start_clip(self, first):
            pass

        def render(self, frame):
            return np.zeros((48, 64, 3), np.uint8)

        def close(self):
            pass

    def fake_make_renderer(*args, **kwargs):
        seen.append(kwargs.get("embodiment", "missing"))
        return _Renderer()

    monkeypatch.setattr(video_mod, "make_renderer", fake_make_renderer)
    emb = SimpleNamespace(name="robot")
    for cmd, expected in ((SimpleNamespace(library=None, embodiment=emb), emb), (SimpleNamespace(library=None), None)):
        rec = video_mod.RolloutVideo(tmp_path / "v.png", cmd=cmd, clip_ids=None, fps=30.0, size=(64, 48))
        frame = SimpleNamespace()
        rec._episode(0, [frame], None)
        rec.close()
        assert seen.pop() is expected

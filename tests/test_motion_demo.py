"""The built-in demo clips: valid, kinematically consistent and physically plausible.

Physical checks use the humanoid's own geometry (assets.humanoid_spec) and, for the centre of
mass, MuJoCo on the project's MJCF of the humanoid.
"""

from __future__ import annotations

import math

import pytest
import torch

from intermimic.assets import humanoid_spec as spec
from intermimic.assets.primitives import DEMO_BOX_HALF_SIZE, DEMO_OBJECT_NAME, demo_box_points
from intermimic.motion.demo import DEMO_CLIPS, demo_clip, demo_clips
from intermimic.motion.demo.motions import BOX_MASS
from intermimic.motion.demo.rig import foot_corners, foot_length_span
from intermimic.motion.kinematics import forward_kinematics
from intermimic.motion.library import pack_clips
from intermimic.motion.packed import frames_from_clip
from intermimic.motion.validation import check_clip
from intermimic.utils import rotations as rot

pytestmark = pytest.mark.unit

NAMES = list(DEMO_CLIPS)
HANDS = spec.HAND_BODY_IDS["L"] + spec.HAND_BODY_IDS["R"]
FEET = spec.body_indices(("L_Ankle", "L_Toe", "R_Ankle", "R_Toe"))
BOX_HALF = torch.tensor(DEMO_BOX_HALF_SIZE)


@pytest.fixture(scope="module")
def frames():
    return {n: frames_from_clip(demo_clip(n), demo_box_points()) for n in NAMES}


def _geometry_points(b: int) -> tuple[torch.Tensor, float]:
    """Points along a body's collision shape (body frame) and the radius around them."""
    g = spec.BODY_GEOMS[b]
    if isinstance(g, spec.Sphere):
        return torch.tensor([g.pos]), g.radius
    if isinstance(g, spec.Capsule):
        a, e = torch.tensor(g.start), torch.tensor(g.end)
        return a + (e - a) * torch.linspace(0, 1, 11)[:, None], g.radius
    grid = torch.linspace(-1, 1, 5)
    pts = torch.stack(torch.meshgrid(grid, grid, grid, indexing="ij"), -1).reshape(-1, 3)
    return pts * torch.tensor(g.half_size) + torch.tensor(g.pos), 0.0


def _world_points(f, b):
    pts, r = _geometry_points(b)
    T = f.body_pos.shape[0]
    return f.body_pos[:, b, None] + rot.rotate(f.body_quat[:, b, None].expand(-1, len(pts), -1), pts.expand(T, -1, -1)), r


def _box_signed_distance(p, f):
    local = rot.rotate_inverse(f.obj_quat[:, None].expand(-1, p.shape[1], -1), p - f.obj_pos[:, None])
    q = local.abs() - BOX_HALF
    return q.clamp_min(0).norm(dim=-1) + q.max(dim=-1).values.clamp_max(0)


def test_demo_data_set_is_the_default_and_valid():
    clips = demo_clips()
    assert [c.info.name.split("_", 3)[3] for c in clips] == NAMES + NAMES
    assert [c.info.subject for c in clips] == [0] * len(NAMES) + [1] * len(NAMES)
    for c in clips:
        check_clip(c.raw, c.info.name, min_frames=17)
        assert c.info.object == DEMO_OBJECT_NAME
        assert torch.equal(c.raw, c.corrected)
    lib = pack_clips(clips, {DEMO_OBJECT_NAME: demo_box_points()})
    assert lib.num_clips == 2 * len(NAMES) and sorted(lib.sources) == ["corrected", "raw"] and lib.subjects == [0, 1]
    assert [c.info.subject for c in demo_clips(subjects=[1])] == [1] * len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_second_subject_is_the_motion_slower_turned_and_moved(name):
    """Subject 1: the same motion 1.25 times slower, turned 90 degrees about z and moved;
    still kinematically consistent, and the hands keep their distance to the box."""
    a, b = demo_clip(name, 0), demo_clip(name, 1)
    assert b.shape[0] == round((a.shape[0] - 1) * 1.25) + 1
    fa, fb = frames_from_clip(a, demo_box_points()), frames_from_clip(b, demo_box_points())
    # every 5th frame of subject 1 is exactly a frame of subject 0 (4 source frames later)
    turn = torch.tensor([0.0, 0.0, math.sin(math.pi / 4), math.cos(math.pi / 4)])
    expected = rot.rotate(turn.expand(a.shape[0], 52, 4), fa.body_pos) + torch.tensor([0.5, 0.0, 0.0])
    torch.testing.assert_close(fb.body_pos[::5], expected[::4], atol=1e-5, rtol=0)
    torch.testing.assert_close(fb.dof_pos[::5], fa.dof_pos[::4], atol=1e-4, rtol=0)
    # in between, forward kinematics of the interpolated joints matches the interpolated bodies
    pos, _ = forward_kinematics(fb.root_pos, fb.root_quat, fb.dof_pos, "hinge")
    assert (pos - fb.body_pos).norm(dim=-1).max() < 2e-3
    # hand-box distances are those of the original motion (the box moved with the body)
    dist_a = (fa.body_pos[::4, HANDS] - fa.obj_pos[::4, None]).norm(dim=-1)
    dist_b = (fb.body_pos[::5, HANDS] - fb.obj_pos[::5, None]).norm(dim=-1)
    torch.testing.assert_close(dist_b, dist_a, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_joint_angles_reproduce_the_body_poses(frames, name):
    f = frames[name]
    pos, quat = forward_kinematics(f.root_pos, f.root_quat, f.dof_pos, "hinge")
    assert (pos - f.body_pos).norm(dim=-1).max() < 1e-3
    assert rot.angle_between(quat, f.body_quat).max() < 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_motion_is_moderate_and_continuous(frames, name):
    f = frames[name]
    assert (f.dof_pos[1:] - f.dof_pos[:-1]).abs().max() < 0.25  # no jumps between hinge branches
    assert f.dof_vel.abs().max() < 8.0  # rad/s
    assert f.root_lin_vel.norm(dim=-1).max() < 1.5  # m/s
    assert f.body_lin_vel.norm(dim=-1).max() < 4.0
    assert f.body_ang_vel.norm(dim=-1).max() < 10.0


@pytest.mark.parametrize("name", NAMES)
def test_planted_feet_do_not_slide_and_nothing_goes_below_the_ground(frames, name):
    f = frames[name]
    T = f.body_pos.shape[0]
    for side in "LR":
        ankle = spec.body_index(f"{side}_Ankle")
        corners = foot_corners(side).float()
        sole = f.body_pos[:, ankle, None] + rot.rotate(f.body_quat[:, ankle, None].expand(-1, 16, -1), corners.expand(T, -1, -1))
        low = sole[..., 2].min(dim=-1).values
        planted = low < 1e-3
        assert planted.float().mean() > 0.5, f"{side} foot is on the ground in too few frames"
        both = planted[1:] & planted[:-1]
        slide = (sole[1:, :, :2] - sole[:-1, :, :2]).norm(dim=-1).max(dim=-1).values[both]
        assert slide.max() < 1e-3, f"{side} foot slides {slide.max():.4f} m in one frame while planted"
    for b in range(spec.NUM_BODIES):
        pts, r = _world_points(f, b)
        assert (pts[..., 2] - r).min() > -2e-3, spec.BODY_NAMES[b]
    assert (f.obj_pos[:, 2] - BOX_HALF[2]).min() > -1e-4  # the (level) box never sinks into the ground


@pytest.mark.parametrize("name", NAMES)
def test_only_the_hands_touch_the_box_and_only_while_holding_it(frames, name):
    f = frames[name]
    holding = f.obj_manipulated > 0
    hand_gap = {}
    for b in range(spec.NUM_BODIES):
        pts, r = _world_points(f, b)
        gap = (_box_signed_distance(pts, f) - r).min(dim=-1).values
        if b in HANDS:
            assert gap.min() > -1e-3, f"{spec.BODY_NAMES[b]} penetrates the box by {-gap.min():.4f} m"
            hand_gap[b] = gap
        else:
            assert gap.min() > -1e-3, f"{spec.BODY_NAMES[b]} penetrates the box by {-gap.min():.4f} m"
    for side in "LR":  # each hand touches the box exactly while holding it
        closest = torch.stack([hand_gap[b] for b in spec.HAND_BODY_IDS[side]]).min(dim=0).values
        assert (closest[holding].abs() < 2e-3).all(), side
        assert (closest[~holding] > -1e-4).all(), side
        near = holding.clone()  # frames within half a second of holding the box
        for shift in range(1, 16):
            near[shift:] |= holding[:-shift]
            near[:-shift] |= holding[shift:]
        assert (closest[~near] > 0.01).all(), side
    # the box moves only while held, and then rigidly with both hands
    still = ~holding[1:] & ~holding[:-1]
    assert torch.count_nonzero(f.obj_pos[1:][still] - f.obj_pos[:-1][still]) == 0
    if holding.any():
        for side in "LR":
            w = spec.body_index(f"{side}_Wrist")
            rel_pos = rot.rotate_inverse(f.obj_quat, f.body_pos[:, w] - f.obj_pos)[holding]
            rel_quat = rot.multiply(rot.conjugate(f.obj_quat), f.body_quat[:, w])[holding]
            lifted = f.obj_pos[holding, 2] > BOX_HALF[2] + 1e-3
            assert (rel_pos[lifted] - rel_pos[lifted][0]).norm(dim=-1).max() < 1e-3
            assert rot.angle_between(rel_quat[lifted], rel_quat[lifted][0]).max() < 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_contact_labels_follow_the_grasp(frames, name):
    f = frames[name]
    holding = f.obj_manipulated > 0
    others = [b for b in range(spec.NUM_BODIES) if b not in HANDS and b not in FEET]
    assert (f.contact[:, FEET] == 0).all()
    assert (f.contact[:, others] == -1).all()
    assert (f.contact[holding][:, HANDS] == 1).all() and (f.contact[~holding][:, HANDS] == -1).all()
    if name != "stand_squat_stand":
        assert holding.any() and (~holding).any()
        # the box is manipulated: it leaves the ground while held
        assert f.obj_pos[holding, 2].max() > 0.8


@pytest.mark.parametrize("name", NAMES)
def test_centre_of_mass_stays_over_the_feet_when_standing_still(frames, name):
    """MuJoCo's centre of mass of the project's humanoid, in every frame with both feet flat side
    by side, lies over the feet (heel to toe), with the box's weight once the hands hold it."""
    mujoco = pytest.importorskip("mujoco")
    from intermimic.assets.humanoid_mjcf import build_mjcf

    f = frames[name]
    model = mujoco.MjModel.from_xml_string(build_mjcf())
    data = mujoco.MjData(model)
    T = f.body_pos.shape[0]
    com = torch.zeros(T, 3, dtype=torch.float64)
    for i in range(T):
        data.qpos[:3] = f.root_pos[i].double().numpy()
        data.qpos[3:7] = rot.to_wxyz(f.root_quat[i]).double().numpy()
        data.qpos[7:] = f.dof_pos[i].double().numpy()
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        com[i] = torch.from_numpy(data.subtree_com[1].copy())
    # MuJoCo's body positions agree with the clip (same skeleton, same joint convention)
    mass = float(model.body_subtreemass[1])
    ankles = f.body_pos[:, spec.body_indices(("L_Ankle", "R_Ankle"))].double()
    side_by_side = ((ankles[:, 0, 0] - ankles[:, 1, 0]).abs() < 0.01) & (f.body_lin_vel[:, FEET].norm(dim=-1).max(-1).values < 0.05)
    heel, toe = foot_length_span("L")
    held = (f.obj_manipulated > 0).double()[:, None]
    with_box = (com * mass + held * BOX_MASS * f.obj_pos.double()) / (mass + held * BOX_MASS)
    ahead = [c[:, 0] - ankles[:, 0, 0] for c in (com, with_box)]
    inside = [(a > heel - 0.005) & (a < toe + 0.005) for a in ahead]
    # while the hands take the box's weight either the body alone or body + box is balanced
    ok = inside[0] | inside[1]
    assert ok[side_by_side].all(), f"unbalanced frames {torch.nonzero(side_by_side & ~ok).flatten().tolist()[:10]}"
    assert side_by_side.sum() > 0.3 * T


def test_hinge_angles_past_ninety_degrees_stay_continuous():
    """A joint bending beyond 90 degrees about its middle (y) hinge: the library keeps one
    hinge branch instead of jumping to the equivalent (x+pi, pi-y, z+pi)."""
    from intermimic.motion.kinematics import exp_map_to_hinge_sequence, hinge_to_exp_map

    T = 60
    truth = torch.zeros(T, 51, 3)
    truth[:, 0, 1] = -torch.linspace(0.2, 2.6, T)  # L_Hip flexing to 149 degrees
    truth[:, 0, 0] = 0.1 * torch.sin(torch.linspace(0, 3, T))
    truth[:, 3, 1] = torch.linspace(-2.8, 2.8, T)  # L_Toe y hinge sweeping through +-pi/2
    back = exp_map_to_hinge_sequence(hinge_to_exp_map(truth.reshape(T, -1))).reshape(T, 51, 3)
    wrapped = torch.remainder(back - truth + math.pi, 2 * math.pi) - math.pi
    assert wrapped.abs().max() < 1e-4

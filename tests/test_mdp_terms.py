"""Term-level tests of the teacher MDP on hand-built tensors (no simulator)."""

import math
from types import SimpleNamespace

import pytest
import torch

from intermimic.assets import humanoid_spec as spec
from intermimic.tasks.mdp import rewards as R
from intermimic.tasks.mdp.actions import limit_offset_scale
from intermimic.tasks.mdp.interaction_graph import interaction_graph_stats
from intermimic.tasks.mdp.state_init import (
    STATE_DIM,
    EpisodeRecorder,
    PhysicalStateBuffer,
    SimState,
    StartFrameSampler,
    psi_scores,
)
from intermimic.tasks.mdp.terminations import hand_contact_lost

pytestmark = pytest.mark.unit
W = R.RewardWeightsCfg()


def _labels(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(-1, 2, (n, spec.NUM_BODIES), generator=g).float()


# ---------------------------------------------------------------------------------------
# Contact graph
# ---------------------------------------------------------------------------------------
def test_contact_factors_are_one_when_contacts_match_labels():
    labels = _labels()
    # a touching reference hand asks the whole hand (wrist + 15 finger bodies) to touch, so
    # labels consistent with that give each hand one label
    for k, ids in enumerate(spec.HAND_BODY_IDS.values()):
        labels[:, ids] = torch.tensor([1.0, -1.0, 0.0, 1.0])[:, None] * (1 - 2 * k)
    contact = labels > 0
    f = R.contact_factors(labels, contact, W)
    for name, value in f.items():
        torch.testing.assert_close(value, torch.ones(4), msg=name)


def test_contact_factors_penalise_mismatches():
    labels = torch.zeros(1, spec.NUM_BODIES)
    head = spec.body_index("Head")
    labels[0, head] = -1.0
    knee = spec.body_index("L_Knee")
    labels[0, knee] = 1.0
    wrist = spec.body_index("R_Wrist")
    labels[0, wrist] = 1.0
    contact = torch.zeros(1, spec.NUM_BODIES, dtype=torch.bool)
    contact[0, head] = True  # penalised contact happens
    f = R.contact_factors(labels, contact, W)
    torch.testing.assert_close(f["all"], torch.exp(torch.tensor([-W.cg_all / spec.NUM_BODIES])))
    n_other = spec.NUM_BODIES - 32
    torch.testing.assert_close(f["other"], torch.exp(torch.tensor([-W.cg_other / n_other])))  # knee missing
    torch.testing.assert_close(f["hand_R"], 0.5 * (1 + torch.exp(torch.tensor([-W.cg_hand * 1.0]))))
    torch.testing.assert_close(f["hand_L"], torch.ones(1))  # no left-hand contact in the reference


# ---------------------------------------------------------------------------------------
# Human, object and interaction-graph errors
# ---------------------------------------------------------------------------------------
def _reference(n=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    quat = lambda *s: torch.nn.functional.normalize(torch.randn(*s, 4, generator=g), dim=-1)  # noqa: E731
    return SimpleNamespace(
        body_pos=torch.randn(n, 52, 3, generator=g),
        body_quat=quat(n, 52),
        body_lin_vel=torch.randn(n, 52, 3, generator=g),
        body_ang_vel=torch.randn(n, 52, 3, generator=g),
        interaction_field=torch.randn(n, 52, 3, generator=g) * 0.3,
        root_pos=torch.randn(n, 3, generator=g),
        root_quat=quat(n),
        obj_pos=torch.randn(n, 3, generator=g),
        obj_quat=quat(n),
        obj_lin_vel=torch.randn(n, 3, generator=g),
        obj_ang_vel=torch.randn(n, 3, generator=g),
    )


def test_errors_vanish_on_the_reference_state():
    ref = _reference()
    h = R.human_errors(ref, ref.body_pos, ref.body_quat, ref.body_lin_vel, ref.body_ang_vel, 5.0)
    o = R.object_errors(ref, ref.root_pos, ref.root_quat, ref.obj_pos, ref.obj_quat, ref.obj_lin_vel, ref.obj_ang_vel)
    for name, value in {**h, **o}.items():
        torch.testing.assert_close(value, torch.zeros(3), atol=2e-3, rtol=0, msg=name)
    pts = torch.randn(3, 64, 3)
    key_pos = ref.body_pos[:, spec.KEY_BODY_IDS]
    torch.testing.assert_close(interaction_graph_stats(key_pos, key_pos, pts, pts).error, torch.zeros(3))


def test_position_error_is_interaction_weighted_with_legs_forced():
    ref = _reference(1)
    ref.interaction_field = torch.full((1, 52, 3), 10.0)  # far from the object: w_b ~ 0
    moved = ref.body_pos.clone()
    head, knee = spec.body_index("Head"), spec.body_index("L_Knee")
    moved[0, head, 0] += 0.1
    e_head = R.human_errors(ref, moved, ref.body_quat, ref.body_lin_vel, ref.body_ang_vel, 5.0)["p"]
    assert float(e_head) < 1e-8  # upper-body error far from the object is not weighted
    moved = ref.body_pos.clone()
    moved[0, knee, 0] += 0.1
    e_knee = R.human_errors(ref, moved, ref.body_quat, ref.body_lin_vel, ref.body_ang_vel, 5.0)["p"]
    assert float(e_knee) == pytest.approx(0.01 / 21, rel=1e-4)  # legs always weigh 1, mean over 21 keys


def test_object_position_error_uses_heading_frame_and_absolute_height():
    ref = _reference(1)
    ref.root_quat = torch.tensor([[0.0, 0.0, 0.0, 1.0]])
    # the same human+object configuration turned about z and shifted: no error
    yaw = torch.tensor([0.7])
    q = torch.stack([torch.zeros(1), torch.zeros(1), torch.sin(yaw / 2), torch.cos(yaw / 2)], dim=-1)
    from intermimic.utils import rotations as rot

    shift = torch.tensor([[1.0, -2.0, 0.0]])
    root = rot.rotate(q, ref.root_pos) + shift
    obj = rot.rotate(q, ref.obj_pos) + shift
    obj[:, 2] = ref.obj_pos[:, 2]
    root[:, 2] = ref.root_pos[:, 2]
    o = R.object_errors(ref, root, q, obj, ref.obj_quat, ref.obj_lin_vel, ref.obj_ang_vel)
    torch.testing.assert_close(o["op"], torch.zeros(1), atol=1e-10, rtol=0)


# ---------------------------------------------------------------------------------------
# Hand-contact termination (term level, fake env)
# ---------------------------------------------------------------------------------------
def test_hand_contact_termination_counts_consecutive_missing_steps():
    labels = torch.zeros(2, 52)
    labels[:, spec.body_index("L_Index3")] = 1.0  # reference left hand touches in both envs
    contact = torch.zeros(2, 52, dtype=torch.bool)
    contact[1, spec.body_index("L_Wrist")] = True  # env 1's hand touches (any hand body counts)
    cmd = SimpleNamespace(reference=lambda: SimpleNamespace(contact=labels), body_contact=lambda: contact)
    env = SimpleNamespace(num_envs=2, device="cpu", episode_length_buf=torch.full((2,), 50),
                          command_manager=SimpleNamespace(get_term=lambda name: cmd))  # fmt: skip
    term = hand_contact_lost(SimpleNamespace(params={}), env)
    fired = [term(env, max_steps=10) for _ in range(12)]
    assert not any(f[0] for f in fired[:10]) and fired[10][0] and fired[11][0]
    assert not any(f[1] for f in fired)
    term.reset(torch.tensor([0]))
    assert not term(env, max_steps=10)[0]


# ---------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------
def test_action_offset_and_scale_map_unit_box_onto_joint_limits():
    lo = torch.tensor([math.radians(spec.joint_limits_deg(j)[0]) for j in spec.JOINT_NAMES])
    hi = torch.tensor([math.radians(spec.joint_limits_deg(j)[1]) for j in spec.JOINT_NAMES])
    offset, scale = limit_offset_scale(lo, hi)
    torch.testing.assert_close(offset - scale, lo)
    torch.testing.assert_close(offset + scale, hi)
    q_offset, q_scale = limit_offset_scale(lo, hi, release_quirk=True)
    knee_z = spec.JOINT_NAMES.index("L_Knee_z")
    assert float(q_scale[knee_z]) == 5.0
    tip = spec.JOINT_NAMES.index("L_Index3_x")  # offset -0.73 rad: zeroed, scale pi
    assert float(q_offset[tip]) == 0.0 and float(q_scale[tip]) == pytest.approx(math.pi)


# ---------------------------------------------------------------------------------------
# State initialisation
# ---------------------------------------------------------------------------------------
def test_sim_state_pack_round_trip():
    x = torch.randn(5, STATE_DIM)
    torch.testing.assert_close(SimState.unpack(x).pack(), x)


def test_psi_scores_follow_the_survived_share_of_the_plan():
    frames = torch.tensor([10, 20, 30])
    s = psi_scores(frames, torch.tensor(40), torch.tensor(50))
    torch.testing.assert_close(s, torch.tensor([30 / 40, 20 / 30, 10 / 20]))


def test_psi_buffer_stores_the_best_offer_above_threshold():
    buf = PhysicalStateBuffer(num_frames=4, num_slots=3, state_dim=2, replace_threshold=0.5, score_decay=0.0)
    frames = torch.tensor([1, 1, 2, 3])
    states = torch.tensor([[1.0, 1], [2, 2], [3, 3], [4, 4]])
    stored = buf.insert(frames, states, torch.tensor([0.6, 0.9, 0.4, 0.7]))
    assert stored == 2  # frame 1 keeps its best offer (0.9); frame 2's 0.4 is below the threshold
    assert buf.scores[1].max() == pytest.approx(0.9) and buf.scores[2].max() == 0
    torch.testing.assert_close(buf.states[1, buf.scores[1].argmax()], torch.tensor([2.0, 2]))
    buf.insert(torch.tensor([1]), torch.tensor([[5.0, 5]]), torch.tensor([0.8]))  # fills the empty slot
    buf.insert(torch.tensor([1]), torch.tensor([[6.0, 6]]), torch.tensor([0.85]))  # replaces 0.8
    assert sorted(buf.scores[1].tolist()) == pytest.approx([0.85, 0.9])


def test_psi_scores_decay_per_update():
    buf = PhysicalStateBuffer(num_frames=1, num_slots=3, state_dim=1, score_decay=1e-5)
    buf.insert(torch.tensor([0]), torch.ones(1, 1), torch.tensor([0.8]))
    buf.decay()
    assert buf.scores.max() == pytest.approx(0.8 * (1 - 1e-5))


def test_psi_slots_drawn_in_proportion_to_scores():
    buf = PhysicalStateBuffer(num_frames=1, num_slots=3, state_dim=1, score_decay=0.0)
    buf.scores[0] = torch.tensor([0.6, 0.9])  # slot 0 (capture) has score 1
    g = torch.Generator().manual_seed(0)
    n = 40000
    slots = buf.sample_slots(torch.zeros(n, dtype=torch.long), generator=g)
    freq = torch.bincount(slots, minlength=3).float() / n
    expected = torch.tensor([1.0, 0.6, 0.9]) / 2.5
    torch.testing.assert_close(freq, expected, atol=0.01, rtol=0)


def test_start_frames_prefer_failures_and_respect_the_horizon():
    sampler = StartFrameSampler(torch.tensor([0, 100]), torch.tensor([100, 50]), min_frames_left=16, p_zero=0.0)
    clips = torch.ones(3000, dtype=torch.long)
    frames = sampler.sample(clips, generator=torch.Generator().manual_seed(0))
    assert frames.max() <= 50 - 1 - 16 and frames.min() >= 0
    for _ in range(50):
        sampler.record_failures(torch.tensor([1]), torch.tensor([20]))
    frames = sampler.sample(clips, generator=torch.Generator().manual_seed(1))
    assert (frames == 20).float().mean() > 0.5


def test_episode_recorder_stores_by_episode_step():
    rec = EpisodeRecorder(num_envs=2, max_steps=3, state_dim=1)
    rec.record(torch.tensor([0, 2]), torch.tensor([[1.0], [2.0]]))
    rec.record(torch.tensor([1, 3]), torch.tensor([[3.0], [4.0]]))  # env 1 step 3 is past the buffer
    torch.testing.assert_close(rec.states[:, :, 0], torch.tensor([[1.0, 3.0, 0.0], [0.0, 0.0, 2.0]]))

"""Parity with the authors' release: each test checks one of the release's facts (numbers from
its code and configs) against this project, without a simulator."""

import math

import pytest
import torch

from intermimic.assets import humanoid_spec as spec
from intermimic.utils import rotations as rot

pytestmark = pytest.mark.unit


# --- objects and physics -------------------------------------------------------------------


@pytest.fixture(scope="module")
def scene_with_thin_walled_object(tmp_path_factory):
    """An HOI env cfg prepared for two objects, a 'plasticbox' (thin-walled in the release) and a
    'crate', each a box mesh with one synthetic clip: ``(cfg, assets by name)``."""
    import trimesh

    from intermimic.motion.clip_io import save_clip_file
    from intermimic.motion.demo.synthetic import synthetic_clip
    from intermimic.tasks.hoi_env import prepare_scene
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    root = tmp_path_factory.mktemp("thin_walled")
    for i, name in enumerate(("plasticbox", "crate")):
        (root / "objects" / name).mkdir(parents=True)
        trimesh.creation.box(extents=(0.4, 0.3, 0.3)).export(root / "objects" / name / f"{name}.obj")
        save_clip_file(root / "clips" / f"sub1_{name}_000.pt", synthetic_clip(40, seed=i))
    cfg = HOIEnvCfg()
    cfg.sim.device = "cpu"
    cfg.commands.motion.motion.files = [str(root / "clips")]
    cfg.commands.motion.motion.objects_dir = str(root / "objects")
    _, assets, _ = prepare_scene(cfg)
    return cfg, {a.name: a for a in assets}


def _collision_rest_offsets(usd_path) -> set[float]:
    from pxr import Usd

    stage = Usd.Stage.Open(str(usd_path))
    values = set()
    for prim in stage.Traverse():
        attr = prim.GetAttribute("physxCollision:restOffset")
        if attr and attr.IsValid() and attr.HasAuthoredValue():
            values.add(round(float(attr.Get()), 6))
    return values


def test_thin_walled_objects_get_the_release_rest_offset(scene_with_thin_walled_object):
    """The release gives plasticbox and trashcan a 0.015 m contact rest offset, others 0.002 m."""
    _, assets = scene_with_thin_walled_object
    assert assets["plasticbox"].physics.rest_offset == pytest.approx(0.015)
    assert assets["crate"].physics.rest_offset == pytest.approx(0.002)
    assert _collision_rest_offsets(assets["plasticbox"].usd_path) == {0.015}
    assert _collision_rest_offsets(assets["crate"].usd_path) == {0.002}
    # the registry knows both of the release's thin-walled objects
    from intermimic.assets.object_registry import ObjectRegistry

    assert ObjectRegistry().physics("trashcan", density=200.0).rest_offset == pytest.approx(0.015)
    assert ObjectRegistry().physics("trashcan", density=200.0).density == 200.0


def _physx_articulation(cfg):
    from isaaclab_physx.sim.schemas import PhysxArticulationCfg

    return next(p for p in cfg.scene.robot.spawn.articulation_props if isinstance(p, PhysxArticulationCfg))


def test_physx_solver_settings_follow_the_release(scene_with_thin_walled_object):
    """The release runs 1 velocity iteration, and one set of solver iterations and depenetration
    velocity for every body (8 and 20 m/s in the high-fidelity setting): the object gets the
    humanoid's."""
    cfg, _ = scene_with_thin_walled_object
    humanoid = _physx_articulation(cfg)
    assert humanoid.solver_velocity_iteration_count == 1
    assert humanoid.solver_position_iteration_count == 8
    assert cfg.scene.robot.spawn.rigid_props.max_depenetration_velocity == 20.0
    for variant in cfg.scene.object.spawn.assets_cfg:
        props = variant.rigid_props
        assert props.solver_position_iteration_count == 8
        assert props.solver_velocity_iteration_count == 1
        assert props.max_depenetration_velocity == 20.0


def test_object_solver_settings_follow_the_legacy_timing():
    from intermimic.assets.object_scene import solver_props_like
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    cfg = HOIEnvCfg()
    cfg.timing = "legacy"
    cfg.apply_timing()
    props = solver_props_like(cfg.scene.robot)
    assert (props.solver_position_iteration_count, props.solver_velocity_iteration_count) == (4, 1)
    assert props.max_depenetration_velocity == 100.0


# --- reward ----------------------------------------------------------------------------------


def _yaw(angle: float) -> torch.Tensor:
    return torch.tensor([[0.0, 0.0, math.sin(angle / 2), math.cos(angle / 2)]])


def _random_quat(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(1, 4, generator=g), dim=-1)


def _object_reference(seed=0):
    from types import SimpleNamespace

    return SimpleNamespace(
        root_pos=torch.tensor([[0.2, -0.1, 0.9]]), root_quat=_yaw(0.3), obj_pos=torch.tensor([[0.8, 0.2, 0.7]]),
        obj_quat=_random_quat(seed), obj_lin_vel=torch.zeros(1, 3), obj_ang_vel=torch.zeros(1, 3),
    )  # fmt: skip


def test_object_rotation_is_compared_in_each_ones_heading_frame():
    """The release's r_or compares the reference object in the reference root's heading frame with
    the simulated object in the simulated root's: the whole scene turned about the vertical
    (humanoid and object together) has no object rotation error."""
    from intermimic.tasks.mdp import rewards as R

    ref = _object_reference()
    turn = _yaw(1.1)
    root = rot.rotate(turn, ref.root_pos)
    obj = rot.rotate(turn, ref.obj_pos)
    o = R.object_errors(ref, root, rot.multiply(turn, ref.root_quat), obj, rot.multiply(turn, ref.obj_quat),
                        ref.obj_lin_vel, ref.obj_ang_vel)  # fmt: skip
    assert float(o["or"]) == pytest.approx(0.0, abs=1e-5)
    # the object alone turned by 0.4 rad about the vertical: an error of 0.4
    o = R.object_errors(ref, ref.root_pos, ref.root_quat, ref.obj_pos, rot.multiply(_yaw(0.4), ref.obj_quat),
                        ref.obj_lin_vel, ref.obj_ang_vel)  # fmt: skip
    assert float(o["or"]) == pytest.approx(0.4, abs=1e-5)


def _far_reference():
    """A random reference whose bodies are all far from the object (interaction weights ~0)."""
    from types import SimpleNamespace

    g = torch.Generator().manual_seed(3)
    return SimpleNamespace(
        body_pos=torch.randn(1, 52, 3, generator=g), body_quat=torch.tensor([0.0, 0, 0, 1]).repeat(1, 52, 1),
        body_lin_vel=torch.zeros(1, 52, 3), body_ang_vel=torch.zeros(1, 52, 3),
        interaction_field=torch.full((1, 52, 3), 10.0),
    )  # fmt: skip


@pytest.mark.parametrize("release", [False, True])
def test_position_error_full_weight_bodies(release):
    """E_p weighs some key bodies 1 whatever their distance to the object: ours all leg bodies, the
    release (``release_leg_weights``) the knees and ankles only."""
    from intermimic.tasks.mdp import rewards as R

    ref = _far_reference()
    full = {"L_Knee", "L_Ankle", "R_Knee", "R_Ankle"} | (set() if release else {"L_Hip", "R_Hip", "L_Toe", "R_Toe"})
    for name in spec.KEY_BODY_NAMES:
        moved = ref.body_pos.clone()
        moved[0, spec.body_index(name), 0] += 0.1
        e = R.human_errors(ref, moved, ref.body_quat, ref.body_lin_vel, ref.body_ang_vel, 5.0, release)["p"]
        expected = 0.01 / 21 if name in full else 0.0
        assert float(e) == pytest.approx(expected, rel=1e-4, abs=1e-9), name


@pytest.mark.parametrize("release", [False, True])
def test_other_contact_bodies(release):
    """r_other: ours over every non-hand body (20), the release (``release_other_bodies``) over
    bodies 0-16, so a missing right-elbow contact costs nothing there."""
    from intermimic.tasks.mdp import rewards as R

    w = R.RewardWeightsCfg()
    labels = torch.zeros(2, spec.NUM_BODIES)
    labels[0, spec.body_index("Pelvis")] = 1.0
    labels[1, spec.body_index("R_Elbow")] = 1.0
    contact = torch.zeros(2, spec.NUM_BODIES, dtype=torch.bool)
    f = R.contact_factors(labels, contact, w, release)["other"]
    n = 17 if release else 20
    assert float(f[0]) == pytest.approx(math.exp(-w.cg_other / n), rel=1e-5)
    assert float(f[1]) == pytest.approx(1.0 if release else math.exp(-w.cg_other / n), rel=1e-5)


# --- PPO -------------------------------------------------------------------------------------


def test_teacher_ppo_has_no_value_clipping_and_no_gradient_clipping():
    """The release trains with ``clip_value: False`` and ``truncate_grads: False``."""
    from intermimic.tasks.agents.rsl_rl_ppo_cfg import TeacherPPORunnerCfg

    alg = TeacherPPORunnerCfg().algorithm
    assert alg.use_clipped_value_loss is False
    assert alg.max_grad_norm is None


def _tiny_ppo(max_grad_norm):
    from rsl_rl.storage import RolloutStorage
    from tensordict import TensorDict

    from intermimic.learning.models import ClippedMLPModel
    from intermimic.learning.ppo import InterMimicPPO

    torch.manual_seed(0)
    obs = TensorDict({"policy": torch.randn(8, 6)}, batch_size=[8])
    actor = ClippedMLPModel(obs, {"actor": ["policy"]}, "actor", 3, hidden_dims=[16], activation="relu",
                            distribution_cfg={"class_name": "GaussianDistribution", "init_std": 0.05,
                                              "learn_std": False})  # fmt: skip
    critic = ClippedMLPModel(obs, {"critic": ["policy"]}, "critic", 1, hidden_dims=[16], activation="relu")
    storage = RolloutStorage("rl", 8, 2, obs, [3], "cpu")
    alg = InterMimicPPO(actor, critic, storage, learning_rate=1e-3, num_learning_epochs=1, num_mini_batches=1,
                        value_loss_coef=5.0, entropy_coef=0.0, schedule="fixed", max_grad_norm=max_grad_norm,
                        use_clipped_value_loss=False)  # fmt: skip
    for _ in range(2):
        alg.act(obs)
        alg.process_env_step(obs, torch.full((8,), 100.0), torch.zeros(8, dtype=torch.long), {})  # big returns
    alg.compute_returns(obs)
    return alg


def test_ppo_update_without_gradient_clipping_keeps_the_raw_gradient(monkeypatch):
    """``max_grad_norm=None``: the gradient reaches the optimiser unclipped (its norm is far above
    1 here); a number clips it to that norm."""
    norms = {}
    for setting in (None, 1.0):
        alg = _tiny_ppo(setting)
        step = alg.optimizer.step

        def record(*args, _alg=alg, _setting=setting, _step=step, **kwargs):
            grads = [p.grad for p in _alg.critic.parameters() if p.grad is not None]
            norms[_setting] = float(torch.linalg.vector_norm(torch.stack([g.norm() for g in grads])))
            return _step(*args, **kwargs)

        monkeypatch.setattr(alg.optimizer, "step", record)
        alg.update()
    assert norms[None] > 10.0
    assert norms[1.0] == pytest.approx(1.0, rel=1e-3)


# --- episode starts --------------------------------------------------------------------------


def test_psi_replaces_the_lowest_slot_whatever_its_score():
    """The release: a new state scoring above 0.5 replaces the lowest-scored simulated slot, even
    one scoring higher (so early high scores do not stay for ever); per frame the best offer."""
    from intermimic.tasks.mdp.state_init import PhysicalStateBuffer

    buf = PhysicalStateBuffer(num_frames=2, num_slots=3, state_dim=1, replace_threshold=0.5, score_decay=0.0)
    buf.scores[0] = torch.tensor([0.95, 0.9])
    buf.states[0] = torch.tensor([[1.0], [2.0]])
    assert buf.insert(torch.tensor([0]), torch.tensor([[3.0]]), torch.tensor([0.6])) == 1
    torch.testing.assert_close(buf.scores[0], torch.tensor([0.95, 0.6]))
    torch.testing.assert_close(buf.states[0, :, 0], torch.tensor([1.0, 3.0]))
    # two offers for frame 1 and one below the threshold for frame 0: the best of frame 1 is kept
    stored = buf.insert(torch.tensor([1, 1, 0]), torch.tensor([[4.0], [5.0], [6.0]]), torch.tensor([0.7, 0.8, 0.5]))
    assert stored == 1
    assert buf.scores[1].max() == pytest.approx(0.8) and float(buf.states[1, buf.scores[1].argmax(), 0]) == 5.0
    torch.testing.assert_close(buf.scores[0], torch.tensor([0.95, 0.6]))


def test_release_start_frames_leave_an_episode_and_avoid_well_covered_frames():
    """The release draws starts in [0, max(1, L - 300)) with weights 1 / (sum of the frame's slot
    scores, the capture slot scoring 1); a clip no longer than an episode starts at frame 0."""
    from intermimic.tasks.mdp.state_init import PhysicalStateBuffer, ReleaseStartFrameSampler

    lengths = torch.tensor([400, 250])
    starts = torch.tensor([0, 400])
    psi = PhysicalStateBuffer(num_frames=650, num_slots=3, state_dim=1, score_decay=0.0)
    psi.scores[10] = torch.tensor([1.0, 1.0])  # frame 10 of clip 0: sum of scores 3
    sampler = ReleaseStartFrameSampler(starts, lengths, episode_steps=300, p_zero=0.0, psi=psi)
    weights = sampler.frame_weights(0)
    assert len(weights) == 100
    assert float(weights[10]) == pytest.approx(1 / 3) and float(weights[11]) == pytest.approx(1.0)
    g = torch.Generator().manual_seed(0)
    frames = sampler.sample(torch.zeros(20000, dtype=torch.long), generator=g)
    assert frames.min() >= 0 and frames.max() <= 99
    share = float((frames == 10).float().mean())
    assert share == pytest.approx((1 / 3) / (99 + 1 / 3), rel=0.35)
    assert (sampler.sample(torch.ones(50, dtype=torch.long), generator=g) == 0).all()


def test_release_psi_keeps_states_at_least_an_episode_before_the_clip_end():
    from intermimic.tasks.mdp.state_init import release_psi_frames

    frames = torch.tensor([0, 100, 101, 0])
    lengths = torch.tensor([400, 400, 400, 300])
    assert release_psi_frames(frames, lengths, 300).tolist() == [True, True, False, False]


# --- contacts --------------------------------------------------------------------------------


def test_contact_sensor_rows_are_found_by_body_name():
    """A sensor listing the bodies in another order (PhysX lists them in USD traversal order):
    canonical body b maps to the sensor row named b."""
    from types import SimpleNamespace

    from isaaclab.utils.string import resolve_matching_names

    from intermimic.assets.sim_indices import canonical_sensor_ids

    names = list(reversed(spec.BODY_NAMES))
    sensor = SimpleNamespace(find_sensors=lambda keys, preserve_order=False: resolve_matching_names(
        keys, names, preserve_order))  # fmt: skip
    ids = canonical_sensor_ids(sensor)
    assert [names[i] for i in ids] == list(spec.BODY_NAMES)
    assert ids[0] == len(names) - 1  # the pelvis is the sensor's last row


# --- evaluation ------------------------------------------------------------------------------


def test_episode_errors_leave_out_the_terminating_step():
    """The release averages E_h and E_o over steps 1..n-1 of an n-step episode: the state that
    ended it (a failure, often a large error) does not count."""
    from intermimic.evaluation.metrics import METRICS, EpisodeAccumulator
    from intermimic.evaluation.metrics import values_of as v

    acc = EpisodeAccumulator(num_envs=2, device="cpu")
    for e_h, e_o in ((0.1, 0.2), (0.3, 0.4), (0.9, 5.0)):  # env 0: 3 steps, the last one fails
        acc.add(torch.stack([v(E_h=e_h, E_o=e_o), v(E_h=0.05, E_o=0.07)]))
    steps, values, _ = acc.take(torch.tensor([0]))
    assert steps.tolist() == [3]
    assert float(values[0, METRICS["E_h"]]) == pytest.approx(0.2) and float(values[0, METRICS["E_o"]]) == pytest.approx(0.3)
    acc.add(torch.stack([v(E_h=0.5, E_o=0.6), v(E_h=0.05, E_o=0.07)]))  # env 0: a new episode of one step
    steps, values, _ = acc.take(torch.tensor([0, 1]))
    assert steps.tolist() == [1, 4]
    assert values[:, METRICS["E_h"]].tolist() == pytest.approx([0.5, 0.05])
    assert values[:, METRICS["E_o"]].tolist() == pytest.approx([0.6, 0.07])


def test_equally_long_attempts_keep_the_lower_error():
    from intermimic.evaluation.metrics import ClipTable
    from intermimic.evaluation.metrics import values_of as v
    from intermimic.motion.library import ClipInfo

    table = ClipTable([ClipInfo(name="sub2_box_000", subject=2, object="box", num_frames=100)])
    table.offer(0, 50, False, v(E_h=0.10, E_o=0.20))
    table.offer(0, 50, False, v(E_h=0.20, E_o=0.30))  # as long, worse: not kept
    table.offer(0, 50, False, v(E_h=0.05, E_o=0.10))  # as long, better: kept
    table.offer(0, 40, False, v(E_h=0.01, E_o=0.01))  # shorter: not kept however small its error
    r = table.results[0]
    assert (r.steps, r.e_h_cm, r.e_o_cm, r.attempts) == (50, pytest.approx(5.0), pytest.approx(10.0), 4)
    table.offer(0, 99, True, v(E_h=0.30, E_o=0.30))  # longer: kept
    assert table.results[0].success and table.results[0].e_h_cm == pytest.approx(30.0)


# --- raw row 0 -------------------------------------------------------------------------------


@pytest.mark.parametrize("rule, reward_source, first_row, sources", [
    ("aligned", "raw", 1, ["corrected", "raw"]),
    ("release", "raw", 0, ["raw"]),
    ("release", "corrected", 1, ["corrected", "raw"]),
])  # fmt: skip
def test_raw_row0_rule(tmp_path, rule, reward_source, first_row, sources):
    """A corrected clip's row 0 is a placeholder. ``aligned`` (default) drops row 0 of both files
    in every task; ``release``: a task reading only raw references (the release's teacher
    training) loads the raw clip alone from row 0, one reading corrected references drops row 0."""
    from intermimic.motion import clip_format as cf
    from intermimic.motion.clip_io import save_clip_file
    from intermimic.motion.demo.synthetic import synthetic_clip
    from intermimic.motion.loader import load_library
    from intermimic.tasks.motion_data import task_motion_data
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    raw = synthetic_clip(40, seed=5)
    corrected = raw.clone()
    corrected[0] = 0.0
    save_clip_file(tmp_path / "raw" / "sub1_demobox_000.pt", raw)
    save_clip_file(tmp_path / "corrected" / "sub1_demobox_000.pt", corrected)
    cfg = HOIEnvCfg()
    motion = cfg.commands.motion
    motion.motion.files = [str(tmp_path / "raw")]
    motion.motion.corrected = [str(tmp_path / "corrected")]
    motion.raw_row0 = rule
    motion.reward_source = reward_source
    lib = load_library(task_motion_data(cfg), verbose=False)
    assert sorted(lib.sources) == sources
    assert int(lib.clip_length[0]) == 40 - first_row
    state = lib.state(torch.tensor([0]), torch.tensor([0]), "raw")
    torch.testing.assert_close(state.root_pos[0], cf.field(raw, "root_pos")[first_row])


def test_unknown_raw_row0_rule_is_one_clear_error():
    from intermimic.tasks.motion_data import task_motion_data
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    cfg = HOIEnvCfg()
    cfg.commands.motion.raw_row0 = "first"
    with pytest.raises(ValueError, match="env.commands.motion.raw_row0: unknown rule 'first'"):
        task_motion_data(cfg)


# --- the preset ------------------------------------------------------------------------------


def test_release_parity_preset_switches_every_release_behaviour_on():
    import argparse

    from intermimic.app.configure import resolve_configs

    args = argparse.Namespace(task="InterMimic-Teacher-v0", device="cpu", num_envs=None, seed=None, motion=None)
    default, _ = resolve_configs(args, [])
    env_cfg, _ = resolve_configs(args, ["experiment=release_parity", "env.timing=legacy"])
    for cfg, on in ((default, False), (env_cfg, True)):
        assert cfg.actions.joint_pos.release_quirk is on
        assert cfg.observations.policy.reference_key_positions.params["release_quirk"] is on
        assert cfg.rewards.intermimic.params["release_leg_weights"] is on
        assert cfg.rewards.intermimic.params["release_other_bodies"] is on
        assert cfg.commands.motion.state_init.release_starts is on
        assert cfg.commands.motion.raw_row0 == ("release" if on else "aligned")
    env_cfg.apply_timing()  # a timing applied later keeps the switches
    assert env_cfg.rewards.intermimic.params["release_leg_weights"] is True

"""What a GPU run relies on, checked on the CPU: the vectorised samplers draw the distributions
their weights say, PSI keeps the release's choice of offers, the student stores the critic input
once, nearest points do not depend on the matmul precision, the one-GPU-per-rank device choice,
the EGL fallback and the written-out rotation helpers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from scipy.stats import chisquare

from intermimic.tasks.mdp.commands import HOIReferenceCommand, _clips_by_object
from intermimic.tasks.mdp.state_init import PhysicalStateBuffer, ReleaseStartFrameSampler, StartFrameSampler

pytestmark = pytest.mark.unit


def _expected_start_shares(sampler, clip: int) -> torch.Tensor:
    """Share of each frame of ``clip`` among its starts, from the weights (frame 0 also takes p_zero)."""
    w = sampler.frame_weights(clip).double()
    p = (1.0 - sampler.p_zero) * w / w.sum()
    p[0] += sampler.p_zero
    return p


def _draws(sampler, clip: int, n: int, seed: int) -> torch.Tensor:
    frames = sampler.sample(torch.full((n,), clip, dtype=torch.long), generator=torch.Generator().manual_seed(seed))
    return torch.bincount(frames, minlength=len(sampler.frame_weights(clip))).double()


def test_start_frames_follow_the_failure_weights_chi_squared():
    lengths = torch.tensor([40, 25, 60])
    starts = torch.cumsum(lengths, 0) - lengths
    sampler = StartFrameSampler(starts, lengths, min_frames_left=5, p_zero=0.1, priority=2.0, decay=1.0)
    gen = torch.Generator().manual_seed(0)
    for clip in range(3):
        frames = torch.randint(0, int(lengths[clip]), (30,), generator=gen)
        sampler.record_failures(torch.full((30,), clip), frames)
    for clip in range(3):
        observed = _draws(sampler, clip, 60_000, seed=clip)
        expected = _expected_start_shares(sampler, clip) * observed.sum()
        assert observed.shape == expected.shape == (int(lengths[clip]) - 5,)
        assert chisquare(observed, expected).pvalue > 1e-3, f"clip {clip}"


def test_release_start_frames_follow_the_psi_scores_chi_squared():
    lengths = torch.tensor([50, 80])
    starts = torch.cumsum(lengths, 0) - lengths
    psi = PhysicalStateBuffer(int(lengths.sum()), num_slots=3, state_dim=2)
    psi.scores.uniform_(0.0, 3.0, generator=torch.Generator().manual_seed(1))
    sampler = ReleaseStartFrameSampler(starts, lengths, episode_steps=20, p_zero=0.2, psi=psi)
    for clip in range(2):
        observed = _draws(sampler, clip, 60_000, seed=10 + clip)
        expected = _expected_start_shares(sampler, clip) * observed.sum()
        assert len(observed) == int(lengths[clip]) - 20
        assert chisquare(observed, expected).pvalue > 1e-3


def test_failures_decay_only_with_a_failure_in_the_batch():
    sampler = StartFrameSampler(torch.tensor([0]), torch.tensor([10]), min_frames_left=0, decay=0.5)
    sampler.record_failures(torch.tensor([0, 0]), torch.tensor([3, 4]), failed=torch.tensor([True, False]))
    assert sampler.failures.tolist() == [0, 0, 0, 1.0, 0, 0, 0, 0, 0, 0]
    sampler.record_failures(torch.tensor([0]), torch.tensor([5]), failed=torch.tensor([False]))  # nothing failed
    assert sampler.failures[3] == 1.0
    sampler.record_failures(torch.tensor([0]), torch.tensor([5]), failed=torch.tensor([True]))
    assert sampler.failures[3] == 0.5 and sampler.failures[5] == 1.0


def _command_stand_in(env_object, clip_object, num_objects):
    table, count = _clips_by_object(clip_object, num_objects)
    library = SimpleNamespace(object_names=[f"o{i}" for i in range(num_objects)])
    return SimpleNamespace(env_object=env_object, _object_clips=table, _object_clip_count=count, device="cpu",
                           _schedule=None, scheduled=torch.zeros(len(env_object), dtype=torch.bool), library=library)  # fmt: skip


def test_clips_are_drawn_uniformly_among_the_envs_object_chi_squared():
    clip_object = torch.tensor([0, 1, 0, 0, 1, 2])  # object 0: clips 0, 2, 3; object 1: 1, 4; object 2: 5
    env_object = torch.tensor([0, 1, 2] * 20_000)
    cmd = _command_stand_in(env_object, clip_object, 3)
    torch.manual_seed(1)
    clips = HOIReferenceCommand.sample_clips(cmd, torch.arange(len(env_object)))
    assert (clip_object[clips] == env_object).all()
    for obj, own in ((0, [0, 2, 3]), (1, [1, 4])):
        counts = torch.bincount(clips[env_object == obj], minlength=6)[own].double()
        assert chisquare(counts).pvalue > 1e-3


def test_scheduled_clips_go_in_order_to_the_envs_holding_their_object():
    clip_object = torch.tensor([0, 1, 0, 0, 1])
    env_object = torch.tensor([0, 1, 0, 1, 0, 0])
    cmd = _command_stand_in(env_object, clip_object, 2)
    HOIReferenceCommand.set_clip_schedule(cmd, {0: [3, 0, 2, 3], 1: [4]})
    first = HOIReferenceCommand.sample_clips(cmd, torch.tensor([0, 1, 2, 3]))
    # envs 0 and 2 hold object 0: items 1 and 2 of its queue; envs 1 and 3 hold object 1: its one item, then random
    assert first[[0, 2]].tolist() == [3, 0] and first[1].item() == 4 and cmd.scheduled[:4].tolist() == [True] * 3 + [False]
    assert clip_object[first[3]] == 1
    second = HOIReferenceCommand.sample_clips(cmd, torch.tensor([4, 5, 0]))
    assert second[:2].tolist() == [2, 3] and cmd.scheduled[[4, 5]].all() and not cmd.scheduled[0]


def _reference_offers(frames, scores, usable, threshold):
    """The release's rule written plainly: per frame the best usable offer above the threshold,
    the first of equal ones."""
    best = {}
    for i, (f, s, u) in enumerate(zip(frames.tolist(), scores.tolist(), usable.tolist())):
        if u and s > threshold and (f not in best or s > scores[best[f]]):
            best[f] = i
    return sorted(best.values())


def test_psi_keeps_per_frame_the_first_best_offer():
    gen = torch.Generator().manual_seed(3)
    buf = PhysicalStateBuffer(num_frames=12, num_slots=3, state_dim=1, replace_threshold=0.5)
    frames = torch.randint(0, 12, (300,), generator=gen)
    scores = torch.randint(0, 8, (300,), generator=gen).float() / 7.0  # many equal scores
    usable = torch.rand(300, generator=gen) > 0.2
    chosen = buf.select_offers(frames, scores, usable)
    assert chosen.tolist() == _reference_offers(frames, scores, usable, 0.5)


def test_the_student_reads_the_policy_group_when_the_critic_group_is_the_same():
    from intermimic.tasks.agents.rsl_rl_student_cfg import StudentRunnerCfg
    from intermimic.tasks.student_env_cfg import HOIStudentEnvCfg, share_identical_critic

    env_cfg, agent_cfg = HOIStudentEnvCfg(), StudentRunnerCfg()
    assert share_identical_critic(env_cfg, agent_cfg)
    assert env_cfg.observations.critic is None and agent_cfg.obs_groups["critic"] == ["policy"]
    assert env_cfg.observations.policy is not None and env_cfg.observations.teacher is not None

    env_cfg, agent_cfg = HOIStudentEnvCfg(), StudentRunnerCfg()
    env_cfg.observations.critic.reference_key_positions.params["release_quirk"] = True  # the critic differs
    assert not share_identical_critic(env_cfg, agent_cfg)
    assert env_cfg.observations.critic is not None and agent_cfg.obs_groups["critic"] == ["critic"]


@pytest.fixture
def reduced_matmul_precision():
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("medium")
    yield
    torch.set_float32_matmul_precision(before)


def test_nearest_points_do_not_depend_on_the_matmul_precision(reduced_matmul_precision):
    from intermimic.motion.packed import nearest_surface_point
    from intermimic.tasks.mdp.interaction_graph import nearest_point_offsets

    gen = torch.Generator().manual_seed(0)
    body = 3.0 + torch.randn(40, 20, 3, generator=gen)  # far from the points' origin: cancellation-prone
    points = torch.randn(500, 3, generator=gen)
    unit = torch.tensor([0.0, 0.0, 0.0, 1.0]).expand(40, 4)
    exact = ((body.double()[:, :, None] - points.double()[None, None]) ** 2).sum(-1).argmin(-1)
    assert torch.equal(nearest_surface_point(body, torch.zeros(40, 3), unit, points), exact)
    offsets = nearest_point_offsets(body, points.expand(40, -1, -1))
    torch.testing.assert_close(offsets, body - points[exact], rtol=0, atol=0)


def test_one_gpu_per_rank_gets_cuda_0_and_the_runner_agrees(monkeypatch):
    from intermimic.learning import distributed
    from intermimic.learning.reliable_runner import ReliableRunnerMixin

    job = distributed.Ranks(world_size=4, rank=3, local_rank=3)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)  # SLURM's per-task binding: one GPU visible
    assert distributed.rank_device("cuda", job) == "cuda:0"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)  # one node, four GPUs
    assert distributed.rank_device("cuda", job) == "cuda:3"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    runner = SimpleNamespace(device="cuda:0", cfg={})
    monkeypatch.setattr(distributed, "ranks", lambda: job)
    ReliableRunnerMixin._configure_multi_gpu(runner)  # raised before: it wanted cuda:3
    assert runner.is_distributed and runner.cfg["multi_gpu"]["local_rank"] == 3
    runner = SimpleNamespace(device="cuda:2", cfg={})
    with pytest.raises(ValueError, match="expected cuda:0"):
        ReliableRunnerMixin._configure_multi_gpu(runner)


def test_egl_that_does_not_start_falls_back_to_osmesa_with_one_warning(monkeypatch, capsys):
    import ctypes.util

    from intermimic.utils import gl_backend

    for name in ("MUJOCO_GL", "PYOPENGL_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(gl_backend, "_has_nvidia_egl", lambda: True)
    monkeypatch.setattr(gl_backend, "_egl_starts", lambda: "eglInitialize failed")
    real_find = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: "libOSMesa.so.8" if name == "OSMesa" else real_find(name))
    assert gl_backend.choose_headless_gl() == "osmesa"
    assert gl_backend.os.environ["MUJOCO_GL"] == "osmesa"
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "EGL does not start here (eglInitialize failed)" in lines[0]
    monkeypatch.setattr(gl_backend, "_egl_starts", lambda: None)
    monkeypatch.delenv("MUJOCO_GL")
    assert gl_backend.choose_headless_gl() == "egl" and not capsys.readouterr().err


def test_written_out_axes_equal_rotating_the_unit_axes():
    from intermimic.utils import rotations as rot

    q = torch.randn(200, 4, dtype=torch.float64) * 2.0  # not unit: the formulas agree for any q
    n = q.shape[0]
    torch.testing.assert_close(rot.rotated_x(q), rot.rotate(q, torch.tensor([1.0, 0, 0], dtype=q.dtype).expand(n, 3)))
    torch.testing.assert_close(rot.rotated_z(q), rot.rotate(q, torch.tensor([0, 0, 1.0], dtype=q.dtype).expand(n, 3)))
    angles = torch.randn(200, dtype=torch.float64)
    for i, axis in enumerate("xyz"):
        unit = torch.zeros(n, 3, dtype=q.dtype)
        unit[:, i] = 1.0
        torch.testing.assert_close(rot.about_axis(angles, axis), rot.from_axis_angle(unit, angles))

"""No host syncs in the training step: counted on the CPU by intercepting every torch operation that
would make a GPU wait for the host (intermimic.benchmarks.host_syncs), attributed to the code that
made it. In steady state (no env resets) the package's own code makes none; when envs reset it
makes a few, the same number whatever the env and clip counts."""

from __future__ import annotations

import os

import pytest
import torch

from intermimic.benchmarks.host_syncs import HostSyncCounter, sync_kind

MAX_SYNCS_PER_RESET_STEP = 10


# -------------------------------------------------------------------------------------------------
# The counter itself (no simulator)
# -------------------------------------------------------------------------------------------------
@pytest.mark.unit
def test_the_counter_sees_every_kind_of_host_sync_and_names_this_file():
    x = torch.arange(6.0)
    with HostSyncCounter() as counter:
        x.sum().item()
        float(x[0])
        torch.nonzero(x > 2)
        x[x > 2]
        torch.unique(x)
        torch.tensor([1.0, 2.0])
        x.new_tensor((1.0, 0.0, 0.0))
        x.tolist()
        x.cpu()
        torch.repeat_interleave(torch.arange(3), torch.full((3,), 2))
    kinds = {kind for (_, kind), _ in counter.counts.items()}
    assert kinds >= {"scalar read", "nonzero", "boolean mask index", "unique2", "tensor from Python data",
                     "copy to host (tolist)", "copy to host (cpu)", "data-dependent size"}  # fmt: skip
    assert all(where.startswith(os.path.realpath(__file__)) for where, _ in counter.counts), counter.counts
    assert sum(counter.counts.values()) >= 10


@pytest.mark.unit
def test_the_counter_stays_silent_on_device_only_work():
    x = torch.randn(64, 3)
    with HostSyncCounter() as counter:
        y = torch.where(x > 0, x, 0.0).cumsum(0)
        idx = torch.searchsorted(torch.sort(y[:, 0]).values, torch.rand(5))
        y.index_fill_(0, idx.clamp_max(63), 1.0)
        torch.repeat_interleave(torch.arange(3), torch.full((3,), 2), output_size=6)
        x.masked_fill(x > 1, 0.0)
        torch.multinomial(x.abs() + 0.1, 2, replacement=True)
    assert not counter.counts, counter.table(package_only=False)
    assert sync_kind(torch.ops.aten.add.Tensor, (x, x), {}) is None


@pytest.mark.unit
def test_the_package_total_counts_only_the_package():
    from intermimic.utils import rotations as rot

    q = torch.randn(8, 4)
    with HostSyncCounter() as counter:
        rot.yaw(q)  # package code, written without host syncs
        torch.tensor([1.0])  # this test's own
    assert counter.package_total() == 0 and sum(counter.counts.values()) == 1


# -------------------------------------------------------------------------------------------------
# The tasks' env steps
# -------------------------------------------------------------------------------------------------
def _reference_actions(env):
    from intermimic.benchmarks.env import reference_actions

    return reference_actions(env)


def _hold_reference(env) -> None:
    """Write every env's reference state, a few steps into its episode (outside the counted step)."""
    cmd = env.command_manager.get_term("motion")
    env.episode_length_buf[:] = 3
    cmd.start_frame[:] = 0
    cmd.write_reference_state(torch.arange(env.num_envs, device=env.device), cmd.reference(cmd.cfg.init_source))


def steady_step_syncs(env, steps: int = 3) -> list[int]:
    """Package syncs of ``steps`` env steps in which no env resets (the reference held)."""
    counts = []
    for _ in range(steps):
        _hold_reference(env)
        actions = _reference_actions(env)
        with HostSyncCounter() as counter:
            env.step(actions)
        assert not env.reset_buf.any(), "an env reset during a steady step"
        counts.append(counter.package_total())
        assert counter.package_total() == 0, counter.table()
    return counts


def reset_step_syncs(env, resetting: int) -> int:
    """Package syncs of one env step in which ``resetting`` envs time out (and only they reset)."""
    _hold_reference(env)
    env.episode_length_buf[:resetting] = env.max_episode_length
    actions = _reference_actions(env)
    with HostSyncCounter() as counter:
        env.step(actions)
    assert int(env.reset_buf.sum()) == resetting
    return counter.package_total(), counter.table()


def _build(num_envs, files=None, cfg_class=None, edit=None):
    from hoi_env_helpers import build_hoi_env

    def settle(cfg):
        cfg.commands.motion.state_init.start_at_zero_prob = 1.0
        if edit is not None:
            edit(cfg)

    env = build_hoi_env(num_envs=num_envs, files=files, cfg_class=cfg_class, edit=settle)
    env.reset()
    env.step(_reference_actions(env))  # first step: caches and lazy set-up
    return env


@pytest.fixture(scope="module")
def synthetic_clips(tmp_path_factory):
    """Folders of 2 and of 20 synthetic clips of the built-in demo box (120 frames each)."""
    from intermimic.motion.clip_io import save_clip_file
    from intermimic.motion.demo.synthetic import synthetic_clip

    folders = {}
    for count in (2, 20):
        folder = tmp_path_factory.mktemp(f"clips{count}")
        for i in range(count):
            save_clip_file(folder / f"sub1_demobox_{i:03d}.pt", synthetic_clip(120, seed=i))
        folders[count] = folder
    return folders


@pytest.mark.sim
def test_teacher_steps_make_no_sync_and_resets_a_few_whatever_the_env_count():
    env = _build(64)
    try:
        steady_step_syncs(env)
        few, table_few = reset_step_syncs(env, 16)
        many, table_many = reset_step_syncs(env, 64)
    finally:
        env.close()
    assert few == many, f"16 resets:\n{table_few}\n64 resets:\n{table_many}"
    assert many <= MAX_SYNCS_PER_RESET_STEP, table_many


@pytest.mark.sim
def test_reset_syncs_do_not_grow_with_the_clip_count(synthetic_clips):
    counts = {}
    for clips, folder in synthetic_clips.items():
        env = _build(16, files=[folder])
        try:
            assert env.command_manager.get_term("motion").library.num_clips == clips
            counts[clips] = reset_step_syncs(env, 16)
        finally:
            env.close()
    assert counts[2][0] == counts[20][0], f"2 clips:\n{counts[2][1]}\n20 clips:\n{counts[20][1]}"
    assert counts[20][0] <= MAX_SYNCS_PER_RESET_STEP


def _no_steady_syncs_and_few_at_resets(env) -> None:
    """Steady steps make no package sync, a step resetting every env at most a few; the env is closed."""
    try:
        steady_step_syncs(env)
        count, table = reset_step_syncs(env, env.num_envs)
    finally:
        env.close()
    assert count <= MAX_SYNCS_PER_RESET_STEP, table


@pytest.mark.sim
def test_student_steps_make_no_sync():
    from intermimic.tasks.student_env_cfg import HOIStudentEnvCfg

    _no_steady_syncs_and_few_at_resets(_build(64, cfg_class=HOIStudentEnvCfg))


@pytest.mark.sim
def test_g1_steps_make_no_sync(tmp_path):
    from conftest import G1_URDF, retarget_sample_clips

    from intermimic.tasks.g1_env_cfg import G1HOIEnvCfg

    clips = retarget_sample_clips(tmp_path / "g1", "OMOMO_new", ("sub2_largetable_000", "sub2_woodchair_010"), 60)

    def robot(cfg):
        from intermimic.tasks.evaluation_cfg import disable_failures

        cfg.robot_urdf = str(G1_URDF)
        # the chair clip's retargeted foot starts inside the chair; PhysX pushes it out, and a
        # failure would reset an env in a step meant to be steady (time-outs still reset)
        disable_failures(cfg)

    _no_steady_syncs_and_few_at_resets(_build(64, files=[clips / "dataset.yaml"], cfg_class=G1HOIEnvCfg, edit=robot))

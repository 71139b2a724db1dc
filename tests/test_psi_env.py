"""PSI in the simulator: a finished rollout's recorded states enter the buffer with their scores."""

import pytest
import torch

pytestmark = pytest.mark.sim


def test_psi_inserts_scored_states_of_a_survived_rollout():
    """Integration: the command's episode recorder + PSI buffer at an episode end."""
    from hoi_env_helpers import build_hoi_env

    def edit(cfg):
        cfg.commands.motion.state_init.psi = True

    env = build_hoi_env(num_envs=1, edit=edit)  # demo clip: no object meshes needed
    try:
        env.reset()
        cmd = env.command_manager.get_term("motion")
        cmd.start_frame[:] = 0
        planned = min(cmd.max_episode_steps, int(cmd.library.clip_length[cmd.clip_ids[0]]) - 1)
        steps = planned - 20
        marker = torch.arange(cmd.recorder.max_steps, dtype=torch.float32)
        cmd.recorder.states[0] = marker[:, None].expand(-1, cmd.recorder.states.shape[-1])
        env.episode_length_buf[:] = steps
        stats = cmd.end_episodes(torch.tensor([0]), failed=torch.tensor([True]))
        t = torch.arange(10, steps - 10)
        expected = (steps - t).float() / (planned - t).float()
        flat = cmd.library.flat_index(cmd.clip_ids[0].expand_as(t), t)
        stored = cmd.psi.scores[flat].max(dim=-1)
        keep = expected > 0.5
        torch.testing.assert_close(stored.values[keep], expected[keep])
        assert (stored.values[~keep] == 0).all()
        # the stored state is the one recorded at that episode step
        slot = stored.indices[keep]
        torch.testing.assert_close(cmd.psi.states[flat[keep], slot, 0], t[keep].float())
        assert stats["psi_stored"] == int(keep.sum())
    finally:
        env.close()


def test_a_start_from_a_stored_slot_writes_that_physical_state():
    from hoi_env_helpers import build_hoi_env

    from intermimic.tasks.mdp.commands import reference_to_state

    def edit(cfg):
        cfg.commands.motion.state_init.psi = True
        cfg.commands.motion.state_init.start_at_zero_prob = 0.0

    env = build_hoi_env(num_envs=1, edit=edit)
    try:
        torch.manual_seed(0)
        env.reset()
        cmd = env.command_manager.get_term("motion")
        lib = cmd.library
        clip, frame = int(cmd.clip_ids[0]), 30
        flat = lib.flat_index(torch.tensor([clip]), torch.tensor([frame]))
        state = reference_to_state(lib.state(torch.tensor([clip]), torch.tensor([frame]), "raw"))
        state.root_pos = state.root_pos + torch.tensor([0.5, 0.0, 0.0])  # a "simulated" variant
        assert cmd.psi.insert(flat, state.pack(), torch.tensor([0.9])) == 1
        cmd.psi.scores[flat, 0] = 1.0e4  # make that slot the overwhelming choice
        cmd.start_sampler.failures[flat] = 1.0e6  # and that frame the start frame
        cmd.sample_clips = lambda env_ids: torch.full((len(env_ids),), clip)
        cmd.start_episodes(torch.tensor([0]))
        assert int(cmd.start_frame[0]) == frame and int(cmd.start_slot[0]) == 1
        torch.testing.assert_close(cmd.root_pos, state.root_pos, atol=1e-4, rtol=0)
    finally:
        env.close()


def test_logged_start_frame_statistics_follow_the_failure_history():
    """The curriculum term logs the share of frame-0 starts and the mean start frame that the
    start-frame weights imply, for the failure history the run has (computed here by hand)."""
    from hoi_env_helpers import build_hoi_env

    def edit(cfg):
        init = cfg.commands.motion.state_init
        init.failure_decay, init.failure_priority, init.start_at_zero_prob = 1.0, 2.0, 0.25

    env = build_hoi_env(num_envs=2, edit=edit)
    try:
        env.reset()
        env.step(torch.zeros(env.num_envs, env.action_manager.total_action_dim))
        cmd = env.command_manager.get_term("motion")
        lib = cmd.library
        history = torch.zeros_like(cmd.start_sampler.failures)
        history[lib.clip_start[0] + 3] = 5.0
        history[lib.clip_start[0]] = 1.0
        history[lib.clip_start[-1] + 40] = 7.0
        cmd.start_sampler.failures.copy_(history)
        _, extras = env.reset(env_ids=torch.arange(env.num_envs))
        logged = {k.rsplit("/", 1)[-1]: float(v) for k, v in extras["log"].items() if k.startswith("Curriculum/")}
        failures = cmd.start_sampler.failures  # the history, plus failures of the episodes just ended
        zero, fraction = [], []
        for c in range(lib.num_clips):
            length = int(lib.clip_length[c])
            span = max(length - cmd.cfg.min_frames_left, 1)
            w = [1.0 + 2.0 * float(failures[int(lib.clip_start[c]) + f]) for f in range(span)]
            zero.append(0.25 + 0.75 * w[0] / sum(w))
            fraction.append(0.75 * sum(f * wf for f, wf in enumerate(w)) / sum(w) / length)
        assert logged["frame0_share"] == pytest.approx(sum(zero) / len(zero), rel=1e-5)
        assert logged["start_fraction"] == pytest.approx(sum(fraction) / len(fraction), rel=1e-5)
        assert sum(zero) / len(zero) != pytest.approx(0.25 + 0.75 / max(lib.clip_length.tolist()))  # not uniform
        assert 0.0 <= logged["started_frame0_share"] <= 1.0 and logged["started_psi_share"] == 0.0
    finally:
        env.close()

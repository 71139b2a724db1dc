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

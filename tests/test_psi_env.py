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

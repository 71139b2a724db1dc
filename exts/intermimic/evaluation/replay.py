"""Replaying clips without a policy, to look at data before training.

* :func:`kinematic_replay`: every frame of each clip is written into the simulation as it is
  (humanoid and object), no physics; viewers and videos show it with the reference ghost.
* Physics replay: :func:`~intermimic.evaluation.evaluator.evaluate_policy` with the
  :class:`~intermimic.evaluation.drivers.ReferenceDriver` and failures off: each step starts
  from the reference state, the joint drives aim at the next frame, one policy step of physics
  runs, and E_h/E_o measure how far physics carried humanoid and object from the next frame.
"""

from __future__ import annotations

import torch

from .evaluator import clip_queues


def kinematic_replay(env, clip_ids: list[int], source: str | None = None, video=None, render: bool = True) -> int:
    """Play ``clip_ids`` frame by frame (state written, no physics); returns the frames shown.

    Env ``e`` plays the next waiting clip of the object it holds; clips of one round play side by
    side and the round lasts as long as its longest clip (shorter ones hold their last frame).
    With a viewer open (``--viz``), frames are shown at the clip rate.
    """
    import time

    base = env.unwrapped
    cmd = base.command_manager.get_term("motion")
    lib = cmd.library
    source = source or cmd.cfg.reward_source
    queues = clip_queues(lib, clip_ids)
    all_envs = torch.arange(base.num_envs, device=base.device)
    live = render and bool(getattr(base.sim, "visualizers", None))
    shown = 0
    next_time = time.monotonic()
    while any(queues.values()):
        active = torch.zeros(base.num_envs, dtype=torch.bool, device=base.device)
        for e in range(base.num_envs):
            queue = queues.get(int(cmd.env_object[e]))
            if queue:
                cmd.clip_ids[e] = queue.pop(0)
                cmd.clip_version += 1
                active[e] = True
        if not active.any():
            raise ValueError("no environment holds the object of the remaining clips; use more --num_envs")
        cmd.scheduled[:] = active
        cmd.start_frame[:] = 0
        lengths = cmd.clip_length
        for f in range(int(lengths[active].max())):
            frames = torch.minimum(torch.full_like(lengths, f), lengths - 1)
            base.episode_length_buf[:] = frames
            cmd.write_reference_state(all_envs, lib.state(cmd.clip_ids, frames, source))
            if render:
                base.sim.forward()  # body poses from the written joint state, for the viewers
                base.sim.render()
            if live:  # real time for the viewer
                next_time += 1.0 / lib.fps
                time.sleep(max(0.0, next_time - time.monotonic()))
            if video is not None:
                video.on_step()
                video.end_episodes([e for e in range(base.num_envs) if active[e] and f == int(lengths[e]) - 1])
            shown += 1
    return shown

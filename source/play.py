"""Run a trained InterMimic policy (and optionally export it).

    python source/play.py [--task InterMimic-Teacher-Play-v0] [--checkpoint FILE|RUN_DIR]
        [--num_envs N] [--max_steps N] [--export] [--video PATH.mp4 [--video_clips CLIP ...]]
        [--viz viser|rerun|newton_gl] [dataset=<name>] ...

Without --checkpoint the latest run of the task's experiment under logs/rsl_rl is used.
With Isaac Sim installed, ``physics=isaacsim_physx`` shows the Isaac Sim GUI.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.launch import env_and_runner, make_parser, parse, resolve_configs  # noqa: E402
from intermimic.tasks import TEACHER_PLAY_TASK  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = make_parser("Play a trained InterMimic policy.", TEACHER_PLAY_TASK)
    parser.add_argument(
        "--checkpoint", default=None,
        help="model_<it>.pt, a run folder, an experiment folder, or release:FILE (the authors' release).",
    )  # fmt: skip
    parser.add_argument("--max_steps", type=int, default=None, help="Stop after this many policy steps.")
    parser.add_argument("--export", action="store_true", help="Export the policy (TorchScript + ONNX) and exit.")
    parser.add_argument("--log_root", default="logs", help="Root folder of the logs (default: ./logs).")
    from intermimic.evaluation.video import add_video_args

    add_video_args(parser)
    args, overrides = parse(parser, argv)

    import torch

    from isaaclab_rl.rsl_rl import check_rsl_rl_version, handle_deprecated_rsl_rl_cfg

    from intermimic.checkpoints import resolve_checkpoint
    from intermimic.learning.release_checkpoint import apply_release_conventions

    env_cfg, agent_cfg = resolve_configs(args, overrides)
    agent_cfg = handle_deprecated_rsl_rl_cfg(agent_cfg, check_rsl_rl_version())
    experiment_dir = os.path.join(args.log_root, "rsl_rl", agent_cfg.experiment_name)
    checkpoint = resolve_checkpoint(args.checkpoint, experiment_dir)
    apply_release_conventions(args.checkpoint, env_cfg)
    print(f"[intermimic] playing {checkpoint} on {args.task} ({env_cfg.scene.num_envs} envs, {env_cfg.sim.device})")

    with env_and_runner(args, env_cfg, agent_cfg, checkpoint=checkpoint) as (env, runner):
        if args.export:
            from intermimic.learning.export import export_policy, policy_metadata

            meta = policy_metadata(env, agent_cfg, args.task, checkpoint)
            files = export_policy(runner.alg.get_policy(), checkpoint.parent / "exported", meta)
            print(f"[intermimic] exported policy to {', '.join(str(p) for p in files.values())}")
            return
        from intermimic.evaluation.video import video_for

        policy = runner.get_inference_policy(device=env.unwrapped.device)
        video = video_for(args, env)
        obs = env.get_observations() if video is None else video.start(env)
        step = 0
        done_count = 0
        while (args.max_steps is None or step < args.max_steps) and not (video and video.done):
            with torch.inference_mode():
                obs, _, dones, _ = env.step(policy(obs))
            step += 1
            done_count += int(dones.sum())
            if video is not None:
                video.after_step(dones)
        print(f"[intermimic] played {step} steps; {done_count} episodes ended")
        if video is not None:
            print(f"[intermimic] video: {video.close()}")


if __name__ == "__main__":
    main()

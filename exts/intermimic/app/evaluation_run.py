"""The evaluation of a trained policy as ``evaluate`` and ``track`` run it: resolve its
configuration, configure the env for evaluation, read the data, print the banner, roll every clip
with the policy (videos and contact sheets as asked), write and print the report and the
reward factors on these fixed starts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ..utils.errors import log
from .banner import startup_banner
from .configure import check_data, resolve_policy_configs
from .session import env_and_runner

CPU_EVALUATION_ENVS = 8
"""Envs of an evaluation on the CPU unless ``--num_envs`` says."""


def evaluate_checkpoint(args, overrides: list[str], command: str, folder: str, meta: dict | None = None,
                        prepare_env: Callable | None = None) -> dict:  # fmt: skip
    """Evaluate the checkpoint ``args.checkpoint`` names on every clip of its data (``command``:
    the banner's title; the report goes to ``<run>/<folder>/<timestamp>/`` unless ``--out``;
    ``meta``: more entries of the report's meta; ``prepare_env(env_cfg)`` may change the env
    config after the run's settings are applied). Returns the report's summary."""
    from ..evaluation.evaluation_pictures import grid_clip_names, pictures_for
    from ..evaluation.evaluator import evaluate_policy
    from ..evaluation.report import format_report
    from ..evaluation.reward_factors import FILE_NAME as FACTORS_FILE, RewardFactorMeans, format_factors
    from ..evaluation.video import check_video_args, video_for
    from ..tasks.evaluation_cfg import configure_for_evaluation

    check_video_args(args)
    env_cfg, agent_cfg, checkpoint, settings = resolve_policy_configs(args, overrides)
    if prepare_env is not None:
        prepare_env(env_cfg)
    if args.num_envs is None and env_cfg.sim.device == "cpu":
        env_cfg.scene.num_envs = CPU_EVALUATION_ENVS
    configure_for_evaluation(env_cfg)
    selection = check_data(env_cfg)
    grid_clip_names(args, [c.info.name for c in selection.clips])
    out = Path(args.out) if args.out else checkpoint.parent / folder / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    print(startup_banner(command, args, env_cfg, agent_cfg, selection, overrides, checkpoint=str(checkpoint),
                         settings=settings, attempts=str(args.attempts), report=str(out)), flush=True)  # fmt: skip

    with env_and_runner(args, env_cfg, agent_cfg, checkpoint=checkpoint) as (env, runner):
        policy = runner.get_inference_policy(device=env.unwrapped.device)
        video = None if args.video_grid else video_for(args, env)
        pictures = pictures_for(args, env)
        factors = RewardFactorMeans(env)
        observers = [factors] + ([video] if video is not None else [])
        if pictures is not None:
            observers.append(pictures.recorder)
        table = evaluate_policy(env, policy, attempts=args.attempts, observers=observers)
        fps = 1.0 / env.unwrapped.step_dt
        meta = {"checkpoint": str(checkpoint), "task": args.task, "attempts": args.attempts, **(meta or {})}
        path = table.write(out, fps, meta)
        factors.write(out, [c.name for c in env.unwrapped.command_manager.get_term("motion").library.clips])
        written = []
        if video is not None:
            written.append(f"video: {video.close()}")
        written += pictures.write(out) if pictures is not None else []
    report = table.report(fps, meta)
    print(format_report(report))
    print(format_factors(factors.summary()))
    log(f"report: {path} (+ .csv, clips.png, errors.png, hands.png, {FACTORS_FILE})"
        + "".join(f"; {line}" for line in written))  # fmt: skip
    return report["summary"]

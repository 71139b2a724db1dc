"""The command line of the scripts that build an environment (train, play, evaluate, replay,
retarget, the benchmarks): Isaac Lab's launcher flags (``--device``, ``--viz``, ...), the usual
``--task``, ``--num_envs``, ``--seed``, ``--motion PATH...``, then ``key=value`` overrides (see
:mod:`intermimic.app.overrides`). Numbers, paths and viewers are checked while parsing."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys

import torch

from ..utils.arguments import ArgumentParser, int_at_least, require_path
from ..utils.errors import UserError

ISAAC_SIM_ONLY_OPTIONS = (
    "--livestream", "--xr", "--verbose", "--info", "--experience", "--deterministic", "--kit_args",
    "--anim_recording_enabled", "--anim_recording_start_time", "--anim_recording_stop_time",
)  # fmt: skip
"""Launcher options that only Isaac Sim (Kit) reads; the kit-less physics (PhysX, Newton) ignores them."""
VIEWER_PACKAGES = {"viser": "viser", "rerun": "rerun"}
"""``--viz`` choices that need the ``viz`` install extra, and the module each one imports."""
VIZ_INSTALL_HINT = 'install the viewers with: .venv/bin/pip install -e ".[viz]"'
OVERRIDE_HELP = (
    "Overrides (key=value): dataset=<name> (config/datasets), dataset.<field>=<value>, "
    "experiment=<name> (config/experiments), teachers=<name> (config/teachers, student tasks), "
    "teachers.paths.<subject>=<checkpoint>, physics=ovphysx|newton|isaacsim_physx (default ovphysx), env.<path>=<value>, "
    "agent.<path>=<value>."
)


def make_parser(description: str, default_task: str) -> argparse.ArgumentParser:
    from isaaclab.app import add_launcher_args

    parser = ArgumentParser(description=description, epilog=OVERRIDE_HELP)
    parser.add_argument("--task", default=default_task, help=f"Gym task ID (default: {default_task}).")
    parser.add_argument("--num_envs", type=int_at_least(1), default=None, help="Number of parallel environments (>= 1).")
    parser.add_argument("--seed", type=int, default=None, help="Random seed of env and agent.")
    parser.add_argument(
        "--motion",
        nargs="+",
        default=None,
        metavar="PATH",
        help="Clip files (.pt), folders of clips or data set YAML files; default: the built-in demo clips.",
    )
    add_launcher_args(parser)
    _group_isaac_sim_options(parser)
    parser.set_defaults(device=None)
    return parser


def _group_isaac_sim_options(parser: argparse.ArgumentParser) -> None:
    """Move the launcher options only Isaac Sim reads into their own titled help section."""
    sim_only = parser.add_argument_group(
        "Isaac Sim only", "Read only when Isaac Sim is installed (physics=isaacsim_physx, --viz kit);\n"
        "the kit-less physics (the default ovphysx, newton) ignores them."
    )  # fmt: skip
    for group in parser._action_groups:
        if group is sim_only:
            continue
        moved = [a for a in group._group_actions if set(a.option_strings) & set(ISAAC_SIM_ONLY_OPTIONS)]
        for action in moved:
            group._group_actions.remove(action)
            sim_only._group_actions.append(action)
        if group.title == "launcher arguments":
            group.title, group.description = "simulation", "Device and viewers."
    for action in parser._actions:
        if "--viz" in action.option_strings:
            action.help = (
                "Viewer(s), comma-separated: viser (web page, port 8080), rerun (web viewer, port 9090), "
                f"newton_gl (a window; needs a display), kit (Isaac Sim). viser and rerun: {VIZ_INSTALL_HINT}."
            )


def _list_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The parser's arguments that take a list of values (``nargs`` + or *)."""
    return [a for a in parser._actions if a.nargs in ("+", "*")]


def _looks_like_override(token: str) -> bool:
    """``key=value`` (``physics=ovphysx``, ``env.a.b=1``, Hydra's ``+key=value``), not an existing path."""
    return "=" in token and not os.path.exists(token)


def split_arguments(parser: argparse.ArgumentParser, argv: list[str]):
    """``(args, overrides)`` from the command line: flags parsed, the rest must be key=value."""
    args, rest = parser.parse_known_args(argv)
    swallowed = []
    for action in _list_options(parser):
        # ``--clips a b key=value``: a list argument swallows the overrides that follow it
        values = getattr(args, action.dest, None)
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            overrides = [v for v in values if _looks_like_override(v)]
            if overrides:
                kept = [v for v in values if v not in overrides]
                if not kept and action.nargs == "+":
                    name = action.option_strings[-1] if action.option_strings else action.metavar or action.dest
                    parser.error(f"{name}: expected at least one value before {overrides[0]}")
                setattr(args, action.dest, kept)
                swallowed += overrides
    rest = swallowed + rest
    unknown_flags = [t for t in rest if t.startswith("-")]
    if unknown_flags:
        parser.error(f"unrecognized arguments: {' '.join(unknown_flags)}")
    bad = [t for t in rest if "=" not in t]
    if bad:
        parser.error(f"expected key=value overrides, got: {' '.join(bad)}")
    return args, rest


def parse(parser: argparse.ArgumentParser, argv: list[str] | None = None):
    """:func:`split_arguments`, then: paths after ``--motion`` must exist, viewers named by
    ``--viz`` must be installed."""
    args, overrides = split_arguments(parser, sys.argv[1:] if argv is None else argv)
    for path in args.motion or ():
        require_path(path, "--motion")
    check_viewers(getattr(args, "visualizer", None))
    return args, overrides


def check_viewers(names: list[str] | None) -> None:
    """UserError when ``--viz`` names a viewer whose package is not installed."""
    for name in names or ():
        module = VIEWER_PACKAGES.get(name)
        if module and importlib.util.find_spec(module) is None:
            raise UserError(f"--viz {name}: the '{module}' package is not installed; {VIZ_INSTALL_HINT}")


def pick_device(requested: str | None) -> str:
    """``--device`` as given; by default CUDA when available, else the CPU."""
    if requested:
        if requested.startswith("cuda") and not torch.cuda.is_available():
            raise UserError(f"--device {requested}: CUDA is not available on this machine; use --device cpu")
        if not (requested == "cpu" or requested.startswith("cuda")):
            raise UserError(f"--device {requested}: expected cpu, cuda or cuda:N")
        return requested
    from ..tasks.agents.rsl_rl_ppo_cfg import default_device

    return default_device()


def add_run_settings_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--task_defaults", action="store_true",
        help="Ignore the data and env settings recorded with the checkpoint's run (<run>/params/env.yaml); "
        "use the task's defaults and the command line.",
    )  # fmt: skip

"""Benchmarks that print tables (not timed tests).

    ./intermimic.sh benchmark motion [--hours 10] [--envs 4096] [--device cuda]
    ./intermimic.sh benchmark env [--task ID] [--num_envs 4 16 64] [--steps N] [--json FILE]
        [--device cpu|cuda:0] [--runs K] [dataset=<name>] [env.<path>=v] ...
    ./intermimic.sh benchmark student [--num_envs N] [--teachers 1 4 15] [--device cpu|cuda:0] ...
    ./intermimic.sh benchmark distributed [--ranks 1 2] [--num_envs N] [--iterations K] [--device cpu|cuda]
    ./intermimic.sh benchmark learning [--num_envs N] [--iterations K] [--eval_interval K] [--out DIR] ...
    ./intermimic.sh benchmark render
    ./intermimic.sh benchmark memory [--num_envs 4096 8192] [--hours 1] [--teachers 15] [--json FILE]
    ./intermimic.sh benchmark gpu [--device cuda:0] [--out logs/gpu_checks] [--only CHECK ...]
    ./intermimic.sh benchmark backends [--backends newton_mjwarp ovphysx] [--clips NAME ...] [--source raw|corrected]
        [--max_steps N] [--json FILE] [dataset=<name>] ...
    ./intermimic.sh benchmark hulls [--objects_dir DIR] [--objects NAME ...] [--vhacd] [--json FILE]
    ./intermimic.sh benchmark joints CLIP ... [--objects_dir DIR] [--frames N] [--skip_first_row] [--json FILE]

Subcommands:
  motion   motion library: load time and memory for the sample clips and a synthetic library
           of N hours; per-step query time for E environments vs 1, 1000 and all clips.
  env      the task's environment per env count: env-steps/s, ms per env step split into
           physics and each manager, env step vs physics-only step, one PPO update, peak host
           and GPU memory, scene build time. Each env count runs in a fresh process.
  student  the batched teachers (1, 4, 15 teachers) per call, and one learning iteration of the
           teacher, the MLP student and the Transformer student at one env count.
  distributed  teacher training with 1, 2, ... ranks (torchrun, --num_envs per rank): iteration
           time and samples/s from each run's log (CPU ranks: a plumbing check, not a speed claim).
  render   frames/s of each video renderer (MuJoCo offscreen, skeleton) at 640x480 and 1280x720.
  learning the learning check: a bounded training run with fixed-start evaluations next to two
           baselines (zero actions, PD targets on the reference pose); JSON and PNG of the curves.
  memory   device memory per component of teacher and student training at 4096 and 8192 envs,
           computed from the shapes the code makes (not measured).
  gpu      the first checks on a GPU in order, each bounded in time: simulator tests on the device,
           host syncs per step, benchmark env, a teacher past step 300 and resumed, both students,
           evaluation during training, play --export, evaluate --video; JSON + Markdown report
           (toy size on the CPU).
  backends the same physics replay of the clips on each physics backend (Newton, kit-less PhysX),
           each in a fresh process: E_h/E_o per clip side by side, contact-label agreement.
  hulls    the objects' collision hulls against their meshes: hull-to-mesh distance, volume and
           mass per object (--vhacd: V-HACD 4 with the release's parameters beside CoACD).
  joints   clips -> joint positions -> clips (convert --format joints): positions, joint limits,
           floor, body rotations against the clips' per body group.

Each subcommand is one module of ``intermimic.benchmarks`` with ``HELP``, ``add_args(parser)``
and ``run(args, overrides) -> int``; add one by writing such a module and listing it in
SUBCOMMANDS.
"""

from __future__ import annotations

import importlib
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.arguments import ArgumentParser  # noqa: E402
from intermimic.utils.errors import command  # noqa: E402

SUBCOMMANDS = {
    "render": "render",
    "motion": "motion_library",
    "env": "env",
    "student": "student",
    "distributed": "distributed",
    "learning": "learning_check",
    "memory": "memory",
    "gpu": "gpu_checks",
    "backends": "backends",
    "hulls": "hulls",
    "joints": "joints_roundtrip",
}
"""Subcommand -> its module in ``intermimic.benchmarks``."""
TAKES_OVERRIDES = {"env", "student", "distributed", "learning", "backends"}
"""Subcommands that take a task's command line (Isaac Lab's launcher flags and key=value overrides)."""


def benchmark_module(name: str):
    return importlib.import_module(f"intermimic.benchmarks.{SUBCOMMANDS[name]}")


def build_parser():
    parser = ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in SUBCOMMANDS:
        module = benchmark_module(name)
        module.add_args(sub.add_parser(name, help=module.HELP))
    parser.subcommand_parsers = dict(sub.choices)
    return parser


@command
def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args, rest = parser.parse_known_args(argv)
    start = time.perf_counter()
    name = args.command
    if name in TAKES_OVERRIDES:
        from intermimic.app.command_line import parse

        args, overrides = parse(parser.subcommand_parsers[name], argv[argv.index(name) + 1 :])
        args.command = name
    else:
        if rest:
            parser.subcommand_parsers[name].error(f"unrecognized arguments: {' '.join(rest)}")
        overrides = []
    code = benchmark_module(name).run(args, overrides)
    print(f"\n({name} benchmark took {time.perf_counter() - start:.0f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Draw a training run's curves as PNG files (from its TensorBoard event files).

    ./intermimic.sh plot [RUN] [--out DIR]

RUN is a run folder (``logs/rsl_rl/intermimic_teacher/<timestamp>``), a checkpoint in it, or a
folder above runs (default ``logs/rsl_rl``: the newest run). Writes ``reward.png`` (mean reward,
episode length), ``reward_factors.png`` (every ``Reward/*`` factor), ``terminations.png``
(share of episodes ended by each term), ``losses.png`` and ``tracking.png`` to ``<run>/plots/``.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.arguments import ArgumentParser  # noqa: E402
from intermimic.utils.errors import as_user_error, command, log  # noqa: E402


def build_parser():
    parser = ArgumentParser(description=__doc__)
    parser.add_argument("run", nargs="?", default=os.path.join("logs", "rsl_rl"),
                        help="run folder, or a folder above runs: its newest run (default: logs/rsl_rl)")  # fmt: skip
    parser.add_argument("--out", default=None, help="output folder (default: <run>/plots)")
    return parser


@command
def main(argv: list[str] | None = None) -> list:
    args = build_parser().parse_args(argv)

    from intermimic.learning.curves import find_run, plot_run

    with as_user_error(FileNotFoundError, ValueError, context="plot: "):
        run = find_run(args.run)
        files = plot_run(run, args.out)
    log(f"curves of {run}:")
    for path in files:
        print(f"  {path}")
    return files


if __name__ == "__main__":
    main()

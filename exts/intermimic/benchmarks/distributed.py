"""Distributed training benchmark (``benchmark distributed``): teacher training with 1, 2, ... ranks
(torchrun, ``--num_envs`` per rank), iteration time and samples/s read from each run's log. On
CPU ranks a plumbing check, not a speed claim."""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from ..utils.arguments import int_at_least
from ..utils.errors import UserError
from ..utils.paths import REPO_ROOT
from .measure import cuda_available

HELP = "training with 1, 2, ... ranks: iteration time, samples/s"
"""One line for ``benchmark --help``."""


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default="InterMimic-Teacher-v0")
    p.add_argument("--ranks", type=int_at_least(1), nargs="+", default=None,
                   help="Rank counts to compare (default: 1 2 on the CPU, 1..GPUs with CUDA).")  # fmt: skip
    p.add_argument("--num_envs", type=int_at_least(1), default=None, help="Envs per rank (default 2 CPU, 4096 CUDA).")
    p.add_argument("--iterations", type=int_at_least(2), default=3, help="Learning iterations per run (the first is left out).")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available).")
    p.add_argument("--motion", nargs="+", default=None, metavar="PATH", help="clip files, folders or data set YAML files")
    p.add_argument("--seed", type=int, default=None, help="base seed (rank r uses seed + r)")


def run(args, overrides: list[str]) -> int:
    import torch

    from ..learning.curves import read_scalars

    device = args.device or ("cuda" if cuda_available() else "cpu")
    gpus = torch.cuda.device_count() if device.startswith("cuda") else 0
    counts = args.ranks or (list(range(1, gpus + 1)) if gpus else [1, 2])
    if gpus and max(counts) > gpus:
        raise UserError(f"--ranks {max(counts)}: this machine has {gpus} GPU(s)")
    envs = args.num_envs or (4096 if gpus else 2)
    script = str(REPO_ROOT / "source" / "train.py")
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for n in counts:
            log_root = Path(root) / f"ranks{n}"
            common = ["--task", args.task, "--device", device, "--num_envs", str(envs), "--max_iterations",
                      str(args.iterations), "--log_root", str(log_root), *overrides]  # fmt: skip
            if args.motion:
                common += ["--motion", *args.motion]
            if args.seed is not None:
                common += ["--seed", str(args.seed)]
            cmd = ([sys.executable, script, *common] if n == 1 else
                   [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}", script,
                    "--distributed", *common])  # fmt: skip
            print(f"[intermimic] {n} rank(s) x {envs} envs: {args.iterations} iterations ...", flush=True)
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
                raise UserError(f"the {n}-rank run failed: {' | '.join(tail)}")
            run = next(p for p in (log_root / "rsl_rl").glob("*/*") if p.is_dir())
            scalars = read_scalars(run)
            times = [c + u for c, u in zip(scalars["Perf/collection_time"][1], scalars["Perf/learning_time"][1])][1:]
            fps = scalars["Perf/total_fps"][1][1:]
            rows.append((n, envs, n * envs, statistics.median(times), statistics.median(fps)))
    print(f"\n{args.task} on {device}, {envs} envs per rank (median over iterations 2..{args.iterations})")
    print(f"{'ranks':>6}{'envs/rank':>11}{'total envs':>12}{'iteration s':>13}{'samples/s':>11}")
    for n, e, total, it_s, fps in rows:
        print(f"{n:>6d}{e:>11d}{total:>12d}{it_s:>13.2f}{fps:>11.0f}")
    if device == "cpu":
        print("\nCPU ranks share this machine's cores: the figures check the plumbing, not the speed-up.")
    return 0

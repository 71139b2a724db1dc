"""Benchmarks that print tables (not timed tests).

    ./intermimic.sh benchmark motion [--hours 10] [--envs 4096] [--device cuda]

Subcommands:
  motion   motion library: load time and memory for the sample clips and a synthetic library
           of N hours; per-step query time for E environments vs 1, 1000 and all clips.

Add a subcommand by writing ``add_<name>_args(parser)`` and ``run_<name>(args) -> int`` and
listing them in SUBCOMMANDS.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.cli import ArgumentParser, UserError, command, float_above, int_at_least  # noqa: E402


# -------------------------------------------------------------------------------------------------
# motion
# -------------------------------------------------------------------------------------------------
def add_motion_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hours", type=float_above(0), default=10.0, help="synthetic library size (default: %(default)s h)")
    p.add_argument("--envs", type=int_at_least(1), default=4096, help="environments per query (default: %(default)s)")
    p.add_argument("--repeats", type=int_at_least(1), default=20, help="timed calls per query (default: %(default)s)")
    p.add_argument("--many", type=int_at_least(1), default=1000, help="clips in the mid-size comparison library (default: %(default)s)")
    p.add_argument("--device", default="cuda" if _cuda() else "cpu")
    p.add_argument("--sample", default=os.environ.get("INTERMIMIC_SAMPLE_DATA"),
                   help="InterMimic sample data folder (default: $INTERMIMIC_SAMPLE_DATA or ../shared/data/intermimic_sample)")
    p.add_argument("--no-sample", action="store_true", help="skip the sample clips")


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def run_motion(args) -> int:
    import torch

    from intermimic.motion import benchmark as mb
    from intermimic.presets import REPO_ROOT

    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {device}: CUDA is not available on this machine; use --device cpu")
    print(f"motion library benchmark: device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    packed, full = mb.bytes_per_frame(), mb.full_frame_bytes()
    print(f"storage per frame and source: {packed} bytes/frame packed (poses float32, labels int8, nearest-point "
          f"index int16); {full} bytes/frame if every derived quantity were stored as float32")  # fmt: skip

    if not args.no_sample:
        sample = Path(args.sample) if args.sample else REPO_ROOT.parent / "shared" / "data" / "intermimic_sample"
        if (sample / "OMOMO_new").is_dir():
            s = mb.sample_load(sample, device)
            print(f"sample clips ({sample}): {s['clips']} clips x 2 sources, {s['frames']} frames/source; "
                  f"read+validate {s['read_s']:.2f} s, pack {s['pack_s']:.2f} s, {_gb(s['bytes_per_source'])}/source")  # fmt: skip
        else:
            print(f"sample clips: skipped (not found at {sample})")

    frames = mb.frames_for_hours(args.hours)
    rss0 = mb.peak_rss_bytes()
    big, seconds = mb.synthetic_library(frames, device, progress=sys.stderr.isatty())
    rss1 = mb.peak_rss_bytes()
    per_source = big.nbytes("raw")
    print(f"synthetic library: {args.hours:g} h = {frames:,} frames in {big.num_clips} clips; generate+pack "
          f"{seconds:.1f} s; {_gb(per_source)} per source ({per_source / frames:.0f} bytes/frame; all-float32 "
          f"would be {_gb(full * frames)}); process peak memory +{_gb(max(0, rss1 - rss0))} on the host")  # fmt: skip

    sizes = {"1 clip": mb.synthetic_library(mb.CLIP_FRAMES, device)[0],
             f"{args.many} clips": mb.synthetic_library(args.many * mb.CLIP_FRAMES, device)[0],
             f"{big.num_clips} clips ({args.hours:g} h)": big}  # fmt: skip
    results = {name: mb.time_queries(lib, args.envs, args.repeats, device) for name, lib in sizes.items()}
    names = list(sizes)
    queries = list(next(iter(results.values())))
    width = max(len(q) for q in queries) + 2
    print(f"\nquery time per call, {args.envs} environments (ms, mean of {args.repeats}):")
    print("query".ljust(width) + "".join(n.rjust(22) for n in names))
    for q in queries:
        print(q.ljust(width) + "".join(f"{results[n][q]:22.2f}" for n in names))
    return 0


# -------------------------------------------------------------------------------------------------
SUBCOMMANDS = {"motion": (add_motion_args, run_motion, "motion library load, memory and query time")}


def build_parser():
    parser = ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (add_args, _, help_text) in SUBCOMMANDS.items():
        add_args(sub.add_parser(name, help=help_text))
    return parser


@command
def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    code = SUBCOMMANDS[args.command][1](args)
    print(f"\n({args.command} benchmark took {time.perf_counter() - start:.0f} s)")
    return code


if __name__ == "__main__":
    sys.exit(main())

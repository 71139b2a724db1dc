"""Training curves of a run, read from its TensorBoard event files and drawn as PNG files.

rsl_rl logs one value per learning iteration for every scalar: the mean reward and episode
length (``Train/``), each reward factor (``Reward/``), the share of episodes each termination
term ended (``Episode_Termination/``), the losses (``Loss/``), tracking errors (``Metrics/``)
the start-state curriculum (``Curriculum/``) and, with ``agent.eval_interval``, the
fixed-start evaluations (``Eval/``). :func:`plot_run` draws one figure per group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

EVENT_GLOB = "events.out.tfevents.*"


@dataclass(frozen=True)
class Figure:
    file: str
    title: str
    prefixes: tuple[str, ...]
    """Scalar tags starting with one of these go into the figure."""
    one_axes: bool = False
    """All curves in one axes (shares), else one small axes per curve."""


FIGURES = (
    Figure("reward.png", "Mean reward and episode length", ("Train/mean_reward", "Train/mean_episode_length")),
    Figure("reward_factors.png", "Reward factors (mean per step)", ("Reward/",)),
    Figure("terminations.png", "Share of episodes ended by each termination term", ("Episode_Termination/",), True),
    Figure("losses.png", "Losses and learning rate", ("Loss/", "Policy/")),
    Figure("tracking.png", "Tracking errors and start-state curriculum", ("Metrics/", "Curriculum/", "Episode_Reward/")),
    Figure("evaluation.png", "Fixed-start evaluation (every clip from frame 0, agent.eval_interval)", ("Eval/",)),
)
SKIPPED_SUFFIX = "/time"
"""rsl_rl also logs rewards against wall-clock time; the figures use iterations."""


def has_events(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob(EVENT_GLOB))


def find_run(path: str | Path) -> Path:
    """A run folder: ``path`` itself when it holds event files, else its newest sub-folder
    that does (an experiment folder such as ``logs/rsl_rl/intermimic_teacher``, or ``logs/rsl_rl``)."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no such run folder: {path}")
    if path.is_file():
        path = path.parent  # a checkpoint or an event file: its run
    if has_events(path):
        return path
    runs = sorted((p.parent for p in path.rglob(EVENT_GLOB)), key=lambda p: p.stat().st_mtime)
    if not runs:
        raise FileNotFoundError(f"no TensorBoard event files ({EVENT_GLOB}) in {path} or below it")
    return runs[-1]


def read_scalars(run: Path) -> dict[str, tuple[list[int], list[float]]]:
    """Every scalar of the run's event files: tag -> (iterations, values)."""
    from tensorboard.backend.event_processing.event_accumulator import SCALARS, EventAccumulator

    acc = EventAccumulator(str(run), size_guidance={SCALARS: 0})  # 0: keep every point
    acc.Reload()
    out = {}
    for tag in acc.Tags().get(SCALARS, []):
        # by iteration: a resumed run adds event files to its folder, read in file-name order
        events = sorted(acc.Scalars(tag), key=lambda e: (e.step, e.wall_time))
        out[tag] = ([e.step for e in events], [e.value for e in events])
    return out


def _tags_for(figure: Figure, tags: list[str]) -> list[str]:
    return [t for t in tags if t.startswith(figure.prefixes) and not t.endswith(SKIPPED_SUFFIX)]


def plot_run(run: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """Draw the run's curves; returns the PNG files written (to ``<run>/plots/`` by default)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Path(run)
    scalars = read_scalars(run)
    if not scalars:
        raise ValueError(f"{run}: the event files hold no scalars yet (no iteration finished?)")
    out = Path(out_dir) if out_dir else run / "plots"
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for figure in FIGURES:
        tags = _tags_for(figure, sorted(scalars))
        if not tags:
            continue
        if figure.one_axes:
            fig, ax = plt.subplots(figsize=(9, 5))
            for tag in tags:
                ax.plot(*scalars[tag], label=tag.split("/", 1)[1], marker="." if len(scalars[tag][0]) < 30 else None)
            ax.set_xlabel("iteration")
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
        else:
            cols = min(4, len(tags))
            rows = math.ceil(len(tags) / cols)
            fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.6 * rows), squeeze=False)
            for ax, tag in zip(axes.flat, tags):
                steps, values = scalars[tag]
                ax.plot(steps, values, marker="." if len(steps) < 30 else None)
                ax.set_title(tag, fontsize=9)
                ax.tick_params(labelsize=7)
                ax.grid(alpha=0.3)
            for ax in list(axes.flat)[len(tags):]:
                ax.axis("off")
            for ax in axes[-1]:
                ax.set_xlabel("iteration", fontsize=8)
        fig.suptitle(f"{figure.title} - {run.name}")
        fig.tight_layout()
        path = out / figure.file
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written

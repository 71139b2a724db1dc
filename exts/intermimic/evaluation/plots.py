"""PNG plots of an evaluation report, written next to ``evaluation.json``.

* ``clips.png``: per clip, the kept attempt's duration as a fraction of the clip (green: tracked
  to the end, red: ended by a failure, labelled with the failure).
* ``errors.png``: E_h and E_o of each clip's kept attempt over its steps.
"""

from __future__ import annotations

from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: works without a display
    import matplotlib.pyplot as plt

    return plt


def plot_clips(report: dict, path: Path) -> Path:
    plt = _pyplot()
    clips = report["clips"]
    n = max(len(clips), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * n + 2.0), 4.0), dpi=100)
    names = [c["clip"] for c in clips]
    # a successful attempt ends on the clip's last frame: steps == frames - 1
    fraction = [min(1.0, c["steps"] / max(c["frames"] - 1, 1)) for c in clips]
    colors = ["tab:green" if c["success"] else "tab:red" for c in clips]
    bars = ax.bar(range(len(clips)), fraction, color=colors)
    for bar, c in zip(bars, clips):
        if not c["success"] and c["cause"]:
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.01, c["cause"], rotation=90,
                    ha="center", va="bottom", fontsize=7)  # fmt: skip
    ax.set_xticks(range(len(clips)), names, rotation=90, fontsize=7)
    ax.set_ylim(0.0, 1.35)
    ax.set_ylabel("duration / clip length")
    s = report["summary"]
    ax.set_title(f"success {100 * s['success_rate']:.1f}% ({s['successes']}/{s['clips']}), "
                 f"mean duration {s['duration_s']:.2f} s")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_errors(report: dict, path: Path) -> Path:
    plt = _pyplot()
    fps = report.get("meta", {}).get("fps", 30.0)
    fig, axes = plt.subplots(2, 1, figsize=(8.0, 6.0), dpi=100, sharex=True)
    for c in report["clips"]:
        trace = c.get("per_step", {})
        for ax, key in zip(axes, ("E_h_cm", "E_o_cm")):
            values = trace.get(key, [])
            ax.plot([(i + 1) / fps for i in range(len(values))], values, linewidth=1.0, label=c["clip"])
    s = report["summary"]
    axes[0].set_ylabel("E_h (cm)")
    axes[0].set_title(f"key-body error, mean {s['E_h_cm']:.2f} cm")
    axes[1].set_ylabel("E_o (cm)")
    axes[1].set_title(f"object error, mean {s['E_o_cm']:.2f} cm")
    axes[1].set_xlabel("time in the clip (s)")
    if len(report["clips"]) <= 12:
        axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_report(report: dict, folder: Path) -> list[Path]:
    folder = Path(folder)
    return [plot_clips(report, folder / "clips.png"), plot_errors(report, folder / "errors.png")]

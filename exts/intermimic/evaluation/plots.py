"""PNG plots of an evaluation report, written next to ``evaluation.json``.

* ``clips.png``: per clip, the kept attempt's duration as a fraction of the clip (green: tracked
  to the end, red: ended by a failure, labelled with the failure).
* ``errors.png``: E_h, E_o and E_hand of each clip's kept attempt over its steps.
* ``hands.png``: per clip, E_hand of each hand and the finger joint error; hand-contact precision
  and recall.
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
    fig, axes = plt.subplots(3, 1, figsize=(8.0, 8.5), dpi=100, sharex=True)
    for c in report["clips"]:
        trace = c.get("per_step", {})
        for ax, key in zip(axes, ("E_h_cm", "E_o_cm", "E_hand_cm")):
            values = trace.get(key, [])
            ax.plot([(i + 1) / fps for i in range(len(values))], values, linewidth=1.0, label=c["clip"])
    s = report["summary"]
    axes[0].set_ylabel("E_h (cm)")
    axes[0].set_title(f"key-body error, mean {s['E_h_cm']:.2f} cm")
    axes[1].set_ylabel("E_o (cm)")
    axes[1].set_title(f"object error, mean {s['E_o_cm']:.2f} cm")
    axes[2].set_ylabel("E_hand (cm)")
    axes[2].set_title(f"hand error (wrists and fingers), mean {s.get('E_hand_cm', 0.0):.2f} cm")
    axes[2].set_xlabel("time in the clip (s)")
    if len(report["clips"]) <= 12:
        axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_hands(report: dict, path: Path) -> Path:
    """Per clip: E_hand of each hand and the finger joint error; hand-contact precision and recall."""
    import numpy as np

    plt = _pyplot()
    clips = report["clips"]
    n = max(len(clips), 1)
    x = np.arange(len(clips))
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 0.35 * n + 2.0), 7.0), dpi=100, sharex=True)
    axes[0].bar(x - 0.2, [c.get("e_hand_l_cm", 0.0) for c in clips], 0.4, label="left hand")
    axes[0].bar(x + 0.2, [c.get("e_hand_r_cm", 0.0) for c in clips], 0.4, label="right hand")
    axes[0].set_ylabel("E_hand (cm)")
    fingers = axes[0].twinx()
    fingers.plot(x, [c.get("finger_error_deg", 0.0) for c in clips], "k.", label="finger joints")
    fingers.set_ylabel("finger joint error (deg)")
    axes[0].legend(fontsize=7, loc="upper left")
    s = report["summary"]
    axes[0].set_title(f"hands: E_hand {s.get('E_hand_cm', 0.0):.2f} cm, fingers {s.get('finger_error_deg', 0.0):.1f} deg")
    for offset, key, label in ((-0.2, "hand_contact_precision", "precision"), (0.2, "hand_contact_recall", "recall")):
        values = [c.get(key) for c in clips]
        axes[1].bar(x + offset, [np.nan if v is None else v for v in values], 0.4, label=label)
    axes[1].set_ylim(0.0, 1.05)
    axes[1].set_ylabel("hand contact vs the clip's labels")
    axes[1].legend(fontsize=7)
    axes[1].set_xticks(x, [c["clip"] for c in clips], rotation=90, fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_report(report: dict, folder: Path) -> list[Path]:
    folder = Path(folder)
    return [plot_clips(report, folder / "clips.png"), plot_errors(report, folder / "errors.png"),
            plot_hands(report, folder / "hands.png")]  # fmt: skip

"""The printed evaluation table, generated from the report written to ``evaluation.json``.

The text is a function of the JSON content alone, so the file reproduces what was printed.
"""

from __future__ import annotations


def _percent(value) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def format_report(report: dict) -> str:
    """Per-clip table, termination causes and the summary lines of an evaluation report."""
    s = report["summary"]
    clips = report["clips"]
    width = max([len("clip")] + [len(c["clip"]) for c in clips])
    lines = [f"{'clip':<{width}}  frames  steps  success  E_h cm  E_o cm  E_hand cm  finger deg  hand contact P/R  cause"]
    for c in clips:
        contact = f"{_percent(c.get('hand_contact_precision'))}/{_percent(c.get('hand_contact_recall'))}"
        lines.append(
            f"{c['clip']:<{width}}  {c['frames']:>6}  {c['steps']:>5}  {'yes' if c['success'] else 'no':>7}  "
            f"{c['e_h_cm']:>6.2f}  {c['e_o_cm']:>6.2f}  {c.get('e_hand_cm', 0.0):>9.2f}  "
            f"{c.get('finger_error_deg', 0.0):>10.1f}  {contact:>16}  {c['cause']}"
        )
    causes = ", ".join(f"{k} {v}" for k, v in s.get("causes", {}).items()) or "none"
    lines.append(f"ended by: {causes}")
    lines.append(
        f"{s['clips']} clips | success {100 * s['success_rate']:.1f}% ({s['successes']}/{s['clips']}) | "
        f"duration {s['duration_s']:.2f} s ({s['duration_steps']:.1f} steps) | "
        f"E_h {s['E_h_cm']:.2f} cm | E_o {s['E_o_cm']:.2f} cm"
    )
    if "E_hand_cm" in s:
        precision, recall = s.get("hand_contact_precision"), s.get("hand_contact_recall")
        contact = ("no labelled hand frames" if precision is None and recall is None else
                   f"hand contact precision {_percent_1(precision)} recall {_percent_1(recall)} "
                   f"({s.get('hand_contact_labelled', 0)} labelled hand frames)")  # fmt: skip
        lines.append(f"hands | E_hand {s['E_hand_cm']:.2f} cm (L {s['E_hand_L_cm']:.2f}, R {s['E_hand_R_cm']:.2f}) | "
                     f"fingers {s['finger_error_deg']:.1f} deg | {contact}")  # fmt: skip
    return "\n".join(lines)


def _percent_1(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"

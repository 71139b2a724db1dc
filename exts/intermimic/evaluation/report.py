"""The printed evaluation table, generated from the report written to ``evaluation.json``.

The text is a function of the JSON content alone, so the file reproduces what was printed.
"""

from __future__ import annotations


def format_report(report: dict) -> str:
    """Per-clip table, termination causes and the summary line of an evaluation report."""
    s = report["summary"]
    clips = report["clips"]
    width = max([len("clip")] + [len(c["clip"]) for c in clips])
    lines = [f"{'clip':<{width}}  frames  steps  success  E_h cm  E_o cm  cause"]
    for c in clips:
        lines.append(
            f"{c['clip']:<{width}}  {c['frames']:>6}  {c['steps']:>5}  {'yes' if c['success'] else 'no':>7}  "
            f"{c['e_h_cm']:>6.2f}  {c['e_o_cm']:>6.2f}  {c['cause']}"
        )
    causes = ", ".join(f"{k} {v}" for k, v in s.get("causes", {}).items()) or "none"
    lines.append(f"ended by: {causes}")
    lines.append(
        f"{s['clips']} clips | success {100 * s['success_rate']:.1f}% ({s['successes']}/{s['clips']}) | "
        f"duration {s['duration_s']:.2f} s ({s['duration_steps']:.1f} steps) | "
        f"E_h {s['E_h_cm']:.2f} cm | E_o {s['E_o_cm']:.2f} cm"
    )
    return "\n".join(lines)

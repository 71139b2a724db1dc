"""The same physics replay on each physics backend (``./intermimic.sh benchmark backends``).

Every clip is replayed through each backend (Newton and kit-less PhysX by default), each in a
fresh process, with the joint drives aiming at the reference's next frame (position and rate,
:class:`~intermimic.evaluation.drivers.ReferenceDriver`), failures off:

* by default every step starts from the reference state, as ``replay --physics`` does: E_h and
  E_o measure the drift physics adds in one policy step;
* ``--free``: the reference state is written once, at the clip's first frame, and the drives
  alone carry humanoid and object through the clip (the PD-on-the-reference baseline of the
  learning check, without its failures): E_h and E_o measure how far a PD controller without a
  policy drifts.

Per clip and backend it reports E_h and E_o (cm, averaged over the clip's frames), and over all
(frame, contact body) pairs the share whose contact label (the contact sensor's force above the
command's threshold) is the same on both backends and the same as the clip's own label, for each
contact window (:mod:`~intermimic.tasks.mdp.contact_window`: the last physics step, the release's
window, the whole policy step; the sensor keeps every physics step of the policy step, so one
replay gives all three).

It measures the backends, not a policy; ``evaluate ... physics=...`` runs a trained policy on
another backend (a sim-to-sim check, docs/training.md).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from ..utils.arguments import int_at_least
from ..utils.atomic_write import atomic_write_text
from ..utils.errors import UserError

HELP = "the same physics replay on Newton and on PhysX: E_h/E_o per clip, contact agreement"
"""One line for ``benchmark --help``."""
DEFAULT_BACKENDS = ("newton_mjwarp", "ovphysx")


def add_args(p: argparse.ArgumentParser) -> None:
    from isaaclab.app import add_launcher_args

    from ..tasks import TEACHER_TASK

    p.add_argument("--task", default=TEACHER_TASK, help="gym task ID (default: %(default)s)")
    p.add_argument("--backends", nargs="+", default=list(DEFAULT_BACKENDS), metavar="PRESET",
                   help="physics presets to compare; the first is the reference of the contact agreement "
                        f"(default: {' '.join(DEFAULT_BACKENDS)})")  # fmt: skip
    p.add_argument("--clips", nargs="+", default=None, metavar="CLIP", help="clip names (default: all)")
    p.add_argument("--source", choices=("raw", "corrected"), default=None,
                   help="reference source to replay (default: the task's reward source)")  # fmt: skip
    p.add_argument("--num_envs", type=int_at_least(1), default=None, help="envs (default: 8 on the CPU, 64 on CUDA)")
    p.add_argument("--free", action="store_true",
                   help="write the reference state only at each clip's first frame; the drives alone follow it")  # fmt: skip
    p.add_argument("--max_steps", type=int_at_least(1), default=None,
                   help="stop each replay after this many env steps (default: every clip to its end)")  # fmt: skip
    p.add_argument("--seed", type=int, default=None, help="seed of the env")
    p.add_argument("--motion", nargs="+", default=None, metavar="PATH", help="clip files, folders or data set YAML files")
    p.add_argument("--json", default=None, metavar="FILE", help="also write every number to FILE (JSON)")
    add_launcher_args(p)
    p.set_defaults(device=None)


class _Recorder:
    """Per step and scheduled env: clip, frame, E_h, E_o, the contact bodies' sensor labels over
    each contact window and the clip's own contact labels there (1 contact, -1 no contact, 0 either)."""

    def __init__(self, cmd, contact_ids, decimation: int):
        from ..tasks.mdp.contact_window import CONTACT_WINDOWS, window_steps

        self.cmd, self.contact_ids = cmd, contact_ids
        self.windows = {w: window_steps(w, decimation) for w in CONTACT_WINDOWS}
        self.names = ("clip", "frame", "e_h", "e_o", *(f"contact_{w}" for w in self.windows), "ref_contact")
        self.rows: list[tuple[np.ndarray, ...]] = []

    def on_step(self, env) -> None:
        from ..tasks.mdp.contact_window import contact_in_window

        cmd = self.cmd
        live = cmd.scheduled & (cmd.frame < cmd.clip_length)
        e_h, e_o = cmd.tracking_errors()
        history = cmd.contact_force_history()[:, :, self.contact_ids]
        threshold = cmd.cfg.contact_force_threshold
        contacts = [contact_in_window(history, steps, threshold) for steps in self.windows.values()]
        ref_contact = cmd.reference().contact[:, self.contact_ids].to(torch.int8)
        rows = (cmd.clip_ids, cmd.frame, e_h, e_o, *contacts, ref_contact)
        self.rows.append(tuple(t[live].cpu().numpy() for t in rows))

    def arrays(self) -> dict[str, np.ndarray]:
        return {n: np.concatenate([r[i] for r in self.rows]) for i, n in enumerate(self.names)}


def _replay_in_child(args, overrides: list[str]) -> dict:
    """One backend: the replay's records (runs in a fresh process)."""
    from ..app.configure import check_data, resolve_configs
    from ..app.session import wrapped_env
    from ..evaluation.drivers import ReferenceDriver
    from ..evaluation.evaluator import evaluate_policy
    from ..evaluation.video import clip_ids_from_names
    from ..tasks.evaluation_cfg import configure_for_evaluation, disable_failures

    env_cfg, _ = resolve_configs(args, overrides)
    if args.num_envs is None:
        env_cfg.scene.num_envs = 8 if env_cfg.sim.device == "cpu" else 64
    configure_for_evaluation(env_cfg)
    disable_failures(env_cfg)
    env_cfg.commands.motion.contact_window = "policy_step"  # the sensor keeps every physics step: each window is read
    if args.source:
        env_cfg.commands.motion.reward_source = env_cfg.commands.motion.init_source = args.source
    check_data(env_cfg)
    start = time.perf_counter()
    with wrapped_env(args, env_cfg) as env:
        built = time.perf_counter() - start
        base = env.unwrapped
        cmd = base.command_manager.get_term("motion")
        lib = cmd.library
        chosen = clip_ids_from_names(lib, args.clips) or list(range(lib.num_clips))
        emb = cmd.embodiment
        recorder = _Recorder(cmd, emb.body_indices(emb.contact_body_names), env_cfg.decimation)
        driver = ReferenceDriver(env, write_state=not args.free)
        start = time.perf_counter()
        evaluate_policy(env, driver, observers=[recorder], clip_ids=chosen, max_steps=args.max_steps, progress=False)
        driver.close()
        seconds = time.perf_counter() - start
        names = [c.name for c in lib.clips]
    hands = set(sum(emb.hand_body_names.values(), ()))
    return {"records": recorder.arrays(), "clip_names": names, "contact_bodies": list(emb.contact_body_names),
            "hand_bodies": sorted(hands), "windows": recorder.windows,
            "build_s": built, "replay_s": seconds, "num_envs": env_cfg.scene.num_envs,
            "source": env_cfg.commands.motion.reward_source}  # fmt: skip


def _child(args, overrides: list[str], log_path: str) -> dict:
    """Runs in a fresh process, the simulator's output into ``log_path``."""
    import traceback

    from .measure import output_into

    output_into(log_path)
    try:
        return _replay_in_child(args, overrides)
    except Exception:
        traceback.print_exc()  # into the log; the parent names the log
        raise


def _run_in_fresh_process(args, overrides: list[str], log_path: str) -> dict:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            return pool.submit(_child, args, overrides, log_path).result()
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise RuntimeError(f"the replay failed ({type(exc).__name__}: {exc}); its output: {log_path}") from exc


def per_clip(records: dict[str, np.ndarray], names: list[str]) -> dict[str, dict]:
    """Mean E_h and E_o (m) and frames per clip."""
    out = {}
    for c in sorted(set(records["clip"].tolist())):
        rows = records["clip"] == c
        out[names[c]] = {"frames": int(rows.sum()), "e_h": float(records["e_h"][rows].mean()),
                         "e_o": float(records["e_o"][rows].mean())}  # fmt: skip
    return out


def contact_agreement(a: dict[str, np.ndarray], b: dict[str, np.ndarray], window: str) -> dict:
    """Share of (clip frame, contact body) pairs recorded by both replays whose labels over contact
    window ``window`` agree, and how many of those pairs are in contact on each backend."""
    key_a = {(int(c), int(f)): i for i, (c, f) in enumerate(zip(a["clip"], a["frame"]))}
    pairs = [(key_a[(int(c), int(f))], j) for j, (c, f) in enumerate(zip(b["clip"], b["frame"])) if (int(c), int(f)) in key_a]
    if not pairs:
        return {"pairs": 0, "agreement": float("nan"), "contacts_a": 0, "contacts_b": 0, "per_body": []}
    ia, ib = (np.array(x) for x in zip(*pairs))
    la, lb = a[f"contact_{window}"][ia], b[f"contact_{window}"][ib]
    same = la == lb
    return {"pairs": int(same.size), "agreement": float(same.mean()), "contacts_a": int(la.sum()),
            "contacts_b": int(lb.sum()), "per_body": same.mean(axis=0).tolist()}  # fmt: skip


def data_agreement(records: dict[str, np.ndarray], bodies: list[str], hand_bodies: set[str], window: str) -> dict:
    """How often a backend's sensor labels over contact window ``window`` match the clip's own
    contact labels, over the (frame, contact body) pairs where the clip says contact (1) or no
    contact (-1): all contact bodies, and the hands' (where the clip's labels are about the object)."""
    label, sensed = records["ref_contact"], records[f"contact_{window}"]
    said = label != 0
    match = (label == 1) == sensed
    hands = np.array([b in hand_bodies for b in bodies])[None, :] & said
    share = lambda m: float(match[m].mean()) if m.any() else float("nan")  # noqa: E731
    return {"pairs": int(said.sum()), "match": share(said), "hand_pairs": int(hands.sum()), "hand_match": share(hands)}


def format_table(results: dict[str, dict], agreement: dict) -> str:
    backends = list(results)
    clips = sorted({c for r in results.values() for c in r["clips"]})
    head = ["clip", "frames"] + [f"E_h {b} (cm)" for b in backends] + [f"E_o {b} (cm)" for b in backends]
    rows = []
    for clip in clips:
        first = results[backends[0]]["clips"].get(clip, {})
        cells = [clip, str(first.get("frames", "-"))]
        for key in ("e_h", "e_o"):
            for b in backends:
                value = results[b]["clips"].get(clip, {}).get(key)
                cells.append("-" if value is None else f"{100 * value:.2f}")
        rows.append(cells)
    means = ["mean", ""]
    for key in ("e_h", "e_o"):
        for b in backends:
            values = [v[key] for v in results[b]["clips"].values()]
            means.append(f"{100 * float(np.mean(values)):.2f}" if values else "-")
    rows.append(means)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]  # fmt: skip
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    windows = list(next(iter(results.values()))["windows"])
    lines.append("")
    lines.append("contact labels per contact window (physics steps of the window): against the clips' own labels, "
                 f"all contact bodies / hands; between the backends ({backends[0]} vs the others)")  # fmt: skip
    lines.append("| window | " + " | ".join(f"{b} vs clips" for b in backends) + " | "
                 + " | ".join(f"{backends[0]} vs {o}" for o in agreement) + " |")  # fmt: skip
    lines.append("|---" * (1 + len(backends) + len(agreement)) + "|")
    for w in windows:
        steps = results[backends[0]]["windows"][w]
        cells = [f"{w} ({steps})"]
        for b in backends:
            d = results[b]["data_agreement"][w]
            cells.append(f"{100 * d['match']:.1f} % / {100 * d['hand_match']:.1f} %")
        cells += [f"{100 * agreement[o][w]['agreement']:.1f} %" for o in agreement]
        lines.append("| " + " | ".join(cells) + " |")
    first = next(iter(agreement.values()))[windows[0]] if agreement else None
    if first:
        data = results[backends[0]]["data_agreement"][windows[0]]
        lines.append(f"({first['pairs']} (frame, contact body) pairs; {data['pairs']} labelled by the clips, "
                     f"{data['hand_pairs']} of them on the hands)")  # fmt: skip
    for b in backends:
        lines.append(f"{b}: scene build {results[b]['build_s']:.1f} s, replay {results[b]['replay_s']:.1f} s "
                     f"({results[b]['num_envs']} envs)")  # fmt: skip
    return "\n".join(lines)


def run(args, overrides: list[str]) -> int:
    from ..app.command_line import pick_device
    from ..app.overrides import physics_preset

    if any(t.startswith("physics=") for t in overrides):
        raise UserError("benchmark backends: choose the backends with --backends, not physics=")
    presets = [physics_preset([f"physics={name}"]) for name in args.backends]
    if len(set(presets)) < 2:
        raise UserError(f"--backends {' '.join(args.backends)}: name at least two different physics presets")
    import tempfile
    from pathlib import Path

    from ..app.configure import resolve_configs

    args.device = pick_device(args.device)
    resolve_configs(args, [*overrides, f"physics={presets[0]}"])  # mistakes in the command line: one line, now
    logs = Path(tempfile.mkdtemp(prefix="intermimic-backends-"))
    print(f"[intermimic] backends benchmark: simulator output in {logs}/", flush=True)
    results = {}
    for preset in presets:
        print(f"[intermimic] replaying on {preset} ...", flush=True)
        child = _run_in_fresh_process(args, [*overrides, f"physics={preset}"], str(logs / f"{preset}.log"))
        child["clips"] = per_clip(child["records"], child["clip_names"])
        child["data_agreement"] = {w: data_agreement(child["records"], child["contact_bodies"], set(child["hand_bodies"]), w)
                                   for w in child["windows"]}  # fmt: skip
        results[preset] = child
    reference = results[presets[0]]
    agreement = {p: {w: contact_agreement(reference["records"], results[p]["records"], w) for w in reference["windows"]}
                 for p in presets[1:]}  # fmt: skip
    for p, per_window in agreement.items():
        for agree in per_window.values():
            agree["per_body"] = dict(zip(reference["contact_bodies"], agree["per_body"]))
    mode = "drives alone from each clip's first frame (--free)" if args.free else "reference state written every step"
    print(f"physics replay, {mode}, reference source {reference['source']}, device {args.device}: E_h/E_o per "
          "clip (cm, mean over the clip's frames)", flush=True)  # fmt: skip
    print(format_table(results, agreement), flush=True)
    if args.json:
        report = {"device": args.device, "source": reference["source"], "free": args.free, "agreement": agreement,
                  "backends": {p: {k: v for k, v in r.items() if k not in ("records", "clip_names")}
                               for p, r in results.items()}}  # fmt: skip
        atomic_write_text(args.json, json.dumps(report, indent=1))
        print(f"[intermimic] numbers: {args.json}", flush=True)
    return 0

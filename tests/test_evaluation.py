"""Evaluation, retargeting and offscreen video on two real clips in the simulator.

Correctness comes from physics and data: a scripted policy that reproduces the reference (the
kinematic-replay driver) tracks every clip to its end with errors near zero, and its rollouts
written back as clips match the reference clips they reproduce; a policy that does nothing fails
every clip, and the failure and its step are re-derived here from the recorded states with
independent numpy formulas.
"""

import json

import numpy as np
import pytest
import torch

from intermimic.assets import humanoid_spec as spec

pytestmark = pytest.mark.sim

CLIPS = ("sub2_largetable_003", "sub2_woodchair_003")


@pytest.fixture(scope="module")
def env(sample_data):
    from hoi_env_helpers import build_corrected_sample_env
    from isaaclab_rl.rsl_rl import RslRlVecEnvWrapper

    from intermimic.tasks.evaluation_cfg import configure_for_evaluation

    base = build_corrected_sample_env(sample_data, CLIPS, edit=configure_for_evaluation)
    yield RslRlVecEnvWrapper(base, clip_actions=1.0)
    base.close()


@pytest.fixture(scope="module")
def reference_rollout(env, tmp_path_factory):
    """One evaluation of the kinematic-replay driver, recording states (retargeting) and a video."""
    from intermimic.evaluation.drivers import ReferenceDriver
    from intermimic.evaluation.evaluator import evaluate_policy
    from intermimic.retarget.from_rollouts import RolloutRecorder
    from intermimic.evaluation.video import RolloutVideo

    out = tmp_path_factory.mktemp("reference")
    cmd = env.unwrapped.command_manager.get_term("motion")
    recorder = RolloutRecorder(cmd)
    video = RolloutVideo(out / "clips.mp4", cmd, [0, 1], fps=30.0)
    driver = ReferenceDriver(env)
    try:
        table = evaluate_policy(env, driver, progress=False, observers=[recorder, video])
    finally:
        driver.close()
    return table, recorder, video.close(), out


def test_reproducing_the_reference_succeeds_with_errors_near_zero(reference_rollout):
    table, _, _, _ = reference_rollout
    s = table.summary(30.0)
    assert s["clips"] == 2 and s["success_rate"] == 1.0
    for r in table.rows():
        assert r.success and r.cause == "clip_end"
        assert r.steps == r.frames - 1  # frame 0 to the last frame
        # one policy step of PhysX from the reference (docs/performance.md: E_o up to 2.8 cm on the tables)
        assert r.e_h_cm < 1.5 and r.e_o_cm < 2.5, r
        assert r.e_hand_cm < 2.5 and r.finger_error_deg < 5.0, r  # the hands follow the reference too
    trace = table.traces[0]
    assert len(trace.e_h_cm) == table.results[0].steps
    assert max(trace.e_h_cm) < 5.0 and max(trace.e_o_cm) < 5.0
    assert s["causes"] == {"clip_end": 2} and s["attempt_causes"] == {"clip_end": 2}


def test_written_report_reproduces_the_printed_table_and_has_plots(reference_rollout, tmp_path):
    from intermimic.evaluation.report import format_report

    table, _, _, _ = reference_rollout
    path = table.write(tmp_path, 30.0, {"task": "test"})
    printed = format_report(table.report(30.0, {"task": "test"}))
    data = json.loads(path.read_text())
    assert format_report(data) == printed
    assert "2 clips | success 100.0% (2/2)" in printed
    csv = (tmp_path / "evaluation.csv").read_text().splitlines()
    assert csv[0].startswith("clip,") and ",cause," in csv[0] and csv[0].endswith(",hand_contact_recall") and len(csv) == 3
    for name in ("clips.png", "errors.png", "hands.png"):
        from PIL import Image

        image = np.asarray(Image.open(tmp_path / name).convert("L"))
        assert image.shape[0] > 200 and image.std() > 5, name  # drawn, not blank


def test_rollout_video_holds_every_recorded_step(reference_rollout):
    from intermimic.evaluation.video import read_video_frames

    table, _, path, _ = reference_rollout
    frames, size = read_video_frames(path)
    assert size == (640, 480)
    assert len(frames) == sum(r.steps for r in table.rows())
    first, mid = frames[0].astype(np.float32), frames[len(frames) // 2].astype(np.float32)
    assert first.std() > 10 and mid.std() > 10  # not empty
    assert np.abs(first - mid).mean() > 0.5  # the scene moves


def test_retargeted_clips_load_and_match_the_reference_they_reproduce(env, reference_rollout, sample_data):
    """The driver reproduces the corrected references; written back, its rollouts must be those
    clips (rows 1.., within the one-step tracking error), with the source's labels and row 0."""
    from intermimic.motion import clip_format as cf
    from intermimic.motion.clip_io import load_clip_file
    from intermimic.motion.config import MotionDataCfg
    from intermimic.motion.reader import read_dataset_report
    from intermimic.retarget.from_rollouts import write_retargeted

    table, recorder, _, out = reference_rollout
    cmd = env.unwrapped.command_manager.get_term("motion")
    results = write_retargeted(cmd.library, table, recorder, out / "clips", "corrected")
    assert all(r.written for r in results)
    # loads with the motion library reader as the corrected references of the raw clips
    cfg = MotionDataCfg(files=[str(sample_data / "OMOMO_new" / f"{c}.pt") for c in CLIPS],
                        corrected=[str(out / "clips")], objects_dir=str(sample_data / "objects"))  # fmt: skip
    report = read_dataset_report(cfg, progress=False)
    assert not report.rejected and len(report.clips) == 2
    for name in CLIPS:
        written = load_clip_file(out / "clips" / f"{name}.pt")
        reference = load_clip_file(sample_data / "OMOMO_retarget" / f"{name}.pt")
        raw = load_clip_file(sample_data / "OMOMO_new" / f"{name}.pt")
        assert written.shape == reference.shape
        torch.testing.assert_close(written[0], reference[0])  # placeholder row, labels of raw row 0
        for field in ("contact", "obj_manipulated"):
            torch.testing.assert_close(cf.field(written, field), cf.field(raw, field))  # kept from the source
        for field, tol in (("root_pos", 0.03), ("obj_pos", 0.03)):
            err = (cf.field(written, field)[1:] - cf.field(reference, field)[1:]).abs().max()
            assert err < tol, (name, field, float(err))
        # bodies: one PhysX step from the reference pushes a finger overlapping the object out by up
        # to ~11 cm on single frames; the mean over the bodies stays within a few centimetres
        body = (cf.field(written, "body_pos")[1:] - cf.field(reference, "body_pos")[1:]).norm(dim=-1)
        assert body.mean(dim=1).max() < 0.05 and body.max() < 0.15, (name, float(body.mean(dim=1).max()), float(body.max()))
        dq = (cf.field(written, "root_quat")[1:] * cf.field(reference, "root_quat")[1:]).sum(-1).abs()
        assert dq.min() > np.cos(0.1 / 2), name  # root rotation within ~0.1 rad


def test_existing_clips_are_kept_unless_overwrite(env, reference_rollout):
    from intermimic.retarget.from_rollouts import write_retargeted

    table, recorder, _, out = reference_rollout
    cmd = env.unwrapped.command_manager.get_term("motion")
    folder = out / "again"
    first = write_retargeted(cmd.library, table, recorder, folder, "corrected")
    stamp = (folder / f"{CLIPS[0]}.pt").stat().st_mtime_ns
    again = write_retargeted(cmd.library, table, recorder, folder, "corrected")
    assert all(r.written is None and "existing" in r.note for r in again)
    assert (folder / f"{CLIPS[0]}.pt").stat().st_mtime_ns == stamp
    forced = write_retargeted(cmd.library, table, recorder, folder, "corrected", overwrite=True)
    assert [r.written for r in forced] == [r.written for r in first]
    assert not list(folder.glob(".*partial"))


class _StateLog:
    """Observer: per env, the states the failure conditions are made of, every step."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.steps = {e: [] for e in range(cmd.num_envs)}
        self.attempts = []

    def on_step(self, env=None):
        cmd = self.cmd
        ref = cmd.reference()
        for e in range(cmd.num_envs):
            self.steps[e].append({
                "root_z": float(cmd.root_pos[e, 2]),
                "body": cmd.body_pos[e].cpu().numpy().astype(np.float64),
                "ref_body": ref.body_pos[e].cpu().numpy().astype(np.float64),
                "points": cmd.object_points_w()[e].cpu().numpy().astype(np.float64),
                "ref_points": cmd.ref_object_points_w()[e].cpu().numpy().astype(np.float64),
                "contact": cmd.body_contact()[e].cpu().numpy(),
                "labels": ref.contact[e].cpu().numpy(),
            })  # fmt: skip

    def on_attempt(self, env_id, clip_id, steps, success, kept):
        self.attempts.append((clip_id, steps, success, self.steps[env_id][-steps:]))
        self.steps[env_id] = []


def _first_failure(log) -> tuple[int, str]:
    """(step, condition) of the first failure (armed from step 2), computed with numpy."""
    key = spec.KEY_BODY_IDS
    missing = np.zeros(2, dtype=int)
    for step, s in enumerate(log, start=1):
        fired = []
        if s["root_z"] < 0.3:
            fired.append("fall")
        if np.linalg.norm(s["ref_body"][key] - s["body"][key], axis=-1).mean() > 0.5:
            fired.append("key_body_error")
        if np.linalg.norm(s["ref_points"] - s["points"], axis=-1).mean() > 0.5:
            fired.append("object_error")
        ig = s["body"][key][:, None] - s["points"][None]
        ig_ref = s["ref_body"][key][:, None] - s["ref_points"][None]
        diff = np.linalg.norm(ig - ig_ref, axis=-1)
        ratio = max((diff / np.maximum(np.linalg.norm(ig_ref, axis=-1), 0.5)).max(),
                    (diff / np.maximum(np.linalg.norm(ig, axis=-1), 0.5)).max())  # fmt: skip
        if ratio > 2.0:
            fired.append("interaction_graph")
        for k, side in enumerate("LR"):
            ids = spec.HAND_BODY_IDS[side]
            lost = (s["labels"][ids] > 0).any() and not s["contact"][ids].any()
            missing[k] = missing[k] + 1 if lost else 0
        if (missing > 10).any():
            fired.append("hand_contact")
        if fired and step >= 2:
            return step, fired
    return len(log), []


def test_doing_nothing_fails_each_clip_with_its_cause_and_duration(env):
    from intermimic.evaluation.drivers import zero_actions
    from intermimic.evaluation.evaluator import evaluate_policy

    cmd = env.unwrapped.command_manager.get_term("motion")
    log = _StateLog(cmd)
    table = evaluate_policy(env, zero_actions(env), progress=False, observers=[log])
    assert table.summary(30.0)["success_rate"] == 0.0
    assert len(log.attempts) == 2
    for clip_id, steps, success, states in log.attempts:
        result = table.results[clip_id]
        assert not success and not result.success
        assert result.steps == steps < result.frames - 1
        step, fired = _first_failure(states)
        assert step == result.steps, (result.clip, step, fired, result.steps, result.cause)
        assert result.cause in fired, (result.clip, fired, result.cause)
    assert sum(table.summary(30.0)["causes"].values()) == 2

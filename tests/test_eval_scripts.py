"""The command-line scripts around trained policies, end to end on the built-in demo clips:
play --export / --video, evaluate's grid video and contact sheets, replay (kinematic with a
video, and through physics), retarget."""

import json

import numpy as np
import pytest


pytestmark = pytest.mark.sim
SHORT_CLIP = "sub0_demobox_000_stand_squat_stand"  # 121 frames


def _run(script, *args, cwd, timeout=900):
    from hoi_env_helpers import run_script

    return run_script(script, "--device", "cpu", *args, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A checkpoint of one short PPO iteration (its policy is essentially untrained)."""
    logs = tmp_path_factory.mktemp("logs")
    _run("train.py", "--num_envs", "2", "--max_iterations", "1", "--log_root", str(logs),
         "agent.num_steps_per_env=4", "agent.eval_interval=1", cwd=logs)  # fmt: skip
    return next((logs / "rsl_rl" / "intermimic_teacher").iterdir())


def test_fixed_start_evaluation_in_training_equals_evaluate(run_dir, tmp_path):
    """The evaluation the run made after its iteration 0 (agent.eval_interval=1) gives the
    per-clip numbers of ``evaluate`` on that iteration's checkpoint with the same env count: the
    same clips ended the same way. PhysX (the default) carries its contact solver's warm start
    across resets, so after the training steps an attempt may last one step more or less than in a
    fresh process (on Newton, whose step depends only on the state written, the two were equal to
    1e-4)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    during = json.loads((run_dir / "fixed_start_eval" / "iteration_0" / "evaluation.json").read_text())
    _run("evaluate.py", "--checkpoint", str(run_dir / "model_0.pt"), "--num_envs", "2", "--out", str(tmp_path),
         cwd=tmp_path)  # fmt: skip
    after = json.loads((tmp_path / "evaluation.json").read_text())
    assert [c["clip"] for c in during["clips"]] == [c["clip"] for c in after["clips"]] and len(after["clips"]) >= 2
    for a, b in zip(during["clips"], after["clips"]):
        assert (a["success"], a["cause"]) == (b["success"], b["cause"]) and abs(a["steps"] - b["steps"]) <= 1, a["clip"]
        assert a["e_h_cm"] == pytest.approx(b["e_h_cm"], rel=0.1) and a["e_o_cm"] == pytest.approx(b["e_o_cm"], rel=0.1, abs=0.5)
    events = EventAccumulator(str(run_dir))
    events.Reload()
    scalars = events.Tags()["scalars"]
    logged = events.Scalars("Eval/E_h_cm")
    assert [e.step for e in logged] == [0] and logged[0].value == pytest.approx(during["summary"]["E_h_cm"], rel=1e-5)
    assert events.Scalars("Eval/success_rate")[0].value == pytest.approx(during["summary"]["success_rate"])
    assert events.Scalars("Eval/E_hand_cm")[0].value == pytest.approx(during["summary"]["E_hand_cm"], rel=1e-5)
    # the gradient norm is logged every iteration (no max_grad_norm by default)
    assert "Loss/grad_norm/actor" in scalars and events.Scalars("Loss/grad_norm/actor")[0].value > 0


def test_play_exports_policy_files_with_the_env_metadata(run_dir):
    import onnxruntime as ort
    import torch

    from intermimic.assets.humanoid_spec import JOINT_NAMES
    from intermimic.learning.export import read_onnx_metadata, read_torchscript_metadata

    out = _run("play.py", "--checkpoint", str(run_dir), "--num_envs", "1", "--export", cwd=run_dir)
    folder = run_dir / "exported"
    assert "policy.onnx" in out
    meta = json.loads((folder / "policy.json").read_text())
    assert read_onnx_metadata(folder / "policy.onnx") == meta == read_torchscript_metadata(folder / "policy.pt")
    assert meta["observation_dim"] == sum(b["size"] for b in meta["observation_layout"]) == 3198
    assert meta["action_dim"] == len(meta["action_offset"]) == len(meta["action_scale"]) == 153
    assert meta["joint_names"] == list(JOINT_NAMES) and meta["policy_hz"] == pytest.approx(30.0)
    assert meta["future_offsets"] == [1, 16] and meta["task"] == "InterMimic-Teacher-Play-v0"
    x = np.random.default_rng(0).normal(size=(3, 3198)).astype(np.float32)
    (onnx_out,) = ort.InferenceSession(str(folder / "policy.onnx")).run(["actions"], {"obs": x})
    jit_out = torch.jit.load(str(folder / "policy.pt"))(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(onnx_out, jit_out, atol=1e-5, rtol=1e-4)


def test_play_renders_a_chosen_clip_to_mp4(run_dir, tmp_path):
    from intermimic.evaluation.video import read_video_frames

    out = _run("play.py", "--checkpoint", str(run_dir), "--num_envs", "1", "--video", str(tmp_path / "play.mp4"),
               "--video_clips", SHORT_CLIP, "--max_steps", "200", cwd=tmp_path)  # fmt: skip
    assert "video:" in out
    frames, size = read_video_frames(tmp_path / "play.mp4")
    assert size == (640, 480) and len(frames) >= 2
    assert frames[-1].astype(np.float32).std() > 10


def test_retarget_writes_each_clip_by_its_outcome(run_dir, tmp_path):
    from intermimic.motion.clip_io import load_clip_file

    out_dir = tmp_path / "retargeted"
    _run("retarget.py", "--checkpoint", str(run_dir), "--num_envs", "1", "--out", str(out_dir), "--all",
         "dataset.subjects=[0]", cwd=tmp_path)  # fmt: skip
    summary = json.loads((out_dir / "retarget.json").read_text())
    assert len(summary["clips"]) == 3 and all(c["clip"].startswith("sub0_") for c in summary["clips"])
    for c in summary["clips"]:
        path = out_dir / ("" if c["success"] else "failed") / f"{c['clip']}.pt"
        assert c["written"] == str(path) and path.is_file()
        clip = load_clip_file(path)
        # rows 0..steps (frame 0 is the start state); row 0 is the zero-pose placeholder
        assert clip.shape == (min(c["frames"], c["steps"] + 1), 591)
        assert clip[0, :330].abs().max() == 0 and clip[1:, 3:7].norm(dim=-1).sub(1).abs().max() < 1e-3


def test_kinematic_replay_video_has_one_frame_per_clip_frame(tmp_path):
    from intermimic.evaluation.video import read_video_frames

    out = _run("replay.py", "--num_envs", "1", "--clips", SHORT_CLIP, "--video", str(tmp_path / "replay.mp4"),
               cwd=tmp_path)  # fmt: skip
    assert "replayed 1 clips" in out
    frames, _ = read_video_frames(tmp_path / "replay.mp4")
    assert len(frames) == 121


def test_physics_replay_reports_the_drift_per_clip(tmp_path):
    out = _run("replay.py", "--num_envs", "1", "--clips", SHORT_CLIP, "--physics", "--out", str(tmp_path), cwd=tmp_path)
    report = json.loads((tmp_path / "replay.json").read_text())
    (clip,) = report["clips"]
    assert clip["clip"] == SHORT_CLIP and clip["steps"] == clip["frames"] - 1  # failures are off
    # the demo clip is made on the simulated body: one policy step of PD tracking stays close
    assert clip["e_h_cm"] < 3.0 and clip["e_o_cm"] < 3.0, clip
    assert SHORT_CLIP in out and (tmp_path / "clips.png").is_file()


def test_evaluate_writes_a_grid_video_and_a_contact_sheet_per_clip(run_dir, tmp_path):
    from PIL import Image

    from intermimic.evaluation.video import read_video_frames
    from picture_helpers import shows_badge

    out = tmp_path / "eval"
    printed = _run("evaluate.py", "--checkpoint", str(run_dir), "--num_envs", "2", "--out", str(out),
                   "--video", str(tmp_path / "grid.mp4"), "--video_grid", "2", "--video_size", "320x240", cwd=tmp_path)  # fmt: skip
    clips = json.loads((out / "evaluation.json").read_text())["clips"]
    assert "grid video (2 clips)" in printed and f"contact sheets ({len(clips)} clips)" in printed
    frames, size = read_video_frames(tmp_path / "grid.mp4")
    assert size == (640, 240)  # two 320x240 tiles side by side
    assert len(frames) == max(c["steps"] for c in clips[:2])  # the first two clips' kept attempts
    for k, clip in enumerate(clips[:2]):
        assert shows_badge(frames[-1][:, 320 * k : 320 * (k + 1)], clip["success"]), clip["clip"]
    for clip in clips:
        sheet = np.asarray(Image.open(out / "contact_sheets" / f"{clip['clip']}.png").convert("RGB"))
        assert sheet.shape == (240, 960, 3)  # first, middle and last frame
        assert all(shows_badge(sheet[:, 320 * k : 320 * (k + 1)], clip["success"]) for k in range(3)), clip["clip"]


def test_evaluate_refuses_a_grid_larger_than_the_clips_before_building_anything(run_dir, tmp_path):
    import subprocess
    import sys

    from conftest import REPO_ROOT

    proc = subprocess.run([sys.executable, str(REPO_ROOT / "source" / "evaluate.py"), "--device", "cpu", "--checkpoint",
                           str(run_dir), "--video", str(tmp_path / "g.mp4"), "--video_grid", "7"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == (
        "[intermimic] error: --video_grid 7: expected K from 1 to 6 (the clips evaluated)")
    assert "Traceback" not in proc.stderr and list(tmp_path.iterdir()) == []

"""The commands a user runs, on kit-less PhysX (``physics=ovphysx``), CPU: a teacher trains two
PPO iterations, ``evaluate`` runs it on PhysX and ``play`` on Newton (a sim-to-sim check), and a
clip replays into a video under PhysX."""

import json

import pytest
import torch

pytestmark = pytest.mark.sim
SHORT_CLIP = "sub0_demobox_000_stand_squat_stand"  # 121 frames


def _run(script, *args, cwd, timeout=900):
    from hoi_env_helpers import run_script

    return run_script(script, "--device", "cpu", *args, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def physx_run(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    out = _run("train.py", "physics=ovphysx", "--num_envs", "4", "--max_iterations", "2", "--log_root", str(logs),
               "agent.num_steps_per_env=8", "agent.save_interval=1", cwd=logs)  # fmt: skip
    assert "PhysX kit-less (ovphysx)" in out, out[-3000:]
    (run,) = (logs / "rsl_rl" / "intermimic_teacher").iterdir()
    return run


def test_teacher_trains_two_iterations_on_physx(physx_run):
    last = torch.load(physx_run / "model_1.pt", map_location="cpu", weights_only=False)
    first = torch.load(physx_run / "model_0.pt", map_location="cpu", weights_only=False)
    assert last["iter"] == 1 and all(torch.isfinite(t).all() for t in last["actor_state_dict"].values())
    assert any(not torch.equal(v, first["actor_state_dict"][k]) for k, v in last["actor_state_dict"].items())


def test_evaluate_on_physx_and_play_on_newton_load_it(physx_run, tmp_path):
    """``evaluate`` runs the PhysX-trained policy over every clip on PhysX; ``play`` runs it on
    Newton (the sim-to-sim direction that needs no retraining)."""
    out = _run("evaluate.py", "physics=ovphysx", "--num_envs", "2", "--checkpoint", str(physx_run),
               "--out", str(tmp_path / "eval"), cwd=tmp_path)  # fmt: skip
    assert "PhysX kit-less (ovphysx)" in out
    report = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert report["summary"]["clips"] == len(report["clips"]) > 0
    out = _run("play.py", "--task", "InterMimic-Teacher-Play-v0", "physics=newton", "--num_envs", "2",
               "--checkpoint", str(physx_run), "--max_steps", "5", cwd=tmp_path)  # fmt: skip
    assert "model_1.pt" in out and "played 5 steps" in out and "Newton MuJoCo-Warp (newton_mjwarp)" in out


def test_a_clip_replays_into_a_video_under_physx(tmp_path):
    video = tmp_path / "replay.mp4"
    out = _run("replay.py", "physics=ovphysx", "--num_envs", "1", "--clips", SHORT_CLIP, "--video", str(video),
               cwd=tmp_path)  # fmt: skip
    assert "PhysX kit-less (ovphysx)" in out and video.is_file() and video.stat().st_size > 10_000

"""End to end on the CPU: PPO trains 2 iterations, writes checkpoints that load back and play."""

import subprocess
import sys

import pytest
import torch

from conftest import REPO_ROOT

pytestmark = pytest.mark.sim


def _run(args, cwd, timeout=900):
    proc = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    out = _run(
        [str(REPO_ROOT / "source" / "train.py"), "--task", "InterMimic-Teacher-v0", "--device", "cpu",
         "--num_envs", "4", "--max_iterations", "2", "--seed", "3", "--log_root", str(logs),
         "agent.num_steps_per_env=8", "agent.save_interval=1"],
        cwd=logs,
    )  # fmt: skip
    runs = list((logs / "rsl_rl" / "intermimic_teacher").iterdir())
    assert len(runs) == 1, out
    return runs[0]


def test_checkpoints_and_logs_written(trained_run):
    assert (trained_run / "model_0.pt").is_file() and (trained_run / "model_1.pt").is_file()
    assert list(trained_run.glob("events.out.tfevents.*")), "no TensorBoard event file"
    assert (trained_run / "params" / "env.yaml").is_file() and (trained_run / "params" / "agent.yaml").is_file()


def test_checkpoint_content_is_finite_and_trained(trained_run):
    first = torch.load(trained_run / "model_0.pt", map_location="cpu", weights_only=False)
    last = torch.load(trained_run / "model_1.pt", map_location="cpu", weights_only=False)
    assert last["iter"] == 1
    for name, tensor in last["actor_state_dict"].items():
        assert torch.isfinite(tensor).all(), name
    changed = [k for k, v in last["actor_state_dict"].items() if not torch.equal(v, first["actor_state_dict"][k])]
    assert changed, "the second iteration did not update the actor"


def test_checkpoint_loads_back_and_plays(trained_run, tmp_path):
    out = _run(
        [str(REPO_ROOT / "source" / "play.py"), "--task", "InterMimic-Teacher-Play-v0", "--device", "cpu",
         "--num_envs", "2", "--checkpoint", str(trained_run), "--max_steps", "5"],
        cwd=tmp_path,
    )  # fmt: skip
    assert "model_1.pt" in out and "played 5 steps" in out


def test_ppo_on_real_clips_runs_with_finite_rewards_and_reloads(sample_data, tmp_path):
    """Teacher PPO on two real clips with their two objects: 2 iterations, finite losses and
    rewards in the log, a checkpoint that evaluates."""
    logs = tmp_path / "logs"
    clips = [str(sample_data / "OMOMO_new" / f"sub2_{c}.pt") for c in ("largetable_003", "woodchair_003")]
    out = _run(
        [str(REPO_ROOT / "source" / "train.py"), "--device", "cpu", "--num_envs", "2", "--max_iterations", "2",
         "--log_root", str(logs), "--motion", *clips, f"dataset.objects_dir={sample_data / 'objects'}",
         "agent.num_steps_per_env=8"],
        cwd=tmp_path,
    )  # fmt: skip
    assert "objects ['largetable', 'woodchair']" in out
    for key in ("Mean value loss", "Mean surrogate loss", "Reward/r_h", "Reward/r_ig"):
        values = [float(line.split(":")[-1]) for line in out.splitlines() if line.strip().startswith(key + ":")]
        assert values and all(v == v and abs(v) < 1e6 for v in values), key  # present, finite
    run = next((logs / "rsl_rl" / "intermimic_teacher").iterdir())
    report = _run(
        [str(REPO_ROOT / "source" / "evaluate.py"), "--device", "cpu", "--num_envs", "2", "--checkpoint", str(run),
         "--motion", *clips, f"dataset.objects_dir={sample_data / 'objects'}", "--out", str(tmp_path / "eval")],
        cwd=tmp_path,
    )  # fmt: skip
    assert "2 clips | success" in report
    import json

    data = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert len(data["clips"]) == 2 and all(c["steps"] > 0 for c in data["clips"])
    assert 0.0 <= data["summary"]["success_rate"] <= 1.0

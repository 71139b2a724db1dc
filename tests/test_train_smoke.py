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

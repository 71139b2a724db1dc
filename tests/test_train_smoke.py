"""End to end on the CPU: PPO trains 2 iterations, writes checkpoints that load back and play."""

import subprocess
import sys

from pathlib import Path

import pytest
import torch

from conftest import REPO_ROOT

pytestmark = pytest.mark.sim


def _run(args, cwd, timeout=900):
    """``args``: the script's path, then its arguments."""
    from hoi_env_helpers import run_script

    return run_script(Path(args[0]).name, *args[1:], cwd=cwd, timeout=timeout)


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


def test_play_prints_each_episode_and_stops_cleanly_on_ctrl_c(trained_run, tmp_path):
    """Without --max_steps play runs until Ctrl-C, printing one line per finished episode."""
    import re
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "source" / "play.py"), "--device", "cpu", "--num_envs", "2",
         "--checkpoint", str(trained_run)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # the default disposition of SIGINT, whatever this test was started with (a job started in
        # the background inherits it ignored, and Python then never raises KeyboardInterrupt)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    lines, deadline = [], time.time() + 900
    try:
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "episode 1:" in line:
                proc.send_signal(signal.SIGINT)
                break
        out = "".join(lines) + proc.communicate(timeout=300)[0]
    finally:
        proc.kill()
    assert proc.returncode == 0, out[-3000:]
    assert "Traceback" not in out and "stopped (Ctrl-C)" in out
    episode = re.search(r"episode 1: env \d \| clip (\S+) \| (\d+) steps \([\d.]+ s\) \| E_h ([\d.]+) cm \| "
                        r"E_o ([\d.]+) cm \| ended by (\S+)", out)  # fmt: skip
    assert episode, out[-3000:]
    from intermimic.motion.demo import demo_clips

    assert episode[1] in {c.info.name for c in demo_clips()}
    assert int(episode[2]) > 0 and float(episode[3]) >= 0 and float(episode[4]) >= 0


def test_export_writes_a_self_contained_onnx_that_matches_torchscript(trained_run, tmp_path):
    import onnxruntime

    out = _run([str(REPO_ROOT / "source" / "play.py"), "--device", "cpu", "--num_envs", "1",
                "--checkpoint", str(trained_run), "--export"], cwd=tmp_path)  # fmt: skip
    exported = trained_run / "exported"
    assert sorted(p.name for p in exported.iterdir()) == ["policy.json", "policy.onnx", "policy.pt"]
    assert str(exported / "policy.onnx") in out and str(exported / "policy.pt") in out
    obs = torch.randn(1, 3198)
    (onnx_actions,) = onnxruntime.InferenceSession(str(exported / "policy.onnx")).run(None, {"obs": obs.numpy()})
    jit_actions = torch.jit.load(str(exported / "policy.pt"))(obs)
    assert torch.allclose(torch.from_numpy(onnx_actions), jit_actions, atol=1e-4)


def test_checkpoint_of_another_observation_layout_is_refused_in_one_line(trained_run, tmp_path):
    """The run's policy sees 3198 numbers; without the interaction-field term the task has fewer."""
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "source" / "play.py"), "--device", "cpu", "--num_envs", "1",
         "--checkpoint", str(trained_run), "--max_steps", "1", "env.observations.policy.interaction_field=null"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("[intermimic] error: ")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert str(trained_run) in errors[0] and "does not fit" in errors[0]
    assert "size mismatch" in errors[0]


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

"""The commands a user runs, on Newton (``physics=newton_mjwarp``, the preset beside the default
PhysX), CPU: a teacher trains two PPO iterations on Newton; ``evaluate`` and ``--resume`` of that
run stay on Newton, the physics the run recorded, without ``physics=``; ``play`` runs it on PhysX
when the command line names PhysX (a sim-to-sim check). Videos do not depend on the physics (they
draw the simulated states with MuJoCo's renderer) and are tested on the default."""

import json

import pytest
import torch

pytestmark = pytest.mark.sim
NEWTON = "Newton MuJoCo-Warp (newton_mjwarp)"
PHYSX = "PhysX kit-less (ovphysx)"


def _run(script, *args, cwd, timeout=900):
    from hoi_env_helpers import run_script

    return run_script(script, "--device", "cpu", *args, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def newton_run(tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    out = _run("train.py", "physics=newton_mjwarp", "--num_envs", "2", "--max_iterations", "2", "--log_root", str(logs),
               "agent.num_steps_per_env=8", "agent.save_interval=1", cwd=logs)  # fmt: skip
    assert NEWTON in out, out[-3000:]
    (run,) = (logs / "rsl_rl" / "intermimic_teacher").iterdir()
    return run


def test_teacher_trains_two_iterations_on_newton(newton_run):
    last = torch.load(newton_run / "model_1.pt", map_location="cpu", weights_only=False)
    first = torch.load(newton_run / "model_0.pt", map_location="cpu", weights_only=False)
    assert last["iter"] == 1 and all(torch.isfinite(t).all() for t in last["actor_state_dict"].values())
    assert any(not torch.equal(v, first["actor_state_dict"][k]) for k, v in last["actor_state_dict"].items())


def test_evaluate_keeps_the_runs_physics_and_play_runs_on_physx_when_named(newton_run, tmp_path):
    """``evaluate`` without ``physics=`` runs the Newton-trained policy on Newton (the run's
    record), saying so; ``play physics=ovphysx`` runs it on PhysX."""
    out = _run("evaluate.py", "--num_envs", "2", "--checkpoint", str(newton_run), "--out", str(tmp_path / "eval"),
               cwd=tmp_path)  # fmt: skip
    assert NEWTON in out and "physics=newton_mjwarp" in out, out[-3000:]
    report = json.loads((tmp_path / "eval" / "evaluation.json").read_text())
    assert report["summary"]["clips"] == len(report["clips"]) > 0
    out = _run("play.py", "--task", "InterMimic-Teacher-Play-v0", "physics=ovphysx", "--num_envs", "2",
               "--checkpoint", str(newton_run), "--max_steps", "5", cwd=tmp_path)  # fmt: skip
    assert "model_1.pt" in out and "played 5 steps" in out and PHYSX in out


def test_resume_keeps_the_runs_physics(newton_run, tmp_path):
    out = _run("train.py", "--num_envs", "2", "--max_iterations", "1", "--resume", str(newton_run),
               "agent.num_steps_per_env=8", cwd=tmp_path)  # fmt: skip
    assert NEWTON in out and "physics=newton_mjwarp, as the resumed run recorded" in out, out[-3000:]
    assert (newton_run / "model_2.pt").is_file()

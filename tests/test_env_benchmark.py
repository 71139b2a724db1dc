"""The env benchmark: the step profiler (no simulator) and a CI-sized run of the command."""

import json
import math
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from conftest import REPO_ROOT
from intermimic.tasks.step_profiler import SECTIONS, StepProfiler


class _Manager:
    def __init__(self, seconds: float, inner=None):
        self.seconds, self.inner = seconds, inner

    def compute(self, *args, **kwargs):
        time.sleep(self.seconds)
        if self.inner is not None:
            self.inner()


def _fake_env():
    """An env whose step spends 20 ms in physics, 10 ms in rewards and 30 ms in the reset, of
    which 15 ms are the reset event (nested), plus 5 ms of its own."""
    env = SimpleNamespace(device="cpu")
    env.sim = SimpleNamespace(step=lambda render=False: time.sleep(0.02))
    env.reward_manager = SimpleNamespace(compute=_Manager(0.01).compute)
    env.event_manager = SimpleNamespace(apply=lambda **kw: time.sleep(0.015))
    env._reset_idx = lambda ids: (time.sleep(0.015), env.event_manager.apply(mode="reset"))

    def step(action):
        env.sim.step()
        env.reward_manager.compute()
        env._reset_idx([0])
        time.sleep(0.005)

    env.step = step
    return env


@pytest.mark.unit
def test_step_profiler_charges_nested_calls_to_their_own_section():
    env = _fake_env()
    with StepProfiler(env, sync=False) as prof:
        for _ in range(4):
            env.step(None)
        ms = prof.per_step_ms()
    assert prof.steps == 4
    expected = {"physics": 20, "rewards": 10, "events": 15, "reset": 15, "other": 5}
    for name, value in expected.items():
        assert value <= ms[name] < value + 8, (name, ms)
    assert ms["observations"] == 0.0
    parts = sum(ms[s] for s in SECTIONS) + ms["other"]
    assert parts == pytest.approx(ms["total"], rel=0.02)


@pytest.mark.unit
def test_step_profiler_removes_its_wrappers():
    env = _fake_env()
    original = env.reward_manager.compute
    prof = StepProfiler(env, sync=False)
    assert env.reward_manager.compute is not original
    prof.close()
    assert env.reward_manager.compute is original


@pytest.mark.sim
def test_benchmark_env_smoke(tmp_path):
    """``benchmark env --num_envs 4 --steps 5`` prints the table and writes valid JSON."""
    out_json = tmp_path / "bench.json"
    cmd = [sys.executable, str(REPO_ROOT / "source" / "benchmark.py"), "env", "--device", "cpu",
           "--num_envs", "4", "--steps", "5", "--warmup", "1", "--json", str(out_json)]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    for row in ("env-steps/s", "env / physics-only", "  observations", "PPO update (ms)", "scene build (s)"):
        assert row in proc.stdout, row
    data = json.loads(out_json.read_text())
    assert data["meta"]["device"] == "cpu" and data["meta"]["steps"] == 5
    (r,) = data["results"]
    assert r["num_envs"] == 4 and "error" not in r
    for key in ("env_steps_per_s", "env_step_ms", "physics_only_ms", "env_vs_physics_ratio", "ppo_update_ms",
                "peak_rss_mb", "build_s"):  # fmt: skip
        assert math.isfinite(r[key]) and r[key] > 0, key
    assert r["env_steps_per_s"] == pytest.approx(4e3 / r["env_step_ms"], rel=1e-6)
    sections = r["sections_ms"]
    assert sections["physics"] > 0 and sections["observations"] > 0 and sections["rewards"] > 0
    parts = sum(sections[s] for s in SECTIONS) + sections["other"]
    assert parts == pytest.approx(sections["total"], rel=0.05)
    assert r["gpu_peak_allocated_mb"] is None  # no CUDA in a CPU run

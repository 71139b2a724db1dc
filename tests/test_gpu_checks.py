"""The first-GPU checks command and the memory table: their arithmetic and reports (no simulator),
and the whole command at toy size on the CPU (as on a machine without a GPU)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

from intermimic.benchmarks import gpu_checks, memory

SHAPES = {
    "num_steps_per_env": 32, "num_mini_batches": 8, "observation_bytes_per_env": 3198 * 4,
    "storage_bytes_per_env_step": 14000.0, "library_bytes_per_frame": 4500.0, "start_frame_bytes_per_frame": 20.0,
    "psi_bytes_per_frame": 2700.0, "recorder_bytes_per_env": 400000.0, "parameters": 9_800_000,
    "teacher_parameters": 0, "saved_bytes_per_sample": 270_000.0,
}  # fmt: skip


@pytest.mark.unit
def test_memory_components_scale_with_envs_and_data_as_their_shapes_say():
    small = memory.component_bytes(SHAPES, 4096, 1.0, 15, 30.0)
    large = memory.component_bytes(SHAPES, 8192, 2.0, 15, 30.0)
    for per_env in ("episode recorder (PSI)", "observation buffers", "rollout storage", "mini-batch autograd (transient)"):
        assert large[per_env] == pytest.approx(2 * small[per_env])
    for per_frame in ("motion library", "PSI buffer", "start-frame statistics"):
        assert large[per_frame] == pytest.approx(2 * small[per_frame])
    assert small["rollout storage"] == pytest.approx(14000.0 * 32 * 4096)
    assert small["mini-batch autograd (transient)"] == pytest.approx(270_000.0 * 32 * 4096 / 8)
    assert small["networks, gradients, Adam"] == pytest.approx(9_800_000 * 4 * 4)
    assert small["teacher bank"] == 0.0  # a teacher has none
    table = memory.format_table([("teacher 4096", small), ("teacher 8192", large)])
    assert "total (without physics)" in table and "fits 24 GB" in table


@pytest.mark.unit
def test_gpu_sizes_train_past_the_episode_length_and_the_report_has_a_row_per_check():
    full = gpu_checks.sizes_for("cuda:0")
    assert full.train_envs == 4096 and 8192 in full.bench_envs and full.teacher_iterations * 32 >= 300
    assert set(full.timeouts) == set(gpu_checks.CHECKS) and sum(full.timeouts.values()) <= 15 * 60
    results = [gpu_checks.CheckResult(c, "passed", 1.0, {"n": 2}) for c in gpu_checks.CHECKS]
    table = gpu_checks.markdown_table(results, {"device": "cpu", "machine": "m", "date": "d", "commit": "c"})
    assert [line.split("|")[1].strip() for line in table.splitlines()[4:]] == list(gpu_checks.CHECKS)


@pytest.mark.sim
def test_the_first_gpu_checks_run_at_toy_size_on_the_cpu(tmp_path):
    out = tmp_path / "checks"
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "source" / "benchmark.py"), "gpu", "--device", "cpu",
                           "--out", str(out)], capture_output=True, text=True, timeout=3600, cwd=tmp_path)  # fmt: skip
    report = json.loads((out / "gpu_checks.json").read_text())
    statuses = {c["check"]: c["status"] for c in report["checks"]}
    assert list(statuses) == list(gpu_checks.CHECKS)
    assert all(s == "passed" for s in statuses.values()), (statuses, proc.stdout[-3000:])
    assert proc.returncode == 0
    syncs = next(c for c in report["checks"] if c["check"] == "syncs")["details"]
    assert syncs["steady_package"] == 0 and syncs["reset_package"] <= 10
    assert (out / "gpu_checks.md").read_text().count("| passed |") == len(gpu_checks.CHECKS)
    assert (out / "evaluate.mp4").stat().st_size > 0

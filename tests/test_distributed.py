"""Training on several ranks (torch.distributed, gloo on the CPU).

Unit part: the reductions of the algorithm, two spawned ranks against one process that holds
both ranks' data. Simulator part: ``train.py --distributed`` under torchrun, two CPU ranks of the
teacher and of the student."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from distributed_helpers import (
    FixedSplitStorage, MINI_BATCHES, rank_worker, shared_data, split_rows, tiny_ppo, update_result,
)  # fmt: skip

REPO_ROOT = Path(__file__).resolve().parents[1]
N_PER_RANK = 32


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    import torch.multiprocessing as mp

    out = tmp_path_factory.mktemp("ranks")
    mp.spawn(rank_worker, args=(2, _free_port(), str(out), N_PER_RANK), nprocs=2, join=True)
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


def _single_process_update() -> dict:
    """One process with both ranks' samples; mini-batch k = rank 0's k-th and rank 1's k-th."""
    data = shared_data(2 * N_PER_RANK)
    halves = [split_rows(N_PER_RANK, r) for r in range(2)]
    batches = [torch.cat([halves[0][k], halves[1][k] + N_PER_RANK]) for k in range(MINI_BATCHES)]
    alg = tiny_ppo(None)
    alg.storage = FixedSplitStorage(data, batches)
    alg.update()
    return update_result(alg)


@pytest.mark.unit
def test_ranks_stay_bit_identical_after_an_update(two_ranks):
    for part in ("actor", "critic"):
        for key, value in two_ranks[0][part].items():
            assert torch.equal(value, two_ranks[1][part][key]), f"{part}.{key} differs between the ranks"


@pytest.mark.unit
def test_two_ranks_update_as_one_process_with_all_samples(two_ranks):
    """Gradients averaged over 2 ranks x B samples = the gradient of one process over the same
    2B samples with the same mini-batch split; the normaliser statistics cover both ranks."""
    single = _single_process_update()
    start = tiny_ppo(None)
    moved = 0.0
    for part in ("actor", "critic"):
        for key, value in single[part].items():
            torch.testing.assert_close(two_ranks[0][part][key], value, atol=2e-6, rtol=1e-5, msg=f"{part}.{key}")
            moved = max(moved, float((value - getattr(start, part).state_dict()[key]).abs().max()))
    assert moved > 1e-4  # the update did change the parameters
    assert int(two_ranks[0]["actor"]["obs_normalizer.normalizer.count"]) == 2 * N_PER_RANK


@pytest.mark.unit
def test_explained_variance_and_advantages_are_of_all_ranks(two_ranks):
    from intermimic.learning.distillation import explained_variance

    data = shared_data(2 * N_PER_RANK)
    expected = explained_variance(data["returns"], data["advantages"])
    for rank in two_ranks:  # every rank sees the job's value, so the schedule decides alike
        assert float(rank["explained_variance"]) == pytest.approx(float(expected), abs=1e-6)
    adv = data["advantages"]
    normalised = (adv - adv.mean()) / (adv.std() + 1e-8)
    torch.testing.assert_close(torch.cat([r["advantages"] for r in two_ranks]), normalised, atol=1e-6, rtol=1e-5)


@pytest.mark.unit
def test_a_non_finite_loss_on_one_rank_skips_the_step_on_all(two_ranks):
    assert [bool(r["step_taken"]) for r in two_ranks] == [False, False]


@pytest.mark.unit
def test_distributed_without_torchrun_is_one_clear_error():
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "source" / "train.py"), "--distributed", "--device", "cpu"],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    errors = [ln for ln in proc.stderr.splitlines() if "[intermimic] error:" in ln]
    assert len(errors) == 1 and "torchrun" in errors[0] and "Traceback" not in proc.stderr


# -------------------------------------------------------------------------------------------------
# Two CPU ranks of train.py under torchrun
# -------------------------------------------------------------------------------------------------
def _torchrun(args: list[str], log_root: Path, timeout: int = 1500) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(REPO_ROOT / "source" / "train.py"), "--distributed", "--device", "cpu", "--log_root", str(log_root),
           "agent.reliability.rank_sync_interval=1", *args]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout)


def _scalars(run: Path, tag: str) -> list[tuple[int, float]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run))
    acc.Reload()
    return [(e.step, e.value) for e in acc.Scalars(tag)] if tag in acc.Tags()["scalars"] else []


@pytest.fixture(scope="module")
def teacher_job(tmp_path_factory):
    root = tmp_path_factory.mktemp("dist_teacher")
    proc = _torchrun(["--num_envs", "2", "--max_iterations", "2", "agent.num_steps_per_env=8"], root)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    runs = sorted((root / "rsl_rl" / "intermimic_teacher").iterdir())
    return proc, runs, root


@pytest.mark.sim
def test_two_rank_teacher_writes_one_run_with_ranks_in_sync(teacher_job):
    proc, runs, _ = teacher_job
    assert len(runs) == 1, runs  # one run folder for the job
    run = runs[0]
    assert sorted(p.name for p in run.glob("model_*.pt")) == ["model_0.pt", "model_1.pt"]
    assert len(list(run.glob("events.out.tfevents.*"))) == 1  # rank 0's writer only
    assert [v for _, v in _scalars(run, "Distributed/ranks_in_sync")] == [1.0, 1.0]  # checked after each update
    assert proc.stdout.count("2 ranks x 2 envs = 4 envs") == 1  # one banner (rank 0's)
    ckpt = torch.load(run / "model_1.pt", weights_only=False)
    assert len(ckpt["training_state_per_rank"]) == 2  # every rank's curriculum and generators


@pytest.mark.sim
def test_two_rank_teacher_resumes_on_both_ranks(teacher_job):
    _, runs, root = teacher_job
    proc = _torchrun(["--num_envs", "2", "--max_iterations", "1", "--resume", str(runs[0]), "agent.num_steps_per_env=8"],
                     root)  # fmt: skip
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    assert (runs[0] / "model_2.pt").is_file()  # continued at the saved iteration, in the same folder
    assert "holds no state of this rank" not in proc.stdout + proc.stderr
    assert [v for _, v in _scalars(runs[0], "Distributed/ranks_in_sync")][-1] == 1.0


@pytest.mark.sim
def test_two_rank_student_switches_phase_on_both_ranks(teacher_job, tmp_path):
    """Two tiny teachers (the teacher job's checkpoint for both demo subjects) and a schedule
    compressed to a few iterations: the ranks stay in sync through the switch to PPO."""
    _, runs, _ = teacher_job
    teacher = runs[0] / "model_1.pt"
    schedule = ["agent.algorithm.mix_start=0", "agent.algorithm.mix_iterations=1", "agent.algorithm.bc_iterations=1",
                "agent.algorithm.critic_warmup_iterations=1", "agent.algorithm.ppo_start=2",
                "agent.algorithm.ev_start=2", "agent.algorithm.ev_threshold=-1e9", "agent.algorithm.ev_streak=1"]  # fmt: skip
    proc = _torchrun(["--task", "InterMimic-Student-v0", "--num_envs", "2", "--max_iterations", "4",
                      "agent.num_steps_per_env=4", f"teachers.paths.0={teacher}", f"teachers.paths.1={teacher}",
                      *schedule], tmp_path)  # fmt: skip
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    run = next((tmp_path / "rsl_rl" / "intermimic_student").iterdir())
    phases = [v for _, v in _scalars(run, "Student/phase")]
    assert phases[0] == 0 and phases[-1] == 2, phases  # from cloning to PPO
    assert [v for _, v in _scalars(run, "Distributed/ranks_in_sync")] == [1.0] * 4
    json.dumps(phases)

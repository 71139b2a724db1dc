"""User mistakes on the real command lines: exit status 2, one line ``[intermimic] error: ...``
naming the argument, file or field, no traceback; all before any simulation is built."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from conftest import REPO_ROOT, load_script

pytestmark = pytest.mark.unit
ERROR_PREFIX = "[intermimic] error: "


def _run(script: str, *args: str, cwd=None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO_ROOT / "source" / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


def _single_error(proc: subprocess.CompletedProcess) -> str:
    """The one error line of a command that failed on user input."""
    assert proc.returncode == 2, f"exit status {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(errors) == 1, proc.stderr
    assert proc.stderr.rstrip().splitlines()[-1] == errors[0], "the error line must be the last line"
    return errors[0][len(ERROR_PREFIX):]


def test_student_training_refuses_missing_unreadable_and_missing_teachers(tmp_path):
    """Teacher problems of a student run: one line each, before any simulation is built."""
    bad = tmp_path / "bad.pt"
    bad.write_text("not a checkpoint")
    student = ("--task", "InterMimic-Student-v0", "--device", "cpu")
    cases = [
        ((), "training a student needs its teachers"),
        ((f"teachers.paths.0={tmp_path / 'none.pt'}",), "teacher of subject 0: checkpoint not found"),
        ((f"teachers.paths.0={bad}", f"teachers.paths.1={bad}"), "teacher of subject 0: cannot read"),
        (("teachers=no_such_preset",), "teacher preset 'no_such_preset' not found"),
        (("teachers.paths.x=a.pt",), "teachers.paths: 'x' is not a subject id"),
    ]
    for extra, expected in cases:
        assert expected in _single_error(_run("train.py", *student, *extra, cwd=tmp_path)), extra
    assert not (tmp_path / "logs").exists()


@pytest.fixture(scope="module")
def clip_with_unknown_object(tmp_path_factory):
    from intermimic.motion.clip_io import save_clip_file
    from intermimic.motion.demo.synthetic import synthetic_clip

    folder = tmp_path_factory.mktemp("clips")
    return save_clip_file(folder / "sub1_teapot_000.pt", synthetic_clip(40))


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--num_envs", "0"], "argument --num_envs: expected an integer >= 1, got 0"),
        (["--task", "InterMimic-Nope-v0"], "--task InterMimic-Nope-v0: unknown task; expected one of"),
        (["--motion", "no/such/clips"], "--motion: no such file or folder: no/such/clips"),
        (["dataset=no_such_set"], "dataset preset 'no_such_set' not found"),
        (["env.no_such_field=1"], "env.no_such_field=1: env has no field 'no_such_field'"),
        (["env.scene.num_envs=abc"], "env.scene.num_envs=abc: expected an integer"),
        (["env.timing=fast"], "env.timing: unknown setting 'fast', expected one of ['high_fidelity', 'legacy']"),
    ],
)
def test_train_rejects_bad_input_with_one_line(args, expected, tmp_path):
    """The real command, one process per class of mistake."""
    assert expected in _single_error(_run("train.py", "--device", "cpu", *args, cwd=tmp_path))
    assert not (tmp_path / "logs").exists(), "nothing may be written for a rejected command"


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--max_iterations", "-5"], "argument --max_iterations: expected an integer >= 1, got -5"),
        (["--num_envs", "eight"], "argument --num_envs: expected an integer >= 1, got 'eight'"),
        (["--resume", "no/such/model_10.pt"], "--resume no/such/model_10.pt: no such checkpoint file or run folder"),
        (["experiment=no_such_experiment"], "experiment preset 'no_such_experiment' not found"),
        (["physics=warp_drive"], "physics=warp_drive: unknown physics preset; expected one of isaacsim_physx, newton_mjwarp, ovphysx"),
        (["dataset.subject=[2]"], "dataset.<field>: unknown field(s) ['subject']"),
        (["agent.algorithm.gamma=high"], "agent.algorithm.gamma=high: expected a number"),
        (["warp_speed=9"], "warp_speed=9: unknown override key 'warp_speed'"),
        (["env.humanoid_mjcf=no/such/omomo.xml"], "env.humanoid_mjcf: no such file or folder"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["--device", "tpu"], "--device tpu: expected cpu, cuda or cuda:N"),
    ],
)
def test_more_train_mistakes_in_process(args, expected, capsys):
    """Further variants, through the script's main() in this process (same code path, faster)."""
    with pytest.raises(SystemExit) as stopped:
        load_script("train").main(["--device", "cpu", *args] if "--device" not in args else args)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in err, err


def test_data_without_matching_objects(clip_with_unknown_object, tmp_path):
    message = _single_error(_run("train.py", "--device", "cpu", "--motion", str(clip_with_unknown_object), cwd=tmp_path))
    assert message.startswith("data: no usable clips")
    assert "object 'teapot' is unknown" in message and "sub1_teapot_000.pt" in message


def test_checkpoint_that_is_not_a_policy(tmp_path):
    not_a_policy = tmp_path / "model_3.pt"
    torch.save(torch.zeros(3), not_a_policy)
    garbage = tmp_path / "model_4.pt"
    garbage.write_bytes(b"not a checkpoint")
    message = _single_error(_run("play.py", "--device", "cpu", "--checkpoint", str(not_a_policy), cwd=tmp_path))
    assert message.startswith(f"--checkpoint: checkpoint {not_a_policy} is not a training checkpoint")
    assert "found Tensor" in message
    message = _single_error(_run("evaluate.py", "--device", "cpu", "--checkpoint", str(garbage), cwd=tmp_path))
    assert message.startswith(f"--checkpoint: checkpoint {garbage} cannot be read, it is truncated or corrupt")


def test_missing_checkpoint(tmp_path):
    message = _single_error(_run("evaluate.py", "--device", "cpu", "--checkpoint", "no/such/run", cwd=tmp_path))
    assert message == "--checkpoint: checkpoint not found: no/such/run"
    message = _single_error(_run("play.py", "--device", "cpu", "--log_root", str(tmp_path), cwd=tmp_path))
    assert message.startswith("--checkpoint: checkpoint not found") and str(tmp_path) in message


def test_other_commands(tmp_path):
    assert "data inspect: motion data path not found" in _single_error(_run("inspect_data.py", "no/such/data"))
    assert "argument --envs: expected an integer >= 1, got 0" in _single_error(_run("benchmark.py", "motion", "--envs", "0"))
    assert _single_error(_run("convert.py", "no/such/seq.npz", "--smplx-models", str(tmp_path))).startswith(
        "input not found: no/such/seq.npz")
    assert "plot: no TensorBoard event files" in _single_error(_run("plot.py", str(tmp_path)))
    assert "the following arguments are required: path" in _single_error(_run("inspect_data.py"))


def test_debug_shows_the_traceback(tmp_path):
    proc = _run("train.py", "--device", "cpu", "env.timing=fast", "--debug", cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "UserError" in proc.stderr
    assert "env.timing: unknown setting 'fast'" in proc.stderr


def test_missing_viewer_package_names_the_install_command(monkeypatch):
    from intermimic.app import command_line as launch
    from intermimic.utils.errors import UserError

    monkeypatch.setitem(launch.VIEWER_PACKAGES, "viser", "no_such_viewer_module")
    with pytest.raises(UserError, match=r"--viz viser: the 'no_such_viewer_module' package is not installed; "
                                        r"install the viewers with: \.venv/bin/pip install -e \"\.\[viz\]\""):  # fmt: skip
        launch.check_viewers(["viser"])
    launch.check_viewers(["newton_gl"])  # needs no extra package: no error

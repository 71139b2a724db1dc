"""Converted clips in the simulator: a teacher trains on a clip converted from a synthetic InterAct
sequence (2 iterations, on the subject's own humanoid), and ``track`` follows a converted clip
of another subject zero-shot and writes the evaluation report, contact sheets and videos."""

from __future__ import annotations

import json

import pytest

import body_model_helpers as h
from conftest import load_script

pytestmark = pytest.mark.sim


def _run(script, *args, cwd, timeout=1500):
    from hoi_env_helpers import run_script

    return run_script(script, "--device", "cpu", *args, cwd=cwd, timeout=timeout)


@pytest.fixture(scope="module")
def converted(body_models, tmp_path_factory):
    root = tmp_path_factory.mktemp("interact")
    h.write_interact_dataset(root / "data", "behave", body_models, h.known_clip(slice(120, 160)))
    out = root / "clips"
    assert load_script("convert").main(["--format", "interact", str(root / "data"), "--dataset", "behave",
                                        "--body-models", str(body_models), "--out", str(out)]) == 0  # fmt: skip
    return out


@pytest.fixture(scope="module")
def teacher_run(converted, tmp_path_factory):
    logs = tmp_path_factory.mktemp("logs")
    out = _run("train.py", "--num_envs", "2", "--max_iterations", "2", "--log_root", str(logs), "--motion",
               str(converted / "dataset.yaml"), "dataset.subjects=[1]", f"env.humanoid_mjcf={converted / 'humanoids' / 'sub1.xml'}",
               "agent.num_steps_per_env=4", cwd=logs)  # fmt: skip
    assert "sub1_box_000" in out or "1 clip" in out
    (run,) = (logs / "rsl_rl" / "intermimic_teacher").iterdir()
    assert (run / "model_1.pt").is_file()
    return run


def test_a_teacher_trains_on_a_converted_clip_and_tracks_an_unseen_one(teacher_run, converted, tmp_path):
    out = tmp_path / "track"
    log = _run("track.py", "--checkpoint", str(teacher_run), str(converted / "dataset.yaml"), "--num_envs", "2",
               "--out", str(out), "--video_size", "160x120", "--renderer", "skeleton", cwd=tmp_path)  # fmt: skip
    assert "InterMimic-Teacher-v0 (from the checkpoint's run" in log
    report = json.loads((out / "evaluation.json").read_text())
    clips = sorted(c["clip"] for c in report["clips"])
    assert clips == ["sub1_box_000", "sub2_box_000"]  # subject 2 was never trained on
    assert report["meta"]["zero_shot"] and report["summary"]["clips"] == 2
    for name in clips:
        assert (out / "contact_sheets" / f"{name}.png").stat().st_size > 0
        assert (out / "videos" / f"{name}.mp4").stat().st_size > 0
    assert (out / "evaluation.csv").is_file() and (out / "clips.png").is_file()

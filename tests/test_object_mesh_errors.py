"""Object meshes that cannot be read (an empty file, a Git LFS pointer): every command that reads
meshes says so in one line naming the file and exits with status 2; the per-clip commands
(data inspect, retarget-robot, convert) skip that object's clips and convert the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from intermimic.assets.object_registry import ObjectMeshError, ObjectRegistry
from intermimic.assets.primitives import box_mesh
from intermimic.motion.clip_io import load_clip_file, save_clip_file
from intermimic.motion.demo.synthetic import synthetic_clip

from conftest import G1_URDF, REPO_ROOT, load_script, sample_data_dir

pytestmark = pytest.mark.unit
ERROR_PREFIX = "[intermimic] error: "
LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 48213\n"


def _write_obj(path, vertices, faces) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"v {x} {y} {z}" for x, y, z in vertices] + [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture()
def data(tmp_path):
    """Clips of a good object (box) and of one whose .obj is empty (chair), and the objects folder."""
    objects = tmp_path / "objects"
    _write_obj(objects / "box" / "box.obj", *box_mesh((0.2, 0.15, 0.1)))
    (objects / "chair").mkdir()
    (objects / "chair" / "chair.obj").write_text("")
    clips = tmp_path / "clips"
    for i, name in enumerate(("sub1_box_000", "sub1_box_001", "sub1_chair_000")):
        save_clip_file(clips / f"{name}.pt", synthetic_clip(40, seed=i))
    return SimpleNamespace(clips=clips, objects=objects, chair=objects / "chair" / "chair.obj")


def _one_error(err: str) -> str:
    """The single error line, last on stderr, without a traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1, err
    assert err.rstrip().splitlines()[-1] == lines[0], "the error line must be the last line"
    return lines[0][len(ERROR_PREFIX):]


# -------------------------------------------------------------------------------------------------
def test_registry_names_the_file_and_the_cause(tmp_path):
    objects = tmp_path / "objects"
    _write_obj(objects / "box" / "box.obj", *box_mesh((0.2, 0.15, 0.1)))
    (objects / "empty").mkdir()
    (objects / "empty" / "empty.obj").write_text("")
    (objects / "pointer").mkdir()
    (objects / "pointer" / "pointer.obj").write_text(LFS_POINTER)
    registry = ObjectRegistry(objects)
    with pytest.raises(ObjectMeshError) as err:
        registry.mesh("pointer")
    assert str(err.value) == f"{objects / 'pointer' / 'pointer.obj'}: mesh has no triangles: the file is a Git LFS " \
                             "pointer, not the mesh (fetch it: git lfs pull)"  # fmt: skip
    problems = registry.mesh_problems(["box", "empty", "pointer", "teapot"])
    assert sorted(problems) == ["empty", "pointer"]  # unknown names are another error
    assert problems["empty"].startswith(f"{objects / 'empty' / 'empty.obj'}: mesh has no triangles: the file is empty")
    assert registry.mesh_problem("box") is None and len(registry.mesh("box").faces) == 12


def test_reading_rejects_only_that_objects_clips(data):
    from intermimic.motion.reader import read_dataset_report

    cfg = SimpleNamespace(files=[str(data.clips)], corrected=[], subjects=[], objects_dir=str(data.objects),
                          strict=False, future_horizon=16)  # fmt: skip
    report = read_dataset_report(cfg, progress=False)
    assert sorted(c.info.name for c in report.clips) == ["sub1_box_000", "sub1_box_001"]
    assert list(report.mesh_problems) == ["chair"] and str(data.chair) in report.mesh_problems["chair"]
    assert [r.path for r in report.rejected] == [str(data.clips / "sub1_chair_000.pt")]


def test_training_commands_stop_with_one_line(data, monkeypatch, capsys):
    """play, evaluate, replay and retarget (teacher rollouts) read the data as train does: one line, status 2."""
    from pathlib import Path

    from intermimic.app import configure

    monkeypatch.setattr(configure, "find_checkpoint", lambda *a, **k: Path(data.clips.parent / "run" / "model_1.pt"))
    motion = ["--device", "cpu", "--motion", str(data.clips), f"env.commands.motion.motion.objects_dir={data.objects}"]
    for script, extra in (("play", []), ("evaluate", []), ("replay", []), ("retarget", ["--out", str(data.clips.parent / "o")])):
        with pytest.raises(SystemExit) as stopped:
            load_script(script).main([*motion, *extra])
        assert stopped.value.code == 2, script
        message = _one_error(capsys.readouterr().err)
        assert message.startswith("data: cannot read the mesh of object chair: ") and str(data.chair) in message, script


def test_train_stops_with_one_line(data, tmp_path):
    """The real command as a user types it (one process)."""
    proc = subprocess.run(
        [sys.executable, str(REPO_ROOT / "source" / "train.py"), "--device", "cpu", "--motion", str(data.clips),
         f"env.commands.motion.motion.objects_dir={data.objects}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-3000:]
    message = _one_error(proc.stderr)
    assert message == f"data: cannot read the mesh of object chair: {data.chair}: mesh has no triangles: the file is " \
                      "empty (a broken download or copy?)"  # fmt: skip
    assert not (tmp_path / "logs").exists()


def test_data_inspect_reports_the_mesh(data, capsys):
    inspect = load_script("inspect_data")
    with pytest.raises(SystemExit) as stopped:
        inspect.main([str(data.clips), "--objects-dir", str(data.objects), "--json"])
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    s = json.loads(out)
    assert s["clips"] == 2 and list(s["objects"]) == ["box"]
    assert list(s["unreadable_meshes"]) == ["chair"] and str(data.chair) in s["unreadable_meshes"]["chair"]
    assert str(data.chair) in _one_error(err)
    with pytest.raises(SystemExit):
        inspect.main([str(data.clips), "--objects-dir", str(data.objects)])
    out, err = capsys.readouterr()
    assert "unreadable object meshes: 1" in out and f"chair: {data.chair}: mesh has no triangles" in out
    assert "sub1_chair_000.pt: object 'chair': its mesh cannot be read" in out


def test_convert_skips_that_objects_sequences(data, tmp_path, capsys):
    """Joint-position sequences (no body model needed) of the good and the broken object: the good
    one is converted and written, the other named, status 2."""
    from intermimic.motion import clip_format as cf

    inputs = tmp_path / "seqs"
    inputs.mkdir()
    for i, name in enumerate(("sub1_box_000", "sub1_chair_000")):
        clip = synthetic_clip(20, seed=i)
        T = clip.shape[0]
        np.savez(inputs / f"{name}.npz", seq_name=name, joints=cf.field(clip, "body_pos").reshape(T, 52, 3).numpy(),
                 obj_trans=np.zeros((T, 3)), obj_rot=np.tile(np.eye(3), (T, 1, 1)))  # fmt: skip
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as stopped:
        load_script("convert").main(["--format", "joints", str(inputs), "--objects-dir", str(data.objects),
                                     "--object-frame", "centred", "--out", str(out)])  # fmt: skip
    assert stopped.value.code == 2
    message = _one_error(capsys.readouterr().err)
    assert message.startswith(f"cannot read the mesh of object chair: {data.chair}: ") and "1 written" in message
    assert (out / "sub1_box_000.pt").is_file() and not (out / "sub1_chair_000.pt").exists()
    assert load_clip_file(out / "sub1_box_000.pt").shape == (20, 591)


def test_retarget_robot_converts_the_rest(tmp_path, capsys):
    """Sample clips of both objects, the woodchair mesh emptied: the largetable clips are converted."""
    data = sample_data_dir()
    if not G1_URDF.is_file() or not (data / "OMOMO_new").is_dir():
        pytest.skip(f"needs the G1 description ({G1_URDF}) and the sample data ({data})")
    clips, objects = tmp_path / "clips", tmp_path / "objects"
    names = ["sub2_largetable_000", "sub2_woodchair_000", "sub2_largetable_001"]
    for name in names:
        save_clip_file(clips / f"{name}.pt", load_clip_file(data / "OMOMO_new" / f"{name}.pt"))
    (objects / "largetable").mkdir(parents=True)
    (objects / "largetable" / "largetable.obj").symlink_to(data / "objects" / "largetable" / "largetable.obj")
    (objects / "woodchair").mkdir()
    chair = objects / "woodchair" / "woodchair.obj"
    chair.write_text(LFS_POINTER)
    out = tmp_path / "robot"
    with pytest.raises(SystemExit) as stopped:
        load_script("retarget_robot").main(["--urdf", str(G1_URDF), str(clips), str(out), "--objects-dir", str(objects),
                                            "--max-frames", "3"])  # fmt: skip
    assert stopped.value.code == 2
    message = _one_error(capsys.readouterr().err)
    assert message.startswith(f"cannot read the mesh of object woodchair: {chair}: mesh has no triangles: the file is a "
                              "Git LFS pointer")  # fmt: skip
    assert sorted(p.name for p in out.glob("*.npz")) == ["sub2_largetable_000.npz", "sub2_largetable_001.npz"]
    report = json.loads((out / "retarget_robot.json").read_text())
    assert [f["clip"] for f in report["failed"]] == ["sub2_woodchair_000"] and (out / "dataset.yaml").is_file()

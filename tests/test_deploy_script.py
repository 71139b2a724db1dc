"""deploy/g1_mujoco.py stands alone: it imports numpy, mujoco, onnxruntime and Python's standard
library only (never this package), and reports mistakes in one line. Its observation and its run
on an exported policy are tested in test_g1_tasks.py."""

from __future__ import annotations

import ast
import sys

import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.unit
SCRIPT = REPO_ROOT / "deploy" / "g1_mujoco.py"


def test_the_script_imports_only_numpy_mujoco_onnxruntime_and_the_standard_library():
    modules = set()
    for node in ast.walk(ast.parse(SCRIPT.read_text())):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            modules.add(node.module.split(".")[0])
    assert modules - set(sys.stdlib_module_names) == {"numpy", "mujoco", "onnxruntime"}


def test_a_missing_policy_is_one_line(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("g1_mujoco", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (tmp_path / "robot.urdf").write_text("<robot/>")
    with pytest.raises(SystemExit) as stopped:
        module.main(["--policy", str(tmp_path / "policy.onnx"), "--urdf", str(tmp_path / "robot.urdf"),
                     "--objects-dir", str(tmp_path), str(tmp_path / "clip.npz")])  # fmt: skip
    assert stopped.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("[g1_mujoco] error: --policy") and "play --export" in line

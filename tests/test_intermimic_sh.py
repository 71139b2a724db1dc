"""The intermimic.sh front end: help, errors, and an idempotent, quick setup."""

import os
import subprocess
import time

import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.unit
SCRIPT = REPO_ROOT / "intermimic.sh"


def _run(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=600)


def test_help_lists_the_commands():
    out = _run("help")
    assert out.returncode == 0
    for command in ("setup", "train", "play", "evaluate", "track", "replay", "retarget", "data inspect", "convert", "test"):
        assert command in out.stdout


def test_unknown_command_fails_clearly():
    out = _run("fly")
    assert out.returncode != 0 and "unknown command 'fly'" in out.stderr


@pytest.mark.skipif(not (REPO_ROOT / ".venv" / ".intermimic-setup").is_file(), reason="needs the .venv made by setup")
def test_setup_is_quick_when_already_done():
    start = time.time()
    out = _run("setup")
    assert out.returncode == 0, out.stderr
    assert time.time() - start < 10
    assert "installing" not in out.stderr

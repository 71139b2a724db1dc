"""Quiet start-up filters, training curves from event files, and TensorBoard despite a broken plugin."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import warnings

import pytest
import torch

from conftest import REPO_ROOT

pytestmark = pytest.mark.unit
WARP_NO_DRIVER = b"Warp CUDA warning: Could not find or load the NVIDIA CUDA driver. GPU execution will not be available.\n"


def test_stderr_filter_drops_only_the_named_native_message(capfd):
    from intermimic.app.startup import _stderr_without

    with _stderr_without("Could not find or load the NVIDIA CUDA driver"):
        os.write(2, WARP_NO_DRIVER)
        os.write(2, b"a message that must stay\n")
    err = capfd.readouterr().err
    assert "a message that must stay" in err and "NVIDIA CUDA driver" not in err


def test_newton_future_warning_is_filtered_and_others_are_not():
    from intermimic.app.startup import quiet_startup

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        quiet_startup()
        warnings.warn("Newton shape color replacement is enabled; this workaround will be deprecated", FutureWarning)
        warnings.warn("some other future change", FutureWarning)
    assert [str(w.message) for w in caught] == ["some other future change"]


def test_no_warp_driver_warning_on_a_machine_without_cuda():
    code = "from intermimic.app.startup import quiet_startup; quiet_startup(); import isaaclab.app"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "exts")}
    quiet = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert quiet.returncode == 0, quiet.stderr
    assert "Warp CUDA warning" not in quiet.stderr
    if not torch.cuda.is_available():  # the message this filter is for does appear without it
        plain = subprocess.run([sys.executable, "-c", "import warp; warp.init()"], capture_output=True, text=True,
                               env=env, timeout=300)  # fmt: skip
        assert "Warp CUDA warning" in plain.stderr


# -------------------------------------------------------------------------------------------------
def _write_run(folder, values: dict[str, list[float]]):
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(folder))
    for tag, series in values.items():
        for it, v in enumerate(series):
            writer.add_scalar(tag, v, it)
    writer.close()


def test_plot_draws_each_group_from_the_event_files(tmp_path):
    from intermimic.learning.curves import find_run, plot_run, read_scalars

    old, new = tmp_path / "exp" / "2026-01-01_00-00-00", tmp_path / "exp" / "2026-01-02_00-00-00"
    _write_run(old, {"Train/mean_reward": [0.0]})
    time.sleep(0.05)
    values = {"Train/mean_reward": [0.1, 0.3, 0.2], "Train/mean_reward/time": [0.1, 0.3, 0.2],
              "Train/mean_episode_length": [20, 30, 25], "Reward/r_h": [0.5, 0.6, 0.7], "Reward/r": [0.1, 0.2, 0.3],
              "Episode_Termination/fall": [0.5, 0.25, 0.0], "Loss/value_function": [3.0, 2.0, 1.0],
              "Eval/success_rate": [0.0, 0.5]}  # fmt: skip
    _write_run(new, values)
    assert find_run(tmp_path) == new and find_run(old) == old
    scalars = read_scalars(new)
    assert scalars["Reward/r_h"] == ([0, 1, 2], pytest.approx([0.5, 0.6, 0.7]))
    files = plot_run(new)
    assert [f.name for f in files] == ["reward.png", "reward_factors.png", "terminations.png", "losses.png",
                                       "evaluation.png"]  # fmt: skip
    for f in files:
        assert f.parent == new / "plots" and f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no TensorBoard event files"):
        find_run(tmp_path / "empty")


def test_tensorboard_serves_although_a_plugin_cannot_be_imported(tmp_path):
    """A package registering a TensorBoard plugin whose import fails (as open3d's does without
    libusb) stops the plain tensorboard command but not ./intermimic.sh tensorboard."""
    site = tmp_path / "site"
    dist = site / "broken_tb_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (site / "broken_tb_plugin.py").write_text("raise ImportError('libfake-1.0.so.0: cannot open shared object file')\n")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-tb-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[tensorboard_plugins]\nbroken = broken_tb_plugin:Plugin\n")
    logs = tmp_path / "logs"
    _write_run(logs / "run_a", {"Train/mean_reward": [1.0, 2.0]})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(REPO_ROOT / "exts")])}

    plain = subprocess.run([sys.executable, "-m", "tensorboard.main", "--logdir", str(logs), "--port", "0"],
                           capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert plain.returncode != 0 and "libfake-1.0.so.0" in plain.stderr

    proc = subprocess.Popen([sys.executable, str(REPO_ROOT / "source" / "tensorboard_server.py"), "--logdir", str(logs),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)  # fmt: skip
    try:
        lines, url = [], None
        deadline = time.time() + 300
        while time.time() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if " at http://" in line:
                url = line.split(" at ")[1].split()[0]
        assert url, "".join(lines)
        assert any("plugin 'broken' (broken_tb_plugin) left out" in line for line in lines), "".join(lines)
        with urllib.request.urlopen(url + "data/runs", timeout=60) as response:
            assert "run_a" in response.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=60)

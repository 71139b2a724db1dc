"""The data tools: ``data inspect`` and the motion benchmark (a tiny run)."""

from __future__ import annotations

import json

import pytest

from intermimic.motion.clip_io import save_clip_file
from intermimic.motion.demo.synthetic import synthetic_clip

from conftest import load_script, require_sample_data

pytestmark = pytest.mark.unit


def test_inspect_reports_counts_durations_and_rejections(tmp_path, capsys):
    inspect = load_script("inspect_data")
    folder = tmp_path / "clips"
    save_clip_file(folder / "sub1_demobox_000.pt", synthetic_clip(60, seed=1))
    save_clip_file(folder / "sub2_demobox_001.pt", synthetic_clip(90, seed=2))
    bad = save_clip_file(folder / "sub1_demobox_002.pt", synthetic_clip(60)[:, :100])
    assert inspect.main([str(folder), "--json"]) == 1
    s = json.loads(capsys.readouterr().out)
    assert (s["clips"], s["frames"], s["rejected_files"]) == (2, 150, 1)
    assert s["seconds"] == 5.0 and s["clip_frames"] == {"min": 60, "mean": 75.0, "max": 90}
    assert s["subjects"] == {"1": {"clips": 1, "frames": 60, "seconds": 2.0}, "2": {"clips": 1, "frames": 90, "seconds": 3.0}}
    assert s["rejected"] == [{"path": str(bad), "reason": "has 100 columns, expected 591 (InterMimic clip format, docs/method.md §1)"}]
    assert inspect.main([str(folder)]) == 1
    text = capsys.readouterr().out
    assert "clips: 2 loaded, 1 rejected" in text and str(bad) in text
    with pytest.raises(SystemExit) as stopped:
        inspect.main([str(tmp_path / "missing")])
    assert stopped.value.code == 2
    assert "[intermimic] error: data inspect: motion data path not found" in capsys.readouterr().err


def test_inspect_demo_and_sample_release_folder(capsys):
    inspect = load_script("inspect_data")
    assert inspect.main(["demo", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["clips"] == 6 and list(s["objects"]) == ["demobox"]
    data = require_sample_data()
    assert inspect.main([str(data), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["clips"] == 27 and s["sources"] == ["raw", "corrected"] and sorted(s["objects"]) == ["largetable", "woodchair"]
    assert s["objects"]["largetable"]["clips"] + s["objects"]["woodchair"]["clips"] == 27


def test_motion_benchmark_runs_small(capsys):
    bench = load_script("benchmark")
    assert bench.main(["motion", "--hours", "0.01", "--envs", "64", "--repeats", "2", "--many", "3", "--no-sample"]) == 0
    out = capsys.readouterr().out
    assert "bytes/frame" in out and "query time per call, 64 environments" in out
    assert "future {1,2,4,16} (student)" in out and "3 clips" in out

"""The learning check's report: where curves move first, peak and fall, and the written files."""

import json

import pytest

from intermimic.benchmarks import learning_check as lc

pytestmark = pytest.mark.unit


def test_first_move_finds_where_a_curve_leaves_its_start():
    flat_then_drop = [[i, 1.0] for i in range(10)] + [[10 + i, 1.0 - 0.2 * i] for i in range(6)]
    assert lc.first_move(flat_then_drop) == 11  # the 3-point mean leaves the start band there
    assert lc.first_move([[i, 2.0] for i in range(12)]) is None


def test_peak_and_fall():
    curve = [[0, 1.0], [1, 3.0], [2, 2.0], [3, 1.5], [4, 1.5], [5, 1.5], [6, 1.5]]
    result = lc.peak_and_fall(curve)
    assert result["peak_iteration"] == 1 and result["peak"] == 3.0
    assert result["final_mean_last5"] == pytest.approx((2.0 + 1.5 * 4) / 5)
    assert result["fall_from_peak"] == pytest.approx(1 - result["final_mean_last5"] / 3.0)


def test_report_files(tmp_path):
    curve = [[i, float(i)] for i in range(5)]
    baseline = {"training_starts": {"return": 1.0, "episode_length": 5.0},
                "fixed_starts": {"success_rate": 0.0, "duration_s": 1.0, "E_h_cm": 20.0}}  # fmt: skip
    report = {
        "meta": {"task": "t", "num_envs": 2, "device": "cpu", "iterations": 5, "seed": 1, "commit": "abc"},
        "baselines": {"zero": baseline, "reference_pd": baseline},
        "curves": {"train": {"return": curve, "kl": curve, "learning_rate": curve},
                   "eval": {"success_rate": curve[:2]}, "starts": {"frame0_share": curve},
                   "termination": {"fall": curve}, "reward": {"r": curve}},
    }  # fmt: skip
    json_path, png_path = lc.write_report(report, tmp_path)
    assert json.loads(json_path.read_text())["curves"]["train"]["return"] == curve
    from PIL import Image

    with Image.open(png_path) as image:
        assert image.size[0] > 800 and image.size[1] > 600

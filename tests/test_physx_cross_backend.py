"""Newton and kit-less PhysX replay the same sample clips (``benchmark backends``): the drift
physics adds in one step stays small on both, and over the first 20 frames of two clips (feet on
the ground, hands reaching for the object) the contact labels read over the release's contact
window agree on at least 95 % of the (frame, contact body) pairs; every window is reported, and
the whole policy step sees at least as many contacts as its second half, and the second half as
many as its last physics step at least (docs/performance.md has the numbers over all 27 sample
clips)."""

import json

import pytest

from hoi_env_helpers import run_script

pytestmark = pytest.mark.sim

CLIPS = ("sub2_largetable_000", "sub2_woodchair_010")


def test_both_backends_replay_the_clips_alike(sample_data, tmp_path):
    out = tmp_path / "backends.json"
    printed = run_script("benchmark.py", "backends", "dataset=omomo_sub2", "--clips", *CLIPS, "--num_envs", "2",
                         "--max_steps", "20", "--source", "corrected", "--device", "cpu", "--json", out,
                         cwd=tmp_path)  # fmt: skip
    report = json.loads(out.read_text())
    assert "contact labels per contact window" in printed and "| sub2_largetable_000 |" in printed
    windows = report["agreement"]["ovphysx"]
    assert set(windows) == {"release", "policy_step", "last_step"}
    agree = windows["release"]
    assert agree["pairs"] == 2 * 20 * 31  # 2 clips, 20 frames, 31 contact bodies, recorded by both
    assert agree["agreement"] >= 0.95, agree
    assert agree["contacts_a"] > 20 and agree["contacts_b"] > 20  # feet on the ground, hands on the objects
    assert windows["policy_step"]["contacts_b"] >= agree["contacts_b"] >= windows["last_step"]["contacts_b"]
    for backend in ("newton_mjwarp", "ovphysx"):
        data = report["backends"][backend]["data_agreement"]["release"]
        assert data["pairs"] > 0 and data["match"] > 0.8, (backend, data)
    for backend in ("newton_mjwarp", "ovphysx"):
        clips = report["backends"][backend]["clips"]
        assert sorted(clips) == sorted(CLIPS)
        for clip, row in clips.items():
            # measured (cm): E_h 0.45-0.82, E_o 0.15-0.90
            assert row["frames"] == 20 and row["e_h"] < 0.02 and row["e_o"] < 0.03, (backend, clip, row)

"""YAML manifests and data set presets: paths, per-clip overrides, filters."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from intermimic.motion.clip_io import save_clip_file
from intermimic.motion.loader import load_library
from intermimic.motion.reader import read_dataset_report
from intermimic.motion.demo.synthetic import synthetic_clip
from intermimic.utils.paths import REPO_ROOT
from intermimic.app.presets import dataset_overrides

from conftest import require_sample_data

pytestmark = pytest.mark.unit


def _cfg(files, **kw):
    base = dict(files=[str(f) for f in files], corrected=[], subjects=[], objects_dir=None, strict=False, future_horizon=16)
    base.update(kw)
    return SimpleNamespace(**base)


def _clips(folder, names, frames=30):
    for i, n in enumerate(names):
        save_clip_file(folder / f"{n}.pt", synthetic_clip(frames, seed=i))


def test_manifest_with_data_root_filters_and_overrides(tmp_path):
    data = tmp_path / "data"
    _clips(data / "raw", ["sub1_demobox_000", "sub1_demobox_001", "sub3_demobox_000"])
    _clips(data / "corr", ["sub1_demobox_000", "sub1_demobox_001", "sub3_demobox_000"])
    _clips(data / "extra", ["walk_forward"])
    manifest = tmp_path / "set.yaml"
    manifest.write_text(
        f"description: test set\n"
        f"data_root: {data}\n"
        "files: [raw]\n"
        "corrected: [corr]\n"
        "subjects: [1, 7]\n"
        "clips:\n"
        "  - {file: extra/walk_forward.pt, corrected: corr/sub1_demobox_000.pt, subject: 7, object: demobox}\n"
    )
    report = read_dataset_report(_cfg([manifest]), progress=False)
    assert report.rejected == [] and report.corrected
    got = {(c.info.name, c.info.subject, c.info.object) for c in report.clips}
    assert got == {("sub1_demobox_000", 1, "demobox"), ("sub1_demobox_001", 1, "demobox"), ("walk_forward", 7, "demobox")}
    assert report.skipped == [str(data / "raw" / "sub3_demobox_000.pt")]
    assert all(c.corrected is not None and c.info.first_row == 1 for c in report.clips)


def test_manifest_errors_name_the_manifest(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("files: [x]\nclip_list: []\n")
    with pytest.raises(ValueError, match=r"bad.yaml: unknown manifest keys \['clip_list'\]"):
        read_dataset_report(_cfg([bad]), progress=False)
    missing = tmp_path / "missing.yaml"
    missing.write_text(f"data_root: {tmp_path}\nclips: [nope.pt]\n")
    with pytest.raises(FileNotFoundError, match=r"missing.yaml: clips\[0\] file not found"):
        read_dataset_report(_cfg([missing]), progress=False)
    loop = tmp_path / "loop.yaml"
    loop.write_text(f"data_root: {tmp_path}\nfiles: [loop.yaml]\n")
    with pytest.raises(ValueError, match="includes itself"):
        read_dataset_report(_cfg([loop]), progress=False)


def test_object_filter(tmp_path):
    _clips(tmp_path / "raw", ["sub1_demobox_000", "sub1_teapot_000"])
    manifest = tmp_path / "set.yaml"
    manifest.write_text(f"data_root: {tmp_path}\nfiles: [raw]\nobjects: [demobox]\n")
    report = read_dataset_report(_cfg([manifest]), progress=False)
    assert [c.info.name for c in report.clips] == ["sub1_demobox_000"] and len(report.skipped) == 1


def test_sample_preset_and_manifest_load_the_same_clips():
    require_sample_data()
    preset = dataset_overrides("omomo_sub2", [])
    files = preset.pop("files")
    via_preset = load_library(_cfg(files, **preset), verbose=False)
    via_manifest = load_library(_cfg([REPO_ROOT / "config" / "datasets" / "omomo_sub2.yaml"]), verbose=False)
    assert [c.name for c in via_preset.clips] == [c.name for c in via_manifest.clips]
    assert via_manifest.num_clips == 27 and sorted(via_manifest.sources) == ["corrected", "raw"]
    assert via_manifest.rejected == []

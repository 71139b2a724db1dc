"""Each kind of bad clip file is rejected with a message naming file, frame, column and expectation."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from intermimic.motion import clip_format as cf
from intermimic.motion.clip_io import save_clip_file
from intermimic.motion.loader import load_library
from intermimic.motion.reader import read_dataset_report
from intermimic.motion.demo.synthetic import synthetic_clip
from intermimic.motion.validation import ClipError

pytestmark = pytest.mark.unit

GOOD_FRAMES = 40


def _cfg(files, corrected=(), strict=False, future_horizon=16):
    return SimpleNamespace(files=[str(f) for f in files], corrected=[str(c) for c in corrected], subjects=[],
                           objects_dir=None, strict=strict, future_horizon=future_horizon)  # fmt: skip


def _write(folder, name, clip) -> str:
    return str(save_clip_file(folder / f"{name}.pt", clip))


def _only_rejection(tmp_path, name, clip, **cfg):
    path = _write(tmp_path, name, clip)
    report = read_dataset_report(_cfg([path], **cfg), progress=False)
    assert report.clips == []
    assert len(report.rejected) == 1 and report.rejected[0].path == path
    with pytest.raises(ClipError) as err:
        read_dataset_report(_cfg([path], strict=True, **cfg), progress=False)
    assert str(err.value).startswith(path + ": ")
    assert str(err.value).endswith(report.rejected[0].reason)
    return err.value


def test_a_good_clip_loads(tmp_path):
    path = _write(tmp_path, "sub1_demobox_000", synthetic_clip(GOOD_FRAMES))
    report = read_dataset_report(_cfg([path]), progress=False)
    assert report.rejected == [] and len(report.clips) == 1
    assert (report.clips[0].info.subject, report.clips[0].info.object) == (1, "demobox")


def test_wrong_width(tmp_path):
    err = _only_rejection(tmp_path, "sub1_demobox_000", synthetic_clip(GOOD_FRAMES)[:, :590])
    assert "590 columns, expected 591" in str(err) and err.frame is None


def test_not_a_matrix(tmp_path):
    err = _only_rejection(tmp_path, "sub1_demobox_000", synthetic_clip(GOOD_FRAMES)[0])
    assert "shape (591,)" in str(err)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_value(tmp_path, value):
    clip = synthetic_clip(GOOD_FRAMES)
    col = cf.COLUMNS["body_pos"].start + 3 * 2 + 2  # L_Knee z
    clip[7, col] = value
    clip[9, 0] = value
    err = _only_rejection(tmp_path, "sub1_demobox_000", clip)
    assert (err.frame, err.column) == (7, col)
    assert "frame 7" in str(err) and "body_pos[L_Knee].z" in str(err) and "not finite" in str(err)
    assert "2 non-finite values" in str(err)


def test_non_unit_quaternion(tmp_path):
    clip = synthetic_clip(GOOD_FRAMES)
    start = cf.COLUMNS["body_quat"].start + 4 * 36  # R_Wrist
    clip[12, start : start + 4] *= 1.1
    err = _only_rejection(tmp_path, "sub1_demobox_000", clip)
    assert err.frame == 12 and "body_quat[R_Wrist]" in str(err) and "norm is 1.1" in str(err)


def test_non_unit_object_quaternion(tmp_path):
    clip = synthetic_clip(GOOD_FRAMES)
    clip[3, cf.COLUMNS["obj_quat"].slice] = 0.0
    err = _only_rejection(tmp_path, "sub1_demobox_000", clip)
    assert err.frame == 3 and "obj_quat" in str(err) and "expected 1" in str(err)


def test_bad_labels(tmp_path):
    clip = synthetic_clip(GOOD_FRAMES)
    clip[5, cf.COLUMNS["contact"].start + 17] = 0.5  # L_Wrist
    err = _only_rejection(tmp_path, "sub1_demobox_000", clip)
    assert err.frame == 5 and "contact[17]" in str(err) and "expected -1, 0 or +1" in str(err)
    clip = synthetic_clip(GOOD_FRAMES)
    clip[2, cf.COLUMNS["obj_manipulated"].start] = 2.0
    err = _only_rejection(tmp_path, "sub1_demobox_001", clip)
    assert err.frame == 2 and "expected 0 or 1" in str(err)


def test_clip_shorter_than_the_future_horizon(tmp_path):
    err = _only_rejection(tmp_path, "sub1_demobox_000", synthetic_clip(10))
    assert "10 frames" in str(err) and "17 needed" in str(err) and "future horizon" in str(err)
    # a longer horizon rejects longer clips
    path = _write(tmp_path, "sub1_demobox_001", synthetic_clip(GOOD_FRAMES))
    report = read_dataset_report(_cfg([path], future_horizon=GOOD_FRAMES), progress=False)
    assert len(report.rejected) == 1 and f"{GOOD_FRAMES} frames" in report.rejected[0].reason


def test_unknown_object(tmp_path):
    err = _only_rejection(tmp_path, "sub1_teapot_000", synthetic_clip(GOOD_FRAMES))
    assert "object 'teapot' is unknown" in str(err) and "demobox" in str(err)


def test_unparseable_name(tmp_path):
    err = _only_rejection(tmp_path, "walk", synthetic_clip(GOOD_FRAMES))
    assert "cannot tell subject and object" in str(err) and "sub{ID}_{object}_{index}.pt" in str(err)


def test_file_that_is_not_a_tensor(tmp_path):
    path = tmp_path / "sub1_demobox_000.pt"
    torch.save({"clip": synthetic_clip(GOOD_FRAMES)}, path)
    report = read_dataset_report(_cfg([path]), progress=False)
    assert len(report.rejected) == 1 and "holds a dict" in report.rejected[0].reason


def test_corrected_clip_with_a_different_length(tmp_path):
    raw_dir, corr_dir = tmp_path / "raw", tmp_path / "corr"
    raw_path = _write(raw_dir, "sub1_demobox_000", synthetic_clip(GOOD_FRAMES))
    corr_path = _write(corr_dir, "sub1_demobox_000", synthetic_clip(GOOD_FRAMES + 5))
    report = read_dataset_report(_cfg([raw_dir], corrected=[corr_dir]), progress=False)
    assert report.clips == [] and len(report.rejected) == 1
    assert report.rejected[0].path == corr_path
    reason = report.rejected[0].reason
    assert f"has {GOOD_FRAMES + 5} rows" in reason and raw_path in reason and f"has {GOOD_FRAMES}" in reason


def test_corrected_clip_missing(tmp_path):
    raw_dir, corr_dir = tmp_path / "raw", tmp_path / "corr"
    _write(raw_dir, "sub1_demobox_000", synthetic_clip(GOOD_FRAMES))
    corr_dir.mkdir()
    report = read_dataset_report(_cfg([raw_dir], corrected=[corr_dir]), progress=False)
    assert len(report.rejected) == 1 and "no teacher-corrected clip named sub1_demobox_000.pt" in report.rejected[0].reason


def test_corrected_error_frames_are_file_rows(tmp_path):
    raw_dir, corr_dir = tmp_path / "raw", tmp_path / "corr"
    _write(raw_dir, "sub1_demobox_000", synthetic_clip(GOOD_FRAMES))
    corrected = synthetic_clip(GOOD_FRAMES)
    corrected[0] = 0.0  # the placeholder row is not checked
    corrected[4, 1] = float("nan")
    _write(corr_dir, "sub1_demobox_000", corrected)
    report = read_dataset_report(_cfg([raw_dir], corrected=[corr_dir]), progress=False)
    assert len(report.rejected) == 1
    assert report.rejected[0].reason.startswith("frame 4, column root_pos[1]")


def test_folder_reports_every_bad_file_and_loads_the_good_ones(tmp_path):
    folder = tmp_path / "clips"
    good = [_write(folder, f"sub1_demobox_00{i}", synthetic_clip(GOOD_FRAMES, seed=i)) for i in range(3)]
    bad = {
        _write(folder, "sub1_demobox_010", synthetic_clip(GOOD_FRAMES)[:, :500]): "500 columns",
        _write(folder, "sub1_teapot_000", synthetic_clip(GOOD_FRAMES)): "object 'teapot' is unknown",
        _write(folder, "sub2_demobox_000", synthetic_clip(5)): "future horizon",
    }
    (folder / "notes.txt").write_text("not a clip")
    report = read_dataset_report(_cfg([folder]), progress=False)
    assert sorted(c.info.path for c in report.clips) == sorted(good)
    assert {r.path for r in report.rejected} == set(bad)
    for r in report.rejected:
        assert bad[r.path] in r.reason
    text = report.summary_text()
    assert "loaded 3 clips" in text and "rejected 3 file(s)" in text and all(p in text for p in bad)
    # strict: the first bad file (in file-name order) raises
    with pytest.raises(ClipError, match="sub1_demobox_010.pt: has 500 columns"):
        read_dataset_report(_cfg([folder], strict=True), progress=False)
    # the library keeps the rejections in its summary
    lib = load_library(_cfg([folder]), verbose=False)
    assert lib.num_clips == 3 and {r.path for r in lib.rejected} == set(bad)
    assert all(p in lib.summary_text() for p in bad)


def test_subject_filter_is_counted_not_rejected(tmp_path):
    folder = tmp_path / "clips"
    _write(folder, "sub1_demobox_000", synthetic_clip(GOOD_FRAMES))
    _write(folder, "sub2_demobox_000", synthetic_clip(GOOD_FRAMES))
    cfg = _cfg([folder])
    cfg.subjects = [2]
    report = read_dataset_report(cfg, progress=False)
    assert [c.info.subject for c in report.clips] == [2]
    assert report.rejected == [] and len(report.skipped) == 1


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="motion data path not found"):
        read_dataset_report(_cfg([tmp_path / "nowhere"]), progress=False)


def test_duplicate_clip_names(tmp_path):
    a = _write(tmp_path / "a", "sub1_demobox_000", synthetic_clip(GOOD_FRAMES))
    b = _write(tmp_path / "b", "sub1_demobox_000", synthetic_clip(GOOD_FRAMES))
    report = read_dataset_report(_cfg([a, b]), progress=False)
    assert len(report.clips) == 1 and report.rejected[0].path == b and "duplicate clip name" in report.rejected[0].reason

"""Evaluation pieces without a simulator: attempt averaging and selection, the report table,
plots, the offscreen video writer and the retargeted clip layout."""

import json

import numpy as np
import pytest
import torch

from intermimic.evaluation.metrics import METRICS, ClipTable, EpisodeAccumulator, StepTrace, attempt_means, attempt_values
from intermimic.evaluation.metrics import values_of as v
from intermimic.motion.library import ClipInfo

pytestmark = pytest.mark.unit


def _clips(n=2):
    return [ClipInfo(name=f"sub1_box_{i:03d}", subject=1, object="box", num_frames=50) for i in range(n)]


def test_attempt_means_leave_out_the_terminating_step():
    e = torch.tensor([[1.0, 2.0, 3.0, 100.0, 0.0], [4.0, 0.0, 0.0, 0.0, 0.0]])
    mean_h, mean_o = attempt_means(e, 2 * e, torch.tensor([4, 1]))
    torch.testing.assert_close(mean_h, torch.tensor([2.0, 4.0]))  # (1+2+3)/3; a 1-step attempt keeps its step
    torch.testing.assert_close(mean_o, torch.tensor([4.0, 8.0]))


def test_attempt_values_average_errors_and_sum_contact_counts():
    per_step = torch.stack([v(E_h=0.1, E_hand=0.02, hand_contact_tp=1, hand_contact_fn=1),
                            v(E_h=0.3, E_hand=0.04, hand_contact_tp=2),
                            v(E_h=9.0, E_hand=9.0, hand_contact_fp=2)])[None]  # the last step fails
    (row,) = attempt_values(per_step, torch.tensor([3]))
    assert row[METRICS["E_h"]] == pytest.approx(0.2) and row[METRICS["E_hand"]] == pytest.approx(0.03)
    assert (row[METRICS["hand_contact_tp"]], row[METRICS["hand_contact_fn"]], row[METRICS["hand_contact_fp"]]) == (3, 1, 0)


def test_accumulator_grows_and_returns_per_step_traces():
    acc = EpisodeAccumulator(2, "cpu", capacity=2)
    for k in range(5):
        acc.add(torch.stack([v(E_h=0.01 * (k + 1), E_o=0.02), v(E_h=0.5)]))
    steps, values, traces = acc.take(torch.tensor([0]))
    assert steps.tolist() == [5]
    assert values[0, METRICS["E_h"]].item() == pytest.approx(0.025)  # steps 1..4
    assert traces[0].e_h_cm == pytest.approx([1.0, 2.0, 3.0, 4.0, 5.0])
    assert acc.steps.tolist() == [0, 5]


def test_clip_table_keeps_the_longest_then_the_lower_error_attempt():
    table = ClipTable(_clips())
    assert table.offer(0, 10, False, v(E_h=0.10, E_o=0.10), "fall", StepTrace([1.0], [1.0]))
    assert table.offer(0, 20, False, v(E_h=0.30, E_o=0.30), "object_error")  # longer wins despite larger errors
    assert not table.offer(0, 20, False, v(E_h=0.40, E_o=0.40), "fall")  # same length, larger error
    assert table.offer(0, 20, False, v(E_h=0.20, E_o=0.20), "hand_contact")  # same length, smaller error
    assert not table.offer(0, 5, True, v(), "clip_end")
    r = table.results[0]
    assert (r.steps, r.cause, r.attempts) == (20, "hand_contact", 5)
    assert r.e_h_cm == pytest.approx(20.0)
    assert not table.done(1)
    table.offer(1, 49, True, v(E_h=0.01, E_o=0.02), "clip_end")
    assert table.done(1)
    s = table.summary(30.0)
    assert s["causes"] == {"clip_end": 1, "hand_contact": 1}
    assert s["attempt_causes"] == {"clip_end": 2, "fall": 2, "hand_contact": 1, "object_error": 1}
    assert s["success_rate"] == 0.5 and s["duration_steps"] == pytest.approx(34.5)


def test_written_report_reproduces_the_printed_table(tmp_path):
    from intermimic.evaluation.report import format_report

    table = ClipTable(_clips())
    table.offer(0, 12, False, v(E_h=0.2, E_o=0.1, E_hand=0.04, E_hand_L=0.03, E_hand_R=0.05, E_finger=0.1,
                                hand_contact_tp=3, hand_contact_fp=1, hand_contact_fn=2, hand_contact_tn=4),
                "key_body_error", StepTrace([1.0, 30.0], [2.0, 9.0], [2.0, 6.0]))  # fmt: skip
    table.offer(1, 49, True, v(E_h=0.05, E_o=0.07, E_hand=0.02, E_hand_L=0.02, E_hand_R=0.02, E_finger=0.3,
                               hand_contact_tp=1, hand_contact_fn=2),
                "clip_end", StepTrace([5.0] * 49, [7.0] * 49, [2.0] * 49))  # fmt: skip
    path = table.write(tmp_path, 30.0, {"checkpoint": "x.pt"})
    text = format_report(json.loads(path.read_text()))
    assert text == format_report(table.report(30.0, {"checkpoint": "x.pt"}))
    assert "sub1_box_000" in text and "key_body_error" in text
    assert "2 clips | success 50.0% (1/2)" in text and "E_h 12.50 cm | E_o 8.50 cm" in text
    # the hands: E_hand per clip mean, finger error in degrees, contact pooled over the clips
    s = table.summary(30.0)
    assert s["E_hand_cm"] == pytest.approx(3.0) and s["E_hand_L_cm"] == pytest.approx(2.5)
    assert s["finger_error_deg"] == pytest.approx(np.degrees(0.2))
    assert s["hand_contact_precision"] == pytest.approx(4 / 5) and s["hand_contact_recall"] == pytest.approx(4 / 8)
    assert s["hand_contact_labelled"] == 13
    assert "E_hand 3.00 cm (L 2.50, R 3.50)" in text and "hand contact precision 80.0% recall 50.0%" in text
    rows = (tmp_path / "evaluation.csv").read_text().splitlines()
    assert rows[0].endswith("hand_contact_precision,hand_contact_recall") and rows[1].endswith(",0.7500,0.6000")
    for png in ("clips.png", "errors.png", "hands.png"):
        assert (tmp_path / png).stat().st_size > 5000, png


def _frames(n):
    from intermimic.assets.humanoid_spec import BODY_OFFSETS, PARENT_INDICES
    from intermimic.evaluation.video import SceneFrame

    pos = np.zeros((len(PARENT_INDICES), 3))
    for i, p in enumerate(PARENT_INDICES):  # the rest pose from the body offsets
        pos[i] = (pos[p] if p >= 0 else np.array([0.0, 0.0, 0.95])) + np.asarray(BODY_OFFSETS[i])
    cube = np.random.default_rng(0).uniform(-0.2, 0.2, size=(300, 3)) + [0.5, 0.0, 0.7]
    return [SceneFrame(pos + [0.02 * k, 0, 0], cube + [0.02 * k, 0, 0], pos, cube, f"frame {k}") for k in range(n)]


def test_video_writer_makes_a_playable_mp4(tmp_path):
    from intermimic.evaluation.video import Mp4Writer, SkeletonRenderer, read_video_frames

    renderer = SkeletonRenderer()
    writer = Mp4Writer(tmp_path / "v.mp4", 30.0)
    for f in _frames(12):
        writer.write(renderer.render(f))
    assert writer.close() == tmp_path / "v.mp4"
    frames, size = read_video_frames(tmp_path / "v.mp4")
    assert len(frames) == 12 and size == (640, 480)
    assert frames[5].astype(np.float32).std() > 10
    assert not list(tmp_path.glob(".*partial*"))
    empty = Mp4Writer(tmp_path / "none.mp4", 30.0)
    assert empty.close() is None and not list(tmp_path.glob("*none*"))


def test_retargeted_clip_layout():
    from intermimic.retarget.from_rollouts import build_clip
    from intermimic.motion import clip_format as cf

    source = torch.rand(10, cf.CLIP_WIDTH)
    frames = torch.rand(9, cf.CLIP_WIDTH)  # simulated frames 0..8
    for first_row, rows in ((1, 10), (0, 9)):
        out = build_clip(source, first_row, frames)
        assert out.shape == (rows, cf.CLIP_WIDTH)
        pose = [n for n in cf.COLUMNS if n not in ("contact", "obj_manipulated")]
        for name in pose:
            col = cf.COLUMNS[name].slice
            assert out[0, col].abs().max() == 0  # placeholder row
            torch.testing.assert_close(out[1:, col], frames[1 - first_row : rows - first_row, col])
        for name in ("contact", "obj_manipulated"):
            col = cf.COLUMNS[name].slice
            torch.testing.assert_close(out[:, col], source[:rows, col])
    assert build_clip(source, 1, frames[:4]).shape[0] == 5  # an attempt that ended early: cut

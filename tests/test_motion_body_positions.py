"""Body positions against the joint rotations (rigid bones): found by clip, body and frames, and
repaired from forward kinematics, in validation, ``data inspect``, training's data and ``retarget-robot``.

The reference is physics: a bone is rigid, so a body sits at a fixed offset in its parent's frame
and forward kinematics of the joint rotations reproduces the stored positions. The displaced
clip is a sample clip with one finger's stored positions moved on a few frames; its untouched
original is what the repair must give back.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from intermimic.assets import humanoid_spec as spec
from intermimic.motion import clip_format as cf
from intermimic.motion.body_positions import POSITION_TOL, fk_positions, frame_ranges, position_faults
from intermimic.motion.clip_io import load_clip_file, save_clip_file
from intermimic.motion.demo.synthetic import synthetic_clip
from intermimic.motion.kinematics import forward_kinematics, hinge_to_exp_map
from intermimic.motion.reader import read_dataset_report
from intermimic.motion.threads import single_thread
from intermimic.motion.validation import BodyPositionError, check_clip
from intermimic.utils import rotations as rot

from conftest import G1_URDF, load_script, require_sample_data

pytestmark = pytest.mark.unit

CLIP = "sub2_largetable_000"
BODY = "R_Index1"
DISPLACED_ROWS = (20, 21, 22, 23, 60, 61, 100)
DISPLACEMENT = (0.25, -0.40, 0.10)  # 48 cm, the size of the jumps seen in raw OMOMO clips


def _body_columns(name: str) -> slice:
    start = cf.COLUMNS["body_pos"].start + 3 * spec.body_index(name)
    return slice(start, start + 3)


def _displaced(clip: torch.Tensor, rows=DISPLACED_ROWS, body=BODY, delta=DISPLACEMENT) -> torch.Tensor:
    out = clip.clone()
    out[list(rows), _body_columns(body)] += torch.tensor(delta)
    return out


@pytest.fixture(scope="module")
def sample_clip() -> torch.Tensor:
    return load_clip_file(require_sample_data() / "OMOMO_new" / f"{CLIP}.pt").float()


@pytest.fixture()
def displaced_folder(tmp_path, sample_clip):
    """A release-layout folder: the displaced clip and an untouched one, with the sample objects."""
    data = require_sample_data()
    clips = tmp_path / "data" / "OMOMO_new"
    save_clip_file(clips / f"{CLIP}.pt", _displaced(sample_clip))
    other = "sub2_largetable_001"
    save_clip_file(clips / f"{other}.pt", load_clip_file(data / "OMOMO_new" / f"{other}.pt"))
    (tmp_path / "data" / "objects").symlink_to(data / "objects")
    return tmp_path / "data"


# -------------------------------------------------------------------------------------------------
# Forward kinematics and the check on clean clips
# -------------------------------------------------------------------------------------------------
def test_forward_kinematics_of_a_synthetic_clip_reproduces_its_positions():
    """Synthetic clips are made by the humanoid's forward kinematics (hinge joints): the check's
    own forward kinematics (exponential maps, the clip's median skeleton) gives the same points."""
    clip = synthetic_clip(90, seed=3)
    assert (fk_positions(clip) - cf.field(clip, "body_pos")).norm(dim=-1).max() < 1e-5
    assert position_faults(clip) == []
    # a skeleton of other proportions (another subject) is measured from the clip, not assumed
    dof = torch.randn(40, spec.NUM_DOFS, generator=torch.Generator().manual_seed(1)) * 0.3
    root_pos, root_quat = torch.tensor([0.0, 0.0, 1.0]).expand(40, 3), rot.yaw_quat(torch.linspace(0, 2, 40))
    offsets = torch.tensor(spec.BODY_OFFSETS) * 1.3
    pos, quat = forward_kinematics(root_pos, root_quat, dof, "hinge", body_offsets=offsets)
    big = cf.assemble(root_pos=root_pos, root_quat=root_quat, dof_pos=hinge_to_exp_map(dof), body_pos=pos, body_quat=quat)
    assert position_faults(big) == []


def test_sample_clips_as_shipped_pass():
    """Raw capture and teacher rollouts alike: every body within a tiny fraction of the tolerance."""
    data = require_sample_data()
    files = sorted((data / "OMOMO_new").glob("*.pt")) + sorted((data / "OMOMO_retarget").glob("*.pt"))
    assert len(files) == 54
    worst = 0.0
    with single_thread():  # small tensors: one thread is fastest (as the reader runs)
        for path in files:
            clip = load_clip_file(path).float()
            clip = clip[1:] if path.parent.name == "OMOMO_retarget" else clip  # row 0: placeholder
            check_clip(clip, path)
            worst = max(worst, float((fk_positions(clip) - cf.field(clip, "body_pos")).norm(dim=-1).max()))
    assert worst < POSITION_TOL / 50, f"largest distance to forward kinematics {worst * 1000:.3f} mm"


def test_frame_ranges():
    assert frame_ranges([3, 4, 5, 9, 11, 12]) == "3-5, 9, 11-12"
    assert frame_ranges(range(0, 20, 2), limit=3) == "0, 2, 4, ... (7 more ranges)"


# -------------------------------------------------------------------------------------------------
# A displaced finger: found, named, repaired
# -------------------------------------------------------------------------------------------------
def test_validation_names_clip_body_and_frames(sample_clip):
    with pytest.raises(BodyPositionError) as err:
        check_clip(_displaced(sample_clip), f"{CLIP}.pt")
    (fault,) = err.value.faults
    assert fault.body == BODY and fault.frames == DISPLACED_ROWS
    assert fault.max_offset == pytest.approx(math.dist((0, 0, 0), DISPLACEMENT), abs=1e-3)
    assert fault.max_bone_change > 0.1  # the wrist-to-finger bone stretches by tens of cm
    message = str(err.value)
    assert message.startswith(f"{CLIP}.pt: body positions do not follow the joint rotations")
    assert f"{BODY} at 7 frame(s) (20-23, 60-61, 100)" in message and "dataset.repair_positions=true" in message


def test_a_displacement_that_keeps_the_bone_length_is_found(sample_clip):
    """A finger point swung about its wrist keeps its bone's length; forward kinematics still finds it."""
    clip = sample_clip.clone()
    wrist = cf.field(clip, "body_pos")[:, spec.body_index("R_Wrist")]
    finger = cf.field(clip, "body_pos")[:, spec.body_index(BODY)]
    turn = rot.from_exp_map(torch.tensor([0.0, 0.0, 0.8]))
    rows = [30, 31, 32]
    clip[rows, _body_columns(BODY)] = wrist[rows] + rot.rotate(turn.expand(3, 4), finger[rows] - wrist[rows])
    moved = (cf.field(clip, "body_pos") - cf.field(sample_clip, "body_pos")).norm(dim=-1).max()
    assert moved > 4 * POSITION_TOL
    (fault,) = position_faults(clip)
    assert (fault.body, fault.frames) == (BODY, tuple(rows))
    assert fault.max_bone_change < 1e-4 and fault.max_offset == pytest.approx(float(moved), abs=1e-4)


def test_repair_restores_the_untouched_positions(sample_clip):
    repaired: list = []
    fixed = check_clip(_displaced(sample_clip), CLIP, repair_positions=True, repaired=repaired)
    assert [(f.body, f.frames) for f in repaired] == [(BODY, DISPLACED_ROWS)]
    assert (cf.field(fixed, "body_pos") - cf.field(sample_clip, "body_pos")).abs().max() < 1e-5
    other = torch.ones(cf.CLIP_WIDTH, dtype=torch.bool)
    other[cf.COLUMNS["body_pos"].slice] = False
    assert torch.equal(fixed[:, other], sample_clip[:, other])  # nothing else changes
    check_clip(fixed, CLIP)  # the repaired clip passes the same check


def test_reader_rejects_and_repairs_with_file_rows(tmp_path, sample_clip):
    """Corrected clips: frames are file rows (row 0 is the placeholder); the repair applies to both sources."""
    data = require_sample_data()
    raw_dir, corr_dir = tmp_path / "raw", tmp_path / "corr"
    save_clip_file(raw_dir / f"{CLIP}.pt", load_clip_file(data / "OMOMO_new" / f"{CLIP}.pt"))
    corrected = load_clip_file(data / "OMOMO_retarget" / f"{CLIP}.pt").float()
    save_clip_file(corr_dir / f"{CLIP}.pt", _displaced(corrected, rows=(5, 6)))
    from types import SimpleNamespace

    cfg = SimpleNamespace(files=[str(raw_dir)], corrected=[str(corr_dir)], subjects=[], objects_dir=str(data / "objects"),
                          strict=False, future_horizon=16)  # fmt: skip
    report = read_dataset_report(cfg, progress=False)
    assert report.clips == [] and len(report.rejected) == 1
    ((path, faults, row_offset),) = report.position_faults
    assert path == str(corr_dir / f"{CLIP}.pt") and row_offset == 1
    assert [(f.body, tuple(r + row_offset for r in f.frames)) for f in faults] == [(BODY, (5, 6))]
    assert f"{BODY} at 2 frame(s) (5-6)" in report.rejected[0].reason
    cfg.repair_positions = True
    report = read_dataset_report(cfg, progress=False)
    assert len(report.clips) == 1 and report.rejected == [] and len(report.repaired) == 1
    fixed = report.clips[0].corrected
    assert (cf.field(fixed, "body_pos") - cf.field(corrected[1:], "body_pos")).abs().max() < 1e-5


def test_training_data_option(displaced_folder, sample_clip):
    """``dataset.repair_positions=true`` reaches the motion data config; the repaired clip loads
    with the untouched clip's positions."""
    from intermimic.app.presets import dataset_overrides
    from intermimic.motion.config import MotionDataCfg
    from intermimic.motion.loader import select_clips

    cfg = MotionDataCfg()
    cfg.files = [str(displaced_folder / "OMOMO_new")]
    cfg.objects_dir = str(displaced_folder / "objects")
    selection = select_clips(cfg, verbose=False)
    assert [c.info.name for c in selection.clips] == ["sub2_largetable_001"] and len(selection.rejected) == 1
    for key, value in dataset_overrides(None, ["repair_positions=true"]).items():
        setattr(cfg, key, value)
    assert cfg.repair_positions is True
    selection = select_clips(cfg, verbose=False)
    assert len(selection.clips) == 2 and len(selection.repaired) == 1
    loaded = next(c for c in selection.clips if c.info.name == CLIP).raw
    assert (cf.field(loaded, "body_pos") - cf.field(sample_clip, "body_pos")).abs().max() < 1e-5


def test_data_inspect_reports_and_repairs(displaced_folder, capsys):
    inspect = load_script("inspect_data")
    assert inspect.main([str(displaced_folder), "--json"]) == 1
    s = json.loads(capsys.readouterr().out)
    assert s["clips"] == 1 and s["rejected_files"] == 1
    ((entry),) = s["body_positions_off"]
    assert entry["path"] == str(displaced_folder / "OMOMO_new" / f"{CLIP}.pt")
    ((body),) = entry["bodies"]
    assert body["body"] == BODY and body["frames"] == list(DISPLACED_ROWS) and body["max_offset_cm"] > 40
    assert inspect.main([str(displaced_folder)]) == 1
    text = capsys.readouterr().out
    assert "body positions that do not follow the joint rotations" in text and f"{CLIP}.pt" in text
    assert f"{BODY}: 7 frame(s) (20-23, 60-61, 100)" in text
    assert inspect.main([str(displaced_folder), "--repair-positions", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["clips"] == 2 and s["rejected"] == [] and s["body_positions_off"] == []
    assert [b["body"] for e in s["body_positions_repaired"] for b in e["bodies"]] == [BODY]


def test_retarget_robot_skips_then_repairs(displaced_folder, tmp_path):
    """Without the option the displaced clip is not converted (one line), the other is; with it both are."""
    if not G1_URDF.is_file():
        pytest.skip(f"G1 description absent: {G1_URDF}")
    script = load_script("retarget_robot")
    common = ["--urdf", str(G1_URDF), str(displaced_folder / "OMOMO_new"), "--max-frames", "3"]
    result = script.main([*common, str(tmp_path / "plain")])
    assert [r["clip"] for r in result["converted"]] == ["sub2_largetable_001"]
    ((failed),) = result["failed"]
    assert failed["clip"] == CLIP and f"{BODY} at 7 frame(s)" in failed["reason"]
    result = script.main([*common, str(tmp_path / "repaired"), "--repair-positions"])
    assert sorted(r["clip"] for r in result["converted"]) == [CLIP, "sub2_largetable_001"] and result["failed"] == []
    row = next(r for r in result["converted"] if r["clip"] == CLIP)
    assert row["positions_repaired"] == [BODY]

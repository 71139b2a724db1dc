"""retarget-robot: SMPL-X clips -> Unitree G1 + Dex3 reference clips.

The robot clips are checked independently of the code that wrote them: forward kinematics with
a MuJoCo model compiled here from the URDF (fixed base, the root pose applied by hand), joint
limits read from the URDF's XML with ElementTree. Quality thresholds are those of docs/g1.md,
measured on all 54 sample clips (see there); here a short stretch of two clips is converted.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from conftest import G1_URDF, load_script, retarget_sample_clips

pytestmark = pytest.mark.unit

URDF = G1_URDF
needs_urdf = pytest.mark.skipif(not URDF.is_file(), reason=f"G1 description absent: {URDF}")
CLIPS = ("sub2_largetable_000", "sub2_woodchair_010")
FRAMES = 60
"""Enough for both clips to reach hand-object contacts (woodchair_010 starts with one)."""
KEY_ERROR_MEAN_CM = 4.0
CONTACT_DISTANCE_ERROR_MEAN_CM = 4.0
FOOT_SLIDE_MAX_CM = 5.0


def _quat_matrix(q):
    """xyzw -> rotation matrix (written here, not imported: the test checks the writer)."""
    x, y, z, w = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])  # fmt: skip


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """Two sample clips converted (first FRAMES frames): (output folder, report)."""
    out = retarget_sample_clips(tmp_path_factory.mktemp("g1_clips"), "OMOMO_new", CLIPS, FRAMES)
    return out, json.loads((out / "retarget_robot.json").read_text())


def _load(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def test_every_clip_converted_with_its_report(converted):
    out, report = converted
    assert [r["clip"] for r in report["clips"]] == list(CLIPS) and not report["failed"]
    for name in CLIPS:
        clip = _load(out / f"{name}.npz")
        T = FRAMES
        assert str(clip["robot"]) == "g1_dex3" and str(clip["source"]) == name and float(clip["fps"]) == 30.0
        assert clip["joint_names"].shape == (43,) and clip["dof_pos"].shape == (T, 43)
        assert clip["root_pos"].shape == (T, 3) and clip["root_quat"].shape == (T, 4)
        B = len(clip["body_names"])
        assert clip["body_pos"].shape == (T, B, 3) and clip["body_quat"].shape == (T, B, 4)
        assert clip["object_pos"].shape == (T, 3) and clip["object_quat"].shape == (T, 4)
        assert clip["contact"].shape == (T, 19) and set(np.unique(clip["contact"])) <= {-1, 0, 1}
        assert float(clip["scale"]) == 0.75  # the release's G1 scaling, the default for every clip
        assert clip["object_contact"].shape == (T,)
        assert np.allclose(np.linalg.norm(clip["root_quat"], axis=-1), 1.0, atol=1e-5)


@needs_urdf
def test_forward_kinematics_reproduces_the_body_poses(converted):
    """A fixed-base MuJoCo model of the URDF, posed with dof_pos, then moved by (root_pos,
    root_quat), puts every body where body_pos says."""
    import mujoco

    root = ET.parse(URDF).getroot()
    for block in root.findall("mujoco"):
        root.remove(block)
    root.insert(0, ET.fromstring(f'<mujoco><compiler meshdir="{URDF.parent}" fusestatic="false" '
                                 'discardvisual="true"/></mujoco>'))  # fmt: skip
    model = mujoco.MjModel.from_xml_string(ET.tostring(root, encoding="unicode"))
    data = mujoco.MjData(model)
    out, _ = converted
    for name in CLIPS:
        clip = _load(out / f"{name}.npz")
        adr = [model.jnt_qposadr[model.joint(str(j)).id] for j in clip["joint_names"]]
        bodies = [model.body(str(b)).id for b in clip["body_names"]]
        for t in range(0, FRAMES, 7):
            data.qpos[adr] = clip["dof_pos"][t]
            mujoco.mj_kinematics(model, data)
            R = _quat_matrix(clip["root_quat"][t].astype(np.float64))
            world = clip["root_pos"][t] + data.xpos[bodies] @ R.T
            np.testing.assert_allclose(clip["body_pos"][t], world, atol=2e-4)
            for i, b in enumerate(bodies[:: len(bodies) // 6]):
                mat = R @ data.xmat[b].reshape(3, 3)
                stored = _quat_matrix(clip["body_quat"][t, i * (len(bodies) // 6)].astype(np.float64))
                np.testing.assert_allclose(stored, mat, atol=1e-3)


@needs_urdf
def test_joint_limits_of_the_urdf_hold(converted):
    limits = {j.get("name"): (float(j.find("limit").get("lower")), float(j.find("limit").get("upper")))
              for j in ET.parse(URDF).getroot().iter("joint") if j.get("type") == "revolute"}  # fmt: skip
    out, report = converted
    for name in CLIPS:
        clip = _load(out / f"{name}.npz")
        assert set(clip["joint_names"].tolist()) == set(limits)
        lower = np.array([limits[str(j)][0] for j in clip["joint_names"]])
        upper = np.array([limits[str(j)][1] for j in clip["joint_names"]])
        assert np.all(clip["dof_pos"] >= lower - 1e-5) and np.all(clip["dof_pos"] <= upper + 1e-5)
    assert all(r["joint_limit_violations"] == 0 for r in report["clips"])


def test_quality_within_the_documented_thresholds(converted):
    _, report = converted
    for row in report["clips"]:
        assert row["key_error_mean_cm"] < KEY_ERROR_MEAN_CM, row
        assert row["contact_frames"] > 0 and row["contact_distance_error_mean_cm"] < CONTACT_DISTANCE_ERROR_MEAN_CM, row
        assert row["foot_rest_spans"] > 0 and row["foot_slide_max_cm"] < FOOT_SLIDE_MAX_CM, row
        assert row["penetration_max_cm"] is not None
    contact = _load(converted[0] / f"{CLIPS[0]}.npz")
    assert contact["object_contact"].any() and (contact["contact"] == 1).any()


@needs_urdf
def test_the_manifest_names_its_paths_relative_to_itself(tmp_path, sample_data):
    """dataset.yaml holds no absolute path and keeps symbolic links: the clips and their objects
    folder (here a link to the sample objects) read the same after the whole folder moved."""
    from intermimic.motion.config import MotionDataCfg
    from intermimic.motion.reader import read_dataset_report

    first = tmp_path / "first"
    (first / "data").mkdir(parents=True)
    (first / "data" / "objects").symlink_to(sample_data / "objects")
    load_script("retarget_robot").main(["--urdf", str(URDF), str(sample_data / "OMOMO_new"), str(first / "clips"),
                                        "--clips", CLIPS[1], "--max-frames", "20", "--objects-dir",
                                        str(first / "data" / "objects"), "--scale", "per-clip"])  # fmt: skip
    text = "\n".join(x for x in (first / "clips" / "dataset.yaml").read_text().splitlines() if "description" not in x)
    assert str(tmp_path) not in text and str(sample_data) not in text and "${manifest_dir}" in text
    assert float(np.load(first / "clips" / f"{CLIPS[1]}.npz")["scale"]) != 0.75  # per-clip: the leg-length ratio
    moved = tmp_path / "moved"
    first.rename(moved)
    report = read_dataset_report(MotionDataCfg(files=[str(moved / "clips" / "dataset.yaml")], embodiment="g1_dex3"),
                                 progress=False)  # fmt: skip
    assert [c.info.name for c in report.clips] == [CLIPS[1]] and not report.rejected
    assert report.objects_dir == str(moved / "clips" / ".." / "data" / "objects")


# -------------------------------------------------------------------------------------------------
# Bad input
# -------------------------------------------------------------------------------------------------
def _demo_data(folder: Path) -> Path:
    """A data folder with one good (demo) clip and two bad files."""
    import torch

    from intermimic.motion.clip_io import save_clip_file
    from intermimic.motion.demo.clips import demo_clip

    folder.mkdir()
    save_clip_file(folder / "sub0_demobox_000.pt", demo_clip("lift_and_place")[:40])
    (folder / "sub0_demobox_001.pt").write_bytes(b"this is not a clip")
    torch.save(torch.zeros(30, 100), folder / "sub0_demobox_002.pt")
    return folder


@needs_urdf
def test_a_malformed_clip_is_reported_and_the_others_converted(tmp_path, capsys):
    data = _demo_data(tmp_path / "data")
    out = tmp_path / "out"
    result = load_script("retarget_robot").main(["--urdf", str(URDF), str(data), str(out), "--max-frames", "12"])
    assert [r["clip"] for r in result["converted"]] == ["sub0_demobox_000"]
    assert sorted(f["clip"] for f in result["failed"]) == ["sub0_demobox_001", "sub0_demobox_002"]
    assert (out / "sub0_demobox_000.npz").is_file() and not (out / "sub0_demobox_001.npz").exists()
    err = [line for line in capsys.readouterr().err.splitlines() if "not converted:" in line]
    assert len(err) == 2 and any("cannot read it" in line for line in err) and any("591" in line for line in err)
    report = json.loads((out / "retarget_robot.json").read_text())
    assert len(report["failed"]) == 2 and report["summary"]["clips"] == 1


@needs_urdf
def test_nothing_converted_exits_with_one_line(tmp_path, capsys):
    data = _demo_data(tmp_path / "data")
    with pytest.raises(SystemExit) as exc:
        load_script("retarget_robot").main(["--urdf", str(URDF), str(data), str(tmp_path / "out"),
                                            "--clips", "sub0_demobox_001", "sub0_demobox_002"])  # fmt: skip
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith("[intermimic] error: no clip converted")


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--urdf", "/no/such.urdf", "demo", "out"], "--urdf /no/such.urdf: no such file"),
        (["--urdf", str(URDF), "/no/such/folder", "out"], "DATA_DIR /no/such/folder: no such file or folder"),
        (["--urdf", str(URDF), "demo", "out", "--clips", "nope"], "--clips: no clip named nope"),
        (["--urdf", str(URDF), "demo", "out", "--scale", "-1"], "argument --scale"),
        (["--urdf", str(URDF), "demo", "out", "--scale", "big"], "or 'per-clip', got 'big'"),
        (["--urdf", str(URDF), "demo", "out", "--robot", "atlas"], "argument --robot"),
    ],
)
def test_user_mistakes_are_one_line(args, expected, tmp_path, capsys, monkeypatch):
    if str(URDF) in args and not URDF.is_file():
        pytest.skip(f"G1 description absent: {URDF}")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        load_script("retarget_robot").main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("[intermimic] error: ") and expected in err[0], err


def test_a_urdf_that_is_not_a_robot_is_one_line(tmp_path, capsys):
    bad = tmp_path / "robot.urdf"
    bad.write_text("<notarobot/>")
    with pytest.raises(SystemExit):
        load_script("retarget_robot").main(["--urdf", str(bad), "demo", str(tmp_path / "out"), "--clips",
                                            "sub0_demobox_000_stand_squat_stand"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--urdf {bad}" in err[0] and "not a URDF" in err[0]


# -------------------------------------------------------------------------------------------------
# Pieces without the robot
# -------------------------------------------------------------------------------------------------
def _tiny_clip(T=4, B=3, J=2):
    from intermimic.motion.robot_clip import RobotClip

    quat = np.tile([0.0, 0.0, 0.0, 1.0], (T, 1))
    return RobotClip(
        robot="g1_dex3", source="x", fps=30.0, scale=0.75, joint_names=("a", "b")[:J], body_names=("r", "s", "t")[:B],
        root_pos=np.zeros((T, 3)), root_quat=quat, dof_pos=np.zeros((T, J)), body_pos=np.zeros((T, B, 3)),
        body_quat=np.tile(quat[:, None], (1, B, 1)), object_name="box", object_pos=np.zeros((T, 3)), object_quat=quat,
        contact_body_names=("r",), contact=np.zeros((T, 1)), object_contact=np.ones(T),
    )  # fmt: skip


def test_robot_clip_round_trip_and_checks(tmp_path):
    from intermimic.motion.robot_clip import RobotClipError, load_robot_clip, save_robot_clip

    path = save_robot_clip(tmp_path / "c.npz", _tiny_clip())
    assert not list(tmp_path.glob(".*tmp"))
    back = load_robot_clip(path)
    assert back.joint_names == ("a", "b") and back.object_name == "box" and back.contact.dtype == np.int8
    with pytest.raises(FileExistsError):
        save_robot_clip(path, _tiny_clip())
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(RobotClipError, match="not a robot clip"):
        load_robot_clip(tmp_path / "other.npz")
    broken = _tiny_clip()
    broken.dof_pos = np.zeros((3, 2))
    with pytest.raises(RobotClipError, match="dof_pos has shape"):
        save_robot_clip(tmp_path / "b.npz", broken)


def test_object_surface_signed_distance_of_a_box():
    from intermimic.assets.object_surface import ObjectSurface
    from intermimic.assets.primitives import box_mesh

    half = np.array([0.2, 0.15, 0.15])
    surface = ObjectSurface(*box_mesh(tuple(half)))
    rng = np.random.default_rng(0)
    points = rng.uniform(-0.4, 0.4, size=(4000, 3))
    q = np.abs(points) - half
    exact = np.linalg.norm(np.clip(q, 0, None), axis=1) + np.minimum(q.max(axis=1), 0)
    d = surface.signed_distance(points)
    assert np.all(np.sign(d) == np.sign(exact))
    assert np.abs(d - exact).max() < 0.01
    assert np.allclose(surface.depth(points), np.clip(-d, 0, None))


def test_foot_rest_and_contact_ramps():
    from intermimic.retarget.robot_targets import ramp, segments

    mask = np.array([0, 0, 1, 1, 0, 0, 0, 0], dtype=bool)
    assert segments(mask) == [(2, 4)]
    assert np.allclose(ramp(mask, 2), [0, 0.5, 1, 1, 0.5, 0, 0, 0])
    assert not ramp(np.zeros(5, dtype=bool), 3).any()


@needs_urdf
def test_the_robots_links_are_kept_apart(sample_data):
    """sub2_woodchair_005: retargeted without the self-collision limit, the left thumb sits inside
    the left hip roll link from the first frame on (a G1 arm is shorter than the scaled human
    reach); with it, no frame has two of the robot's links overlapping. Overlap is measured here
    with MuJoCo's own signed distances between the robot's collision meshes (the pairs a
    simulator checks with self-collision on: not welded, not parent and child, not filtered)."""
    import mujoco

    from intermimic.motion.clip_io import load_clip_file
    from intermimic.retarget.robot_ik import solve
    from intermimic.retarget.robot_model import load_robot
    from intermimic.retarget.robot_targets import HumanClip

    robot = load_robot(URDF)
    m = robot.model
    excluded = {frozenset((int(s >> 16), int(s & 0xFFFF))) for s in m.exclude_signature}
    geoms = [g for g in range(m.ngeom) if m.geom_contype[g]]
    weld, parent = m.body_weldid, m.body_parentid

    def checked(a, b):
        ba, bb = int(m.geom_bodyid[a]), int(m.geom_bodyid[b])
        wa, wb = int(weld[ba]), int(weld[bb])
        return not (wa == wb or int(weld[parent[wa]]) == wb or int(weld[parent[wb]]) == wa or frozenset((ba, bb)) in excluded)

    pairs = [(a, b) for i, a in enumerate(geoms) for b in geoms[i + 1 :] if checked(a, b)]
    data, fromto = mujoco.MjData(m), np.zeros(6)

    def deepest(qpos):
        out = []
        for q in qpos:
            data.qpos[:] = q
            mujoco.mj_kinematics(m, data)
            out.append(max(0.0, -min(mujoco.mj_geomDistance(m, data, a, b, 0.05, fromto) for a, b in pairs)))
        return np.array(out)

    human = HumanClip.from_clip(load_clip_file(sample_data / "OMOMO_new" / "sub2_woodchair_005.pt").double(), 30.0).take(12)
    loose = deepest(solve(robot, human, keep_apart=False).qpos)
    assert loose.max() > 0.02  # centimetres deep without the limit
    kept = deepest(solve(robot, human).qpos)
    assert kept.max() < 0.002, kept
    # sub2_woodchair_000: the first frame's own pose has a left finger 5.6 cm inside the left hip
    # roll link; the first frame is opened up as well (before, it stayed, and a step that could not
    # separate the pair ended the frame's iterations)
    human = HumanClip.from_clip(load_clip_file(sample_data / "OMOMO_new" / "sub2_woodchair_000.pt").double(), 30.0).take(3)
    assert deepest(solve(robot, human, keep_apart=False).qpos)[0] > 0.04
    kept = deepest(solve(robot, human).qpos)
    assert kept.max() < 0.002, kept

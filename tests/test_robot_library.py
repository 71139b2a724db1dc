"""Robot clips (``.npz``) in the motion library: which task reads which clips, raw/corrected
pairing, name-matched packing into the embodiment's order, and the G1 task's one-line errors.

The clips here are small synthetic ones written with :func:`save_robot_clip`; the embodiment is
a hand-made :class:`Embodiment` whose order differs from the clip's, so a packing that went by
position instead of by name fails.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import load_script

from intermimic.assets.embodiment_spec import Embodiment
from intermimic.assets.primitives import DEMO_OBJECT_NAME
from intermimic.motion.config import MotionDataCfg
from intermimic.motion.reader import read_dataset_report
from intermimic.motion.robot_clip import RobotClip, save_robot_clip

pytestmark = pytest.mark.unit

JOINTS = ("j_a", "j_b", "j_c")
BODIES = ("root", "arm", "hand", "tip")
CONTACT = ("arm", "hand")


def _clip(frames: int = 30, seed: int = 0, robot: str = "g1_dex3") -> RobotClip:
    rng = np.random.default_rng(seed)
    quat = np.tile([0.0, 0.0, 0.0, 1.0], (frames, 1))
    return RobotClip(
        robot=robot, source=f"sub7_{DEMO_OBJECT_NAME}_000", fps=30.0, scale=0.75, joint_names=JOINTS, body_names=BODIES,
        root_pos=rng.normal(size=(frames, 3)), root_quat=quat, dof_pos=rng.uniform(-1, 1, (frames, 3)),
        body_pos=rng.normal(size=(frames, 4, 3)), body_quat=np.tile(quat[:, None], (1, 4, 1)), object_name=DEMO_OBJECT_NAME,
        object_pos=rng.normal(size=(frames, 3)), object_quat=quat, contact_body_names=CONTACT,
        contact=rng.integers(-1, 2, (frames, 2)), object_contact=rng.integers(0, 2, frames),
    )  # fmt: skip


def _embodiment() -> Embodiment:
    """The clip's robot with joints and bodies in another order."""
    n = len(JOINTS)
    return Embodiment(
        name="g1_dex3", body_names=("root", "hand", "arm", "tip"), joint_names=("j_c", "j_a", "j_b"),
        joint_lower=(-1.0,) * n, joint_upper=(1.0,) * n, stiffness=(1.0,) * n, damping=(0.1,) * n, armature=(0.0,) * n,
        effort_limit=(1.0,) * n, velocity_limit=(1.0,) * n, key_body_names=("arm", "hand"), contact_body_names=CONTACT,
        hand_body_names={"L": ("hand", "tip")}, default_joint_pos=(0.0,) * n, default_root_height=0.9,
        body_parents=(-1, 2, 0, 1), contact_label_sources={"tip": "hand", "root": "arm"},
    )  # fmt: skip


def _data(files, embodiment="g1_dex3", corrected=()):
    return MotionDataCfg(files=[str(f) for f in files], corrected=[str(c) for c in corrected], embodiment=embodiment)


def test_each_task_reads_its_own_kind_of_clip(tmp_path):
    save_robot_clip(tmp_path / "sub7_demobox_000.npz", _clip())
    torch.save(torch.zeros(20, 591), tmp_path / "sub7_demobox_001.pt")
    robot = read_dataset_report(_data([tmp_path]), progress=False)
    assert [c.info.name for c in robot.clips] == ["sub7_demobox_000"] and robot.clips[0].info.subject == 7
    (rejected,) = robot.rejected
    assert rejected.path.endswith("sub7_demobox_001.pt") and "retarget-robot" in rejected.reason
    human = read_dataset_report(_data([tmp_path], embodiment="smplx"), progress=False)
    assert any(r.path.endswith(".npz") and "expected an SMPL-X clip" in r.reason for r in human.rejected)
    save_robot_clip(tmp_path / "other" / "sub7_demobox_002.npz", _clip(robot="h1"))
    other = read_dataset_report(_data([tmp_path / "other"]), progress=False)
    assert "a clip of robot 'h1'" in other.rejected[0].reason


def test_corrected_clips_pair_by_name_and_align_on_the_placeholder_row(tmp_path):
    """retarget-robot drops a corrected clip's placeholder row 0: the raw clip, one frame longer,
    loses its frame 0; other length differences are rejected."""
    raw = _clip(30, seed=1)
    save_robot_clip(tmp_path / "raw" / "sub7_demobox_000.npz", raw)
    save_robot_clip(tmp_path / "corr" / "sub7_demobox_000.npz", _clip(29, seed=2))
    report = read_dataset_report(_data([tmp_path / "raw"], corrected=[tmp_path / "corr"]), progress=False)
    (loaded,) = report.clips
    assert loaded.info.num_frames == 29 and loaded.info.first_row == 1 and loaded.corrected.num_frames == 29
    np.testing.assert_allclose(loaded.raw.dof_pos, raw.dof_pos[1:], rtol=0, atol=1e-6)  # stored as float32
    save_robot_clip(tmp_path / "corr" / "sub7_demobox_000.npz", _clip(25, seed=2), overwrite=True)
    report = read_dataset_report(_data([tmp_path / "raw"], corrected=[tmp_path / "corr"]), progress=False)
    assert not report.clips and "has 25 frames, expected 30" in report.rejected[0].reason


def test_packing_goes_by_name_and_fills_contact_labels_from_the_named_bodies(tmp_path):
    from intermimic.motion.packed import pack_robot_clip

    clip, emb = _clip(12, seed=3), _embodiment()
    packed = pack_robot_clip(clip, None, emb, "cpu")
    for k, name in enumerate(emb.joint_names):
        np.testing.assert_allclose(packed.dof_pos[:, k].numpy(), clip.dof_pos[:, JOINTS.index(name)], rtol=0, atol=1e-6)
    for b, name in enumerate(emb.body_names):
        np.testing.assert_allclose(packed.body_pos[:, b].numpy(), clip.body_pos[:, BODIES.index(name)], rtol=0, atol=1e-6)
        label_of = {"arm": "arm", "hand": "hand", "tip": "hand", "root": "arm"}[name]
        np.testing.assert_array_equal(packed.contact[:, b].numpy(), clip.contact[:, CONTACT.index(label_of)])
    wrong = Embodiment(**{**vars(emb), "joint_names": ("j_a", "j_b", "j_x")})
    with pytest.raises(ValueError, match=r"clip.npz: its joints do not match .*missing \['j_x'\]"):
        pack_robot_clip(clip, None, wrong, "cpu", where="clip.npz")


def test_g1_training_without_clips_or_urdf_says_what_is_missing(tmp_path, capsys):
    save_robot_clip(tmp_path / "sub7_demobox_000.npz", _clip())
    train = load_script("train")
    for args, expected in (
        ([], "a g1_dex3 task needs robot clips (.npz from retarget-robot); pass their folder with --motion DIR"),
        (["--motion", str(tmp_path)], "env.robot_urdf: task InterMimic-G1-Teacher-v0 simulates a robot (g1_dex3)"),
        (["--motion", str(tmp_path), "env.robot_urdf=no/such.urdf"], "env.robot_urdf: no such file or folder"),
        (["--motion", str(tmp_path), "env.humanoid_mjcf=omomo.xml"], "env.humanoid_mjcf: names an SMPL-X humanoid"),
    ):  # fmt: skip
        with pytest.raises(SystemExit) as stopped:
            train.main(["--task", "InterMimic-G1-Teacher-v0", "--device", "cpu", "--log_root", str(tmp_path / "logs"),
                        *args])  # fmt: skip
        assert stopped.value.code == 2
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.startswith("[intermimic] error: ")]
        assert len(lines) == 1 and expected in lines[0] and "Traceback" not in err, err
    assert not (tmp_path / "logs").exists()

"""SMPL-H / SMPL-X body models through the ``smplx`` package, and ``convert --format interact`` on
synthetic InterAct data sets of every kind.

The model files are written by the tests (tests/body_model_helpers.py): the real file formats,
with a joint regressor that reproduces the canonical humanoid's skeleton. Sequences are made
from a known humanoid pose (a demo clip with bent fingers), so a converted clip can be compared
with the pose it came from: joint rotations equal, body positions equal to forward kinematics
on the subject's skeleton, object pose equal up to the floor shift."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch

import body_model_helpers as h
from conftest import load_script
from intermimic.assets import humanoid_spec as spec
from intermimic.assets.object_registry import ObjectRegistry
from intermimic.motion import clip_format as cf
from intermimic.motion.clip_io import load_clip_file
from intermimic.motion.convert.body_model import (  # fmt: skip
    BodyModel,
    body_offsets_from_rest_joints,
    find_model_file,
    read_model_data,
)
from intermimic.motion.convert.interact import DATASETS, scan_sequences, subject_token
from intermimic.motion.convert.posed_body import ConvertOptions, PosedBody, convert_posed
from intermimic.motion.kinematics import forward_kinematics
from intermimic.motion.validation import check_clip
from intermimic.utils import rotations as rot

pytestmark = pytest.mark.unit
POS_TOL = 1e-4  # m: float32 model evaluation
ROT_TOL = 1e-4  # rad
FINGERS = [b - 1 for b in range(1, spec.NUM_BODIES) if spec.is_finger(spec.BODY_NAMES[b])]
BODY = [b - 1 for b in range(1, spec.NUM_BODIES) if not spec.is_finger(spec.BODY_NAMES[b])]


@pytest.fixture(scope="module")
def convert():
    return load_script("convert").main


@pytest.fixture(scope="module")
def known():
    return h.known_clip()


# -------------------------------------------------------------------------------------------------
def test_model_files_of_both_layouts_are_found_and_missing_ones_named(body_models, tmp_path):
    assert find_model_file(body_models, "smplh", "male") == body_models / "smplh" / "SMPLH_MALE.pkl"
    assert find_model_file(body_models, "smplh", "male", prefer="amass") == body_models / "smplh" / "male" / "model.npz"
    assert find_model_file(body_models, "smplh", "neutral") == body_models / "smplh" / "neutral" / "model.npz"
    assert find_model_file(body_models / "smplx", "smplx", "female") == body_models / "smplx" / "SMPLX_FEMALE.npz"
    with pytest.raises(FileNotFoundError, match=r"SMPL-H model file for gender 'female' not found: looked for .*"
                                                r"SMPLH_FEMALE\.pkl.*female/model\.npz.*mano\.is\.tue\.mpg\.de"):  # fmt: skip
        find_model_file(tmp_path, "smplh", "female")
    (tmp_path / "chumpy.pkl").write_bytes(pickle.dumps({"x": 1}).replace(b"builtins", b"chumpy.ch"))
    bad = tmp_path / "SMPLH_MALE.pkl"
    with open(bad, "wb") as f:
        pickle.dump({"v_template": np.zeros((3, 3))}, f)
    with pytest.raises(ValueError, match=r"SMPLH_MALE\.pkl: not a body-model file: missing shapedirs"):
        read_model_data(bad)
    with pytest.raises(ValueError, match="chumpy"):
        read_model_data(tmp_path / "chumpy.pkl")


@pytest.mark.parametrize("model_type, name", [("smplh", "male/model.npz"), ("smplh", "SMPLH_MALE.pkl"),
                                              ("smplx", "SMPLX_MALE.npz"), ("smplx", "SMPLX_MALE.pkl")])  # fmt: skip
def test_a_known_pose_posed_by_smplx_converts_back_to_itself(body_models, known, model_type, name):
    """Model parameters made from a known humanoid pose -> smplx forward pass -> clip: the clip's
    joint rotations are the pose's, its body positions and rotations forward kinematics of them
    (on the canonical skeleton for zero betas, on the subject's skeleton otherwise)."""
    model = BodyModel(body_models / model_type / name, model_type, "male")
    T = known.shape[0]
    for betas in (np.zeros(10), np.linspace(-2.0, 2.0, 10)):
        template = model.shaped_template(betas)
        pose, trans = h.model_parameters(known, model_type, model.rest_joints(template)[0])
        hands = pose[:, model.kind.first_finger : model.kind.first_finger + 30].reshape(T, 90)
        joints, vertices = model.pose(template, pose[:, 0], pose[:, 1:22].reshape(T, 63), hands, trans)
        body = PosedBody(joints, vertices, pose, model.parents, model.vertex_body, model.kind)
        far = torch.tensor([5.0, 0.0, 0.0]).expand(T, 3)  # the demo box well away from the body
        clip = convert_posed(body, far, torch.eye(3).expand(T, 3, 3), "demobox", ObjectRegistry(None),
                             ConvertOptions(object_frame="centred", floor=False)).double()  # fmt: skip
        check_clip(clip, "converted")
        skeleton = torch.as_tensor(body_offsets_from_rest_joints(model.rest_joints(template), model.kind))
        pos, quat = forward_kinematics(cf.field(known, "root_pos"), cf.field(known, "root_quat"),
                                       cf.field(known, "dof_pos"), "exp_map", body_offsets=skeleton)  # fmt: skip
        assert (cf.field(clip, "body_pos") - pos).norm(dim=-1).max() < POS_TOL
        assert rot.angle_between(cf.field(clip, "body_quat"), quat).max() < ROT_TOL
        local = rot.from_exp_map(cf.field(clip, "dof_pos").reshape(T, 51, 3))
        assert rot.angle_between(local, h.humanoid_pose(known)[2]).max() < ROT_TOL
        if not betas.any():
            assert np.abs(skeleton.numpy() - np.asarray(spec.BODY_OFFSETS)).max() < 1e-9
        else:
            assert np.abs(skeleton.numpy() - np.asarray(spec.BODY_OFFSETS)).max() > 0.01  # a different body


def test_shape_and_hand_parameters_are_checked(body_models):
    pkl = BodyModel(body_models / "smplh" / "SMPLH_MALE.pkl", "smplh", "male")
    assert pkl.shape_components == 10
    with pytest.raises(ValueError, match=r"'betas' has 16 shape parameters, but .*SMPLH_MALE\.pkl holds 10"):
        pkl.shaped_template(np.ones(16))
    np.testing.assert_allclose(pkl.shaped_template(np.r_[np.ones(10), np.zeros(6)]), pkl.shaped_template(np.ones(10)))
    with pytest.raises(ValueError, match=r"'vtemp' has shape \(5, 3\), expected \[6890, 3\]"):
        pkl.shaped_template(vtemp=np.zeros((5, 3)))
    coeffs = np.random.default_rng(0).normal(size=(4, 24))
    full = pkl.full_hands(coeffs, add_mean=True)
    want_left = coeffs[:, :12] @ pkl.hand_components["l"][:12] + pkl.hand_mean["l"]
    np.testing.assert_allclose(full[:, :45], want_left)
    with pytest.raises(ValueError, match="hand pose has 91 values"):
        pkl.full_hands(np.zeros((2, 91)), add_mean=False)


def test_subject_tokens_and_clip_names(tmp_path):
    assert [subject_token(s) for s in ("Date03_Sub04_box", "sub10_x_000", "s2_apple_eat_1", "subject01_ball_0",
                                       "Sub01_Object01_Seg_0_box", "20230825_bat")] == [4, 10, 2, 1, 1, None]  # fmt: skip
    for sid, obj in (("b_x_1", "chair_wood"), ("a_y_0", "chair_wood"), ("a_z_1", "table")):
        (tmp_path / sid).mkdir()
        np.savez(tmp_path / sid / "object.npz", name=obj)
        np.savez(tmp_path / sid / "human.npz", gender="male")
    (tmp_path / "broken").mkdir()
    infos = scan_sequences(tmp_path)
    assert [(i.id, i.clip_name) for i in infos] == [("a_y_0", "sub1_chair_wood_000"), ("a_z_1", "sub1_table_000"),
                                                    ("b_x_1", "sub2_chair_wood_000"), ("broken", None)]  # fmt: skip
    assert "broken/human.npz: missing" in infos[-1].problem
    assert [i.clip_name for i in scan_sequences(tmp_path, only=["b_x_1"])] == ["sub2_chair_wood_000"]
    with pytest.raises(FileNotFoundError, match="no sequence nope"):
        scan_sequences(tmp_path, only=["nope"])


# -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_interact_data_sets_convert_to_clips_of_the_known_motion(dataset, body_models, known, convert, tmp_path):
    """Each kind: SMPL-H with 10 (package .pkl) or 16 (AMASS .npz) betas, SMPL-X with 16 betas, PCA
    hands (12 flat-mean, 24 with the mean), GRAB's vtemp at 120 fps, y-up, meshes off-centre."""
    written = h.write_interact_dataset(tmp_path / "data", dataset, body_models, known)
    out = tmp_path / "out"
    assert convert(["--format", "interact", str(tmp_path / "data"), "--dataset", dataset, "--body-models",
                    str(body_models), "--out", str(out)]) == 0  # fmt: skip
    report = json.loads((out / "report.json").read_text())
    assert report["summary"]["converted"] == len(written) and report["summary"]["skipped"] == 0
    T = known.shape[0]
    root_pos, root_quat, local = h.humanoid_pose(known)
    mesh_lowest = []
    for row in report["sequences"]:
        truth = written[row["id"]]
        assert row["frames"] == T and 0 < row["hand_contact_share"] <= 1 and row["model_file"] == str(truth["model"])
        clip = check_clip(load_clip_file(out / f"{row['clip']}.pt"), row["clip"]).double()
        # joint rotations: the known pose's (fingers: what the data set's hand parameters give)
        got = rot.from_exp_map(cf.field(clip, "dof_pos").reshape(T, 51, 3))
        assert rot.angle_between(got[:, BODY], local[:, BODY]).max() < ROT_TOL
        hands = h.model_pose_from_humanoid(local, root_quat, truth["kind"])  # fingers replaced below
        first = truth["kind"].first_finger
        hands[:, first : first + 30] = torch.as_tensor(truth["hands"]).reshape(T, 30, 3)
        want_fingers = h.humanoid_local_rotations(hands, truth["kind"])[:, FINGERS]
        assert rot.angle_between(got[:, FINGERS], want_fingers).max() < ROT_TOL
        assert rot.angle_between(cf.field(clip, "root_quat"), root_quat).max() < ROT_TOL
        # positions: forward kinematics on the subject's skeleton, which its humanoid MJCF holds
        skeleton = body_offsets_from_rest_joints(truth["rest_joints"], truth["kind"])
        assert np.abs(h.mjcf_body_offsets(out / report["humanoids"][str(row["subject"])]) - skeleton).max() < 1e-6
        pos, _ = forward_kinematics(cf.field(clip, "root_pos"), cf.field(clip, "root_quat"), cf.field(clip, "dof_pos"),
                                    "exp_map", body_offsets=torch.as_tensor(skeleton))  # fmt: skip
        assert (pos - cf.field(clip, "body_pos")).norm(dim=-1).max() < POS_TOL
        # the floor moved everything by one vertical shift; the object is where the clip's box was
        shift = cf.field(clip, "root_pos") - root_pos
        assert shift[:, :2].abs().max() < POS_TOL and (shift[:, 2] - shift[0, 2]).abs().max() < POS_TOL
        assert (cf.field(clip, "obj_pos") - cf.field(known, "obj_pos") - shift).norm(dim=-1).max() < POS_TOL
        assert rot.angle_between(cf.field(clip, "obj_quat"), cf.field(known, "obj_quat")).max() < ROT_TOL
        box_bottom = float(cf.field(clip, "obj_pos")[0, 2]) - h.BOX_HALF[2]  # the box stands level in frame 0
        mesh_lowest.append(box_bottom)
        assert box_bottom > -1e-4  # InterAct's rule: nothing of the object below the ground in frame 0
    assert (out / "objects" / "box" / "box.obj").is_file() and (out / "objects" / "box.urdf").is_file()
    centred = ObjectRegistry(out / "objects").mesh("box")
    assert np.abs(np.asarray(centred.vertices).max(0) - np.asarray(h.BOX_HALF)).max() < 1e-6
    if dataset == "grab":
        assert all("120 fps -> 30 fps" in " ".join(r["notes"]) for r in report["sequences"])
    if dataset == "imhd":  # ids without a subject token: numbered
        assert [r["clip"] for r in report["sequences"]] == ["sub1_box_000", "sub2_box_000"]


def test_bad_sequences_are_skipped_with_one_line_each_and_the_rest_converts(body_models, known, convert, tmp_path, capfd):
    data, out = tmp_path / "data", tmp_path / "out"
    written = h.write_interact_dataset(data, "behave", body_models, known)
    good = next(iter(written))
    seqs = data / "behave" / "sequences"

    def variant(name, human=None, obj=None, drop=None):
        import shutil

        shutil.copytree(seqs / good, seqs / name)
        for file, change in (("human.npz", human), ("object.npz", obj)):
            if change or (drop and drop[0] == file):
                d = dict(np.load(seqs / name / file, allow_pickle=True))
                d.update(change or {})
                if drop and drop[0] == file:
                    d.pop(drop[1])
                np.savez(seqs / name / file, **d)

    hum = dict(np.load(seqs / good / "human.npz"))
    nan_poses = hum["poses"].copy()
    nan_poses[7, 4] = np.nan
    variant("Date05_Sub05_box_short", human={"trans": hum["trans"][:-3]})
    variant("Date05_Sub06_box_nan", human={"poses": nan_poses})
    variant("Date05_Sub07_teapot", obj={"name": "teapot"})
    variant("Date05_Sub08_box_25fps", human={"fps": 25})
    variant("Date05_Sub09_box_nobetas", drop=("human.npz", "betas"))
    models = tmp_path / "models_male_only"  # no female SMPL-H file at all
    (models / "smplh").mkdir(parents=True)
    (models / "smplh" / "SMPLH_MALE.pkl").symlink_to(body_models / "smplh" / "SMPLH_MALE.pkl")
    capfd.readouterr()
    status = convert(["--format", "interact", str(data), "--dataset", "behave", "--body-models", str(models),
                      "--out", str(out)])  # fmt: skip
    err = capfd.readouterr().err
    assert status == 1
    report = json.loads((out / "report.json").read_text())
    by_id = {r["id"]: r for r in report["sequences"]}
    expected = {
        "Date05_Sub05_box_short": r"field lengths differ \(human\.npz 'poses' 40, human\.npz 'trans' 37",
        "Date05_Sub06_box_nan": r"human\.npz: field 'poses' has 1 non-finite value\(s\), first at frame 7",
        "Date05_Sub07_teapot": r"object\.npz: field 'name' is 'teapot', which has no mesh in .*objects",
        "Date05_Sub08_box_25fps": r"human\.npz: field 'fps' is 25 fps; expected 30 or a multiple",
        "Date05_Sub09_box_nobetas": r"human\.npz: missing field 'betas'",
        "Date02_Sub02_box_lift": r"human\.npz: field 'gender' is 'female': SMPL-H model file for gender 'female' not "
                                 r"found: looked for .*SMPLH_FEMALE\.pkl",
    }  # fmt: skip
    import re

    for sid, pattern in expected.items():
        assert by_id[sid]["status"] == "skipped" and re.search(pattern, by_id[sid]["reason"]), (sid, by_id[sid]["reason"])
        lines = [line for line in err.splitlines() if line.startswith(f"[intermimic] skipped {sid}: ")]
        assert len(lines) == 1, (sid, err)
    assert by_id[good]["status"] == "converted"
    files = sorted(p.name for p in out.iterdir() if p.is_file())
    assert files == ["dataset.yaml", "report.json", "report.txt", "sub1_box_000.pt"]  # nothing half-written
    assert not list(out.rglob(".*"))  # no temporary files left behind


def test_a_stopped_conversion_resumes_keeping_valid_clips(body_models, known, convert, tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    h.write_interact_dataset(data, "neuraldome", body_models, known)
    args = ["--format", "interact", str(data), "--dataset", "neuraldome", "--body-models", str(body_models), "--out",
            str(out)]  # fmt: skip
    assert convert(args + ["--sequences", "subject01_box_0"]) == 0
    first = (out / "sub1_box_000.pt").stat().st_mtime_ns
    (out / "sub2_box_000.pt").write_bytes(b"a half-written file from another tool")
    assert convert(args) == 0
    report = json.loads((out / "report.json").read_text())
    assert [(r["clip"], r["status"]) for r in report["sequences"]] == [("sub1_box_000", "kept"), ("sub2_box_000", "converted")]
    assert (out / "sub1_box_000.pt").stat().st_mtime_ns == first
    check_clip(load_clip_file(out / "sub2_box_000.pt"), "resumed")
    assert report["summary"]["frames"] == 2 * known.shape[0]


def test_a_converted_folder_is_a_data_set(body_models, known, convert, tmp_path):
    """dataset.yaml loads as a motion data set with the folder's objects, and the preset of a data
    set converts from the paths its 'convert' section gives."""
    from intermimic.app.presets import dataset_overrides
    from intermimic.motion.config import MotionDataCfg
    from intermimic.motion.loader import select_clips

    h.write_interact_dataset(tmp_path / "data", "intercap", body_models, known)
    import os

    env = {"INTERACT_DATA_ROOT": str(tmp_path / "data"), "INTERMIMIC_BODY_MODELS": str(body_models),
           "INTERMIMIC_CLIPS": str(tmp_path / "clips")}  # fmt: skip
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert convert(["--preset", "intercap"]) == 0
        fields = dataset_overrides("intercap", [])
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    out = tmp_path / "clips" / "intercap"
    assert fields["files"] == [str(out)] and fields["objects_dir"] == str(out / "objects")
    selection = select_clips(MotionDataCfg(files=[str(out / "dataset.yaml")]), verbose=False)
    assert sorted(c.info.name for c in selection.clips) == ["sub1_box_000", "sub3_box_000"]
    assert str(selection.objects_dir) == str(out / "objects")


def test_track_reads_unseen_clips_as_the_students_reference(body_models, known, convert, tmp_path):
    """A student observes teacher-corrected references: track gives it each unseen clip as its own
    (the two sources then hold the same frames); a teacher's data is left with the raw clips only."""
    from intermimic.app.configure import resolve_configs
    from intermimic.motion.loader import select_clips
    from intermimic.tasks.motion_data import task_motion_data

    h.write_interact_dataset(tmp_path / "data", "behave", body_models, known)
    out = tmp_path / "clips"
    assert convert(["--format", "interact", str(tmp_path / "data"), "--dataset", "behave", "--body-models",
                    str(body_models), "--out", str(out)]) == 0  # fmt: skip
    track = load_script("track")
    for task, reads_corrected in (("InterMimic-Student-v0", True), ("InterMimic-Teacher-v0", False)):
        args = track.build_parser().parse_args(["--checkpoint", "x", "--task", task, "--device", "cpu", str(out)])
        args.motion = [str(out)]
        env_cfg, _ = resolve_configs(args, [])
        assert track.use_clips_as_references(env_cfg, [str(out)]) == reads_corrected
        data = env_cfg.commands.motion.motion
        assert data.objects_dir == str(out / "objects") and list(data.corrected) == ([str(out)] if reads_corrected else [])
        selection = select_clips(task_motion_data(env_cfg), verbose=False)
        assert sorted(c.info.name for c in selection.clips) == ["sub1_box_000", "sub2_box_000"]
        for c in selection.clips:
            if reads_corrected:
                assert c.info.corrected_path == c.info.path and c.info.first_row == 1 and torch.equal(c.raw, c.corrected)
                assert c.info.num_frames == known.shape[0] - 1
            else:
                assert c.corrected is None and c.info.num_frames == known.shape[0]


def test_interact_contact_rule():
    """InterAct's rule, frame by frame: contact within 2 cm, or the object off the ground and not
    falling; +1 within 5 mm of the closest body (1 cm without contact), -1 beyond 10 cm; feet on
    the ground and still are never -1."""
    from intermimic.motion.convert.contacts import interact_labels

    T = 5
    lw, rw, la, lt = (spec.body_index(n) for n in ("L_Wrist", "R_Wrist", "L_Ankle", "L_Toe"))
    d = torch.full((T, 52), 0.5)
    d[0, lw], d[0, rw] = 0.015, 0.018  # touching: both within 5 mm of the closest
    d[1, lw], d[1, rw] = 0.05, 0.057  # 5 cm: the object is off the ground and still -> in contact
    d[2, lw] = 0.15  # off the ground but nothing within 10 cm -> not in contact
    d[3, lw] = 0.05  # on the ground, 5 cm: no contact
    d[4, lw] = 0.05  # off the ground, but accelerating at +g: "falling" in the release converter's test
    lowest = torch.full((T, 52), 1.0)
    lowest[:, [la, lt]] = 0.0  # the left foot stands on the ground; the right one is lifted
    obj_lowest = torch.tensor([0.5, 0.5, 0.5, 0.0, 0.5], dtype=torch.float64)
    obj_pos = torch.zeros(T, 3, dtype=torch.float64)
    obj_pos[4, 2] = 9.8 / 30**2  # frames 2-4: accelerating upwards at g (frames 0 and 1 copy frames 2 and 3, as there)
    toes = torch.zeros(T, 2, 3, dtype=torch.float64)
    labels, flag = interact_labels(d.double(), lowest.double(), 0.0, obj_lowest, obj_pos, toes)
    assert flag.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert labels[0, lw] == 1 and labels[0, rw] == 1 and labels[1, lw] == 1 and labels[1, rw] == 0
    assert labels[2, lw] == -1 and (labels[3:, lw] == 0).all() and labels[3, rw] == -1
    assert (labels[:, [la, lt]] == 0).all()  # on the ground and still: never -1
    assert (labels[:, spec.body_indices(("R_Ankle", "R_Toe"))] == -1).all()  # lifted: -1 like other far bodies


def test_converting_with_interacts_contact_rule(body_models, known, convert, tmp_path):
    h.write_interact_dataset(tmp_path / "data", "neuraldome", body_models, known)
    for rule in ("distance", "interact"):
        out = tmp_path / rule
        assert convert(["--format", "interact", str(tmp_path / "data"), "--dataset", "neuraldome", "--body-models",
                        str(body_models), "--out", str(out), "--contact-rule", rule]) == 0  # fmt: skip
        report = json.loads((out / "report.json").read_text())
        assert report["meta"]["contact_rule"] == rule and report["summary"]["manipulated_share"] > 0.5
        for row in report["sequences"]:
            clip = check_clip(load_clip_file(out / f"{row['clip']}.pt"), row["clip"])
            assert cf.field(clip, "contact")[:, spec.body_indices(("L_Wrist", "R_Wrist"))].max() == 1


def test_interacts_object_points_are_its_vertices_and_evenly_spread_surface_points():
    """InterAct's rule (commit 0e74c3f) measures distances to 8192 of the mesh's vertices (all of
    them when fewer) and 8192 points spread over its surface by area, the same every run; the
    object's lowest point comes from every vertex. A thin spike that area sampling misses is
    still found through its vertex."""
    import numpy as np

    from intermimic.motion.convert.contacts import (
        INTERACT_SURFACE_POINTS, interact_contact_points, spread_surface, spread_vertices,
    )  # fmt: skip

    # a 1 m square (two triangles) and a 1 mm-wide spike rising 0.5 m from its corner
    v = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0.001, 0, 0], [0, 0.001, 0.5]], dtype=float)
    f = np.array([[0, 1, 2], [0, 2, 3], [0, 4, 5]])
    surface = spread_surface(v, f)
    assert len(surface) == INTERACT_SURFACE_POINTS and np.array_equal(surface, spread_surface(v, f))
    area = np.array([0.5, 0.5, 0.5 * np.linalg.norm(np.cross(v[4] - v[0], v[5] - v[0]))])
    on_spike = (surface[:, 2] > 1e-9).sum()  # the spike's share of the points follows its area
    assert abs(on_spike - INTERACT_SURFACE_POINTS * area[2] / area.sum()) <= 1
    assert np.all(surface[:, 2] < 0.5 - 1e-3)  # area sampling does not reach the spike's tip
    points = interact_contact_points(v, f)
    assert any(np.allclose(p, v[5]) for p in points)  # ... its vertex does
    assert len(spread_vertices(v)) == len(v) and len(np.unique(points, axis=0)) == len(points)
    many = np.random.default_rng(0).normal(size=(20000, 3))
    picked = spread_vertices(many)
    assert len(picked) == 8192 and np.array_equal(picked, spread_vertices(many[::-1]))  # not the file's order


def test_per_frame_betas_take_frame_0_and_say_so_when_frames_differ(tmp_path):
    import numpy as np

    from intermimic.motion.convert.interact import SequenceInfo, sequence_betas

    info = SequenceInfo(id="s", folder=tmp_path)
    same, note = sequence_betas(np.tile(np.arange(16.0), (5, 1)), info)
    assert np.array_equal(same, np.arange(16.0)) and note is None
    varying = np.tile(np.arange(16.0), (5, 1))
    varying[3, 2] += 0.2
    first, note = sequence_betas(varying, info)
    assert np.array_equal(first, np.arange(16.0)) and "frame 0" in note and "0.2" in note
    flat, note = sequence_betas(np.arange(10.0), info)
    assert flat.shape == (10,) and note is None


def test_omomo_reads_smplx_package_files_first(body_models):
    from intermimic.motion.convert.body_model import model_file_candidates
    from intermimic.motion.convert.interact import DATASETS

    first = model_file_candidates(body_models, "smplx", "male", DATASETS["omomo"].prefer)[0]
    assert first.name == "SMPLX_MALE.npz"


def test_release_layout_names_drop_underscores_from_the_object(tmp_path):
    from intermimic.assets.object_registry import ObjectRegistry
    from intermimic.motion.convert.dataset_writer import DatasetWriter

    writer = DatasetWriter(tmp_path, ObjectRegistry(None), out_format="release_pt")
    assert writer._names("sub3_large_box_002", "large_box") == ("sub3_largebox_002", "largebox")
    assert any("'large_box' is written as 'largebox'" in n for n in writer.notes)
    plain = DatasetWriter(tmp_path, ObjectRegistry(None))
    assert plain._names("sub3_large_box_002", "large_box") == ("sub3_large_box_002", "large_box")

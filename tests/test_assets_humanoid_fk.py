"""Forward kinematics of the simulated humanoid against real teacher-corrected clips, on Newton
and on PhysX (kit-less, ``ovphysx``).

The clips' joint columns (exponential maps) are converted to hinge angles, written into the
simulator (through the simulator's joint coordinates: PhysX keeps rotation vectors) together
with the clip's root pose, and the simulator's own forward kinematics places the 52 bodies. They
must land on the clip's recorded body positions (< 1 cm) and global rotations (< 2 degrees) on
every frame: this checks body order, joint axes and order, offsets and the quaternion convention
against data produced by another simulator. The DOFs read back from each simulator (names, order,
limits, gains, armature) must be the embodiment's.
"""

import pytest
import torch

pytestmark = pytest.mark.sim

NUM_ENVS = 8
CLIPS = ("sub2_largetable_000", "sub2_largetable_011", "sub2_woodchair_003")
POS_TOL_M = 0.01
ROT_TOL_DEG = 2.0


def _build_sim(mjcf_path, physics: str):
    import isaaclab.sim as sim_utils
    from isaaclab.scene import InteractiveScene, InteractiveSceneCfg
    from isaaclab.utils import configclass

    from intermimic.assets.humanoid import humanoid_cfg
    from intermimic.tasks.physics import HOIPhysicsCfg, prepare_physx

    @configclass
    class SceneCfg(InteractiveSceneCfg):
        robot = humanoid_cfg(mjcf_path)

    sim_cfg = sim_utils.SimulationCfg(
        dt=1 / 240, device="cpu", gravity=(0.0, 0.0, 0.0), physics=getattr(HOIPhysicsCfg(), physics)
    )
    sim = sim_utils.SimulationContext(sim_cfg)
    prepare_physx(sim, sim_cfg)
    scene = InteractiveScene(SceneCfg(num_envs=NUM_ENVS, env_spacing=3.0))
    sim.reset()
    return sim, scene


@pytest.fixture(
    scope="module", params=[("newton_mjwarp", "canonical"), ("newton_mjwarp", "omomo.xml"), ("ovphysx", "canonical"),
                            ("ovphysx", "omomo.xml")], ids=lambda p: "-".join(p),
)  # fmt: skip
def humanoid_scene(request, sample_data):
    physics, body = request.param
    mjcf = None if body == "canonical" else sample_data / "humanoid" / "omomo.xml"
    sim, scene = _build_sim(mjcf, physics)
    yield scene
    sim.stop()
    sim.clear_instance()


def _joint_coords(robot):
    from intermimic.assets.embodiment import get_embodiment
    from intermimic.assets.joint_coordinates import joint_coordinates

    return joint_coordinates(robot, get_embodiment())


def test_dofs_read_back_are_the_embodiments(humanoid_scene):
    """153 DOFs named ``<Body>_joint:0/1/2`` in canonical order at ``canonical_joint_ids``, each with
    the embodiment's limits, stiffness, damping and armature."""
    from intermimic.assets import humanoid_spec as spec
    from intermimic.assets.embodiment import get_embodiment
    from intermimic.assets.sim_indices import canonical_joint_ids

    robot, emb = humanoid_scene["robot"], get_embodiment()
    ids = canonical_joint_ids(robot)
    assert robot.num_joints == spec.NUM_DOFS and robot.num_bodies == spec.NUM_BODIES
    assert [robot.joint_names[i] for i in ids] == list(spec.SIM_DOF_NAMES)
    data = robot.data
    limits = data.joint_pos_limits.torch[0, ids]
    torch.testing.assert_close(limits[:, 0], torch.tensor(emb.joint_lower), atol=1e-5, rtol=0)
    torch.testing.assert_close(limits[:, 1], torch.tensor(emb.joint_upper), atol=1e-5, rtol=0)
    for name, expected in (("joint_stiffness", emb.stiffness), ("joint_damping", emb.damping),
                           ("joint_armature", emb.armature)):  # fmt: skip
        torch.testing.assert_close(getattr(data, name).torch[0, ids], torch.tensor(expected), atol=1e-6, rtol=1e-6)


def test_spawns_standing_at_its_initial_state(humanoid_scene):
    """Before anything is written, the pelvis is where the initial state says (0.95 m) and
    the lowest body is just above the ground: the asset adds no offset of its own."""
    from intermimic.assets.humanoid import DEFAULT_ROOT_HEIGHT

    robot = humanoid_scene["robot"]
    root = robot.data.root_link_pose_w.torch[:, :3] - humanoid_scene.env_origins
    assert torch.allclose(root, torch.tensor([0.0, 0.0, DEFAULT_ROOT_HEIGHT]).expand_as(root), atol=1e-5)
    lowest = robot.data.body_link_pose_w.torch[..., 2].amin(-1)
    assert ((lowest > 0.0) & (lowest < 0.05)).all()


def _angle_deg(q_a: torch.Tensor, q_b: torch.Tensor) -> torch.Tensor:
    """Angle between two xyzw rotations, degrees."""
    dot = (q_a * q_b).sum(-1).abs().clamp(max=1.0)
    return torch.rad2deg(2 * torch.acos(dot))


@pytest.mark.parametrize("clip_name", CLIPS)
def test_simulated_fk_matches_clip_bodies(humanoid_scene, sample_data, clip_name):
    from intermimic.assets.sim_indices import canonical_body_ids, canonical_joint_ids
    from intermimic.motion.clip_format import field
    from intermimic.motion.kinematics import exp_map_to_hinge

    clip = torch.load(sample_data / "OMOMO_retarget" / f"{clip_name}.pt", map_location="cpu").detach()[1:]
    robot = humanoid_scene["robot"]
    bodies, joints, coords = canonical_body_ids(robot), canonical_joint_ids(robot), _joint_coords(robot)
    origins = humanoid_scene.env_origins
    pos_err, rot_err = [], []
    for start in range(0, clip.shape[0], NUM_ENVS):
        frames = clip[start : start + NUM_ENVS]
        n = frames.shape[0]
        env_ids = torch.arange(n)
        pose = torch.cat([field(frames, "root_pos") + origins[:n], field(frames, "root_quat")], dim=-1)
        robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=env_ids)
        robot.write_joint_position_to_sim_index(
            position=coords.to_sim_pos(exp_map_to_hinge(field(frames, "dof_pos"))), joint_ids=joints, env_ids=env_ids
        )
        body_pose = robot.data.body_link_pose_w.torch[:n][:, bodies]
        pos_err.append((body_pose[..., :3] - origins[:n, None] - field(frames, "body_pos")).norm(dim=-1).amax(-1))
        rot_err.append(_angle_deg(body_pose[..., 3:], field(frames, "body_quat")).amax(-1))
    pos_err, rot_err = torch.cat(pos_err), torch.cat(rot_err)
    assert pos_err.numel() == clip.shape[0] > 100
    worst = int(pos_err.argmax())
    assert pos_err.max() < POS_TOL_M, f"frame {worst + 1}: body position error {pos_err.max():.4f} m"
    worst = int(rot_err.argmax())
    assert rot_err.max() < ROT_TOL_DEG, f"frame {worst + 1}: body rotation error {rot_err.max():.3f} deg"


def test_fk_check_detects_a_wrong_joint_convention(humanoid_scene, sample_data):
    """Writing the clip's exponential maps as if they were hinge angles must fail the tolerance
    on real data (the conversion is not a no-op), so the test above can fail."""
    from intermimic.assets.sim_indices import canonical_body_ids, canonical_joint_ids
    from intermimic.motion.clip_format import field

    clip = torch.load(sample_data / "OMOMO_retarget" / f"{CLIPS[0]}.pt", map_location="cpu").detach()[1:]
    frames = clip[:: max(1, clip.shape[0] // NUM_ENVS)][:NUM_ENVS]
    robot = humanoid_scene["robot"]
    origins = humanoid_scene.env_origins[: frames.shape[0]]
    env_ids = torch.arange(frames.shape[0])
    pose = torch.cat([field(frames, "root_pos") + origins, field(frames, "root_quat")], dim=-1)
    robot.write_root_pose_to_sim_index(root_pose=pose, env_ids=env_ids)
    robot.write_joint_position_to_sim_index(
        position=_joint_coords(robot).to_sim_pos(field(frames, "dof_pos").contiguous()),
        joint_ids=canonical_joint_ids(robot), env_ids=env_ids,
    )
    body_pose = robot.data.body_link_pose_w.torch[: frames.shape[0]][:, canonical_body_ids(robot)]
    rot_err = _angle_deg(body_pose[..., 3:], field(frames, "body_quat"))
    assert rot_err.max() > ROT_TOL_DEG

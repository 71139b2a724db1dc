"""PhysX without a simulation: the joint coordinates PhysX uses, the one-joint-per-body USD, the
CPU workaround Isaac Lab's kit-less PhysX needs, the physics presets' settings, and the one-line
errors when a PhysX runtime is not installed. (Simulations on PhysX: test_teacher_env.py (the default physics),
test_assets_humanoid_fk.py, test_assets_objects_sim.py.)"""

from __future__ import annotations

import inspect
import math
import subprocess
import sys

import pytest
import torch

from conftest import REPO_ROOT, load_script

pytestmark = pytest.mark.unit
ERROR_PREFIX = "[intermimic] error: "


# -------------------------------------------------------------------------------------------------
# Joint coordinates: hinge angles <-> PhysX's rotation vectors
# -------------------------------------------------------------------------------------------------
def _random_hinges(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    span = torch.tensor([2 * math.pi, 0.98 * math.pi, 2 * math.pi], dtype=torch.float64)
    return (torch.rand(n, 3, generator=g, dtype=torch.float64) - 0.5) * span


def test_rotation_vectors_are_the_hinges_rotation():
    """PhysX positions of a spherical joint are the rotation vector of the same local rotation."""
    from intermimic.assets.joint_coordinates import JointCoordinates
    from intermimic.utils import rotations as rot

    hinges = _random_hinges(51 * 4).reshape(4, 153)
    coords = JointCoordinates(rotation_vectors=True)
    sim = coords.to_sim_pos(hinges)
    a = rot.from_hinges(hinges.reshape(4, 51, 3))
    b = rot.from_exp_map(sim.reshape(4, 51, 3))
    assert rot.angle_between(a, b).max() < 1e-9
    back = coords.from_sim_pos(sim)
    assert rot.angle_between(rot.from_hinges(back.reshape(4, 51, 3)), a).max() < 1e-9
    assert not torch.allclose(sim, hinges)  # a real conversion
    newton = JointCoordinates(rotation_vectors=False)
    assert newton.to_sim_pos(hinges) is hinges and newton.to_sim_vel(hinges, sim) is sim


def test_joint_velocities_are_the_child_frame_angular_velocity():
    """PhysX joint velocities are the body's angular velocity relative to its parent, in the body's
    frame: checked against the finite difference of the hinges' rotation, and back to the rates."""
    from intermimic.assets.joint_coordinates import JointCoordinates
    from intermimic.utils import rotations as rot

    hinges = _random_hinges(300, seed=1)
    rates = torch.randn(300, 3, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    dt = 1e-6
    q0, q1 = rot.from_hinges(hinges - 0.5 * dt * rates), rot.from_hinges(hinges + 0.5 * dt * rates)
    omega_child = rot.to_exp_map(rot.multiply(rot.conjugate(q0), q1)) / dt
    coords = JointCoordinates(rotation_vectors=True)
    sim = coords.to_sim_vel(hinges.reshape(1, -1), rates.reshape(1, -1)).reshape(300, 3)
    torch.testing.assert_close(sim, omega_child, atol=1e-5, rtol=0)
    torch.testing.assert_close(coords.from_sim_vel(hinges.reshape(1, -1), sim.reshape(1, -1)).reshape(300, 3), rates)


def test_coordinates_follow_the_simulator_and_the_embodiment():
    from intermimic.assets.embodiment import get_embodiment
    from intermimic.assets.joint_coordinates import joint_coordinates

    class OvArticulation:  # the class of Isaac Lab's kit-less PhysX articulation lives in isaaclab_ov
        __module__ = "isaaclab_ov.assets.articulation.articulation"

    class NewtonArticulation:
        __module__ = "isaaclab_newton.assets.articulation.articulation"

    smplx = get_embodiment()
    assert joint_coordinates(OvArticulation(), smplx).rotation_vectors
    assert not joint_coordinates(NewtonArticulation(), smplx).rotation_vectors
    hinge_robot = type("Emb", (), {"name": "g1_dex3"})()
    assert not joint_coordinates(OvArticulation(), hinge_robot).rotation_vectors


# -------------------------------------------------------------------------------------------------
# One joint per body
# -------------------------------------------------------------------------------------------------
def _two_body_mjcf(axes: str) -> str:
    hinges = "".join(f'<joint name="B_{a}" type="hinge" axis="{v}" range="-1 1"/>'
                     for a, v in zip(axes, ("1 0 0", "0 1 0", "0 0 1")))  # fmt: skip
    return (f'<mujoco><compiler angle="radian"/><worldbody><body name="A"><freejoint/><geom size="0.1"/>'
            f'<body name="B" pos="0 0 -0.3">{hinges}<geom size="0.05"/></body></body></worldbody></mujoco>')  # fmt: skip


def test_hinge_stack_becomes_one_d6_joint(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERMIMIC_CACHE", str(tmp_path))
    from pxr import Usd, UsdPhysics

    from intermimic.assets.usd_convert import mjcf_to_usd

    path = mjcf_to_usd(_two_body_mjcf("xyz"), "two", joint_name=lambda body: f"{body}_joint")
    stage = Usd.Stage.Open(str(path))
    joints = [p for p in stage.Traverse() if p.IsA(UsdPhysics.Joint)]
    assert [p.GetName() for p in joints] == ["B_joint"] and not joints[0].IsA(UsdPhysics.RevoluteJoint)
    prim = joints[0]
    for axis in ("rotX", "rotY", "rotZ"):
        limit = UsdPhysics.LimitAPI(prim, axis)
        assert (limit.GetLowAttr().Get(), limit.GetHighAttr().Get()) == pytest.approx((-57.29578, 57.29578))
        assert UsdPhysics.DriveAPI(prim, axis).GetTypeAttr().Get() == "force"
    # without a joint name rule the converter's hinges stay (a robot's single hinges), each driven
    plain = Usd.Stage.Open(str(mjcf_to_usd(_two_body_mjcf("xyz"), "two")))
    hinges = [p for p in plain.Traverse() if p.IsA(UsdPhysics.RevoluteJoint)]
    assert sorted(p.GetName() for p in hinges) == ["B_x", "B_y", "B_z"]
    assert all(UsdPhysics.DriveAPI(p, "angular").GetTypeAttr().Get() == "force" for p in hinges)


def test_a_stack_that_is_not_x_y_z_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("INTERMIMIC_CACHE", str(tmp_path))
    from intermimic.assets.usd_convert import mjcf_to_usd

    bad = _two_body_mjcf("xyz").replace('axis="0 1 0"', 'axis="0 0 1"')
    with pytest.raises(ValueError, match=r"hinges \['B_x', 'B_y', 'B_z'\]: axes \['X', 'Z', 'Z'\]"):
        mjcf_to_usd(bad, "bad", joint_name=lambda body: f"{body}_joint")


# -------------------------------------------------------------------------------------------------
# The CPU workaround of the kit-less PhysX backend
# -------------------------------------------------------------------------------------------------
def test_isaaclab_still_asks_for_pinned_host_buffers_on_the_cpu():
    """The reason for intermimic/tasks/ovphysx_cpu.py: Isaac Lab's ovphysx assets allocate pinned
    host memory whatever the device. When this fails, Isaac Lab has stopped doing so: delete
    ovphysx_cpu.py and its call in tasks/physics.py:prepare_physx."""
    from isaaclab_ov.assets.articulation.articulation import Articulation
    from isaaclab_ov.assets.rigid_object.rigid_object import RigidObject

    for cls in (RigidObject, Articulation):
        source = inspect.getsource(cls._create_buffers)
        assert 'device="cpu", pinned=True' in source, f"{cls.__module__}: no unconditional pinned buffer any more"


def test_pinned_cpu_buffers_allocate_without_cuda():
    import warp as wp

    from intermimic.tasks.ovphysx_cpu import allow_pinned_host_buffers, pinned_memory_unavailable

    if not pinned_memory_unavailable():
        pytest.skip("this machine has a CUDA device: pinned memory works and no workaround is applied")
    assert allow_pinned_host_buffers()
    buffer = wp.zeros(4, dtype=wp.int32, device="cpu", pinned=True)
    assert buffer.numpy().tolist() == [0, 0, 0, 0]


# -------------------------------------------------------------------------------------------------
# The presets
# -------------------------------------------------------------------------------------------------
def test_physx_presets_carry_the_release_settings_and_8192_env_capacities():
    from isaaclab_ov.physics import OvPhysxCfg
    from isaaclab_physx.physics import PhysxCfg

    from intermimic.tasks.physics import BOUNCE_THRESHOLD_VELOCITY, HOIPhysicsCfg

    presets = HOIPhysicsCfg()
    assert isinstance(presets.ovphysx, OvPhysxCfg) and isinstance(presets.isaacsim_physx, PhysxCfg)
    assert presets.isaacsim_physx.solver_type == 1 and BOUNCE_THRESHOLD_VELOCITY == 0.2
    assert presets.isaacsim_physx.bounce_threshold_velocity == 0.2
    per_env_pairs = 52 * 64 + 52 + 64  # humanoid shapes x object hulls, and the ground's pairs
    for cfg in (presets.ovphysx, presets.isaacsim_physx):
        assert cfg.gpu_found_lost_pairs_capacity >= 8192 * 2048
        assert cfg.gpu_found_lost_aggregate_pairs_capacity >= 8192 * per_env_pairs
        assert cfg.gpu_max_rigid_contact_count >= 8192 * 1024 and cfg.gpu_max_rigid_patch_count >= 8192 * 1024


def test_physics_newton_is_the_newton_preset():
    """``physics=newton`` (Isaac Lab 3.0 renamed it ``newton_mjwarp``) and ``physics=newton_mjwarp``."""
    import argparse

    from isaaclab_newton.physics import NewtonCfg
    from isaaclab_ov.physics import OvPhysxCfg

    from intermimic.app.configure import resolve_configs

    args = argparse.Namespace(task="InterMimic-Teacher-v0", device="cpu", num_envs=None, seed=None, motion=None)
    for name in ("newton", "newton_mjwarp"):
        assert isinstance(resolve_configs(args, [f"physics={name}"])[0].sim.physics, NewtonCfg)
    assert isinstance(resolve_configs(args, ["physics=ovphysx"])[0].sim.physics, OvPhysxCfg)


# -------------------------------------------------------------------------------------------------
# Bad input: a PhysX runtime that is not installed
# -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "hidden, preset, expected",
    [
        ("ovphysx", "ovphysx", 'physics=ovphysx: the kit-less PhysX runtime (ovphysx) is not installed; install it '
                               'with pip install "isaaclab[ovphysx]==3.0.0"'),
        ("isaacsim", "isaacsim_physx", "physics=isaacsim_physx: Isaac Sim is not installed; install it with uv pip "
                                       'install "isaaclab[isaacsim]==3.0.0"'),
    ],
)  # fmt: skip
@pytest.mark.parametrize("script", ["train", "evaluate", "play"])
def test_physx_preset_without_its_runtime_is_one_line(hidden, preset, expected, script, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, hidden, None)  # importlib.util.find_spec() now answers None
    monkeypatch.chdir(tmp_path)
    argv = ["--device", "cpu", f"physics={preset}"]
    if script != "train":
        argv += ["--checkpoint", str(tmp_path / "model_1.pt")]
        torch.save({"model_state_dict": {}}, tmp_path / "model_1.pt")
    with pytest.raises(SystemExit) as stopped:
        load_script(script).main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith(ERROR_PREFIX)]
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == (["model_1.pt"] if script != "train" else [])


def test_no_usd_is_loaded_before_the_app_starts(tmp_path):
    """Under Isaac Sim, USD must be loaded by the app: the configs of the teacher, student and G1
    tasks, and everything ``train`` does before it launches the simulation (data, banner), run
    without importing ``pxr``."""
    driver = tmp_path / "driver.py"
    driver.write_text(f"""
import os, sys
sys.path[:0] = [{str(REPO_ROOT / "exts")!r}, {str(REPO_ROOT / "tests")!r}]
import isaaclab.app
from intermimic.app.overrides import task_configs

for task in ("InterMimic-Student-v0", "InterMimic-G1-Teacher-v0", "InterMimic-G1-Student-v0"):
    task_configs(task, ["physics=ovphysx"])
print("CONFIGS_PXR", "pxr" in sys.modules, flush=True)

def stop(env_cfg, args):
    print("TRAIN_PXR", "pxr" in sys.modules, flush=True)
    os._exit(0)

isaaclab.app.launch_simulation = stop
from conftest import load_script
load_script("train").main(["--task", "InterMimic-Teacher-v0", "--device", "cpu", "physics=ovphysx"])
""")
    proc = subprocess.run([sys.executable, str(driver)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr[-2000:]
    assert "CONFIGS_PXR False" in proc.stdout and "TRAIN_PXR False" in proc.stdout, out

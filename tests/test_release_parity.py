"""Parity with the authors' release: each test checks one of the release's facts (numbers from
its code and configs) against this project, without a simulator."""

import math

import numpy as np
import pytest
import torch

from intermimic.assets import humanoid_spec as spec
from intermimic.utils import rotations as rot

pytestmark = pytest.mark.unit


# --- objects and physics -------------------------------------------------------------------


@pytest.fixture(scope="module")
def scene_with_thin_walled_object(tmp_path_factory):
    """An HOI env cfg prepared for two objects, a 'plasticbox' (thin-walled in the release) and a
    'crate', each a box mesh with one synthetic clip: ``(cfg, assets by name)``."""
    import trimesh

    from intermimic.motion.clip_io import save_clip_file
    from intermimic.motion.demo.synthetic import synthetic_clip
    from intermimic.tasks.hoi_env import prepare_scene
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    root = tmp_path_factory.mktemp("thin_walled")
    for i, name in enumerate(("plasticbox", "crate")):
        (root / "objects" / name).mkdir(parents=True)
        trimesh.creation.box(extents=(0.4, 0.3, 0.3)).export(root / "objects" / name / f"{name}.obj")
        save_clip_file(root / "clips" / f"sub1_{name}_000.pt", synthetic_clip(40, seed=i))
    cfg = HOIEnvCfg()
    cfg.sim.device = "cpu"
    cfg.commands.motion.motion.files = [str(root / "clips")]
    cfg.commands.motion.motion.objects_dir = str(root / "objects")
    _, assets = prepare_scene(cfg)
    return cfg, {a.name: a for a in assets}


def _collision_rest_offsets(usd_path) -> set[float]:
    from pxr import Usd

    stage = Usd.Stage.Open(str(usd_path))
    values = set()
    for prim in stage.Traverse():
        attr = prim.GetAttribute("physxCollision:restOffset")
        if attr and attr.IsValid() and attr.HasAuthoredValue():
            values.add(round(float(attr.Get()), 6))
    return values


def test_thin_walled_objects_get_the_release_rest_offset(scene_with_thin_walled_object):
    """The release gives plasticbox and trashcan a 0.015 m contact rest offset, others 0.002 m."""
    _, assets = scene_with_thin_walled_object
    assert assets["plasticbox"].physics.rest_offset == pytest.approx(0.015)
    assert assets["crate"].physics.rest_offset == pytest.approx(0.002)
    assert _collision_rest_offsets(assets["plasticbox"].usd_path) == {0.015}
    assert _collision_rest_offsets(assets["crate"].usd_path) == {0.002}
    # the registry knows both of the release's thin-walled objects
    from intermimic.assets.object_registry import ObjectRegistry

    assert ObjectRegistry().physics("trashcan", density=200.0).rest_offset == pytest.approx(0.015)
    assert ObjectRegistry().physics("trashcan", density=200.0).density == 200.0


def _physx_articulation(cfg):
    from isaaclab_physx.sim.schemas import PhysxArticulationCfg

    return next(p for p in cfg.scene.robot.spawn.articulation_props if isinstance(p, PhysxArticulationCfg))


def test_physx_solver_settings_follow_the_release(scene_with_thin_walled_object):
    """The release runs 1 velocity iteration, and one set of solver iterations and depenetration
    velocity for every body (8 and 20 m/s in the high-fidelity setting): the object gets the
    humanoid's."""
    cfg, _ = scene_with_thin_walled_object
    humanoid = _physx_articulation(cfg)
    assert humanoid.solver_velocity_iteration_count == 1
    assert humanoid.solver_position_iteration_count == 8
    assert cfg.scene.robot.spawn.rigid_props.max_depenetration_velocity == 20.0
    for variant in cfg.scene.object.spawn.assets_cfg:
        props = variant.rigid_props
        assert props.solver_position_iteration_count == 8
        assert props.solver_velocity_iteration_count == 1
        assert props.max_depenetration_velocity == 20.0


def test_object_solver_settings_follow_the_legacy_timing():
    from intermimic.assets.object_scene import solver_props_like
    from intermimic.tasks.hoi_env_cfg import HOIEnvCfg

    cfg = HOIEnvCfg()
    cfg.timing = "legacy"
    cfg.apply_timing()
    props = solver_props_like(cfg.scene.robot)
    assert (props.solver_position_iteration_count, props.solver_velocity_iteration_count) == (4, 1)
    assert props.max_depenetration_velocity == 100.0

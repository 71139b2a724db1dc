"""Contact sensing between the humanoid, an object and the ground (Newton on the CPU).

The built-in demo box (7.2 kg at the older setting's density) is dropped 5 cm onto the head of
the standing humanoid. While the box touches only the humanoid, the per-body human-object
forces must sum to minus the box's net contact force (Newton's third law, measured by two
different sensors), only bodies of the upper body may touch it, and the feet, which press on
the ground, must show net force but no human-object force.
"""

import pytest
import torch

pytestmark = pytest.mark.sim

PHYSICS_HZ = 240
HEAD_TOP = 1.71
"""Top of the head of the canonical body standing at its initial state (m)."""
UPPER_BODY = {"Head", "Neck", "Chest", "Spine", "Torso", "L_Thorax", "R_Thorax", "L_Shoulder", "R_Shoulder"}
FEET = ("L_Ankle", "R_Ankle", "L_Toe", "R_Toe")


@pytest.fixture(scope="module")
def contact_scene():
    from isaaclab.scene import InteractiveScene, InteractiveSceneCfg
    from isaaclab.sensors import ContactSensorCfg
    from isaaclab.utils import configclass
    from hoi_env_helpers import newton_sim

    from intermimic.assets.ground import ground_cfg
    from intermimic.assets.humanoid import humanoid_cfg
    from intermimic.assets.object_registry import ObjectRegistry
    from intermimic.assets.object_scene import (
        add_objects_to_scene,
        humanoid_object_contact_sensor_cfg,
        object_contact_sensor_cfg,
    )
    from intermimic.assets.objects import LEGACY_DENSITY, ObjectPhysicsCfg
    from intermimic.assets.primitives import DEMO_BOX_HALF_SIZE, DEMO_OBJECT_NAME

    @configclass
    class SceneCfg(InteractiveSceneCfg):
        ground = ground_cfg(friction=0.9, restitution=0.1)
        robot = humanoid_cfg()

    cfg = SceneCfg(num_envs=1, env_spacing=3.0)
    assets = ObjectRegistry().assets([DEMO_OBJECT_NAME], physics=ObjectPhysicsCfg(density=LEGACY_DENSITY))
    add_objects_to_scene(cfg, assets, pos=(0.0, 0.0, HEAD_TOP + DEMO_BOX_HALF_SIZE[2] + 0.05))
    cfg.contact_forces = ContactSensorCfg(prim_path="{ENV_REGEX_NS}/Robot/.*")
    cfg.object_contact = object_contact_sensor_cfg()
    cfg.human_object = humanoid_object_contact_sensor_cfg()
    sim = newton_sim(1.0 / PHYSICS_HZ)
    scene = InteractiveScene(cfg)
    sim.reset()
    yield sim, scene
    sim.stop()
    sim.clear_instance()


def test_sensor_shapes(contact_scene):
    _, scene = contact_scene
    assert scene["contact_forces"].data.net_forces_w.torch.shape == (1, 52, 3)
    assert scene["object_contact"].data.net_forces_w.torch.shape == (1, 1, 3)
    human_object = scene["human_object"]
    assert human_object.data.force_matrix_w.torch.shape == (1, 52, 1, 3)
    assert sorted(human_object.sensor_names) == sorted(scene["robot"].body_names)


def test_human_object_forces_balance_the_object(contact_scene):
    sim, scene = contact_scene
    net, human_object, obj = scene["contact_forces"], scene["human_object"], scene["object_contact"]
    names = human_object.sensor_names
    feet = [names.index(n) for n in FEET]
    touched, balanced_steps, feet_on_ground = set(), 0, False
    for _ in range(int(0.4 * PHYSICS_HZ)):  # the box stays on the head for about 0.3 s
        scene.write_data_to_sim()
        sim.step(render=False)
        scene.update(1.0 / PHYSICS_HZ)
        per_body = human_object.data.force_matrix_w.torch[0, :, 0]
        on_object = obj.data.net_forces_w.torch[0, 0]
        assert per_body[feet].abs().max() == 0.0
        feet_on_ground |= bool(net.data.net_forces_w.torch[0, feet].norm(dim=-1).max() > 1.0)
        if per_body.norm(dim=-1).max() > 0:
            touched |= {names[i] for i in torch.nonzero(per_body.norm(dim=-1) > 0).flatten().tolist()}
            torch.testing.assert_close(per_body.sum(0), -on_object, atol=1e-2, rtol=1e-3)
            balanced_steps += 1
    assert "Head" in touched and touched <= UPPER_BODY, touched
    assert balanced_steps > 20
    assert feet_on_ground

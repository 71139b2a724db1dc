"""The HOI environment class: loads the motion data first, then builds the scene's objects
from the clips' object names, then the usual manager-based environment.

The object assets depend on the data set chosen at launch (``dataset=...``, ``--motion``), so
they cannot be fixed in the config class; this class fills them in just before the scene is
created. Environment ``i`` holds object ``i % N`` of the library's objects.
"""

from __future__ import annotations

import time

import torch

from isaaclab.envs import ManagerBasedRLEnv

from ..assets.humanoid import humanoid_usd_path
from ..assets.object_registry import ObjectRegistry
from ..assets.object_scene import add_objects_to_scene
from ..assets.objects import ObjectPhysicsCfg
from ..motion.loader import load_library
from ..motion.threads import torch_threads


def prepare_scene(cfg) -> tuple[object, list]:
    """Load the motion library named by the cfg and add its objects to ``cfg.scene`` (and use
    the user's humanoid MJCF when the cfg names one).

    Returns ``(library, object_assets)``; the assets are empty when the task has no object.
    """
    if cfg.humanoid_mjcf:
        cfg.scene.robot.spawn.usd_path = str(humanoid_usd_path(cfg.humanoid_mjcf))
    motion = cfg.commands.motion
    library = load_library(motion.motion, device=cfg.sim.device)
    assets = []
    if motion.object_name:
        physics = {
            name: ObjectPhysicsCfg(density=cfg.object_densities.get(name, cfg.object_density))
            for name in library.object_names
        }
        assets = ObjectRegistry(library.objects_dir).assets(library.object_names, physics=physics)
        add_objects_to_scene(cfg.scene, assets, name=motion.object_name)
        motion.scene_object_names = list(library.object_names)
    return library, assets


class HOIEnv(ManagerBasedRLEnv):
    """Manager-based RL env whose scene objects follow the loaded clips."""

    def __init__(self, cfg, render_mode: str | None = None, **kwargs):
        cfg.apply_timing()  # a timing chosen by override (env.timing=legacy) takes effect here
        start = time.perf_counter()
        self.motion_library, self.object_assets = prepare_scene(cfg)
        prepared = time.perf_counter()
        super().__init__(cfg, render_mode, **kwargs)
        self.build_seconds = {"data": prepared - start, "scene": time.perf_counter() - prepared}
        """Construction time: motion data and object assets, then scene, simulation and managers."""
        self.step_threads = cfg.cpu_step_threads if torch.device(self.device).type == "cpu" else None

    def step(self, action):
        if not self.step_threads:
            return super().step(action)
        with torch_threads(self.step_threads):
            return super().step(action)

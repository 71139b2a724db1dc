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

from ..assets.embodiment import get_embodiment, require_robot_urdf
from ..assets.humanoid import USD_AT_ENV_CREATION, humanoid_usd_path
from ..assets.robot_articulation import robot_articulation_cfg
from ..assets.sim_indices import joint_name_patterns
from ..assets.object_registry import ObjectRegistry
from ..assets.object_scene import add_objects_to_scene, solver_props_like
from ..motion.loader import load_library
from ..motion.threads import torch_threads
from .mdp.contact_window import configure_contact_sensor
from .mdp.observation_layout import OffsetMajorObservationManager
from .motion_data import task_motion_data
from .non_finite_guard import NON_FINITE_OBSERVATION, guard_step
from .physics import prepare_physx


def task_embodiment(cfg):
    """The embodiment a task simulates (``cfg.embodiment``; a robot's from ``cfg.robot_urdf``)."""
    name = getattr(cfg, "embodiment", "smplx")
    if name == "smplx":
        return get_embodiment()
    require_robot_urdf(name, getattr(cfg, "robot_urdf", None))
    return get_embodiment(name, urdf=cfg.robot_urdf, gains=cfg.robot_gains,
                          collision_filter=getattr(cfg, "robot_collision_filter", "neighbours"))


def use_embodiment(cfg, emb) -> None:
    """Make the scene's robot and the action term ``emb`` (no-op for the SMPL-X humanoid)."""
    if emb.name == "smplx":
        return
    cfg.scene.robot = robot_articulation_cfg(emb, like=cfg.scene.robot)
    cfg.actions.joint_pos.joint_names = joint_name_patterns(emb)


def prepare_scene(cfg) -> tuple[object, list, object]:
    """Load the motion library named by the cfg and add its objects to ``cfg.scene`` (and use
    the user's humanoid MJCF, or the robot of a robot task, when the cfg names one).

    Returns ``(library, object_assets, embodiment)``; the assets are empty when the task has no object.
    """
    if cfg.humanoid_mjcf or cfg.scene.robot.spawn.usd_path == USD_AT_ENV_CREATION:
        cfg.scene.robot.spawn.usd_path = str(humanoid_usd_path(cfg.humanoid_mjcf))
    emb = task_embodiment(cfg)
    use_embodiment(cfg, emb)
    configure_contact_sensor(cfg)
    motion = cfg.commands.motion
    library = load_library(task_motion_data(cfg), device=cfg.sim.device, embodiment=emb)
    assets = []
    if motion.object_name:
        registry = ObjectRegistry(library.objects_dir)
        physics = {
            name: registry.physics(name, density=cfg.object_densities.get(name, cfg.object_density))
            for name in library.object_names
        }
        assets = registry.assets(library.object_names, physics=physics)
        # the object takes the humanoid's solver settings (the release sets them once for all bodies)
        add_objects_to_scene(cfg.scene, assets, name=motion.object_name, rigid_props=solver_props_like(cfg.scene.robot))
        motion.scene_object_names = list(library.object_names)
    return library, assets, emb


class HOIEnv(ManagerBasedRLEnv):
    """Manager-based RL env whose scene objects follow the loaded clips."""

    def __init__(self, cfg, render_mode: str | None = None, **kwargs):
        cfg.apply_timing()  # a timing chosen by override (env.timing=legacy) takes effect here
        start = time.perf_counter()
        self.motion_library, self.object_assets, self.embodiment = prepare_scene(cfg)
        prepared = time.perf_counter()
        super().__init__(cfg, render_mode, **kwargs)
        self.build_seconds = {"data": prepared - start, "scene": time.perf_counter() - prepared}
        """Construction time: motion data and object assets, then scene, simulation and managers."""
        self.step_threads = cfg.cpu_step_threads if torch.device(self.device).type == "cpu" else None

    def _init_sim(self):
        # between creating the simulation context and building the scene: PhysX's scene settings
        # go onto the USD stage the PhysX runtime reads when the simulation starts
        prepare_physx(self.sim, self.cfg.sim)
        super()._init_sim()

    def load_managers(self):
        super().load_managers()
        # HOI observation groups are offset-major (one full block per future offset): replace
        # Isaac Lab's manager by the one that lays them out so, and redo the gym spaces
        self.observation_manager = OffsetMajorObservationManager(self.cfg.observations, self)
        self._configure_gym_env_spaces()

    def _log_term_values(self, extras: dict) -> None:
        """Add the step's values that reward terms keep in ``step_log`` to ``extras["log"]``
        (Isaac Lab's reset replaces that dict, so terms cannot write it themselves)."""
        log = extras.setdefault("log", {})
        for name in self.reward_manager.active_terms:
            log.update(getattr(self.reward_manager.get_term_cfg(name).func, "step_log", {}))

    def step(self, action):
        """Isaac Lab's step (on ``cpu_step_threads`` torch threads on the CPU), then the step's
        reward-term values into the log and the non-finite guard: no NaN/inf observation or
        reward leaves it."""
        if self.step_threads:
            with torch_threads(self.step_threads):
                obs, reward, terminated, truncated, extras = super().step(action)
        else:
            obs, reward, terminated, truncated, extras = super().step(action)
        self._log_term_values(extras)
        guard_step(self, obs, reward, terminated, truncated, extras)
        return obs, reward, terminated, truncated, extras

    def reset(self, *args, **kwargs):
        """Isaac Lab's reset; every env starts afresh, so no env is marked for a non-finite observation."""
        out = super().reset(*args, **kwargs)
        setattr(self, NON_FINITE_OBSERVATION, None)
        return out

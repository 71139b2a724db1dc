"""The HOI reference command: which clip and frame each environment imitates.

It owns the motion library, each environment's clip, start frame and elapsed steps, the
reference at the current frame and at future offsets, and read access to the simulated
humanoid (and object) in the same canonical body order and env-local frame as the
references. Every observation, reward and termination reads this term.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from isaaclab.managers import CommandTerm, CommandTermCfg
from isaaclab.utils import configclass

from ...assets.humanoid import canonical_body_ids, canonical_joint_ids
from ...motion.config import MotionDataCfg
from ...motion.loader import load_library
from ...motion.reference import ReferenceFrames


class HOIReferenceCommand(CommandTerm):
    cfg: HOIReferenceCommandCfg

    def __init__(self, cfg: HOIReferenceCommandCfg, env):
        super().__init__(cfg, env)
        self.robot = env.scene[cfg.asset_name]
        self.body_ids = torch.tensor(canonical_body_ids(self.robot), device=self.device)
        self.joint_ids = torch.tensor(canonical_joint_ids(self.robot), device=self.device)
        self.library = load_library(cfg.motion, device=self.device)
        for src in (cfg.teacher_source, cfg.reward_source):
            if not self.library.has_source(src):
                raise ValueError(f"{cfg.motion.files}: reference source '{src}' requested but not loaded")
        self.future_offsets = list(cfg.future_offsets)
        self.clip_ids = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.start_frame = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        # episode time-out at the clip end: frames left after the start frame
        self._cache_key = None
        self._cache: dict[str, ReferenceFrames] = {}
        self._version = 0
        self.metrics["error_body_pos"] = torch.zeros(self.num_envs, device=self.device)
        self.metrics["error_joint_pos"] = torch.zeros(self.num_envs, device=self.device)

    # ---------------------------------------------------------------------------------
    # Reference access
    # ---------------------------------------------------------------------------------
    @property
    def frame(self) -> torch.Tensor:
        """Reference frame index of the current simulated state, per env (not clamped)."""
        return self.start_frame + self._env.episode_length_buf

    @property
    def clip_length(self) -> torch.Tensor:
        return self.library.clip_length[self.clip_ids]

    @property
    def frames_left(self) -> torch.Tensor:
        """Frames between the current one and the clip's last frame."""
        return self.clip_length - 1 - self.frame

    def _cached(self, key: str, fn) -> ReferenceFrames:
        stamp = (self._env.common_step_counter, self._version)
        if stamp != self._cache_key:
            self._cache.clear()
            self._cache_key = stamp
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def reference(self, source: str | None = None) -> ReferenceFrames:
        """Reference at the current frame, ``[E, ...]``."""
        src = source or self.cfg.reward_source
        return self._cached(f"now/{src}", lambda: self.library.state(self.clip_ids, self.frame, src))

    def future(self, source: str | None = None) -> ReferenceFrames:
        """References at ``frame + k`` for k in ``future_offsets``: ``[E, K, ...]``."""
        src = source or self.cfg.teacher_source
        return self._cached(
            f"future/{src}", lambda: self.library.future(self.clip_ids, self.frame, self.future_offsets, src)
        )

    @property
    def command(self) -> torch.Tensor:
        """The reference joint positions at the current frame (hinge angles, canonical order)."""
        return self.reference().dof_pos

    # ---------------------------------------------------------------------------------
    # Simulated state in canonical order and env-local frame
    # ---------------------------------------------------------------------------------
    @property
    def env_origins(self) -> torch.Tensor:
        return self._env.scene.env_origins

    @property
    def root_pos(self) -> torch.Tensor:
        return self.robot.data.root_link_pos_w.torch - self.env_origins

    @property
    def root_quat(self) -> torch.Tensor:
        return self.robot.data.root_link_quat_w.torch

    @property
    def body_pos(self) -> torch.Tensor:
        return self.robot.data.body_link_pos_w.torch[:, self.body_ids] - self.env_origins[:, None]

    @property
    def body_quat(self) -> torch.Tensor:
        return self.robot.data.body_link_quat_w.torch[:, self.body_ids]

    @property
    def body_lin_vel(self) -> torch.Tensor:
        return self.robot.data.body_link_lin_vel_w.torch[:, self.body_ids]

    @property
    def body_ang_vel(self) -> torch.Tensor:
        return self.robot.data.body_link_ang_vel_w.torch[:, self.body_ids]

    @property
    def dof_pos(self) -> torch.Tensor:
        return self.robot.data.joint_pos.torch[:, self.joint_ids]

    @property
    def dof_vel(self) -> torch.Tensor:
        return self.robot.data.joint_vel.torch[:, self.joint_ids]

    # ---------------------------------------------------------------------------------
    # Writing reference states into the simulation
    # ---------------------------------------------------------------------------------
    def write_reference_state(self, env_ids: torch.Tensor, ref: ReferenceFrames) -> None:
        """Put the humanoid of ``env_ids`` exactly into the reference state ``ref`` (``[len(env_ids), ...]``)."""
        pose = torch.cat([ref.root_pos + self.env_origins[env_ids], ref.root_quat], dim=-1)
        vel = torch.cat([ref.root_lin_vel, ref.root_ang_vel], dim=-1)
        self.robot.write_root_link_pose_to_sim_index(root_pose=pose, env_ids=env_ids)
        self.robot.write_root_link_velocity_to_sim_index(root_velocity=vel, env_ids=env_ids)
        self.robot.write_joint_state_to_sim_index(
            position=ref.dof_pos, velocity=ref.dof_vel, joint_ids=self.joint_ids, env_ids=env_ids
        )
        # hold the reference pose until the policy acts
        self.robot.set_joint_position_target_index(target=ref.dof_pos, joint_ids=self.joint_ids, env_ids=env_ids)

    # ---------------------------------------------------------------------------------
    # Episode starts
    # ---------------------------------------------------------------------------------
    def sample_starts(self, env_ids: torch.Tensor) -> None:
        """Choose clip and start frame for ``env_ids`` (uniform clips; frame 0 with probability
        ``cfg.start_at_zero_prob``, else uniform over the clip, leaving the future horizon)."""
        n = len(env_ids)
        self.clip_ids[env_ids] = torch.randint(0, self.library.num_clips, (n,), device=self.device)
        length = self.library.clip_length[self.clip_ids[env_ids]]
        latest = (length - 1 - self.cfg.min_frames_left).clamp_min(0)
        frames = (torch.rand(n, device=self.device) * (latest + 1).float()).long().clamp_max(latest)
        at_zero = torch.rand(n, device=self.device) < self.cfg.start_at_zero_prob
        self.start_frame[env_ids] = torch.where(at_zero, torch.zeros_like(frames), frames)
        self._version += 1

    def _resample_command(self, env_ids: Sequence[int] | slice):
        if isinstance(env_ids, slice):
            env_ids = torch.arange(self.num_envs, device=self.device)[env_ids]
        env_ids = torch.as_tensor(env_ids, device=self.device, dtype=torch.long)
        if len(env_ids) == 0:
            return
        self.sample_starts(env_ids)
        if self.cfg.reset_to_reference:
            ref = self.library.state(self.clip_ids[env_ids], self.start_frame[env_ids], self.cfg.init_source)
            self.write_reference_state(env_ids, ref)

    def _update_command(self):
        pass

    def _update_metrics(self):
        ref = self.reference()
        self.metrics["error_body_pos"][:] = (ref.body_pos - self.body_pos).norm(dim=-1).mean(dim=-1)
        self.metrics["error_joint_pos"][:] = (ref.dof_pos - self.dof_pos).abs().mean(dim=-1)


@configclass
class HOIReferenceCommandCfg(CommandTermCfg):
    class_type: type = HOIReferenceCommand
    asset_name: str = "robot"
    motion: MotionDataCfg = MotionDataCfg()
    future_offsets: tuple[int, ...] = (1, 16)
    """Future reference frames observed by the policy."""
    teacher_source: str = "raw"
    """Reference source in the policy observations."""
    reward_source: str = "raw"
    """Reference source for rewards, terminations and metrics."""
    init_source: str = "raw"
    """Reference source of the states episodes start from."""
    start_at_zero_prob: float = 0.1
    min_frames_left: int = 16
    reset_to_reference: bool = True
    resampling_time_range: tuple[float, float] = (1.0e9, 1.0e9)
    """Clips are only chosen at episode starts."""
    object_name: str | None = None
    """Scene entity of the object, when the scene has one."""


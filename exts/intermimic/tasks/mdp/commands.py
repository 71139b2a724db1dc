"""The HOI reference command: which clip and frame each environment imitates.

It owns the motion library, each environment's clip, start frame and elapsed steps, the
reference at the current frame and at future offsets, and read access to the simulated
humanoid and object in the same canonical body order and env-local frame as the
references. Every observation, reward and termination reads this term. Episode starts
(reference/physical state initialisation) are driven by the ``reset_to_start_state`` event
and the ``state_init_statistics`` curriculum term, which call into this term.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from isaaclab.managers import CommandTerm, CommandTermCfg
from isaaclab.utils import configclass

from ...assets.embodiment import get_embodiment
from ...assets.joint_coordinates import joint_coordinates
from ...assets.sim_indices import canonical_body_ids, canonical_joint_ids, canonical_sensor_ids
from ...motion.config import MotionDataCfg
from ...motion.loader import load_library
from ...motion.reference import ReferenceFrames
from ...motion.validation import DataMismatchError
from ...utils import rotations as rot
from .body_groups import default_groups, groups_of
from .contact_window import contact_in_window, force_over_window, window_steps
from .interaction_graph import InteractionGraphStats, interaction_graph_stats, nearest_point_offsets, points_stride
from .state_init import (
    EpisodeRecorder, PhysicalStateBuffer, ReleaseStartFrameSampler, SimState, StartFrameSampler, psi_scores,
    release_psi_frames, state_dim,
)  # fmt: skip


@configclass
class StateInitCfg:
    """Episode starts (docs/method.md §7)."""

    start_at_zero_prob: float = 0.1
    """Probability of starting a clip at frame 0."""
    failure_priority: float = 1.0
    """Start frames are weighted by ``1 + failure_priority * failures``; 0 gives uniform starts."""
    failure_decay: float = 0.999
    psi: bool = True
    """Physical State Initialisation: also start from simulated states of earlier rollouts."""
    psi_slots: int = 3
    psi_min_survival: int = 30
    """Only episodes that survived more than this many steps contribute states."""
    psi_margin: int = 10
    """States are taken from frames in ``[start + margin, end - margin)``."""
    psi_replace_threshold: float = 0.5
    psi_score_decay: float = 1.0e-5
    default_pose_starts: bool = False
    """Start every episode in the embodiment's default pose at rest (the G1: the release's fixed
    crouch, root 0.94 m high) under the start reference's root position and heading, the object as
    the reference has it: the release's G1 reset. False: from the reference (or PSI) state."""
    release_starts: bool = False
    """Episode starts as the release draws them: start frames (other than frame 0) only in
    ``[0, max(1, L - episode steps))``, weighted by 1 / (sum of the frame's PSI slot scores)
    instead of by failures, and PSI states stored only for clips longer than an episode, at
    frames at least an episode before the clip's end."""


class HOIReferenceCommand(CommandTerm):
    cfg: HOIReferenceCommandCfg

    def __init__(self, cfg: HOIReferenceCommandCfg, env):
        super().__init__(cfg, env)
        self.robot = env.scene[cfg.asset_name]
        self.object = env.scene[cfg.object_name] if cfg.object_name else None
        self.embodiment = getattr(env, "embodiment", None) or get_embodiment()
        """What is simulated (set on the env by :func:`~intermimic.tasks.hoi_env.prepare_scene`; SMPL-X by default)."""
        self.groups = default_groups() if self.embodiment.name == "smplx" else groups_of(self.embodiment)
        """Index lists of the embodiment's body groups (key, hands, contact, ...) for the MDP terms."""
        self.body_ids = torch.tensor(canonical_body_ids(self.robot, self.embodiment), device=self.device)
        self.joint_ids = torch.tensor(canonical_joint_ids(self.robot, self.embodiment), device=self.device)
        self.joint_coords = joint_coordinates(self.robot, self.embodiment)
        """Hinge angles <-> the simulator's joint coordinates (PhysX: rotation vectors)."""
        self._contact_sensor_ids: torch.Tensor | None = None
        # the HOI env loads the library before building the scene (its objects follow the clips)
        self.library = getattr(env, "motion_library", None) or load_library(
            cfg.motion, device=self.device, embodiment=self.embodiment
        )
        frames = next(iter(self.library.sources.values()))
        if (frames.num_bodies, frames.num_dofs) != (self.embodiment.num_bodies, self.embodiment.num_dofs):
            raise DataMismatchError(f"the motion data hold {frames.num_bodies} bodies / {frames.num_dofs} joints per frame, "
                             f"the simulated {self.embodiment.name} has {self.embodiment.num_bodies} / "
                             f"{self.embodiment.num_dofs}")  # fmt: skip
        for src in (cfg.teacher_source, cfg.reward_source, cfg.init_source):
            if not self.library.has_source(src):
                raise ValueError(f"reference source '{src}' requested but not loaded from {cfg.motion.files or 'demo'}")
        self.future_offsets = list(cfg.future_offsets)
        self.max_episode_steps = int(env.max_episode_length)

        # which object each env holds, and the clips it may play
        self.env_object = self._assign_objects()
        self._object_clips, self._object_clip_count = _clips_by_object(self.library.clip_object, len(self.library.object_names))
        """Per object its clip ids (padded with its first clip) and how many it has: a clip is drawn
        for any number of envs at once."""
        self.clip_ids = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.clip_version = 0
        """Counts the changes of ``clip_ids`` made here (episode starts): who caches something per
        env's clip (the student's teacher grouping) recomputes it when the number changes. Code
        that writes ``clip_ids`` itself increments it too."""
        self.start_frame = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self.start_slot = torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        self._schedule: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        """Clip queues per object, their lengths and the next item of each (see :meth:`set_clip_schedule`)."""
        self.scheduled = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        """Whether each env's running clip came from the clip schedule."""
        self.fixed_starts = False
        """Start every episode at its clip's frame 0 from the reference (fixed-start evaluation
        inside training); set by :func:`intermimic.learning.fixed_start_eval.fixed_starts`."""
        self.curriculum_paused = False
        """Finished episodes teach the start-frame statistics and PSI nothing while set."""
        self._started = torch.zeros(4, device=self.device)
        self._unit_quat = torch.zeros(self.num_envs, 4, device=self.device)
        self._unit_quat[:, 3] = 1.0
        self._default_joint_pos = torch.tensor(self.embodiment.default_joint_pos, device=self.device)
        """Starts since the last log: count, at frame 0, from a simulated PSI slot, sum of start
        frame / clip length."""

        init = cfg.state_init
        total_frames = int(self.library.clip_length.sum())
        self.psi = (
            PhysicalStateBuffer(total_frames, init.psi_slots, state_dim(self.embodiment.num_dofs), device=self.device,
                                replace_threshold=init.psi_replace_threshold, score_decay=init.psi_score_decay)
            if init.psi else None
        )  # fmt: skip
        if init.release_starts:
            self.start_sampler = ReleaseStartFrameSampler(
                self.library.clip_start, self.library.clip_length, self.max_episode_steps, init.start_at_zero_prob,
                self.psi,
            )  # fmt: skip
        else:
            self.start_sampler = StartFrameSampler(
                self.library.clip_start, self.library.clip_length, cfg.min_frames_left,
                init.start_at_zero_prob, init.failure_priority, init.failure_decay,
            )  # fmt: skip
        self.recorder = (
            EpisodeRecorder(self.num_envs, self.max_episode_steps + 1, state_dim(self.embodiment.num_dofs), self.device)
            if init.psi else None
        )  # fmt: skip

        self._cache_key = None
        self._cache: dict[str, object] = {}
        self._version = 0
        self._ig_floors: set[float] = set()
        for name in ("error_body_pos", "error_joint_pos", "error_object_pos"):
            self.metrics[name] = torch.zeros(self.num_envs, device=self.device)

    def _assign_objects(self) -> torch.Tensor:
        """Library object id per env, read from what the scene actually spawned."""
        if self.object is None:
            return torch.zeros(self.num_envs, dtype=torch.long, device=self.device)
        from ...assets.object_scene import env_object_ids

        scene_names = list(self.cfg.scene_object_names)
        names = self.library.object_names
        if sorted(scene_names) != sorted(names):
            raise ValueError(f"scene objects {scene_names} do not match the clips' objects {names}")
        lookup = torch.tensor([names.index(n) for n in scene_names], device=self.device)
        return lookup[env_object_ids(self._env.scene, self.cfg.object_name)]

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

    @property
    def _key_ids(self) -> torch.Tensor:
        return self.groups.ids("key", self.device)

    def _cached(self, key: str, fn):
        stamp = (self._env.common_step_counter, self._version)
        if stamp != self._cache_key:
            self._cache.clear()
            self._cache_key = stamp
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def reference(self, source: str | None = None) -> ReferenceFrames:
        """Reference at the current frame, ``[E, ...]`` (reward source by default)."""
        src = source or self.cfg.reward_source
        return self._cached(f"now/{src}", lambda: self.library.state(self.clip_ids, self.frame, src))

    def future(self, source: str | None = None, offsets: Sequence[int] | None = None) -> ReferenceFrames:
        """References at ``frame + k`` for k in ``offsets`` (default ``future_offsets``):
        ``[E, K, ...]`` from ``source`` (default: the observation source ``teacher_source``)."""
        src = source or self.cfg.teacher_source
        ks = tuple(self.future_offsets if offsets is None else offsets)
        return self._cached(f"future/{src}/{ks}", lambda: self.library.future(self.clip_ids, self.frame, ks, src))

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
        """Joint positions as hinge angles (canonical order)."""
        return self.joint_coords.from_sim_pos(self.robot.data.joint_pos.torch[:, self.joint_ids])

    @property
    def dof_vel(self) -> torch.Tensor:
        """Joint velocities as hinge rates (canonical order)."""
        return self.joint_coords.from_sim_vel(self.dof_pos, self.robot.data.joint_vel.torch[:, self.joint_ids])

    def _require_object(self):
        if self.object is None:
            raise RuntimeError("this environment has no object (command cfg object_name is None)")
        return self.object

    @property
    def obj_pos(self) -> torch.Tensor:
        return self._require_object().data.root_link_pos_w.torch - self.env_origins

    @property
    def obj_quat(self) -> torch.Tensor:
        return self._require_object().data.root_link_quat_w.torch

    @property
    def obj_lin_vel(self) -> torch.Tensor:
        return self._require_object().data.root_link_lin_vel_w.torch

    @property
    def obj_ang_vel(self) -> torch.Tensor:
        return self._require_object().data.root_link_ang_vel_w.torch

    @property
    def object_points(self) -> torch.Tensor:
        """Each env's object surface points in the object frame, ``[E, P, 3]`` (gathered once per step)."""
        return self._cached("object_points", lambda: self.library.object_points[self.env_object])

    def heading_inverse(self) -> torch.Tensor:
        """H: the yaw-only rotation undoing the simulated root's heading, ``[E, 4]``."""
        return self._cached("heading_inv", lambda: rot.heading_inverse(self.root_quat))

    def object_points_w(self) -> torch.Tensor:
        """Simulated object surface points, env-local, ``[E, P, 3]``."""
        return self._cached("obj_pts", lambda: _transform(self.obj_pos, self.obj_quat, self.object_points))

    def ref_object_points_w(self) -> torch.Tensor:
        ref = self.reference()
        return self._cached("ref_obj_pts", lambda: _transform(ref.obj_pos, ref.obj_quat, self.object_points))

    def interaction_field(self) -> torch.Tensor:
        """Simulated interaction field: nearest object point -> body, heading frame, ``[E, B, 3]`` (B: the embodiment's bodies)."""

        def compute():
            vec = nearest_point_offsets(self.body_pos, self.object_points_w())
            return rot.rotate(self.heading_inverse()[:, None], vec)

        return self._cached("field", compute)

    @property
    def contact_sensor_ids(self) -> torch.Tensor:
        """Contact-sensor indices of the embodiment's bodies in canonical order (matched by name)."""
        if self._contact_sensor_ids is None:
            sensor = self._env.scene[self.cfg.contact_sensor_name]
            self._contact_sensor_ids = torch.tensor(canonical_sensor_ids(sensor, self.embodiment), device=self.device)
        return self._contact_sensor_ids

    def interaction_graph(self, num_points: int | None = None, floor: float | None = None) -> InteractionGraphStats:
        """Interaction-graph statistics now (reward error, termination ratios) over the key bodies
        and an evenly strided subset of about ``num_points`` object points (None: all points).

        Computed once per step and point subset, in bounded memory. The ratios are computed for
        every ``floor`` asked for so far, so from the second step on a termination's ratio comes
        from the same pass as the reward's error."""
        if floor is not None:
            self._ig_floors.add(float(floor))
        stride = points_stride(self.library.object_points.shape[1], num_points)
        floors = tuple(sorted(self._ig_floors))

        def compute():
            ref = self.reference()
            return interaction_graph_stats(
                self.body_pos[:, self._key_ids], ref.body_pos[:, self._key_ids],
                self.object_points_w()[:, ::stride], self.ref_object_points_w()[:, ::stride], floors,
            )  # fmt: skip

        return self._cached(f"interaction_graph/{stride}/{floors}", compute)

    def contact_force_history(self) -> torch.Tensor:
        """Contact force on each body (canonical order) at each recorded physics step, newest
        first, ``[E, H, B, 3]``: forces with the object when the sensor filters on it, else the
        net contact force."""
        data = self._env.scene[self.cfg.contact_sensor_name].data
        matrix = getattr(data, "force_matrix_w_history", None)
        if matrix is not None:
            return matrix.torch[:, :, self.contact_sensor_ids].sum(dim=3)
        return data.net_forces_w_history.torch[:, :, self.contact_sensor_ids]

    @property
    def contact_window_steps(self) -> int:
        """Physics steps of the contact window (``cfg.contact_window`` at the env's decimation)."""
        return window_steps(self.cfg.contact_window, self._env.cfg.decimation)

    def body_contact_forces(self) -> torch.Tensor:
        """Contact force on each body (canonical order) averaged over the contact window, ``[E, B, 3]``."""
        return self._cached("contact_forces", lambda: force_over_window(self.contact_force_history(), self.contact_window_steps))

    def body_contact(self) -> torch.Tensor:
        """Per body whether it is in contact, ``[E, B]``: any force component above the threshold
        in any physics step of the contact window (:mod:`.contact_window`)."""
        return self._cached("contact", lambda: contact_in_window(
            self.contact_force_history(), self.contact_window_steps, self.cfg.contact_force_threshold))

    def sim_state(self) -> SimState:
        has_obj = self.object is not None
        zeros3 = torch.zeros(self.num_envs, 3, device=self.device)
        unit_q = self._unit_quat
        return SimState(
            root_pos=self.root_pos, root_quat=self.root_quat,
            root_lin_vel=self.robot.data.root_link_lin_vel_w.torch, root_ang_vel=self.robot.data.root_link_ang_vel_w.torch,
            dof_pos=self.dof_pos, dof_vel=self.dof_vel,
            obj_pos=self.obj_pos if has_obj else zeros3, obj_quat=self.obj_quat if has_obj else unit_q,
            obj_lin_vel=self.obj_lin_vel if has_obj else zeros3, obj_ang_vel=self.obj_ang_vel if has_obj else zeros3,
        )  # fmt: skip

    # ---------------------------------------------------------------------------------
    # Writing states into the simulation
    # ---------------------------------------------------------------------------------
    def write_state(self, env_ids: torch.Tensor, state: SimState) -> None:
        """Put humanoid (and object) of ``env_ids`` exactly into ``state`` (``[len(env_ids), ...]``)."""
        origins = self.env_origins[env_ids]
        pose = torch.cat([state.root_pos + origins, state.root_quat], dim=-1)
        vel = torch.cat([state.root_lin_vel, state.root_ang_vel], dim=-1)
        self.robot.write_root_link_pose_to_sim_index(root_pose=pose, env_ids=env_ids)
        self.robot.write_root_link_velocity_to_sim_index(root_velocity=vel, env_ids=env_ids)
        coords = self.joint_coords
        position = coords.to_sim_pos(state.dof_pos)
        velocity = coords.to_sim_vel(state.dof_pos, state.dof_vel)
        self.robot.write_joint_state_to_sim_index(
            position=position, velocity=velocity, joint_ids=self.joint_ids, env_ids=env_ids
        )
        # hold the start pose until the policy acts
        self.robot.set_joint_position_target_index(target=position, joint_ids=self.joint_ids, env_ids=env_ids)
        if self.object is not None:
            obj_pose = torch.cat([state.obj_pos + origins, state.obj_quat], dim=-1)
            obj_vel = torch.cat([state.obj_lin_vel, state.obj_ang_vel], dim=-1)
            self.object.write_root_link_pose_to_sim_index(root_pose=obj_pose, env_ids=env_ids)
            self.object.write_root_link_velocity_to_sim_index(root_velocity=obj_vel, env_ids=env_ids)
        self._version += 1

    def write_reference_state(self, env_ids: torch.Tensor, ref: ReferenceFrames) -> None:
        self.write_state(env_ids, reference_to_state(ref))

    # ---------------------------------------------------------------------------------
    # Episode starts and ends
    # ---------------------------------------------------------------------------------
    def set_clip_schedule(self, schedule: dict[int, list[int]] | None) -> None:
        """Play given clips in order: ``{object id: [clip ids]}``; envs holding that object take
        the next scheduled clip at each start (random clips once a queue is empty). None: random.
        The queues live on the device, so taking clips from them waits for nothing."""
        if not schedule:
            self._schedule = None
            return
        num_objects = len(self.library.object_names)
        longest = max(len(v) for v in schedule.values())
        queues = torch.zeros(num_objects, max(longest, 1), dtype=torch.long)
        lengths = torch.zeros(num_objects, dtype=torch.long)
        for obj, clips in schedule.items():
            queues[obj, : len(clips)] = torch.as_tensor(list(clips), dtype=torch.long)
            lengths[obj] = len(clips)
        self._schedule = (queues.to(self.device), lengths.to(self.device), torch.zeros_like(lengths, device=self.device))

    def sample_clips(self, env_ids: torch.Tensor) -> torch.Tensor:
        """A clip per env among the clips using the env's object: the next clips of the schedule
        while its queue lasts, else uniform. No host sync."""
        objects = self.env_object[env_ids]
        draw = torch.rand(len(env_ids), device=self.device)
        count = self._object_clip_count[objects]
        out = self._object_clips[objects, (draw * count).long().clamp_max(count - 1)]
        taken = torch.zeros(len(env_ids), dtype=torch.bool, device=self.device)
        if self._schedule is not None:
            queues, lengths, next_item = self._schedule
            # the k-th of these envs holding object o takes o's queue item next_item[o] + k
            same = torch.nn.functional.one_hot(objects, len(lengths))
            position = next_item[objects] + (same.cumsum(0) * same).sum(-1) - 1
            taken = position < lengths[objects]
            out = torch.where(taken, queues[objects, position.clamp_max(queues.shape[1] - 1)], out)
            next_item += same.sum(0)
            next_item.clamp_(max=lengths)
        self.scheduled[env_ids] = taken
        return out

    def start_episodes(self, env_ids: torch.Tensor, from_frame_zero: bool = False) -> None:
        """Choose clip, start frame and PSI slot for ``env_ids`` and write the start state."""
        if len(env_ids) == 0:
            return
        from_frame_zero = from_frame_zero or self.fixed_starts
        clips = self.sample_clips(env_ids)
        frames = torch.zeros_like(clips) if from_frame_zero else self.start_sampler.sample(clips)
        self.clip_ids[env_ids] = clips
        self.clip_version += 1
        self.start_frame[env_ids] = frames
        state = reference_to_state(self.library.state(clips, frames, self.cfg.init_source))
        slots = torch.zeros_like(clips)
        if self.psi is not None and not from_frame_zero:
            flat = self.library.flat_index(clips, frames)
            slots = self.psi.sample_slots(flat)
            stored = self.psi.stored_state(flat, slots.clamp_min(1))
            state = SimState.unpack(torch.where((slots > 0)[:, None], stored, state.pack()))
        if self.cfg.state_init.default_pose_starts:
            state = self.default_pose_state(state)
        self.start_slot[env_ids] = slots
        self.write_state(env_ids, state)
        if not self.curriculum_paused:
            fraction = frames.float() / self.library.clip_length[clips].float()
            self._started[0] += len(clips)
            self._started[1:] += torch.stack([(frames == 0).sum().float(), (slots > 0).sum().float(), fraction.sum()])

    def default_pose_state(self, state: SimState) -> SimState:
        """``state`` with the robot in the embodiment's default pose at rest, at the default root
        height, keeping the root's xy position and heading (the object is kept as it is)."""
        emb = self.embodiment
        n = state.root_pos.shape[0]
        root_pos = state.root_pos.clone()
        root_pos[:, 2] = emb.default_root_height
        heading = rot.yaw_quat(rot.yaw(state.root_quat))
        dof = self._default_joint_pos.expand(n, -1)
        zeros3 = torch.zeros_like(state.root_lin_vel)
        return SimState(
            root_pos=root_pos, root_quat=heading, root_lin_vel=zeros3, root_ang_vel=zeros3, dof_pos=dof,
            dof_vel=torch.zeros_like(dof), obj_pos=state.obj_pos, obj_quat=state.obj_quat,
            obj_lin_vel=state.obj_lin_vel, obj_ang_vel=state.obj_ang_vel,
        )  # fmt: skip

    def start_statistics(self) -> dict[str, torch.Tensor]:
        """The start-frame distribution: what the sampler's weights imply now (``frame0_share``,
        ``start_fraction``: mean start frame / clip length, averaged over the clips alike) and
        what the starts since the last call took (``started_*``; 0 when none started). 0-d
        tensors, read when the log is written (no host sync here)."""
        stats = self.start_sampler.start_statistics()
        n = self._started[0].clamp_min(1.0)
        stats.update({"started_frame0_share": self._started[1] / n, "started_psi_share": self._started[2] / n,
                      "started_fraction": self._started[3] / n})  # fmt: skip
        self._started.zero_()
        return stats

    def end_episodes(self, env_ids: torch.Tensor, failed: torch.Tensor) -> dict[str, torch.Tensor | float]:
        """Book-keeping for finished episodes: failure statistics and PSI insertions. Two host
        syncs with PSI (the buffer's offers), none without, whatever the number of envs."""
        if len(env_ids) == 0:
            return {}
        steps = self._env.episode_length_buf[env_ids]
        end_frame = self.start_frame[env_ids] + steps
        clips = self.clip_ids[env_ids]
        self.start_sampler.record_failures(clips, end_frame, failed)
        stats = {"failure_rate": failed.float().mean(), **self.start_statistics()}
        if self.psi is None:
            return stats
        self.psi.decay()
        init = self.cfg.state_init
        start = self.start_frame[env_ids, None]
        planned_end = torch.minimum(start + self.max_episode_steps, self.library.clip_length[clips, None] - 1)
        step_idx = torch.arange(self.recorder.max_steps, device=self.device)[None, :]
        frames = start + step_idx
        usable = ((steps[:, None] > init.psi_min_survival) & (step_idx >= init.psi_margin)
                  & (step_idx < steps[:, None] - init.psi_margin) & self.recorder.finite[env_ids])  # fmt: skip
        if init.release_starts:
            usable &= release_psi_frames(frames, self.library.clip_length[clips, None], self.max_episode_steps)
        scores = psi_scores(frames, end_frame[:, None], planned_end)
        flat = self.library.flat_index(clips[:, None].expand_as(frames), frames)
        winners = self.psi.select_offers(flat.flatten(), scores.flatten(), usable.flatten())
        env_row, step = winners // frames.shape[1], winners % frames.shape[1]
        self.psi.store(flat.flatten()[winners], self.recorder.states[env_ids[env_row], step], scores.flatten()[winners])
        stats.update({"psi_stored": float(len(winners)), "psi_fill": self.psi.fill_ratio()})
        return stats

    def state_dict(self) -> dict:
        """The curriculum learned so far, for checkpoints: start-frame failure statistics and the
        PSI buffer (not the running episodes, which restart on resume)."""
        state = {"start_frames": self.start_sampler.state_dict()}
        if self.psi is not None:
            state["psi"] = self.psi.state_dict()
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`; ValueError when it was made for other data. A PSI buffer
        saved by a run with PSI is ignored by a run without (and the reverse starts empty)."""
        self.start_sampler.load_state_dict(state["start_frames"])
        if self.psi is not None and "psi" in state:
            self.psi.load_state_dict(state["psi"])

    def _resample_command(self, env_ids: Sequence[int] | slice):
        """Starts are written by the reset event; without it, start from the reference."""
        if self.cfg.reset_by_event:
            return
        self.start_episodes(resolve_env_ids(env_ids, self.num_envs, self.device))

    def _update_command(self):
        if self.recorder is not None:
            self.recorder.record(self._env.episode_length_buf, self.sim_state().pack())

    def tracking_errors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per env (E_h, E_o) now, in metres: mean key-body position error and mean object
        surface-point error (0 without an object). Shared by metrics, terminations and evaluation."""

        def compute():
            key = self._key_ids
            e_h = (self.reference().body_pos[:, key] - self.body_pos[:, key]).norm(dim=-1).mean(-1)
            if self.object is None:
                return e_h, torch.zeros_like(e_h)
            return e_h, (self.ref_object_points_w() - self.object_points_w()).norm(dim=-1).mean(-1)

        return self._cached("tracking_errors", compute)

    # ---------------------------------------------------------------------------------
    # Debug visualisation: reference bodies (spheres) and reference object pose (frame)
    # ---------------------------------------------------------------------------------
    def _set_debug_vis_impl(self, debug_vis: bool):
        if debug_vis and not hasattr(self, "_ref_body_markers"):
            from isaaclab.markers import VisualizationMarkers
            from isaaclab.markers.config import FRAME_MARKER_CFG, SPHERE_MARKER_CFG

            self._ref_body_markers = VisualizationMarkers(
                SPHERE_MARKER_CFG.replace(prim_path="/Visuals/Command/reference_bodies")
            )
            self._ref_object_markers = VisualizationMarkers(
                FRAME_MARKER_CFG.replace(prim_path="/Visuals/Command/reference_object")
            )
        for name in ("_ref_body_markers", "_ref_object_markers"):
            if hasattr(self, name):
                getattr(self, name).set_visibility(debug_vis)

    def _debug_vis_callback(self, event):
        if not self.robot.is_initialized:
            return
        ref = self.reference()
        origins = self.env_origins
        body = (ref.body_pos + origins[:, None]).reshape(-1, 3)
        self._ref_body_markers.visualize(translations=body, scales=torch.full_like(body, 0.4))
        self._ref_object_markers.visualize(translations=ref.obj_pos + origins, orientations=ref.obj_quat)

    def _update_metrics(self):
        e_h, e_o = self.tracking_errors()
        self.metrics["error_body_pos"][:] = e_h
        self.metrics["error_joint_pos"][:] = (self.reference().dof_pos - self.dof_pos).abs().mean(dim=-1)
        self.metrics["error_object_pos"][:] = e_o


def resolve_env_ids(env_ids, num_envs: int, device) -> torch.Tensor:
    """``None``, a slice or a sequence of env indices as a long tensor."""
    if env_ids is None:
        env_ids = slice(None)
    if isinstance(env_ids, slice):
        return torch.arange(num_envs, device=device)[env_ids]
    return torch.as_tensor(env_ids, device=device, dtype=torch.long)


def _transform(pos: torch.Tensor, quat: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    return pos[:, None] + rot.rotate(quat[:, None], points)


def reference_to_state(ref: ReferenceFrames) -> SimState:
    return SimState(
        root_pos=ref.root_pos, root_quat=ref.root_quat, root_lin_vel=ref.root_lin_vel, root_ang_vel=ref.root_ang_vel,
        dof_pos=ref.dof_pos, dof_vel=ref.dof_vel, obj_pos=ref.obj_pos, obj_quat=ref.obj_quat,
        obj_lin_vel=ref.obj_lin_vel, obj_ang_vel=ref.obj_ang_vel,
    )  # fmt: skip


@configclass
class HOIReferenceCommandCfg(CommandTermCfg):
    class_type: type = HOIReferenceCommand
    asset_name: str = "robot"
    object_name: str | None = None
    """Scene entity of the object, when the scene has one."""
    scene_object_names: list[str] = []
    """Object names in the order the scene assigns them to envs (env i holds ``i % N``);
    empty: the library's object order."""
    contact_sensor_name: str = "contact_forces"
    """Sensor of the humanoid's contacts; one filtered on the object gives human-object contacts."""
    contact_force_threshold: float = 0.1
    contact_window: str = "release"
    """Physics steps of a policy step a contact is read over (:mod:`.contact_window`): ``release``
    (the second half of the policy step, as the release's Isaac Gym reads it), ``policy_step``
    (all of it) or ``last_step`` (its final physics step)."""
    motion: MotionDataCfg = MotionDataCfg()
    future_offsets: tuple[int, ...] = (1, 16)
    """Future reference frames observed by the policy."""
    teacher_source: str = "raw"
    """Reference source in the policy observations."""
    reward_source: str = "raw"
    """Reference source for rewards, terminations and metrics."""
    init_source: str = "raw"
    """Reference source of the states episodes start from."""
    raw_row0: str = "aligned"
    """Which raw rows a task loads when corrected clips are named. ``aligned``: row 0 is dropped
    from raw and corrected files alike in every task (the corrected row 0 is a placeholder), so
    frame k is the same instant for teacher and student. ``release``: as the release, a task whose
    references are all raw (the teacher) loads the raw clips alone, from row 0; a task using the
    corrected references drops row 0 from both."""
    min_frames_left: int = 16
    state_init: StateInitCfg = StateInitCfg()
    reset_by_event: bool = True
    """Starts come from the ``reset_to_start_state`` event (else from this term, at the reference)."""
    resampling_time_range: tuple[float, float] = (1.0e9, 1.0e9)
    """Clips are only chosen at episode starts."""


def _clips_by_object(clip_object: torch.Tensor, num_objects: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``[O, max clips]`` clip ids per object (rows padded with the object's first clip) and
    ``[O]`` clip counts (made once)."""
    lists = [torch.nonzero(clip_object == o).flatten() for o in range(num_objects)]
    count = torch.tensor([len(c) for c in lists], device=clip_object.device)
    table = torch.zeros(num_objects, max(len(c) for c in lists), dtype=torch.long, device=clip_object.device)
    for o, c in enumerate(lists):
        if len(c):
            table[o] = torch.cat([c, c[:1].expand(table.shape[1] - len(c))])
    return table, count

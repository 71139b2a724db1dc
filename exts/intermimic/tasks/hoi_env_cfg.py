"""The InterMimic HOI imitation environment: scene, managers and timing (docs/method.md §3-§7).

The scene's object entity is added at construction by :class:`~intermimic.tasks.hoi_env.HOIEnv`
from the clips' object names. Every observation row, reward factor, termination and
state-initialisation mechanism is a named term that can be removed or re-weighted from the
config (e.g. ``env.terminations.interaction_graph=null``) for ablations.
"""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.assets import AssetBaseCfg
from isaaclab.envs import ManagerBasedRLEnvCfg
from isaaclab.managers import CurriculumTermCfg as CurrTerm
from isaaclab.managers import EventTermCfg as EventTerm
from isaaclab.managers import ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm
from isaaclab.managers import RewardTermCfg as RewTerm
from isaaclab.managers import TerminationTermCfg as DoneTerm
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import ContactSensorCfg
from isaaclab.utils import configclass

from ..assets.ground import ground_cfg
from ..assets.humanoid_spec import CONTACT_BODY_ORDERS
from ..assets.humanoid import USD_AT_ENV_CREATION, humanoid_cfg
from ..assets.primitives import DEMO_BOX_DENSITY, DEMO_OBJECT_NAME
from . import mdp
from .physics import HIGH_FIDELITY, LEGACY, POLICY_HZ, HOIPhysicsCfg, SimTiming

TIMINGS: dict[str, tuple[SimTiming, mdp.RewardWeightsCfg]] = {
    "high_fidelity": (HIGH_FIDELITY, mdp.RewardWeightsCfg()),
    "legacy": (LEGACY, mdp.LEGACY_REWARD_WEIGHTS),
}
EPISODE_STEPS = 300
"""Training episode length in policy steps (10 s at 30 Hz)."""
OBJECT_ENTITY = "object"


@configclass
class HOISceneCfg(InteractiveSceneCfg):
    """Ground, humanoid and contact sensors; the object entity is added by the env from the data."""

    ground: AssetBaseCfg = ground_cfg(HIGH_FIDELITY.ground_friction, HIGH_FIDELITY.ground_restitution)
    robot = humanoid_cfg(
        usd_path=USD_AT_ENV_CREATION,
        max_depenetration_velocity=HIGH_FIDELITY.max_depenetration_velocity,
        solver_position_iterations=HIGH_FIDELITY.position_iterations,
        solver_velocity_iterations=HIGH_FIDELITY.velocity_iterations,
    )
    contact_forces = ContactSensorCfg(prim_path="{ENV_REGEX_NS}/Robot/.*", history_length=1)
    """Net contact force on each humanoid body (ground and object), as in the original method.
    For human-object contacts only, add ``humanoid_object_contact_sensor_cfg()`` and point the
    command's ``contact_sensor_name`` at it."""
    light = AssetBaseCfg(prim_path="/World/light", spawn=sim_utils.DistantLightCfg(intensity=3000.0))


@configclass
class CommandsCfg:
    motion = mdp.HOIReferenceCommandCfg(object_name=OBJECT_ENTITY)


@configclass
class ActionsCfg:
    joint_pos = mdp.HOIJointPositionActionCfg()


@configclass
class HOIObservationGroupCfg(ObsGroup):
    """Per future offset (1599 values each, offset-major): the humanoid's state, contacts, the
    reference and the tracking errors of humanoid, object and interaction."""

    root_height = ObsTerm(func=mdp.root_height)
    body_positions = ObsTerm(func=mdp.body_positions)
    body_rotations = ObsTerm(func=mdp.body_rotations)
    body_linear_velocities = ObsTerm(func=mdp.body_linear_velocities)
    body_angular_velocities = ObsTerm(func=mdp.body_angular_velocities)
    contact = ObsTerm(func=mdp.contact)
    key_position_error = ObsTerm(func=mdp.key_position_error)
    rotation_error = ObsTerm(func=mdp.rotation_error)
    contact_error = ObsTerm(func=mdp.contact_error)
    reference_key_positions = ObsTerm(func=mdp.reference_key_positions, params={"release_quirk": False})
    reference_rotations = ObsTerm(func=mdp.reference_rotations)
    key_linear_velocity_error = ObsTerm(func=mdp.key_linear_velocity_error)
    angular_velocity_error = ObsTerm(func=mdp.angular_velocity_error)
    object_state = ObsTerm(func=mdp.object_state)
    interaction_field = ObsTerm(func=mdp.interaction_field)
    interaction_field_error = ObsTerm(func=mdp.interaction_field_error)

    def __post_init__(self):
        self.enable_corruption = False
        self.concatenate_terms = True


def hoi_observation_group(source: str | None = None, offsets: tuple[int, ...] | None = None) -> HOIObservationGroupCfg:
    """The HOI observation group against reference ``source`` at future ``offsets`` (None: the
    command's ``teacher_source`` / ``future_offsets``)."""
    group = HOIObservationGroupCfg()
    for term in vars(group).values():
        if isinstance(term, ObsTerm):
            term.params = {**term.params, "source": source, "offsets": None if offsets is None else tuple(offsets)}
    return group


@configclass
class ObservationsCfg:
    policy: HOIObservationGroupCfg = HOIObservationGroupCfg()


@configclass
class RewardsCfg:
    intermimic = RewTerm(
        func=mdp.InterMimicReward,
        weight=1.0,
        params={"weights": mdp.RewardWeightsCfg(), "release_leg_weights": False, "release_other_bodies": False},
    )


@configclass
class TerminationsCfg:
    time_out = DoneTerm(func=mdp.time_out, time_out=True)
    clip_end = DoneTerm(func=mdp.clip_end, time_out=True)
    fall = DoneTerm(func=mdp.root_too_low)
    key_body_error = DoneTerm(func=mdp.key_body_error)
    object_error = DoneTerm(func=mdp.object_error)
    interaction_graph = DoneTerm(func=mdp.interaction_graph_ratio)
    hand_contact = DoneTerm(func=mdp.hand_contact_lost)
    non_finite_state = DoneTerm(func=mdp.non_finite_state)
    """Guard (not a term of the method): resets an env whose simulated state became NaN/inf."""


@configclass
class EventsCfg:
    reset_to_start_state = EventTerm(func=mdp.reset_to_start_state, mode="reset")


@configclass
class CurriculumCfg:
    state_init_statistics = CurrTerm(func=mdp.state_init_statistics)


@configclass
class HOIEnvCfg(ManagerBasedRLEnvCfg):
    """InterMimic teacher environment (high-fidelity timing)."""

    scene: HOISceneCfg = HOISceneCfg(num_envs=4096, env_spacing=5.0)
    commands: CommandsCfg = CommandsCfg()
    actions: ActionsCfg = ActionsCfg()
    observations: ObservationsCfg = ObservationsCfg()
    rewards: RewardsCfg = RewardsCfg()
    terminations: TerminationsCfg = TerminationsCfg()
    events: EventsCfg = EventsCfg()
    curriculum: CurriculumCfg = CurriculumCfg()
    object_density: float = HIGH_FIDELITY.object_density
    """Density (kg/m^3) of the objects' convex parts."""
    object_densities: dict[str, float] = {DEMO_OBJECT_NAME: DEMO_BOX_DENSITY}
    """Per-object densities overriding ``object_density`` (the solid demo box is a 7 kg box)."""
    humanoid_mjcf: str | None = None
    """A user MJCF of the canonical topology (e.g. the authors' ``omomo.xml``) to simulate instead of
    the project's own humanoid (``env.humanoid_mjcf=/path/omomo.xml``)."""
    embodiment: str = "smplx"
    """What is simulated: ``smplx`` (the SMPL-X humanoid) or ``g1_dex3`` (set by the G1 tasks)."""
    robot_urdf: str | None = None
    """The robot's URDF for a robot task (``env.robot_urdf=/path/g1_29dof_with_hand.urdf``)."""
    robot_gains: str = "release"
    """PD gains of a robot task: ``release`` (the release's Kp 500/300/200/100, Kd = Kp/10) or
    ``armature`` (motor armature with Kp/Kd from it, docs/g1.md)."""
    robot_collision_filter: str = "neighbours"
    """Which of a robot's link pairs never collide: ``neighbours`` (links one joint apart and the
    release's leg filter) or ``release`` (the release's leg filter alone; ``env.timing=release_g1``
    sets it)."""
    cpu_step_threads: int | None = 1
    """torch intra-op threads while the env steps on the CPU (None: torch's setting). The MDP's
    tensors are small and Warp's CPU kernels run on one thread, so one thread costs little and
    keeps a machine shared with other processes from being oversubscribed (measured: up to ten
    times slower managers with two threads on a busy 2-core machine). PPO updates keep torch's
    setting."""
    timing: str = "high_fidelity"
    """Published simulation setting: ``high_fidelity`` (default) or ``legacy`` (``env.timing=legacy``)."""
    applied_timing: str = ""
    """The setting last applied to the fields below (book-keeping; do not set)."""
    contact_body_order: str = "body"
    """Order of the 31 contact bodies in the ``contact`` and ``contact_error`` observations:
    ``body`` (body order, as the release's ``omomo_train_new.yaml``) or ``release_legacy`` (21 key
    bodies, then the fingertips, as its older configs; chosen automatically for such release
    checkpoints)."""

    def __post_init__(self):
        self.episode_length_s = EPISODE_STEPS / POLICY_HZ
        self.sim.physics = HOIPhysicsCfg()
        self.apply_timing()

    def timing_presets(self) -> dict[str, tuple[SimTiming, mdp.RewardWeightsCfg]]:
        """The simulation settings ``env.timing`` may name for this task."""
        return TIMINGS

    def apply_timing(self) -> None:
        """Physics rate, solver, material and reward settings of ``self.timing``; no-op when
        they are already applied (so individual overrides made afterwards are kept). Also checks
        ``contact_body_order``, the other setting chosen by name."""
        if self.contact_body_order not in CONTACT_BODY_ORDERS:
            raise ValueError(
                f"env.contact_body_order: unknown order '{self.contact_body_order}', expected one of "
                f"{sorted(CONTACT_BODY_ORDERS)}"
            )
        if self.applied_timing == self.timing:
            return
        presets = self.timing_presets()
        if self.timing not in presets:
            raise ValueError(f"env.timing: unknown setting '{self.timing}', expected one of {sorted(presets)}")
        timing, weights = presets[self.timing]
        self.decimation = timing.physics_hz // POLICY_HZ
        self.sim.dt = 1.0 / timing.physics_hz
        self.sim.render_interval = self.decimation
        self.sim.physics_material.static_friction = timing.ground_friction
        self.sim.physics_material.dynamic_friction = timing.ground_friction
        self.sim.physics_material.restitution = timing.ground_restitution
        self.scene.ground = ground_cfg(timing.ground_friction, timing.ground_restitution)
        props = self.scene.robot.spawn.articulation_props[0]
        props.solver_position_iteration_count = timing.position_iterations
        props.solver_velocity_iteration_count = timing.velocity_iterations
        self.scene.robot.spawn.rigid_props.max_depenetration_velocity = timing.max_depenetration_velocity
        self.object_density = timing.object_density
        self.rewards.intermimic.params["weights"] = weights.copy()
        self.applied_timing = self.timing


def start_at_clip_beginnings(cfg: HOIEnvCfg) -> None:
    """Every episode starts at its clip's first frame from the reference: no PSI, no start-frame
    statistics (watching and evaluating policies)."""
    cfg.commands.motion.state_init.psi = False
    cfg.events.reset_to_start_state.params["from_frame_zero"] = True
    if cfg.curriculum is not None:
        cfg.curriculum.state_init_statistics = None


@configclass
class HOIEnvCfg_PLAY(HOIEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        self.scene.num_envs = 4
        self.commands.motion.debug_vis = True
        start_at_clip_beginnings(self)

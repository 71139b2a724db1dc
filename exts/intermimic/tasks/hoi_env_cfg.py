"""The HOI imitation environment: scene, managers and timing shared by teacher and student."""

from __future__ import annotations

import isaaclab.sim as sim_utils
from isaaclab.assets import AssetBaseCfg
from isaaclab.envs import ManagerBasedRLEnvCfg
from isaaclab.managers import ObservationGroupCfg as ObsGroup
from isaaclab.managers import ObservationTermCfg as ObsTerm
from isaaclab.managers import RewardTermCfg as RewTerm
from isaaclab.managers import TerminationTermCfg as DoneTerm
from isaaclab.scene import InteractiveSceneCfg
from isaaclab.sensors import ContactSensorCfg
from isaaclab.utils import configclass

from ..assets.ground import ground_cfg
from ..assets.humanoid import humanoid_cfg
from . import mdp
from .physics import HIGH_FIDELITY, POLICY_HZ, HOIPhysicsCfg

EPISODE_STEPS = 300
"""Training episode length in policy steps (10 s at 30 Hz)."""


@configclass
class HOISceneCfg(InteractiveSceneCfg):
    ground: AssetBaseCfg = ground_cfg(HIGH_FIDELITY.ground_friction, HIGH_FIDELITY.ground_restitution)
    robot = humanoid_cfg(
        max_depenetration_velocity=HIGH_FIDELITY.max_depenetration_velocity,
        solver_position_iterations=HIGH_FIDELITY.position_iterations,
    )
    contact_forces = ContactSensorCfg(prim_path="{ENV_REGEX_NS}/Robot/.*", history_length=1)
    light = AssetBaseCfg(prim_path="/World/light", spawn=sim_utils.DistantLightCfg(intensity=3000.0))


@configclass
class CommandsCfg:
    motion = mdp.HOIReferenceCommandCfg()


@configclass
class ActionsCfg:
    joint_pos = mdp.HOIJointPositionActionCfg()


@configclass
class ObservationsCfg:
    @configclass
    class PolicyCfg(ObsGroup):
        """Per future offset: the humanoid's state and its tracking errors."""

        root_height = ObsTerm(func=mdp.root_height)
        body_positions = ObsTerm(func=mdp.body_positions)
        body_rotations = ObsTerm(func=mdp.body_rotations)
        body_linear_velocities = ObsTerm(func=mdp.body_linear_velocities)
        body_angular_velocities = ObsTerm(func=mdp.body_angular_velocities)
        key_position_error = ObsTerm(func=mdp.key_position_error)
        rotation_error = ObsTerm(func=mdp.rotation_error)
        reference_key_positions = ObsTerm(func=mdp.reference_key_positions)
        reference_rotations = ObsTerm(func=mdp.reference_rotations)
        key_linear_velocity_error = ObsTerm(func=mdp.key_linear_velocity_error)
        angular_velocity_error = ObsTerm(func=mdp.angular_velocity_error)

        def __post_init__(self):
            self.enable_corruption = False
            self.concatenate_terms = True

    policy: PolicyCfg = PolicyCfg()


@configclass
class RewardsCfg:
    intermimic = RewTerm(func=mdp.InterMimicReward, weight=1.0, params={"weights": mdp.RewardWeightsCfg()})


@configclass
class TerminationsCfg:
    time_out = DoneTerm(func=mdp.time_out, time_out=True)
    clip_end = DoneTerm(func=mdp.clip_end, time_out=True)
    fall = DoneTerm(func=mdp.root_too_low)
    key_body_error = DoneTerm(func=mdp.key_body_error)


@configclass
class HOIEnvCfg(ManagerBasedRLEnvCfg):
    scene: HOISceneCfg = HOISceneCfg(num_envs=4096, env_spacing=4.0)
    commands: CommandsCfg = CommandsCfg()
    actions: ActionsCfg = ActionsCfg()
    observations: ObservationsCfg = ObservationsCfg()
    rewards: RewardsCfg = RewardsCfg()
    terminations: TerminationsCfg = TerminationsCfg()

    def __post_init__(self):
        timing = HIGH_FIDELITY
        self.decimation = timing.physics_hz // POLICY_HZ
        self.episode_length_s = EPISODE_STEPS / POLICY_HZ
        self.sim.dt = 1.0 / timing.physics_hz
        self.sim.render_interval = self.decimation
        self.sim.physics = HOIPhysicsCfg()
        self.sim.physics_material.static_friction = timing.ground_friction
        self.sim.physics_material.dynamic_friction = timing.ground_friction
        self.sim.physics_material.restitution = timing.ground_restitution


@configclass
class HOIEnvCfg_PLAY(HOIEnvCfg):
    def __post_init__(self):
        super().__post_init__()
        self.scene.num_envs = 4
        self.commands.motion.start_at_zero_prob = 1.0
        self.commands.motion.debug_vis = True

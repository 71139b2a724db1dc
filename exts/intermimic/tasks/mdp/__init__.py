"""MDP terms: Isaac Lab's generic terms, then InterMimic's own."""

from isaaclab.envs.mdp import *  # noqa: F401, F403

from .actions import HOIJointPositionAction, HOIJointPositionActionCfg  # noqa: F401
from .commands import HOIReferenceCommand, HOIReferenceCommandCfg, StateInitCfg  # noqa: F401
from .curriculum import state_init_statistics  # noqa: F401
from .events import reset_to_start_state  # noqa: F401
from .observations import *  # noqa: F401, F403
from .rewards import LEGACY_REWARD_WEIGHTS, InterMimicReward, RewardWeightsCfg  # noqa: F401
from .terminations import *  # noqa: F401, F403

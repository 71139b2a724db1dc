"""MDP terms: Isaac Lab's generic terms, then InterMimic's own."""

from isaaclab.envs.mdp import *  # noqa: F401, F403

from .actions import HOIJointPositionAction, HOIJointPositionActionCfg  # noqa: F401
from .commands import HOIReferenceCommand, HOIReferenceCommandCfg  # noqa: F401
from .observations import *  # noqa: F401, F403
from .rewards import InterMimicReward, RewardWeightsCfg  # noqa: F401
from .terminations import *  # noqa: F401, F403

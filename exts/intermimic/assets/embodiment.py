"""Embodiments: one description per simulated body (bodies, joints, limits, gains, body groups,
action offset/scale, initial pose), looked up by name.

``smplx`` (the default) is a view of :mod:`humanoid_spec`, which stays the one home of the SMPL-X
facts; ``g1_dex3`` is read from the user's Unitree G1 + Dex3 URDF (:mod:`g1_dex3`). Code that is
written for several embodiments asks :func:`get_embodiment` instead of importing SMPL-X constants.
"""

from __future__ import annotations

from .embodiment_spec import Embodiment

__all__ = ["DEFAULT_EMBODIMENT", "EMBODIMENT_NAMES", "Embodiment", "get_embodiment", "smplx_embodiment"]

DEFAULT_EMBODIMENT = "smplx"


def smplx_embodiment() -> Embodiment:
    """The SMPL-X humanoid as an embodiment (every number from :mod:`humanoid_spec`)."""
    from . import humanoid_spec as spec
    from .humanoid import DEFAULT_ROOT_HEIGHT

    limits = [spec.joint_limits_rad(j) for j in spec.JOINT_NAMES]
    gains = [spec.joint_gains(j) for j in spec.JOINT_NAMES]
    n = spec.NUM_DOFS
    return Embodiment(
        name="smplx",
        body_names=spec.BODY_NAMES,
        joint_names=spec.JOINT_NAMES,
        joint_lower=tuple(lo for lo, _ in limits),
        joint_upper=tuple(hi for _, hi in limits),
        stiffness=tuple(k for k, _ in gains),
        damping=tuple(d for _, d in gains),
        armature=(spec.ARMATURE,) * n,
        effort_limit=(1.0e6,) * n,
        velocity_limit=(100.0,) * n,
        key_body_names=spec.KEY_BODY_NAMES,
        contact_body_names=spec.CONTACT_BODY_NAMES,
        hand_body_names=dict(spec.HAND_BODY_NAMES),
        finger_joint_names={side: tuple(j for j in spec.JOINT_NAMES if j.rsplit("_", 1)[0] in bodies[1:])
                            for side, bodies in spec.HAND_BODY_NAMES.items()},  # the finger links' hinges
        rotation_error_body_names=spec.ROTATION_ERROR_BODY_NAMES,
        full_weight_body_names=spec.LEG_BODY_NAMES,
        default_joint_pos=(0.0,) * n,
        body_parents=spec.PARENT_INDICES,
        default_root_height=DEFAULT_ROOT_HEIGHT,
        source="humanoid_spec",
    )


ROBOT_MODULES = {"g1_dex3": ".g1_dex3"}
"""Robot embodiment -> the module that reads it from its description file: ``load_embodiment(urdf,
**options)``, ``load_mujoco_model(urdf)`` and ``mjcf_text(urdf)``."""
EMBODIMENT_NAMES = ("smplx", *ROBOT_MODULES)


def robot_module(name: str):
    """The module of robot embodiment ``name`` (see :data:`ROBOT_MODULES`)."""
    import importlib

    if name not in ROBOT_MODULES:
        raise ValueError(f"unknown robot embodiment '{name}'; expected one of {', '.join(ROBOT_MODULES)}")
    return importlib.import_module(ROBOT_MODULES[name], __package__)


def require_robot_urdf(name: str, urdf: str | None, task: str = "this task") -> None:
    """ValueError naming ``env.robot_urdf`` when ``task`` simulates robot ``name`` without its URDF."""
    if name != "smplx" and not urdf:
        raise ValueError(f"env.robot_urdf: {task} simulates a robot ({name}); give its URDF, "
                         "e.g. env.robot_urdf=/path/to/g1_29dof_with_hand.urdf (docs/g1.md)")  # fmt: skip


def get_embodiment(name: str = DEFAULT_EMBODIMENT, **options) -> Embodiment:
    """The embodiment called ``name``. ``g1_dex3`` needs ``urdf=<path>`` (and takes ``gains=``)."""
    if name == "smplx":
        if options:
            raise ValueError(f"embodiment smplx takes no options, got {sorted(options)}")
        return smplx_embodiment()
    if name not in ROBOT_MODULES:
        raise ValueError(f"unknown embodiment '{name}'; expected one of {', '.join(EMBODIMENT_NAMES)}")
    return robot_module(name).load_embodiment(**options)



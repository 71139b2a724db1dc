"""Isaac Lab articulation config of the SMPL-X humanoid.

The canonical body is generated from :mod:`humanoid_spec` (no file needed); a user-supplied
MJCF of the same topology (e.g. the authors' ``omomo.xml``) can be given instead. Either way
the MJCF is converted to USD once and cached by content hash, each body's three hinges written as
one joint ``<Body>_joint`` (DOFs ``:0/:1/:2``), which Newton and PhysX both simulate.
"""

from __future__ import annotations

from pathlib import Path

from . import humanoid_spec as spec
from . import physx_settings as physx
from .humanoid_mjcf import build_mjcf
from .usd_convert import mjcf_to_usd

DEFAULT_ROOT_HEIGHT = 0.95
"""Pelvis height at which the zero pose stands on the ground."""


def check_mjcf_topology(mjcf_text: str, source: str) -> None:
    """Raise a clear error when an MJCF does not have the canonical bodies and hinges."""
    import mujoco

    try:
        model = mujoco.MjModel.from_xml_string(mjcf_text)
    except Exception as exc:  # mujoco raises ValueError with the parser message
        raise ValueError(f"{source}: not a valid MJCF file: {exc}") from exc
    bodies = tuple(model.body(i).name for i in range(1, model.nbody))
    if bodies != spec.BODY_NAMES:
        missing = [b for b in spec.BODY_NAMES if b not in bodies]
        extra = [b for b in bodies if b not in spec.BODY_NAMES]
        raise ValueError(
            f"{source}: bodies must be the {spec.NUM_BODIES} SMPL-X bodies in canonical order; "
            f"got {len(bodies)} bodies (missing {missing[:5]}, unexpected {extra[:5]})"
        )
    hinges = tuple(model.joint(i).name for i in range(model.njnt) if model.jnt_type[i] == 3)
    if hinges != spec.JOINT_NAMES:
        raise ValueError(
            f"{source}: expected {spec.NUM_DOFS} hinge joints named <Body>_x/_y/_z in body order; "
            f"got {len(hinges)} hinges"
        )


def humanoid_usd(mjcf_text: str, name: str) -> Path:
    """USD file of an SMPL-X humanoid MJCF (canonical topology): one joint per body."""
    return mjcf_to_usd(mjcf_text, name, joint_name=spec.body_joint_name)


def humanoid_usd_path(mjcf_path: str | Path | None = None) -> Path:
    """USD file of the humanoid: the canonical body, or the MJCF file at ``mjcf_path``."""
    if mjcf_path is None:
        # pelvis at the asset origin: the articulation's initial state places it (an MJCF root
        # height would add to it and spawn the body a metre too high)
        return humanoid_usd(build_mjcf(root_height=0.0), "intermimic_smplx_humanoid")
    path = Path(mjcf_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"humanoid MJCF not found: {path}")
    text = path.read_text()
    check_mjcf_topology(text, str(path))
    return humanoid_usd(text, path.stem)


USD_AT_ENV_CREATION = "<the humanoid USD, built when the env is created>"
"""``usd_path`` of the task configs' humanoid: the env builds the USD (``env.humanoid_mjcf`` or the
canonical body) when it is created, so importing a config loads no USD (Isaac Sim loads USD when
its app starts, after the configs are read)."""


def actuator_gains() -> tuple[dict[str, float], dict[str, float]]:
    """Per-body (stiffness, damping) dictionaries keyed by a DOF-name pattern (``<Body>_joint:.*``)."""
    stiffness = {f"{spec.body_joint_name(b)}:.*": spec.body_gains(b)[0] for b in spec.ACTUATED_BODY_NAMES}
    damping = {f"{spec.body_joint_name(b)}:.*": spec.body_gains(b)[1] for b in spec.ACTUATED_BODY_NAMES}
    return stiffness, damping


def humanoid_cfg(
    mjcf_path: str | Path | None = None,
    prim_path: str = "{ENV_REGEX_NS}/Robot",
    max_depenetration_velocity: float = 20.0,
    solver_position_iterations: int = 8,
    usd_path: str | Path | None = None,
    solver_velocity_iterations: int = 1,
):
    """ArticulationCfg of the humanoid with PD actuators from :mod:`humanoid_spec`.

    The body is the canonical one, the MJCF file at ``mjcf_path`` (same topology), or an
    already converted ``usd_path`` (e.g. a per-subject body from :mod:`smplx_subject`).
    """
    if mjcf_path is not None and usd_path is not None:
        raise ValueError("humanoid_cfg: give mjcf_path or usd_path, not both")
    import isaaclab.sim as sim_utils
    from isaaclab.actuators import ImplicitActuatorCfg
    from isaaclab.assets import ArticulationCfg
    from isaaclab_newton.sim.schemas import NewtonArticulationCfg
    from isaaclab_physx.sim.schemas import PhysxArticulationCfg, PhysxCollisionCfg, PhysxRigidBodyCfg

    stiffness, damping = actuator_gains()
    return ArticulationCfg(
        prim_path=prim_path,
        spawn=sim_utils.UsdFileCfg(
            usd_path=str(usd_path if usd_path is not None else humanoid_usd_path(mjcf_path)),
            activate_contact_sensors=True,
            rigid_props=PhysxRigidBodyCfg(
                max_depenetration_velocity=max_depenetration_velocity,
                angular_damping=physx.BODY_ANGULAR_DAMPING,
                linear_damping=physx.BODY_LINEAR_DAMPING,
                max_angular_velocity=physx.BODY_MAX_ANGULAR_VELOCITY_DEG,
            ),
            # the release's offsets; Newton keeps the converter's contact gap 0 (its own attribute
            # wins over PhysX's)
            collision_props=PhysxCollisionCfg(contact_offset=physx.CONTACT_OFFSET, rest_offset=physx.REST_OFFSET),
            articulation_props=[
                PhysxArticulationCfg(
                    enabled_self_collisions=False,
                    solver_position_iteration_count=solver_position_iterations,
                    solver_velocity_iteration_count=solver_velocity_iterations,
                ),
                NewtonArticulationCfg(self_collision_enabled=False),
            ],
        ),
        init_state=ArticulationCfg.InitialStateCfg(pos=(0.0, 0.0, DEFAULT_ROOT_HEIGHT), joint_pos={".*": 0.0}),
        actuators={
            "smplx": ImplicitActuatorCfg(
                joint_names_expr=[".*"],
                stiffness=stiffness,
                damping=damping,
                armature=spec.ARMATURE,
                effort_limit_sim=1.0e6,
                velocity_limit_sim=100.0,
            )
        },
    )

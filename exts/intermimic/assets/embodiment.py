"""Embodiments: one description per simulated body (bodies, joints, limits, gains, body groups,
action offset/scale, initial pose), looked up by name.

``smplx`` (the default) is a view of :mod:`humanoid_spec`, which stays the one home of the SMPL-X
facts; ``g1_dex3`` is read from the user's Unitree G1 + Dex3 URDF (:mod:`g1_dex3`). Code that is
written for several embodiments asks :func:`get_embodiment` instead of importing SMPL-X constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_EMBODIMENT = "smplx"


@dataclass(frozen=True)
class Embodiment:
    name: str
    body_names: tuple[str, ...]
    """Bodies in the embodiment's canonical order (root first)."""
    joint_names: tuple[str, ...]
    """Actuated DOFs in the embodiment's canonical order."""
    joint_lower: tuple[float, ...]
    joint_upper: tuple[float, ...]
    """Joint position limits (rad)."""
    stiffness: tuple[float, ...]
    damping: tuple[float, ...]
    armature: tuple[float, ...]
    effort_limit: tuple[float, ...]
    velocity_limit: tuple[float, ...]
    key_body_names: tuple[str, ...]
    contact_body_names: tuple[str, ...]
    hand_body_names: dict[str, tuple[str, ...]]
    default_joint_pos: tuple[float, ...]
    default_root_height: float
    rotation_error_body_names: tuple[str, ...] = ()
    """Bodies of the rotation and angular-velocity observations (empty: the key bodies)."""
    full_weight_body_names: tuple[str, ...] = ()
    """Key bodies whose position error is not down-weighted near the object (the legs)."""
    body_masses: tuple[float, ...] = ()
    """Mass (kg) of each body where the description gives it (empty: from geometry densities)."""
    reference_bodies: dict[str, str] = field(default_factory=dict)
    """Robot key body -> SMPL-X body it tracks (empty for the SMPL-X humanoid itself)."""
    source: str = ""

    @property
    def root_body(self) -> str:
        return self.body_names[0]

    @property
    def num_bodies(self) -> int:
        return len(self.body_names)

    @property
    def num_dofs(self) -> int:
        return len(self.joint_names)

    def body_indices(self, names) -> list[int]:
        return [self.body_names.index(n) for n in names]

    def joint_indices(self, names) -> list[int]:
        return [self.joint_names.index(n) for n in names]

    def action_offset_scale(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """PD target = offset + scale * action: mid-range and half-range of each joint's limits."""
        offset = tuple(0.5 * (hi + lo) for lo, hi in zip(self.joint_lower, self.joint_upper))
        scale = tuple(0.5 * (hi - lo) for lo, hi in zip(self.joint_lower, self.joint_upper))
        return offset, scale

    def check(self) -> None:
        n = self.num_dofs
        for name in ("joint_lower", "joint_upper", "stiffness", "damping", "armature", "effort_limit",
                     "velocity_limit", "default_joint_pos"):  # fmt: skip
            if len(getattr(self, name)) != n:
                raise ValueError(f"embodiment {self.name}: {name} has {len(getattr(self, name))} entries, expected {n}")
        groups = [*self.key_body_names, *self.contact_body_names, *sum(self.hand_body_names.values(), ()),
                  *self.rotation_error_body_names, *self.full_weight_body_names]  # fmt: skip
        unknown = sorted({b for b in groups if b not in self.body_names})
        if unknown:
            raise ValueError(f"embodiment {self.name}: body groups name unknown bodies {unknown[:5]}")


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
        rotation_error_body_names=spec.ROTATION_ERROR_BODY_NAMES,
        full_weight_body_names=spec.LEG_BODY_NAMES,
        default_joint_pos=(0.0,) * n,
        default_root_height=DEFAULT_ROOT_HEIGHT,
        source="humanoid_spec",
    )


EMBODIMENT_NAMES = ("smplx", "g1_dex3")


def get_embodiment(name: str = DEFAULT_EMBODIMENT, **options) -> Embodiment:
    """The embodiment called ``name``. ``g1_dex3`` needs ``urdf=<path>`` (and takes ``gains=``)."""
    if name == "smplx":
        if options:
            raise ValueError(f"embodiment smplx takes no options, got {sorted(options)}")
        return smplx_embodiment()
    if name == "g1_dex3":
        from .g1_dex3 import g1_dex3_embodiment

        return g1_dex3_embodiment(**options)
    raise ValueError(f"unknown embodiment '{name}'; expected one of {', '.join(EMBODIMENT_NAMES)}")



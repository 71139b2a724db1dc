"""The description of one simulated body (:class:`Embodiment`): what every embodiment module
fills in and the MDP reads (looked up by name with :func:`~.embodiment.get_embodiment`)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    body_parents: tuple[int, ...] = ()
    """Index of each body's parent in ``body_names`` (-1 for the root)."""
    contact_label_sources: dict[str, str] = field(default_factory=dict)
    """Body -> contact body whose reference contact label it takes, for bodies that are not
    contact bodies themselves (robot clips label only the contact bodies)."""
    finger_joint_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per side (``L``, ``R``), the joints that move the fingers (the finger joint error of evaluation)."""
    reference_bodies: dict[str, str] = field(default_factory=dict)
    """Robot key body -> SMPL-X body it tracks (empty for the SMPL-X humanoid itself)."""
    contact_reference_bodies: dict[str, str] = field(default_factory=dict)
    """Robot contact body -> SMPL-X body whose contact label it takes (empty for the SMPL-X humanoid)."""
    collider_body_names: tuple[str, ...] = ()
    """Bodies with collision geometry (empty: every body). Only they carry contact labels and
    count in the contact factors: a body without a collider never senses a contact."""
    jointed_body_names: tuple[str, ...] = ()
    """Bodies moved by a joint of their own, the root included (empty: every body); the rotation
    error E_r averages over them (a body fixed to its parent repeats its parent's rotation)."""
    length_scale: float = 1.0
    """Leg length relative to the SMPL-X humanoid's: the termination distances, set for the
    SMPL-X humanoid, are multiplied by it."""
    self_collisions: bool = False
    """Whether the body's links collide with each other (those of ``collision_filter_pairs`` and
    each body with its parent excepted)."""
    collision_filter_pairs: tuple[tuple[str, str], ...] = ()
    """Body pairs that never collide with each other (with ``self_collisions``)."""
    collision_filter: str = ""
    """The rule ``collision_filter_pairs`` came from (a robot's; empty for the SMPL-X humanoid)."""
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
        labelled = [*self.contact_body_names, *self.contact_label_sources, *self.contact_label_sources.values()]
        groups += [*labelled, *self.collider_body_names, *self.jointed_body_names, *sum(self.collision_filter_pairs, ())]
        unknown_joints = sorted({j for j in sum(self.finger_joint_names.values(), ()) if j not in self.joint_names})
        if unknown_joints:
            raise ValueError(f"embodiment {self.name}: finger joints name unknown joints {unknown_joints[:5]}")
        unknown = sorted({b for b in groups if b not in self.body_names})
        if unknown:
            raise ValueError(f"embodiment {self.name}: body groups name unknown bodies {unknown[:5]}")
        without = sorted({b for b in labelled if not self.has_collider(b)})
        if without:
            raise ValueError(f"embodiment {self.name}: bodies without a collider carry contact labels: {without[:5]}")
        if self.body_parents and len(self.body_parents) != self.num_bodies:
            raise ValueError(f"embodiment {self.name}: body_parents has {len(self.body_parents)} entries, "
                             f"expected {self.num_bodies}")

    def has_collider(self, body: str) -> bool:
        return not self.collider_body_names or body in self.collider_body_names

    @property
    def colliding_body_names(self) -> tuple[str, ...]:
        """The bodies with a collider, in body order."""
        return tuple(b for b in self.body_names if self.has_collider(b))

    @property
    def rotation_reward_body_names(self) -> tuple[str, ...]:
        """The bodies of the rotation error E_r: the jointed ones, in body order."""
        return tuple(b for b in self.body_names if not self.jointed_body_names or b in self.jointed_body_names)

    def contact_label_body(self, body: str) -> str | None:
        """The contact body whose label ``body`` carries (itself for a contact body; None: none)."""
        if body in self.contact_body_names:
            return body
        return self.contact_label_sources.get(body)

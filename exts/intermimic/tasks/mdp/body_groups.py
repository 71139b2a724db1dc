"""The body groups the MDP terms index, taken from the env's embodiment.

Observations, rewards and terminations never import an embodiment's constants: they ask
:func:`body_groups` (or the command's ``groups``) for index lists into the embodiment's canonical
body order. The release's quirky SMPL-X sets (``release_leg_weights``, ``release_other_bodies``,
the ``release_legacy`` contact order) exist only for the SMPL-X humanoid; another embodiment
gets the standard sets under those switches.

Contact groups hold only bodies with a collider (:attr:`Embodiment.collider_body_names`): a body
without one never senses a contact, so a promoted label on it could never be met. Every SMPL-X
body has a collider, so its groups are those of the release.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import torch

from ...assets.embodiment import DEFAULT_EMBODIMENT, Embodiment, get_embodiment


@dataclass(frozen=True)
class BodyGroups:
    embodiment: str
    num_bodies: int
    key: tuple[int, ...]
    rotation_error: tuple[int, ...]
    hands: dict[str, tuple[int, ...]]
    """Per side, the hand bodies with a collider (r_hand, hand-contact termination)."""
    full_weight_in_key: dict[bool, tuple[bool, ...]]
    """Per key body, whether its E_p weight is 1 (False: the standard set; True: the release's)."""
    other_contact: dict[bool, tuple[int, ...]]
    """Bodies of the contact factor r_other (False: every non-hand body; True: the release's)."""
    contact_orders: dict[str, tuple[int, ...]]
    """Contact bodies in each order of the ``contact`` observations (``env.contact_body_order``)."""
    colliding: tuple[int, ...] = ()
    """Bodies with a collider: the penalised-contact factor r_all averages over them."""
    rotation_reward: tuple[int, ...] = ()
    """Bodies of the rotation error E_r: those moved by a joint of their own."""
    hand_bodies: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Per side, every hand body (wrist and finger links, collider or not): E_hand of evaluation."""
    hand_bodies_both: tuple[int, ...] = ()
    finger_dofs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Per side, the DOFs of the finger joints: the finger joint error of evaluation."""
    finger_dofs_both: tuple[int, ...] = ()
    _tensors: dict = field(default_factory=dict, compare=False, repr=False)

    def ids(self, name: str, device, variant=None) -> torch.Tensor:
        """The group ``name`` (``key``, ``rotation_error``, ``hands``, ``full_weight_in_key``,
        ``other_contact``, ``contact_orders``, ``colliding``, ``rotation_reward``, ``hand_bodies``,
        ``hand_bodies_both``, ``finger_dofs``, ``finger_dofs_both``; ``variant`` picks a side,
        switch or order) as a tensor on ``device`` (made once per device)."""
        cache_key = (name, variant, str(device))
        if cache_key not in self._tensors:
            values = getattr(self, name)
            values = values[variant] if variant is not None else values
            dtype = torch.bool if name == "full_weight_in_key" else torch.long
            self._tensors[cache_key] = torch.tensor(values, dtype=dtype, device=device)
        return self._tensors[cache_key]


def groups_of(emb: Embodiment) -> BodyGroups:
    """The index lists of ``emb``'s body groups."""
    key = tuple(emb.body_indices(emb.key_body_names))
    colliding = tuple(emb.body_indices(emb.colliding_body_names))
    hands = {side: tuple(i for i in emb.body_indices(names) if i in colliding)
             for side, names in emb.hand_body_names.items()}  # fmt: skip
    hand_ids = set(sum(hands.values(), ()))
    full_weight = tuple(n in emb.full_weight_body_names for n in emb.key_body_names)
    other = tuple(i for i in colliding if i not in hand_ids)
    contact = tuple(emb.body_indices(emb.contact_body_names))
    release_full, release_other, release_contact = full_weight, other, contact
    if emb.name == "smplx":
        from ...assets import humanoid_spec as spec

        release_full = tuple(n in spec.RELEASE_FULL_WEIGHT_BODY_NAMES for n in emb.key_body_names)
        release_other = tuple(spec.RELEASE_OTHER_CONTACT_BODY_IDS)
        release_contact = tuple(spec.CONTACT_BODY_ORDERS["release_legacy"])
    return BodyGroups(
        embodiment=emb.name, num_bodies=emb.num_bodies, key=key,
        rotation_error=tuple(emb.body_indices(emb.rotation_error_body_names or emb.key_body_names)),
        hands=hands, full_weight_in_key={False: full_weight, True: release_full},
        other_contact={False: other, True: release_other},
        contact_orders={"body": contact, "release_legacy": release_contact}, colliding=colliding,
        rotation_reward=tuple(emb.body_indices(emb.rotation_reward_body_names)),
        hand_bodies={side: tuple(emb.body_indices(names)) for side, names in emb.hand_body_names.items()},
        hand_bodies_both=tuple(emb.body_indices(sum(emb.hand_body_names.values(), ()))),
        finger_dofs={side: tuple(emb.joint_indices(names)) for side, names in emb.finger_joint_names.items()},
        finger_dofs_both=tuple(emb.joint_indices(sum(emb.finger_joint_names.values(), ()))),
    )  # fmt: skip


@lru_cache(maxsize=None)
def default_groups() -> BodyGroups:
    """The SMPL-X humanoid's groups (the default embodiment)."""
    return groups_of(get_embodiment(DEFAULT_EMBODIMENT))


def body_groups(env) -> BodyGroups:
    """The groups of ``env``'s embodiment (its motion command's)."""
    cmd = env.command_manager.get_term("motion")
    return getattr(cmd, "groups", None) or default_groups()

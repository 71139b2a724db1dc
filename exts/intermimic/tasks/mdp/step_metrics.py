"""Each step's evaluation numbers per env (docs/evaluation.md), one column each:

* ``E_h``, ``E_o``: mean key-body position error and mean object surface-point error (m), the
  paper's metrics;
* ``E_hand``, ``E_hand_L``, ``E_hand_R``: mean position error (m) of the hand bodies (wrists and
  finger links; both hands, then each), the embodiment's ``hand_body_names``;
* ``E_finger``: mean absolute difference (rad, wrapped) of the finger joints from the reference,
  the embodiment's ``finger_joint_names``;
* ``hand_contact_tp`` / ``_fp`` / ``_fn`` / ``_tn``: per hand whose contact the clip labels on
  this frame (any of its contact bodies labelled +1 or -1), whether the simulated hand touches
  (any of its contact bodies in contact over the contact window) against whether the clip says it
  does (any body labelled +1): true and false positives, false and true negatives, summed over
  both hands.

The hand numbers are additions of this package, not the paper's metrics. An attempt's value of a
``COUNTS`` column is the sum over its steps, of any other column the mean (:mod:`intermimic.evaluation.metrics`).
"""

from __future__ import annotations

import math

import torch

STEP_METRICS = ("E_h", "E_o", "E_hand", "E_hand_L", "E_hand_R", "E_finger",
                "hand_contact_tp", "hand_contact_fp", "hand_contact_fn", "hand_contact_tn")  # fmt: skip
COUNTS = ("hand_contact_tp", "hand_contact_fp", "hand_contact_fn", "hand_contact_tn")
SIDES = ("L", "R")


def wrapped_difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``a - b`` of angles, wrapped into [-pi, pi]."""
    d = a - b
    return torch.remainder(d + math.pi, 2 * math.pi) - math.pi


def hand_contact_counts(sim_contact: torch.Tensor, labels: torch.Tensor, hands: dict) -> torch.Tensor:
    """``[E, 4]`` (true positives, false positives, false negatives, true negatives) of the hands' contact, summed
    over the hands the clip labels: ``sim_contact`` ``[E, B]`` bool, ``labels`` ``[E, B]`` in
    {-1, 0, 1}, ``hands`` side -> tensor of the hand's contact body ids."""
    counts = torch.zeros(sim_contact.shape[0], 4, device=sim_contact.device)
    for ids in hands.values():
        label = labels[:, ids]
        labelled = (label != 0).any(dim=1)
        says = (label > 0).any(dim=1)
        touches = sim_contact[:, ids].any(dim=1)
        counts[:, 0] += (labelled & says & touches).float()
        counts[:, 1] += (labelled & ~says & touches).float()
        counts[:, 2] += (labelled & says & ~touches).float()
        counts[:, 3] += (labelled & ~says & ~touches).float()
    return counts


def step_metrics(cmd) -> torch.Tensor:
    """``[E, len(STEP_METRICS)]``: this step's numbers of every env of the reference command ``cmd``."""
    groups, device = cmd.groups, cmd.device
    ref = cmd.reference()
    e_h, e_o = cmd.tracking_errors()
    error = (ref.body_pos - cmd.body_pos).norm(dim=-1)  # [E, B]
    per_side = [error[:, groups.ids("hand_bodies", device, side)].mean(dim=-1) for side in SIDES]
    both = error[:, groups.ids("hand_bodies_both", device)].mean(dim=-1)
    fingers = groups.ids("finger_dofs_both", device)
    e_finger = wrapped_difference(cmd.dof_pos[:, fingers], ref.dof_pos[:, fingers]).abs().mean(dim=-1)
    hands = {side: groups.ids("hands", device, side) for side in SIDES}
    counts = hand_contact_counts(cmd.body_contact(), ref.contact, hands)
    return torch.cat([torch.stack([e_h, e_o, both, *per_side, e_finger], dim=-1), counts], dim=-1)

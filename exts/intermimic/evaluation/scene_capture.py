"""What a video frame shows, read from an HOI env's command: :class:`SceneFrame`.

:func:`capture` copies the simulated and reference state of chosen environments to the host in
one batch (poses, contacts, errors, reward factors); :meth:`SceneCapture.frame` makes the
:class:`SceneFrame` of one of them with its caption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

OBJECT_POINTS_DRAWN = 256
"""Surface points per object kept for the skeleton renderer (an even subset of the object's points)."""
REWARD_TERM = "intermimic"
REWARD_GROUPS = ("r", "r_h", "r_o", "r_ig_total", "r_cg")
"""Reward factor groups shown in the caption (the reward term's ``last_groups``)."""


@dataclass
class SceneFrame:
    """What one video frame shows (env-local coordinates, metres; quaternions xyzw). Body arrays
    have one row per body of the command's embodiment, in its ``body_names`` order (B = 52 for
    the SMPL-X humanoid, 59 for the G1 + Dex3)."""

    body_pos: np.ndarray  # [B, 3] simulated bodies
    object_points: np.ndarray  # [P, 3] simulated object surface points
    ref_body_pos: np.ndarray  # [B, 3] reference bodies (ghost)
    ref_object_points: np.ndarray  # [P, 3]
    caption: str
    body_quat: np.ndarray | None = None  # [B, 4]
    ref_body_quat: np.ndarray | None = None
    object_id: int = -1  # library object id (-1: no object)
    obj_pos: np.ndarray | None = None  # [3]
    obj_quat: np.ndarray | None = None  # [4]
    ref_obj_pos: np.ndarray | None = None
    ref_obj_quat: np.ndarray | None = None
    contact: np.ndarray | None = None  # [B] bool: the body's contact sensor sees force
    ref_contact: np.ndarray | None = None  # [B] bool: the clip labels the body in contact
    badge: str | None = None  # "success" / "failure" (grid videos, contact sheets)


def reward_groups(cmd) -> dict[str, torch.Tensor] | None:
    """The reward term's factor groups of the last step, ``{name: [E]}`` (None before any step)."""
    manager = getattr(cmd._env, "reward_manager", None)
    if manager is None or REWARD_TERM not in manager.active_terms:
        return None
    groups = getattr(manager.get_term_cfg(REWARD_TERM).func, "last_groups", None)
    if not groups or any(n not in groups for n in REWARD_GROUPS):
        return None
    return groups


class SceneCapture:
    """One batch of captured environments (numpy arrays indexed by position in ``env_ids``)."""

    def __init__(self, cmd, env_ids):
        ids = torch.as_tensor(env_ids, device=cmd.device, dtype=torch.long)
        self.library = cmd.library
        self.env_ids = ids.tolist()
        ref = cmd.reference()

        def np_(t):
            return t[ids].detach().cpu().numpy()

        self.body_pos, self.body_quat = np_(cmd.body_pos), np_(cmd.body_quat)
        self.ref_body_pos, self.ref_body_quat = np_(ref.body_pos), np_(ref.body_quat)
        self.ref_contact = np_(ref.contact > 0)
        e_h, e_o = cmd.tracking_errors()
        self.e_h, self.e_o = np_(e_h), np_(e_o)
        self.clip_ids, self.frames, self.lengths = np_(cmd.clip_ids), np_(cmd.frame), np_(cmd.clip_length)
        groups = reward_groups(cmd)
        self.rewards = None if groups is None else {n: np_(groups[n]) for n in REWARD_GROUPS}
        if cmd.object is not None:
            self.object_ids = np_(cmd.env_object)
            self.obj_pos, self.obj_quat = np_(cmd.obj_pos), np_(cmd.obj_quat)
            self.ref_obj_pos, self.ref_obj_quat = np_(ref.obj_pos), np_(ref.obj_quat)
            stride = max(1, cmd.object_points.shape[1] // OBJECT_POINTS_DRAWN)
            self.points = np_(cmd.object_points_w()[:, ::stride])
            self.ref_points = np_(cmd.ref_object_points_w()[:, ::stride])
            try:
                self.contact = np_(cmd.body_contact())
            except (KeyError, AttributeError):  # a scene without the contact sensor
                self.contact = None
        else:
            self.object_ids = np.full(len(self.env_ids), -1)
            self.obj_pos = self.obj_quat = self.ref_obj_pos = self.ref_obj_quat = self.contact = None
            self.points = self.ref_points = np.zeros((len(self.env_ids), 0, 3), dtype=np.float32)

    def caption(self, i: int) -> str:
        """Clip, frame, E_h, E_o and (after a step) the reward factors of entry ``i``."""
        name = self.library.clips[int(self.clip_ids[i])].name
        line = (f"{name}  frame {int(self.frames[i]):>4}/{int(self.lengths[i]) - 1}  "
                f"E_h {100 * float(self.e_h[i]):5.1f} cm  E_o {100 * float(self.e_o[i]):5.1f} cm")  # fmt: skip
        if self.rewards is None:
            return line
        r = {n: float(v[i]) for n, v in self.rewards.items()}
        return (f"{line}\nreward r {r['r']:.3f} = r_h {r['r_h']:.3f} x r_o {r['r_o']:.3f} x "
                f"r_ig {r['r_ig_total']:.3f} x r_cg {r['r_cg']:.3f}")  # fmt: skip

    def frame(self, i: int, caption: str | None = None) -> SceneFrame:
        def opt(a):
            return None if a is None else a[i]

        return SceneFrame(
            self.body_pos[i], self.points[i], self.ref_body_pos[i], self.ref_points[i],
            self.caption(i) if caption is None else caption,
            body_quat=self.body_quat[i], ref_body_quat=self.ref_body_quat[i], object_id=int(self.object_ids[i]),
            obj_pos=opt(self.obj_pos), obj_quat=opt(self.obj_quat), ref_obj_pos=opt(self.ref_obj_pos),
            ref_obj_quat=opt(self.ref_obj_quat), contact=opt(self.contact), ref_contact=self.ref_contact[i],
        )  # fmt: skip

    def frames_all(self) -> list[SceneFrame]:
        return [self.frame(i) for i in range(len(self.env_ids))]

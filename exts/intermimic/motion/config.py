"""Configuration of the motion data a task loads."""

from __future__ import annotations

from isaaclab.utils import configclass


@configclass
class MotionDataCfg:
    """Which clips to load.

    ``files`` lists clip files (``.pt``; ``.npz`` robot clips for robot tasks), directories of
    clips (their clip files, not recursive), or YAML manifests (e.g. ``config/datasets/omomo_sub2.yaml``); empty means the
    built-in demo clips. ``corrected`` optionally names the folder(s) of teacher-corrected
    references matching the raw clips by file name. See ``docs/data.md``.
    """

    files: list[str] = []
    corrected: list[str] = []
    subjects: list[int] = []
    objects_dir: str | None = None
    """Folder with ``<name>/<name>.obj`` (or ``<name>.urdf``) meshes for the objects in the clips."""
    strict: bool = False
    """Fail on the first bad clip instead of reporting it and loading the rest."""
    repair_positions: bool = False
    """Body positions that do not follow the joint rotations (a rigid bone changing length, a
    body off forward kinematics by more than 5 mm) are recomputed by forward kinematics on the
    clip's own skeleton instead of rejecting the clip (docs/data.md, "Body positions")."""
    load_corrected: bool = True
    """Load the teacher-corrected clips that ``corrected`` (or a manifest) names. When they are
    loaded, row 0 is dropped from both files (the corrected row 0 is a placeholder), so frame k is
    the same instant in both sources. False: the raw clips alone, from their row 0."""
    embodiment: str = "smplx"
    """Whose clips these are: ``smplx`` (``.pt`` files in the 591-column format) or a robot
    (``g1_dex3``: ``.npz`` files written by ``retarget-robot``). Set by the task."""
    future_horizon: int = 16
    """Largest future offset the policy looks at: shorter clips (fewer than ``future_horizon + 1``
    frames) are rejected."""

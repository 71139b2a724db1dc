"""The student's teachers: one frozen teacher policy per subject, run batched.

Each teacher is a trained teacher checkpoint (``model_<it>.pt`` of a teacher run, or a run folder
meaning its latest model). A teacher keeps its own running observation mean/std (clipped to
+-5, as in training) and its own fixed action standard deviation. Every environment is served
by the teacher of its clip's subject: :meth:`TeacherBank.act` takes the teacher observation of
all environments and each environment's teacher index, and evaluates each teacher once on the
rows it serves (one batched call per teacher present).

Teacher actions, as in the authors' release: the behaviour-cloning target is the teacher's mean
``mu``; the action the teacher would execute is sampled from ``N(mu, std)`` and clipped to the
action box ``[-1, 1]``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from tensordict import TensorDict

from ..utils.errors import UserError
from .models import ClippedMLPModel

_LAYER = re.compile(r"^mlp\.(\d+)\.weight$")


class TeacherConfigError(UserError):
    """A teacher is missing, unreadable or does not fit the environment (shown as one line)."""


def _teacher_file(path: str | Path) -> Path:
    from .checkpointing import names_release_checkpoint, resolve_checkpoint

    if names_release_checkpoint(path):
        return resolve_checkpoint(path, ".")
    p = Path(path).expanduser()
    if p.is_dir():
        return resolve_checkpoint(p, p)
    return p


def _teacher_model(obs_dim: int, hidden: list[int], num_actions: int, std: float, activation: str,
                   obs_clip: float) -> ClippedMLPModel:  # fmt: skip
    obs = TensorDict({"teacher": torch.zeros(1, obs_dim)}, batch_size=[1])
    return ClippedMLPModel(
        obs, {"actor": ["teacher"]}, "actor", num_actions, hidden_dims=hidden, activation=activation,
        obs_normalization=True, obs_clip=obs_clip,
        distribution_cfg={"class_name": "GaussianDistribution", "learn_std": False, "init_std": std},
    )  # fmt: skip


def load_teacher(path: str | Path, subject: int, activation: str = "relu", obs_clip: float = 5.0,
                 device: str | torch.device = "cpu") -> tuple[ClippedMLPModel, Path]:  # fmt: skip
    """A frozen teacher policy from a teacher checkpoint (its actor and observation normaliser):
    a checkpoint of this project's teacher, or ``release:FILE``, one of the authors' release."""
    from .release_checkpoint import ReleaseCheckpointError, is_release_checkpoint, load_release_into, release_actor_shape

    try:
        file = _teacher_file(path)
    except FileNotFoundError as exc:
        raise TeacherConfigError(f"teacher of subject {subject}: {exc}") from None
    if not file.is_file():
        raise TeacherConfigError(f"teacher of subject {subject}: checkpoint not found: {file}")
    try:
        data = torch.load(file, map_location="cpu", weights_only=False)
    except Exception as exc:  # truncated or not a torch file
        raise TeacherConfigError(f"teacher of subject {subject}: cannot read {file} ({type(exc).__name__}: {exc})") from None
    if is_release_checkpoint(data):
        try:
            obs_dim, hidden, num_actions = release_actor_shape(data, file)
            model = _teacher_model(obs_dim, hidden, num_actions, math.exp(-2.9), activation, obs_clip)
            load_release_into(model, None, data, file)
        except ReleaseCheckpointError as exc:
            raise TeacherConfigError(f"teacher of subject {subject}: {exc}") from None
        return model.eval().requires_grad_(False).to(device), file
    state = data.get("actor_state_dict") if isinstance(data, Mapping) else None
    if not isinstance(state, Mapping):
        raise TeacherConfigError(
            f"teacher of subject {subject}: {file} holds no 'actor_state_dict' (not a teacher checkpoint; "
            "write release:FILE for one of the authors' release)"
        )
    layers = sorted((int(m.group(1)), v.shape) for k, v in state.items() if (m := _LAYER.match(k)))
    if not layers or "obs_normalizer.normalizer._mean" not in state:
        raise TeacherConfigError(
            f"teacher of subject {subject}: {file} is not an MLP teacher with observation normalisation"
        )
    std = state.get("distribution.std_param")
    model = _teacher_model(layers[0][1][1], [shape[0] for _, shape in layers[:-1]], layers[-1][1][0],
                           float(std.mean()) if std is not None else math.exp(-2.9), activation, obs_clip)  # fmt: skip
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise TeacherConfigError(f"teacher of subject {subject}: {file} does not load ({exc})") from None
    return model.eval().requires_grad_(False).to(device), file


class TeacherBank:
    """Frozen teachers, one per subject; each environment is served by its subject's teacher."""

    def __init__(self, teachers: Mapping[int, ClippedMLPModel], files: Mapping[int, Path] | None = None):
        if not teachers:
            raise TeacherConfigError("no teachers given (set teachers=<preset> or teachers.paths.<subject>=<checkpoint>)")
        self.subjects = sorted(int(s) for s in teachers)
        self.models = [teachers[s] for s in self.subjects]
        self.files = {int(s): Path(f) for s, f in (files or {}).items()}
        dims = {(m.obs_dim, m.distribution.output_dim) for m in self.models}
        if len(dims) != 1:
            sizes = {s: (m.obs_dim, m.distribution.output_dim) for s, m in zip(self.subjects, self.models)}
            raise TeacherConfigError(f"teachers disagree on observation/action size (subject: (obs, actions)): {sizes}")
        self.obs_dim, self.num_actions = dims.pop()

    @classmethod
    def from_checkpoints(cls, paths: Mapping[int, str | Path], device: str | torch.device = "cpu",
                         activation: str = "relu", obs_clip: float = 5.0) -> TeacherBank:  # fmt: skip
        """Load every teacher (subject -> checkpoint file or run folder)."""
        models, files = {}, {}
        for subject, path in paths.items():
            models[int(subject)], files[int(subject)] = load_teacher(path, int(subject), activation, obs_clip, device)
        return cls(models, files)

    def __len__(self) -> int:
        return len(self.models)

    def check_fits(self, obs_dim: int, num_actions: int, data_subjects: list[int]) -> None:
        """Raise :class:`TeacherConfigError` unless the teachers take ``obs_dim`` observations,
        give ``num_actions`` actions and cover every subject of the data."""
        if self.obs_dim != obs_dim:
            raise TeacherConfigError(
                f"teachers take {self.obs_dim} observation values but the environment's 'teacher' group has "
                f"{obs_dim}: the teachers were trained with other observation settings"
            )
        if self.num_actions != num_actions:
            raise TeacherConfigError(f"teachers give {self.num_actions} actions, the environment expects {num_actions}")
        self.check_subjects(data_subjects)

    def check_subjects(self, data_subjects: list[int]) -> None:
        """Raise :class:`TeacherConfigError` unless every subject of the data has a teacher."""
        missing = sorted(set(data_subjects) - set(self.subjects))
        if missing:
            raise TeacherConfigError(
                f"no teacher for subject(s) {missing} of the data (teachers for {self.subjects}); add "
                f"teachers.paths.<subject>=<checkpoint> or restrict the data with dataset.subjects=[...]"
            )

    def index_lookup(self, data_subjects: list[int], device) -> torch.Tensor:
        """Teacher index for each subject slot of a motion library (``library.subjects`` order)."""
        return torch.tensor([self.subjects.index(s) for s in data_subjects], dtype=torch.long, device=device)

    @torch.no_grad()
    def mean(self, obs: torch.Tensor, teacher_ids: torch.Tensor, version: int | None = None) -> torch.Tensor:
        """Each row's teacher mean action ``mu``: ``[E, D]`` observations, ``[E]`` teacher indices.

        The rows are grouped by teacher once per ``version`` (a number that changes whenever some
        row's teacher may have changed, e.g. at episode starts; None: group now): one host sync
        per grouping, none while the version stays."""
        groups = self._groups(teacher_ids, version)
        out = torch.empty(obs.shape[0], self.num_actions, device=obs.device, dtype=obs.dtype)
        for t, rows in groups:
            out.index_copy_(0, rows, self.models[t](TensorDict({"teacher": obs.index_select(0, rows)},
                                                               batch_size=[rows.shape[0]])))  # fmt: skip
        return out

    def _groups(self, teacher_ids: torch.Tensor, version: int | None) -> list[tuple[int, torch.Tensor]]:
        """``[(teacher, rows served by it)]`` for the teachers with rows, cached per ``version``."""
        cached = getattr(self, "_grouping", None)
        if version is not None and cached is not None and cached[0] == version and cached[1] == teacher_ids.shape[0]:
            return cached[2]
        order = torch.argsort(teacher_ids, stable=True)
        counts = torch.bincount(teacher_ids, minlength=len(self.models)).tolist()
        groups, start = [], 0
        for t, n in enumerate(counts):
            if n:
                groups.append((t, order[start : start + n]))
            start += n
        self._grouping = (version, teacher_ids.shape[0], groups)
        return groups

    def std(self, teacher_ids: torch.Tensor) -> torch.Tensor:
        """Each row's teacher action standard deviation, ``[E, A]``."""
        table = torch.stack([m.distribution.std_param.detach() for m in self.models])
        return table.to(teacher_ids.device)[teacher_ids]

    @torch.no_grad()
    def act(self, obs: torch.Tensor, teacher_ids: torch.Tensor, version: int | None = None,
            bound: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """(mean ``mu``, sampled action ``clip(N(mu, std), -bound, bound)``) per row (``version``:
        see :meth:`mean`)."""
        mu = self.mean(obs, teacher_ids, version)
        sample = mu + self.std(teacher_ids).to(mu) * torch.randn_like(mu)
        return mu, sample.clamp(-bound, bound)

    def to(self, device) -> TeacherBank:
        self.models = [m.to(device) for m in self.models]
        return self


NO_TEACHERS = (
    "training a student needs its teachers: teachers=<preset in config/teachers> or "
    "teachers.paths.<subject>=<teacher checkpoint or run folder>"
)


def check_teachers(paths: Mapping[str | int, str | Path], data_subjects: list[int]) -> None:
    """Before anything is simulated: every teacher checkpoint loads and every subject of the data
    has a teacher (the observation and action sizes are checked once the environment exists)."""
    if not paths:
        raise TeacherConfigError(NO_TEACHERS)
    TeacherBank.from_checkpoints({int(s): p for s, p in paths.items()}).check_subjects(data_subjects)

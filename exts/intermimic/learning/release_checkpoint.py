"""Running the authors' released checkpoints (Isaac Gym + rl_games) with this project's policy.

A release checkpoint (e.g. ``sub2.pth``) is a ``torch.save``d dict with

* ``model``: the state dict of rl_games' continuous actor-critic built by the release's
  ``intermimic`` network builder with ``separate: True``: ``a2c_network.actor_mlp.{0,2,4}``
  (Linear layers 3198 -> 1024 -> 1024 -> 512, ReLU between), ``a2c_network.mu`` (512 -> 153),
  ``a2c_network.sigma`` (the fixed log standard deviation, -2.9), ``a2c_network.critic_mlp.{0,2,4}``
  and ``a2c_network.value`` (512 -> 1);
* ``running_mean_std``: the observation statistics ``running_mean``, ``running_var``, ``count``,
  applied as ``clamp((x - mean) / sqrt(var + 1e-5), -5, 5)`` before both networks.

:func:`load_release_into` copies them into the teacher's rsl_rl models
(:class:`~intermimic.learning.models.ClippedMLPModel` actor and critic): the Linear layers in
order, the standard deviation, and the statistics into both observation normalisers, whose
``eps`` is set to 0 with ``std = sqrt(var + 1e-5)`` so that the normalised input is the release's
exactly. The observation vector is offset-major, as the release's, so the first layer applies to
it directly. A release policy also expects the release's action mapping and reference key
positions: :func:`use_release_conventions` switches the env config to them (``play``/``evaluate``
do so for ``--checkpoint release:FILE``, :func:`apply_release_conventions`), and
:func:`load_checkpoint` loads either kind of checkpoint into a runner.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from .checkpointing import RELEASE_PREFIX, names_release_checkpoint
from .models import RELEASE_VAR_EPS, ReleaseNormalization

_PREFIX = "a2c_network."


class ReleaseCheckpointError(ValueError):
    """A file that is not a usable release checkpoint; the message names the file and the field."""


def is_release_checkpoint(data) -> bool:
    """Whether a loaded checkpoint dict has the release's (rl_games) layout."""
    return isinstance(data, dict) and "model" in data and "running_mean_std" in data


def read_release_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """The dict stored in a release checkpoint file; one clear error if it is something else."""
    path = Path(path)
    try:
        data = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as exc:
        raise ReleaseCheckpointError(f"{path}: cannot read it as a torch checkpoint: {exc}") from exc
    if not is_release_checkpoint(data):
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ReleaseCheckpointError(
            f"{path}: not a checkpoint of the authors' release (expected keys 'model' and 'running_mean_std' of "
            f"rl_games, found {keys})"
        )
    return data


def _layers(model: dict, trunk: str, head: str) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """``(name, weight, bias)`` of a trunk's Linear layers in order, then its head."""
    indices = sorted({int(k.split(".")[1]) for k in model if k.startswith(f"{trunk}.") and k.endswith(".weight")})
    names = [f"{trunk}.{i}" for i in indices] + [head]
    missing = [n for n in names if f"{n}.weight" not in model or f"{n}.bias" not in model]
    if not indices or missing:
        raise KeyError(f"model has no layers '{trunk}.*' and '{head}' (missing {missing or trunk})")
    return [(n, model[f"{n}.weight"], model[f"{n}.bias"]) for n in names]


def release_actor_shape(checkpoint: dict, path="release checkpoint") -> tuple[int, list[int], int]:
    """(observation size, hidden layer widths, action count) of a release checkpoint's actor."""
    model = {k.removeprefix(_PREFIX): v for k, v in checkpoint["model"].items()}
    try:
        layers = _layers(model, "actor_mlp", "mu")
    except KeyError as exc:
        raise ReleaseCheckpointError(f"{path}: 'model' {exc.args[0]}") from exc
    return int(layers[0][1].shape[1]), [int(w.shape[0]) for _, w, _ in layers[:-1]], int(layers[-1][1].shape[0])


def _copy_linear(layers, mlp: nn.Module, path, role: str) -> None:
    linears = [m for m in mlp.modules() if isinstance(m, nn.Linear)]
    if len(linears) != len(layers):
        raise ReleaseCheckpointError(
            f"{path}: the release's {role} has {len(layers)} linear layers, this policy's {len(linears)}"
        )
    for (name, weight, bias), linear in zip(layers, linears):
        if tuple(weight.shape) != tuple(linear.weight.shape):
            raise ReleaseCheckpointError(
                f"{path}: layer '{name}' has shape {tuple(weight.shape)}, this policy's {role} expects "
                f"{tuple(linear.weight.shape)} (the release's teacher observes 3198 values and acts on 153 DOFs)"
            )
        with torch.no_grad():
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)


def _copy_statistics(model: nn.Module, stats: dict, path, role: str) -> None:
    clipped = getattr(model, "obs_normalizer", None)
    normalizer = getattr(clipped, "normalizer", None)
    if normalizer is None or not hasattr(normalizer, "_mean"):
        raise ReleaseCheckpointError(f"{path}: the {role} has no observation normaliser for the release's statistics")
    mean = stats["running_mean"].to(normalizer._mean)
    var = stats["running_var"].to(normalizer._var)
    if not isinstance(normalizer, ReleaseNormalization):  # rsl_rl's formula, made the release's
        var = var + RELEASE_VAR_EPS
    if mean.shape[-1] != normalizer._mean.shape[-1]:
        raise ReleaseCheckpointError(
            f"{path}: running_mean_std has {mean.shape[-1]} observations, this policy's {role} "
            f"{normalizer._mean.shape[-1]}"
        )
    with torch.no_grad():
        normalizer._mean.copy_(mean.reshape(normalizer._mean.shape))
        normalizer._var.copy_(var.reshape(normalizer._var.shape))
        normalizer._std.copy_(var.sqrt().reshape(normalizer._std.shape))
        normalizer.count.fill_(int(float(stats.get("count", 0))))
    if not isinstance(normalizer, ReleaseNormalization):
        normalizer.eps = 0.0


def _copy_log_std(actor: nn.Module, log_std: torch.Tensor, path) -> None:
    dist = getattr(actor, "distribution", None)
    with torch.no_grad():
        if hasattr(dist, "std_param"):
            dist.std_param.copy_(log_std.exp().to(dist.std_param))
        elif hasattr(dist, "log_std_param"):
            dist.log_std_param.copy_(log_std.to(dist.log_std_param))
        else:
            raise ReleaseCheckpointError(f"{path}: the actor has no Gaussian distribution for the release's sigma")


def load_release_into(actor: nn.Module, critic: nn.Module | None, checkpoint: dict, path="release checkpoint") -> None:
    """Copy a release checkpoint (as read by :func:`read_release_checkpoint`) into an rsl_rl
    actor (and critic): Linear layers, action standard deviation, observation statistics."""
    model = {k.removeprefix(_PREFIX): v for k, v in checkpoint["model"].items()}
    stats = checkpoint["running_mean_std"]
    try:
        actor_layers = _layers(model, "actor_mlp", "mu")
        critic_layers = _layers(model, "critic_mlp", "value") if critic is not None else None
        log_std = model["sigma"]
    except KeyError as exc:
        raise ReleaseCheckpointError(f"{path}: 'model' {exc.args[0]}") from exc
    _copy_linear(actor_layers, actor.mlp, path, "actor")
    _copy_statistics(actor, stats, path, "actor")
    _copy_log_std(actor, log_std, path)
    if critic is not None:
        _copy_linear(critic_layers, critic.mlp, path, "critic")
        _copy_statistics(critic, stats, path, "critic")


def load_into_runner(runner, path: str | Path, map_location="cpu") -> None:
    """Load the release checkpoint at ``path`` into an rsl_rl runner's actor and critic."""
    checkpoint = read_release_checkpoint(path, map_location)
    alg = runner.alg
    actor = alg._raw_actor if hasattr(alg, "_raw_actor") else alg.actor  # the uncompiled modules
    critic = alg._raw_critic if hasattr(alg, "_raw_critic") else alg.critic
    load_release_into(actor, critic, checkpoint, path)


def load_checkpoint(runner, path: str | Path, map_location: str | None = None) -> None:
    """Load ``path`` into an rsl_rl ``runner``: a checkpoint of this project (rsl_rl's own loader)
    or one of the release (told apart by its contents)."""
    if is_release_checkpoint(torch.load(path, map_location="cpu", weights_only=False)):
        load_into_runner(runner, path, map_location or "cpu")
    else:
        runner.load(str(path), map_location=map_location)


RELEASE_KINDS: dict[str, dict[str, str]] = {
    "legacy": {"contact_body_order": "release_legacy", "timing": "legacy"},
    "high_fidelity": {"contact_body_order": "body", "timing": "high_fidelity"},
}
"""Env settings per kind of release checkpoint. The release trains its published teachers
(``checkpoints/smplx_teachers/``) and its student with the older configs (``omomo_train.yaml``,
``omomo_all*.yaml``: contact bodies as 21 key bodies then fingertips, 120 Hz physics), its
high-fidelity teachers (``checkpoints/smplx_teachers_new/``) with ``omomo_train_new.yaml`` (contact
bodies in body order, 240 Hz)."""


def release_kind(path: str | Path) -> str:
    """``high_fidelity`` for a release checkpoint whose file or folder name ends in ``_new`` (the
    release's ``checkpoints/smplx_teachers_new/sub2.pth``), else ``legacy``. The file itself does
    not record its training config, so the name is all there is to go by."""
    path = Path(str(path).removeprefix(RELEASE_PREFIX))
    names = [path.stem, *(p.name for p in path.parents)]
    return "high_fidelity" if any(n.endswith("_new") for n in names) else "legacy"


def use_release_kind(env_cfg, kind: str, keep: set[str] | frozenset = frozenset()) -> list[str]:
    """Set the env settings of a release checkpoint's ``kind`` (:data:`RELEASE_KINDS`), leaving
    the ``keep`` fields (set on the command line) alone; returns what was set."""
    changed = []
    for field, value in RELEASE_KINDS[kind].items():
        if field in keep or not hasattr(env_cfg, field):
            continue
        setattr(env_cfg, field, value)
        changed.append(f"env.{field}={value}")
    return changed


def apply_release_conventions(checkpoint_arg, env_cfg, keep: set[str] | frozenset = frozenset()) -> list[str]:
    """When a ``--checkpoint`` argument names a release checkpoint (``release:FILE``), switch
    ``env_cfg`` to the release's conventions and to the settings of the checkpoint's kind (but
    not the env fields in ``keep``, set on the command line) and say so in one line; returns
    what was switched."""
    if not names_release_checkpoint(checkpoint_arg):
        return []
    kind = release_kind(checkpoint_arg)
    switched = use_release_conventions(env_cfg) + use_release_kind(env_cfg, kind, keep)
    print(f"[intermimic] {checkpoint_arg}: checkpoint of the authors' release (rl_games, {kind} kind); running it "
          f"with the release's conventions: {', '.join(switched)}", flush=True)  # fmt: skip
    return switched


def use_release_teacher_conventions(teacher_paths, env_cfg, keep: set[str] | frozenset = frozenset()) -> list[str]:
    """For a student whose teachers are release checkpoints (``release:FILE``): the ``teacher``
    observation group and the action mapping take the release's conventions (the teachers'
    inputs and outputs as they were trained) and the env the settings of the teachers' kind
    (not the ``keep`` fields, set on the command line); says so in one line and returns what was
    switched. The student's own groups keep their settings. Teachers of this project and of the
    release, or of two release kinds, cannot share one env: that is a ValueError."""
    paths = [str(p) for p in teacher_paths]
    release = [p for p in paths if names_release_checkpoint(p)]
    if not release:
        return []
    kinds = {release_kind(p) for p in release}
    if len(release) != len(paths) or len(kinds) > 1:
        raise ValueError(
            "teachers.paths: the teachers mix this project's checkpoints and the release's, or the release's "
            f"legacy and high-fidelity kinds ({', '.join(paths)}); one student env takes one set of conventions"
        )
    kind = kinds.pop()
    changed = _use_release_actions(env_cfg)
    term = getattr(getattr(env_cfg.observations, "teacher", None), "reference_key_positions", None)
    if term is not None:
        term.params["release_quirk"] = True
        changed.append("env.observations.teacher.reference_key_positions.params.release_quirk=True")
    changed += use_release_kind(env_cfg, kind, keep)
    print(f"[intermimic] teachers: checkpoints of the authors' release ({kind} kind); the teachers' group and "
          f"actions take the release's conventions: {', '.join(changed)}", flush=True)  # fmt: skip
    return changed


def use_release_conventions(env_cfg) -> list[str]:
    """Switch an HOI env config to what release policies were trained with; returns the settings
    changed, as ``path=value`` strings for the banner."""
    changed = _use_release_actions(env_cfg)
    for group_name, group in vars(getattr(env_cfg, "observations", object())).items():
        term = getattr(group, "reference_key_positions", None)
        if term is not None and isinstance(getattr(term, "params", None), dict):
            term.params["release_quirk"] = True
            changed.append(f"env.observations.{group_name}.reference_key_positions.params.release_quirk=True")
    motion = getattr(getattr(env_cfg, "commands", None), "motion", None)
    if motion is not None and hasattr(motion, "raw_row0"):
        motion.raw_row0 = "release"
        changed.append("env.commands.motion.raw_row0=release")
    return changed


def _use_release_actions(env_cfg) -> list[str]:
    """The release's action mapping (``env.actions.joint_pos.release_quirk``)."""
    action = getattr(getattr(env_cfg, "actions", None), "joint_pos", None)
    if action is None or not hasattr(action, "release_quirk"):
        return []
    action.release_quirk = True
    return ["env.actions.joint_pos.release_quirk=True"]

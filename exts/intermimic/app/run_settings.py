"""Settings recorded with a training run, reused when its policy is played or evaluated.

``train.py`` writes the resolved env config to ``<run>/params/env.yaml``. A policy only makes
sense with the data and the observation/simulation settings it was trained with, so ``play``
and ``evaluate`` take these from the checkpoint's run (unless the command line sets them):

* the motion data (``commands.motion.motion``: files, corrected, subjects, objects folder, ...);
* what the policy observes: future offsets, reference source, which observation terms are on
  and their parameters;
* the simulation setting: ``timing``, object densities, a user humanoid MJCF.

Explicit command-line choices win: ``dataset=``/``--motion`` replace the recorded data,
``dataset.<field>=`` and ``env.<path>=`` replace single fields, an ``experiment=`` preset its
fields. ``--task_defaults`` ignores the recorded settings altogether.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

RUN_ENV_FILE = Path("params") / "env.yaml"
DATA_PATH = "commands.motion.motion"
OBSERVATION_GROUP = "observations.policy"
RECORDED_PATHS = (
    "timing",
    "contact_body_order",
    "actions.joint_pos.release_quirk",
    "object_density",
    "object_densities",
    "humanoid_mjcf",
    "robot_urdf",
    "robot_gains",
    "robot_collision_filter",
    "commands.motion.future_offsets",
    "commands.motion.teacher_source",
    "commands.motion.contact_window",
)
"""Single env fields restored from the run (besides the data and the observation terms)."""
BEFORE_RECORDED = {"commands.motion.contact_window": "last_step"}
"""What a run recorded before the field existed meant (its config has the field's parent but not
the field): contacts were read at the policy step's last physics step."""


def data_fields() -> tuple[str, ...]:
    """The fields of the motion data config (what "the data" of a run is)."""
    from ..motion.config import MotionDataCfg

    return tuple(f.name for f in dataclasses.fields(MotionDataCfg))


@dataclass
class RunSettings:
    """The env settings recorded with a run."""

    path: Path
    env: dict

    def get(self, dotted: str, default=None):
        node = self.env
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def data(self) -> dict:
        return self.get(DATA_PATH, {}) or {}


def _yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        """Safe loading plus the tuples Isaac Lab's YAML dump writes."""

    Loader.add_constructor("tag:yaml.org,2002:python/tuple", lambda loader, node: tuple(loader.construct_sequence(node)))
    return Loader


def find_run_settings(checkpoint: str | Path) -> RunSettings | None:
    """The settings recorded in the run folder of ``checkpoint`` (a model file in the run
    folder), or None when there are none (e.g. a checkpoint copied elsewhere)."""
    import yaml

    path = Path(checkpoint).parent / RUN_ENV_FILE
    if not path.is_file():
        return None
    with open(path) as f:
        env = yaml.load(f, Loader=_yaml_loader())
    return RunSettings(path, env if isinstance(env, dict) else {})


def _is_explicit(path: str, explicit: set[str]) -> bool:
    """Whether the user set ``path`` or a field above or below it."""
    return any(path == e or path.startswith(e + ".") or e.startswith(path + ".") for e in explicit)


def _set(cfg, dotted: str, value) -> None:
    *parents, last = dotted.split(".")
    node = cfg
    for part in parents:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    if isinstance(node, dict):
        node[last] = value
    else:
        current = getattr(node, last, None)
        setattr(node, last, tuple(value) if isinstance(current, tuple) and isinstance(value, list) else value)


def _restore_observations(env_cfg, settings: RunSettings, explicit: set[str]) -> list[str]:
    """Observation terms switched on/off as in the run, with the run's term parameters."""
    recorded = settings.get(OBSERVATION_GROUP)
    group = env_cfg.observations.policy
    changed = []
    if not isinstance(recorded, dict):
        return changed
    for name in list(vars(group)):
        if name not in recorded or _is_explicit(f"{OBSERVATION_GROUP}.{name}", explicit):
            continue
        term, was = getattr(group, name), recorded[name]
        if was is None and term is not None:
            setattr(group, name, None)
            changed.append(f"observation term {name} off")
        elif isinstance(was, dict) and term is not None and hasattr(term, "params"):
            params = was.get("params") or {}
            if params != (term.params or {}):
                term.params = dict(params)
                changed.append(f"observation term {name} params")
    return changed


def apply_run_settings(env_cfg, settings: RunSettings, explicit: set[str]) -> list[str]:
    """Apply the recorded settings that the command line did not set (``explicit``: dotted env
    paths set by the user; ``commands.motion.motion`` when the data was named). Returns a short
    description of each recorded setting that differs from the task's default."""
    changed = []
    data = settings.data
    motion_cfg = env_cfg.commands.motion.motion
    for name in data_fields():
        if name in data and not _is_explicit(f"{DATA_PATH}.{name}", explicit) and data[name] != getattr(motion_cfg, name):
            setattr(motion_cfg, name, data[name])
            changed.append(f"data {name}")
    for dotted in RECORDED_PATHS:  # "timing" first: applying it resets the fields that follow
        value = settings.get(dotted, KeyError)
        if value is KeyError and dotted in BEFORE_RECORDED and isinstance(settings.get(dotted.rsplit(".", 1)[0]), dict):
            value = BEFORE_RECORDED[dotted]
        if value is KeyError or _is_explicit(dotted, explicit):
            continue
        if _normalised(value) != _normalised(_get(env_cfg, dotted)):
            _set(env_cfg, dotted, value)
            changed.append(f"{dotted}={value}")
        if dotted == "timing":
            env_cfg.apply_timing()
    changed += _restore_observations(env_cfg, settings, explicit)
    return changed


def restore_physics(env_cfg, settings: RunSettings, overrides: list[str]) -> str | None:
    """Put the env on the physics the run recorded (``sim.physics``) unless the command line names
    one (``physics=``); returns the preset name when it changed the env's physics."""
    from ..tasks.physics import HOIPhysicsCfg, physics_name, preset_of_recorded, require_physics_backend

    named = any(t.startswith("physics=") for t in overrides)
    recorded = preset_of_recorded(settings.get("sim.physics"))
    if recorded is None or named or recorded == physics_name(env_cfg.sim.physics):
        return None
    require_physics_backend(recorded)
    env_cfg.sim.physics = getattr(HOIPhysicsCfg(), recorded)
    return recorded


def _get(cfg, dotted: str):
    node = cfg
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
    return node


def _normalised(value):
    return list(value) if isinstance(value, tuple) else value


def describe_data(data) -> str:
    """The data a motion data config (or its recorded dict) names, in a few words."""
    get = data.get if isinstance(data, dict) else lambda k, d=None: getattr(data, k, d)
    files = list(get("files", []) or [])
    text = ", ".join(files) if files else "the built-in demo clips"
    if get("subjects"):
        text += f" (subjects {list(get('subjects'))})"
    return text


def same_data(a, b) -> bool:
    """Whether two motion data configs (objects or recorded dicts) name the same clips."""
    def fields(d):
        get = d.get if isinstance(d, dict) else lambda k, default=None: getattr(d, k, default)
        return tuple(_normalised(get(k)) or None for k in ("files", "corrected", "subjects", "objects_dir"))

    return fields(a) == fields(b)

"""``key=value`` overrides on the command line: ours (``dataset=``, ``dataset.<field>=``,
``experiment=``, ``teachers=``) and Isaac Lab's (``physics=``, ``env.<path>=``, ``agent.<path>=``).
Every key and value type is checked against the task's default configs before anything is built
(Isaac Lab's Hydra would accept and keep both)."""

from __future__ import annotations

from omegaconf import OmegaConf

from ..utils.errors import UserError, as_user_error
from .presets import load_preset, split_overrides
from .run_settings import DATA_PATH

AGENT_ENTRY_POINT = "rsl_rl_cfg_entry_point"
"""The gym registration key of a task's rsl_rl runner config."""
_OWN_KEYS = ("dataset", "experiment", "teachers")
_OWN_FIELD_KEYS = ("dataset", "teachers")
"""Keys also taking ``key.<field>=`` overrides (checked where the preset is read)."""

_ISAACLAB_SELECTORS = ("physics", "renderer", "presets")


def check_task(task: str) -> None:
    import gymnasium as gym

    from .. import tasks  # noqa: F401  (registers the gym IDs)

    if task not in gym.registry:
        ours = sorted(name for name in gym.registry if name.startswith("InterMimic-"))
        raise UserError(f"--task {task}: unknown task; expected one of {', '.join(ours)}")


def _parse_value(text: str):
    """An override value as Hydra reads it: integer, number, true/false, null, [list], {mapping},
    else the text itself."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none"):
        return None
    if text.strip().startswith(("[", "{")):
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            return text
    return text


def _child(node, key: str):
    if isinstance(node, dict):
        return node[key] if key in node else AttributeError
    return getattr(node, key, AttributeError)


def _type_problem(current, value) -> str | None:
    """What is wrong with replacing ``current`` by ``value``, or None."""
    if value is None or current is None:
        return None
    if isinstance(current, bool):
        return None if isinstance(value, bool) else "expected true or false"
    if isinstance(current, int):
        return None if isinstance(value, int) and not isinstance(value, bool) else "expected an integer"
    if isinstance(current, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else "expected a number"
    if isinstance(current, (list, tuple)):
        return None if isinstance(value, (list, tuple)) else "expected a list like [a,b]"
    if isinstance(current, dict):
        return None if isinstance(value, dict) else "expected a mapping like {a: 1}"
    if isinstance(current, str):
        return None if isinstance(value, str) else "expected text"
    return None  # a config object: a preset name or null


def physics_presets() -> list[str]:
    """Names accepted by ``physics=`` (the fields of the tasks' physics preset config)."""
    from ..tasks.physics import HOIPhysicsCfg

    return sorted(name for name in vars(HOIPhysicsCfg()) if name != "default")


def physics_preset(tokens: list[str]) -> str:
    """The physics preset ``physics=`` names among ``tokens`` (the tasks' default when none), checked:
    UserError for an unknown preset or one whose runtime is not installed."""
    from ..tasks.physics import DEFAULT_PHYSICS, PRESET_ALIASES

    chosen = DEFAULT_PHYSICS
    for token in tokens:
        if token.startswith("physics="):
            check_overrides([token], None, None)
            chosen = PRESET_ALIASES.get(token[len("physics="):], token[len("physics="):])
    return chosen


def check_overrides(tokens: list[str], env_cfg, agent_cfg) -> None:
    """UserError for an override whose key is unknown or whose value has the wrong type, checked
    against the task's default configs (Isaac Lab's Hydra would accept and keep both)."""
    for token in tokens:
        key, _, text = token.partition("=")
        if key.startswith(("+", "~")):
            continue  # Hydra's explicit add/delete syntax
        root, _, path = key.partition(".")
        if root == "physics" and not path:
            from ..tasks.physics import PRESET_ALIASES

            text = PRESET_ALIASES.get(text, text)
            if text not in physics_presets():
                raise UserError(f"{token}: unknown physics preset; expected one of {', '.join(physics_presets())}")
            from ..tasks.physics import require_physics_backend

            require_physics_backend(text)
        if root in _OWN_KEYS or root in _ISAACLAB_SELECTORS:
            if path:
                if root in _OWN_FIELD_KEYS:
                    continue  # dataset.<field>, teachers.<field>: checked where the preset is read
                raise UserError(f"{token}: '{root}' takes a preset name ({root}=NAME), not a field")
            continue
        if root not in ("env", "agent") or not path:
            raise UserError(
                f"{token}: unknown override key '{key}'; expected dataset=, dataset.<field>=, experiment=, "
                "teachers=, teachers.<field>=, physics=, env.<path>= or agent.<path>="
            )
        node = env_cfg if root == "env" else agent_cfg
        walked = root
        for part in path.split("."):
            child = _child(node, part)
            if child is AttributeError:
                raise UserError(f"{token}: {walked} has no field '{part}'")
            node, walked = child, f"{walked}.{part}"
        problem = _type_problem(node, _parse_value(text))
        if problem:
            raise UserError(f"{token}: {problem} (current value: {node!r})")


def _flatten(tree: dict, prefix: str = "") -> set[str]:
    out = set()
    for key, value in tree.items():
        path = f"{prefix}{key}"
        out |= _flatten(value, path + ".") if isinstance(value, dict) and value else {path}
    return out


def explicit_env_paths(args, overrides: list[str]) -> set[str]:
    """Dotted env paths the command line sets (env.<path>=, experiment preset, data)."""
    named, dotlists, isaaclab_tokens = split_overrides(overrides)
    paths = {t.partition("=")[0].lstrip("+~")[len("env."):] for t in isaaclab_tokens if t.lstrip("+~").startswith("env.")}
    if named["dataset"] or getattr(args, "motion", None):
        paths.add(DATA_PATH)
    paths |= {f"{DATA_PATH}.{t.partition('=')[0]}" for t in dotlists["dataset"]}
    if named["experiment"]:
        env_section = OmegaConf.to_container(load_preset("experiments", named["experiment"])).get("env") or {}
        paths |= _flatten(env_section)
    return paths


def task_configs(task: str, isaaclab_tokens: list[str]):
    """(env_cfg, agent_cfg) of ``task`` with Isaac Lab's overrides (``physics=``, ``env.<path>=``,
    ``agent.<path>=``) applied, each key and value checked against the task's defaults first."""
    from isaaclab_tasks.utils import resolve_task_config

    from ..tasks.physics import PRESET_ALIASES

    check_task(task)
    isaaclab_tokens = [f"physics={PRESET_ALIASES.get(t[len('physics='):], t[len('physics='):])}"
                       if t.startswith("physics=") else t for t in isaaclab_tokens]  # fmt: skip
    with as_user_error(ValueError, KeyError, context="overrides: "):
        selectors = [t for t in isaaclab_tokens if t.partition("=")[0] in _ISAACLAB_SELECTORS]
        check_overrides(selectors, None, None)
        env_cfg, agent_cfg = resolve_task_config(task, AGENT_ENTRY_POINT, overrides=selectors)
        paths = [t for t in isaaclab_tokens if t not in selectors]
        if paths:
            check_overrides(paths, env_cfg, agent_cfg)
            env_cfg, agent_cfg = resolve_task_config(task, AGENT_ENTRY_POINT, overrides=isaaclab_tokens)
    return env_cfg, agent_cfg

"""OmegaConf presets under ``config/``: data sets and experiments, with ``key=value`` overrides.

* ``dataset=<name>`` loads ``config/datasets/<name>.yaml`` into the motion data config.
* ``dataset.<field>=<value>`` overrides one field of it (e.g. ``dataset.subjects=[2]``).
* ``experiment=<name>`` loads ``config/experiments/<name>.yaml``: ``env:`` and ``agent:``
  sections applied to the env and runner configs.
* ``teachers=<name>`` loads ``config/teachers/<name>.yaml`` (``paths``: subject id -> teacher
  checkpoint or run folder) for student tasks; ``teachers.paths.<subject>=<path>`` adds or
  replaces one. Relative teacher paths are relative to the current directory; a path with
  ``*`` means the newest match (e.g. the latest run with a given ``--run_name``).

Paths inside data set files are resolved relative to ``data_root`` (the file's own
``data_root`` key, itself relative to the repository root unless absolute); ``data_root``
may read an environment variable with OmegaConf's ``${oc.env:NAME,default}``.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from ..utils.paths import REPO_ROOT

_DATASET_FIELDS = ("files", "corrected", "subjects", "objects_dir", "strict", "repair_positions", "future_horizon")


def config_dir() -> Path:
    return Path(os.environ.get("INTERMIMIC_CONFIG_DIR", REPO_ROOT / "config"))


def available(kind: str) -> list[str]:
    folder = config_dir() / kind
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_preset(kind: str, name: str) -> DictConfig:
    path = config_dir() / kind / f"{name}.yaml"
    if not path.is_file():
        raise FileNotFoundError(
            f"{kind[:-1]} preset '{name}' not found: no file {path}. Available: {', '.join(available(kind)) or 'none'}"
        )
    return OmegaConf.load(path)


def _resolve_path(value: str, root: Path) -> str:
    p = Path(os.path.expanduser(value))
    return os.path.normpath(p if p.is_absolute() else (root / p))


def dataset_overrides(name: str | None, dotlist: list[str]) -> dict:
    """Motion data fields from a data set preset plus ``dataset.<field>=`` overrides."""
    cfg = load_preset("datasets", name) if name else OmegaConf.create({})
    if dotlist:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(dotlist))
    data = OmegaConf.to_container(cfg, resolve=True)
    unknown = set(data) - set(_DATASET_FIELDS) - {"data_root", "description", "convert"}
    if unknown:
        where = f"dataset preset '{name}'" if name and not set(OmegaConf.from_dotlist(dotlist)) & unknown else "dataset.<field>"
        raise KeyError(f"{where}: unknown field(s) {sorted(unknown)}; expected {', '.join(_DATASET_FIELDS)}")
    root = Path(os.path.expanduser(str(data.get("data_root", "."))))
    root = root if root.is_absolute() else REPO_ROOT / root
    out = {k: data[k] for k in _DATASET_FIELDS if k in data}
    for key in ("files", "corrected"):
        if key in out:
            out[key] = [_resolve_path(str(v), root) for v in out[key]]
    if out.get("objects_dir"):
        out["objects_dir"] = _resolve_path(str(out["objects_dir"]), root)
    return out


def split_overrides(tokens: list[str]) -> tuple[dict[str, str | None], list[str], list[str]]:
    """Split ``key=value`` tokens into ours (dataset/experiment) and Isaac Lab's (the rest).

    Returns ``({"dataset": name, "experiment": name}, dataset_dotlist, isaaclab_tokens)``.
    """
    named: dict[str, str | None] = {"dataset": None, "experiment": None, "teachers": None}
    dotlists: dict[str, list[str]] = {"dataset": [], "teachers": []}
    rest = []
    for token in tokens:
        key, sep, value = token.partition("=")
        prefix, dot, field = key.partition(".")
        if sep and key in named:
            named[key] = value
        elif sep and dot and prefix in dotlists:
            dotlists[prefix].append(f"{field}={value}")
        else:
            rest.append(token)
    return named, dotlists, rest


def teacher_paths(name: str | None, dotlist: list[str]) -> dict[int, str]:
    """Subject id -> teacher checkpoint from a teachers preset plus ``teachers.<field>=`` overrides."""
    import glob

    cfg = load_preset("teachers", name) if name else OmegaConf.create({})
    if dotlist:
        cfg = OmegaConf.merge(cfg, OmegaConf.from_dotlist(dotlist))
    data = OmegaConf.to_container(cfg, resolve=True) or {}
    unknown = set(data) - {"paths", "description"}
    if unknown:
        raise KeyError(f"teachers preset '{name}': unknown keys {sorted(unknown)}; expected 'paths'")
    out = {}
    for subject, path in (data.get("paths") or {}).items():
        try:
            subject_id = int(subject)
        except (TypeError, ValueError):
            raise ValueError(f"teachers.paths: '{subject}' is not a subject id (an integer)") from None
        path = os.path.expanduser(str(path))
        if any(c in path for c in "*?["):
            matches = sorted(glob.glob(path))
            if not matches:
                raise FileNotFoundError(f"teachers.paths.{subject_id}: nothing matches {path}")
            path = matches[-1]
        out[subject_id] = path
    return out


def apply_experiment(name: str, env_cfg, agent_cfg) -> None:
    from isaaclab.utils.dict import update_class_from_dict

    cfg = OmegaConf.to_container(load_preset("experiments", name), resolve=True)
    unknown = set(cfg) - {"env", "agent", "description"}
    if unknown:
        raise KeyError(f"experiment preset '{name}': unknown sections {sorted(unknown)}; expected 'env' and 'agent'")
    if cfg.get("env"):
        update_class_from_dict(env_cfg, cfg["env"])
    if cfg.get("agent"):
        update_class_from_dict(agent_cfg, cfg["agent"])


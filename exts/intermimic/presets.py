"""OmegaConf presets under ``config/``: data sets and experiments, with ``key=value`` overrides.

* ``dataset=<name>`` loads ``config/datasets/<name>.yaml`` into the motion data config.
* ``dataset.<field>=<value>`` overrides one field of it (e.g. ``dataset.subjects=[2]``).
* ``experiment=<name>`` loads ``config/experiments/<name>.yaml``: ``env:`` and ``agent:``
  sections applied to the env and runner configs.

Paths inside data set files are resolved relative to ``data_root`` (the file's own
``data_root`` key, itself relative to the repository root unless absolute); ``data_root``
may read an environment variable with OmegaConf's ``${oc.env:NAME,default}``.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from . import EXT_DIR

REPO_ROOT = Path(EXT_DIR).resolve().parents[1]
_DATASET_FIELDS = ("files", "corrected", "subjects", "objects_dir", "strict", "future_horizon")


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
    unknown = set(data) - set(_DATASET_FIELDS) - {"data_root", "description"}
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
    named: dict[str, str | None] = {"dataset": None, "experiment": None}
    dataset_dotlist, rest = [], []
    for token in tokens:
        key, sep, value = token.partition("=")
        if sep and key in named:
            named[key] = value
        elif sep and key.startswith("dataset."):
            dataset_dotlist.append(f"{key[len('dataset.'):]}={value}")
        else:
            rest.append(token)
    return named, dataset_dotlist, rest


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

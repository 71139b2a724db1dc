"""Exporting a trained policy: TorchScript and ONNX files that carry their own metadata.

The exported module maps the concatenated, un-normalised observation vector (``obs``, the
policy's observation group) to the deterministic action (``actions``); observation
normalisation (running mean/std, clipped) is inside it. The metadata (observation layout,
future offsets, action scale/offset, joint order, default joint positions, PD gains, policy
rate, task, embodiment, and under ``deployment`` what a runtime outside this package needs to
rebuild the observation: :mod:`~intermimic.tasks.deployment`) is stored

* in the TorchScript archive as the extra file ``intermimic_metadata.json``,
* in the ONNX model's ``metadata_props`` (one key per field, values JSON-encoded),
* next to both as ``policy.json``.

A joint target is ``q* = action_offset + action_scale * clip(a, -1, 1)`` in ``joint_names`` order.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from ..tasks.deployment import deployment_metadata

METADATA_FILE = "intermimic_metadata.json"
"""Name of the metadata file inside the TorchScript archive."""


def policy_observation_groups(agent_cfg) -> list[str]:
    """Observation groups the policy reads, from the runner cfg's ``obs_groups`` (actor or student)."""
    groups = getattr(agent_cfg, "obs_groups", None) or {}
    for key in ("actor", "policy", "student"):
        if key in groups:
            return list(groups[key])
    return ["policy"]


def observation_layout(env, groups: list[str]) -> list[dict]:
    """Blocks of the policy's observation vector in order: group, term name, start, size (and
    for an offset-major group the block's future ``offset``), as the env lays them out."""
    om = env.unwrapped.observation_manager
    layout, start = [], 0
    for group in groups:
        blocks = getattr(om, "layouts", {}).get(group)
        if blocks is not None:  # offset-major: block after block, every term in each
            for b in range(blocks.num_blocks):
                for name, size in zip(blocks.terms, blocks.term_dims):
                    entry = {"group": group, "term": name, "start": start, "size": int(size)}
                    layout.append({**entry, "offset": blocks.offsets[b]} if blocks.offsets else entry)
                    start += int(size)
            continue
        for name, dims in zip(om.active_terms[group], om.group_obs_term_dim[group]):
            size = int(torch.tensor(dims).prod())
            layout.append({"group": group, "term": name, "start": start, "size": size})
            start += size
    return layout


def policy_metadata(env, agent_cfg, task: str, checkpoint: str | None = None) -> dict:
    """Everything a deployment needs besides the network, read from the running env: besides the
    observation layout and action mapping, the simulated body's joint order, default joint
    positions and the PD gains, armature and effort limits its actuators ran with (what a robot's
    joint controller is set up with)."""
    base = env.unwrapped
    groups = policy_observation_groups(agent_cfg)
    layout = observation_layout(env, groups)
    action = base.action_manager.get_term("joint_pos")
    cmd = base.command_manager.get_term("motion")
    emb = cmd.embodiment

    def per_dof(t: torch.Tensor) -> list[float]:
        t = t.detach().cpu()
        return (t[0] if t.dim() > 1 else t).tolist()

    return {
        "task": task,
        "checkpoint": str(checkpoint) if checkpoint else None,
        "policy_hz": 1.0 / base.step_dt,
        "observation_groups": groups,
        "observation_dim": sum(b["size"] for b in layout),
        "observation_layout": layout,
        "future_offsets": [int(k) for k in cmd.future_offsets],
        "action_dim": int(base.action_manager.total_action_dim),
        "embodiment": emb.name,
        "joint_names": list(emb.joint_names),
        "default_joint_pos": list(emb.default_joint_pos),
        "joint_stiffness": list(emb.stiffness),
        "joint_damping": list(emb.damping),
        "joint_armature": list(emb.armature),
        "joint_effort_limit": list(emb.effort_limit),
        "action_offset": per_dof(action._offset),
        "action_scale": per_dof(action._scale),
        "action_targets": "rotation_vector" if getattr(action, "rotation_vector_targets", False) else "joint_position",
        "action_clip": float(getattr(agent_cfg, "clip_actions", 1.0) or 0.0),
        "inputs": ["obs"],
        "outputs": ["actions"],
        "deployment": deployment_metadata(env, groups[0]) if len(groups) == 1 else None,
    }


def _atomic(path: Path, write) -> Path:
    tmp = path.with_name(f".{path.name}.partial")
    write(tmp)
    os.replace(tmp, path)
    return path


def export_torchscript(policy: torch.nn.Module, path: Path, metadata: dict) -> Path:
    """TorchScript of ``policy`` (an rsl_rl model with ``as_jit``) with the metadata inside."""
    module = torch.jit.script(policy.as_jit().to("cpu").eval())
    extra = {METADATA_FILE: json.dumps(metadata)}
    return _atomic(path, lambda p: torch.jit.save(module, str(p), _extra_files=extra))


def export_onnx(policy: torch.nn.Module, path: Path, metadata: dict) -> Path:
    """ONNX of ``policy`` (an rsl_rl model with ``as_onnx``), batch size free, metadata inside."""
    import onnx

    module = policy.as_onnx(verbose=False).to("cpu").eval()
    dummy = torch.zeros(1, int(metadata["observation_dim"]))

    def write(tmp: Path) -> None:
        torch.onnx.export(
            module, (dummy,), str(tmp), export_params=True, opset_version=18, input_names=["obs"],
            output_names=["actions"], dynamic_axes={"obs": {0: "batch"}, "actions": {0: "batch"}}, dynamo=False,
        )  # fmt: skip
        model = onnx.load(str(tmp))
        for key, value in metadata.items():
            model.metadata_props.add(key=key, value=json.dumps(value))
        onnx.save(model, str(tmp))

    return _atomic(path, write)


def export_policy(policy: torch.nn.Module, out_dir: str | os.PathLike, metadata: dict) -> dict[str, Path]:
    """Write ``policy.pt`` (TorchScript), ``policy.onnx`` and ``policy.json`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "torchscript": export_torchscript(policy, out / "policy.pt", metadata),
        "onnx": export_onnx(policy, out / "policy.onnx", metadata),
        "metadata": _atomic(out / "policy.json", lambda p: p.write_text(json.dumps(metadata, indent=2))),
    }


def read_onnx_metadata(path: str | os.PathLike) -> dict:
    """The metadata stored in an exported ONNX file."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: json.loads(p.value) for p in model.metadata_props}


def read_torchscript_metadata(path: str | os.PathLike) -> dict:
    """The metadata stored in an exported TorchScript file."""
    extra = {METADATA_FILE: ""}
    torch.jit.load(str(path), map_location="cpu", _extra_files=extra)
    return json.loads(extra[METADATA_FILE])

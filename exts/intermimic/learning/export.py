"""Exporting a trained policy: TorchScript ``policy.pt`` and a self-contained ``policy.onnx``.

PyTorch's ONNX exporter writes large weights to a side file (``policy.onnx.data``) that must
stay next to ``policy.onnx``. The teacher's networks (about 20 MB) are far below ONNX's 2 GB
limit for a single file, so the weights are moved back into ``policy.onnx`` and the side file
is removed; only a model too large for one file keeps its side file.
"""

from __future__ import annotations

from pathlib import Path

ONNX_SINGLE_FILE_LIMIT = 2**31 - 2**24
"""Largest model written as one ONNX file (protobuf's 2 GB limit, with room for the graph)."""


def _external_files(path: Path) -> list[Path]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    names = {
        entry.value
        for tensor in model.graph.initializer
        if tensor.data_location == onnx.TensorProto.EXTERNAL
        for entry in tensor.external_data
        if entry.key == "location"
    }
    return [path.parent / name for name in sorted(names)]


def make_onnx_self_contained(path: str | Path) -> list[Path]:
    """Move external weights into the ONNX file itself when it stays under the size limit.
    Returns every file the model needs (the ONNX file, plus its side files if still needed)."""
    import onnx

    path = Path(path)
    external = _external_files(path)
    if not external:
        return [path]
    size = path.stat().st_size + sum(f.stat().st_size for f in external if f.is_file())
    if size >= ONNX_SINGLE_FILE_LIMIT:
        return [path, *external]
    model = onnx.load(str(path))  # reads the external weights
    onnx.save_model(model, str(path), save_as_external_data=False)
    for f in external:
        f.unlink(missing_ok=True)
    return [path]


def export_policy(runner, out_dir: str | Path) -> list[Path]:
    """Write ``policy.pt`` (TorchScript) and ``policy.onnx`` to ``out_dir``; returns every
    written file."""
    out_dir = Path(out_dir)
    runner.export_policy_to_jit(str(out_dir), "policy.pt")
    runner.export_policy_to_onnx(str(out_dir), "policy.onnx")
    return [out_dir / "policy.pt", *make_onnx_self_contained(out_dir / "policy.onnx")]

"""Policy export: the ONNX file is self-contained (no side file) and computes what the network does."""

import shutil

import pytest
import torch

pytestmark = pytest.mark.unit


def test_onnx_export_becomes_one_self_contained_file(tmp_path):
    import onnxruntime

    from intermimic.learning.export import make_onnx_self_contained

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 8)).eval()
    path = tmp_path / "policy.onnx"
    torch.onnx.export(net, (torch.zeros(1, 64),), str(path), input_names=["obs"], output_names=["actions"],
                      opset_version=18)  # fmt: skip
    assert (tmp_path / "policy.onnx.data").is_file(), "the exporter writes its weights to a side file"

    assert make_onnx_self_contained(path) == [path]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["policy.onnx"]
    alone = tmp_path / "copied"
    alone.mkdir()
    shutil.copy(path, alone / "policy.onnx")  # the file on its own must work
    session = onnxruntime.InferenceSession(str(alone / "policy.onnx"))
    obs = torch.randn(1, 64)  # rsl_rl exports a batch of one
    (actions,) = session.run(None, {"obs": obs.numpy()})
    assert torch.allclose(torch.from_numpy(actions), net(obs).detach(), atol=1e-5)

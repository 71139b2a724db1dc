"""Exported policies: ONNX and TorchScript compute what the PyTorch policy computes, and carry
their metadata."""

import pytest
import torch
from tensordict import TensorDict

from intermimic.learning.export import export_policy, read_onnx_metadata, read_torchscript_metadata
from intermimic.learning.models import ClippedMLPModel
from intermimic.tasks.agents.rsl_rl_ppo_cfg import FixedGaussianDistributionCfg

pytestmark = pytest.mark.unit

OBS_DIM, ACT_DIM = 40, 7


def _trained_like_policy():
    """A teacher-shaped policy (clipped normalisation, fixed-std Gaussian head) whose
    normaliser has seen data with non-trivial mean and spread."""
    from isaaclab.utils import to_dict

    torch.manual_seed(0)
    obs = TensorDict({"policy": torch.zeros(4, OBS_DIM)}, batch_size=[4])
    model = ClippedMLPModel(obs, {"actor": ["policy"]}, "actor", ACT_DIM, hidden_dims=[64, 32], activation="relu",
                            obs_normalization=True, distribution_cfg=to_dict(FixedGaussianDistributionCfg()))  # fmt: skip
    data = torch.randn(1024, OBS_DIM) * torch.linspace(0.1, 5.0, OBS_DIM) + torch.linspace(-3.0, 3.0, OBS_DIM)
    model.update_normalization(TensorDict({"policy": data}, batch_size=[1024]))
    return model.eval()


def _metadata():
    return {"task": "InterMimic-Teacher-v0", "observation_dim": OBS_DIM, "action_dim": ACT_DIM,
            "observation_layout": [{"group": "policy", "term": "a", "start": 0, "size": OBS_DIM}],
            "future_offsets": [1, 16], "action_offset": [0.0] * ACT_DIM, "action_scale": [3.14] * ACT_DIM,
            "joint_names": [f"j{i}" for i in range(ACT_DIM)], "policy_hz": 30.0}  # fmt: skip


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    policy = _trained_like_policy()
    files = export_policy(policy, tmp_path_factory.mktemp("exported"), _metadata())
    return policy, files


def test_onnx_matches_pytorch_on_random_inputs(exported):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is part of the dev extra")
    policy, files = exported
    session = ort.InferenceSession(str(files["onnx"]), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["obs"]
    torch.manual_seed(1)
    for batch in (1, 5, 64):  # the batch dimension is free
        x = torch.randn(batch, OBS_DIM) * 4.0  # includes values the clipped normaliser clamps
        with torch.no_grad():
            expected = policy(TensorDict({"policy": x}, batch_size=[batch]))
        (actions,) = session.run(["actions"], {"obs": x.numpy()})
        assert actions.shape == (batch, ACT_DIM)
        torch.testing.assert_close(torch.from_numpy(actions), expected, atol=1e-5, rtol=1e-4)


def test_torchscript_matches_pytorch(exported):
    policy, files = exported
    module = torch.jit.load(str(files["torchscript"]))
    x = torch.randn(16, OBS_DIM) * 4.0
    with torch.no_grad():
        torch.testing.assert_close(module(x), policy(TensorDict({"policy": x}, batch_size=[16])))


def test_metadata_is_stored_in_both_files(exported):
    _, files = exported
    for read in (read_onnx_metadata(files["onnx"]), read_torchscript_metadata(files["torchscript"])):
        assert read == _metadata()
    assert not list(files["onnx"].parent.glob(".*partial")), "temporary files left behind"


def test_onnx_is_one_self_contained_file(exported, tmp_path):
    """No side file with the weights (``policy.onnx.data``): the ONNX file alone is the model."""
    import shutil

    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is part of the dev extra")
    _, files = exported
    assert sorted(p.name for p in files["onnx"].parent.iterdir()) == ["policy.json", "policy.onnx", "policy.pt"]
    alone = shutil.copy(files["onnx"], tmp_path / "policy.onnx")
    (actions,) = ort.InferenceSession(str(alone), providers=["CPUExecutionProvider"]).run(
        ["actions"], {"obs": torch.zeros(2, OBS_DIM).numpy()})
    assert actions.shape == (2, ACT_DIM)

"""The teacher's learning pieces: bound loss, clipped observation normalisation, PPO update."""

import math

import pytest
import torch
from tensordict import TensorDict

from intermimic.learning.models import ClippedMLPModel
from intermimic.learning.ppo import InterMimicPPO, bound_loss

pytestmark = pytest.mark.unit


def test_bound_loss_is_zero_inside_and_quadratic_outside():
    inside = torch.tensor([[0.0, 0.99, -1.0]])
    assert float(bound_loss(inside)) == 0.0
    outside = torch.tensor([[1.5, -2.0, 0.0]])
    assert float(bound_loss(outside)) == pytest.approx(0.5**2 + 1.0**2)


def _model(obs_dim=6, act_dim=3, **kw):
    obs = TensorDict({"policy": torch.zeros(4, obs_dim)}, batch_size=[4])
    return ClippedMLPModel(obs, {"actor": ["policy"]}, "actor", act_dim, hidden_dims=[16], activation="relu",
                           obs_normalization=True, **kw), obs  # fmt: skip


def test_normalised_observations_are_clipped_also_in_exports():
    model, _ = _model(obs_clip=5.0)
    data = TensorDict({"policy": torch.randn(512, 6)}, batch_size=[512])
    model.update_normalization(data)
    far = TensorDict({"policy": torch.full((1, 6), 1.0e3)}, batch_size=[1])
    latent = model.get_latent(far)
    assert torch.allclose(latent, torch.full_like(latent, 5.0))
    exported = torch.jit.script(model.as_jit())
    torch.testing.assert_close(exported(far["policy"]), model(far))


def test_ppo_update_reduces_the_bound_violation():
    """With only the bound loss active, an update pulls action means back inside [-1, 1]."""
    from rsl_rl.storage import RolloutStorage

    torch.manual_seed(0)
    obs = TensorDict({"policy": torch.randn(8, 6)}, batch_size=[8])
    actor = ClippedMLPModel(obs, {"actor": ["policy"]}, "actor", 3, hidden_dims=[32], activation="relu",
                            distribution_cfg={"class_name": "GaussianDistribution", "init_std": math.exp(-2.9),
                                              "learn_std": False})  # fmt: skip
    critic = ClippedMLPModel(obs, {"critic": ["policy"]}, "critic", 1, hidden_dims=[32], activation="relu")
    with torch.no_grad():
        actor.mlp[-1].bias.fill_(3.0)  # means far outside the action box
    storage = RolloutStorage("rl", 8, 4, obs, [3], "cpu")
    alg = InterMimicPPO(actor, critic, storage, learning_rate=1e-2, num_learning_epochs=4, num_mini_batches=2,
                        value_loss_coef=0.0, entropy_coef=0.0, schedule="fixed", bound_loss_coef=10.0)  # fmt: skip
    for _ in range(4):
        alg.act(obs)
        alg.process_env_step(obs, torch.zeros(8), torch.zeros(8, dtype=torch.long), {})
    alg.compute_returns(obs)
    with torch.no_grad():
        before = float(bound_loss(actor(obs)))
    losses = alg.update()
    with torch.no_grad():
        after = float(bound_loss(actor(obs)))
    assert {"surrogate", "value", "bound"} <= set(losses)
    assert after < 0.5 * before
    assert not actor.distribution.std_param.requires_grad  # the action std is fixed


def test_gradient_norms_are_logged_before_clipping():
    """The logged norm is the full gradient's, also when ``max_grad_norm`` clips the step."""
    torch.manual_seed(0)
    obs = TensorDict({"policy": torch.randn(8, 6)}, batch_size=[8])
    actor = ClippedMLPModel(obs, {"actor": ["policy"]}, "actor", 3, hidden_dims=[32], activation="relu",
                            distribution_cfg={"class_name": "GaussianDistribution", "init_std": 0.1})  # fmt: skip
    critic = ClippedMLPModel(obs, {"critic": ["policy"]}, "critic", 1, hidden_dims=[32], activation="relu")
    from rsl_rl.storage import RolloutStorage

    alg = InterMimicPPO(actor, critic, RolloutStorage("rl", 8, 4, obs, [3], "cpu"), learning_rate=1e-3,
                        max_grad_norm=1e-3, schedule="fixed")  # fmt: skip
    loss = (actor(obs).pow(2).sum() * 100.0) + critic(obs).pow(2).sum()
    expected = {}
    for name, module in (("actor", actor), ("critic", critic)):
        grads = torch.autograd.grad(loss, [p for p in module.parameters() if p.requires_grad], retain_graph=True,
                                    allow_unused=True)  # fmt: skip
        expected[name] = math.sqrt(sum(float(g.pow(2).sum()) for g in grads if g is not None))
    assert alg.apply_gradients(loss)
    assert float(alg.gradient_norms["grad_norm/actor"]) == pytest.approx(expected["actor"], rel=1e-5)
    assert float(alg.gradient_norms["grad_norm/critic"]) == pytest.approx(expected["critic"], rel=1e-5)
    assert expected["actor"] > 1e-3  # clipping was active: what is logged is not the clipped norm

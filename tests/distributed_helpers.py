"""Workers of the distributed tests: each runs as one rank of a gloo job on the CPU (spawned by
torch.multiprocessing) and saves what it computed for the test to compare."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.distributed as dist
from tensordict import TensorDict

OBS, ACT, MINI_BATCHES, EPOCHS = 6, 3, 2, 2


def shared_data(n: int, seed: int = 0) -> dict:
    """A rollout of ``n`` samples, the same in every process."""
    g = torch.Generator().manual_seed(seed)
    return {
        "obs": torch.randn(n, OBS, generator=g) * torch.tensor([1.0, 2.0, 0.5, 3.0, 1.0, 0.1]) + 0.3,
        "actions": torch.randn(n, ACT, generator=g) * 0.05,
        "old_log_prob": torch.randn(n, 1, generator=g) * 0.1 + 5.0,
        "advantages": torch.randn(n, 1, generator=g),
        "returns": torch.randn(n, 1, generator=g) * 2 + 1,
    }


def tiny_ppo(multi_gpu_cfg=None):
    """A small PPO with the project's algorithm and models (same initial weights everywhere)."""
    from rsl_rl.storage import RolloutStorage

    from intermimic.learning.models import ClippedMLPModel
    from intermimic.learning.ppo import InterMimicPPO

    torch.manual_seed(0)
    obs = TensorDict({"policy": torch.zeros(4, OBS)}, batch_size=[4])
    actor = ClippedMLPModel(obs, {"actor": ["policy"]}, "actor", ACT, hidden_dims=[16], activation="relu",
                            obs_normalization=True,
                            distribution_cfg={"class_name": "GaussianDistribution", "init_std": 0.05, "learn_std": False})  # fmt: skip
    critic = ClippedMLPModel(obs, {"critic": ["policy"]}, "critic", 1, hidden_dims=[16], activation="relu",
                             obs_normalization=True)  # fmt: skip
    storage = RolloutStorage("rl", 4, 2, obs, [ACT], "cpu")
    alg = InterMimicPPO(actor, critic, storage, learning_rate=1e-3, num_learning_epochs=EPOCHS,
                        num_mini_batches=MINI_BATCHES, schedule="fixed", multi_gpu_cfg=multi_gpu_cfg)  # fmt: skip
    alg.train_mode()
    return alg


class FixedSplitStorage:
    """Rollout storage stand-in whose mini-batches are fixed slices (so one process and several
    ranks can be given the same split)."""

    def __init__(self, data: dict, batches: list[torch.Tensor]):
        self.data, self.batches = data, batches
        n = len(data["obs"])
        self.observations = TensorDict({"policy": data["obs"][None]}, batch_size=[1, n])

    def mini_batch_generator(self, num_mini_batches, num_epochs):
        for _ in range(num_epochs):
            for rows in self.batches:
                d = {k: v[rows] for k, v in self.data.items()}
                yield SimpleNamespace(
                    observations=TensorDict({"policy": d["obs"]}, batch_size=[len(rows)]), actions=d["actions"],
                    old_actions_log_prob=d["old_log_prob"], advantages=d["advantages"], returns=d["returns"],
                    values=d["returns"] * 0, old_distribution_params=None,
                )  # fmt: skip

    def clear(self):
        pass


def split_rows(n_per_rank: int, rank: int) -> list[torch.Tensor]:
    """Rank ``rank``'s mini-batches: its half of every mini-batch of the whole rollout."""
    size = n_per_rank // MINI_BATCHES
    return [torch.arange(k * size, (k + 1) * size) for k in range(MINI_BATCHES)]


def update_result(alg) -> dict:
    return {
        "actor": {k: v.clone() for k, v in alg.actor.state_dict().items()},
        "critic": {k: v.clone() for k, v in alg.critic.state_dict().items()},
    }


def rank_worker(rank: int, world: int, port: int, out_dir: str, n_per_rank: int) -> None:
    """One rank: a PPO update on its half of the rollout; the explained variance and advantage
    normalisation of its half; a mini-batch whose loss is NaN on rank 1 only."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), LOCAL_RANK=str(rank))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        from intermimic.learning.distillation import explained_variance

        data = shared_data(world * n_per_rank)
        mine = {k: v[rank * n_per_rank : (rank + 1) * n_per_rank] for k, v in data.items()}
        alg = tiny_ppo({"global_rank": rank, "local_rank": rank, "world_size": world})
        alg.broadcast_parameters()
        alg.storage = FixedSplitStorage(mine, split_rows(n_per_rank, rank))
        alg.update()
        result = update_result(alg)
        result["explained_variance"] = explained_variance(mine["returns"], mine["advantages"])
        # advantage normalisation over all ranks' rollouts
        alg.storage = SimpleNamespace(advantages=mine["advantages"].clone())
        alg.normalize_advantage_per_mini_batch = False
        _normalise_like_compute_returns(alg)
        result["advantages"] = alg.storage.advantages
        # one rank's non-finite loss skips the step on every rank (no rank waits alone)
        loss = alg.mini_batch_loss(next(FixedSplitStorage(mine, split_rows(n_per_rank, rank)).mini_batch_generator(1, 1)))[0]
        result["step_taken"] = alg.apply_gradients(loss * (float("nan") if rank == 1 else 1.0))
        torch.save(result, Path(out_dir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _normalise_like_compute_returns(alg) -> None:
    """The normalisation step of ``InterMimicPPO.compute_returns`` on advantages already in
    storage (the GAE part is rsl_rl's and per environment)."""
    from rsl_rl.algorithms import PPO

    original = PPO.compute_returns
    PPO.compute_returns = lambda self, obs: None  # keep the advantages set above
    try:
        alg.compute_returns(None)
    finally:
        PPO.compute_returns = original

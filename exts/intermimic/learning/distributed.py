"""Training on several processes with torch.distributed, launched by ``torchrun``.

Every process (rank) runs its own environments, simulation and copy of the networks on its own
device (``cuda:<LOCAL_RANK>``; CPU ranks, e.g. in tests, use the gloo backend and the same code
path). The ranks stay identical because they start from rank 0's parameters and apply the same
averaged gradients; what differs per rank is the data: each rank's environments sample clips,
start frames and PSI states with their own generators (seed = base seed + rank).

What is reduced over the ranks (everything else is per rank):

* gradients of every learnable module (actor, critic; the Transformer's parts are the actor's);
* the decision to skip a non-finite mini-batch (one rank's NaN skips it on all ranks);
* observation normaliser statistics (rsl_rl's ``EmpiricalNormalization`` all-reduces them);
* advantage normalisation (mean and standard deviation over all ranks' rollouts);
* the student's explained variance (moments over all ranks), so every rank switches to PPO at
  the same iteration;
* the episode statistics written to the log (rewards, lengths, every ``Episode_*`` term);
* when to save and when to stop (rank 0's clock and any rank's stop signal decide for all).

Rank 0 alone writes the log folder: TensorBoard, checkpoints, ``latest.txt``, the banner.
Checkpoints hold every rank's curriculum and generator state, so ``--resume`` restores each rank.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..utils.errors import UserError

TORCHRUN_VARIABLES = ("WORLD_SIZE", "RANK", "LOCAL_RANK")


@dataclass(frozen=True)
class Ranks:
    """This process's place in the job."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def active() -> bool:
    """Whether this process is one rank of a job of several (a process group is up)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def ranks() -> Ranks:
    """This process's ranks (a single process: world size 1)."""
    if not active():
        return Ranks()
    return Ranks(dist.get_world_size(), dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0")))


def torchrun_ranks() -> Ranks:
    """The ranks torchrun gives this process; UserError when it was not started by torchrun."""
    missing = [v for v in TORCHRUN_VARIABLES if v not in os.environ]
    if missing:
        raise UserError(
            f"--distributed: {', '.join(missing)} not set; start the job with torchrun, e.g. "
            "torchrun --standalone --nproc_per_node=2 source/train.py --distributed ... "
            "(or ./intermimic.sh train --nproc 2 ...)"
        )
    try:
        world, rank, local = (int(os.environ[v]) for v in TORCHRUN_VARIABLES)
    except ValueError:
        raise UserError(f"--distributed: {', '.join(f'{v}={os.environ[v]}' for v in TORCHRUN_VARIABLES)} are not integers") from None
    return Ranks(world, rank, local)


def rank_device(requested: str, ranks_: Ranks) -> str:
    """The device of this rank: ``cuda:<LOCAL_RANK>`` when CUDA was asked for (``cuda:0`` when
    each process sees a single GPU, as under SLURM's per-task GPU binding), the CPU when the CPU
    was; UserError when the node has fewer GPUs than ranks on it."""
    if not requested.startswith("cuda"):
        return "cpu"
    count = torch.cuda.device_count()
    if count == 1:
        return "cuda:0"
    if ranks_.local_rank >= count:
        local_world = os.environ.get("LOCAL_WORLD_SIZE", "?")
        raise UserError(
            f"--distributed: {local_world} ranks on this node but {count} GPU(s) visible (rank {ranks_.rank} has "
            f"local rank {ranks_.local_rank}); use --nproc_per_node={count} or fewer, or --device cpu"
        )
    return f"cuda:{ranks_.local_rank}"


def start(device: str, ranks_: Ranks) -> None:
    """Join the job's process group: NCCL for CUDA ranks, gloo for CPU ranks."""
    if dist.is_initialized():
        return
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    backend = "nccl" if device.startswith("cuda") else "gloo"
    dist.init_process_group(backend=backend, rank=ranks_.rank, world_size=ranks_.world_size)
    global _HOST_GROUP
    # Python objects (training states, digests, folders) travel through host memory, not the GPUs
    _HOST_GROUP = dist.new_group(backend="gloo") if backend == "nccl" else None


_HOST_GROUP = None
"""A gloo group over the same ranks when the job's backend is NCCL (None: the default group)."""


def stop() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


# -------------------------------------------------------------------------------------------------
# Collectives used by the learning loop (each a no-op in a single process)
# -------------------------------------------------------------------------------------------------
def _device_for_collectives() -> torch.device:
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_ranks_on_device(flag: torch.Tensor) -> torch.Tensor:
    """``flag`` (a 0-d bool tensor) and-ed over the ranks, on the device (no host sync: the
    collective runs in the device's stream; the flag itself without a job)."""
    if not active():
        return flag
    buffer = flag.to(_device_for_collectives(), dtype=torch.int32).clone()
    dist.all_reduce(buffer, op=dist.ReduceOp.MIN)
    return buffer.to(flag.device).bool()


def sum_over_ranks(values: torch.Tensor) -> torch.Tensor:
    """Element-wise sum of ``values`` over the ranks (the tensor itself without a job)."""
    if not active():
        return values
    buffer = values.detach().to(_device_for_collectives(), dtype=torch.float64).clone()
    dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
    return buffer.to(values.device, dtype=values.dtype)


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on at least one."""
    if not active():
        return bool(flag)
    return bool(sum_over_ranks(torch.tensor([1.0 if flag else 0.0]))[0] > 0)


def all_ranks(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on all of them."""
    if not active():
        return bool(flag)
    return not any_rank(not flag)


def main_rank_says(flag: bool) -> bool:
    """Rank 0's ``flag``, on every rank."""
    if not active():
        return bool(flag)
    buffer = torch.tensor([1.0 if flag else 0.0], device=_device_for_collectives())
    dist.broadcast(buffer, src=0)
    return bool(buffer[0] > 0)


def gather_objects(obj) -> list:
    """``obj`` of every rank, in rank order, on every rank (``[obj]`` without a job)."""
    if not active():
        return [obj]
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj, group=_HOST_GROUP)
    return out


def gather_objects_to_main(obj) -> list | None:
    """``obj`` of every rank, in rank order, on rank 0 only (None on the others; ``[obj]`` without a
    job): what only rank 0 writes, e.g. the ranks' training states in a checkpoint."""
    if not active():
        return [obj]
    out = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(obj, out, dst=0, group=_HOST_GROUP)
    return out


def broadcast_object(obj):
    """Rank 0's ``obj`` on every rank."""
    if not active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0, group=_HOST_GROUP)
    return box[0]

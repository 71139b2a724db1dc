"""The on-policy training loop of the project's runners (teacher and student), built to survive
faults (docs/reliability.md). It follows rsl_rl's ``OnPolicyRunner.learn`` data flow (rollout,
returns, update, log, save) and adds:

* checkpoints written atomically with a ``latest.txt`` pointer, every ``save_interval``
  iterations, every ``reliability.save_interval_minutes``, at the end, on SIGINT/SIGTERM, and
  when the run stops on non-finite updates; each also holds the curriculum, the random
  generators and the log totals (:mod:`.checkpointing`);
* iteration numbers that continue: a checkpoint stores the last iteration it completed and a
  resumed run starts with the next one (TensorBoard steps continue in the same folder);
* a non-finite guard: non-finite observation rows or rewards are zeroed before they reach the
  networks (the HOI environment already resets such environments, so this only catches other
  environments), mini-batches with a non-finite loss or gradient are skipped by the algorithm,
  and ``reliability.max_non_finite_updates`` such iterations in a row stop the run;
* jobs of several ranks (:mod:`.distributed`): the process group ``train.py --distributed``
  started is joined (gloo on the CPU, NCCL on GPUs), the log's episode statistics cover every
  rank, the decisions to save and to stop are taken together at iteration boundaries, rank 0
  alone writes, checkpoints hold every rank's curriculum and generator state, and every
  ``reliability.rank_sync_interval`` iterations the ranks check that their parameters are
  bit-identical.

Use it before rsl_rl's runner in the bases: ``class MyRunner(ReliableRunnerMixin, OnPolicyRunner)``.
"""

from __future__ import annotations

import os
import time
from contextlib import nullcontext
from pathlib import Path

import hashlib
import signal
from collections import deque

import torch
from rsl_rl.utils.logger import Logger

from . import distributed
from .checkpointing import checkpoint_iteration
from .checkpointing import (
    CheckpointError, one_line, read_checkpoint, restore_training_state, save_checkpoint, training_state,
)  # fmt: skip
from ..tasks.agents.reliability_cfg import RunReliabilityCfg
from .stop_signals import StopSignals

TRAINING_STATE = "training_state"
"""Checkpoint key of the curriculum and RNG states."""
LOG_TOTALS = "log_totals"
"""Checkpoint key of the logger's running totals (steps, seconds)."""
RANK_STATES = "training_state_per_rank"
"""Checkpoint key of every rank's training state, in rank order (jobs of several ranks)."""


class TrainingStopped(SystemExit):
    """The run ended early but cleanly (a checkpoint was saved): the exit status is 130/143 after a
    signal, 1 with a message after repeated non-finite updates."""


def zero_non_finite(obs, rewards: torch.Tensor) -> torch.Tensor:
    """Replace non-finite values of the observation groups and rewards by 0, in place; returns
    the number of environments that had some, as a 0-d tensor (no host sync: read it once per
    iteration)."""
    bad = ~torch.isfinite(rewards.reshape(rewards.shape[0], -1)).all(dim=-1)
    for value in obs.values():
        bad |= ~torch.isfinite(value.reshape(value.shape[0], -1)).all(dim=-1)
        torch.nan_to_num_(value, nan=0.0, posinf=0.0, neginf=0.0)
    torch.nan_to_num_(rewards, nan=0.0, posinf=0.0, neginf=0.0)
    return bad.sum()


def _on_cpu(obj):
    """``obj`` with every tensor moved to the CPU (to hand it to another rank)."""
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _on_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_on_cpu(v) for v in obj)
    return obj


class _Collecting:
    """Stand-in writer on ranks > 0: rsl_rl's logger gathers episode statistics only while it
    has a writer."""


class RankLogger(Logger):
    """rsl_rl's logger whose episode statistics (rewards, lengths, every ``extras["log"]``
    term) describe all ranks of a job; rank 0 writes them, the other ranks only contribute."""

    def process_env_step(self, rewards, dones, extras, intrinsic_rewards=None) -> None:
        if self.writer is None and self.disable_logs:
            self.writer = _Collecting()
            try:
                super().process_env_step(rewards, dones, extras, intrinsic_rewards)
            finally:
                self.writer = None
        else:
            super().process_env_step(rewards, dones, extras, intrinsic_rewards)

    def _extras_sums(self) -> dict[str, tuple[float, int]]:
        sums: dict[str, tuple[float, int]] = {}
        for info in self.ep_extras:
            for key, value in info.items():
                t = value if torch.is_tensor(value) else torch.tensor(float(value))
                total, count = sums.get(key, (0.0, 0))
                sums[key] = (total + float(t.double().sum()), count + t.numel())
        return sums

    def log(self, it: int, *args, **kwargs) -> None:
        if not distributed.active():
            super().log(it, *args, **kwargs)
            return
        mine = (list(self.rewbuffer), list(self.lenbuffer), self._extras_sums())
        everyone = distributed.gather_objects(mine)
        if self.disable_logs:  # ranks > 0: handed over, nothing written
            self.ep_extras.clear()
            return
        own = self.rewbuffer, self.lenbuffer
        rewards = [r for rank in everyone for r in rank[0]]
        lengths = [n for rank in everyone for n in rank[1]]
        merged: dict[str, list[float]] = {}
        for _, _, sums in everyone:
            for key, (total, count) in sums.items():
                acc = merged.setdefault(key, [0.0, 0])
                acc[0], acc[1] = acc[0] + total, acc[1] + count
        self.rewbuffer, self.lenbuffer = deque(rewards), deque(lengths)
        self.ep_extras = [{k: torch.tensor([t / max(c, 1)]) for k, (t, c) in merged.items()}] if merged else []
        try:
            super().log(it, *args, **kwargs)
        finally:
            self.rewbuffer, self.lenbuffer = own


def parameter_digest(modules) -> str:
    """SHA-1 of the bytes of every parameter and buffer of ``modules`` (bit identity)."""
    h = hashlib.sha1()
    for module in modules:
        for name, tensor in module.state_dict().items():
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class RanksDiverged(RuntimeError):
    """The ranks' parameters differ after an update (they must stay bit-identical)."""


class ReliableRunnerMixin:
    """Replaces ``learn``, ``save`` and ``load`` of an rsl_rl on-policy runner."""

    logger_class: type[Logger] = RankLogger

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.logger = self.logger_class(
            log_dir=self.logger.log_dir, cfg=self.cfg, env_cfg=self.env.cfg, num_envs=self.env.num_envs,
            is_distributed=self.is_distributed, gpu_world_size=self.gpu_world_size,
            gpu_global_rank=self.gpu_global_rank, device=self.device,
        )  # fmt: skip
        settings = {**RunReliabilityCfg().to_dict(), **(self.cfg.get("reliability") or {})}
        self.reliability = RunReliabilityCfg(**settings)
        self.next_iteration = 0
        """Index of the next learning iteration (a resumed run continues after the loaded one)."""
        self._loaded: tuple[str, dict | None, dict | None] | None = None
        self._time_checkpoint: Path | None = None
        self._last_save = time.monotonic()

    # ------------------------------------------------------------------------------------------
    def _configure_multi_gpu(self) -> None:
        """Join the process group of a job of several ranks (started by ``train.py
        --distributed`` under torchrun: gloo for CPU ranks, NCCL for GPU ranks); a single process
        otherwise, whatever the environment variables say."""
        job = distributed.ranks()
        self.gpu_world_size, self.gpu_global_rank, self.gpu_local_rank = job.world_size, job.rank, job.local_rank
        self.is_distributed = job.world_size > 1
        if not self.is_distributed:
            self.cfg["multi_gpu"] = None
            return
        expected = distributed.rank_device(str(self.device), job)
        if str(self.device) != expected:
            raise ValueError(f"rank {job.rank}: the learner runs on {self.device}, expected {expected}")
        self.cfg["multi_gpu"] = {"global_rank": job.rank, "local_rank": job.local_rank, "world_size": job.world_size}

    @property
    def _keeps_checkpoints(self) -> bool:
        """Whether this run saves checkpoints (it has a log folder; the same on every rank)."""
        return self.logger.log_dir is not None

    @property
    def _is_main(self) -> bool:
        return self.gpu_global_rank == 0

    def _check_ranks_in_sync(self, it: int) -> None:
        interval = self.reliability.rank_sync_interval
        if not self.is_distributed or interval <= 0 or it % interval:
            return
        digests = distributed.gather_objects(parameter_digest([self.alg.actor, self.alg.critic]))
        in_sync = len(set(digests)) == 1
        if self.logger.writer is not None:
            self.logger.writer.add_scalar("Distributed/ranks_in_sync", float(in_sync), it)
        if not in_sync:
            differ = [r for r, d in enumerate(digests) if d != digests[0]]
            raise RanksDiverged(f"iteration {it}: the parameters of rank(s) {differ} differ from rank 0's")

    # ------------------------------------------------------------------------------------------
    def learn(self, num_learning_iterations: int, init_at_random_ep_len: bool = False) -> None:
        self._restore_loaded_state()
        if init_at_random_ep_len:
            self.env.episode_length_buf = torch.randint_like(
                self.env.episode_length_buf, high=int(self.env.max_episode_length)
            )
        obs = self.env.get_observations().to(self.device)
        self.alg.train_mode()
        if self.is_distributed:
            self.alg.broadcast_parameters()
        self.logger.init_logging_writer()
        self._last_save = time.monotonic()

        start_it = self.next_iteration
        total_it = start_it + num_learning_iterations
        uses_rnd = bool(self.cfg["algorithm"].get("rnd_cfg"))
        bad_in_a_row = 0
        signals = StopSignals() if self.reliability.handle_signals else nullcontext(StopSignals())
        with signals as stop:
            for it in range(start_it, total_it):
                if distributed.any_rank(stop.requested):  # a signal to any rank stops all at this boundary
                    stop.requested = stop.requested or int(signal.SIGTERM)
                    break
                start = time.time()
                zeroed = 0
                with torch.inference_mode():
                    for _ in range(self.cfg["num_steps_per_env"]):
                        actions = self.alg.act(obs)
                        obs, rewards, dones, extras = self.env.step(actions.to(self.env.device))
                        zeroed += zero_non_finite(obs, rewards)
                        obs, rewards, dones = obs.to(self.device), rewards.to(self.device), dones.to(self.device)
                        self.alg.process_env_step(obs, rewards, dones, extras)
                        intrinsic = self.alg.intrinsic_rewards if uses_rnd else None
                        self.logger.process_env_step(rewards, dones, extras, intrinsic)
                        if stop.requested and not self.is_distributed:
                            break
                    if stop.requested and not self.is_distributed:  # drop the unfinished rollout; the networks stay as after the last update
                        self.alg.storage.clear()
                        break
                    collect_time = time.time() - start
                    start = time.time()
                    self.alg.compute_returns(obs)
                loss_dict = self.alg.update()
                learn_time = time.time() - start
                self.current_learning_iteration = it
                self.next_iteration = it + 1
                self.logger.log(
                    it=it, start_it=start_it, total_it=total_it, collect_time=collect_time, learn_time=learn_time,
                    loss_dict=loss_dict, learning_rate=self.alg.learning_rate,
                    action_std=self.alg.get_policy().output_std,
                    rnd_weight=self.alg.rnd.weight if uses_rnd else None,
                )  # fmt: skip
                skipped = int(getattr(self.alg, "skipped_updates", 0))
                self._log_guard(it, skipped, int(zeroed))  # the iteration's one read of the count
                if self._evaluation_due(it):
                    self.evaluate_fixed_starts(it)
                    obs = self.env.get_observations().to(self.device)
                self._check_ranks_in_sync(it)
                bad_in_a_row = bad_in_a_row + 1 if skipped else 0
                if bad_in_a_row >= self.reliability.max_non_finite_updates > 0:
                    self._stop_on_non_finite(it, bad_in_a_row)
                if self._keeps_checkpoints:
                    on_interval = it % self.cfg["save_interval"] == 0
                    due = self._save_due()  # rank 0's clock decides for every rank
                    if on_interval or due:
                        self.save(self._checkpoint_path(it), time_based=not on_interval)
        if stop.requested:
            self._stop_on_signal(stop)
        if self._keeps_checkpoints:
            self.save(self._checkpoint_path(self.current_learning_iteration))
        if self.logger.writer is not None:
            self._close_writer()

    # ------------------------------------------------------------------------------------------
    def _evaluation_due(self, it: int) -> bool:
        interval = int(self.cfg.get("eval_interval") or 0)
        return interval > 0 and (it + 1) % interval == 0

    def evaluate_fixed_starts(self, it: int) -> dict:
        """Evaluate the current policy on fixed starts (every clip from frame 0, as ``evaluate``)
        in the training envs, log it (``Eval/*`` in TensorBoard, one console line) and return
        the summary. The rollout in progress restarts; the curriculum learns nothing from it."""
        from ..tasks.evaluation_cfg import RECORDING_TERMS
        from .fixed_start_eval import EVAL_TAGS, evaluate_in_training

        if not set(RECORDING_TERMS) <= set(self.env.unwrapped.termination_manager.active_terms):
            raise ValueError("agent.eval_interval needs the env prepared by fixed_start_eval.prepare_training_env")
        start = time.time()
        policy = self.get_inference_policy(device=self.env.unwrapped.device)
        try:
            table = evaluate_in_training(self.env, policy)
        finally:
            self.alg.train_mode()
        fps = 1.0 / self.env.unwrapped.step_dt
        summary = table.summary(fps)
        if self._is_main and self.logger.log_dir is not None:
            meta = {"iteration": it, "starts": "frame 0 of every clip, from the reference", "attempts": 1}
            table.write(Path(self.logger.log_dir) / "fixed_start_eval" / f"iteration_{it}", fps, meta, plots=False)
        for buffer in (self.logger.cur_reward_sum, self.logger.cur_episode_length):
            buffer.zero_()  # the episodes in flight were cut by the evaluation: not logged
        if self.logger.writer is not None:
            for key, tag in EVAL_TAGS.items():
                if summary.get(key) is not None:  # no contact ratio without labelled hand frames
                    self.logger.writer.add_scalar(tag, summary[key], it)
        if self._is_main:
            print(f"[intermimic] fixed-start evaluation at iteration {it}: success {summary['successes']}/"
                  f"{summary['clips']} clips, E_h {summary['E_h_cm']:.1f} cm, E_o {summary['E_o_cm']:.1f} cm, "
                  f"E_hand {summary['E_hand_cm']:.1f} cm, "
                  f"{summary['duration_s']:.1f} s per clip ({time.time() - start:.0f} s)", flush=True)  # fmt: skip
        return summary

    def save(self, path: str, infos: dict | None = None, time_based: bool = False) -> None:
        """Atomic checkpoint of the algorithm's models and optimiser, the last completed
        iteration (``iter``), the training state and the log totals; updates ``latest.txt``.
        In a job of several ranks every rank calls it (their training states are gathered) and
        rank 0 writes."""
        states = distributed.gather_objects_to_main(_on_cpu(training_state(self.env)))
        if not self._is_main:
            self._last_save = time.monotonic()
            return
        state = self.alg.save()
        state["iter"] = self.current_learning_iteration
        state["infos"] = infos
        state[TRAINING_STATE] = states[0]
        if len(states) > 1:
            state[RANK_STATES] = states
        state[LOG_TOTALS] = {"steps": self.logger.tot_timesteps, "seconds": self.logger.tot_time}
        path = save_checkpoint(state, path)
        self._last_save = time.monotonic()
        previous, self._time_checkpoint = self._time_checkpoint, (path if time_based else None)
        if previous is not None and previous != path and previous.exists():
            previous.unlink()  # the newer checkpoint supersedes a time-based one
        self.logger.save_model(str(path), self.current_learning_iteration)

    def load(self, path: str, load_cfg: dict | None = None, strict: bool = True, map_location: str | None = None):
        """Load a checkpoint (:class:`CheckpointError` naming the file when it is unreadable or does
        not fit). Networks, optimiser and iteration now; the curriculum, RNG and log totals when
        training starts (playing a checkpoint leaves them alone)."""
        data = read_checkpoint(path, map_location=map_location)
        try:
            load_iteration = self.alg.load(data, load_cfg, strict)
        except (RuntimeError, KeyError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {path} does not fit this task's networks ({one_line(exc)})") from exc
        if load_iteration:
            self.current_learning_iteration = int(data.get("iter", checkpoint_iteration(Path(path))))
            self.next_iteration = self.current_learning_iteration + 1
        self._loaded = (str(path), self._own_training_state(data, path), data.get(LOG_TOTALS))
        return data.get("infos")

    def _own_training_state(self, data: dict, path) -> dict | None:
        """This rank's training state in a checkpoint: its own entry when the checkpoint was
        written by a job of as many ranks; otherwise rank 0's (curriculum), with this rank's
        generators reseeded (seed + rank), so that ranks do not replay the same samples."""
        states = data.get(RANK_STATES)
        rank, world = self.gpu_global_rank, self.gpu_world_size
        if states and len(states) == world:
            return states[rank]
        state = data.get(TRAINING_STATE)
        if rank > 0 and state:
            state = {k: v for k, v in state.items() if k != "rng"}
            torch.manual_seed(int(self.cfg.get("seed", 0)) + self.next_iteration)  # the seed includes the rank
            print(f"[intermimic] note: rank {rank}: {path} holds no state of this rank "
                  f"({len(states) if states else 1} rank(s) wrote it); its generators are reseeded", flush=True)  # fmt: skip
        return state

    # ------------------------------------------------------------------------------------------
    def _checkpoint_path(self, it: int) -> str:
        return os.path.join(self.logger.log_dir, f"model_{it}.pt")

    def _save_due(self) -> bool:
        minutes = self.reliability.save_interval_minutes
        return distributed.main_rank_says(minutes > 0 and time.monotonic() - self._last_save >= 60.0 * minutes)

    def _restore_loaded_state(self) -> None:
        if self._loaded is None:
            return
        path, state, totals = self._loaded
        self._loaded = None
        for note in restore_training_state(self.env, state, path):
            print(f"[intermimic] note: {note}", flush=True)
        if totals:
            self.logger.tot_timesteps, self.logger.tot_time = totals["steps"], totals["seconds"]

    def _log_guard(self, it: int, skipped: int, zeroed: int) -> None:
        writer = self.logger.writer
        if writer is not None:
            writer.add_scalar("Guard/skipped_updates", skipped, it)
            writer.add_scalar("Guard/non_finite_inputs_zeroed", zeroed, it)
        if skipped and self._is_main:
            print(f"[intermimic] warning: iteration {it}: {skipped} mini-batch update(s) with a non-finite loss or "
                  "gradient were skipped", flush=True)  # fmt: skip

    def _close_writer(self) -> None:
        self.logger.stop_logging_writer()
        close = getattr(self.logger.writer, "close", None)
        if callable(close):
            close()

    def _stop_on_signal(self, stop: StopSignals) -> None:
        saved = "nothing saved yet (no iteration finished)"
        if self._keeps_checkpoints and self.next_iteration > 0:
            path = self._checkpoint_path(self.current_learning_iteration)
            self.save(path)
            saved = f"checkpoint {path}; continue with --resume {self.logger.log_dir}"
        if self.logger.writer is not None:
            self._close_writer()
        if self._is_main:
            print(f"[intermimic] stopped by {stop.name} after iteration {self.current_learning_iteration}: {saved}",
                  flush=True)  # fmt: skip
        raise TrainingStopped(stop.exit_code)

    def _stop_on_non_finite(self, it: int, count: int) -> None:
        where = "no log folder, nothing saved"
        if self._keeps_checkpoints:
            path = self._checkpoint_path(it)
            self.save(path)
            if self.logger.writer is not None:
                self._close_writer()
            where = f"the last good parameters are in {path}"
        raise TrainingStopped(
            f"[intermimic] error: {count} iterations in a row (up to {it}) met non-finite losses or gradients; "
            f"training stopped ({where}). Lower the learning rate or check the data, then --resume."
        )

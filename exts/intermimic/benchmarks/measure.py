"""What every benchmark measures with: waiting for the device, peak memory of the process and of
the GPU, and byte counts in words."""

from __future__ import annotations

import os
import resource
import sys

import torch

BYTES_PER_MB = 1024.0 * 1024.0


def sync(device) -> None:
    """Wait for the work queued on ``device`` (nothing to wait for on the CPU)."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def cuda_available() -> bool:
    return torch.cuda.is_available()


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def peak_rss_mb() -> float:
    return peak_rss_bytes() / BYTES_PER_MB


def gigabytes(n: float) -> str:
    """A byte count as GB (from 0.1 GB) or MB."""
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


class GpuMemory:
    """Peak torch-allocated CUDA memory on ``device`` and the most device memory seen in use there
    (which also counts Warp's and the CUDA context's memory), sampled at phase ends."""

    def __init__(self, device: str):
        self.device = torch.device(device)
        self.enabled = self.device.type == "cuda"
        self.device_used_mb = 0.0
        if self.enabled:
            torch.cuda.reset_peak_memory_stats(self.device)

    def sample(self) -> None:
        if self.enabled:
            torch.cuda.synchronize(self.device)
            free, total = torch.cuda.mem_get_info(self.device)
            self.device_used_mb = max(self.device_used_mb, (total - free) / BYTES_PER_MB)

    def report(self) -> dict[str, float | None]:
        self.sample()
        if not self.enabled:
            return {"gpu_peak_allocated_mb": None, "gpu_device_used_mb": None}
        return {"gpu_peak_allocated_mb": torch.cuda.max_memory_allocated(self.device) / BYTES_PER_MB,
                "gpu_device_used_mb": self.device_used_mb}  # fmt: skip


def output_into(log_path: str) -> None:
    """Send this process's stdout and stderr (the simulator's too) into the file ``log_path``."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)

"""Kit-less PhysX (``physics=ovphysx``) on a machine without CUDA: the one workaround it needs.

Isaac Lab 3.0.0's ovphysx assets (``isaaclab_ov.assets``: rigid objects, articulations) allocate
their host staging buffers as pinned (page-locked) memory, ``wp.zeros(..., device="cpu",
pinned=True)``, even when the simulation runs on the CPU. Warp allocates pinned memory through
the CUDA driver, so without one every such allocation fails ("Failed to allocate 4 bytes on
device 'cpu'") and no ovphysx asset can be created. Pinning only speeds up copies to and from a
GPU; with no GPU, ordinary host memory does the same job. :func:`allow_pinned_host_buffers`
therefore makes Warp's pinned CPU allocator the ordinary one, only when Warp finds no CUDA
device. ``tests/test_physx_backend.py`` checks that Isaac Lab still asks for pinned buffers on
the CPU, and fails once it no longer does (then this module can go).
"""

from __future__ import annotations


def pinned_memory_unavailable() -> bool:
    """Whether Warp cannot allocate pinned host memory here (no CUDA device)."""
    import warp as wp

    wp.init()
    return wp.get_cuda_device_count() == 0


def allow_pinned_host_buffers() -> bool:
    """Serve Warp's pinned CPU allocations with ordinary host memory when there is no CUDA device;
    returns whether it did (idempotent; a no-op on a machine with a GPU)."""
    import warp as wp

    if not pinned_memory_unavailable():
        return False
    cpu = wp.get_device("cpu")
    cpu.pinned_allocator = cpu.default_allocator
    return True

"""Running many small CPU tensor operations on one thread.

Reading, validating and packing clips, and generating demo motions, are long sequences of
operations on small tensors; with several intra-op threads the synchronisation costs more
than the work (10-20x slower measured on a 2-core machine under load). They run inside
:func:`single_thread`; CPU env steps run inside :func:`torch_threads` (``cpu_step_threads``).
"""

from __future__ import annotations

from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(count: int):
    """``count`` torch intra-op threads inside the block, the previous setting after it."""
    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def single_thread():
    return torch_threads(1)

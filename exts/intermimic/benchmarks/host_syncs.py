"""Counting the operations that make a GPU wait for the host ("host syncs"), on any device.

On a GPU, reading a value back (``.item()``, ``float(t)``, ``bool(t)``), an output whose size
depends on the data (``nonzero``, ``unique``, boolean-mask indexing, ``repeat_interleave`` without
``output_size``), a copy to the host (``.cpu()``, ``.tolist()``, ``.numpy()``) and a tensor made
from Python data (``torch.tensor([...])``, ``new_tensor``: a copy from the host) stall the
device's queue until the host catches up. :class:`HostSyncCounter` sees these operations on the
CPU as well (through a ``TorchDispatchMode`` and a few wrapped ``Tensor`` methods), so a test on
a CPU-only machine can count what a training step would cost a GPU, and where each one comes from
(the innermost caller outside torch: this package's file and line, or another library).
"""

from __future__ import annotations

import functools
import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ..utils.paths import EXT_DIR

@functools.lru_cache(maxsize=4096)
def _real(path: str) -> str:
    """A code object's file with ``..`` and links resolved (scripts put ``source/../exts`` on the path)."""
    return path if path.startswith("<") else os.path.realpath(path)


PACKAGE_DIRS = (os.path.realpath(EXT_DIR),)
_TORCH_DIRS = (os.path.realpath(Path(torch.__file__).parent),)
_OPTIM_DIRS = tuple(str(Path(d) / "optim") for d in _TORCH_DIRS)
_THIS_FILES = (os.path.realpath(__file__),)

_SCALAR_READS = {"_local_scalar_dense"}
_DATA_DEPENDENT = {"nonzero", "_unique", "_unique2", "unique_dim", "unique_consecutive", "masked_select"}
_INDEXING = {"index", "index_put", "index_put_", "_index_put_impl_"}
_HOST_METHODS = ("tolist", "numpy", "cpu")


def _op_name(func) -> str:
    return func._overloadpacket.__name__ if hasattr(func, "_overloadpacket") else str(func)


def _has_mask_index(args) -> bool:
    indices = args[1] if len(args) > 1 else ()
    return any(isinstance(i, torch.Tensor) and i.dtype in (torch.bool, torch.uint8) for i in indices or ())


def sync_kind(func, args, kwargs) -> str | None:
    """What kind of host sync the aten call ``func(*args, **kwargs)`` is, or None."""
    name = _op_name(func)
    if name in _SCALAR_READS:
        return "scalar read"
    if name in _DATA_DEPENDENT:
        return name.strip("_")
    if name in _INDEXING and _has_mask_index(args):
        return "boolean mask index"
    if name == "lift_fresh":
        return "tensor from Python data"
    if name == "repeat_interleave" and getattr(func, "_overloadname", "") in ("Tensor", "self_Tensor"):
        given = (kwargs or {}).get("output_size", args[3] if len(args) > 3 else None)
        return None if given is not None else "data-dependent size"
    if name in ("_to_copy", "copy_"):
        src = args[1] if name == "copy_" else args[0]
        dst_device = args[0].device if name == "copy_" else (kwargs or {}).get("device", src.device)
        if isinstance(src, torch.Tensor) and dst_device is not None and torch.device(dst_device) != src.device:
            return "copy between host and device"
    return None


def caller(frame=None) -> str:
    """``intermimic/<path>:<line>`` of the innermost caller outside torch and this module, or the
    top-level name of the library it is in. Reads made inside ``torch.optim`` are that module's:
    its optimisers keep their step counts on the host (not ``capturable``), so on a GPU reading
    them waits for nothing."""
    frame = frame or sys._getframe(1)
    while frame is not None:
        path = _real(frame.f_code.co_filename)
        if path.startswith(_OPTIM_DIRS):
            return "torch.optim"
        if not (path.startswith(_TORCH_DIRS) or path in _THIS_FILES or path.startswith("<")):
            package_dir = next((d for d in PACKAGE_DIRS if path.startswith(d)), None)
            if package_dir is not None:
                return f"intermimic/{Path(path).relative_to(package_dir)}:{frame.f_lineno}"
            parts = Path(path).parts
            if "site-packages" in parts:
                return parts[parts.index("site-packages") + 1]
            return path
        frame = frame.f_back
    return "?"


def is_package_caller(where: str) -> bool:
    return where.startswith("intermimic/")


class HostSyncCounter(TorchDispatchMode):
    """Inside ``with HostSyncCounter() as counter:``, :attr:`counts` maps ``(caller, kind)`` to how
    many host syncs that caller made (see the module docstring for what counts)."""

    def __init__(self):
        super().__init__()
        self.counts: Counter[tuple[str, str]] = Counter()
        self._saved: dict[str, object] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kind = sync_kind(func, args, kwargs)
        if kind is not None:
            self.counts[(caller(), kind)] += 1
        return func(*args, **(kwargs or {}))

    def __enter__(self):
        for name in _HOST_METHODS:
            original = getattr(torch.Tensor, name)
            self._saved[name] = original
            setattr(torch.Tensor, name, self._counting(original, f"copy to host ({name})"))
        return super().__enter__()

    def __exit__(self, *exc):
        for name, original in self._saved.items():
            setattr(torch.Tensor, name, original)
        self._saved.clear()
        return super().__exit__(*exc)

    def _counting(self, method, kind: str):
        counter = self

        def wrapper(tensor, *args, **kwargs):
            counter.counts[(caller(sys._getframe(1)), kind)] += 1
            return method(tensor, *args, **kwargs)

        return wrapper

    def package_total(self) -> int:
        """Host syncs made by this package's own code."""
        return sum(n for (where, _), n in self.counts.items() if is_package_caller(where))

    def package_counts(self) -> Counter[tuple[str, str]]:
        return Counter({k: n for k, n in self.counts.items() if is_package_caller(k[0])})

    def clear(self) -> None:
        self.counts.clear()

    def table(self, package_only: bool = True) -> str:
        """One line per (caller, kind), most first."""
        rows = self.package_counts() if package_only else self.counts
        return "\n".join(f"{n:6d}  {kind:<28s} {where}" for (where, kind), n in rows.most_common())


@contextmanager
def counting_host_syncs():
    """``with counting_host_syncs() as counter: ...``"""
    with HostSyncCounter() as counter:
        yield counter

"""Progress reporting that suits where the output goes.

On a terminal: a tqdm bar (redrawn in place). Otherwise (a log file, a pipe, CI) a bar would
write carriage returns that run into the next line, so a plain line ``desc: n/total unit`` is
written every ``PLAIN_INTERVAL_S`` seconds, plus a last one when the work took that long.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable

PLAIN_INTERVAL_S = 30.0


class PlainProgress:
    """tqdm's ``update``/``close``/iteration protocol, printing occasional whole lines."""

    def __init__(self, iterable=None, total=None, desc="", unit="it", interval_s=PLAIN_INTERVAL_S, file=None):
        self.iterable = iterable
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.desc, self.unit, self.interval_s = desc, unit, interval_s
        self.file = file or sys.stderr
        self.n = 0
        self._start = self._last = time.monotonic()
        self._printed = False

    def _line(self) -> str:
        of = f"/{self.total}" if self.total is not None else ""
        return f"{self.desc}: {self.n}{of} {self.unit}s ({time.monotonic() - self._start:.0f} s)"

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            print(self._line(), file=self.file, flush=True)
            self._last, self._printed = now, True

    def close(self) -> None:
        if self._printed and self.n != 0:
            print(self._line(), file=self.file, flush=True)
            self._printed = False

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update()
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit: str = "it",
             enabled: bool = True, leave: bool = False):  # fmt: skip
    """A progress reporter over ``iterable`` (or with ``total`` and ``update()``): a tqdm bar on a
    terminal, occasional plain lines otherwise, nothing when not ``enabled``."""
    if enabled and sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, leave=leave)
    return PlainProgress(iterable, total=total, desc=desc, unit=unit, interval_s=PLAIN_INTERVAL_S if enabled else float("inf"))

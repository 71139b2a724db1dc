"""Turning Ctrl-C (SIGINT) and ``kill`` (SIGTERM) into a polite stop request for a training loop.

Inside ``with StopSignals() as stop:`` the first SIGINT or SIGTERM only sets ``stop.requested``
(the loop checks it, saves a checkpoint and leaves); the handlers in place before are restored
at once, so a second signal acts as usual (Ctrl-C twice interrupts immediately). Outside the
main thread, where Python cannot install handlers, nothing is installed.
"""

from __future__ import annotations

import signal
import threading

HANDLED = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    def __init__(self, announce: bool = True):
        self.requested: int | None = None
        """The signal number received, or None."""
        self._announce = announce
        self._previous: dict[int, object] = {}

    @property
    def exit_code(self) -> int:
        """The shell's exit status for a process ended by the signal (130 SIGINT, 143 SIGTERM)."""
        return 128 + int(self.requested) if self.requested is not None else 0

    @property
    def name(self) -> str:
        return signal.Signals(self.requested).name if self.requested is not None else ""

    def _handle(self, signum, frame) -> None:
        self.requested = signum
        self._restore()
        if self._announce:
            print(f"\n[intermimic] {signal.Signals(signum).name} received: stopping after this step and saving a "
                  "checkpoint (send it again to quit without saving)", flush=True)  # fmt: skip

    def _restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED:
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        self._restore()

"""User mistakes reported as one line: the error type, the log line, and the wrapper of a
script's ``main``.

A user mistake (a bad path, an unknown name, an invalid number or setting, a checkpoint that
does not fit) raises :class:`UserError`. A script's ``main`` wrapped with :func:`command`
prints it as one line ``[intermimic] error: ...`` on stderr and exits with status 2, without a
traceback; ``--debug`` (or ``INTERMIMIC_DEBUG=1``) shows the traceback instead. Ctrl-C ends a
command with one line and status 130. Parsers that report the same way are in
:mod:`intermimic.utils.arguments`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from contextlib import contextmanager

PREFIX = "[intermimic]"
EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130
DEBUG_FLAG = "--debug"
SILENT_USER_ERRORS = False
"""Set on ranks > 0 of a distributed job: rank 0 meets the same input and reports it once."""


class UserError(Exception):
    """A mistake in the command line or in the files it names. The message names the argument,
    file or field and says what was expected; it is shown as one line."""


def one_line(message: str) -> str:
    """``message`` with its lines joined by ``; `` (error output is a single line)."""
    parts = [p.strip() for p in str(message).splitlines() if p.strip()]
    return "; ".join(parts)


def log(message: str, file=None) -> None:
    """A ``[intermimic] ...`` line, flushed at once (it may precede a long computation)."""
    print(f"{PREFIX} {message}", file=file or sys.stdout, flush=True)


@contextmanager
def as_user_error(*types: type[BaseException], context: str = ""):
    """Re-raise exceptions of ``types`` as UserError (for code that only reads user input:
    presets, data sets, command-line files), prefixed with ``context``."""
    try:
        yield
    except types as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise UserError(f"{context}{message}") from exc


def debug_requested(argv: list[str] | None) -> bool:
    tokens = sys.argv[1:] if argv is None else argv
    return DEBUG_FLAG in tokens or os.environ.get("INTERMIMIC_DEBUG", "") not in ("", "0")


def command(main: Callable) -> Callable:
    """Wrap a script's ``main(argv=None)``: user errors become one line and exit status 2,
    Ctrl-C one line and status 130; ``--debug`` re-raises both with their traceback."""

    @functools.wraps(main)
    def wrapper(argv: list[str] | None = None):
        try:
            return main(argv)
        except UserError as exc:
            if debug_requested(argv):
                raise
            sys.stdout.flush()
            if not SILENT_USER_ERRORS:
                print(f"{PREFIX} error: {one_line(str(exc))}", file=sys.stderr, flush=True)
            raise SystemExit(EXIT_USER_ERROR) from None
        except KeyboardInterrupt:
            if debug_requested(argv):
                raise
            sys.stdout.flush()
            print(f"\n{PREFIX} interrupted", file=sys.stderr, flush=True)
            raise SystemExit(EXIT_INTERRUPTED) from None

    return wrapper

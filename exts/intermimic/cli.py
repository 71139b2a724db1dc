"""What every command-line script shares: one-line user errors, checked numbers, quiet start-up.

A user mistake (a bad path, an unknown name, an invalid number or setting, a checkpoint that
does not fit) raises :class:`UserError`. A script's ``main`` wrapped with :func:`command`
prints it as one line ``[intermimic] error: ...`` on stderr and exits with status 2, without a
traceback; ``--debug`` (or ``INTERMIMIC_DEBUG=1``) shows the traceback instead. Ctrl-C ends a
command with one line and status 130.

Parsers made by :class:`ArgumentParser` report their own errors the same way, and the type
functions below (``int_at_least(1)``, ...) check numbers while the command line is parsed,
before anything is built.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

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


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` parser whose errors are :class:`UserError` (one line, status 2) and which
    has ``--debug``."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self.add_argument(DEBUG_FLAG, action="store_true", help="show the full traceback of an error")

    def error(self, message: str):
        raise UserError(f"{message} (see {self.prog} --help)")


# -------------------------------------------------------------------------------------------------
# Argument types: checked while parsing, so a bad number stops the command before any work
# -------------------------------------------------------------------------------------------------
def int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got '{text}'") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def float_above(minimum: float) -> Callable[[str], float]:
    """argparse type: a finite number > ``minimum``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number > {minimum:g}, got '{text}'") from None
        if not value > minimum or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a finite number > {minimum:g}, got {text}")
        return value

    parse.__name__ = f"number > {minimum:g}"
    return parse


def existing_path(text: str) -> str:
    """argparse type: a file or folder that exists."""
    if not Path(text).expanduser().exists():
        raise argparse.ArgumentTypeError(f"no such file or folder: {text}")
    return text


def require_path(path: str | Path, what: str) -> Path:
    """``path`` as a Path; UserError naming ``what`` when it does not exist."""
    p = Path(path).expanduser()
    if not p.exists():
        raise UserError(f"{what}: no such file or folder: {path}")
    return p


# -------------------------------------------------------------------------------------------------
# Quiet start-up: two known harmless messages on CPU machines are kept out, nothing else
# -------------------------------------------------------------------------------------------------
_WARP_NO_DRIVER = "Could not find or load the NVIDIA CUDA driver"


@contextmanager
def _stderr_without(fragment: str):
    """Run the block with file descriptor 2 captured, then pass on every captured line that
    does not contain ``fragment`` (for messages native code prints directly)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.read().decode(errors="replace").splitlines(True) if fragment not in line]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def quiet_startup() -> None:
    """Keep out Warp's 'no CUDA driver' warning (on machines without an NVIDIA driver, where
    the CPU is used anyway) and Newton's FutureWarning about its shape-colour workaround."""
    warnings.filterwarnings("ignore", message=r".*Newton shape color replacement.*", category=FutureWarning)
    import torch

    if torch.cuda.is_available():
        return
    import warp as wp

    wp.config.quiet = True  # as Isaac Lab initialises it
    with _stderr_without(_WARP_NO_DRIVER):
        wp.init()

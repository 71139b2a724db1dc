"""Argument parsing that reports like the rest of the package: a parser whose errors are
:class:`~intermimic.utils.errors.UserError` (one line, exit status 2) and which has ``--debug``,
and type functions (``int_at_least(1)``, ...) that check numbers and paths while the command line
is parsed, before anything is built."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from .errors import DEBUG_FLAG, UserError


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


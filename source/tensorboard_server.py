"""Start TensorBoard on the training logs.

    ./intermimic.sh tensorboard [--logdir logs/rsl_rl] [--port 6006] [other TensorBoard options]

Same as the ``tensorboard`` command, except that a TensorBoard plugin that cannot be imported
is left out with a note instead of stopping TensorBoard. (open3d, installed with Isaac Lab,
registers a plugin that needs the system library ``libusb-1.0``; on machines without it the
plain ``tensorboard`` command fails with ``ImportError: libusb-1.0.so.0``.) The file is not
called ``tensorboard.py``: it would shadow the ``tensorboard`` package it imports.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "exts"))

from intermimic.utils.errors import log  # noqa: E402

DEFAULT_LOGDIR = os.path.join("logs", "rsl_rl")


def loadable_plugins() -> tuple[list, list[str]]:
    """TensorBoard's built-in plugins plus every installed plugin that imports; and a note per
    plugin left out."""
    from importlib.metadata import entry_points

    from tensorboard import default

    plugins, skipped = list(default.get_static_plugins()), []
    for entry in entry_points(group="tensorboard_plugins"):
        try:
            plugins.append(entry.load())
        except Exception as exc:  # a third-party plugin failing to import must not stop TensorBoard
            skipped.append(f"plugin '{entry.name}' ({entry.value.split(':')[0]}) left out: {type(exc).__name__}: {exc}")
    return plugins, skipped


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not any(a == "--logdir" or a.startswith("--logdir=") or a.startswith("--logdir_spec") for a in args):
        args = ["--logdir", DEFAULT_LOGDIR, *args]
    from absl import app
    from tensorboard import main_lib, program

    plugins, skipped = loadable_plugins()
    for note in skipped:
        log(f"TensorBoard {note}")
    main_lib.global_init()
    board = program.TensorBoard(plugins=plugins)
    sys.argv = ["tensorboard", *args]
    app.run(board.main, flags_parser=board.configure)


if __name__ == "__main__":
    main()

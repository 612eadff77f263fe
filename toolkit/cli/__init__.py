"""The command line: ``python -m toolkit train|sample|eval ...`` (``--help`` on each lists everything).

One module per command, each with its ``NAME``, ``add_parser(sub, argv)`` (its flags, next to its body) and
``run(args) -> int``; ``COMMANDS`` lists them in the order ``python -m toolkit`` shows them. Adding a command
is one new module and one line in ``COMMANDS``. What several commands share is in ``arguments.py``.

Bad input ends with exit status 2 and one line, ``error: <what is wrong and how to fix it>``. Ctrl-C or
SIGTERM: ``train`` finishes its step and checkpoints (exit 0); every other command stops at once, leaves no
partial output (``toolkit/outputs.py``) and ends with one line and exit status 128 + the signal's number
(``stopping.py``).
"""

from __future__ import annotations

import argparse
import signal
import sys

from ..errors import ToolkitError
from . import (
    augment_dataset,
    bench,
    directions,
    edit,
    eval,
    project,
    report,
    sample,
    stylize,
    train,
    translate,
    upscale,
)
from .arguments import OneLineParser
from .stopping import stop_on_signal

COMMANDS = [
    train,
    sample,
    eval,
    translate,
    upscale,
    stylize,
    project,
    directions,
    edit,
    report,
    augment_dataset,
    bench,
]


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """Every command's parser; ``argv`` (default: this process's) picks the model whose flags train shows."""
    parser = OneLineParser(
        prog="python -m toolkit", description="GAN lessons toolkit: train GANs and use them."
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in COMMANDS:
        command.add_parser(sub, sys.argv[1:] if argv is None else argv)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser(argv)
    if not (sys.argv[1:] if argv is None else argv):  # `python -m toolkit` alone: what it can do
        print(parser.format_help(), file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    command = next(c for c in COMMANDS if c.NAME == args.command)
    try:
        if command is train:  # its own stop: the step finishes, a checkpoint is written
            return train.run(args)
        with stop_on_signal():
            return command.run(args)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(
            f"stopped by {name}: {args.command} did not finish, and left no partial output", file=sys.stderr
        )
        return 128 + signum

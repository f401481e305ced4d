"""The ``rosim`` command line: ``rosim COMMAND [ARGS...]`` or ``python -m rosim``.

Each command lives in its own module of this package and exposes
``register(subparsers)``, which adds its sub-parser and sets ``func`` to a
callable taking the parsed arguments and returning the exit status. The
command line is a thin layer over the library: everything it prints comes
from functions that are tested on their own.

Exit statuses follow the usual convention: 0 success, 1 a finding or a
failed command, 2 bad usage or bad input.

>>> main(["--version"])
rosim 0.1.0
0
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["main"]

#: The modules of this package that provide a command, in the order the
#: help lists them. A module that is not present is skipped.
COMMANDS: tuple[str, ...] = ("check", "shell", "demo")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rosim")
    except PackageNotFoundError:
        return "0.1.0"


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per command in ``COMMANDS``."""
    parser = argparse.ArgumentParser(
        prog="rosim",
        description="Simulated containers with a read-only root file system.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"rosim.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rosim`` command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status; argparse's own usage errors exit with status 2.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"rosim {_version()}")
        return 0
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    return int(func(args))

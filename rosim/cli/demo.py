"""``rosim demo``: replay the CRI-O ``--read-only`` demo and print the terminal.

``rosim demo --read-only`` starts ``crio --read-only``, runs the sample pod
and the Fedora container with ``crictl``, opens a shell in it and runs
``dnf install nc``, which fails on ``/var/log/dnf.log``; without
``--read-only`` the install succeeds. ``--command`` runs another command
line in the container instead.
"""

from __future__ import annotations

import argparse

from rosim.cri.server import replay_demo

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``rosim demo`` to the command line."""
    parser = subparsers.add_parser(
        "demo", help="replay the CRI-O --read-only demo",
        description="Replay the CRI-O --read-only blog demo and print the terminal.")
    parser.add_argument("--read-only", action="store_true",
                        help="start crio with --read-only (dnf install then fails)")
    parser.add_argument("--command", default="dnf install nc",
                        help="the command line run in the container (default: dnf install nc)")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    print(replay_demo(args.read_only, args.command).transcript, end="")
    return 0

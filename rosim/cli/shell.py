"""``rosim shell``: an interactive shell in a simulated container.

``rosim shell --image fedora --runtime cri-o --read-only`` starts the
container and reads command lines at its prompt, as ``crictl exec -it CTR
sh`` would: readline editing and history (↑/↓), ``> `` for a command that
continues on the next line, Ctrl-C to drop the line being typed, ``exit``
or Ctrl-D to leave. The exit status is the shell's last ``$?``. With
standard input not a terminal, the lines are read without prompts, as
``sh`` reads a script.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from rosim._errors import RosimError
from rosim.shell.console import RUNTIMES, Console, run_container

__all__ = ["interact", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``rosim shell`` to the command line."""
    parser = subparsers.add_parser(
        "shell", help="open a shell in a simulated container",
        description="Start a simulated container and type commands at its prompt.")
    parser.add_argument("--image", default="fedora",
                        help="built-in image or reference (default: fedora)")
    parser.add_argument("--runtime", default="cri-o", choices=RUNTIMES,
                        help="container runtime (default: cri-o)")
    parser.add_argument("--read-only", action="store_true",
                        help="read-only root file system (CRI-O: the global --read-only flag)")
    parser.add_argument("--name", default=None, help="container name")
    parser.add_argument("--login", action="store_true",
                        help="a login shell: read /etc/profile.d/*.sh first")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    try:
        ctr = run_container(args.image, args.runtime, args.read_only, args.name)
        console = Console(ctr, login=args.login)
    except RosimError as exc:
        print(f"rosim shell: {exc}", file=sys.stderr)
        return 2
    return interact(console, sys.stdin, sys.stdout, sys.stderr)


def interact(console: Console, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Read lines from ``stdin`` into ``console`` until ``exit`` or end of input.

    On a terminal, prompts are shown and readline edits the line; the
    result is the last command's exit status.
    """
    tty = stdin.isatty() and stdout.isatty()
    if tty:
        import readline  # noqa: F401 - line editing and history for input()

        print(f"rosim: {console.identity}. Type exit or press Ctrl-D to leave.", file=stdout)
    _write(console.session.startup.output, stdout, stderr)
    status = 0
    while True:
        try:
            if tty:
                line = input(console.prompt)
            else:
                line = stdin.readline()
                if not line:
                    raise EOFError
                line = line.rstrip("\n")
        except EOFError:
            if console.pending:
                print("sh: syntax error: unexpected end of file", file=stderr)
                return 2
            if tty:
                print("exit", file=stdout)
            return status
        except KeyboardInterrupt:
            print("^C", file=stdout)
            console.cancel()
            status = 130
            continue
        try:
            result = console.feed(line)
        except RosimError as exc:
            print(f"rosim shell: {exc}", file=stderr)
            return 1
        if result is None:
            continue
        _write(result.output, stdout, stderr)
        status = result.status
        if console.exited:
            return status


def _write(output: tuple[tuple[str, str], ...], stdout: TextIO, stderr: TextIO) -> None:
    for stream, text in output:
        target = stderr if stream == "stderr" else stdout
        target.write(text)
        target.flush()

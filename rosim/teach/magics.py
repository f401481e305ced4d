"""IPython magics: run simulated containers and type into their shells from a notebook.

Load them with ``%load_ext rosim``; then::

    %rosim run fedora --runtime cri-o --read-only --name web
    %rosim ps

and, in a cell of its own, the lines of a shell session in ``web``::

    %%rosim_sh web
    cd /tmp
    dnf install nc
    echo "status $?"

The cell shows a terminal transcript (prompt, command, output; errors in
colour in JupyterLab, plain text for ``nbval``). Each container keeps one
shell session, so the directory, the variables and ``$?`` carry over from
cell to cell. ``%rosim terminal web`` shows the :class:`~rosim.Terminal`
widget on the same session's container. Mistakes (an unknown image, a
missing name) print a one-line usage error, never a traceback.

The registry behind the magics is :class:`Workbench`; tests and code can
use it directly.

>>> bench = Workbench()
>>> len(bench.command("run busybox --runtime podman --read-only --name demo"))  # id + newline
65
>>> print(bench.shell("demo", "touch /x; echo $?"), end="")
/ # touch /x; echo $?
touch: cannot touch '/x': Read-only file system
1
"""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING, Any

from rosim._bounds import check_type
from rosim._errors import ConfigError, RosimError
from rosim.shell.console import RUNTIMES, Console, run_container
from rosim.shell.result import Transcript

if TYPE_CHECKING:
    from rosim.runtime.container import Container
    from rosim.runtime.runtime import Runtime

__all__ = ["MagicUsageError", "Workbench", "load_ipython_extension"]


class MagicUsageError(ConfigError):
    """A ``%rosim`` line that cannot be understood (bad option, unknown container)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit the kernel
        raise MagicUsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="%rosim", add_help=False)
    sub = parser.add_subparsers(dest="verb", metavar="{run,ps,stop,start,rm,terminal}")
    run = sub.add_parser("run", prog="%rosim run", add_help=False,
                         help="create and start a container")
    run.add_argument("image")
    run.add_argument("--runtime", default="cri-o", choices=RUNTIMES)
    run.add_argument("--read-only", action="store_true")
    run.add_argument("--name")
    sub.add_parser("ps", prog="%rosim ps", add_help=False)
    for verb in ("stop", "start", "rm", "terminal"):
        p = sub.add_parser(verb, prog=f"%rosim {verb}", add_help=False)
        p.add_argument("name")
    return parser


class Workbench:
    """The containers the magics started, by name, each with its shell session."""

    def __init__(self) -> None:
        self.containers: dict[str, Container] = {}
        self.consoles: dict[str, Console] = {}
        self._hosts: dict[tuple[str, bool], Runtime] = {}

    def container(self, name: str) -> Container:
        """The container called ``name``; raises :class:`MagicUsageError` if there is none."""
        try:
            return self.containers[name]
        except KeyError:
            known = ", ".join(sorted(self.containers)) or "none yet"
            raise MagicUsageError(
                f"name(={name!r}) is not a container started with %rosim run "
                f"(running: {known}).") from None

    def console(self, name: str) -> Console:
        """The shell session of container ``name`` (opened on first use)."""
        ctr = self.container(name)
        console = self.consoles.get(name)
        if console is None or console.container is not ctr:
            console = self.consoles[name] = Console(ctr)
        return console

    def command(self, line: str) -> str:
        """Run one ``%rosim`` line; return what it prints."""
        try:
            args = _parser().parse_args(shlex.split(line))
        except ValueError as exc:
            raise MagicUsageError(f"%rosim: {exc}") from None
        if args.verb == "run":
            if args.name in self.containers:
                raise MagicUsageError(f"name(={args.name!r}) is already used; %rosim rm "
                                      f"{args.name} first.")
            ctr = run_container(args.image, args.runtime, args.read_only, args.name,
                                hosts=self._hosts)
            self.containers[ctr.name] = ctr
            self.consoles.pop(ctr.name, None)
            return ctr.id + "\n"
        if args.verb == "ps":
            return self.ps()
        if args.verb in ("stop", "start", "rm"):
            ctr = self.container(args.name)
            if args.verb == "stop":
                ctr.stop()
            elif args.verb == "start":
                ctr.start()
            else:
                ctr.remove(force=True)
                del self.containers[args.name]
            self.consoles.pop(args.name, None)
            return args.name + "\n"
        raise MagicUsageError("%rosim: usage: %rosim {run IMAGE [--runtime R] [--read-only] "
                              "[--name N] | ps | stop N | start N | rm N | terminal N}")

    def ps(self) -> str:
        """The containers as ``podman ps -a`` lists them, with runtime and root mode."""
        rows = [("CONTAINER ID", "IMAGE", "STATUS", "RUNTIME", "ROOT", "NAMES")]
        for name, ctr in self.containers.items():
            status = {"running": "Up", "created": "Created"}.get(
                str(ctr.state), f"Exited ({ctr.exit_code or 0})")
            rows.append((ctr.id[:12], ctr.image.name, status, str(ctr.runtime.profile),
                         "read-only" if ctr.read_only else "read-write", name))
        widths = [max(len(r[i]) for r in rows) + 3 for i in range(5)]
        return "".join("".join(f"{c:<{widths[i]}}" for i, c in enumerate(r[:5])) + r[5] + "\n"
                       for r in rows)

    def shell(self, name: str, cell: str) -> Transcript:
        """Run the lines of ``cell`` in container ``name``'s session; return the transcript."""
        return self.console(name).run_lines(cell)


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%rosim`` and ``%%rosim_sh`` (called by ``%load_ext rosim``)."""
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    check_type(ipython, "ipython", InteractiveShell, "an IPython shell (get_ipython())")
    from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

    bench = Workbench()

    @magics_class
    class RosimMagics(Magics):
        """``%rosim run|ps|stop|start|rm|terminal`` and ``%%rosim_sh NAME``."""

        workbench = bench

        @line_magic
        def rosim(self, line: str) -> Any:
            """``%rosim run IMAGE [--runtime R] [--read-only] [--name N]``, ``%rosim ps``..."""
            try:
                try:
                    words = shlex.split(line)
                except ValueError as exc:
                    raise MagicUsageError(f"%rosim: {exc}") from None
                if words[:1] == ["terminal"] and len(words) == 2:
                    from rosim.teach.terminal import terminal

                    return terminal(bench.container(words[1]))
                print(bench.command(line), end="")
            except RosimError as exc:
                raise UsageError(str(exc)) from None
            return None

        @cell_magic
        def rosim_sh(self, line: str, cell: str) -> Transcript:
            """Run the cell's lines in container NAME's shell session, as typed at its prompt."""
            name = line.strip()
            if not name:
                raise UsageError("%%rosim_sh: name the container: %%rosim_sh NAME")
            try:
                return bench.shell(name, cell)
            except RosimError as exc:
                raise UsageError(str(exc)) from None

    ipython.register_magics(RosimMagics)

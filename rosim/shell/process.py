"""Processes as the shell starts them: programs, their streams, and the exec rules.

A program is a Python function registered with :func:`program` under the
name its file in the image carries (``\\x7fELF...rosim-program: NAME``); a
builtin is registered with :func:`builtin`. Each receives a :class:`Proc`:
its arguments, standard input (:class:`StdinStream`), output streams and
environment. :func:`exec_check` applies the kernel's rules for ``execve``
(a missing file, no execute bit, a ``noexec`` mount), and the loader's
``/etc/ld.so.preload`` and an implant's payload run before ``main``.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rosim.shell.interp import Shell

__all__ = ["PIPE_LIMIT", "SIGPIPE_STATUS", "BrokenPipe", "Proc", "ShellExit", "StdinStream",
           "builtin", "exec_check", "program", "programs", "run_file"]

_MARKER = b"rosim-program: "

Program = Callable[["Proc"], int]
_PROGRAMS: dict[str, Program] = {}
_BUILTINS: dict[str, Program] = {}


def program(name: str) -> Callable[[Program], Program]:
    """Register a function as the implementation of executable ``name``."""
    def register(func: Program) -> Program:
        _PROGRAMS[name] = func
        return func
    return register


def builtin(*names: str) -> Callable[[Program], Program]:
    """Register a shell builtin (found without a file in the image)."""
    def register(func: Program) -> Program:
        for name in names:
            _BUILTINS[name] = func
        return func
    return register


def programs() -> list[str]:
    """Names of the programs rosim implements (their files must be in the image)."""
    _load()
    return sorted(_PROGRAMS)


def _load() -> None:
    from rosim.shell import (  # noqa: F401
        awk,
        builtins,
        coreutils,
        packages,
        python,
        sysutils,
        textutils,
        tools,
    )


class ShellExit(Exception):
    """Raised by the ``exit`` builtin to end the shell with a status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Crash(ShellExit):
    """The shell process died (busybox sh out of stack: SIGSEGV, status 139)."""


class BrokenPipe(ShellExit):
    """SIGPIPE: the process wrote to a pipe whose reader is gone; it ends with 141."""


class _Abort(Exception):
    """A fatal error in a non-interactive shell: the rest of the input is skipped."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Break(Exception):
    def __init__(self, levels: int) -> None:
        super().__init__(levels)
        self.levels = levels


class _Continue(_Break):
    pass


class _Return(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class StdinStream:
    """A process's standard input: text read at most once, shared by its readers.

    ``read`` builtins take it line by line; a program that reads its input
    (``cat``) takes the rest, so ``while read l; do ...; done < f`` sees
    each line once.
    """

    def __init__(self, text: str = "") -> None:
        self.text = text
        self.pos = 0

    def read(self) -> str:
        """Everything not read yet."""
        rest = self.text[self.pos:] if self.pos else self.text
        self.pos = len(self.text)
        return rest

    def readline(self) -> str:
        """The next line with its newline ('' at the end)."""
        end = self.text.find("\n", self.pos)
        end = len(self.text) if end < 0 else end + 1
        line = self.text[self.pos:end]
        self.pos = end
        return line


#: What a pipe between two stages holds before its writer is ended with
#: SIGPIPE. The stages run in turn, so the pipe keeps all the writer's output
#: for its reader (a real pipe holds 64 KiB and blocks the writer); a writer
#: that never stops (``yes``, ``cat /dev/zero``) ends here, as it would once a
#: real reader such as ``head`` exits.
PIPE_LIMIT = 16 * 1024 * 1024
#: A writer killed by SIGPIPE exits with 128 + 13.
SIGPIPE_STATUS = 141


class _Sink:
    """Where a stream goes: the terminal, a file, or a pipe buffer."""

    def __init__(self, output: list[tuple[str, str]] | None, stream: str,
                 handle: io.TextIOBase | None = None, limit: int | None = None) -> None:
        self.output = output
        self.stream = stream
        self.handle = handle
        self.buffer = io.StringIO()
        self.limit = limit

    def write(self, text: str) -> None:
        if not text:
            return
        if self.handle is not None:
            try:
                self.handle.write(text)
            except UnicodeEncodeError:
                # Bytes that are not UTF-8 (read from /dev/urandom) go out as they came.
                self.handle.flush()
                self.handle.buffer.write(  # type: ignore[attr-defined]
                    text.encode("utf-8", "surrogateescape"))
        elif self.output is not None:
            if not text.isascii() and type(self.output) is list:
                text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            self.output.append((self.stream, text))
        else:
            if self.limit is not None and self.buffer.tell() >= self.limit:
                raise BrokenPipe(SIGPIPE_STATUS)
            self.buffer.write(text)


@dataclass
class _IO:
    stdin: StdinStream
    out: _Sink
    err: _Sink


@dataclass
class Proc:
    """What a program receives: arguments, input, output streams, environment.

    ``source`` is the standard input stream; :attr:`stdin` reads all of it
    (once) as a str.
    """

    argv: list[str]
    source: StdinStream | str
    stdout: _Sink
    stderr: _Sink
    shell: Shell
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.source, str):
            self.source = StdinStream(self.source)
        self._stdin: str | None = None

    @property
    def stdin(self) -> str:
        """The rest of standard input, read on first use."""
        if self._stdin is None:
            assert isinstance(self.source, StdinStream)
            self._stdin = self.source.read()
        return self._stdin

    @property
    def name(self) -> str:
        """The program name as invoked (``argv[0]`` without its directory)."""
        return os.path.basename(self.argv[0])

    def out(self, text: str) -> None:
        """Write ``text`` to standard output."""
        self.stdout.write(text)

    def err(self, text: str) -> None:
        """Write ``text`` to standard error."""
        self.stderr.write(text)

    def fail(self, message: str, status: int = 1) -> int:
        """Print ``name: message`` on standard error and return ``status``."""
        self.err(f"{self.name}: {message}\n")
        return status


_PAYLOAD = b"rosim-payload: "


def _marker(head: bytes, marker: bytes) -> str | None:
    index = head.find(marker)
    if index < 0:
        return None
    return head[index + len(marker):].split(b"\n")[0].decode(errors="replace")


def _payload(proc: Proc, command: str) -> None:
    """Run code an implant carries (a shell command line) inside the process."""
    child = proc.shell.child(proc.shell.name, [], proc.env)
    if child is None:
        proc.shell.fork_failed(proc)
        return
    proc.shell.run_child(child, command, Proc(proc.argv, "", proc.stdout, proc.stderr,
                                              proc.shell, proc.env))


def _preload_libraries(proc: Proc) -> None:
    """ld.so: load every library named in /etc/ld.so.preload before ``main``."""
    try:
        with open("/etc/ld.so.preload") as f:
            names = f.read().split()
    except OSError:
        return
    for name in names:
        try:
            with open(name, "rb") as lib:
                head = lib.read(4096)
        except OSError:
            proc.err(f"ERROR: ld.so: object '{name}' from /etc/ld.so.preload cannot be "
                     "preloaded (cannot open shared object file): ignored.\n")
            continue
        if os.statvfs(name).f_flag & os.ST_NOEXEC:
            # mmap(PROT_EXEC) of a file on a noexec mount fails with EPERM.
            proc.err(f"ERROR: ld.so: object '{name}' from /etc/ld.so.preload cannot be "
                     "preloaded (failed to map segment from shared object): ignored.\n")
            continue
        payload = _marker(head, _PAYLOAD)
        if payload is not None:
            _payload(proc, payload)


def run_file(shell: Shell, path: str, proc: Proc) -> int:
    """Execute the file at ``path`` as the kernel would: an ELF program, a script, a shebang."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"\x7fELF"):
        # The dynamic loader runs first: /etc/ld.so.preload, then any
        # payload linked into the binary, then the program itself.
        _preload_libraries(proc)
        payload = _marker(head, _PAYLOAD)
        if payload is not None:
            _payload(proc, payload)
        name = _marker(head, _MARKER)
        if name is not None and name in _PROGRAMS:
            try:
                return _PROGRAMS[name](proc)
            except OSError as exc:
                return proc.fail(os.strerror(exc.errno or 0))
        if payload is not None:
            return 0
        proc.err(f"{shell.name}: {proc.argv[0]}: cannot execute binary file: "
                 "Exec format error\n")
        return 126
    text = head.decode(errors="replace")
    if text.startswith("#!"):
        interpreter = text[2:].split("\n")[0].split()
        if interpreter and interpreter[0] == "/usr/bin/env" and len(interpreter) > 1:
            interpreter = interpreter[1:]
        if interpreter and not os.path.exists(interpreter[0]) and text[2:3] != " " and (
            interpreter[0].startswith("/")
        ):
            proc.err(f"{shell.name}: {path}: {interpreter[0]}: bad interpreter: "
                     "No such file or directory\n")
            return 126
        if interpreter and os.path.basename(interpreter[0]) not in ("sh", "bash", "dash"):
            argv = [*interpreter, path, *proc.argv[1:]]
            sub = Proc(argv, proc.stdin, proc.stdout, proc.stderr, shell, proc.env)
            return shell.execute(sub)
    with open(path) as handle:
        script = handle.read()
    child = shell.child(path, proc.argv[1:], proc.env)
    if child is None:
        return shell.fork_failed(proc)
    return shell.run_child(child, script, proc)


def exec_check(path: str) -> tuple[int, str]:
    """What ``execve`` says about ``path``: (status, message) or (0, '') if it may run.

    Follows the kernel: a missing file is ENOENT (127), a directory EACCES
    ("Is a directory" in bash, 126), a file without an execute bit or on a
    ``noexec`` mount EACCES ("Permission denied", 126).
    """
    from rosim.fs.kernel import kernel

    k = kernel()
    try:
        with k.syscall("execve", path) as call:
            st = os.stat(path)
            node = k.resolve(path)
            call.dev = node.st_dev
            if stat.S_ISDIR(st.st_mode) or not st.st_mode & 0o111:
                raise OSError(13, os.strerror(13), path)
            mount = k.mount_of(node)
            if mount is not None and mount.options.noexec:
                raise OSError(13, os.strerror(13), path)
    except OSError as exc:
        if exc.errno == 13 and stat.S_ISDIR(os.stat(path).st_mode):
            return 126, "Is a directory"
        return (126 if exc.errno == 13 else 127), os.strerror(exc.errno or 2)
    return 0, ""

"""Running parsed command lines inside a container, as ``sh`` would.

A :class:`Shell` executes inside ``Container.run``, so every file it or its
programs touch goes through the simulated kernel. It follows bash in
``sh`` mode for the messages and exit codes a learner sees::

    sh: foo: command not found            (127)
    sh: /tmp/x: Permission denied         (126, not executable or noexec mount)
    sh: /etc/x: Read-only file system     (1, a failed redirection)
"""

from __future__ import annotations

import glob
import io
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from rosim.shell.parser import Command, ListItem, ShellSyntaxError, Word, parse

__all__ = ["DEFAULT_PATH", "Proc", "Shell", "ShellExit", "builtin", "program",
           "programs"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
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
    from rosim.shell import builtins, coreutils, packages, python, tools  # noqa: F401


class ShellExit(Exception):
    """Raised by the ``exit`` builtin to end the shell with a status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _Sink:
    """Where a stream goes: the terminal, a file, or a pipe buffer."""

    def __init__(self, output: list[tuple[str, str]] | None, stream: str,
                 handle: io.TextIOBase | None = None) -> None:
        self.output = output
        self.stream = stream
        self.handle = handle
        self.buffer = io.StringIO()

    def write(self, text: str) -> None:
        if not text:
            return
        if self.handle is not None:
            self.handle.write(text)
        elif self.output is not None:
            self.output.append((self.stream, text))
        else:
            self.buffer.write(text)


@dataclass
class Proc:
    """What a program receives: arguments, input, output streams, environment."""

    argv: list[str]
    stdin: str
    stdout: _Sink
    stderr: _Sink
    shell: Shell
    env: dict[str, str] = field(default_factory=dict)

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


class Shell:
    """A shell session inside a container: variables, cwd, last status."""

    def __init__(self, env: dict[str, str] | None = None, name: str = "sh",
                 args: list[str] | None = None, cwd: str | None = None) -> None:
        _load()
        self.env = {"PATH": DEFAULT_PATH, "HOME": "/root", "USER": "root", "SHELL": "/bin/sh"}
        self.env.update(env or {})
        #: Variables passed to programs; ``NAME=value`` alone sets a shell
        #: variable that programs do not see until ``export NAME``.
        self.exported = set(self.env)
        self.name = name
        self.args = args or []
        self.status = 0
        self.cwd: str | None = cwd
        #: Set when the ``exit`` builtin ended this shell.
        self.exited = False

    # ----------------------------------------------------------- running
    def run(self, line: str, output: list[tuple[str, str]], stdin: str = "") -> int:
        """Run ``line``; append ``(stream, text)`` pairs to ``output``; return status."""
        try:
            items = parse(line)
        except ShellSyntaxError as exc:
            output.append(("stderr", f"{self.name}: {exc.shell_message}\n"))
            self.status = 2
            return 2
        # A shell has its own working directory: a child's cd leaves ours alone.
        outer_cwd = os.getcwd()
        if self.cwd is None:
            self.cwd = outer_cwd
        try:
            os.chdir(self.cwd)
        except OSError:
            pass
        try:
            for item in items:
                if item.connector == "&&" and self.status != 0:
                    continue
                if item.connector == "||" and self.status == 0:
                    continue
                self.status = self._pipeline(item, output, stdin)
        except ShellExit as done:
            self.status = done.status
            self.exited = True
        finally:
            self.cwd = os.getcwd()
            try:
                os.chdir(outer_cwd)
            except OSError:
                pass
        return self.status

    def exec_argv(self, argv: list[str], output: list[tuple[str, str]], stdin: str = "") -> int:
        """Run one program from ``argv`` without shell parsing (``crictl exec``).

        A program that cannot start gets the OCI runtime's message, as
        ``crictl exec`` shows it.
        """
        proc = Proc(argv, stdin, _Sink(output, "stdout"), _Sink(output, "stderr"), self,
                    dict(self.env))
        prefix = "exec failed: unable to start container process: exec: "
        if "/" not in argv[0] and argv[0] not in _BUILTINS:
            if self._search(argv[0], self.env["PATH"]) is None:
                proc.err(f'{prefix}"{argv[0]}": executable file not found in $PATH\n')
                return 127
        elif "/" in argv[0]:
            status, message = exec_check(argv[0])
            if message:
                reason = (f"stat {argv[0]}: no such file or directory" if status == 127
                          else "is a directory" if message == "Is a directory"
                          else "permission denied")
                proc.err(f'{prefix}"{argv[0]}": {reason}\n')
                return status
        try:
            return self.execute(proc)
        except ShellExit as done:
            return done.status

    def _pipeline(self, item: ListItem, output: list[tuple[str, str]], stdin: str) -> int:
        data = stdin
        status = 0
        commands = item.pipeline
        for i, command in enumerate(commands):
            last = i == len(commands) - 1
            out = _Sink(output, "stdout") if last else _Sink(None, "stdout")
            status = self._command(command, data, out, _Sink(output, "stderr"))
            data = "" if last else out.buffer.getvalue()
        return status

    # ----------------------------------------------------------- expansion
    def _var(self, name: str) -> str:
        if name == "?":
            return str(self.status)
        if name == "#":
            return str(len(self.args))
        if name == "0":
            return self.name
        if name.isdigit():
            index = int(name) - 1
            return self.args[index] if 0 <= index < len(self.args) else ""
        return self.env.get(name, "")

    def expand(self, word: Word) -> list[str]:
        """Expand variables and globs in one word; unquoted values are split."""
        fields: list[str] = [""]
        globbing = False
        quoted = False
        for part in word.parts:
            if part[0] == "var":
                value = self._var(part[1])
                if part[2]:
                    quoted = True
                    fields[-1] += value
                else:
                    pieces = value.split()
                    if not pieces:
                        continue
                    fields[-1] += pieces[0]
                    fields.extend(pieces[1:])
            else:
                text = part[1]
                if part[0] != "lit":
                    quoted = True
                else:
                    if any(ch in text for ch in "*?["):
                        globbing = True
                    if fields == [""] and (text == "~" or text.startswith("~/")):
                        text = self.env.get("HOME", "/root") + text[1:]
                fields[-1] += text
        if globbing and len(fields) == 1:
            matches = sorted(glob.glob(fields[0]))
            if matches:
                return matches
        if fields == [""] and not quoted:
            return []
        return fields

    # ----------------------------------------------------------- commands
    def _command(self, command: Command, stdin: str, out: _Sink, err: _Sink) -> int:
        for name, value in command.assignments:
            if not command.words:
                self.env[name] = " ".join(self.expand(value))
        argv = [f for w in command.words for f in self.expand(w)]
        env = {k: v for k, v in self.env.items() if k in self.exported}
        for name, value in command.assignments:
            env[name] = " ".join(self.expand(value))
        handles: list[io.TextIOBase] = []
        try:
            for redirect in command.redirects:
                target = " ".join(self.expand(redirect.target))
                if redirect.op == ">&":
                    if redirect.fd == 2:
                        err = out if target == "1" else err
                    else:
                        out = err if target == "2" else out
                    continue
                try:
                    if redirect.op == "<":
                        with open(target) as handle:
                            stdin = handle.read()
                        continue
                    handle = open(target, "a" if redirect.op == ">>" else "w")  # noqa: SIM115
                except OSError as exc:
                    err.write(f"{self.name}: {target}: {os.strerror(exc.errno or 0)}\n")
                    return 1
                handles.append(handle)
                sink = _Sink(None, "file", handle)
                if redirect.fd == 2:
                    err = sink
                else:
                    out = sink
            if not argv:
                return 0
            proc = Proc(argv, stdin, out, err, self, env)
            return self.execute(proc)
        finally:
            for handle in handles:
                try:
                    handle.close()
                except OSError as exc:
                    err.write(f"{self.name}: write error: {os.strerror(exc.errno or 0)}\n")

    def execute(self, proc: Proc) -> int:
        """Run ``proc.argv``: a builtin, or an executable found as the kernel would."""
        name = proc.argv[0]
        if "/" not in name and name in _BUILTINS:
            return _BUILTINS[name](proc)
        path = name if "/" in name else self._search(name, proc.env.get("PATH", ""))
        if path is None:
            proc.err(f"{self.name}: {name}: command not found\n")
            return 127
        status, message = exec_check(path)
        if message:
            proc.err(f"{self.name}: {name}: {message}\n")
            return status
        from rosim.fs.kernel import kernel
        from rosim.runtime.patching import close_leftovers, open_file_ids

        k = kernel()
        opened_before = open_file_ids(k)
        try:
            return self._run_file(path, proc)
        finally:
            # The program exits: the files it left open are flushed and closed.
            close_leftovers(k, opened_before, None)

    @staticmethod
    def _preload(proc: Proc) -> None:
        _preload_libraries(proc)

    @staticmethod
    def _search(name: str, path_var: str) -> str | None:
        for directory in path_var.split(":"):
            candidate = os.path.join(directory or ".", name)
            if os.path.isfile(candidate):
                return candidate
        return None

    def _run_file(self, path: str, proc: Proc) -> int:
        with open(path, "rb") as handle:
            head = handle.read(4096)
        if head.startswith(b"\x7fELF"):
            # The dynamic loader runs first: /etc/ld.so.preload, then any
            # payload linked into the binary, then the program itself.
            self._preload(proc)
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
            proc.err(f"{self.name}: {proc.argv[0]}: cannot execute binary file: "
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
                proc.err(f"{self.name}: {path}: {interpreter[0]}: bad interpreter: "
                         "No such file or directory\n")
                return 126
            if interpreter and os.path.basename(interpreter[0]) not in ("sh", "bash", "dash"):
                argv = [*interpreter, path, *proc.argv[1:]]
                sub = Proc(argv, proc.stdin, proc.stdout, proc.stderr, self, proc.env)
                return self.execute(sub)
        with open(path) as handle:
            script = handle.read()
        child = Shell(proc.env, name=path, args=proc.argv[1:])
        output: list[tuple[str, str]] = []
        status = child.run(script, output, proc.stdin)
        for stream, chunk in output:
            (proc.stderr if stream == "stderr" else proc.stdout).write(chunk)
        return status


_PAYLOAD = b"rosim-payload: "


def _marker(head: bytes, marker: bytes) -> str | None:
    index = head.find(marker)
    if index < 0:
        return None
    return head[index + len(marker):].split(b"\n")[0].decode(errors="replace")


def _payload(proc: Proc, command: str) -> None:
    """Run code an implant carries (a shell command line) inside the process."""
    child = Shell(proc.env, name=proc.shell.name)
    output: list[tuple[str, str]] = []
    child.run(command, output)
    for stream, text in output:
        (proc.stderr if stream == "stderr" else proc.stdout).write(text)


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

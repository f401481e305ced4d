"""Running shell scripts inside a container, as ``sh`` would.

A :class:`Shell` executes inside ``Container.run``, so every file it or its
programs touch goes through the simulated kernel. It speaks one of two
dialects, chosen by the image: ``busybox`` (busybox ``ash``, in an image
with ``/bin/busybox`` and no bash: busybox, Alpine) or ``bash`` (bash in
``sh`` mode, as Fedora's ``/bin/sh`` is; every other image). The messages
and exit codes follow them::

    sh: foo: command not found            (bash, 127)    sh: foo: not found (busybox)
    sh: /tmp/x: Permission denied         (126, not executable or noexec mount)
    sh: /etc/x: Read-only file system     (1, a failed redirection; busybox:
                                           sh: can't create /etc/x: Read-only file system)

Compound commands (``if``, ``for``, ``while``, ``until``, ``case``, ``{ }``,
``( )``), functions, ``$(...)``, here-documents and pipelines between any
commands run as sh runs them: each part of a pipeline, a ``( )`` group and
a command substitution is a subshell, whose variables and directory do not
leak back. Nothing runs concurrently: a pipeline's commands run in turn,
each reading what the previous one wrote.

Runaway recursion ends as the real shells end it: a function nested
deeper than ``FUNCNEST`` (default :data:`MAX_NESTING`) stops with bash's
``maximum function nesting level exceeded``; busybox sh has no limit and
dies with SIGSEGV (status 139), and so does rosim's at the same depth.
Scripts that start themselves stop at :data:`MAX_PROCESSES` nested
processes with ``fork: Resource temporarily unavailable`` (a pids limit).
"""

from __future__ import annotations

import io
import os
import sys
import weakref

from rosim.shell.clock import install as _install_clock
from rosim.shell.expand import ArithmeticError_, expand_fields, expand_pattern, expand_text
from rosim.shell.parser import (
    AndOr,
    Case,
    Command,
    For,
    FunctionDef,
    Group,
    HereDoc,
    If,
    Pipeline,
    Redirect,
    Script,
    ShellSyntaxError,
    While,
    parse,
)
from rosim.shell.process import (
    _BUILTINS,
    _IO,
    PIPE_LIMIT,
    SIGPIPE_STATUS,
    BrokenPipe,
    Proc,
    ShellExit,
    StdinStream,
    _Abort,
    _Break,
    _Continue,
    _Crash,
    _load,
    _preload_libraries,
    _Return,
    _Sink,
    builtin,
    exec_check,
    program,
    programs,
    run_file,
)

__all__ = ["DEFAULT_PATH", "MAX_NESTING", "MAX_PROCESSES", "Proc", "Shell", "ShellExit",
           "StdinStream", "builtin", "program", "programs"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: Function nesting allowed when ``FUNCNEST`` is not set (bash has no default
#: limit and crashes; rosim stops here with bash's FUNCNEST message).
MAX_NESTING = 1000
#: Nested shell processes (scripts running scripts) before fork fails.
MAX_PROCESSES = 200
#: Python frames one nesting level may use; the recursion limit is raised to fit.
_FRAMES_PER_LEVEL = 24

_install_clock()


#: The dialect found for each running container's mount namespace (looked up once).
_DIALECTS: weakref.WeakKeyDictionary[object, str] = weakref.WeakKeyDictionary()


def _detect_dialect() -> str:
    """``busybox`` in an image whose shell is busybox (no bash, a /bin/busybox), else ``bash``."""
    from rosim.fs.kernel import kernel

    ns = kernel().ns
    if ns is not None:
        try:
            known = _DIALECTS.get(ns)
        except TypeError:
            known = None
        if known is not None:
            return known
    if any(os.path.exists(p) for p in ("/bin/bash", "/usr/bin/bash")):
        dialect = "bash"
    else:
        dialect = "busybox" if os.path.exists("/bin/busybox") else "bash"
    if ns is not None:
        try:
            _DIALECTS[ns] = dialect
        except TypeError:
            pass
    return dialect


class _Forward(list):  # type: ignore[type-arg]
    """A child shell's output list that writes each piece on to ``proc``'s streams."""

    def __init__(self, proc: Proc) -> None:
        super().__init__()
        self.proc = proc

    def append(self, item: tuple[str, str]) -> None:
        stream, text = item
        (self.proc.stderr if stream == "stderr" else self.proc.stdout).write(text)


class _Nesting:
    """Depth counters shared by a shell and every shell it starts (one process tree)."""

    def __init__(self) -> None:
        self.functions = 0
        self.processes = 0
        self.next_pid = 1
        self.fork_failed = False


class Shell:
    """A shell session inside a container: variables, functions, cwd, last status.

    ``dialect`` is ``'bash'`` or ``'busybox'``; left ``None`` it is chosen
    from the image when the first command runs: busybox when the image has
    ``/bin/busybox`` and no bash, bash otherwise.
    """

    def __init__(self, env: dict[str, str] | None = None, name: str = "sh",
                 args: list[str] | None = None, cwd: str | None = None,
                 dialect: str | None = None, parent: Shell | None = None) -> None:
        _load()
        self.env = {"PATH": DEFAULT_PATH, "HOME": "/root", "USER": "root", "SHELL": "/bin/sh"}
        self.env.update(env or {})
        #: Variables passed to programs; ``NAME=value`` alone sets a shell
        #: variable that programs do not see until ``export NAME``.
        self.exported = set(self.env)
        self.name = name
        self.args = args or []
        self.status = 0
        self.pipestatus: list[int] = [0]  # bash's PIPESTATUS: each stage's status
        self.cwd: str | None = cwd
        #: Set when the ``exit`` builtin ended this shell.
        self.exited = False
        self.dialect = dialect if dialect is not None else (
            parent.dialect if parent is not None else None)
        self.functions: dict[str, object] = {}
        self.noglob = False
        #: ``set -e``: exit when a command that is not tested fails.
        self.errexit = parent.errexit if parent is not None else False
        self._testing = 0
        #: How many loops enclose the running command (break/continue need one).
        self.loops = 0
        self._nesting = parent._nesting if parent is not None else _Nesting()
        self.pid = self._nesting.next_pid
        self._nesting.next_pid += 1
        self.ppid = parent.pid if parent is not None else 0
        #: The shell that started this one (None for the first of a process tree).
        self.parent = parent
        #: The container's own process (PID 1) when the shell knows it (``ps``).
        self.init: list[str] | None = None
        self._locals: list[dict[str, tuple[str | None, bool]]] = []
        self._subst_status: int | None = None
        self._toplevel = parent is None
        #: How many ``.`` files are being read (``return`` ends one).
        self.sourcing = 0

    # ----------------------------------------------------------- running
    def run(self, line: str, output: list[tuple[str, str]], stdin: str = "") -> int:
        """Run ``line`` (a script); append ``(stream, text)`` pairs to ``output``; return status."""
        if self.dialect is None:
            self.dialect = _detect_dialect()
        try:
            script = parse(line)
        except ShellSyntaxError as exc:
            output.append(("stderr", f"{self.name}: {exc.message(self.dialect, self.name)}\n"))
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
        self.env.setdefault("PWD", os.getcwd())
        streams = _IO(StdinStream(stdin), _Sink(output, "stdout"), _Sink(output, "stderr"))
        self._current_err = streams.err
        limit = sys.getrecursionlimit()
        wanted = (MAX_NESTING + MAX_PROCESSES) * _FRAMES_PER_LEVEL
        if limit < wanted:
            sys.setrecursionlimit(wanted)
        try:
            self.status = self._top_level(script, streams)
        except ShellExit as done:
            self.status = done.status
            self.exited = True
        except (_Break, _Return) as jump:
            self.status = getattr(jump, "status", 0)
        finally:
            if limit < wanted:
                sys.setrecursionlimit(limit)
            self.cwd = os.getcwd()
            try:
                os.chdir(outer_cwd)
            except OSError:
                pass
        return self.status

    def _top_level(self, script: Script, streams: _IO) -> int:
        """Run a script as the shell reads it: a fatal error skips the rest of its line."""
        status = self.status
        aborted_line = None
        for item in script.items:
            if item.line == aborted_line:
                continue
            try:
                status = self._and_or(item, streams)
            except _Abort as abort:
                status = self.status = abort.status
                aborted_line = item.line
        return status

    def run_script(self, script: Script, streams: _IO) -> int:
        """Run the and-or lists of ``script`` in turn."""
        status = self.status
        for item in script.items:
            status = self._and_or(item, streams)
        return status

    def exec_argv(self, argv: list[str], output: list[tuple[str, str]], stdin: str = "") -> int:
        """Run one program from ``argv`` without shell parsing (``crictl exec``).

        A program that cannot start gets the OCI runtime's message, as
        ``crictl exec`` shows it.
        """
        if self.dialect is None:
            self.dialect = _detect_dialect()
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

    # ----------------------------------------------------------- variables
    def get_var_or_none(self, name: str) -> str | None:
        """A variable's or special parameter's value; None when unset."""
        if name == "?":
            return str(self.status)
        if name == "PIPESTATUS" and self.dialect == "bash":
            return str(self.pipestatus[0])
        if name == "#":
            return str(len(self.args))
        if name == "$":
            return str(self._root_pid())
        if name == "!":
            return self.env.get("!")
        if name in ("@", "*"):
            return " ".join(self.args)
        if name == "-":
            return "hB" if self.dialect == "bash" else ""
        if name == "0":
            return self.name
        if name.isdigit():
            index = int(name) - 1
            return self.args[index] if 0 <= index < len(self.args) else None
        return self.env.get(name)

    def get_var(self, name: str, default: str = "") -> str:
        """A variable's value, or ``default`` when unset."""
        value = self.get_var_or_none(name)
        return default if value is None else value

    def set_var(self, name: str, value: str) -> None:
        """Set a shell variable (exported ones stay exported)."""
        self.env[name] = value

    def _root_pid(self) -> int:
        return self.pid

    def unset_reference(self, name: str) -> None:
        """Hook for ``set -u``; unset variables expand to nothing."""

    def parameter_error(self, name: str, message: str) -> None:
        """``${X:?message}``: print the message; the shell exits (bash 127, busybox 2)."""
        if not message:
            message = ("parameter null or not set" if self.dialect == "bash"
                       else "parameter not set or null")
        self._current_err.write(f"{self.name}: {name}: {message}\n")
        raise ShellExit(127 if self.dialect == "bash" else 2)

    def arith_error(self, text: str, exc: ArithmeticError_) -> None:
        """An arithmetic expansion failed: print the shell's message, abort the command line."""
        if self.dialect == "bash":
            message = f"{text.strip()}: {exc.message} (error token is \"{exc.token}\")"
            if exc.message.startswith("syntax error: operand expected") and not exc.token:
                message = f"{text.strip()}: syntax error: operand expected (error token is \"\")"
        else:
            message = ("arithmetic syntax error" if "syntax" in exc.message
                       else "divide by zero" if "division" in exc.message else exc.message)
        self._current_err.write(f"{self.name}: {message}\n")
        if self.dialect == "busybox":
            raise ShellExit(2)
        raise _Abort(1)

    _current_err: _Sink = _Sink(None, "stderr")

    # ----------------------------------------------------------- structure
    def _and_or(self, node: AndOr, streams: _IO) -> int:
        last = node.first
        status = self._pipeline(node.first, streams)
        for op, pipeline in node.rest:
            if (op == "&&") == (status == 0):
                last = pipeline
                status = self._pipeline(pipeline, streams)
        self.status = status
        # set -e: a failure ends the shell, unless it is tested (a condition,
        # a command before && or ||, a negated pipeline).
        if (status and self.errexit and not self._testing and not last.negate
                and (not node.rest or last is node.rest[-1][1])):
            raise ShellExit(status)
        return status

    def _condition(self, script: Script, streams: _IO) -> int:
        """Run the condition of an if/while/until: set -e does not apply inside."""
        self._testing += 1
        try:
            return self.run_script(script, streams)
        finally:
            self._testing -= 1

    def _pipeline(self, node: Pipeline, streams: _IO) -> int:
        commands = node.commands
        if len(commands) == 1:
            status = self._node(commands[0], streams)
            self.pipestatus = [status]
        else:
            nesting = self._nesting
            if nesting.fork_failed or nesting.processes + len(commands) > MAX_PROCESSES:
                # The pids limit: every stage is a process, all alive at once.
                # Once a fork has failed, the tree's other pipelines fail too
                # until it unwinds, so ``f() { f | f; }; f`` ends.
                nesting.fork_failed = True
                streams.err.write(f"{self.name}: fork: Resource temporarily unavailable\n")
                self.status = 254
                return 254
            nesting.processes += len(commands)
            try:
                status = self._stages(commands, streams)
            finally:
                nesting.processes -= len(commands)
                if nesting.processes == 0:
                    nesting.fork_failed = False
        if node.negate:
            status = int(status == 0)
        self.status = status
        return status

    def _stages(self, commands: tuple[object, ...] | list[object], streams: _IO) -> int:
        """A pipeline's commands in turn, each reading what the one before wrote."""
        data = streams.stdin
        statuses: list[int] = []
        for i, command in enumerate(commands):
            last = i == len(commands) - 1
            sink = streams.out if last else _Sink(None, "stdout", limit=PIPE_LIMIT)
            statuses.append(self._subshell(command, _IO(data, sink, streams.err)))
            if not last:
                data = StdinStream(sink.buffer.getvalue())
        self.pipestatus = statuses
        return statuses[-1]

    def _subshell(self, node: object, streams: _IO) -> int:
        """Run ``node`` in a copy of this shell: its variables and directory stay there."""
        child = self.fork()
        here = os.getcwd()
        try:
            return child._node(node, streams)
        except ShellExit as done:
            if isinstance(done, _Crash):
                raise
            return done.status
        except (_Break, _Abort):
            return child.status
        except _Return as ret:
            return ret.status
        finally:
            if os.getcwd() != here:
                try:
                    os.chdir(here)
                except OSError:
                    pass

    def fork(self) -> Shell:
        """A subshell: a copy of variables, functions and arguments, the same process tree."""
        child = Shell.__new__(Shell)
        child.env = dict(self.env)
        child.exported = set(self.exported)
        child.name = self.name
        child.args = list(self.args)
        child.status = self.status
        child.pipestatus = list(self.pipestatus)
        child.cwd = self.cwd
        child.exited = False
        child.dialect = self.dialect
        child.functions = dict(self.functions)
        child.noglob = self.noglob
        child.errexit = self.errexit
        child.loops = self.loops
        child._testing = self._testing
        child._nesting = self._nesting
        child.pid = self.pid
        child.ppid = self.ppid
        child.parent = self.parent
        child.init = self.init
        child._locals = []
        child._subst_status = None
        child._toplevel = False
        child._current_err = self._current_err
        child.sourcing = self.sourcing
        return child

    def substitute(self, script: Script) -> str:
        """``$(...)``: run ``script`` in a subshell; its output without trailing newlines."""
        sink = _Sink(None, "stdout")
        streams = _IO(StdinStream(""), sink, self._current_err)
        child = self.fork()
        here = os.getcwd()
        try:
            status = child.run_script(script, streams)
        except ShellExit as done:
            if isinstance(done, _Crash):
                raise
            status = done.status
        except (_Break, _Return, _Abort):
            status = child.status
        finally:
            if os.getcwd() != here:
                try:
                    os.chdir(here)
                except OSError:
                    pass
        self._subst_status = status
        return sink.buffer.getvalue().rstrip("\n")

    def _node(self, node: object, streams: _IO) -> int:
        if isinstance(node, Command):
            return self._command(node, streams)
        if isinstance(node, FunctionDef):
            self.functions[node.name] = node.body
            return 0
        if isinstance(node, Script):
            return self.run_script(node, streams)
        redirected = self._redirect(node.redirects, streams)  # type: ignore[attr-defined]
        if isinstance(redirected, int):
            return redirected
        inner, handles = redirected
        try:
            return self._compound(node, inner)
        finally:
            self._close(handles, inner.err)

    def _compound(self, node: object, streams: _IO) -> int:
        if isinstance(node, Group):
            if node.subshell:
                return self._subshell(node.body, streams) if node.body.items else 0
            return self.run_script(node.body, streams)
        if isinstance(node, If):
            for condition, body in node.clauses:
                if self._condition(condition, streams) == 0:
                    return self.run_script(body, streams)
            if node.otherwise is not None:
                return self.run_script(node.otherwise, streams)
            return 0
        if isinstance(node, While):
            return self._loop(node, streams)
        if isinstance(node, For):
            if node.words is None:
                values = list(self.args)
            else:
                values = [f for w in node.words for f in expand_fields(w, self)]
            status = 0
            for value in values:
                self.env[node.name] = value
                try:
                    self.loops += 1
                    try:
                        status = self.run_script(node.body, streams)
                    finally:
                        self.loops -= 1
                except _Continue as jump:
                    if jump.levels > 1:
                        raise _Continue(jump.levels - 1) from None
                except _Break as jump:
                    if jump.levels > 1:
                        raise _Break(jump.levels - 1) from None
                    break
            return status
        if isinstance(node, Case):
            subject = expand_text(node.word, self)
            import fnmatch

            for patterns, body in node.items:
                if any(fnmatch.fnmatchcase(subject, expand_pattern(p, self)) for p in patterns):
                    return self.run_script(body, streams) if body.items else 0
            return 0
        raise TypeError(f"unknown node {node!r}")

    def _loop(self, node: While, streams: _IO) -> int:
        status = 0
        while True:
            try:
                cond = self._condition(node.condition, streams)
            except _Break as jump:
                if jump.levels > 1:
                    raise _Break(jump.levels - 1) from None
                break
            if (cond == 0) == node.until:
                break
            self.loops += 1
            try:
                status = self.run_script(node.body, streams)
            except _Continue as jump:
                if jump.levels > 1:
                    raise _Continue(jump.levels - 1) from None
            except _Break as jump:
                if jump.levels > 1:
                    raise _Break(jump.levels - 1) from None
                break
            finally:
                self.loops -= 1
        return status

    # ----------------------------------------------------------- redirections
    def _redirect(self, redirects: tuple[Redirect, ...],
                  streams: _IO) -> tuple[_IO, list[io.TextIOBase]] | int:
        """Apply ``redirects``: new streams and the files to close, or a failure status."""
        if not redirects:
            return streams, []
        stdin, out, err = streams.stdin, streams.out, streams.err
        handles: list[io.TextIOBase] = []
        for redirect in redirects:
            op, fd = redirect.op, redirect.fd
            if op == "<<":
                doc = redirect.target
                assert isinstance(doc, HereDoc)
                body = doc.body if doc.word is None else expand_text(doc.word, self)
                if fd == 0:
                    stdin = StdinStream(body)
                continue
            target = expand_text(redirect.target, self)  # type: ignore[arg-type]
            if op in (">&", "<&"):
                if target == "-":
                    continue
                if target not in ("0", "1", "2"):
                    err.write(f"{self.name}: {target}: Bad file descriptor\n")
                    self._close(handles, err)
                    return 1
                if fd == 2:
                    err = out if target == "1" else err
                elif fd == 1:
                    out = err if target == "2" else out
                continue
            try:
                if op in ("<", "<>"):
                    with open(target, errors="surrogateescape") as handle:
                        text = handle.read()
                    if fd == 0:
                        stdin = StdinStream(text)
                    continue
                handle = open(target, "a" if op == ">>" else "w")  # noqa: SIM115
            except OSError as exc:
                why = os.strerror(exc.errno or 0)
                if self.dialect == "busybox":
                    verb = "open" if op in ("<", "<>") else "create"
                    if exc.errno == 2 and verb == "open":
                        why = "no such file"
                    elif exc.errno == 2:
                        why = "nonexistent directory"
                    err.write(f"{self.name}: can't {verb} {target}: {why}\n")
                else:
                    err.write(f"{self.name}: {target}: {why}\n")
                self._close(handles, err)
                return 1
            handles.append(handle)
            sink = _Sink(None, "file", handle)
            if fd == 2:
                err = sink
            elif fd == 1:
                out = sink
        return _IO(stdin, out, err), handles

    def _close(self, handles: list[io.TextIOBase], err: _Sink) -> bool:
        """Close ``handles``; True when a write failed as a file was flushed."""
        failed = False
        for handle in handles:
            try:
                handle.close()
            except OSError as exc:
                failed = True
                err.write(f"{self.name}: write error: {os.strerror(exc.errno or 0)}\n")
        return failed

    # ----------------------------------------------------------- simple commands
    def _command(self, command: Command, streams: _IO) -> int:
        self._current_err = streams.err
        self._subst_status = None
        argv = [f for w in command.words for f in expand_fields(w, self)]
        assigned = [(name, expand_text(value, self)) for name, value in command.assignments]
        if not argv:
            for name, value in assigned:
                self.env[name] = value
            redirected = self._redirect(command.redirects, streams)
            if isinstance(redirected, int):
                return redirected
            self._close(redirected[1], redirected[0].err)
            return self._subst_status if self._subst_status is not None else 0
        redirected = self._redirect(command.redirects, streams)
        if isinstance(redirected, int):
            return redirected
        inner, handles = redirected
        self._current_err = inner.err
        try:
            name = argv[0]
            if name in self.functions:
                status = self._call(name, argv, assigned, inner)
            else:
                env = {k: v for k, v in self.env.items() if k in self.exported}
                env.update(assigned)
                proc = Proc(argv, inner.stdin, inner.out, inner.err, self, env)
                status = self.execute(proc)
        finally:
            failed = self._close(handles, inner.err)
        # A write that failed when the file was flushed (/dev/full) fails the command.
        return 1 if failed and status == 0 else status

    def _call(self, name: str, argv: list[str], assigned: list[tuple[str, str]],
              streams: _IO) -> int:
        nesting = self._nesting
        limit_text = self.env.get("FUNCNEST", "")
        limit = int(limit_text) if limit_text.isdigit() and int(limit_text) > 0 else MAX_NESTING
        if nesting.functions >= limit:
            if self.dialect == "busybox":
                raise _Crash(139)
            streams.err.write(f"{self.name}: {name}: maximum function nesting level exceeded "
                              f"({limit})\n")
            raise _Abort(1)
        saved_args = self.args
        saved_env = {k: self.env.get(k) for k, _ in assigned}
        for key, value in assigned:
            self.env[key] = value
        self.args = argv[1:]
        self._locals.append({})
        nesting.functions += 1
        try:
            status = self._node(self.functions[name], streams)
        except _Return as ret:
            status = ret.status
        finally:
            nesting.functions -= 1
            for var, (old, was_exported) in self._locals.pop().items():
                if old is None:
                    self.env.pop(var, None)
                else:
                    self.env[var] = old
                if not was_exported:
                    self.exported.discard(var)
            self.args = saved_args
            for key, old_value in saved_env.items():
                if old_value is None:
                    self.env.pop(key, None)
                else:
                    self.env[key] = old_value
        self.status = status
        return status

    def make_local(self, name: str) -> bool:
        """``local NAME``: restore NAME when the current function returns; False outside one."""
        if not self._locals:
            return False
        scope = self._locals[-1]
        if name not in scope:
            scope[name] = (self.env.get(name), name in self.exported)
        return True

    def jump(self, kind: str, value: int) -> None:
        """``break``/``continue`` N levels or ``return`` STATUS (raised to the loop or call)."""
        if kind == "break":
            raise _Break(value)
        if kind == "continue":
            raise _Continue(value)
        raise _Return(value)

    @property
    def in_function(self) -> bool:
        """Whether a function is running (``return`` and ``local`` are allowed)."""
        return bool(self._locals)

    def child(self, name: str, args: list[str], env: dict[str, str]) -> Shell | None:
        """A new shell process (``sh script``), or None when the pids limit is reached."""
        if self._nesting.processes >= MAX_PROCESSES:
            return None
        return Shell(env, name=name, args=args, parent=self)

    def run_child(self, child: Shell, script: str, proc: Proc) -> int:
        """Run ``script`` in ``child`` (a new process) with ``proc``'s streams."""
        self._nesting.processes += 1
        try:
            # The child writes straight into our streams (a pipe may end it).
            return child.run(script, _Forward(proc), proc.stdin)
        finally:
            self._nesting.processes -= 1

    def eval(self, text: str, streams_of: Proc) -> int:
        """Run ``text`` in this shell (``eval``, ``.``) with the caller's streams."""
        try:
            script = parse(text)
        except ShellSyntaxError as exc:
            streams_of.err(f"{self.name}: {exc.message(self.dialect or 'bash', self.name)}\n")
            return 2
        assert isinstance(streams_of.source, StdinStream)
        streams = _IO(streams_of.source, streams_of.stdout, streams_of.stderr)
        if self._nesting.functions >= MAX_NESTING:
            # Neither shell limits eval/. recursion: both run out of stack (SIGSEGV).
            raise _Crash(139)
        self._nesting.functions += 1
        try:
            return self.run_script(script, streams)
        finally:
            self._nesting.functions -= 1

    def not_found(self, proc: Proc, name: str) -> int:
        """Print the shell's 'command not found' and return 127."""
        if self.dialect == "busybox":
            proc.err(f"{self.name}: {name}: not found\n")
        else:
            proc.err(f"{self.name}: {name}: command not found\n")
        return 127

    def execute(self, proc: Proc) -> int:
        """Run ``proc.argv``: a builtin, or an executable found as the kernel would."""
        name = proc.argv[0]
        if "/" not in name and name in _BUILTINS:
            return _BUILTINS[name](proc)
        path = name if "/" in name else self._search(name, proc.env.get("PATH", ""))
        if path is None:
            return self.not_found(proc, name)
        status, message = exec_check(path)
        if message:
            if status == 127 and self.dialect == "busybox":
                return self.not_found(proc, name)
            proc.err(f"{self.name}: {name}: {message}\n")
            return status
        from rosim.fs.kernel import kernel
        from rosim.runtime.patching import close_leftovers, open_file_ids

        k = kernel()
        opened_before = open_file_ids(k)
        try:
            return self._run_file(path, proc)
        except BrokenPipe:
            return SIGPIPE_STATUS  # only the program that wrote dies of SIGPIPE
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
        return run_file(self, path, proc)

    def fork_failed(self, proc: Proc) -> int:
        """No process can start (the container's pids limit): the shell's message, 254."""
        proc.err(f"{self.name}: fork: Resource temporarily unavailable\n")
        return 254

"""The process-wide state a simulated process owns: exit, signals, atexit.

A container process in rosim is a call on the worker thread, not a real
process. What a real process would do to *itself* is simulated here so that
it ends (or changes) the simulated process and never the notebook's kernel:

* ``os._exit(n)``, ``posix._exit(n)`` end the process with status ``n & 0xff``,
  without running ``atexit`` handlers; ``os.abort()`` ends it as SIGABRT
  (status 134);
* ``os.kill(os.getpid(), sig)``, ``signal.raise_signal``, ``signal.pthread_kill``
  on itself deliver ``sig`` to the process: its handler runs, an ignored signal
  is ignored, otherwise the default action ends the process (status
  ``128 + sig``); ``SIGINT``'s default raises ``KeyboardInterrupt``, as in CPython;
* ``signal.signal``/``getsignal`` read and set the *process's* handlers, not
  the notebook's; ``signal.alarm``/``setitimer`` are refused (they would signal
  the kernel);
* ``atexit.register`` handlers run when the process ends normally (``sys.exit``
  or returning), inside the container.

The real functions are wrapped once, when the first container runs code; a
wrapper acts as above only on a thread that runs container code and is the
real function everywhere else.
"""

from __future__ import annotations

import atexit
import errno
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["ProcessExit", "ProcessState", "current", "install", "once", "process",
           "refuse_guarded", "run_as_process", "status_of", "wrap"]


class ProcessExit(BaseException):  # noqa: N818 - like SystemExit, not an error
    """The simulated process ended (``os._exit``, ``os.abort``, a fatal signal)."""

    def __init__(self, status: int, how: str) -> None:
        super().__init__(status, how)
        self.status = status
        self.how = how


_DEFAULT_IGNORED = frozenset({signal.SIGCHLD, signal.SIGURG, signal.SIGWINCH, signal.SIGCONT})


class ProcessState:
    """Signal handlers and atexit handlers of one simulated process."""

    def __init__(self) -> None:
        self.handlers: dict[int, Any] = {}
        self.atexit: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def getsignal(self, sig: int) -> Any:
        """The handler of ``sig`` in this process."""
        if sig in self.handlers:
            return self.handlers[sig]
        return signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL

    def deliver(self, sig: int) -> None:
        """What the kernel does when this process gets ``sig``."""
        if sig == 0:
            return
        handler = self.getsignal(sig)
        if handler is signal.SIG_IGN:
            return
        if callable(handler):
            handler(sig, sys._getframe(1))
            return
        if sig in _DEFAULT_IGNORED or sig in (signal.SIGSTOP, signal.SIGTSTP,
                                              signal.SIGTTIN, signal.SIGTTOU):
            return
        raise ProcessExit(128 + sig, f"killed by {signal.Signals(sig).name}")

    def run_atexit(self) -> None:
        """Run the atexit handlers, last registered first; errors are printed."""
        while self.atexit:
            func, args, kwargs = self.atexit.pop()
            try:
                func(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - CPython prints and goes on
                print(f"Exception ignored in atexit callback {func!r}:\n"
                      f"{type(exc).__name__}: {exc}", file=sys.stderr)


_local = threading.local()
_stack: list[ProcessState] = []


def _guarded() -> bool:
    return getattr(_local, "guarded", False)


def mark_guarded() -> None:
    """Mark the calling thread as one that runs container code."""
    _local.guarded = True


def current() -> ProcessState | None:
    """The simulated process running on this thread, if it runs container code."""
    return _stack[-1] if _stack and _guarded() else None


@contextmanager
def process() -> Iterator[ProcessState]:
    """A new simulated process for the ``with`` block (signal and atexit tables)."""
    state = ProcessState()
    _stack.append(state)
    try:
        yield state
    finally:
        _pop(state)


def _pop(state: ProcessState) -> None:
    if _stack and _stack[-1] is state:
        _stack.pop()
    elif state in _stack:
        _stack.remove(state)


def status_of(exc: BaseException) -> int:
    """The exit status a ``SystemExit`` or :class:`ProcessExit` stands for."""
    if isinstance(exc, ProcessExit):
        return exc.status
    if isinstance(exc, SystemExit):
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code & 0xFF
        return 1
    raise TypeError(exc)


def run_as_process(call: Callable[..., Any], func: Callable[..., Any],
                   args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``func(*args, **kwargs)`` through ``call`` as one simulated process.

    ``call`` is the worker's :meth:`~rosim.runtime.worker.Worker.call`. The
    process's atexit handlers run when it returns or calls ``sys.exit``;
    ``sys.exit``, ``os._exit`` and the like end it with
    :class:`~rosim.ProcessExitError` carrying the exit status.
    """
    from rosim._errors import ProcessExitError

    proc = ProcessState()
    _stack.append(proc)
    try:
        try:
            result = call(func, *args, **kwargs)
        except SystemExit as exc:
            call(proc.run_atexit)
            raise ProcessExitError(status_of(exc), f"sys.exit({exc.code!r})") from None
        except ProcessExit as exc:
            raise ProcessExitError(exc.status, exc.how) from None
        if proc.atexit:
            call(proc.run_atexit)
    finally:
        _pop(proc)
    return result


def _refused(what: str) -> OSError:
    from rosim.fs.syscalls import HostAccessError

    return HostAccessError(errno.EPERM, f"{what} is not simulated: inside a rosim container "
                           "it would reach the notebook's own process, so it is refused")


# ------------------------------------------------------------------ wrappers
def _exit(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def _exit(status: int) -> None:
        if not _guarded():
            return real(status)
        if not isinstance(status, int):
            raise TypeError(f"'{type(status).__name__}' object cannot be interpreted "
                            "as an integer")
        raise ProcessExit(status & 0xFF, f"_exit({status})")

    return _exit


def _abort(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def abort() -> None:
        if not _guarded():
            return real()
        raise ProcessExit(128 + signal.SIGABRT, "aborted")

    return abort


def _to_self(pid: int) -> bool:
    return pid in (0, os.getpid())


def _kill(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def kill(pid: int, sig: int) -> None:
        if not _guarded():
            return real(pid, sig)
        state = current()
        if state is not None and isinstance(pid, int) and _to_self(pid):
            return state.deliver(int(sig))
        raise _refused(f"{real.__name__}({pid!r}, {sig!r})")

    return kill


def _raise_signal(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def raise_signal(sig: int) -> None:
        state = current()
        if state is None:
            return real(sig)
        return state.deliver(int(sig))

    return raise_signal


def _pthread_kill(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def pthread_kill(thread_id: int, sig: int) -> None:
        state = current()
        if state is None:
            return real(thread_id, sig)
        if thread_id == threading.get_ident():
            return state.deliver(int(sig))
        raise _refused(f"signal.pthread_kill({thread_id!r}, {sig!r})")

    return pthread_kill


def _signal(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def signal_(signalnum: int, handler: Any) -> Any:
        state = current()
        if state is None:
            return real(signalnum, handler)
        sig = signal.Signals(signalnum)
        if sig in (signal.SIGKILL, signal.SIGSTOP):
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        if not (callable(handler) or handler in (signal.SIG_DFL, signal.SIG_IGN)):
            raise TypeError("signal handler must be signal.SIG_IGN, signal.SIG_DFL, "
                            "or a callable object")
        previous = state.getsignal(sig)
        state.handlers[sig] = handler
        return previous

    return signal_


def _getsignal(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def getsignal(signalnum: int) -> Any:
        state = current()
        if state is None:
            return real(signalnum)
        return state.getsignal(signal.Signals(signalnum))

    return getsignal


def _refuse_timer(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def timer(*args: Any, **kwargs: Any) -> Any:
        if not _guarded():
            return real(*args, **kwargs)
        raise _refused(f"signal.{real.__name__}()")

    return timer


def _atexit_register(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def register(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        state = current()
        if state is None:
            return real(func, *args, **kwargs)
        state.atexit.append((func, args, kwargs))
        return func

    return register


def _atexit_unregister(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def unregister(func: Callable[..., Any]) -> None:
        state = current()
        if state is None:
            return real(func)
        state.atexit[:] = [entry for entry in state.atexit if entry[0] != func]
        return None

    return unregister


def refuse_guarded(real: Callable[..., Any], qualname: str) -> Callable[..., Any]:
    """``real`` refused with EPERM on a container thread, as it is everywhere else."""
    @functools.wraps(real)
    def refused(*args: Any, **kwargs: Any) -> Any:
        if not _guarded():
            return real(*args, **kwargs)
        raise _refused(f"{qualname}()")

    return refused


# C functions that change the host without raising an audit event: refused on
# container threads even where the audit hook is the only guard.
_NO_AUDIT_EVENT = (("posix", "mkfifo"), ("posix", "mknod"), ("os", "mkfifo"),
                   ("_posixsubprocess", "fork_exec"), ("readline", "write_history_file"),
                   ("readline", "append_history_file"), ("posix", "register_at_fork"),
                   ("os", "register_at_fork"))

def once(install: Callable[[], None]) -> Callable[[], None]:
    """``install`` run on its first call only, whichever thread calls first.

    Later calls return at once; a call made while the first is running waits
    for it.
    """
    lock = threading.Lock()
    done = False

    @functools.wraps(install)
    def first_call_only() -> None:
        nonlocal done
        if done:
            return
        with lock:
            if done:
                return
            install()
            done = True

    return first_call_only


def wrap(module: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]],
         ) -> None:
    """Replace ``module.name`` by ``make(real)``; nothing if it is missing or wrapped."""
    real = getattr(module, name, None)
    if real is not None and callable(real) and not hasattr(real, "__wrapped__"):
        setattr(module, name, make(real))


@once
def install() -> None:
    """Wrap the process-wide functions once (see the module doc)."""
    import posix

    for module in {os, posix}:
        for name, make in (("_exit", _exit), ("abort", _abort), ("kill", _kill),
                           ("killpg", _kill)):
            wrap(module, name, make)
    for name, make in (("raise_signal", _raise_signal), ("pthread_kill", _pthread_kill),
                       ("signal", _signal), ("getsignal", _getsignal),
                       ("alarm", _refuse_timer), ("setitimer", _refuse_timer)):
        wrap(signal, name, make)
    import _posixsubprocess  # noqa: F401 - loaded so that it is wrapped

    for module_name, name in _NO_AUDIT_EVENT:
        module = sys.modules.get(module_name)
        if module is not None:
            wrap(module, name, lambda real, q=f"{module_name}.{name}": refuse_guarded(real, q))
    atexit.register = _atexit_register(atexit.register)  # type: ignore[assignment]
    atexit.unregister = _atexit_unregister(atexit.unregister)  # type: ignore[assignment]

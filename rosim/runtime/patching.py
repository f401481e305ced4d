"""Patch Python's file system modules for the length of one call.

:func:`inside` makes ``os``, ``open``, ``io``, ``pathlib``, ``shutil`` and
``tempfile`` act on a container's :class:`~rosim.fs.namespace.Namespace`
and undoes everything when the block ends, whatever happens inside. Nothing
stays patched between calls, so a notebook kernel is left exactly as it was.

Three guards keep simulated code off the real host:

* :func:`in_container` maps a real file system function handed to
  ``Container.run`` (``ctr.run(os.remove, path)``: ``os.remove`` was looked
  up before patching began) to its simulated twin, so it acts inside;
* the code runs on a worker thread that Landlock confines
  (:mod:`rosim.runtime.hostguard`, :mod:`rosim.runtime.worker`);
* an audit hook (:pep:`578`) refuses, with :class:`HostAccessError`, any
  real write, process start or file system change made by that thread or a
  thread it started, so the learner reads a clear message (and, where
  Landlock is missing, it is the guard).

:func:`patched` applies the patches (found once, see
:mod:`rosim.runtime.patchset`) and :func:`run_process` runs a container
process inside them; ``Container.run`` and ``run_each`` are both made of
these two. Set-up and tear-down are atomic: a failure half-way is repaired by
:func:`force_unpatch`, so the host is never left patched, and whatever
process-wide state the code changed (working directory, umask, environment,
``sys.stdout``, recursion limit, ``sys.path``, warning filters...) is put back
(:class:`_HostState`). Modules first imported inside stay imported, pointed
back at the real ``os``/``io``/``pathlib``.
"""

from __future__ import annotations

import _locale
import atexit
import builtins
import errno
import gc
import io
import logging
import os
import pathlib
import posix
import sys
import tempfile
import threading
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pyfakefs import helpers
from pyfakefs.fake_filesystem_unittest import Patcher

from rosim.fs.kernel import kernel
from rosim.fs.namespace import Namespace
from rosim.fs.syscalls import HostAccessError, install_open_hook
from rosim.runtime import process, sqlite
from rosim.runtime.hostguard import guard_kind
from rosim.runtime.patchset import (
    _REAL_MODULES,  # noqa: F401 - the real open, for checks
    force_unpatch,
    is_clean,
    patch_set,
    same,
    same_dict,
)
from rosim.runtime.patchset import apply as _apply_patches
from rosim.runtime.patchset import undo as _undo_patches
from rosim.runtime.process import _guarded, mark_guarded, run_as_process
from rosim.runtime.processwide import _owned as _owned_fds
from rosim.runtime.worker import _abandoned, worker

__all__ = ["close_leftovers", "force_unpatch", "in_container", "inside", "mark_guarded",
           "open_file_ids", "patched", "process_logging", "run_process"]



# --------------------------------------------------------------- host guard
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_REFUSED_EVENTS = frozenset({
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
    "os.link", "os.symlink", "os.truncate", "os.utime", "os.setxattr", "os.removexattr",
    "os.chflags", "os.mkfifo", "os.mknod", "os.system", "os.exec", "os.posix_spawn",
    "os.spawn", "os.fork", "os.forkpty", "os.killpg",
    "subprocess.Popen", "os.startfile", "os.chdir", "os.fchdir",
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.cdata",
    "ctypes.PyObj_FromPtr", "ctypes.set_errno", "ctypes.seh_exception",
    "pty.spawn", "webbrowser.open", "os.putenv", "os.unsetenv",
    # Process-wide and for good: an audit hook cannot be removed, a lowered
    # limit on open files would starve the notebook.
    "sys.addaudithook", "resource.setrlimit", "resource.prlimit",
})
_WATCHED = _REFUSED_EVENTS | {"open", "socket.bind", "sqlite3.connect", "import", "mmap.__new__"}


def _audit(event: str, args: tuple[Any, ...], _guarded: Callable[[], bool] = _guarded,
           _watched: frozenset[str] = _WATCHED) -> None:
    if event not in _watched or not _guarded():
        return
    if event == "open":
        path, mode, flags = (args + (None, None, None))[:3]
        writing = (isinstance(flags, int) and flags & _WRITE_FLAGS) or (
            isinstance(mode, str) and any(c in mode for c in "wax+"))
        if isinstance(path, int) and not isinstance(path, bool):
            # io.FileIO(fd): a real descriptor, the notebook's unless the code opened it.
            from rosim.runtime.processwide import owned

            if path in owned():
                return
            detail = f"open({path!r}) of the notebook's descriptor {path}"
            raise HostAccessError(errno.EBADF, f"refused: {detail} from inside a rosim container")
        if not writing or path is None:
            return
        # Python may try to cache bytecode; that failure is ignored by importlib.
        detail = f"open({path!r}, {mode or flags!r})"
    elif event in _REFUSED_EVENTS:
        if event.startswith("ctypes.") and _active_guard() == "landlock":
            return  # the kernel refuses what ctypes could do; let libraries load
        if event in ("os.putenv", "os.unsetenv"):
            return  # os.environ is restored after run(); the C environ is not read
        detail = f"{event}{args!r:.200}"
    elif event == "import" and args and args[0] in _ORIGINALS:
        # Raised only for a module not in sys.modules: these were, so the code
        # removed one to import a fresh copy without rosim's wrappers.
        detail = f"importing a second copy of {args[0]!r}"
    elif event == "mmap.__new__" and args and args[0] != -1:
        from rosim.runtime.processwide import owned

        if args[0] in owned():
            return
        raise HostAccessError(errno.EBADF, f"refused: mmap of the notebook's descriptor "
                              f"{args[0]!r} from inside a rosim container")
    elif event == "socket.bind" and args and getattr(args[0], "family", None) == 1:
        detail = f"bind({args[1]!r:.100}) of a unix socket"
    elif event == "sqlite3.connect" and args and str(args[0]) not in (":memory:", ""):
        detail = f"sqlite3.connect({args[0]!r:.100})"
    else:
        return
    raise HostAccessError(
        errno.EPERM,
        f"refused: {detail} would act on the real host from inside a rosim container",
    )


#: Modules that rosim wraps or that the notebook cannot live without: kept in
#: sys.modules (put back after each call) and never imported afresh inside.
_PROTECTED_MODULES = frozenset({
    "builtins", "sys", "os", "posix", "io", "_io", "_thread", "threading", "signal",
    "_signal", "atexit", "time", "faulthandler", "resource", "readline", "_posixsubprocess",
    "_socket", "socket", "mmap", "sqlite3", "_sqlite3", "gc", "importlib", "_imp",
})
_ORIGINALS: dict[str, Any] = {}  # those of them loaded when the guard was installed
_ORIGINAL_MODULES: tuple[Any, ...] = ()  # _ORIGINALS' values, in order


def _active_guard() -> str:
    from rosim.runtime import worker

    current = worker._worker
    return current.guard if current is not None else guard_kind()


_hook_installed = False


def _install_guard() -> None:
    global _hook_installed, _ORIGINAL_MODULES
    if not _hook_installed:
        from rosim.runtime import processwide

        sys.addaudithook(_audit)
        _install_thread_inheritance()
        processwide.install()
        import mmap  # noqa: F401 - loaded before container code, so it is protected

        _ORIGINALS.update((name, sys.modules[name]) for name in _PROTECTED_MODULES
                          if name in sys.modules)
        _ORIGINAL_MODULES = tuple(_ORIGINALS.values())
        _hook_installed = True


def _install_thread_inheritance() -> None:
    """Threads started by container code run container code too (guarded)."""
    import _thread
    import time

    real_start = _thread.start_new_thread

    def start_new_thread(function: Callable[..., Any], args: tuple[Any, ...],
                         kwargs: dict[str, Any] | None = None) -> int:
        if not _guarded():
            return real_start(function, args, *(() if kwargs is None else (kwargs,)))

        def guarded(*a: Any, **kw: Any) -> Any:
            mark_guarded()
            return function(*a, **kw)

        return real_start(guarded, args, *(() if kwargs is None else (kwargs,)))

    _thread.start_new_thread = start_new_thread
    _thread.start_new = start_new_thread  # the old alias, same function
    threading._start_new_thread = start_new_thread  # type: ignore[attr-defined]
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        """time.sleep, cut into short sleeps on container threads (interruptible)."""
        if not _guarded() or not isinstance(seconds, int | float) or seconds <= 0.05:
            return real_sleep(seconds)
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            real_sleep(min(left, 0.05))
        return None

    sleep.__doc__ = real_sleep.__doc__
    time.sleep = sleep


# --------------------------------------------------------------- remapping
_OS_MODULES = {"posix", "nt", "os"}
_PATH_MODULES = {"posixpath", "genericpath", "ntpath", "os.path"}
_IO_MODULES = {"io", "_io"}
# Held in a dict so that pyfakefs, which patches module attributes, leaves
# these references to the real modules alone.
_REAL = {"os": os, "path": os.path, "io": io, "open": builtins.open}
_REAL_SQLITE_CONNECT = __import__("sqlite3").connect


def in_container(func: Callable[..., Any], patcher: Patcher) -> Callable[..., Any]:
    """Return the simulated twin of a real file system function, else ``func``."""
    name = getattr(func, "__name__", None)
    module = getattr(func, "__module__", None)
    if isinstance(func, types.MethodType | types.BuiltinMethodType) and isinstance(
        getattr(func, "__self__", None), pathlib.PurePath
    ):
        fake_path = patcher.fake_modules["pathlib"].Path(str(func.__self__))
        return getattr(fake_path, func.__name__)
    if not isinstance(func, types.BuiltinFunctionType | types.FunctionType) or not name:
        return func
    if module in _OS_MODULES and func is getattr(_REAL["os"], name, None):
        return getattr(patcher.fake_modules["os"], name, func)
    if module in _PATH_MODULES and func is getattr(_REAL["path"], name, None):
        return getattr(patcher.fake_modules["os"].path, name, func)
    if func is _REAL_SQLITE_CONNECT:
        from rosim.runtime import sqlite

        return sqlite.connect
    if func is _REAL["open"] or (
        module in _IO_MODULES and func is getattr(_REAL["io"], name, None)
    ):
        return getattr(patcher.fake_modules["io"], name, func)
    return func


@contextmanager
def process_logging() -> Iterator[None]:
    """Give container code its own ``logging`` configuration, like a new process.

    Handlers that the code attaches to loggers (``basicConfig``,
    ``addHandler``) are detached and closed afterwards, so they neither leak
    into the notebook nor make the next container's ``basicConfig`` a no-op;
    levels and ``disabled`` flags it changed are put back. Only what changed
    is touched (``setLevel`` clears every logger's cache).
    """
    loggers = logging.Logger.manager.loggerDict
    saved = [(lg, lg.handlers[:], lg.level, lg.disabled)
             for lg in (logging.root, *loggers.values()) if isinstance(lg, logging.Logger)]
    try:
        yield
    finally:
        known = {id(entry[0]) for entry in saved}
        for logger, handlers, level, disabled in saved:
            if logger.handlers != handlers:
                _detach_handlers(logger, handlers)
            if logger.level != level:
                logger.setLevel(level)
            if logger.disabled is not disabled:
                logger.disabled = disabled
        for logger in list(loggers.values()):
            if isinstance(logger, logging.Logger) and logger.handlers and \
                    id(logger) not in known:
                _detach_handlers(logger, [])  # a logger made inside


def _detach_handlers(logger: logging.Logger, keep: list[logging.Handler]) -> None:
    for handler in list(logger.handlers):
        if handler not in keep:
            logger.removeHandler(handler)
            try:
                handler.close()
            except Exception:  # noqa: BLE001, S110 - a simulated file may fail
                pass


def open_file_ids(k: Any) -> set[int]:
    """Identities of the file objects open in the kernel now (see close_leftovers)."""
    return {id(w) for ws in k.open_files[3:] if ws for w in ws}


def close_leftovers(k: Any, before: set[int], keep: Any) -> None:
    """Process exit: flush and close the files the code left open (not ``keep``).

    CPython closes an unreferenced file at once and flushes the rest at exit;
    pyfakefs keeps every open file referenced, so rosim closes the ones opened
    since ``before`` (from :func:`open_file_ids`) when the call ends. A file
    object the call returns stays open for the caller.
    """
    for wrappers in list(k.open_files[3:]):
        for wrapper in list(wrappers or []):
            if wrapper is keep or id(wrapper) in before:
                continue
            try:
                wrapper.close()
            except Exception:  # noqa: BLE001, S110 - e.g. ENOSPC on the final flush
                pass


_posix = posix  # the real functions: pyfakefs replaces module attributes that are ``os``


class _HostState:
    """Process-wide state that container code may change, saved to be put back.

    Saving copies a few references and small lists; putting back compares
    each piece first, by identity (an object whose ``__eq__`` says "equal"
    cannot pass for the original), and touches only what changed.
    """

    __slots__ = ("builtins", "builtins_checked", "cwd", "environ", "filters", "gc",
                 "gc_callbacks", "gc_threshold", "hooks", "interpreter", "limit", "meta_path",
                 "path", "patched", "stdio", "tempdir", "trace", "umask")

    def __init__(self) -> None:
        self.tempdir = tempfile.tempdir
        self.cwd = _posix.getcwd()
        self.umask = _posix.umask(0o022)
        _posix.umask(self.umask)
        self.environ = os.environ._data.copy()  # type: ignore[attr-defined]
        self.stdio = (sys.stdin, sys.stdout, sys.stderr)
        self.hooks = _hooks()
        self.limit = sys.getrecursionlimit()
        self.meta_path = sys.meta_path[:]
        self.path = sys.path[:]
        self.filters = warnings.filters[:]
        self.gc = gc.isenabled()
        self.gc_callbacks = gc.callbacks[:]
        self.gc_threshold = gc.get_threshold()
        self.trace = (sys.gettrace(), sys.getprofile())
        self.builtins = _BUILTINS.copy()
        #: The builtins while patched (the fake ``open``), set by :func:`patched`.
        self.patched = self.builtins
        #: Whether the builtins were found (or put back) as they were since.
        self.builtins_checked = False
        self.interpreter = _interpreter()

    def restore(self) -> None:
        """Put back what changed; if anything is odd, every piece on its own."""
        try:
            self._restore_changed()
        except Exception:  # noqa: BLE001 - e.g. sys.path replaced by a non-list
            self._restore_each()

    def _restore_changed(self) -> None:
        if not self.builtins_checked or \
                _BUILTINS.get("open", _MISSING) is not self.builtins.get("open", _MISSING):
            self.restore_builtins()
        self._restore_modules()
        if _owned_fds:
            _owned_fds.clear()  # the process ended: its real descriptors are not its own
        tempfile.tempdir = self.tempdir
        _posix.umask(self.umask)
        if _posix.getcwd() != self.cwd:
            _posix.chdir(self.cwd)
        if not same_dict(os.environ._data, self.environ):  # type: ignore[attr-defined]
            self._restore_environ()
        stdin, stdout, stderr = self.stdio
        if sys.stdin is not stdin or sys.stdout is not stdout or sys.stderr is not stderr:
            sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        if not same(_hooks(), self.hooks):
            self._restore_hooks()
        if sys.getrecursionlimit() != self.limit:
            sys.setrecursionlimit(self.limit)
        if not same(sys.meta_path, self.meta_path):
            sys.meta_path[:] = self.meta_path
        if not same(sys.path, self.path):
            sys.path[:] = self.path
        if not same(warnings.filters, self.filters):
            warnings.filters[:] = self.filters
            warnings._filters_mutated()  # type: ignore[attr-defined]
        if gc.isenabled() is not self.gc:
            gc.enable() if self.gc else gc.disable()  # noqa: B018
        if not same(gc.callbacks, self.gc_callbacks):
            gc.callbacks[:] = self.gc_callbacks
        if gc.get_threshold() != self.gc_threshold:
            gc.set_threshold(*self.gc_threshold)
        if sys.gettrace() is not self.trace[0] or sys.getprofile() is not self.trace[1]:
            self._restore_trace()
        if _interpreter() != self.interpreter:
            self._restore_interpreter()

    def _restore_each(self) -> None:
        """Put everything back, each step on its own (one failure does not stop the rest)."""
        from rosim.runtime import processwide

        steps: list[Callable[[], Any]] = [
            self.restore_builtins,
            self._restore_modules,
            processwide.forget,
            lambda: setattr(tempfile, "tempdir", self.tempdir),
            self._restore_cwd,
            lambda: _posix.umask(self.umask),
            self._restore_environ,
            lambda: (setattr(sys, "stdin", self.stdio[0]), setattr(sys, "stdout", self.stdio[1]),
                     setattr(sys, "stderr", self.stdio[2])),
            self._restore_hooks,
            lambda: sys.setrecursionlimit(self.limit),
            lambda: sys.meta_path.__setitem__(slice(None), self.meta_path),
            lambda: sys.path.__setitem__(slice(None), self.path),
            lambda: warnings.filters.__setitem__(slice(None), self.filters),
            lambda: (warnings._filters_mutated(), None)[1],  # type: ignore[attr-defined]
            lambda: gc.enable() if self.gc else gc.disable(),
            lambda: gc.callbacks.__setitem__(slice(None), self.gc_callbacks),
            lambda: gc.set_threshold(*self.gc_threshold),
            self._restore_trace,
            self._restore_interpreter,
        ]
        for step in steps:
            try:
                step()
            except Exception:  # noqa: BLE001, S112 - best effort for each piece
                continue

    def restore_builtins(self, saved: dict[str, Any] | None = None) -> None:
        """``del builtins.open``, ``builtins.print = ...``: the notebook's builtins come
        back (or ``saved``: those of the patched region)."""
        current = _BUILTINS
        if saved is None:
            saved = self.builtins
        if same_dict(current, saved):
            return
        for key in [k for k in current if k not in saved]:
            del current[key]
        for key, value in saved.items():
            if current.get(key, _MISSING) is not value:
                current[key] = value

    def _restore_hooks(self) -> None:
        (sys.excepthook, sys.displayhook, sys.breakpointhook, threading.excepthook,
         sys.unraisablehook) = self.hooks

    def _restore_interpreter(self) -> None:
        switch, dlopen, digits, c_locale = self.interpreter
        sys.setswitchinterval(switch)
        sys.setdlopenflags(dlopen)
        sys.set_int_max_str_digits(digits)
        if _locale.setlocale(_locale.LC_ALL) != c_locale:
            _locale.setlocale(_locale.LC_ALL, c_locale)

    def _restore_cwd(self) -> None:
        try:
            same = _posix.getcwd() == self.cwd
        except OSError:
            same = False
        if not same:
            _posix.chdir(self.cwd)

    def _restore_environ(self) -> None:
        data = os.environ._data  # type: ignore[attr-defined]
        decode = os.fsdecode
        for key in [k for k in data if k not in self.environ]:
            del os.environ[decode(key)]
        for key, value in self.environ.items():
            if data.get(key, _MISSING) is not value:
                os.environ[decode(key)] = decode(value)

    @staticmethod
    def _restore_modules() -> None:
        modules = sys.modules
        if tuple(map(modules.get, _ORIGINALS)) == _ORIGINAL_MODULES:
            return  # the usual case, checked in one pass
        for name, module in _ORIGINALS.items():
            if modules.get(name) is not module:
                modules[name] = module

    def _restore_trace(self) -> None:
        if sys.gettrace() is not self.trace[0]:
            sys.settrace(self.trace[0])
        if sys.getprofile() is not self.trace[1]:
            sys.setprofile(self.trace[1])


_MISSING = object()
_BUILTINS = builtins.__dict__  # read without vars(): container code may replace builtins


def _hooks() -> tuple[Any, ...]:
    return (sys.excepthook, sys.displayhook, sys.breakpointhook, threading.excepthook,
            sys.unraisablehook)


def _interpreter() -> tuple[float, int, int, str]:
    # The C locale is the process's too (locale.setlocale inside would change it).
    return (sys.getswitchinterval(), sys.getdlopenflags(), sys.get_int_max_str_digits(),
            _locale.setlocale(_locale.LC_ALL))


_ready = False


def _get_ready() -> None:
    """Install the hooks and wrappers (once)."""
    global _ready
    install_open_hook()
    _install_guard()
    process.install()
    patch_set()
    _ready = True


@contextmanager
def patched() -> Iterator[Patcher]:
    """Patch the file system modules for the ``with`` block; then put the host back.

    Inside, :func:`run_process` runs container processes (one for
    ``Container.run``, one per container for ``run_each``). Afterwards the
    originals are back and the process-wide state container code may have
    changed is restored (:class:`_HostState`), whatever happened inside.
    """
    if not _ready:
        _get_ready()
    k = kernel()
    if k.ns is not None:
        from rosim._errors import LifecycleError

        raise LifecycleError("a container is already running code: run() does not nest.")
    global _current
    saved = _HostState()
    saved_umask = k.umask
    try:
        patcher = _apply_patches()
        try:
            saved.patched = _BUILTINS.copy()
            _current = saved
            yield patcher
        finally:
            if _current is saved:
                _current = None
            if not abandoned():
                # First, so that tear-down finds ``__import__`` and the rest as they were.
                try:
                    if not saved.builtins_checked:
                        saved.restore_builtins(saved.patched)
                finally:
                    _undo_patches()
    finally:
        if not abandoned():
            k.umask = saved_umask
            saved.restore()


def in_container_call(patcher: Patcher, func: Callable[..., Any], args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> tuple[Callable[..., Any], tuple[Any, ...],
                                                       dict[str, Any]]:
    """``func``, ``args`` and ``kwargs`` with real file system functions mapped inside.

    Real functions handed in (``ctr.run(os.remove, p)``) were looked up
    before patching: their simulated twins act inside (:func:`in_container`).
    """
    return (in_container(func, patcher),
            tuple(in_container(a, patcher) if callable(a) else a for a in args),
            {key: in_container(v, patcher) if callable(v) else v for key, v in kwargs.items()})


def run_process(ns: Namespace, uid: int, gid: int, func: Callable[..., Any],
                args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``func(*args, **kwargs)`` as a process of the container owning ``ns``.

    Call inside :func:`patched`, on the worker thread. The process sees
    ``ns`` as its file system, acts as ``uid``/``gid``, has its own
    ``logging`` configuration and signal and atexit tables; when it ends, its
    sqlite connections are written back and closed and the files it left open
    are closed (a file object it returns stays open).
    """
    k = kernel()
    entered = k.entered(ns)
    entered.__enter__()
    try:
        _become(uid, gid)
        opened = open_file_ids(k)
        result: Any = None
        try:
            with process_logging():
                try:
                    result = run_as_process(worker().call, func, args, kwargs)
                finally:
                    _builtins_back()
        finally:
            sqlite.finish()
            close_leftovers(k, opened, result)
        return result
    finally:
        _leave(entered)


def _become(uid: int, gid: int) -> None:
    """The process starting acts as ``uid``/``gid`` with the default temporary directory."""
    helpers.set_uid(uid)
    helpers.set_gid(gid)
    tempfile.tempdir = None


def _leave(entered: Any) -> None:
    """The process ended: leave its namespace (``entered``), unless the worker was abandoned."""
    if abandoned():
        # A new worker owns the kernel and the patches now: touch nothing.
        _LEFT_BEHIND.append(entered)
    else:
        entered.__exit__(None, None, None)


def _builtins_back() -> None:
    """The process ended: builtins it changed come back (the fake ``open`` stays)."""
    state = _current
    if state is not None and not abandoned():
        state.restore_builtins(state.patched)
        state.builtins_checked = True


_current: _HostState | None = None  # the host state saved by the patched() block running


@contextmanager
def inside(ns: Namespace, uid: int = 0, gid: int = 0) -> Iterator[Patcher]:
    """Run the ``with`` block as a process of the container owning ``ns``.

    The block runs as it is (not as a simulated process with its own exit,
    signals and atexit: see :func:`run_process`).
    """
    with patched() as patcher:
        k = kernel()
        entered = k.entered(ns)
        entered.__enter__()
        try:
            _become(uid, gid)
            with process_logging():
                yield patcher
        finally:
            _leave(entered)


def abandoned() -> bool:
    """Whether the calling thread is a worker that a stuck interrupt left behind."""
    # No builtins here (no bool()): it runs after container code, which may have replaced them.
    return threading.get_ident() in _abandoned if _abandoned else False


_is_clean = is_clean
_LEFT_BEHIND: list[Any] = []  # contexts of abandoned workers, kept from being finalised
atexit.register(_LEFT_BEHIND.clear)  # ... until the interpreter exits, while it still can

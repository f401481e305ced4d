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

Set-up and tear-down are atomic: a failure half-way is repaired by
:func:`force_unpatch`, so the host is never left patched, and whatever
process-wide state the code changed (working directory, umask, environment,
``sys.stdout``, recursion limit, ``sys.path``, warning filters...) is put back
(:class:`_HostState`). Modules first imported inside stay imported, pointed
back at the real ``os``/``io``/``pathlib``.
"""

from __future__ import annotations

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

from pyfakefs import helpers, mox3_stubout
from pyfakefs.fake_filesystem_unittest import PATH_MODULE, Patcher

from rosim.fs.kernel import kernel
from rosim.fs.namespace import Namespace
from rosim.fs.syscalls import ContainerOsModule, HostAccessError, install_open_hook
from rosim.runtime import process
from rosim.runtime.hostguard import guard_kind
from rosim.runtime.process import _guarded, mark_guarded

__all__ = ["close_leftovers", "force_unpatch", "in_container", "inside", "mark_guarded",
           "open_file_ids", "process_logging"]


class _ContainerPatcher(Patcher):
    """A pyfakefs Patcher whose file system is rosim's kernel."""

    def _refresh(self) -> None:
        if self._stubs is not None:
            self._stubs.smart_unset_all()
        self._stubs = mox3_stubout.StubOutForTesting()
        self.fs = kernel()
        self.fs.patch_open_code = self.patch_open_code
        for name, factory in self._fake_module_classes.items():
            self.fake_modules[name] = factory(self.fs)
            if hasattr(self.fake_modules[name], "skip_names"):
                self.fake_modules[name].skip_names = self.skip_names | {
                    m.__name__ for m in self.SKIPMODULES if m and "." in m.__name__
                }
        self.fake_modules[PATH_MODULE] = self.fake_modules["os"].path
        for name, factory in self._unfaked_module_classes.items():
            self.unfaked_modules[name] = factory()
        self._isStale = False


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


def _audit(event: str, args: tuple[Any, ...], _guarded: Callable[[], bool] = _guarded) -> None:
    if not _guarded():
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


def _active_guard() -> str:
    from rosim.runtime import worker

    current = worker._worker
    return current.guard if current is not None else guard_kind()


_hook_installed = False


def _install_guard() -> None:
    global _hook_installed
    if not _hook_installed:
        from rosim.runtime import processwide

        sys.addaudithook(_audit)
        _install_thread_inheritance()
        processwide.install()
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
    into the notebook nor make the next container's ``basicConfig`` a no-op.
    """
    manager = logging.Logger.manager
    loggers = [logging.root, *(v for v in manager.loggerDict.values()
                               if isinstance(v, logging.Logger))]
    saved = {id(lg): (lg, list(lg.handlers), lg.level, lg.disabled) for lg in loggers}
    try:
        yield
    finally:
        current = [logging.root, *(v for v in manager.loggerDict.values()
                                   if isinstance(v, logging.Logger))]
        for logger in current:
            before = saved.get(id(logger))
            keep = before[1] if before else []
            for handler in list(logger.handlers):
                if handler not in keep:
                    logger.removeHandler(handler)
                    try:
                        handler.close()
                    except Exception:  # noqa: BLE001, S110 - a simulated file may fail
                        pass
            if before:
                logger.setLevel(before[2])
                logger.disabled = before[3]


def open_file_ids(k: Any) -> set[int]:
    """Identities of the file objects open in the kernel now (see close_leftovers)."""
    return {id(w) for ws in k.open_files if ws for w in ws}


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


class _HostState:
    """Process-wide state that container code may change, saved to be put back."""

    __slots__ = ("builtins", "cwd", "environ", "excepthook", "filters", "gc", "gc_callbacks",
                 "gc_threshold", "hooks", "interpreter", "limit", "meta_path", "path", "stdio",
                 "tempdir", "trace", "umask")

    def __init__(self) -> None:
        self.tempdir = tempfile.tempdir
        self.cwd = _posix.getcwd()
        self.umask = _posix.umask(0o022)
        _posix.umask(self.umask)
        self.environ = dict(os.environ._data)  # type: ignore[attr-defined]
        self.stdio = (sys.stdin, sys.stdout, sys.stderr)
        self.hooks = (sys.excepthook, sys.displayhook, sys.breakpointhook,
                      threading.excepthook)
        self.excepthook = sys.unraisablehook
        self.limit = sys.getrecursionlimit()
        self.meta_path = list(sys.meta_path)
        self.path = list(sys.path)
        self.filters = list(warnings.filters)
        self.gc = gc.isenabled()
        self.gc_callbacks = list(gc.callbacks)
        self.gc_threshold = gc.get_threshold()
        self.trace = (sys.gettrace(), sys.getprofile())
        self.builtins = dict(vars(builtins))
        self.interpreter = (sys.getswitchinterval(), sys.getdlopenflags(),
                            sys.get_int_max_str_digits())

    def restore(self) -> None:
        """Put everything back (each step on its own, so one failure does not stop the rest)."""
        steps: list[Callable[[], Any]] = [
            self.restore_builtins,
            lambda: setattr(tempfile, "tempdir", self.tempdir),
            self._restore_cwd,
            lambda: _posix.umask(self.umask),
            self._restore_environ,
            lambda: (setattr(sys, "stdin", self.stdio[0]), setattr(sys, "stdout", self.stdio[1]),
                     setattr(sys, "stderr", self.stdio[2])),
            lambda: (setattr(sys, "excepthook", self.hooks[0]),
                     setattr(sys, "displayhook", self.hooks[1]),
                     setattr(sys, "breakpointhook", self.hooks[2]),
                     setattr(threading, "excepthook", self.hooks[3]),
                     setattr(sys, "unraisablehook", self.excepthook)),
            lambda: sys.setrecursionlimit(self.limit),
            lambda: sys.meta_path.__setitem__(slice(None), self.meta_path),
            lambda: sys.path.__setitem__(slice(None), self.path),
            lambda: warnings.filters.__setitem__(slice(None), self.filters),
            lambda: (warnings._filters_mutated(), None)[1],  # type: ignore[attr-defined]
            lambda: gc.enable() if self.gc else gc.disable(),
            lambda: gc.callbacks.__setitem__(slice(None), self.gc_callbacks),
            lambda: gc.set_threshold(*self.gc_threshold),
            self._restore_trace,
            lambda: (sys.setswitchinterval(self.interpreter[0]),
                     sys.setdlopenflags(self.interpreter[1]),
                     sys.set_int_max_str_digits(self.interpreter[2])),
        ]
        for step in steps:
            try:
                step()
            except Exception:  # noqa: BLE001, S112 - best effort for each piece
                continue

    def _restore_cwd(self) -> None:
        if _posix.getcwd() != self.cwd:
            _posix.chdir(self.cwd)

    def _restore_environ(self) -> None:
        data = os.environ._data  # type: ignore[attr-defined]
        if data == self.environ:
            return
        decode = os.fsdecode
        for key in [k for k in data if k not in self.environ]:
            del os.environ[decode(key)]
        for key, value in self.environ.items():
            if data.get(key) != value:
                os.environ[decode(key)] = decode(value)

    def restore_builtins(self, keep: tuple[str, ...] = ()) -> None:
        """``del builtins.open``, ``builtins.print = ...``: the notebook's builtins come
        back (all but the names in ``keep``)."""
        current = vars(builtins)
        saved = self.builtins
        for key in [k for k in current if k not in saved and k not in keep]:
            del current[key]
        for key, value in saved.items():
            if key not in keep and current.get(key, _MISSING) is not value:
                current[key] = value

    def _restore_trace(self) -> None:
        if sys.gettrace() is not self.trace[0]:
            sys.settrace(self.trace[0])
        if sys.getprofile() is not self.trace[1]:
            sys.setprofile(self.trace[1])


_MISSING = object()
_posix = posix  # the real functions: pyfakefs replaces module attributes that are ``os``
_REAL_MODULES: dict[str, Any] = {}


def _capture_real_modules() -> None:
    if _REAL_MODULES:
        return
    for name in ("os", "os.path", "io", "_io", "pathlib", "shutil", "fcntl", "tempfile",
                 "glob", "posixpath", "genericpath", "linecache", "tokenize"):
        module = sys.modules.get(name)
        if module is not None:
            _REAL_MODULES[name] = module
    _REAL_MODULES["builtins.open"] = builtins.open
    _REAL_MODULES["io.open"] = io.open


def force_unpatch() -> None:
    """Undo every pyfakefs patch, whatever state an interrupted run left.

    Idempotent: each step checks before it acts.
    """
    from pyfakefs.fake_filesystem_unittest import DynamicPatcher

    _undo_extra()
    # pyfakefs keeps its singleton on the class that was instantiated.
    patcher = _ContainerPatcher.PATCHER or Patcher.PATCHER
    if patcher is not None:
        for step in (lambda: patcher._stubs and patcher._stubs.smart_unset_all(),
                     patcher.unset_defaults, patcher.tempfile_patcher.stop_patching,
                     patcher.linecache_patcher.stop_patching):
            try:
                step()
            except Exception:  # noqa: BLE001, S112
                continue
        patcher._patching = False
        patcher._isStale = True
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, DynamicPatcher)]
    for name, module in _REAL_MODULES.items():
        if "." in name and name.startswith("builtins"):
            continue
        if name in sys.modules and sys.modules[name] is not module and name != "io.open":
            sys.modules[name] = module
    if _REAL_MODULES:
        builtins.open = _REAL_MODULES["builtins.open"]
        io.open = _REAL_MODULES["io.open"]
    for cls in (_ContainerPatcher, Patcher):
        cls.REF_COUNT = 0
        cls.PATCHER = None
    helpers.reset_ids()


def _is_clean() -> bool:
    return _ContainerPatcher.PATCHER is None and _ContainerPatcher.REF_COUNT == 0 and (
        not _REAL_MODULES or builtins.open is _REAL_MODULES["builtins.open"])


def _repoint(names: set[str], patcher: Patcher) -> None:
    """Modules first imported inside keep no reference to the fake modules."""
    fakes = {id(m): name for name, m in patcher.fake_modules.items()}
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in items:
            owner = fakes.get(id(value))
            if owner is not None:
                real = _REAL_MODULES.get(owner) or sys.modules.get(owner)
                if real is not None:
                    setattr(module, attr, real)
                continue
            bound = getattr(value, "__self__", None)
            owner = fakes.get(id(bound)) if bound is not None else None
            if owner is not None:
                real = _REAL_MODULES.get(owner) or sys.modules.get(owner)
                fn = getattr(real, getattr(value, "__name__", attr), None)
                if fn is not None:
                    setattr(module, attr, fn)


def _set_up() -> _ContainerPatcher:
    if not _is_clean():
        force_unpatch()
    patcher = _ContainerPatcher(modules_to_patch={"os": ContainerOsModule})
    try:
        patcher.setUp()
        for module, name, fake in _extra_patches():
            setattr(module, name, fake)
    except BaseException:
        force_unpatch()
        raise
    return patcher


_EXTRA: list[tuple[Any, str, Any, Any]] = []


def _extra_patches() -> list[tuple[Any, str, Any]]:
    """Modules pyfakefs does not fake: ``mmap`` of a file, ``sqlite3.connect``."""
    if not _EXTRA:
        import mmap
        import sqlite3
        import sqlite3.dbapi2

        from rosim.runtime import sqlite

        real_mmap = mmap.mmap

        class ContainerMmap(real_mmap):  # type: ignore[valid-type, misc]
            """``mmap.mmap``: anonymous maps work; a container file's is refused."""

            def __new__(cls, fileno: int, *args: Any, **kwargs: Any) -> Any:
                if fileno != -1:
                    raise HostAccessError(
                        errno.ENODEV, "mmap of a file is not simulated: a rosim "
                        "container's files live in memory, not behind a real descriptor "
                        "(read or write the file instead)")
                return real_mmap.__new__(cls, fileno, *args, **kwargs)

        ContainerMmap.__name__ = ContainerMmap.__qualname__ = "mmap"
        _EXTRA.extend([(mmap, "mmap", real_mmap, ContainerMmap),
                       (sqlite3, "connect", sqlite3.connect, sqlite.connect),
                       (sqlite3.dbapi2, "connect", sqlite3.dbapi2.connect, sqlite.connect)])
    return [(module, name, fake) for module, name, _real, fake in _EXTRA]


def _undo_extra() -> None:
    for module, name, real, _fake in _EXTRA:
        if getattr(module, name, None) is not real:
            setattr(module, name, real)


def _tear_down(patcher: _ContainerPatcher) -> None:
    dyn = getattr(patcher, "_dyn_patcher", None)
    loaded: set[str] = set()
    if dyn is not None:
        # pyfakefs deletes the modules imported while patched; a C extension
        # (numpy) cannot be imported twice, so they stay, pointed at the real os.
        loaded = set(dyn._loaded_module_names)
        dyn._loaded_module_names.clear()
    try:
        _undo_extra()
        patcher.tearDown()
    finally:
        _undo_extra()
        if not _is_clean():
            force_unpatch()
        helpers.reset_ids()
        if loaded:
            _repoint(loaded, patcher)


@contextmanager
def inside(ns: Namespace, uid: int = 0, gid: int = 0) -> Iterator[_ContainerPatcher]:
    """Run the ``with`` block as a process of the container owning ``ns``."""
    install_open_hook()
    _install_guard()
    process.install()
    _capture_real_modules()
    from rosim.runtime.worker import abandoned

    k = kernel()
    saved = _HostState()
    saved_umask = k.umask
    entered = k.entered(ns)
    entered.__enter__()
    try:
        patcher = _set_up()
        try:
            helpers.set_uid(uid)
            helpers.set_gid(gid)
            tempfile.tempdir = None
            with process_logging():
                yield patcher
        finally:
            # First, so that tear-down finds ``__import__`` and the rest as they were
            # (``open`` is pyfakefs' to put back).
            saved.restore_builtins(keep=("open",))
            if not abandoned():
                _tear_down(patcher)
    finally:
        if abandoned():
            # A new worker owns the kernel and the patches now: touch nothing.
            _LEFT_BEHIND.append(entered)
        else:
            entered.__exit__(None, None, None)
            k.umask = saved_umask
            saved.restore()


_LEFT_BEHIND: list[Any] = []  # contexts of abandoned workers, kept from being finalised
atexit.register(_LEFT_BEHIND.clear)  # ... until the interpreter exits, while it still can

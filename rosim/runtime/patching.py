"""Patch Python's file system modules for the length of one call.

:func:`inside` makes ``os``, ``open``, ``io``, ``pathlib``, ``shutil`` and
``tempfile`` act on a container's :class:`~rosim.fs.namespace.Namespace`
and undoes everything when the block ends, whatever happens inside. Nothing
stays patched between calls, so a notebook kernel is left exactly as it was.

Two guards keep simulated code off the real host:

* :func:`in_container` maps a real file system function handed to
  ``Container.run`` (``ctr.run(os.remove, path)``: ``os.remove`` was looked
  up before patching began) to its simulated twin, so it acts inside;
* an audit hook (:pep:`578`) refuses, with :class:`HostAccessError`, any
  real write, process start or file system change made by the thread that
  is running container code — whatever route it took.
"""

from __future__ import annotations

import builtins
import errno
import io
import logging
import os
import pathlib
import sys
import tempfile
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pyfakefs import helpers, mox3_stubout
from pyfakefs.fake_filesystem_unittest import PATH_MODULE, Patcher

from rosim.fs.kernel import kernel
from rosim.fs.namespace import Namespace
from rosim.fs.syscalls import ContainerOsModule, HostAccessError, install_open_hook

__all__ = ["close_leftovers", "in_container", "inside", "open_file_ids", "process_logging"]


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
_guard = threading.local()
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_REFUSED_EVENTS = frozenset({
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown",
    "os.link", "os.symlink", "os.truncate", "os.utime", "os.setxattr", "os.removexattr",
    "os.chflags", "os.mkfifo", "os.mknod", "os.system", "os.exec", "os.posix_spawn",
    "os.spawn", "os.fork", "os.forkpty", "os.kill", "os.killpg",
    "subprocess.Popen", "os.startfile", "os.chdir",
})


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not getattr(_guard, "active", False):
        return
    if event == "open":
        path, mode, flags = (args + (None, None, None))[:3]
        writing = (isinstance(flags, int) and flags & _WRITE_FLAGS) or (
            isinstance(mode, str) and any(c in mode for c in "wax+"))
        if not writing or path is None or isinstance(path, int):
            return
        # Python may try to cache bytecode; that failure is ignored by importlib.
        detail = f"open({path!r}, {mode or flags!r})"
    elif event in _REFUSED_EVENTS:
        detail = f"{event}{args!r}"
    else:
        return
    raise HostAccessError(
        errno.EPERM,
        f"refused: {detail} would act on the real host from inside a rosim container",
    )


_hook_installed = False


def _install_guard() -> None:
    global _hook_installed
    if not _hook_installed:
        sys.addaudithook(_audit)
        _hook_installed = True


# --------------------------------------------------------------- remapping
_OS_MODULES = {"posix", "nt", "os"}
_PATH_MODULES = {"posixpath", "genericpath", "ntpath", "os.path"}
_IO_MODULES = {"io", "_io"}
# Held in a dict so that pyfakefs, which patches module attributes, leaves
# these references to the real modules alone.
_REAL = {"os": os, "path": os.path, "io": io, "open": builtins.open}


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


@contextmanager
def inside(ns: Namespace, uid: int = 0, gid: int = 0) -> Iterator[_ContainerPatcher]:
    """Run the ``with`` block as a process of the container owning ``ns``."""
    install_open_hook()
    _install_guard()
    k = kernel()
    saved_tempdir = tempfile.tempdir
    with k.entered(ns):
        patcher = _ContainerPatcher(modules_to_patch={"os": ContainerOsModule})
        patcher.setUp()
        try:
            helpers.set_uid(uid)
            helpers.set_gid(gid)
            tempfile.tempdir = None
            _guard.active = True
            with process_logging():
                yield patcher
        finally:
            _guard.active = False
            tempfile.tempdir = saved_tempdir
            patcher.tearDown()
            helpers.reset_ids()

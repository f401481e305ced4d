"""Calls that act on the whole notebook process: refused from container code.

Container code runs on threads of the notebook's own process. Some calls
reach that process through a door neither guard watches: Landlock checks
rights when a *path* is opened, and CPython raises no audit event for them.

* **Real descriptors.** The notebook holds real files and sockets open (its
  kernel's connections among them). ``posix.write``, ``posix.close``,
  ``posix.closerange``, ``posix.dup2``... on such a number would write into a
  host file or cut the kernel off. On a container thread these functions act
  only on descriptors that container code itself opened with the real
  ``posix`` functions (``posix.open`` of a file it may read, ``posix.pipe``...);
  any other number is refused. (The simulated ``os`` module never gets here:
  its descriptors are simulated.) Opening a real descriptor with
  ``io.FileIO(fd)`` is refused by the audit hook, wrapping one in a socket
  (``socket.socket(fileno=fd)``, ``socket.fromfd``) here.
* **Credentials, session, root.** ``posix.setuid``, ``setgid``,
  ``setgroups``, ``setsid``, ``chroot``...: glibc applies them to every
  thread, so one call would make a notebook running as root lose its rights
  for good. (The simulated ``os`` refuses them too.)
* **faulthandler.** ``dump_traceback_later(..., exit=True)`` would end the
  kernel later; ``register``/``enable`` install process-wide handlers.

The wrappers are the real functions on every other thread.

>>> import posix
>>> install()
>>> posix.close.__wrapped__ is not None
True
"""

from __future__ import annotations

import errno
import functools
import os
import threading
from collections.abc import Callable
from typing import Any

from rosim.runtime.process import _guarded, once, refuse_guarded, wrap

__all__ = ["forget", "install", "owned"]

# Functions whose first argument is a descriptor they act on.
_FD_FUNCTIONS = (
    "close", "dup", "dup2", "write", "pwrite", "writev", "pwritev", "read", "pread", "readv",
    "preadv", "ftruncate", "fchmod", "fchown", "fsync", "fdatasync", "lseek", "sendfile",
    "copy_file_range", "splice", "posix_fallocate", "posix_fadvise", "lockf", "set_blocking",
    "set_inheritable", "tcsetpgrp", "login_tty", "eventfd_read", "eventfd_write",
)
# Functions that make a new real descriptor (or two) for the caller.
_FD_MAKERS = ("open", "dup", "pipe", "pipe2", "openpty", "memfd_create", "eventfd")
# Credentials, session and root: glibc applies them to every thread of the
# process, so from a container thread they would change the notebook's.
_PROCESS_CALLS = ("setuid", "setgid", "seteuid", "setegid", "setreuid", "setregid",
                  "setresuid", "setresgid", "setgroups", "initgroups", "setsid", "setpgid",
                  "setpgrp", "chroot", "unshare", "setns")
_FAULTHANDLER = ("dump_traceback_later", "enable", "register", "disable", "unregister",
                 "cancel_dump_traceback_later")

#: Real descriptors that container code opened itself (and may use).
_owned: set[int] = set()
_lock = threading.Lock()


def owned() -> frozenset[int]:
    """The real descriptors container code opened and has not closed."""
    return frozenset(_owned)


def _refuse(what: str, fd: Any) -> OSError:
    from rosim.fs.syscalls import HostAccessError

    return HostAccessError(errno.EBADF, f"{what}({fd!r}) is refused: descriptor {fd!r} "
                           "belongs to the notebook's own process, not to this rosim "
                           "container")


def _keep(result: Any) -> Any:
    with _lock:
        if isinstance(result, int):
            _owned.add(result)
        elif isinstance(result, tuple):
            _owned.update(fd for fd in result if isinstance(fd, int))
    return result


def _maker(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def make(*args: Any, **kwargs: Any) -> Any:
        if not _guarded():
            return real(*args, **kwargs)
        if real.__name__ == "dup" and args and args[0] not in _owned:
            raise _refuse("dup", args[0])
        return _keep(real(*args, **kwargs))

    return make


def _user(real: Callable[..., Any]) -> Callable[..., Any]:
    name = real.__name__

    @functools.wraps(real)
    def use(fd: Any, *args: Any, **kwargs: Any) -> Any:
        if not _guarded():
            return real(fd, *args, **kwargs)
        if fd not in _owned:
            raise _refuse(name, fd)
        if name == "dup2" and args and args[0] not in _owned:
            raise _refuse(name, args[0])
        result = real(fd, *args, **kwargs)
        if name == "close":
            with _lock:
                _owned.discard(fd)
        elif name == "dup2":
            _keep(result)
        return result

    return use


def _closerange(real: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(real)
    def closerange(fd_low: int, fd_high: int) -> None:
        if not _guarded():
            return real(fd_low, fd_high)
        for fd in sorted(_owned):
            if fd_low <= fd < fd_high:
                try:
                    real(fd, fd + 1)
                finally:
                    with _lock:
                        _owned.discard(fd)
        return None

    return closerange



def _wrap_sockets() -> None:
    """Sockets: the same rule as ``posix``, for ``socket.socket(fileno=fd)`` and
    ``socket.fromfd``; the sockets the code makes itself are its own."""
    import _socket
    import socket

    real_init = socket.socket.__init__
    if hasattr(real_init, "__wrapped__"):
        return

    @functools.wraps(real_init)
    def __init__(self: Any, family: Any = -1, type: Any = -1, proto: Any = -1,  # noqa: A002
                 fileno: Any = None) -> None:
        if not _guarded():
            return real_init(self, family, type, proto, fileno)
        if fileno is not None and fileno not in _owned:
            raise _refuse("socket.socket(fileno=...)", fileno)
        real_init(self, family, type, proto, fileno)
        _keep(self.fileno())
        return None

    real_accept = socket.socket._accept  # type: ignore[attr-defined]

    @functools.wraps(real_accept)
    def _accept(self: Any) -> Any:
        fd, address = real_accept(self)
        if _guarded():
            _keep(fd)
        return fd, address

    socket.socket.__init__ = __init__  # type: ignore[method-assign]
    socket.socket._accept = _accept  # type: ignore[attr-defined]
    wrap(socket, "dup", _maker)
    real_pair = getattr(_socket, "socketpair", None)
    if real_pair is not None:
        @functools.wraps(real_pair)
        def socketpair(*args: Any, **kwargs: Any) -> Any:
            pair = real_pair(*args, **kwargs)
            if _guarded():
                _keep(tuple(s.fileno() for s in pair))
            return pair

        _socket.socketpair = socketpair


def _wrap_popen() -> None:
    """``subprocess.Popen`` (``run``, ``check_output``, ``os.popen``): refused before it
    makes its pipes, with rosim's message (not an error from half-made pipes)."""
    import subprocess

    real_init = subprocess.Popen.__init__
    if hasattr(real_init, "__wrapped__"):
        return

    @functools.wraps(real_init)
    def __init__(self: Any, args: Any, *rest: Any, **kwargs: Any) -> None:
        if _guarded():
            from rosim.fs.syscalls import HostAccessError

            raise HostAccessError(errno.EPERM, f"subprocess.Popen({args!r:.80}) is not "
                                  "simulated: a rosim container runs no real programs; "
                                  "use its shell (ctr.sh) instead")
        real_init(self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = __init__  # type: ignore[method-assign]


def forget() -> None:
    """The simulated process ended: its real descriptors are no longer its own.

    (A number it closed through a route not wrapped here could otherwise be
    reused by the notebook and still count as the code's.)
    """
    with _lock:
        _owned.clear()


@once
def install() -> None:
    """Wrap the functions once (see the module doc); idempotent."""
    import faulthandler
    import posix

    for module in {os, posix}:
        for name in _FD_MAKERS:
            # os.open stays the builtin (the simulated os has its own); a real
            # descriptor opened through it is simply not the code's to use.
            if name != "dup" and not (name == "open" and module is os):
                wrap(module, name, _maker)
        for name in _FD_FUNCTIONS:
            wrap(module, name, _maker if name == "dup" else _user)
        wrap(module, "closerange", _closerange)
        for name in _PROCESS_CALLS:
            wrap(module, name, lambda real, n=name: refuse_guarded(real, f"posix.{n}"))
    _wrap_sockets()
    _wrap_popen()
    try:
        # Imported now so that its history writers are wrapped (process.install)
        # before container code could import it first, out of their reach.
        import readline  # noqa: F401
    except ImportError:  # pragma: no cover - Python built without it
        pass
    for name in _FAULTHANDLER:
        wrap(faulthandler, name, lambda real, n=name: refuse_guarded(real, f"faulthandler.{n}"))

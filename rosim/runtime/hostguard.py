"""The host guard: code inside a container cannot change the real machine.

Container code (``Container.run``, ``sh``, ``exec``, every simulated
program) runs on one long-lived *worker thread*. Before running anything,
that thread confines itself with **Landlock**, the Linux security module
that lets an unprivileged thread give up rights for good:

* on the whole host file system it keeps only *reading* files and listing
  directories (so imports work); writing, truncating, creating, removing,
  renaming, linking, making devices, fifos or sockets, executing and device
  ioctls are refused by the kernel (``EACCES``), whatever route the code takes
  (``open``, ``sqlite3``, ``ctypes``, ``readline``, ``_posixsubprocess``...);
* with Landlock ABI 4 or later, binding and connecting TCP sockets;
* with ABI 6 or later, abstract unix sockets and signals to other processes.

``PR_SET_NO_NEW_PRIVS`` and the Landlock domain belong to the thread and
are inherited by every thread and process it starts, so a thread or a
``fork`` from container code is confined too. The notebook's own threads
(the main thread included) stay unconfined.

Where Landlock is missing (not Linux, a kernel before 5.13, Landlock
disabled) or when the environment variable ``ROSIM_HOST_GUARD=audit`` asks
for it, the guard is the *audit hook* (:pep:`578`): it refuses real writes,
process starts and file system changes made by the worker thread and by
every thread started from it. An audit hook is cooperative: C code that
makes system calls itself (``ctypes``) is not seen.

:func:`host_guard` says which guard is active::

    >>> import rosim
    >>> rosim.host_guard() in ("landlock", "audit")
    True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import platform
import sys
from typing import Any

__all__ = ["GuardUnavailable", "confine_thread", "guard_kind", "host_guard", "landlock_abi"]

# Landlock system calls (identical numbers on every architecture since 5.13,
# except alpha, which rosim does not run on).
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# File system rights (include/uapi/linux/landlock.h), by the ABI that added them.
_FS_EXECUTE = 1 << 0
_FS_WRITE_FILE = 1 << 1
_FS_READ_FILE = 1 << 2
_FS_READ_DIR = 1 << 3
_FS_ABI1 = (1 << 13) - 1            # EXECUTE .. MAKE_SYM
_FS_REFER = 1 << 13                 # ABI 2
_FS_TRUNCATE = 1 << 14              # ABI 3
_FS_IOCTL_DEV = 1 << 15             # ABI 5
_NET_BIND_TCP = 1 << 0              # ABI 4
_NET_CONNECT_TCP = 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
_SCOPE_SIGNAL = 1 << 1


class GuardUnavailable(OSError):
    """Landlock cannot confine this thread (not Linux, too old, disabled)."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


_libc: Any = None


def _syscall() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        _libc.syscall.restype = ctypes.c_long
        _libc.prctl.restype = ctypes.c_int
    return _libc


def landlock_abi() -> int:
    """The Landlock ABI version the running kernel offers; 0 if none."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = _syscall()
    except OSError:
        return 0
    abi = libc.syscall(ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET), None, ctypes.c_size_t(0),
                       ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    return int(abi) if abi > 0 else 0


def _fail(what: str) -> GuardUnavailable:
    code = ctypes.get_errno() or errno.EPERM
    return GuardUnavailable(code, f"{what}: {os.strerror(code)}")


def confine_thread() -> int:
    """Confine the calling thread with Landlock; return the ABI version used.

    After this call the thread (and every thread or process it starts) may
    read the host's files but not change them, execute programs, use TCP
    (ABI >= 4), nor signal or reach abstract sockets outside (ABI >= 6).
    Raises :class:`GuardUnavailable` if Landlock is not available.
    """
    abi = landlock_abi()
    if abi < 1:
        raise GuardUnavailable(errno.EOPNOTSUPP, "Landlock is not available on "
                               f"{platform.system()} {platform.release()}")
    libc = _syscall()
    fs = _FS_ABI1
    if abi >= 2:
        fs |= _FS_REFER
    if abi >= 3:
        fs |= _FS_TRUNCATE
    if abi >= 5:
        fs |= _FS_IOCTL_DEV
    attr = _RulesetAttr(handled_access_fs=fs,
                        handled_access_net=(_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        scoped=(_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = libc.syscall(ctypes.c_long(_SYS_LANDLOCK_CREATE_RULESET), ctypes.byref(attr),
                           ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise _fail("landlock_create_ruleset")
    try:
        root = os.open("/", os.O_PATH | os.O_CLOEXEC)
        try:
            rule = _PathBeneathAttr(allowed_access=_FS_READ_FILE | _FS_READ_DIR, parent_fd=root)
            if libc.syscall(ctypes.c_long(_SYS_LANDLOCK_ADD_RULE), ctypes.c_int(ruleset),
                            ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                            ctypes.c_uint32(0)) < 0:
                raise _fail("landlock_add_rule")
        finally:
            os.close(root)
        if libc.prctl(ctypes.c_int(_PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0),
                      ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
            raise _fail("prctl(PR_SET_NO_NEW_PRIVS)")
        if libc.syscall(ctypes.c_long(_SYS_LANDLOCK_RESTRICT_SELF), ctypes.c_int(ruleset),
                        ctypes.c_uint32(0)) < 0:
            raise _fail("landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def guard_kind() -> str:
    """The guard asked for: ``'audit'`` if ``ROSIM_HOST_GUARD=audit``, else Landlock's
    name if the kernel offers it, else ``'audit'``."""
    wanted = os.environ.get("ROSIM_HOST_GUARD", "").strip().lower()
    if wanted == "audit":
        return "audit"
    return "landlock" if landlock_abi() >= 1 else "audit"


def host_guard() -> str:
    """Which guard keeps container code off the real host: ``'landlock'`` or ``'audit'``.

    ``'landlock'``: the Linux kernel refuses every change to the host's files,
    every program start and TCP connection made by container code, whatever
    route it takes. ``'audit'``: a Python audit hook refuses the changes that
    Python's own modules make (cooperative code; ``ctypes`` can get past it).
    Set ``ROSIM_HOST_GUARD=audit`` before the first container runs code to
    force the audit guard. Starts the worker thread if it is not running yet.
    """
    from rosim.runtime.worker import worker

    return worker().guard



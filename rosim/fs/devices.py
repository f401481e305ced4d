"""The character devices in a container's ``/dev``, simulated.

runc makes ``/dev/null``, ``zero``, ``full``, ``random``, ``urandom`` and
``tty`` in every container. Opening one of those nodes inside a container
gives a file object that behaves as the Linux driver does, without touching
the host's devices:

* ``null`` (1, 3): reads are at end of file, writes succeed and vanish;
* ``zero`` (1, 5): reads give zero bytes, writes succeed and vanish;
* ``full`` (1, 7): reads give zero bytes, writes fail with ``ENOSPC``;
* ``random`` (1, 8) and ``urandom`` (1, 9): reads give bytes from
  :func:`os.urandom`, writes succeed (they would only stir the pool);
* ``tty`` (5, 0): ``ENXIO`` on open, as for a process without a
  controlling terminal (a container run without ``-t``).

Each read returns at most :data:`CHUNK` bytes, so a loop that reads an
endless device runs Python code between reads (an interrupt can stop it),
and reading such a device to its end fails with ``MemoryError`` after
:data:`READ_ALL_LIMIT` bytes instead of taking the notebook's memory.
"""

from __future__ import annotations

import errno
import io
import os
from typing import Any

__all__ = ["CHUNK", "READ_ALL_LIMIT", "DeviceFile", "is_device", "mark", "open_device"]

#: The most bytes one read of a device returns (the kernel's pipe capacity).
CHUNK = 65536
#: ``read()`` of an endless device gives up with MemoryError past this many bytes.
READ_ALL_LIMIT = 64 * 1024 * 1024

_NAMES = {(1, 3): "null", (1, 5): "zero", (1, 7): "full", (1, 8): "random",
          (1, 9): "urandom", (5, 0): "tty"}
_KEY = "_rosim_chr"


def mark(node: Any, rdev: tuple[int, int]) -> None:
    """Record on a character-device ``node`` which driver it stands for."""
    if rdev in _NAMES:
        node.__dict__[_KEY] = rdev


def is_device(node: Any) -> bool:
    """Whether ``node`` is one of the simulated character devices."""
    return node is not None and _KEY in node.__dict__


class DeviceFile(io.RawIOBase):
    """An open simulated character device (see the module's docstring)."""

    def __init__(self, rdev: tuple[int, int], path: str, readable: bool,
                 writable: bool) -> None:
        super().__init__()
        self.kind = _NAMES[rdev]
        self.name = path
        self._readable, self._writable = readable, writable

    def readable(self) -> bool:
        """True when opened for reading."""
        return self._readable

    def writable(self) -> bool:
        """True when opened for writing."""
        return self._writable

    def seekable(self) -> bool:
        """Character devices do not seek here (offsets are ignored by Linux)."""
        return False

    def readinto(self, buffer: Any) -> int:
        """Fill at most :data:`CHUNK` bytes of ``buffer`` from the device."""
        if not self._readable:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        view = memoryview(buffer).cast("B")
        size = min(len(view), CHUNK)
        if self.kind == "null" or size == 0:
            return 0
        if self.kind in ("random", "urandom"):
            view[:size] = os.urandom(size)
        else:
            view[:size] = bytes(size)
        return size

    def readall(self) -> bytes:
        """Read to the end: ``b""`` for null; MemoryError past the limit for the others."""
        if self.kind == "null":
            return b""
        raise MemoryError(f"reading {self.name} to its end: the device never ends "
                          f"(rosim stops at {READ_ALL_LIMIT} bytes)")

    def write(self, data: Any) -> int:
        """Accept ``data`` (all of it), or fail with ENOSPC for ``/dev/full``."""
        if not self._writable:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        if self.kind == "full":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return len(memoryview(data).cast("B"))

    def fileno(self) -> int:
        """No host descriptor stands behind a simulated device."""
        raise io.UnsupportedOperation("fileno")


def open_device(node: Any, path: Any, mode: str, buffering: int = -1,
                encoding: str | None = None, errors: str | None = None,
                newline: str | None = None) -> Any:
    """``open(path, mode, ...)`` of the device ``node``: a raw, buffered or text file."""
    rdev = node.__dict__[_KEY]
    name = os.fsdecode(path) if isinstance(path, str | bytes) else str(path)
    if _NAMES[rdev] == "tty":
        raise OSError(errno.ENXIO, os.strerror(errno.ENXIO), name)
    plus = "+" in mode
    readable = "r" in mode or plus
    writable = any(c in mode for c in "wax") or plus
    raw = DeviceFile(rdev, name, readable, writable)
    if buffering == 0:
        if "b" not in mode:
            raise ValueError("can't have unbuffered text I/O")
        return raw
    size = CHUNK if buffering in (-1, 1) else buffering
    buffered: io.BufferedIOBase
    if readable and writable:
        buffered = io.BufferedRWPair(raw, raw, size)
    elif writable:
        buffered = io.BufferedWriter(raw, size)
    else:
        buffered = io.BufferedReader(raw, size)
    if "b" in mode:
        return buffered
    text = io.TextIOWrapper(buffered, encoding or "utf-8", errors, newline,
                            line_buffering=buffering == 1)
    text.mode = mode  # type: ignore[misc]
    return text

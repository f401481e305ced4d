"""The event log: every file system call a container made through ``run``.

Each :class:`FsEvent` records the operation (named after the system call:
``open``, ``mkdir``, ``unlink``, ``rename``, ...), the path as the program
passed it, the mount it landed on, and the outcome: ``'ok'`` or the errno
name (``'EROFS'``). Later chapters plot these and use them to diagnose an
app's writes.
"""

from __future__ import annotations

import errno as _errno
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["EventLog", "FsEvent"]


@dataclass(frozen=True, slots=True)
class FsEvent:
    """One file system call made inside a container.

    ``mount`` is the destination of the mount the path resolved to (``'/'``
    for the overlay root) or ``None`` when the path's directory did not
    exist. ``detail`` holds call specifics such as the open mode.
    """

    seq: int
    op: str
    path: str
    mount: str | None
    result: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the call succeeded."""
        return self.result == "ok"

    @property
    def errno(self) -> int | None:
        """The numeric errno of a failed call, ``None`` for a success."""
        return None if self.ok else getattr(_errno, self.result, None)

    def __str__(self) -> str:
        detail = f" [{self.detail}]" if self.detail else ""
        return f"{self.op}({self.path!r}){detail} on {self.mount or '?'} -> {self.result}"


class EventLog:
    """An append-only sequence of :class:`FsEvent` with a few summaries."""

    def __init__(self) -> None:
        self._events: list[FsEvent] = []

    def record(self, op: str, path: object, mount: str | None, err: int | None,
               detail: str = "") -> None:
        """Append one event; ``err`` is an errno number or ``None`` for success."""
        if isinstance(path, bytes):
            path = path.decode(errors="surrogateescape")
        result = "ok" if not err else _errno.errorcode.get(err, str(err))
        self._events.append(FsEvent(len(self._events), op, str(path), mount, result, detail))

    def __iter__(self) -> Iterator[FsEvent]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, index: int) -> FsEvent:
        return self._events[index]

    def errors(self) -> list[FsEvent]:
        """Return the events that failed."""
        return [e for e in self._events if not e.ok]

    def writes_denied(self) -> list[FsEvent]:
        """Return the events refused because a mount is read-only (EROFS)."""
        return [e for e in self._events if e.result == "EROFS"]

    def summary(self) -> Counter[tuple[str, str]]:
        """Count events by (mount, result), e.g. ``{('/', 'EROFS'): 3, ...}``."""
        return Counter((e.mount or "?", e.result) for e in self._events)

    def clear(self) -> None:
        """Forget every recorded event."""
        self._events.clear()

    def __repr__(self) -> str:
        return f"<EventLog {len(self._events)} events, {len(self.errors())} failed>"

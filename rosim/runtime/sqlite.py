"""``sqlite3`` inside a container: databases live in the container's files.

``sqlite3.connect(path)`` in container code opens the database *file of the
container* (through the simulated file system, so every mount rule holds):
its bytes are loaded into an in-memory SQLite database
(``Connection.deserialize``) and written back (``serialize``) when changes
are committed, when the connection closes and when the process ends, as a
real SQLite writes its file. SQLite's own errors come out where the real one
gives them:

* a missing file whose directory cannot be written (a read-only root, no such
  directory): ``sqlite3.OperationalError: unable to open database file``;
* a database on a read-only mount opens, reads work, and the first write is
  ``sqlite3.OperationalError: attempt to write a readonly database``;
* a full device when the changes are written back: ``database or disk is full``.

Journal files (``-journal``, ``-wal``) are not simulated. ``:memory:``
databases are SQLite's own.
"""

from __future__ import annotations

import errno
import sqlite3
import weakref
from typing import Any

__all__ = ["connect", "finish"]

_real_connect = sqlite3.connect
_factories: dict[type, type] = {}
_open: list[weakref.ref[Any]] = []


def _container_connection(base: type) -> type:
    cls = _factories.get(base)
    if cls is not None:
        return cls

    class ContainerConnection(base):  # type: ignore[misc, valid-type]
        """A connection whose database is a file in the container."""

        _rosim_path = ""
        _rosim_synced = 0

        def commit(self) -> None:
            """Commit, then write the database back to its file."""
            super().commit()
            _sync(self)

        def execute(self, *args: Any, **kwargs: Any) -> Any:
            """Execute; in autocommit mode the change reaches the file at once."""
            cursor = super().execute(*args, **kwargs)
            if not self.in_transaction:
                _sync(self)
            return cursor

        def executemany(self, *args: Any, **kwargs: Any) -> Any:
            """executemany; autocommitted changes reach the file at once."""
            cursor = super().executemany(*args, **kwargs)
            if not self.in_transaction:
                _sync(self)
            return cursor

        def executescript(self, *args: Any, **kwargs: Any) -> Any:
            """executescript (it commits first, as sqlite3 does), then write back."""
            cursor = super().executescript(*args, **kwargs)
            if not self.in_transaction:
                _sync(self)
            return cursor

        def __exit__(self, *exc: Any) -> Any:
            result = super().__exit__(*exc)
            _sync(self)
            return result

        def close(self) -> None:
            """Close: uncommitted changes are lost, committed ones are in the file."""
            try:
                if self.in_transaction:
                    self.rollback()
                _sync(self)
            finally:
                super().close()

    ContainerConnection.__name__ = ContainerConnection.__qualname__ = base.__name__
    _factories[base] = ContainerConnection
    return ContainerConnection


def _sync(conn: Any) -> None:
    from rosim.runtime.process import _guarded

    if not _guarded():
        raise sqlite3.ProgrammingError("the database lives in a rosim container: use it "
                                       "inside Container.run")
    try:
        changes = conn.total_changes
    except sqlite3.ProgrammingError:
        return  # closed
    if changes == conn._rosim_synced:
        return
    data = conn.serialize()
    try:
        with open(conn._rosim_path, "r+b") as f:  # the container's open (patched)
            f.write(data)
            f.truncate()
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise sqlite3.OperationalError("database or disk is full") from None
        raise sqlite3.OperationalError("attempt to write a readonly database") from None
    conn._rosim_synced = changes


def _path(database: Any, uri: bool) -> tuple[str, str]:
    import os

    name = os.fsdecode(database) if not isinstance(database, str) else database
    mode = "rwc"
    if uri and name.startswith("file:"):
        name, _, query = name[5:].partition("?")
        for part in query.split("&"):
            key, _, value = part.partition("=")
            if key == "mode":
                mode = value
        if name.startswith("//"):
            name = name[2:]
    return name, mode


def connect(database: Any, *args: Any, **kwargs: Any) -> Any:
    """``sqlite3.connect`` for container code (see the module doc)."""
    from rosim.runtime.process import _guarded

    if not _guarded():
        return _real_connect(database, *args, **kwargs)
    uri = bool(kwargs.get("uri", len(args) > 6 and args[6]))
    name, mode = _path(database, uri)
    if name in (":memory:", "") or mode == "memory":
        return _real_connect(database, *args, **kwargs)
    try:
        with open(name, "rb") as f:
            data: bytes | None = f.read()
    except FileNotFoundError:
        data = None
    except OSError:
        raise sqlite3.OperationalError("unable to open database file") from None
    writable = mode != "ro"
    if data is None:
        if mode in ("ro", "rw"):
            raise sqlite3.OperationalError("unable to open database file")
        try:
            with open(name, "xb"):
                pass
        except OSError:
            raise sqlite3.OperationalError("unable to open database file") from None
    elif writable:
        try:
            with open(name, "r+b"):
                pass
        except OSError:
            writable = False
    kwargs.pop("uri", None)
    base = kwargs.pop("factory", sqlite3.Connection)
    conn = _real_connect(":memory:", *args[:6], factory=_container_connection(base),
                         **kwargs)
    if data:
        conn.deserialize(data)
    if not writable:
        conn.execute("PRAGMA query_only = ON")
    conn._rosim_path = name
    conn._rosim_synced = conn.total_changes
    _open.append(weakref.ref(conn))
    return conn


def finish() -> None:
    """Process exit: write back what open connections committed, and close them.

    A connection handed out of ``run()`` is closed too: its file is in the
    container, out of the notebook's reach.
    """
    while _open:
        conn = _open.pop()()
        if conn is None:
            continue
        try:
            if conn.in_transaction:
                conn.rollback()
            _sync(conn)
        except sqlite3.Error:
            pass
        finally:
            sqlite3.Connection.close(conn)

"""New pyfakefs nodes, made by copying one that pyfakefs' constructor made.

pyfakefs' ``FakeFile.__init__`` routes every attribute through
``FakeFile.__setattr__``, which forwards the ``st_*`` names to the node's
stat result: a node costs tens of microseconds, and a container start makes
a dozen (mount roots, bind-mounted files, the image directories on the way to
its mount points). :func:`clone` makes the same node from a prototype built
once by the real constructor: its attributes are copied, and those that must
not be shared (the stat result, the entries and extended attributes, the
name and contents, anything the caller names) are the new node's own. If a
pyfakefs version gives nodes a mutable attribute this module does not know,
:func:`prototype` refuses it and callers use the constructor.
"""

from __future__ import annotations

import weakref
from typing import Any

from pyfakefs import helpers
from pyfakefs.fake_file import FakeFile
from pyfakefs.helpers import FakeStatResult

__all__ = ["clone", "prototype"]

_IMMUTABLE = (str, bytes, int, float, bool, type(None), weakref.ref)
#: Attributes :func:`clone` always gives the new node a value of its own.
_OWN = frozenset({"stat_result", "name", "_byte_contents", "xattr", "_entries"})


def prototype(node: FakeFile, own: frozenset[str] = frozenset()) -> FakeFile | None:
    """``node`` if copying it shares no mutable value (``own`` names the
    attributes the caller replaces), else None."""
    stat = getattr(node, "stat_result", None)
    if type(stat) is not FakeStatResult or not all(
            isinstance(v, _IMMUTABLE) for v in vars(stat).values()):
        return None
    if not all(isinstance(v, _IMMUTABLE) or k in _OWN or k in own
               for k, v in vars(node).items()):
        return None
    return node


def clone(proto: FakeFile, name: str, st_mode: int, contents: bytes | None, *,
          uid: int | None = None, gid: int | None = None, time_ns: int | None = None,
          size: int | None = None, **attrs: Any) -> FakeFile:
    """A node like ``proto`` named ``name``, of mode ``st_mode``, holding ``contents``.

    ``uid``/``gid`` default to the current user's, ``time_ns`` (atime, mtime and
    ctime) to now, ``size`` to the contents' length; ``attrs`` are set as given
    (each a value of the new node's own).
    """
    node = object.__new__(type(proto))
    values = node.__dict__
    values.update(proto.__dict__)
    stat = object.__new__(FakeStatResult)
    stat_values = stat.__dict__
    stat_values.update(proto.stat_result.__dict__)
    stamp = int(helpers.now() * 1e9) if time_ns is None else time_ns
    stat_values.update(
        st_mode=st_mode, st_uid=helpers.get_uid() if uid is None else uid,
        st_gid=helpers.get_gid() if gid is None else gid,
        _st_size=(len(contents) if contents is not None else 0) if size is None else size,
        _st_atime_ns=stamp, _st_mtime_ns=stamp, _st_ctime_ns=stamp)
    values["stat_result"] = stat
    values["name"] = name
    values["_byte_contents"] = contents
    values["xattr"] = {}
    if "_entries" in values:
        values["_entries"] = {}
    values.update(attrs)
    return node

"""Where a container writes: from a diff, the catalogue, Python code, or an image tar.

Every source gives :class:`WritePath` records: the path written, what it
holds (:class:`~rosim.check.catalogue.PathKind`, guessed from the path when
the source does not say), where the fact came from, and the directory a fix
would mount there.

* :func:`parse_diff` reads ``docker diff`` / ``podman diff`` output: ``A``
  (added), ``C`` (changed, including every directory on the way to a change)
  and ``D`` (deleted) lines. Directories listed only because something below
  them changed are not writes of their own.
* :func:`catalogue_writes` asks the image catalogue.
* :func:`python_writes` runs ``MODULE:FUNCTION`` inside a writable rosim
  container and reads the container's diff, as ``docker diff`` would.

>>> [(w.change, w.path, w.kind.value, w.mount) for w in parse_diff(
...     "C /var\\nC /var/log\\nA /var/log/app.log\\nC /tmp\\nA /tmp/x\\n", source="run.diff")]
[('A', '/var/log/app.log', 'log', '/var/log'), ('A', '/tmp/x', 'temp', '/tmp')]
"""

from __future__ import annotations

import importlib
import posixpath
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rosim._errors import ConfigError, ImageError
from rosim.check.catalogue import CatalogueEntry, PathKind, lookup
from rosim.fs.layers import Dir, Image

__all__ = ["CheckInputError", "WritePath", "catalogue_writes", "changes_to_writes", "classify",
           "parse_diff", "python_writes", "stand_in_image"]


class CheckInputError(ConfigError):
    """An input of ``rosim check`` (a diff, a ``--python`` target, an option) is bad.

    The message is one line naming the input and what is wrong with it.
    """


@dataclass(frozen=True)
class WritePath:
    """One path a container writes at run time.

    ``change`` is the diff's letter (``A``, ``C``, ``D``), ``origin`` where
    the fact comes from (``diff run.diff:3``, ``catalogue nginx``, ``python
    app:main``), ``mount`` the directory a fix mounts to make the write work.
    """

    path: str
    kind: PathKind
    origin: str
    mount: str
    change: str = "A"
    note: str = ""


_TEMP = ("/tmp", "/var/tmp", "/usr/tmp")
_RUN = ("/run", "/var/run")
#: Directories a fix mounts as a whole when something below them is written.
_ANCHORS = ("/tmp", "/var/tmp", "/usr/tmp", "/run", "/var/run", "/var/log", "/data")
#: Parents whose direct children are mounted (``/var/cache/nginx``, ``/var/lib/mysql``).
_ANCHOR_PARENTS = ("/var/cache", "/var/lib", "/srv", "/var/spool")


def _under(path: str, roots: Iterable[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


def classify(path: str) -> PathKind:
    """Guess what a written path holds from its name.

    >>> [classify(p).value for p in ("/tmp/x", "/var/run/nginx.pid", "/app/app.log",
    ...                              "/var/cache/apt/pkgcache.bin", "/etc/app.conf", "/data/db")]
    ['temp', 'run', 'log', 'cache', 'config', 'data']
    """
    base = posixpath.basename(path)
    if _under(path, _TEMP):
        return PathKind.TEMP
    if _under(path, _RUN) or base.endswith((".pid", ".sock", ".lock")):
        return PathKind.RUN
    if _under(path, ("/var/log",)) or base.endswith(".log") or "/logs/" in path + "/":
        return PathKind.LOG
    if _under(path, ("/var/cache",)) or re.search(r"/(\.cache|__pycache__|cache)(/|$)", path):
        return PathKind.CACHE
    if _under(path, ("/etc",)):
        return PathKind.CONFIG
    return PathKind.DATA


def _anchor(path: str) -> str | None:
    for root in _ANCHORS:
        if path == root or path.startswith(root + "/"):
            return root
    for parent in _ANCHOR_PARENTS:
        if path.startswith(parent + "/"):
            return parent + "/" + path[len(parent) + 1:].split("/")[0]
    return None


def _check_path(path: str, where: str) -> str:
    if not path.startswith("/") or "\0" in path or ".." in path.split("/"):
        raise CheckInputError(f"{where}: path {path!r} must be absolute, without '..'.")
    return posixpath.normpath(path)


def changes_to_writes(changes: Iterable[tuple[str, str]], origin: str) -> list[WritePath]:
    """Turn ``(letter, path)`` changes into writes: leaves only, each with its mount."""
    listed = [(str(kind), path) for kind, path in changes]
    paths = {p for _, p in listed}
    added = {p for k, p in listed if k == "A"}
    parents = set()
    for p in paths:
        up = posixpath.dirname(p)
        while up not in ("/", ""):
            parents.add(up)
            up = posixpath.dirname(up)
    writes = []
    for letter, path in listed:
        if path in parents and letter != "D":
            continue  # only on the way to a change
        mount = _anchor(path)
        if mount is None:
            top = None
            up = posixpath.dirname(path)
            while up not in ("/", ""):
                # A top-level directory (/app) is the image's more often than not: a
                # mount there would hide the app itself.
                if up in added and up.count("/") > 1:
                    top = up
                up = posixpath.dirname(up)
            mount = top or posixpath.dirname(path) or "/"
        if mount == "/":
            mount = path if letter == "A" else posixpath.dirname(path)
        writes.append(WritePath(path, classify(path), origin, mount, letter))
    return writes


def parse_diff(text: str, *, source: str, origin: str | None = None) -> list[WritePath]:
    """Read ``docker diff`` / ``podman diff`` output; one-line errors name the line.

    ``source`` names the diff in errors; ``origin`` in each write (default
    ``diff SOURCE``).
    """
    changes = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        match = re.fullmatch(r"([ACD])\s+(\S.*)", line)
        if match is None:
            raise CheckInputError(f"{source}: line {number}: {raw!r:.80} is not a diff line "
                                  "('A /path', 'C /path' or 'D /path').")
        path = _check_path(match.group(2).strip(), f"{source}: line {number}")
        changes.append((match.group(1), path))
    if not changes:
        raise CheckInputError(f"{source}: holds no diff lines ('A /path', 'C /path', "
                              "'D /path').")
    return changes_to_writes(changes, origin or f"diff {source}")


def catalogue_writes(ref: str) -> tuple[CatalogueEntry | None, list[WritePath]]:
    """The catalogue entry of an image reference and its writes (empty if unknown)."""
    entry = lookup(ref)
    if entry is None:
        return None, []
    return entry, [WritePath(w.path, w.kind, f"catalogue {entry.name}",
                             posixpath.dirname(w.path) if w.file else w.path,
                             "A", w.note) for w in entry.writes]


def _import_target(target: str) -> Callable[[], object]:
    module_name, _, func_name = target.partition(":")
    if not module_name or not func_name:
        raise CheckInputError(f"--python {target!r}: give MODULE:FUNCTION, e.g. app:main.")
    added = "" not in sys.path
    if added:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # the user's module: any import error is bad input
        raise CheckInputError(f"--python {target!r}: cannot import {module_name!r}: "
                              f"{type(exc).__name__}: {exc}".splitlines()[0]) from None
    finally:
        if added:
            sys.path.remove("")
    func = getattr(module, func_name, None)
    if not callable(func):
        raise CheckInputError(f"--python {target!r}: {module_name} has no function "
                              f"{func_name!r}.")
    return func  # type: ignore[no-any-return]


def stand_in_image(ref: str, entry: CatalogueEntry | None = None,
                   writes: Iterable[WritePath] = ()) -> Image:
    """An image to simulate ``ref`` with when neither a tar nor a built-in one is at hand.

    A Debian-like skeleton (``/tmp``, ``/run``, ``/var/...``), the directories
    above every write, and the files the catalogue says the image ships.
    """
    files: dict[str, object] = {
        "/tmp/": Dir(mode=0o1777), "/var/tmp/": Dir(mode=0o1777), "/run/": None,
        "/var/log/": None, "/var/cache/": None, "/var/lib/": None, "/etc/passwd":
        "root:x:0:0:root:/root:/bin/sh\n", "/usr/bin/": None,
    }
    for write in writes:
        if write.change in ("C", "D"):
            files.setdefault(write.path, f"# {posixpath.basename(write.path)}\n")
        parent = posixpath.dirname(write.path)
        if parent != "/" and parent + "/" not in files and parent not in files:
            files[parent + "/"] = None
    for path in entry.image_files if entry else ():
        files[path] = f"# {posixpath.basename(path)} as the image ships it\n"
    # A file path that is also a directory's parent cannot be both: keep the directory.
    for path in [p for p in files if not p.endswith("/")]:
        if any(q.startswith(path + "/") for q in files):
            del files[path]
    return Image.from_dict(ref, files)


def python_writes(target: str | Callable[[], object], image: Image) -> list[WritePath]:
    """Run ``MODULE:FUNCTION`` (or a function) in a writable container; its diff's writes.

    The module is imported from the current directory or ``sys.path``. Raises
    :class:`CheckInputError` when it cannot be imported or the function raises.
    """
    from rosim.runtime.runtime import Runtime

    if callable(target):
        func = target
        target = f"{getattr(func, '__module__', '?')}:{getattr(func, '__qualname__', '?')}"
    else:
        func = _import_target(target)
    try:
        ctr = Runtime("docker").create(image, name="rosim-check-python")
    except ImageError as exc:
        raise CheckInputError(f"--python {target!r}: {exc}") from None
    ctr.start()
    try:
        ctr.run(func)
    except Exception as exc:  # the user's code failed even with a writable root
        raise CheckInputError((f"--python {target!r} raised {type(exc).__name__}: {exc}"
                               .splitlines()[0]) + " (give the image with --image-tar so "
                              "that its files and directories are there)") from None
    changes = [(str(c.kind), c.path) for c in ctr.diff()]
    ctr.remove(force=True)
    return changes_to_writes(changes, f"python {target}")

"""The overlay root: image layers seen through lazily built pyfakefs nodes.

A container's root file system is a tree of pyfakefs nodes in which the
image's directories are :class:`LowerDir` objects that fill themselves from
the shared :class:`~rosim.fs.layers.ImageTree` only when someone looks inside,
and the image's files are :class:`LowerFile` objects that share the image's
bytes. Nothing is copied when a container is created, so starting one costs
the same for a 50-file image as for a 50,000-file one, as with overlayfs.

The upper (writable) layer is implicit in the tree:

* a :class:`LowerFile` that was opened for writing or had its metadata changed
  is *copied up* (``copied_up``; its bytes now count as upper-layer usage),
* a file or directory that is not a ``Lower*`` node was created in the
  container,
* a name deleted from a :class:`LowerDir` that exists in the image is a
  *whiteout* (``LowerDir.whiteouts``),
* a directory re-created where the image had one is *opaque*.

:func:`overlay_changes` turns that into ``podman diff``'s or ``docker diff``'s
A/C/D list: one walk of the upper layer, with each tool's :class:`DiffRules`.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from stat import S_IFDIR, S_IFLNK, S_IFREG
from typing import TYPE_CHECKING, NamedTuple

from pyfakefs.fake_file import FakeDirectory, FakeFile

from rosim._bounds import RosimEnum
from rosim.fs.layers import IMAGE_MTIME, EntryKind, ImageTree, LayerEntry
from rosim.fs.nodes import clone, prototype

if TYPE_CHECKING:
    from pyfakefs.fake_filesystem import FakeFilesystem

__all__ = [
    "Change",
    "ChangeKind",
    "DiffRules",
    "DiffStyle",
    "DirChange",
    "LowerDir",
    "LowerFile",
    "is_opaque",
    "lower_dir",
    "lower_node",
    "overlay_changes",
]


class ChangeKind(RosimEnum):
    """The change kinds of ``podman diff`` / ``docker diff``."""

    ADDED = "A"
    CHANGED = "C"
    DELETED = "D"


class Change(NamedTuple):
    """One line of ``podman diff``: a kind and a path; compares equal to a tuple."""

    kind: ChangeKind
    path: str

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"

    def __repr__(self) -> str:
        return repr((str(self.kind), self.path))


def _stamp(node: FakeFile, entry: LayerEntry) -> None:
    node.st_uid = entry.uid
    node.st_gid = entry.gid
    node.st_mtime = node.st_atime = node.st_ctime = IMAGE_MTIME


class LowerFile(FakeFile):
    """A regular file or symlink of the image, shared until it is copied up."""

    def __init__(self, name: str, entry: LayerEntry, filesystem: FakeFilesystem) -> None:
        if entry.kind is EntryKind.SYMLINK:
            super().__init__(name, S_IFLNK | 0o777, entry.target, filesystem=filesystem)
        else:
            super().__init__(name, S_IFREG | entry.mode, None, filesystem=filesystem)
            # Share the image's bytes object: no copy until written.
            self._byte_contents = entry.data
            self.st_size = entry.size
        _stamp(self, entry)
        self.copied_up = False


class LowerDir(FakeDirectory):
    """A directory of the image whose entries are created on first access."""

    def __init__(
        self, name: str, entry: LayerEntry, tree: ImageTree, image_path: str,
        filesystem: FakeFilesystem,
    ) -> None:
        super().__init__(name, entry.mode, filesystem=filesystem)
        _stamp(self, entry)
        self.tree = tree
        self.image_path = image_path
        self.loaded = False
        self.whiteouts: set[str] = set()
        self.meta_changed = False

    def _load(self) -> None:
        self.loaded = True
        fs = self.filesystem
        entries = self._entries
        prefix = self.image_path if self.image_path.endswith("/") else self.image_path + "/"
        for name in self.tree.children(self.image_path):
            if name in entries or name in self.whiteouts:
                continue
            self._adopt(name, prefix + name, fs)

    def _adopt(self, name: str, path: str, fs: FakeFilesystem) -> FakeFile:
        """Build the node for image ``path`` and link it in as ``name``."""
        node = lower_node(name, self.tree, path, fs)
        self._entries[name] = node
        node.parent_dir = weakref.ref(self)
        fs.last_ino += 1
        node.st_ino = fs.last_ino
        node.st_dev = self.st_dev
        self.st_nlink += 1
        node.st_nlink += 1
        return node

    def child(self, name: str) -> FakeFile | None:
        """One entry, built from the image if needed, without loading the rest."""
        node = self._entries.get(name)
        if node is not None or self.loaded or name in self.whiteouts:
            return node
        prefix = self.image_path if self.image_path.endswith("/") else self.image_path + "/"
        if self.tree.entry(prefix + name) is None:
            return None
        return self._adopt(name, prefix + name, self.filesystem)

    @property
    def entries(self) -> dict[str, FakeFile]:
        """The directory's entries, read from the image on first access."""
        if not self.loaded:
            self._load()
        return self._entries

    @property
    def ordered_dirs(self) -> list[str]:
        """Entry names in creation order (image entries first, sorted)."""
        return list(self.entries)

    @property
    def size(self) -> int:
        """Upper-layer bytes below this directory (image bytes cost nothing)."""
        if not self.loaded:
            return 0
        return sum(
            0 if isinstance(e, LowerFile) and not e.copied_up else e.size
            for e in self._entries.values()
        )

    @size.setter
    def size(self, st_size: int) -> None:
        FakeDirectory.size.fset(self, st_size)  # type: ignore[attr-defined]

    def remove_entry(self, pathname_name: str, recursive: bool = True) -> None:
        """Remove a child; a never-copied image file frees no upper-layer space."""
        entry = self.entries.get(pathname_name)
        if isinstance(entry, LowerFile) and not entry.copied_up:
            self.st_nlink -= 1
            entry.st_nlink -= 1
            del self._entries[pathname_name]
            return
        super().remove_entry(pathname_name, recursive)


def lower_node(name: str, tree: ImageTree, path: str, fs: FakeFilesystem) -> FakeFile:
    """Create the node that shows image ``path`` (not yet attached to a parent)."""
    entry = tree.entry(path)
    assert entry is not None, path
    if entry.kind is EntryKind.DIR:
        return lower_dir(name, entry, tree, path, fs)
    if entry.kind is EntryKind.SYMLINK:
        return LowerFile(name, entry, fs)
    proto = _prototype(LowerFile, fs)
    if proto is None:
        return LowerFile(name, entry, fs)
    return clone(proto, name, S_IFREG | entry.mode, entry.data, uid=entry.uid,
                 gid=entry.gid, time_ns=_IMAGE_NS, size=entry.size, copied_up=False)


def lower_dir(name: str, entry: LayerEntry, tree: ImageTree, path: str,
              fs: FakeFilesystem) -> LowerDir:
    """``LowerDir(name, entry, tree, path, fs)``, made faster (:mod:`rosim.fs.nodes`)."""
    proto = _prototype(LowerDir, fs)
    if proto is None:
        return LowerDir(name, entry, tree, path, fs)
    return clone(proto, name, S_IFDIR | entry.mode, b"",  # type: ignore[return-value]
                 uid=entry.uid, gid=entry.gid, time_ns=_IMAGE_NS, tree=tree,
                 image_path=path, loaded=False, whiteouts=set(), meta_changed=False)


#: ``IMAGE_MTIME`` as pyfakefs stores a time.
_IMAGE_NS = int(IMAGE_MTIME * 1e9)
_PROTOTYPES: dict[type, tuple[FakeFilesystem, FakeFile | None]] = {}


def _prototype(cls: type, fs: FakeFilesystem) -> FakeFile | None:
    """A node of ``cls`` on ``fs`` made by its constructor, to copy (None: copy not safe)."""
    known = _PROTOTYPES.get(cls)
    if known is not None and known[0] is fs:
        return known[1]
    if cls is LowerDir:
        made: FakeFile = LowerDir("proto", LayerEntry(EntryKind.DIR, mode=0o755), None,
                                  "/", fs)  # type: ignore[arg-type]
    else:
        made = LowerFile("proto", LayerEntry(EntryKind.FILE, data=b"", size=0), fs)
    proto = prototype(made, own=frozenset({"tree", "image_path", "whiteouts"}))
    _PROTOTYPES[cls] = (fs, proto)
    return proto


def is_opaque(node: FakeFile) -> bool:
    """True for a directory created where a deleted image directory was."""
    return bool(getattr(node, "rosim_opaque", False))


#: Paths ``podman diff`` never lists: the runtime's own mount points
#: (libpod ``diff.go``, ``initInodes``).
PODMAN_HIDDEN = frozenset({
    "/dev", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/etc/mtab", "/proc", "/run",
    "/run/notify", "/run/.containerenv", "/run/secrets", "/sys",
})


class DirChange(RosimEnum):
    """When an image directory itself is listed as ``C``.

    ``copied-up``: once the upper layer holds a copy of it, that is after a
    change of its own metadata or of one of its entries (what the kernel
    keeps, and what containers/storage reports). ``listed-or-owner``: only
    when something below it is listed or its mode or owner differs from the
    image's (Docker 20.10's overlay2 compares the two layers' metadata).
    """

    COPIED_UP = "copied-up"
    LISTED_OR_OWNER = "listed-or-owner"


@dataclass(frozen=True)
class DiffRules:
    """How one tool reads the upper layer into its A/C/D list.

    Rules common to every tool: a whiteout is ``D``; any other upper entry
    is ``C`` if the image has that path and ``A`` if not; an image directory
    on the way to a listed change is ``C``; mounts are not part of the upper
    layer. The fields are where the tools differ:

    ``opaque``: the kind listed for an opaque directory over an image
    directory. ``opaque_hides``: after it, a ``D`` for each image entry the
    opaque directory hides. ``opaque_contents``: whether what an opaque
    directory holds is listed. ``replaced_file_deleted``: a directory made
    where the image had a file or symlink is ``D`` (listed like an opaque
    directory) rather than ``C``. ``dir_change``: see :class:`DirChange`.
    ``hidden``: paths never listed (the runtime's own mount points).
    """

    opaque: ChangeKind = ChangeKind.DELETED
    opaque_hides: bool = False
    opaque_contents: bool = True
    replaced_file_deleted: bool = False
    dir_change: DirChange = DirChange.COPIED_UP
    hidden: frozenset[str] = frozenset()


class DiffStyle(RosimEnum):
    """Which tool's :class:`DiffRules` a change list follows.

    ``upper``: the upper layer itself, entry by entry (what the kernel
    holds): an opaque directory over an image directory is ``D`` followed by
    what it holds. ``podman``: ``podman diff`` (containers/storage): an opaque
    directory, or one that replaced an image file, is ``D`` and what lies
    inside it is not listed; the runtime's own mount points are left out.
    ``docker``: ``docker diff`` (Docker 20.10's overlay2): an opaque directory
    is ``C`` followed by a ``D`` for each image entry it hides, and an image
    directory is ``C`` only when something below it is listed or its mode or
    owner changed.
    """

    UPPER = "upper"
    PODMAN = "podman"
    DOCKER = "docker"

    @property
    def rules(self) -> DiffRules:
        """The :class:`DiffRules` of this style."""
        return _RULES[self]


_RULES = {
    DiffStyle.UPPER: DiffRules(),
    DiffStyle.PODMAN: DiffRules(opaque_contents=False, replaced_file_deleted=True,
                                hidden=PODMAN_HIDDEN),
    DiffStyle.DOCKER: DiffRules(opaque=ChangeKind.CHANGED, opaque_hides=True,
                                dir_change=DirChange.LISTED_OR_OWNER),
}


def overlay_changes(root: LowerDir, overlay_dev: int,
                    style: DiffStyle | DiffRules | str = DiffStyle.UPPER) -> list[Change]:
    """Return the upper layer as an A/C/D list, sorted by path.

    ``style`` is a :class:`DiffStyle` (or its value) or a :class:`DiffRules`.
    """
    rules = style if isinstance(style, DiffRules) else DiffStyle(style).rules
    tree = root.tree
    changes: list[Change] = []

    def upper(node: FakeFile, path: str) -> None:
        entry = tree.entry(path)
        is_dir = node.st_mode & S_IFDIR == S_IFDIR
        opaque = is_opaque(node) and entry is not None and (
            entry.kind is EntryKind.DIR or rules.replaced_file_deleted)
        if opaque:
            kind = rules.opaque if entry.kind is EntryKind.DIR else ChangeKind.DELETED
            changes.append(Change(kind, path))
            if not rules.opaque_contents:
                return
        elif not getattr(node, "rosim_runtime", False):
            kind = ChangeKind.CHANGED if entry is not None else ChangeKind.ADDED
            changes.append(Change(kind, path))
        if not is_dir or isinstance(node, LowerDir):
            return
        prefix = path.rstrip("/") + "/"
        if opaque and rules.opaque_hides and entry.kind is EntryKind.DIR:
            for name in tree.children(path):
                if name not in node._entries:
                    changes.append(Change(ChangeKind.DELETED, prefix + name))
        for name, child in node._entries.items():
            if child.st_dev == overlay_dev:
                upper(child, prefix + name)

    def own_change(directory: LowerDir, path: str) -> bool:
        if rules.dir_change is DirChange.COPIED_UP:
            return directory.meta_changed
        entry = tree.entry(path)
        return entry is not None and (
            (directory.st_mode & 0o7777) != (entry.mode & 0o7777)
            or directory.st_uid != entry.uid or directory.st_gid != entry.gid)

    def lower(directory: LowerDir, path: str) -> bool:
        """List what changed below ``directory``; True if anything was listed."""
        if not directory.loaded:
            return False
        listed = False
        prefix = path.rstrip("/") + "/"
        for name in directory.whiteouts:
            changes.append(Change(ChangeKind.DELETED, prefix + name))
            listed = True
        for name, child in directory._entries.items():
            if child.st_dev != overlay_dev:
                continue
            child_path = prefix + name
            if isinstance(child, LowerDir):
                mark = len(changes)
                if lower(child, child_path) or own_change(child, child_path):
                    changes.insert(mark, Change(ChangeKind.CHANGED, child_path))
                    listed = True
            elif isinstance(child, LowerFile):
                if child.copied_up:
                    upper(child, child_path)
                    listed = True
            else:
                upper(child, child_path)
                listed = True
        return listed

    lower(root, "/")
    if rules.hidden:
        changes = [c for c in changes if c.path not in rules.hidden]
    return sorted(changes, key=lambda c: c.path)

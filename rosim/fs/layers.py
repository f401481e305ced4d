"""Image layers: the read-only lower half of a container's overlay root.

An :class:`Image` is an ordered stack of :class:`Layer` objects, bottom
first, as an OCI image is. A layer maps absolute paths to entries: file
contents (``str``/``bytes``), directories (``None`` or a trailing ``/``),
:class:`File` for modes and files declared only by size, :class:`Symlink`,
:class:`Dir` (``opaque=True`` hides everything below it) and
:class:`Whiteout`, which deletes a path of the layers below.

The merged view of all layers (:class:`ImageTree`) is computed once per image
and shared, read-only, by every container made from it — creating a
container never copies the image, just as an overlay mount does not.

>>> base = Image.from_dict("base", {"/etc/passwd": "root:x:0:0::/root:/bin/sh\\n",
...                                 "/etc/shadow": "root:!::0:::::\\n"})
>>> app = base.with_layer({"/etc/shadow": Whiteout(), "/app/big.bin": File(size="2Gi")},
...                       name="app")
>>> sorted(app.tree.files())
['/app/big.bin', '/etc/passwd']
>>> app.tree.entry("/app/big.bin").size
2147483648
>>> len(app.layers)
2
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from rosim._bounds import RosimEnum
from rosim._errors import ImageError
from rosim.fs.paths import container_path, split
from rosim.fs.sizes import parse_size

__all__ = [
    "Dir",
    "EntryKind",
    "File",
    "Image",
    "ImageConfig",
    "ImageTree",
    "Layer",
    "LayerEntry",
    "Symlink",
    "Whiteout",
]

#: Modification time given to every image entry (2024-01-01T00:00:00Z), so
#: that images are reproducible like a build with SOURCE_DATE_EPOCH.
IMAGE_MTIME = 1704067200.0


class EntryKind(RosimEnum):
    """What a layer entry is; the values are the names ``ls -l`` users know."""

    FILE = "file"
    DIR = "directory"
    SYMLINK = "symlink"
    WHITEOUT = "whiteout"


@dataclass(frozen=True)
class File:
    """A file with explicit metadata, or declared by size only.

    ``content`` is ``str`` or ``bytes``; ``size`` (bytes or ``'10G'``) declares
    a large file whose bytes are never held in memory — reading it inside a
    container is not supported, but it occupies space like a real one.
    """

    content: str | bytes | None = None
    mode: int = 0o644
    size: int | str | None = None
    uid: int = 0
    gid: int = 0

    def __post_init__(self) -> None:
        if self.content is not None and not isinstance(self.content, str | bytes):
            raise ImageError(f"File content(={self.content!r:.60}) must be str or bytes.")
        if isinstance(self.size, bool) or (isinstance(self.size, int) and self.size < 0) or (
                self.size is not None and not isinstance(self.size, int | str)):
            raise ImageError(f"File size(={self.size!r:.60}) must be bytes >= 0 or a size "
                             "such as '10G'.")


@dataclass(frozen=True)
class Dir:
    """A directory with explicit metadata; ``opaque=True`` hides lower layers."""

    mode: int = 0o755
    opaque: bool = False
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Symlink:
    """A symbolic link to ``target`` (absolute or relative, not checked)."""

    target: str


@dataclass(frozen=True)
class Whiteout:
    """Deletes the path, and everything below it, of the layers underneath."""


@dataclass(frozen=True, slots=True)
class LayerEntry:
    """One path of one layer, as stored: kind, mode, owner and payload."""

    kind: EntryKind
    mode: int = 0o644
    data: bytes | None = None
    size: int = 0
    target: str | None = None
    uid: int = 0
    gid: int = 0
    opaque: bool = False


_DIR = LayerEntry(EntryKind.DIR, mode=0o755)


def _entry(path: str, value: object) -> LayerEntry:
    if value is None:
        return _DIR
    if isinstance(value, str):
        data = value.encode()
        return LayerEntry(EntryKind.FILE, data=data, size=len(data))
    if isinstance(value, bytes):
        return LayerEntry(EntryKind.FILE, data=value, size=len(value))
    if isinstance(value, File):
        _check_mode(path, value.mode)
        if value.content is not None and value.size is not None:
            raise ImageError(
                f"files[{path!r}] gives both content and size(={value.size!r}); give one."
            )
        if value.size is not None:
            size = parse_size(value.size, field=f"files[{path!r}].size")
            return LayerEntry(EntryKind.FILE, value.mode, None, size, None, value.uid, value.gid)
        content = value.content or b""
        data = content.encode() if isinstance(content, str) else bytes(content)
        return LayerEntry(EntryKind.FILE, value.mode, data, len(data), None, value.uid, value.gid)
    if isinstance(value, Dir):
        _check_mode(path, value.mode)
        return LayerEntry(
            EntryKind.DIR, value.mode, uid=value.uid, gid=value.gid, opaque=value.opaque
        )
    if isinstance(value, Symlink):
        if not isinstance(value.target, str) or not value.target or "\0" in value.target:
            raise ImageError(f"files[{path!r}] = Symlink(target={value.target!r}) is not valid.")
        return LayerEntry(EntryKind.SYMLINK, 0o777, target=value.target)
    if isinstance(value, Whiteout):
        return LayerEntry(EntryKind.WHITEOUT, 0)
    raise ImageError(
        f"files[{path!r}](={value!r}) must be str, bytes, None, File, Dir, Symlink "
        "or Whiteout."
    )


def _check_mode(path: str, mode: object) -> None:
    if not isinstance(mode, int) or isinstance(mode, bool) or not 0 <= mode <= 0o7777:
        raise ImageError(f"files[{path!r}].mode(={mode!r}) must be an int from 0 to 0o7777.")


@dataclass(frozen=True)
class Layer:
    """One read-only image layer: a mapping of absolute paths to entries.

    Build it with :meth:`from_dict`; ``digest`` identifies its content.
    """

    entries: Mapping[str, LayerEntry]
    digest: str

    @classmethod
    def from_dict(cls, files: Mapping[str, object]) -> Layer:
        """Build a layer from ``{path: value}`` (see the module docstring)."""
        if not isinstance(files, Mapping):
            raise ImageError(f"files(={files!r}) must be a mapping of paths to contents.")
        entries: dict[str, LayerEntry] = {}
        for raw, value in files.items():
            path = container_path(raw, field="files key")
            if path == "/":
                raise ImageError(f"files key(={raw!r}) cannot be the root directory.")
            if isinstance(raw, str) and raw.endswith("/") and value is not None and not (
                isinstance(value, Dir)
            ):
                raise ImageError(
                    f"files[{raw!r}] ends with '/' (a directory) but its value is {value!r}."
                )
            if path in entries:
                raise ImageError(f"files key(={raw!r}) names {path!r} twice.")
            entries[path] = _entry(raw, value)
        for path in entries:
            for parent in _ancestors(path):
                above = entries.get(parent)
                if above is not None and above.kind is not EntryKind.DIR:
                    raise ImageError(
                        f"files key(={path!r}) lies below {parent!r}, which is a "
                        f"{above.kind.value}, not a directory."
                    )
        digest = hashlib.sha256()
        for path in sorted(entries):
            e = entries[path]
            digest.update(f"{path}\0{e.kind}\0{e.mode}\0{e.size}\0{e.target}\0".encode())
            digest.update(e.data or b"")
        return cls(MappingProxyType(entries), digest.hexdigest())


def _ancestors(path: str) -> Iterator[str]:
    parent, _ = split(path)
    while parent != "/":
        yield parent
        parent, _ = split(parent)


class _Node:
    __slots__ = ("children", "entry")

    def __init__(self, entry: LayerEntry) -> None:
        self.entry = entry
        self.children: dict[str, _Node] = {}


class ImageTree:
    """The merged, read-only view of an image's layers (overlayfs' lower dirs).

    Lookups are by absolute path: :meth:`entry` for one path, :meth:`children`
    for the names in a directory.
    """

    def __init__(self, layers: tuple[Layer, ...]) -> None:
        root = _Node(_DIR)
        for layer in layers:
            # Sorted, so a directory is handled before the paths inside it.
            for path in sorted(layer.entries):
                entry = layer.entries[path]
                parent, name = self._walk(root, path)
                if entry.kind is EntryKind.WHITEOUT:
                    if parent is not None:
                        parent.children.pop(name, None)
                    continue
                if parent is None:
                    parent = self._make_dirs(root, path)
                old = parent.children.get(name)
                node = _Node(entry)
                if (
                    old is not None
                    and entry.kind is EntryKind.DIR
                    and old.entry.kind is EntryKind.DIR
                    and not entry.opaque
                ):
                    node.children = old.children
                parent.children[name] = node
        self._entries: dict[str, LayerEntry] = {"/": root.entry}
        self._children: dict[str, tuple[str, ...]] = {}
        self._flatten(root, "/")

    @staticmethod
    def _walk(root: _Node, path: str) -> tuple[_Node | None, str]:
        parts = path.strip("/").split("/")
        node = root
        for part in parts[:-1]:
            child = node.children.get(part)
            if child is None or child.entry.kind is not EntryKind.DIR:
                return None, parts[-1]
            node = child
        return node, parts[-1]

    @staticmethod
    def _make_dirs(root: _Node, path: str) -> _Node:
        node = root
        for part in path.strip("/").split("/")[:-1]:
            child = node.children.get(part)
            if child is None or child.entry.kind is not EntryKind.DIR:
                child = _Node(_DIR)
                node.children[part] = child
            node = child
        return node

    def _flatten(self, node: _Node, path: str) -> None:
        stack = [(node, path)]
        while stack:
            node, path = stack.pop()
            names = tuple(sorted(node.children))
            self._children[path] = names
            prefix = path if path.endswith("/") else path + "/"
            for name in names:
                child = node.children[name]
                child_path = prefix + name
                self._entries[child_path] = child.entry
                if child.entry.kind is EntryKind.DIR:
                    stack.append((child, child_path))

    def entry(self, path: str) -> LayerEntry | None:
        """Return the merged entry at ``path``, or ``None`` if no layer has it."""
        return self._entries.get(path)

    def children(self, path: str) -> tuple[str, ...]:
        """Return the sorted names inside the directory ``path`` (empty if none)."""
        return self._children.get(path, ())

    def paths(self) -> Iterator[str]:
        """Iterate over every path in the merged view, the root excluded."""
        return (p for p in self._entries if p != "/")

    def files(self) -> Iterator[str]:
        """Iterate over the paths of regular files."""
        return (p for p, e in self._entries.items() if e.kind is EntryKind.FILE)

    def __len__(self) -> int:
        return len(self._entries) - 1

    @cached_property
    def size(self) -> int:
        """Total bytes of the regular files in the merged view."""
        return sum(e.size for e in self._entries.values() if e.kind is EntryKind.FILE)


@dataclass(frozen=True)
class ImageConfig:
    """The OCI image config that matters here: what a container runs at start.

    ``entrypoint`` + ``cmd`` form the process (Kubernetes ``command`` and
    ``args`` replace them); ``env`` and ``workdir`` are its environment;
    ``user`` is the config's ``User`` (``""`` means root), as an image tar
    gives it.
    """

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    workdir: str = "/"
    user: str = ""

    @classmethod
    def build(cls, base: ImageConfig | None = None, *, entrypoint: object = None,
              cmd: object = None, env: object = None, workdir: object = None) -> ImageConfig:
        """A config from ``base`` with the given fields replaced (validated)."""
        base = base or cls()

        def argv(value: object, field_name: str) -> tuple[str, ...]:
            if isinstance(value, str) or not isinstance(value, list | tuple) or not all(
                isinstance(v, str) for v in value
            ):
                raise ImageError(f"{field_name}(={value!r}) must be a list of str.")
            return tuple(value)

        env_items = base.env
        if env is not None:
            if not isinstance(env, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in env.items()
            ):
                raise ImageError(f"env(={env!r}) must be a dict of str to str.")
            env_items = tuple({**dict(base.env), **env}.items())
        return cls(
            entrypoint=argv(entrypoint, "entrypoint") if entrypoint is not None
            else base.entrypoint,
            cmd=argv(cmd, "cmd") if cmd is not None else base.cmd,
            env=env_items,
            workdir=container_path(workdir, field="workdir") if workdir is not None
            else base.workdir,
            user=base.user,
        )


@dataclass(frozen=True, eq=False)
class Image:
    """A container image: a name, a stack of read-only layers, and its config.

    Create one with :meth:`from_dict`, stack more with :meth:`with_layer`, or
    take a built-in one with :meth:`builtin`. Images are immutable; every
    container made from one shares its (lazily computed) :attr:`tree`.
    """

    name: str
    layers: tuple[Layer, ...] = field(default_factory=tuple)
    config: ImageConfig = field(default_factory=ImageConfig)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ImageError(f"name(={self.name!r}) must be a non-empty str.")

    @classmethod
    def from_dict(
        cls, name: str, files: Mapping[str, object], *, base: Image | None = None,
        entrypoint: list[str] | None = None, cmd: list[str] | None = None,
        env: Mapping[str, str] | None = None, workdir: str | None = None,
    ) -> Image:
        """Return an image of one layer made from ``files``, on top of ``base``.

        Values: ``str``/``bytes`` (a file), ``None`` or a key ending in ``/``
        (a directory), :class:`File`, :class:`Dir`, :class:`Symlink`,
        :class:`Whiteout`. Parent directories are implied. ``entrypoint``,
        ``cmd``, ``env`` and ``workdir`` set the image config (inherited from
        ``base`` when not given).
        """
        layers = base.layers if base is not None else ()
        config = ImageConfig.build(base.config if base is not None else None,
                                   entrypoint=entrypoint, cmd=cmd, env=env, workdir=workdir)
        return cls(name, (*layers, Layer.from_dict(files)), config)

    def with_layer(self, files: Mapping[str, object], *, name: str | None = None,
                   **config: object) -> Image:
        """Return a new image with one more layer made from ``files`` on top.

        Keyword arguments (``entrypoint``, ``cmd``, ``env``, ``workdir``)
        change the config, as a Dockerfile's instructions would.
        """
        return Image.from_dict(name or self.name, files, base=self, **config)  # type: ignore[arg-type]

    @classmethod
    def builtin(cls, name: str) -> Image:
        """Return a built-in image by name, e.g. ``'fedora'`` or ``'pyapp'``."""
        from rosim.images.catalog import builtin_image

        return builtin_image(name)

    @classmethod
    def from_tar(cls, path: object, *, name: str | None = None,
                 ref: str | None = None) -> Image:
        """Read an image from a ``docker save``, OCI image layout or rootfs tar.

        Layers in order, whiteouts applied, the config read; unsafe members
        are refused (see :mod:`rosim.images.tarball`).
        """
        from rosim.images.tarball import image_from_tar

        return image_from_tar(path, name=name, ref=ref)  # type: ignore[arg-type]

    @cached_property
    def tree(self) -> ImageTree:
        """The merged view of all layers (computed on first use, then shared)."""
        return ImageTree(self.layers)

    @cached_property
    def digest(self) -> str:
        """A content digest of the whole stack, ``sha256:...``."""
        h = hashlib.sha256("".join(layer.digest for layer in self.layers).encode())
        return "sha256:" + h.hexdigest()

    def __repr__(self) -> str:
        return f"Image({self.name!r}, layers={len(self.layers)}, paths={len(self.tree)})"

"""Images from real tar files: ``docker save``, OCI image layouts, rootfs tars.

:func:`image_from_tar` (``rosim.Image.from_tar``) reads the three shapes a
user meets:

* a **docker save** archive: ``manifest.json`` lists the config file and the
  layer tars in order (Docker 25 and later also write an OCI layout beside
  it; ``manifest.json`` is read first);
* an **OCI image layout** tar: ``oci-layout``, ``index.json`` → image
  manifest → config and layer blobs under ``blobs/sha256/``;
* a **plain root filesystem** tar (``docker export``, ``tar -C rootfs -c .``):
  one layer, an empty config.

Layers are applied bottom first; ``.wh.NAME`` deletes ``NAME`` of the layers
below and ``.wh..wh..opq`` makes its directory opaque, as overlayfs does
(domain.md §4). The config's ``Entrypoint``, ``Cmd``, ``Env``,
``WorkingDir`` and ``User`` become the image's :class:`~rosim.fs.layers.ImageConfig`.

Nothing is ever extracted to the host: entries go straight into the
simulated layers. The reader refuses what a safe extractor refuses, each
with one line naming the tar and the member (:class:`~rosim.ImageError`):
``..`` in a name, an absolute name, a member below a symbolic link, a
relative link target that climbs out of the root, a hard link to a path not
seen before, device files and FIFOs, members over ``max_member`` bytes, and
more than ``max_entries`` members. It is lazy where it counts: file bytes are
held only for files up to ``inline_limit`` bytes (configuration files,
scripts); larger files are declared by size, as :class:`~rosim.File`
``(size=...)`` declares them, so a 100 MB image reads in about a second.

>>> import io, tarfile
>>> buf = io.BytesIO()
>>> with tarfile.open(fileobj=buf, mode="w") as tar:
...     data = b"server { listen 80; }\\n"
...     info = tarfile.TarInfo("etc/nginx/conf.d/default.conf"); info.size = len(data)
...     tar.addfile(info, io.BytesIO(data))
>>> image = image_from_tar(io.BytesIO(buf.getvalue()), name="web")
>>> image.tree.entry("/etc/nginx/conf.d/default.conf").data
b'server { listen 80; }\\n'
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

from rosim._bounds import check_int
from rosim._errors import ImageError
from rosim.fs.layers import EntryKind, Image, ImageConfig, Layer, LayerEntry

__all__ = ["DEFAULT_INLINE_LIMIT", "DEFAULT_MAX_ENTRIES", "DEFAULT_MAX_MEMBER",
           "image_from_tar"]

#: Files up to this many bytes keep their contents; larger ones are declared by size.
DEFAULT_INLINE_LIMIT = 1024 * 1024
#: The largest member accepted (a layer blob, or a file inside a layer): 8 GiB.
DEFAULT_MAX_MEMBER = 8 * 1024**3
#: The most members accepted in one tar (outer archive or one layer).
DEFAULT_MAX_ENTRIES = 1_000_000
#: JSON documents (manifest, index, config) are read only up to this size.
_MAX_JSON = 4 * 1024 * 1024

_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class _Limits:
    inline: int
    member: int
    entries: int


def image_from_tar(source: str | Path | IO[bytes], *, name: str | None = None,
                   ref: str | None = None, inline_limit: int = DEFAULT_INLINE_LIMIT,
                   max_member: int = DEFAULT_MAX_MEMBER,
                   max_entries: int = DEFAULT_MAX_ENTRIES) -> Image:
    """Read an image from a ``docker save``, OCI layout or root filesystem tar.

    ``source`` is a path or a binary file object (gzip/bzip2/xz compression is
    detected). ``name`` names the image (default: the archive's first tag or
    the file name); ``ref`` picks one image of a ``docker save`` archive that
    holds several (by tag). Raises :class:`~rosim.ImageError` for anything
    unreadable or unsafe, naming the tar and the member.
    """
    if isinstance(source, str | Path):
        if not str(source) or "\x00" in str(source):
            raise ImageError(f"source(={source!r:.60}) must be a path: not empty, no NUL "
                             "bytes.")
    elif not callable(getattr(source, "read", None)):
        raise ImageError(f"source(={source!r:.60}) must be a path or a binary file object.")
    for field, value in (("name", name), ("ref", ref)):
        if value is not None and (not isinstance(value, str) or not value or "\x00" in value):
            raise ImageError(f"{field}(={value!r:.60}) must be a non-empty str without NUL "
                             "bytes, or None.")
    check_int(inline_limit, "inline_limit")
    check_int(max_member, "max_member")
    check_int(max_entries, "max_entries", low=1)
    label = str(source) if isinstance(source, str | Path) else getattr(source, "name", "<tar>")
    label = str(label)
    limits = _Limits(inline_limit, max_member, max_entries)
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            raise ImageError(f"{label}: is a directory; give a tar file (docker save, an "
                             "OCI image layout tar or a root filesystem tar).")
        try:
            fileobj: IO[bytes] = open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise ImageError(f"{label}: cannot open: {exc.strerror}.") from None
    else:
        fileobj = source
    try:
        try:
            outer = tarfile.open(fileobj=fileobj, mode="r:*")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise ImageError(f"{label}: not a tar archive ({exc}).") from None
        with outer:
            members = _index(outer, label, limits)
            if "manifest.json" in members:
                return _docker_save(outer, members, label, name, ref, limits)
            if "index.json" in members and "oci-layout" in members:
                return _oci_layout(outer, members, label, name, ref, limits)
            layer = _layer_from_members(outer, outer.getmembers(), label, limits)
            default = Path(label).name.split(".")[0] or "rootfs"
            return Image(name or default, (layer,), ImageConfig())
    finally:
        if isinstance(source, str | Path):
            fileobj.close()


def _index(tar: tarfile.TarFile, label: str, limits: _Limits) -> dict[str, tarfile.TarInfo]:
    members: dict[str, tarfile.TarInfo] = {}
    try:
        for count, info in enumerate(tar, 1):
            if count > limits.entries:
                raise ImageError(f"{label}: more than {limits.entries} members.")
            members[_clean_name(info.name, label)] = info
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ImageError(f"{label}: damaged tar archive ({exc}).") from None
    return members


def _clean_name(raw: str, label: str) -> str:
    """``./etc/passwd`` → ``etc/passwd``; refuses absolute names and ``..``."""
    if raw.startswith("/"):
        raise ImageError(f"{label}: member {raw!r} has an absolute path.")
    if "\0" in raw:
        raise ImageError(f"{label}: member {raw!r} contains a NUL byte.")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ImageError(f"{label}: member {raw!r} contains '..' (a path outside the root).")
    return "/".join(parts)


def _read_json(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], name: str,
               label: str) -> Any:
    info = members.get(name)
    if info is None or not info.isfile():
        raise ImageError(f"{label}: {name} is missing from the archive.")
    if info.size > _MAX_JSON:
        raise ImageError(f"{label}: {name} is {info.size} bytes (at most {_MAX_JSON}).")
    handle = tar.extractfile(info)
    assert handle is not None
    try:
        return json.loads(handle.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{label}: {name} is not valid JSON ({exc}).") from None


def _docker_save(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], label: str,
                 name: str | None, ref: str | None, limits: _Limits) -> Image:
    manifest = _read_json(tar, members, "manifest.json", label)
    if not isinstance(manifest, list) or not manifest or not all(
            isinstance(m, dict) for m in manifest):
        raise ImageError(f"{label}: manifest.json must be a non-empty list of images.")
    chosen = manifest[0]
    if ref is not None:
        tagged = [m for m in manifest if ref in (m.get("RepoTags") or [])]
        if not tagged:
            tags = [t for m in manifest for t in (m.get("RepoTags") or [])]
            raise ImageError(f"{label}: ref(={ref!r}) is not in the archive; tags: "
                             + (", ".join(tags) or "none") + ".")
        chosen = tagged[0]
    layers = chosen.get("Layers")
    if not isinstance(layers, list) or not all(isinstance(x, str) for x in layers):
        raise ImageError(f"{label}: manifest.json Layers(={layers!r}) must be a list of "
                         "paths.")
    config_name = chosen.get("Config")
    config = _config(_read_json(tar, members, _clean_name(str(config_name), label), label),
                     label) if config_name else ImageConfig()
    tags = chosen.get("RepoTags") or []
    image_name = name or (tags[0] if tags and isinstance(tags[0], str) else
                          Path(label).name.split(".")[0])
    stack = tuple(_layer_blob(tar, members, _clean_name(p, label), label, limits)
                  for p in layers)
    return Image(image_name, stack, config)


def _blob_name(digest: object, label: str) -> str:
    if not isinstance(digest, str) or ":" not in digest:
        raise ImageError(f"{label}: digest(={digest!r}) must look like 'sha256:HEX'.")
    algo, hexpart = digest.split(":", 1)
    if not algo.isalnum() or not hexpart.isalnum():
        raise ImageError(f"{label}: digest(={digest!r}) must look like 'sha256:HEX'.")
    return f"blobs/{algo}/{hexpart}"


def _oci_layout(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], label: str,
                name: str | None, ref: str | None, limits: _Limits) -> Image:
    index = _read_json(tar, members, "index.json", label)
    manifests = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(manifests, list) or not manifests:
        raise ImageError(f"{label}: index.json has no manifests.")
    chosen = manifests[0]
    if ref is not None:
        named = [m for m in manifests if isinstance(m, dict) and ref in (
            (m.get("annotations") or {}).get("org.opencontainers.image.ref.name"),
            (m.get("annotations") or {}).get("io.containerd.image.name"))]
        if not named:
            raise ImageError(f"{label}: ref(={ref!r}) is not in index.json.")
        chosen = named[0]
    if not isinstance(chosen, dict):
        raise ImageError(f"{label}: index.json manifests[0] must be an object.")
    manifest = _read_json(tar, members, _blob_name(chosen.get("digest"), label), label)
    if isinstance(manifest, dict) and "manifests" in manifest:
        # An image index (multi-platform): take its first manifest.
        inner = manifest["manifests"]
        if not isinstance(inner, list) or not inner or not isinstance(inner[0], dict):
            raise ImageError(f"{label}: the image index has no manifests.")
        manifest = _read_json(tar, members, _blob_name(inner[0].get("digest"), label), label)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("layers"), list):
        raise ImageError(f"{label}: the image manifest has no layers list.")
    config_desc = manifest.get("config") or {}
    config = _config(_read_json(tar, members, _blob_name(config_desc.get("digest"), label),
                                label), label) if config_desc else ImageConfig()
    annotations = chosen.get("annotations") or {}
    image_name = name or annotations.get("io.containerd.image.name") or annotations.get(
        "org.opencontainers.image.ref.name") or Path(label).name.split(".")[0]
    stack = []
    for desc in manifest["layers"]:
        if not isinstance(desc, dict):
            raise ImageError(f"{label}: a layer descriptor(={desc!r}) must be an object.")
        media = str(desc.get("mediaType", ""))
        if media.endswith("+zstd"):
            raise ImageError(f"{label}: layer {desc.get('digest')} is zstd-compressed "
                             f"({media}); only tar, gzip, bzip2 and xz are read.")
        stack.append(_layer_blob(tar, members, _blob_name(desc.get("digest"), label), label,
                                 limits))
    return Image(str(image_name), tuple(stack), config)


def _config(data: Any, label: str) -> ImageConfig:
    if not isinstance(data, dict):
        raise ImageError(f"{label}: the image config must be a JSON object.")
    body = data.get("config") or data.get("container_config") or {}
    if not isinstance(body, dict):
        raise ImageError(f"{label}: config(={body!r:.60}) must be an object.")

    def argv(key: str) -> list[str] | None:
        value = body.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ImageError(f"{label}: config.{key}(={value!r:.60}) must be a list of "
                             "strings.")
        return value

    env: dict[str, str] = {}
    for item in body.get("Env") or []:
        if not isinstance(item, str):
            raise ImageError(f"{label}: config.Env item(={item!r}) must be 'NAME=value'.")
        key, _, value = item.partition("=")
        env[key] = value
    workdir = body.get("WorkingDir") or "/"
    if not isinstance(workdir, str) or not workdir.startswith("/"):
        raise ImageError(f"{label}: config.WorkingDir(={workdir!r}) must be an absolute "
                         "path.")
    user = body.get("User") or ""
    if not isinstance(user, str):
        raise ImageError(f"{label}: config.User(={user!r}) must be a string.")
    try:
        built = ImageConfig.build(entrypoint=argv("Entrypoint"), cmd=argv("Cmd"), env=env,
                                  workdir=posixpath.normpath(workdir))
    except ImageError as exc:
        raise ImageError(f"{label}: config: {exc}") from None
    return ImageConfig(built.entrypoint, built.cmd, built.env, built.workdir, user)


def _layer_blob(tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], blob: str,
                label: str, limits: _Limits) -> Layer:
    info = members.get(blob)
    if info is None or not info.isfile():
        raise ImageError(f"{label}: layer {blob} is missing from the archive.")
    if info.size > limits.member:
        raise ImageError(f"{label}: layer {blob} is {info.size} bytes (at most "
                         f"{limits.member}).")
    handle = tar.extractfile(info)
    assert handle is not None
    where = f"{label}: layer {blob}"
    try:
        inner = tarfile.open(fileobj=handle, mode="r|*")
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ImageError(f"{where}: not a tar archive ({exc}).") from None
    with inner:
        return _layer_from_members(inner, _stream(inner, where), where, limits)


def _stream(tar: tarfile.TarFile, where: str) -> Iterator[tarfile.TarInfo]:
    try:
        yield from tar
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise ImageError(f"{where}: damaged tar archive ({exc}).") from None


def _layer_from_members(tar: tarfile.TarFile, members: Any, where: str,
                        limits: _Limits) -> Layer:
    entries: dict[str, LayerEntry] = {}
    links: set[str] = set()
    digest = hashlib.sha256()
    for count, info in enumerate(members, 1):
        if count > limits.entries:
            raise ImageError(f"{where}: more than {limits.entries} members.")
        rel = _clean_name(info.name, where)
        if not rel:
            continue
        path = "/" + rel
        parent, base = posixpath.split(path)
        for up in _parents(parent):
            if up in links:
                raise ImageError(f"{where}: member {info.name!r} lies below the symbolic "
                                 f"link {up!r} (a link trick).")
        if base == _OPAQUE:
            old = entries.get(parent)
            mode = old.mode if old is not None and old.kind is EntryKind.DIR else 0o755
            entries[parent] = LayerEntry(EntryKind.DIR, mode, opaque=True,
                                         uid=old.uid if old else 0, gid=old.gid if old else 0)
            digest.update(f"{parent}\0opaque\0".encode())
            continue
        if base.startswith(_WHITEOUT):
            target = posixpath.join(parent, base[len(_WHITEOUT):])
            entries[target] = LayerEntry(EntryKind.WHITEOUT, 0)
            digest.update(f"{target}\0whiteout\0".encode())
            continue
        mode = info.mode & 0o7777
        if info.isdir():
            old = entries.get(path)
            entries[path] = LayerEntry(EntryKind.DIR, mode, uid=info.uid, gid=info.gid,
                                       opaque=bool(old and old.opaque))
        elif info.issym():
            target = info.linkname
            if not target or "\0" in target:
                raise ImageError(f"{where}: symbolic link {info.name!r} has an empty target.")
            if not target.startswith("/"):
                resolved = posixpath.normpath(posixpath.join(parent, target))
                if resolved.startswith("//") or _climbs_out(parent, target):
                    raise ImageError(f"{where}: symbolic link {info.name!r} -> {target!r} "
                                     "points outside the root.")
            entries[path] = LayerEntry(EntryKind.SYMLINK, 0o777, target=target,
                                       uid=info.uid, gid=info.gid)
            links.add(path)
        elif info.islnk():
            linked = "/" + _clean_name(info.linkname, where)
            source = entries.get(linked)
            if source is None or source.kind is not EntryKind.FILE:
                raise ImageError(f"{where}: hard link {info.name!r} -> {info.linkname!r} "
                                 "names no earlier file of the layer.")
            entries[path] = source
        elif info.isfile():
            if info.size > limits.member:
                raise ImageError(f"{where}: member {info.name!r} is {info.size} bytes (at "
                                 f"most {limits.member}).")
            data: bytes | None = None
            if info.size <= limits.inline:
                handle = tar.extractfile(info)
                data = handle.read() if handle is not None else b""
                digest.update(data)
            entries[path] = LayerEntry(EntryKind.FILE, mode, data, info.size, None,
                                       info.uid, info.gid)
        elif info.ischr() or info.isblk():
            raise ImageError(f"{where}: member {info.name!r} is a device file "
                             f"({info.devmajor},{info.devminor}); images carry none.")
        else:
            raise ImageError(f"{where}: member {info.name!r} is a FIFO or another special "
                             "file; images carry none.")
        if path in entries and entries[path].kind is not EntryKind.SYMLINK:
            links.discard(path)
        e = entries[path]
        digest.update(f"{path}\0{e.kind}\0{e.mode}\0{e.size}\0{e.target}\0".encode())
    for path in list(entries):
        for up in _parents(posixpath.dirname(path)):
            above = entries.get(up)
            if above is not None and above.kind not in (EntryKind.DIR, EntryKind.WHITEOUT):
                raise ImageError(f"{where}: {path!r} lies below {up!r}, which is a "
                                 f"{above.kind.value}.")
    return Layer(MappingProxyType(entries), digest.hexdigest())


def _parents(path: str) -> Iterator[str]:
    while path not in ("/", ""):
        yield path
        path = posixpath.dirname(path)


def _climbs_out(parent: str, target: str) -> bool:
    depth = len([p for p in parent.split("/") if p])
    for part in target.split("/"):
        if part in ("", "."):
            continue
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return True
    return False

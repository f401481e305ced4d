"""The simulated kernel: a pyfakefs file system with mounts and overlay rules.

:class:`Kernel` is a :class:`pyfakefs.fake_filesystem.FakeFilesystem` whose
root is swapped to a container's :class:`~rosim.fs.namespace.Namespace`
while that container's code runs. On top of pyfakefs it adds what Linux
does and pyfakefs does not:

* **read-only mounts** — every mutating call on a mount with ``ro`` fails
  with ``EROFS``, for root too, in the order the VFS checks it (``mkdir`` of
  an existing directory is ``EEXIST``; ``unlink`` of a missing file on a
  read-only root is ``EROFS``; ``rename`` across mounts is ``EXDEV`` first);
* **devices** — each mount has a device with a capacity, so a sized tmpfs
  fills up with ``ENOSPC`` and ``statvfs``/``df`` see each mount's figures;
  tmpfs counts whole pages (:mod:`rosim.fs.pages`);
* **name limits** — ``ENAMETOOLONG`` for a component over ``NAME_MAX`` or a
  path over ``PATH_MAX``, before ``EROFS`` and ``ENOENT``;
* **overlay bookkeeping** — copy-up on write or metadata change, whiteouts,
  opaque directories, and ``EXDEV`` when renaming an image directory
  (``redirect_dir`` off);
* an **event log** of every call.

Only the outermost call of a system call is checked and logged; pyfakefs'
internal re-entry (``rename`` calling ``remove``...) passes straight through.
"""

from __future__ import annotations

import errno
import os
import sys
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from stat import S_IFDIR, S_IFREG, S_ISDIR, S_ISLNK
from typing import Any

from pyfakefs.fake_file import FakeDirectory, FakeFile
from pyfakefs.fake_filesystem import FakeFilesystem
from pyfakefs.helpers import is_root, make_string_path, to_string

from rosim.fs.devices import is_device
from rosim.fs.mounts import FsType
from rosim.fs.namespace import Device, MountEntry, Namespace
from rosim.fs.nodes import clone, prototype
from rosim.fs.overlay import LowerDir, LowerFile

__all__ = ["Kernel", "as_user", "kernel"]

#: What ``df`` reports as the size of a device without a set capacity.
DEFAULT_DISK_SIZE = 100 * 1024**3
#: Linux's limits on one path component and on a whole path (with its NUL).
NAME_MAX = 255
PATH_MAX = 4096


#: Outcomes of :meth:`Kernel._walk`.
_FOUND, _MISSING, _MISSING_LAST, _FALLBACK = 0, 1, 2, 3

#: What ``shutil.disk_usage`` returns.
_DiskUsage = namedtuple("usage", "total used free")


class _Call:
    __slots__ = ("dev", "outer")

    def __init__(self, outer: bool) -> None:
        self.outer = outer
        self.dev: int | None = None


def _path_str(path: Any) -> str:
    if isinstance(path, int):
        return f"<fd {path}>"
    path = os.fspath(path)
    return path.decode(errors="surrogateescape") if isinstance(path, bytes) else path


class Kernel(FakeFilesystem):
    """One simulated kernel shared by every container, volume and host path.

    Use :func:`kernel` to get it. Between calls of ``Container.run`` its root
    is an empty placeholder, so nothing can reach a container's files by
    accident.
    """

    def __init__(self) -> None:
        self.devices: dict[int, Device] = {}
        self.ns: Namespace | None = None
        self._by_dev: dict[int, MountEntry] = {}
        self._depth = 0
        self._path_memo: dict[tuple[str, bool, str], Any] | None = None
        #: Nodes copied by :meth:`_new_node`, by class (False: copy not possible).
        self._prototypes: dict[type, Any] = {}
        #: The tmpfs file being resized and the pages it will hold (rosim.fs.pages).
        self.page_target: tuple[FakeFile, int, list[bool]] | None = None
        super().__init__(path_separator="/")
        self.shuffle_listdir_results = False
        self.is_case_sensitive = True
        self._idle_root = self.root

    # ----------------------------------------------------------- devices
    def new_device(self, fstype: FsType, total: int | None = None,
                   parent: Device | None = None) -> Device:
        """Allocate a device with an optional capacity, drawing on ``parent``'s space."""
        self.last_dev += 1
        reported = total if total is not None else (
            parent.limit()[0] if parent is not None else DEFAULT_DISK_SIZE)
        device = Device(self.last_dev, fstype, total, 0, reported, parent)
        self.devices[device.dev] = device
        return device

    def drop_device(self, dev: int) -> None:
        """Forget a device; the space it used is given back to its parents."""
        device = self.devices.pop(dev, None)
        if device is not None and device.inodes_used:
            for outer in device.chain()[1:]:
                outer.inodes_used = max(outer.inodes_used - device.inodes_used, 0)
        if device is not None and device.used:
            for outer in device.chain()[1:]:
                outer.used = max(outer.used - device.used, 0)
            device.used = 0

    def change_disk_usage(self, usage_change: int, file_path: Any, st_dev: int) -> None:
        """Charge ``usage_change`` bytes to device ``st_dev`` and the disks under it.

        A write that does not fit in any of them fails with ENOSPC and
        changes nothing.
        """
        device = self.devices.get(st_dev)
        if device is None:
            return
        if device.fstype is FsType.TMPFS:
            usage_change = self._tmpfs_change(usage_change)
        chain = device.chain()
        if usage_change > 0:
            for d in chain:
                if d.total is not None and d.total - d.used < usage_change:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        for d in chain:
            d.used += usage_change

    def _tmpfs_change(self, usage_change: int) -> int:
        """A tmpfs charge in whole pages (see :mod:`rosim.fs.pages`)."""
        from rosim.fs.pages import PAGE_SIZE, charged_pages, pages

        target = self.page_target
        if target is None:
            sign = 1 if usage_change >= 0 else -1
            return sign * pages(abs(usage_change)) * PAGE_SIZE
        node, total, done = target
        if done[0]:
            return 0
        done[0] = True
        return (total - charged_pages(node)) * PAGE_SIZE

    def get_disk_usage(self, path: Any = None):  # type: ignore[override]
        """``shutil.disk_usage``: total, used, free of the device holding ``path``."""
        node = self.resolve(path if path is not None else "/")
        device = self.devices.get(node.st_dev)
        if device is None:
            return _DiskUsage(DEFAULT_DISK_SIZE, 0, DEFAULT_DISK_SIZE)
        total, used = device.limit()
        return _DiskUsage(total, used, device.free)

    # ----------------------------------------------------------- namespaces
    @contextmanager
    def entered(self, ns: Namespace) -> Iterator[Namespace]:
        """Make ``ns`` the file system that calls see, for the ``with`` block."""
        if self.ns is not None:
            from rosim._errors import LifecycleError

            raise LifecycleError("a container is already running code: run() does not nest.")
        saved_cwd = self.cwd
        self.ns = ns
        self._by_dev = ns.by_dev()
        self.root = ns.root
        for parent, node, name in ns.attachments:
            # A volume can be mounted in several containers: point it at ours.
            # (A subPath directory keeps its name inside its volume.) Read
            # through __dict__: FakeFile's attribute hooks cost microseconds.
            attrs = node.__dict__
            ref = attrs.get("parent_dir")
            if ref is None or ref() is not parent:
                node.parent_dir = weakref.ref(parent)
            if attrs.get("name") != name and not attrs.get("rosim_sub_path", False):
                node.name = name
        self.cwd = ns.cwd
        self._depth = 0
        try:
            yield ns
        finally:
            ns.cwd = self.cwd
            self.root = self._idle_root
            self.cwd = saved_cwd
            self.ns = None
            self._by_dev = {}

    def mount_of(self, node: FakeFile) -> MountEntry | None:
        """The mount entry that ``node`` lives on in the current namespace."""
        return self._by_dev.get(node.st_dev)

    # ----------------------------------------------------------- syscalls
    @contextmanager
    def syscall(self, op: str, path: Any, detail: str = "",
                path2: Any = None) -> Iterator[_Call]:
        """Run one system call: check and log only the outermost level.

        An error leaving the outermost level names the path as the caller
        gave it (and ``path2`` for two-path calls), as CPython's do.
        """
        call = _Call(self._depth == 0)
        if call.outer:
            self.close_dropped_files()
        self._depth += 1
        try:
            yield call
        except OSError as exc:
            if call.outer:
                if exc.filename is not None and not isinstance(path, int):
                    exc.filename = os.fspath(path)
                    if path2 is not None:
                        exc.filename2 = os.fspath(path2)
                self._log(op, path, call.dev, exc.errno, detail)
            raise
        else:
            if call.outer:
                self._log(op, path, call.dev, None, detail)
        finally:
            self._depth -= 1

    def close_dropped_files(self) -> None:
        """Close the file objects that code let go of without closing them.

        CPython flushes and closes a file object when its last reference goes
        (``open(p, "w").write(x)``); pyfakefs keeps every open file in its fd
        table, so here a file object (not a bare ``os.open`` descriptor) that
        only the table still holds is closed before the next system call,
        which is the first moment code inside could see the difference.
        """
        for entry in self.open_files:
            if not entry:
                continue
            for wrapper in list(entry):
                # References: the table's list, the copy, this name, the argument.
                if getattr(wrapper, "_rosim_object", False) and sys.getrefcount(wrapper) <= 4:
                    try:
                        wrapper.close()
                    except (OSError, ValueError):
                        pass  # CPython ignores errors of a close at collection

    def _log(self, op: str, path: Any, dev: int | None, err: int | None, detail: str) -> None:
        if self.ns is None:
            return
        mount = self._by_dev.get(dev) if dev is not None else None
        self.ns.events.record(op, _path_str(path), mount.destination if mount else None,
                              err, detail)

    def _erofs(self, path: Any) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), _path_str(path))

    def _check_writable(self, node: FakeFile, path: Any, call: _Call) -> None:
        call.dev = node.st_dev
        mount = self._by_dev.get(node.st_dev)
        if mount is not None and mount.read_only:
            self._erofs(path)

    def _parent(self, path: Any) -> tuple[FakeDirectory | None, str, str]:
        """Resolve the directory that would hold ``path``; None if it is missing."""
        abspath = self.absnormpath(self._original_path(to_string(make_string_path(path))))
        if len(abspath) > NAME_MAX:
            self.check_name_limits(abspath)
        parent_path, name = self.splitpath(abspath)
        try:
            parent = self.resolve(parent_path or "/")
        except OSError:
            return None, name, abspath
        if not S_ISDIR(parent.st_mode):
            # The path walk meets a file where a directory should be.
            raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), _path_str(path))
        return parent, name, abspath  # type: ignore[return-value]

    def _node(self, path: Any, follow_symlinks: bool = True) -> FakeFile | None:
        try:
            if isinstance(path, int):
                return self.resolve(path, allow_fd=True)
            if follow_symlinks:
                return self.resolve(path, check_read_perm=False, check_exe_perm=False)
            return self.lresolve(path)
        except (OSError, TypeError):
            return None

    @staticmethod
    def child(parent: FakeDirectory, name: str) -> FakeFile | None:
        """The entry ``name`` of ``parent`` (one dict lookup; no path walk)."""
        if isinstance(parent, LowerDir):
            return parent.child(name)
        return parent._entries.get(name)

    def _is_mount_root(self, node: FakeFile | None) -> bool:
        if node is None or self.ns is None:
            return False
        return node is self.root or any(n is node for n in self.ns.mount_roots.values())

    # name limits and mount points ---------------------------------------
    def check_name_limits(self, path: Any) -> None:
        """``ENAMETOOLONG`` as the kernel's path walk meets it.

        A path of ``PATH_MAX`` bytes or more fails at once; a component over
        ``NAME_MAX`` bytes fails when the walk reaches it, that is when every
        directory before it exists (otherwise the walk stops with ``ENOENT``
        first). Both come before ``EROFS``.
        """
        if isinstance(path, int):
            return
        text = to_string(make_string_path(path))
        if len(text) <= NAME_MAX:
            return
        raw = os.fsencode(text)
        if len(raw) >= PATH_MAX:
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), text)
        parts = text.split("/")
        for i, part in enumerate(parts):
            if len(os.fsencode(part)) <= NAME_MAX:
                continue
            prefix = "/".join(parts[:i]) or ("/" if text.startswith("/") else ".")
            try:
                node = self.resolve(prefix)
            except OSError:
                return
            if S_ISDIR(node.st_mode):
                raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), text)
            return

    def ismount(self, path: Any) -> bool:
        """``os.path.ismount``: the root and every mount of the namespace (files too)."""
        if self.ns is None:
            return False
        try:
            node = self.lresolve(path)
        except OSError:
            return False
        return self._is_mount_root(node)

    # overlay bookkeeping ------------------------------------------------
    def copy_up(self, node: FakeFile) -> None:
        """Copy an image file into the upper layer before it is changed."""
        if isinstance(node, LowerFile):
            if not node.copied_up:
                size = 0 if S_ISLNK(node.st_mode) else node.st_size
                self.change_disk_usage(size, node.name, node.st_dev)
                node.copied_up = True
        elif isinstance(node, LowerDir):
            node.meta_changed = True

    def _copy_up_dirs(self, directory: FakeFile | None) -> None:
        """Creating or removing an entry copies its image directory (and theirs) up."""
        while isinstance(directory, LowerDir) and not directory.meta_changed:
            directory.meta_changed = True
            directory = directory.parent_dir() if directory.parent_dir else None

    def _take_inode(self, dev: int, path: Any) -> None:
        """A new file, directory or link uses an inode: ENOSPC past ``nr_inodes``."""
        device = self.devices.get(dev)
        if device is None:
            return
        chain = device.chain()  # a node's disk counts its layers' and volumes' inodes
        for outer in chain:
            if outer.inodes is not None and outer.inodes_used >= outer.inodes:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), _path_str(path))
        for outer in chain:
            outer.inodes_used += 1

    def _on_delete(self, parent: FakeDirectory | None, name: str) -> None:
        self._copy_up_dirs(parent)
        if isinstance(parent, LowerDir):
            prefix = parent.image_path.rstrip("/") + "/"
            if parent.tree.entry(prefix + name) is not None:
                parent.whiteouts.add(name)

    def _on_create(self, parent: FakeDirectory | None, name: str) -> None:
        self._copy_up_dirs(parent)
        if not isinstance(parent, LowerDir) or name not in parent.whiteouts:
            return
        parent.whiteouts.discard(name)
        node = parent._entries.get(name)
        # overlayfs makes every directory created over a whiteout opaque,
        # whatever the image had there (a directory or a file).
        if node is not None and S_ISDIR(node.st_mode):
            node.rosim_opaque = True

    def _create(self, op: str, path: Any, action: Callable[[], Any],
                exist_first: bool = True) -> Any:
        """mkdir/symlink/mknod/creat: ENOENT, then EEXIST, then EROFS."""
        with self.syscall(op, path) as call:
            if not call.outer:
                return action()
            parent, name, abspath = self._parent(path)
            if parent is None:
                return action()
            call.dev = parent.st_dev
            if exist_first and (name in ("", ".", "..") or self.child(parent, name) is not None):
                return action()
            self._check_writable(parent, path, call)
            self._take_inode(parent.st_dev, path)
            result = action()
            self._on_create(parent, name)
            return result

    def _delete(self, op: str, path: Any, action: Callable[[], Any]) -> Any:
        """unlink/rmdir: ENOENT for the parent, then EROFS, then the rest."""
        with self.syscall(op, path) as call:
            if not call.outer:
                return action()
            parent, name, abspath = self._parent(path)
            if parent is None:
                return action()
            self._check_writable(parent, path, call)
            target = (self.child(parent, name) if name not in ("", ".", "..")
                      else self._node(abspath, False))
            if op == "rmdir" and target is not None and not S_ISDIR(target.st_mode):
                raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), _path_str(path))
            if self._is_mount_root(target):
                if op == "unlink" and target is not None and S_ISDIR(target.st_mode):
                    raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), _path_str(path))
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), _path_str(path))
            result = action()
            device = self.devices.get(parent.st_dev)
            for outer in device.chain() if device is not None else ():
                # a tmpfs with nr_inodes keeps its root's inode
                outer.inodes_used = max(outer.inodes_used - 1,
                                        1 if outer is device and outer.inodes else 0)
            self._on_delete(parent, name)
            return result

    def _modify(self, op: str, path: Any, action: Callable[[], Any],
                follow_symlinks: bool = True) -> Any:
        """chmod/chown/utime/xattr/truncate: resolve, EROFS, copy-up, act."""
        with self.syscall(op, path) as call:
            if not call.outer:
                return action()
            node = self._node(path, follow_symlinks)
            if node is None:
                return action()
            if op == "truncate" and S_ISDIR(node.st_mode):
                raise OSError(errno.EISDIR, os.strerror(errno.EISDIR), _path_str(path))
            self._check_writable(node, path, call)
            self.copy_up(node)
            return action()

    # FakeFilesystem overrides ------------------------------------------
    def makedir(self, dir_path: Any, mode: int = 0o777) -> None:
        """``os.mkdir``."""
        self._create("mkdir", dir_path, lambda: super(Kernel, self).makedir(dir_path, mode))

    def makedirs(self, dir_name: Any, mode: int = 0o777, exist_ok: bool = False) -> None:
        """``os.makedirs``: one ``mkdir`` per missing component, as CPython does."""
        name = to_string(make_string_path(dir_name))
        head, tail = os.path.split(name.rstrip("/") or name)
        if head and tail and not self.exists(head):
            try:
                self.makedirs(head, mode, exist_ok)
            except FileExistsError:
                pass
        try:
            self.makedir(name, mode)
        except OSError:
            if not exist_ok or not self.isdir(name):
                raise

    def create_file_internally(self, file_path: Any, *args: Any, **kwargs: Any) -> FakeFile:
        """File creation (``open`` with ``O_CREAT``, ``mknod``)."""
        return self._create(
            "creat", file_path,
            lambda: super(Kernel, self).create_file_internally(file_path, *args, **kwargs),
        )

    def create_symlink(self, file_path: Any, link_target: Any,
                       create_missing_dirs: bool = True) -> FakeFile:
        """``os.symlink``."""
        return self._create(
            "symlink", file_path,
            lambda: super(Kernel, self).create_symlink(file_path, link_target,
                                                       create_missing_dirs),
        )

    def remove(self, path: Any) -> None:
        """``os.unlink`` / ``os.remove``."""
        self._delete("unlink", path, lambda: super(Kernel, self).remove(path))

    def rmdir(self, target_directory: Any, allow_symlink: bool = False) -> None:
        """``os.rmdir``."""
        self._delete(
            "rmdir", target_directory,
            lambda: super(Kernel, self).rmdir(target_directory, allow_symlink),
        )

    def chmod(self, path: Any, mode: int, follow_symlinks: bool = True,
              force_unix_mode: bool = False) -> None:
        """``os.chmod``."""
        self._modify(
            "chmod", path,
            lambda: super(Kernel, self).chmod(path, mode, follow_symlinks, force_unix_mode),
            follow_symlinks,
        )

    def utime(self, path: Any, times: Any = None, *, ns: Any = None,
              follow_symlinks: bool = True) -> None:
        """``os.utime``."""
        self._modify(
            "utime", path,
            lambda: super(Kernel, self).utime(path, times, ns=ns,
                                              follow_symlinks=follow_symlinks),
            follow_symlinks,
        )

    def rename(self, old_file_path: Any, new_file_path: Any,
               force_replace: bool = False) -> None:
        """``os.rename`` / ``os.replace``: EXDEV across mounts, then EROFS."""
        def action() -> None:
            super(Kernel, self).rename(old_file_path, new_file_path, force_replace)

        with self.syscall("rename", old_file_path, f"-> {_path_str(new_file_path)}",
                          new_file_path) as call:
            if not call.outer:
                return action()
            old_parent, old_name, old_abs = self._parent(old_file_path)
            new_parent, new_name, new_abs = self._parent(new_file_path)
            if old_parent is None or new_parent is None:
                return action()
            call.dev = old_parent.st_dev
            if old_parent.st_dev != new_parent.st_dev:
                raise OSError(errno.EXDEV, os.strerror(errno.EXDEV),
                              _path_str(old_file_path), None, _path_str(new_file_path))
            try:
                self._check_writable(old_parent, old_file_path, call)
            except OSError as exc:
                exc.filename2 = _path_str(new_file_path)
                raise
            node = self.child(old_parent, old_name) if old_name else None
            if node is None:
                return action()
            if old_abs == new_abs:
                return None
            target = self.child(new_parent, new_name) if new_name else None
            if target is not None and target is not node:
                # vfs_rename's may_delete(): the kinds must match.
                if S_ISDIR(target.st_mode) and not S_ISDIR(node.st_mode):
                    raise OSError(errno.EISDIR, os.strerror(errno.EISDIR),
                                  _path_str(old_file_path), None, _path_str(new_file_path))
                if S_ISDIR(node.st_mode) and not S_ISDIR(target.st_mode):
                    raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR),
                                  _path_str(old_file_path), None, _path_str(new_file_path))
            if self._is_mount_root(node) or self._is_mount_root(target):
                raise OSError(errno.EBUSY, os.strerror(errno.EBUSY),
                              _path_str(old_file_path), None, _path_str(new_file_path))
            if isinstance(node, LowerDir):
                # overlayfs without redirect_dir cannot move a lower directory.
                raise OSError(errno.EXDEV, os.strerror(errno.EXDEV),
                              _path_str(old_file_path), None, _path_str(new_file_path))
            if target is not None and S_ISDIR(target.st_mode) and target.entries:
                raise OSError(errno.ENOTEMPTY, os.strerror(errno.ENOTEMPTY),
                              _path_str(old_file_path), None, _path_str(new_file_path))
            self.copy_up(node)
            action()
            self._on_delete(old_parent, old_name)
            self._on_create(new_parent, new_name)
            if isinstance(target, LowerDir) and S_ISDIR(node.st_mode):
                # A directory renamed over an (empty) image directory hides it:
                # overlayfs marks it opaque.
                node.rosim_opaque = True
            return None

    def link(self, old_path: Any, new_path: Any, follow_symlinks: bool = True) -> FakeFile:
        """``os.link``: EEXIST, then EROFS, then EXDEV across mounts."""
        def action() -> FakeFile:
            return super(Kernel, self).link(old_path, new_path, follow_symlinks)

        with self.syscall("link", old_path, f"-> {_path_str(new_path)}", new_path) as call:
            if not call.outer:
                return action()
            source = self._node(old_path, follow_symlinks)
            parent, name, abspath = self._parent(new_path)
            if source is None or parent is None:
                return action()
            call.dev = parent.st_dev
            if not name or self.child(parent, name) is not None:
                return action()
            self._check_writable(parent, new_path, call)
            if source.st_dev != parent.st_dev:
                raise OSError(errno.EXDEV, os.strerror(errno.EXDEV),
                              _path_str(old_path), None, _path_str(new_path))
            self.copy_up(source)
            result = action()
            self._on_create(parent, name)
            return result

    # path lookups -----------------------------------------------------
    # pyfakefs normalises a path and walks it again in every function that
    # takes one (exists, resolve_path, resolve, lresolve...), several times per
    # system call. The common case, a normalised absolute path (or one
    # relative to an absolute cwd) whose walk meets no symlink, is answered
    # here by one walk of dict lookups over the live tree, so there is nothing
    # to invalidate: a rename, unlink, rmdir, mount, whiteout or copy-up is
    # seen by the next lookup. Everything else (symlinks, ``.``/``..``,
    # repeated or trailing slashes, ``/dev/null``, a path missing or through
    # a file where pyfakefs raises, a user other than root where it checks
    # permissions) goes to pyfakefs unchanged.
    def _plain(self, path: Any) -> str | None:
        """``path`` as a normalised absolute path, or None when pyfakefs must decide."""
        if type(path) is not str or not path or len(path) > NAME_MAX:
            return None
        if path[0] != "/":
            cwd = self.cwd
            if type(cwd) is not str or cwd[:1] != "/" or path == ".":
                return None
            path = (cwd if cwd != "/" else "") + "/" + path
        if path == "/":
            return path
        if "//" in path or "/./" in path or "/../" in path or path[-1] == "/" \
                or path.endswith(("/.", "/..")) or path == self.devnull:
            return None
        return path

    def _walk(self, path: str, follow_last: bool) -> tuple[int, FakeFile | None]:
        """Walk normalised absolute ``path``: (found, node), (missing last, None)
        when only the last name is missing from an existing directory, (missing,
        None) when a directory before it is, or (fallback, None) when a symlink
        (the last name's only if ``follow_last``) or a file where a directory
        should be is met."""
        node: FakeFile = self.root
        if path == "/":
            return _FOUND, node
        names = path[1:].split("/")
        last = len(names) - 1
        for i, name in enumerate(names):
            if not isinstance(node, FakeDirectory):
                return _FALLBACK, None
            node = node.entries.get(name)  # type: ignore[assignment]
            if node is None:
                return (_MISSING_LAST if i == last else _MISSING), None
            if (i < last or follow_last) and not isinstance(node, FakeDirectory) \
                    and S_ISLNK(node.stat_result.st_mode):
                return _FALLBACK, None
        return _FOUND, node

    def absnormpath(self, path: Any) -> Any:
        """pyfakefs' ``absnormpath``; a path that is already normal costs one scan."""
        plain = self._plain(path)
        return plain if plain is not None else super().absnormpath(path)

    def exists(self, file_path: Any, check_link: bool = False) -> bool:
        """``os.path.exists`` (``check_link``: a dangling symlink exists)."""
        plain = self._plain(file_path)
        if plain is not None:
            found, _ = self._walk(plain, follow_last=not check_link)
            if found != _FALLBACK:
                return found == _FOUND
        return super().exists(file_path, check_link)

    def get_object_from_normpath(self, file_path: Any, check_read_perm: bool = True,
                                 check_exe_perm: bool = True,
                                 check_owner: bool = False) -> Any:
        """The node at a resolved path (pyfakefs raises the errors and checks
        permissions for users other than root)."""
        plain = self._plain(file_path) \
            if type(file_path) is str and file_path[:1] == "/" else None
        if plain is not None and (is_root() or not (check_read_perm or check_exe_perm)):
            found, node = self._walk(plain, follow_last=False)
            if found == _FOUND:
                return node
            if found != _FALLBACK:
                self.raise_os_error(errno.ENOENT, file_path)
        return super().get_object_from_normpath(file_path, check_read_perm, check_exe_perm,
                                                check_owner)

    def lresolve(self, path: Any) -> Any:
        """The node at ``path``, a symlink itself if the path names one."""
        plain = self._plain(path)
        if plain is not None and is_root():
            found, node = self._walk(plain, follow_last=False)
            if found == _FOUND:
                return node
            if found == _MISSING_LAST:
                self.raise_os_error(errno.ENOENT, path)
        return super().lresolve(path)

    def _resolve_path(self, file_path: Any, allow_fd: bool) -> Any:
        plain = self._plain(file_path)
        if plain is not None and self._walk(plain, follow_last=True)[0] != _FALLBACK:
            return plain  # no symlink on the way: the path is its own resolution
        return super().resolve_path(file_path, allow_fd)

    # open -------------------------------------------------------------
    def resolve_path(self, file_path: Any, allow_fd: bool = False) -> Any:  # type: ignore[override]
        """pyfakefs' path resolution, remembered for the length of one ``open``.

        pyfakefs resolves the same path about ten times while it opens or
        creates a file; an ``open`` changes no symlink, so within it the
        answer cannot change.
        """
        if isinstance(file_path, str | bytes) and len(file_path) > NAME_MAX:
            self.check_name_limits(file_path)
        memo = self._path_memo
        if memo is None or not isinstance(file_path, str):
            return self._resolve_path(file_path, allow_fd)
        key = (file_path, allow_fd, self.cwd)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = self._resolve_path(file_path, allow_fd)
        return hit

    def open_syscall(self, path: Any, can_write: bool, must_exist: bool,
                     must_not_exist: bool, action: Callable[[], Any], detail: str,
                     device: Callable[[Any], Any] | None = None) -> Any:
        """``open``: EROFS for write access or creation on a read-only mount.

        ``device(node)`` opens a simulated character device (see
        :mod:`rosim.fs.devices`); devices ignore the mount's ``ro`` flag, as
        Linux's ``special_file`` rule does.
        """
        if self._depth == 0:
            self.close_dropped_files()
            self._path_memo = {}
            try:
                return self._open_syscall(path, can_write, must_exist, must_not_exist, action,
                                          detail, device)
            finally:
                self._path_memo = None
        return self._open_syscall(path, can_write, must_exist, must_not_exist, action, detail,
                                  device)

    def _open_syscall(self, path: Any, can_write: bool, must_exist: bool,
                      must_not_exist: bool, action: Callable[[], Any], detail: str,
                      device: Callable[[Any], Any] | None = None) -> Any:
        with self.syscall("open", path, detail) as call:
            if not call.outer:
                return action()
            parent, name, abspath = self._parent(path)
            if parent is None:
                return action()
            if abspath == self.devnull:
                node = self.child(parent, name)
                if device is not None and is_device(node):
                    call.dev = node.st_dev
                    return device(node)
                return action()
            call.dev = parent.st_dev
            entry = self.child(parent, name) if name not in ("", ".", "..") else None
            if entry is None and name in ("", ".", ".."):
                node = self._node(path)
            elif entry is not None and S_ISLNK(entry.st_mode):
                node = self._node(path)
            else:
                node = entry
            if node is not None:
                node.__dict__.pop("_rosim_kept", None)  # see syscalls._install_partial_write
                call.dev = node.st_dev
                if device is not None and is_device(node) and not must_not_exist:
                    return device(node)
                if must_not_exist or S_ISDIR(node.st_mode) or not can_write:
                    return action()
                from pyfakefs import helpers

                if not helpers.is_root() and not node.has_permission(helpers.PERM_WRITE):
                    # may_open() checks the mode bits before the mount's ro flag.
                    raise OSError(errno.EACCES, os.strerror(errno.EACCES), _path_str(path))
                self._check_writable(node, path, call)
                self.copy_up(node)
                return action()
            if must_exist:
                return action()
            if entry is not None:
                # A dangling symlink: O_CREAT creates the file it points to.
                try:
                    target_path = self.resolve_path(abspath)
                    parent, name, _ = self._parent(target_path)
                except OSError:
                    return action()
                if parent is None:
                    return action()
                call.dev = parent.st_dev
            self._check_writable(parent, path, call)
            self._take_inode(parent.st_dev, path)
            result = action()
            self._on_create(parent, name)
            return result

    # mount-table construction helpers ----------------------------------
    def attach(self, parent: FakeDirectory, node: FakeFile, name: str | None = None) -> None:
        """Insert ``node`` into ``parent`` as ``name`` (default: its own name), as a
        mount would, replacing what was there."""
        name = to_string(node.name) if name is None else name
        old = self.child(parent, name)
        # Link counts and inode numbers live in the nodes' stat results; set
        # them there (pyfakefs forwards each attribute through __setattr__).
        parent_stat, node_stat = parent.stat_result, node.stat_result
        if old is not None and old is not node:
            old.stat_result.st_nlink -= 1
            parent_stat.st_nlink -= 1
        parent._entries[name] = node
        node.__dict__["parent_dir"] = weakref.ref(parent)
        if node_stat.st_ino is None:
            self.last_ino += 1
            node_stat.st_ino = self.last_ino
        if old is None or old is not node:
            parent_stat.st_nlink += 1
            node_stat.st_nlink += 1

    def new_directory(self, name: str, mode: int, dev: int) -> FakeDirectory:
        """A fresh directory node on device ``dev`` (a mount root)."""
        return self._new_node(FakeDirectory, name, S_IFDIR | (mode & 0o7777), b"",
                              dev)  # type: ignore[return-value]

    def new_file(self, name: str, content: bytes, mode: int, dev: int) -> FakeFile:
        """A fresh regular-file node on device ``dev`` (a bind-mounted file)."""
        return self._new_node(FakeFile, name, S_IFREG | mode, content, dev)

    def _new_node(self, cls: type[FakeFile], name: str, st_mode: int, content: bytes,
                  dev: int) -> FakeFile:
        """A node as ``cls(name, st_mode, content, filesystem=self)`` makes it,
        copied from a prototype (:mod:`rosim.fs.nodes`): faster."""
        proto = self._prototypes.get(cls)
        if proto is None:
            made = (FakeDirectory("proto", 0o755, filesystem=self) if cls is FakeDirectory
                    else cls("proto", S_IFREG | 0o644, b"", filesystem=self))
            proto = self._prototypes[cls] = prototype(made) or False
        if proto is False:
            node = cls(name, st_mode & 0o7777 if cls is FakeDirectory else st_mode,
                       content, filesystem=self)
        else:
            node = clone(proto, name, st_mode, content)
        stat = node.stat_result
        stat.st_dev = dev
        self.last_ino += 1
        stat.st_ino = self.last_ino
        return node


@contextmanager
def as_user(uid: int, gid: int) -> Iterator[None]:
    """Make file system calls act as ``uid``/``gid`` (file owners, permission checks).

    Root (0) passes the permission checks; anyone else needs the mode bits,
    as the kernel's ``inode_permission`` requires. Read-only mounts still say
    ``EROFS`` first.
    """
    from pyfakefs import helpers

    saved = helpers.get_uid(), helpers.get_gid()
    helpers.set_uid(uid)
    helpers.set_gid(gid)
    try:
        yield
    finally:
        helpers.set_uid(saved[0])
        helpers.set_gid(saved[1])


_KERNEL: Kernel | None = None


def kernel() -> Kernel:
    """Return the process-wide simulated kernel, creating it on first use."""
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = Kernel()
    return _KERNEL

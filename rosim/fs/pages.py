"""tmpfs space in whole pages, as Linux counts it.

A tmpfs file takes memory in 4 KiB pages: a 100-byte file uses a page, and
``statvfs``, ``shutil.disk_usage`` and ``ENOSPC`` all see that page. A file
grown by ``truncate`` is sparse: the hole takes no page until something is
written into it. Other file systems keep rosim's byte counts (overlay's and
the disks' figures depend on the host and are not compared).

pyfakefs charges byte deltas through ``change_disk_usage``; :func:`install`
wraps the three places that change a file's size (setting its contents,
resizing it, unlinking it) so that, on a tmpfs device, the charge is the
change in the file's pages instead (see :meth:`rosim.fs.kernel.Kernel.change_disk_usage`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pyfakefs.fake_file import FakeDirectory, FakeFile

from rosim.fs.mounts import FsType

if TYPE_CHECKING:
    from rosim.fs.kernel import Kernel

__all__ = ["PAGE_SIZE", "charged_pages", "install", "pages", "sizing"]

#: The page size of tmpfs on x86-64 and arm64 Linux.
PAGE_SIZE = 4096


def pages(nbytes: int) -> int:
    """Pages needed for ``nbytes`` bytes."""
    return -(-nbytes // PAGE_SIZE)


def charged_pages(node: FakeFile) -> int:
    """The pages a tmpfs file holds now."""
    held = node.__dict__.get("_rosim_pages")
    return pages(node.st_size or 0) if held is None else held


def _pages_of(node: FakeFile, data: bytes | None) -> int:
    if not data:
        return 0
    if not node.__dict__.get("_rosim_sparse"):
        return pages(len(data))
    # A file with holes: only the pages something was written into.
    return sum(1 for i in range(0, len(data), PAGE_SIZE)
               if data[i:i + PAGE_SIZE].strip(b"\0"))


@contextmanager
def sizing(fs: Kernel, node: FakeFile, target: int) -> Iterator[None]:
    """While pyfakefs resizes ``node``, charge its tmpfs device ``target`` pages in all."""
    saved = fs.page_target
    fs.page_target = (node, target, [False])
    try:
        yield
    finally:
        fs.page_target = saved
    node._rosim_pages = target


def _tmpfs_kernel(node: FakeFile) -> Kernel | None:
    from rosim.fs.kernel import Kernel

    fs = node._filesystem() if callable(getattr(node, "_filesystem", None)) else None
    if not isinstance(fs, Kernel):
        return None
    device = fs.devices.get(node.st_dev)
    return fs if device is not None and device.fstype is FsType.TMPFS else None


_installed = False


def install() -> None:
    """Count tmpfs space in pages (once per process)."""
    global _installed
    if _installed:
        return
    set_contents = FakeFile.set_initial_contents
    size = FakeFile.size
    remove_entry = FakeDirectory.remove_entry

    def set_initial_contents(self: FakeFile, contents: Any) -> bool:
        fs = _tmpfs_kernel(self)
        if fs is None:
            return set_contents(self, contents)
        with sizing(fs, self, _pages_of(self, self._encode_contents(contents))):
            return set_contents(self, contents)

    def set_size(self: FakeFile, st_size: int) -> None:
        fs = _tmpfs_kernel(self)
        if fs is None or not isinstance(st_size, int):
            size.fset(self, st_size)
            return
        held = charged_pages(self)
        if st_size > (self.st_size or 0):
            self._rosim_sparse = True  # the new tail is a hole
            target = held
        else:
            target = min(held, pages(st_size))
        with sizing(fs, self, target):
            size.fset(self, st_size)

    def remove(self: FakeDirectory, pathname_name: Any, recursive: bool = True) -> None:
        entry = self._entries.get(pathname_name) if isinstance(pathname_name, str) else None
        fs = _tmpfs_kernel(entry) if isinstance(entry, FakeFile) and not isinstance(
            entry, FakeDirectory) else None
        if fs is None or entry.st_nlink != 1:
            remove_entry(self, pathname_name, recursive)
            return
        with sizing(fs, entry, 0):
            remove_entry(self, pathname_name, recursive)

    FakeFile.set_initial_contents = set_initial_contents  # type: ignore[method-assign]
    FakeFile.size = property(size.fget, set_size)  # type: ignore[method-assign,assignment]
    FakeDirectory.remove_entry = remove  # type: ignore[method-assign]
    _installed = True

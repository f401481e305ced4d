"""The system-call layer that code inside a container talks to.

pyfakefs replaces ``os``, ``io``/``open``, ``pathlib`` and ``shutil`` while a
container runs code. This module adjusts that layer to Linux:

* :class:`ContainerOsModule` — pyfakefs' fake ``os`` with the calls pyfakefs
  implements outside its file system object (``chown``, xattrs,
  ``truncate``, ``mknod``) routed through the kernel's checks, plus
  ``statvfs`` and an ``access`` that knows read-only and ``noexec`` mounts.
  Functions that would act on the *real* host (``os.system``, ``os.fork``,
  fd calls pyfakefs does not fake such as ``os.pwrite``) raise
  :class:`HostAccessError` instead of leaking out of the simulation.
* every ``open`` (builtin, ``io``, ``os.open``, ``pathlib``) goes through
  :meth:`rosim.fs.kernel.Kernel.open_syscall`, so opening for writing on a
  read-only mount is ``EROFS`` at open time, as on Linux.
"""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable
from stat import S_IFIFO, S_IFREG, S_ISDIR, S_ISREG
from typing import Any

from pyfakefs import fake_open
from pyfakefs.fake_file import FakeFile, StandardStreamWrapper
from pyfakefs.fake_os import FakeOsModule
from pyfakefs.fake_path import FakePathModule

from rosim._errors import RosimError
from rosim.fs import devices
from rosim.fs.kernel import Kernel, _path_str

__all__ = ["ContainerOsModule", "HostAccessError", "install_open_hook"]

_BLOCK_SIZE = 4096
#: Linux's O_TMPFILE (``__O_TMPFILE | O_DIRECTORY``); os.O_TMPFILE where Python has it.
_O_TMPFILE = getattr(os, "O_TMPFILE", 0o20200000)
_tmpfile_serial = 0

# Real os functions that pyfakefs does not fake and that would act on the
# host: processes, and calls on file descriptors or paths.
_HOST_ONLY = frozenset(
    """system popen fork forkpty execl execle execlp execlpe execv execve execvp
    execvpe spawnl spawnle spawnlp spawnlpe spawnv spawnve spawnvp spawnvpe
    posix_spawn posix_spawnp chroot fchdir fchown lchown
    fstatvfs posix_fadvise sendfile copy_file_range splice pwrite
    pwritev writev pread preadv readv lockf memfd_create eventfd openpty pipe pipe2
    truncate_real sync syncfs unshare setns login_tty
    dup dup2 set_inheritable set_blocking tcsetpgrp ttyname
    setuid setgid seteuid setegid setreuid setregid setresuid setresgid setgroups
    initgroups setsid setpgid setpgrp nice setpriority sched_setaffinity
    sched_setscheduler sched_setparam plock pidfd_open waitpid wait wait3 wait4
    waitid""".split()
)


class HostAccessError(RosimError, PermissionError):
    """Simulated code called something that would touch the real host.

    Raised for ``os.system``, ``os.fork``, ``os.pwrite`` and other calls that
    the simulation does not model: they would run a real process or act on a
    real file descriptor. It is a ``PermissionError`` with errno ``EPERM``, so
    the code inside meets an error it can handle, and a ``RosimError``, so the
    learner sees rosim refused it.
    """


def _refuse(name: str) -> Callable[..., Any]:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise HostAccessError(
            errno.EPERM,
            f"os.{name}() is not simulated: inside a rosim container it would reach the "
            "real host, so it is refused",
        )

    refused.__name__ = name
    return refused


def _ends_in_dots(path: Any) -> bool:
    """Whether ``path``'s last component is ``.`` or ``..`` (never a symlink)."""
    if isinstance(path, int):
        return False
    text = os.fsdecode(os.fspath(path)).rstrip("/")
    return text.rsplit("/", 1)[-1] in (".", "..")


class ContainerOsModule(FakeOsModule):
    """pyfakefs' fake ``os`` module with Linux mount semantics (see module doc)."""

    filesystem: Kernel

    @staticmethod
    def dir() -> list[str]:
        """Names patched when imported directly (``from os import statvfs``)."""
        return [*FakeOsModule.dir(), "statvfs", "truncate", "ftruncate", "fchmod",
                "lchmod", "mknod", "mkfifo", "posix_fallocate"]

    def __getattr__(self, name: str) -> Any:
        value = _refuse(name) if name in _HOST_ONLY else super().__getattr__(name)  # type: ignore[misc]
        # Cache: this module object lives for one run() only.
        self.__dict__[name] = value
        return value

    # ``os.open`` -------------------------------------------------------
    def open(self, path: Any, flags: int, mode: int | None = None, *,
             dir_fd: int | None = None) -> int:
        """``os.open`` with the kernel's EROFS rules; never chmods an existing file."""
        path = self._path_with_dir_fd(path, self.open, dir_fd)
        if flags & _O_TMPFILE == _O_TMPFILE:
            return self._open_tmpfile(path, flags, 0o777 if mode is None else mode)
        accmode = flags & os.O_ACCMODE
        can_write = accmode in (os.O_WRONLY, os.O_RDWR) or bool(flags & os.O_TRUNC)
        create = bool(flags & os.O_CREAT)
        fs = self.filesystem

        def action() -> int:
            existing = fs._node(path)
            keep = mode
            if existing is not None:
                # pyfakefs chmods after opening; keep an existing file's mode.
                keep = existing.st_mode & 0o7777
            fd = FakeOsModule.open(self, path, flags, keep)
            if flags & os.O_TRUNC and accmode == os.O_RDONLY:
                # Linux truncates even for a read-only descriptor.
                node = fs.get_open_file(fd).get_object()
                if S_ISREG(node.st_mode) and node.st_size:
                    node.size = 0
            return fd

        return fs.open_syscall(path, can_write, not create, bool(flags & os.O_EXCL) and create,
                               action, _flags_detail(flags))

    def _open_tmpfile(self, path: Any, flags: int, mode: int) -> int:
        """``O_TMPFILE``: an unnamed regular file in directory ``path`` (nlink 0).

        ``EROFS`` on a read-only mount, ``EINVAL`` without write access,
        ``ENOTDIR``/``ENOENT`` for a bad directory, as Linux gives them.
        """
        fs = self.filesystem
        with fs.syscall("open", path, "O_TMPFILE") as call:
            fs.check_name_limits(path)
            node = fs._node(path)
            if node is None:
                raise OSError(errno.ENOENT, os.strerror(errno.ENOENT), _path_str(path))
            if not S_ISDIR(node.st_mode):
                raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), _path_str(path))
            if flags & os.O_ACCMODE not in (os.O_WRONLY, os.O_RDWR):
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), _path_str(path))
            fs._check_writable(node, path, call)
            global _tmpfile_serial
            _tmpfile_serial += 1
            name = self.path.join(_path_str(path), f".rosim-tmpfile-{_tmpfile_serial}")
            plain = (flags & ~_O_TMPFILE) | os.O_CREAT | os.O_EXCL
            fd = FakeOsModule.open(self, name, plain, mode)
            fs.get_open_file(fd).get_object().st_mode = S_IFREG | (mode & 0o7777 & ~fs.umask)
            FakeOsModule.remove(self, name)
            return fd

    def mkfifo(self, path: Any, mode: int = 0o666, *, dir_fd: int | None = None) -> None:
        """``os.mkfifo``: a FIFO node, with ``mknod``'s ENOENT, EEXIST, EROFS."""
        path = self._path_with_dir_fd(path, self.mkfifo, dir_fd)
        fs = self.filesystem

        def action() -> None:
            head, tail = self.path.split(path)
            if not tail or fs.exists(path, check_link=True):
                raise OSError(errno.EEXIST, os.strerror(errno.EEXIST), _path_str(path))
            fs.add_object(head or ".", FakeFile(tail, S_IFIFO | (mode & 0o7777 & ~fs.umask),
                                                filesystem=fs))

        fs._create("mknod", path, action)

    def _is_open(self, fd: Any) -> bool:
        return opened_by_code(self.filesystem, fd)

    def write(self, fd: int, contents: bytes) -> int:
        """``os.write``: on a full device, first a short count, then ENOSPC.

        Descriptors 1 and 2, unless the code opened files there, are the
        process's standard output and error: ``sys.stdout``/``sys.stderr``.
        """
        if fd in (1, 2) and not self._is_open(fd):
            return std_write(fd, contents)
        wrapper = self.filesystem.get_open_file(fd)
        node = wrapper.get_object() if hasattr(wrapper, "get_object") else None
        before = node.st_size if isinstance(node, FakeFile) else None
        try:
            return FakeOsModule.write(self, fd, contents)
        except OSError as exc:
            if exc.errno != errno.ENOSPC or before is None or node is None:
                raise
            written = (node.st_size or 0) - before
            if written <= 0:
                raise
            # The bytes that fitted are in the file: report them, as write(2) does.
            wrapper._io.seek(0, 2)
            wrapper._io.write(contents[:written])
            wrapper.update_flush_pos()
            return written

    def closerange(self, fd_low: int, fd_high: int) -> None:
        """``os.closerange``: closes the process's (simulated) descriptors only."""
        files = self.filesystem.open_files
        for fd in range(max(fd_low, 0), min(fd_high, len(files))):
            if files[fd]:
                try:
                    self.close(fd)
                except OSError:
                    pass

    def get_inheritable(self, fd: int) -> bool:
        """``os.get_inheritable`` of a simulated descriptor (always False: O_CLOEXEC)."""
        self.filesystem.get_open_file(fd)
        return False

    def get_blocking(self, fd: int) -> bool:
        """``os.get_blocking`` of a simulated descriptor (files always block)."""
        self.filesystem.get_open_file(fd)
        return True

    def posix_fallocate(self, fd: int, offset: int, length: int) -> None:
        """``posix_fallocate``: reserve space; ENOSPC (nothing changed) if it does not fit.

        The file keeps no bytes in memory, so gigabytes cost nothing real;
        it reads as a file of that size declared by size only.
        """
        if offset < 0 or length <= 0:
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        wrapper = self.filesystem.get_open_file(fd)
        if not getattr(wrapper, "allow_update", False):
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        with self.filesystem.syscall("fallocate", fd):
            node = wrapper.get_object()
            if node.byte_contents is not None:
                wrapper.flush()
            current = node.st_size or 0
            new_size = max(current, offset + length)
            self.filesystem.change_disk_usage(new_size - current, node.name, node.st_dev)
            node._byte_contents = None
            node.st_size = new_size

    # calls pyfakefs implements outside the file system object -----------
    def chown(self, path: Any, uid: int, gid: int, *, dir_fd: int | None = None,
              follow_symlinks: bool = True) -> None:
        """``os.chown``: EROFS on a read-only mount, copy-up on the overlay."""
        path = self._path_with_dir_fd(path, self.chown, dir_fd)
        self.filesystem._modify(
            "chown", path,
            lambda: FakeOsModule.chown(self, path, uid, gid, follow_symlinks=follow_symlinks),
            follow_symlinks,
        )

    def setxattr(self, path: Any, attribute: Any, value: bytes, flags: int = 0, *,
                 follow_symlinks: bool = True) -> None:
        """``os.setxattr``."""
        self.filesystem._modify(
            "setxattr", path,
            lambda: FakeOsModule.setxattr(self, path, attribute, value, flags,
                                          follow_symlinks=follow_symlinks),
            follow_symlinks,
        )

    def removexattr(self, path: Any, attribute: Any, *, follow_symlinks: bool = True) -> None:
        """``os.removexattr``: EROFS first, then ENODATA for a missing attribute."""
        def action() -> None:
            node = self.filesystem.resolve(path, follow_symlinks, allow_fd=True)
            name = attribute.decode() if isinstance(attribute, bytes) else attribute
            if name not in node.xattr:
                raise OSError(errno.ENODATA, os.strerror(errno.ENODATA), _path_str(path))
            FakeOsModule.removexattr(self, path, attribute, follow_symlinks=follow_symlinks)

        self.filesystem._modify("removexattr", path, action, follow_symlinks)

    def truncate(self, path: Any, length: int) -> None:
        """``os.truncate``: EISDIR for a directory, then EROFS."""
        self.filesystem._modify("truncate", path,
                                lambda: FakeOsModule.truncate(self, path, length))

    def ftruncate(self, fd: int, length: int) -> None:
        """``os.ftruncate`` on a descriptor opened for writing."""
        wrapper = self.filesystem.get_open_file(fd)
        if not getattr(wrapper, "allow_update", False):
            raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
        with self.filesystem.syscall("ftruncate", fd):
            FakeOsModule.ftruncate(self, fd, length)

    def fchmod(self, fd: int, mode: int) -> None:
        """``os.fchmod``: EROFS on a read-only mount even through a descriptor."""
        self.filesystem._modify("fchmod", fd, lambda: FakeOsModule.fchmod(self, fd, mode))

    def lstat(self, path: Any, *, dir_fd: int | None = None) -> Any:
        """``os.lstat``; a last component ``.`` or ``..`` names a directory.

        Such a name is never a symbolic link, so Linux stats the directory it
        names (``lstat('/tmp/..')`` is ``/``); pyfakefs would say ``ENOENT``.
        """
        return self.stat(path, dir_fd=dir_fd, follow_symlinks=_ends_in_dots(path))

    def stat(self, path: Any, *, dir_fd: int | None = None,
             follow_symlinks: bool = True) -> Any:
        """``os.stat``, with ``follow_symlinks=False`` handled like :meth:`lstat`."""
        return FakeOsModule.stat(self, path, dir_fd=dir_fd,
                                 follow_symlinks=follow_symlinks or _ends_in_dots(path))

    def mknod(self, path: Any, mode: int | None = None, device: int = 0, *,
              dir_fd: int | None = None) -> None:
        """``os.mknod`` (regular files): ENOENT, EEXIST, then EROFS."""
        path = self._path_with_dir_fd(path, self.mknod, dir_fd)
        self.filesystem._create(
            "mknod", path, lambda: FakeOsModule.mknod(self, path, mode, device)
        )

    # queries --------------------------------------------------------------
    def access(self, path: Any, mode: int, *, dir_fd: int | None = None,
               effective_ids: bool | None = None, follow_symlinks: bool | None = None) -> bool:
        """``os.access``: ``W_OK`` is false on a read-only mount, ``X_OK`` on noexec."""
        result = FakeOsModule.access(self, path, mode, dir_fd=dir_fd,
                                     effective_ids=effective_ids,
                                     follow_symlinks=follow_symlinks)
        if not result or dir_fd is not None:
            return result
        node = self.filesystem._node(path)
        mount = self.filesystem.mount_of(node) if node is not None else None
        if mount is None:
            return result
        if mode & os.W_OK and mount.read_only:
            return False
        if mode & os.X_OK and mount.options.noexec and S_ISREG(node.st_mode):
            return False
        return result

    def statvfs(self, path: Any) -> os.statvfs_result:
        """``os.statvfs``: sizes of the mount's device and its flags in ``f_flag``."""
        node = self.filesystem.resolve(path, allow_fd=True)
        mount = self.filesystem.mount_of(node)
        device = self.filesystem.devices.get(node.st_dev)
        total, used = device.limit() if device else (0, 0)
        blocks = total // _BLOCK_SIZE
        free = min(max(blocks - -(-used // _BLOCK_SIZE), 0),
                   (device.free if device else 0) // _BLOCK_SIZE)
        flag = os.ST_RELATIME
        if mount is not None:
            opts = mount.options
            flag |= (
                (os.ST_RDONLY if opts.read_only else 0)
                | (os.ST_NOSUID if opts.nosuid else 0)
                | (os.ST_NODEV if opts.nodev else 0)
                | (os.ST_NOEXEC if opts.noexec else 0)
            )
        files, ffree = 1_000_000, 1_000_000
        if device is not None and device.inodes is not None:
            files, ffree = device.inodes, max(device.inodes - device.inodes_used, 0)
        return os.statvfs_result(
            (_BLOCK_SIZE, _BLOCK_SIZE, blocks, free, free, files, ffree, ffree, flag, 255)
        )


def _flags_detail(flags: int) -> str:
    acc = {os.O_RDONLY: "O_RDONLY", os.O_WRONLY: "O_WRONLY", os.O_RDWR: "O_RDWR"}
    names = [acc.get(flags & os.O_ACCMODE, "O_RDONLY")]
    for flag in ("O_CREAT", "O_EXCL", "O_TRUNC", "O_APPEND"):
        if flags & getattr(os, flag):
            names.append(flag)
    return "|".join(names)


_MODE_FLAGS = {
    "r": "O_RDONLY", "r+": "O_RDWR", "w": "O_WRONLY|O_CREAT|O_TRUNC",
    "w+": "O_RDWR|O_CREAT|O_TRUNC", "a": "O_WRONLY|O_CREAT|O_APPEND",
    "a+": "O_RDWR|O_CREAT|O_APPEND", "x": "O_WRONLY|O_CREAT|O_EXCL",
    "x+": "O_RDWR|O_CREAT|O_EXCL",
}


def opened_by_code(fs: Any, fd: Any) -> bool:
    """Whether ``fd`` is a file the code opened (not the standard streams' stand-ins)."""
    files = fs.open_files
    if not isinstance(fd, int) or not 0 <= fd < len(files) or not files[fd]:
        return False
    return not isinstance(files[fd][0], StandardStreamWrapper)


def std_write(fd: int, data: Any) -> int:
    """Write bytes to the process's standard output (1) or error (2): the notebook's."""
    import sys

    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"a bytes-like object is required, not '{type(data).__name__}'")
    raw = bytes(data)
    stream = sys.stdout if fd == 1 else sys.stderr
    if stream is not None:
        stream.write(raw.decode("utf-8", "replace"))
        flush = getattr(stream, "flush", None)
        if flush is not None:
            flush()
    return len(raw)


class _StdRaw(io.RawIOBase):
    """Descriptor 0, 1 or 2 opened with ``open(fd, ...)``: the process's streams."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def writable(self) -> bool:
        return self._fd in (1, 2)

    def readable(self) -> bool:
        return self._fd == 0

    def write(self, data: Any) -> int:
        if self._fd not in (1, 2):
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        return std_write(self._fd, data)

    def readinto(self, buffer: Any) -> int:
        if self._fd != 0:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        return 0  # a container process started by rosim has an empty stdin


def _open_std(fd: int, mode: str, kwargs: dict[str, Any]) -> Any:
    import io

    raw = _StdRaw(fd)
    if "b" in mode:
        return io.BufferedWriter(raw) if fd else io.BufferedReader(raw)
    buffered = io.BufferedWriter(raw) if fd else io.BufferedReader(raw)
    return io.TextIOWrapper(buffered, encoding=kwargs.get("encoding") or "utf-8",
                            errors=kwargs.get("errors"), line_buffering=True,
                            write_through=True)


_installed = False


def _install_partial_write() -> None:
    """A full device keeps the bytes that fit, then the write fails (ENOSPC).

    pyfakefs rolls a failed flush back and flushes the shorter buffer again
    when the file is closed; that re-flush of a prefix of what was kept is
    ignored, so the file ends as a real tmpfs leaves it.
    """
    original = FakeFile.set_initial_contents

    def set_initial_contents(self: FakeFile, contents: Any) -> bool:
        fs = self._filesystem()
        if not isinstance(fs, Kernel):
            return original(self, contents)
        kept = self.__dict__.pop("_rosim_kept", None)
        if kept is not None and kept.startswith(self._encode_contents(contents) or b""):
            return False
        try:
            return original(self, contents)
        except OSError as exc:
            device = fs.devices.get(self.st_dev)
            if exc.errno != errno.ENOSPC or device is None or device.total is None:
                raise
            data = self._encode_contents(contents) or b""
            room = device.total - device.used + (self.st_size or 0)
            part = data[: max(room, 0)]
            original(self, part)
            self._rosim_kept = part
            raise

    FakeFile.set_initial_contents = set_initial_contents  # type: ignore[method-assign]


def _object(wrapper: Any) -> Any:
    """Mark a file object that code holds: closed when it lets go of it
    (:meth:`rosim.fs.kernel.Kernel.close_dropped_files`)."""
    try:
        wrapper._rosim_object = True
    except AttributeError:
        pass
    return wrapper


def _open_device(node: Any, path: Any, mode: str, args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> Any:
    """``open`` of a simulated character device with open()'s own arguments."""
    names = ("buffering", "encoding", "errors", "newline")
    given = dict(zip(names, args, strict=False))
    given.update((k, v) for k, v in kwargs.items() if k in names)
    return devices.open_device(node, path, mode, given.get("buffering", -1),
                               given.get("encoding"), given.get("errors"),
                               given.get("newline"))


def install_open_hook() -> None:
    """Route pyfakefs' ``FakeFileOpen`` through the kernel's open checks (once)."""
    global _installed
    if _installed:
        return
    from rosim.fs import pages

    pages.install()  # first: the partial write below wraps the page count
    _install_partial_write()
    original = fake_open.FakeFileOpen.call

    def call(self: Any, file_: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        fs = self.filesystem
        opener = kwargs.get("opener", args[5] if len(args) > 5 else None)
        if isinstance(fs, Kernel) and isinstance(file_, int) and file_ in (0, 1, 2) and \
                not opened_by_code(fs, file_):
            return _open_std(file_, mode, kwargs)
        if not isinstance(fs, Kernel) or isinstance(file_, int):
            return original(self, file_, mode, *args, **kwargs)
        if opener is not None:
            # With an opener, the opener's own os.open is the system call.
            return _object(original(self, file_, mode, *args, **kwargs))
        open_modes = kwargs.get("open_modes")
        if open_modes is None:
            key = mode.replace("b", "").replace("t", "")
            spec = fake_open._OPEN_MODE_MAP.get(key)
            if spec is None:
                return original(self, file_, mode, *args, **kwargs)
            open_modes = fake_open._OpenModes(*spec)
            detail = _MODE_FLAGS.get(key, key)
        else:
            detail = ""
        return fs.open_syscall(
            file_, open_modes.can_write, open_modes.must_exist,
            open_modes.must_not_exist,
            lambda: _object(original(self, file_, mode, *args, **kwargs)), detail,
            lambda node: _open_device(node, file_, mode, args, kwargs),
        )

    fake_open.FakeFileOpen.call = call  # type: ignore[method-assign]

    original_unfaked = fake_open.is_unfaked_path

    def is_unfaked_path(val: Any) -> bool:
        # pyfakefs opens the host's /dev/zero, /dev/urandom ... directly;
        # inside a container those are rosim's own devices.
        from rosim.runtime.process import _guarded

        return False if _guarded() else bool(original_unfaked(val))

    fake_open.is_unfaked_path = is_unfaked_path

    original_ismount = FakePathModule.ismount

    def ismount(self: Any, path: Any) -> bool:
        fs = self.filesystem
        if isinstance(fs, Kernel):
            return fs.ismount(path)
        return original_ismount(self, path)

    FakePathModule.ismount = ismount  # type: ignore[method-assign]
    _installed = True

"""Read-only enforcement: every mutating call, the kernel's errors and their order."""

from __future__ import annotations

import errno
import logging
import os
import pathlib
import shutil
import stat
import tempfile

import pytest

import rosim
from tests.conftest import outcome, started


def write(path: str, data: str = "x") -> None:
    with open(path, "w") as f:
        f.write(data)


MUTATIONS = {
    "open w": lambda p: write(p),
    "open a existing": lambda p: open("/etc/passwd", "a").close(),
    "open r+ existing": lambda p: open("/etc/passwd", "r+").close(),
    "open x": lambda p: open(p, "x").close(),
    "open wb": lambda p: open(p, "wb").close(),
    "os.open O_CREAT": lambda p: os.open(p, os.O_WRONLY | os.O_CREAT),
    "os.open O_RDWR existing": lambda p: os.open("/etc/passwd", os.O_RDWR),
    "os.open O_TRUNC existing": lambda p: os.open("/etc/passwd", os.O_WRONLY | os.O_TRUNC),
    "truncate": lambda p: os.truncate("/etc/passwd", 0),
    "unlink": lambda p: os.unlink("/etc/passwd"),
    "remove missing": lambda p: os.remove(p),
    "rename": lambda p: os.rename("/etc/passwd", p),
    "replace": lambda p: os.replace("/etc/passwd", p),
    "mkdir": lambda p: os.mkdir(p),
    "makedirs": lambda p: os.makedirs(p + "/a/b"),
    "rmdir": lambda p: os.rmdir("/etc/emptydir"),
    "symlink": lambda p: os.symlink("/etc/passwd", p),
    "link": lambda p: os.link("/etc/passwd", p),
    "chmod": lambda p: os.chmod("/etc/passwd", 0o600),
    "chown": lambda p: os.chown("/etc/passwd", 1, 1),
    "utime": lambda p: os.utime("/etc/passwd", (1, 1)),
    "setxattr": lambda p: os.setxattr("/etc/passwd", "user.k", b"v"),
    "removexattr": lambda p: os.removexattr("/etc/passwd", "user.k"),
    "mknod": lambda p: os.mknod(p, stat.S_IFREG | 0o600),
    "pathlib.write_text": lambda p: pathlib.Path(p).write_text("x"),
    "pathlib.touch": lambda p: pathlib.Path(p).touch(),
    "pathlib.mkdir": lambda p: pathlib.Path(p).mkdir(),
    "pathlib.unlink": lambda p: pathlib.Path("/etc/passwd").unlink(),
    "pathlib.rename": lambda p: pathlib.Path("/etc/passwd").rename(p),
    "shutil.copy": lambda p: shutil.copy("/etc/passwd", p),
    "shutil.copytree": lambda p: shutil.copytree("/etc/app", p),
    "shutil.rmtree": lambda p: shutil.rmtree("/etc/app"),
    "shutil.move": lambda p: shutil.move("/etc/passwd", p),
    "tempfile.mkstemp": lambda p: tempfile.mkstemp(dir="/etc"),
    "tempfile.NamedTemporaryFile": lambda p: tempfile.NamedTemporaryFile(dir="/etc"),
    "tempfile.mkdtemp": lambda p: tempfile.mkdtemp(dir="/etc"),
    "logging.FileHandler": lambda p: logging.FileHandler(p),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_mutation_on_a_read_only_root_is_erofs(ro_ctr, name):
    """Each mutating call on the read-only root fails with EROFS, for root too."""
    assert ro_ctr.run(outcome, MUTATIONS[name], "/etc/new") == "EROFS"


@pytest.mark.parametrize("name", sorted(set(MUTATIONS) - {"remove missing"}))
def test_the_same_mutations_succeed_on_a_writable_root(rw_ctr, name):
    """The same calls work when the root is writable (the check is the mount)."""
    if name == "removexattr":
        rw_ctr.run(os.setxattr, "/etc/passwd", "user.k", b"v")
    assert rw_ctr.run(outcome, MUTATIONS[name], "/etc/new") == "ok"


def test_message_and_filename_are_the_kernels(ro_ctr):
    """The error reads exactly as Python prints it for a real read-only mount."""
    with pytest.raises(OSError) as info:
        ro_ctr.run(write, "/var/log/dnf.log")
    assert info.value.errno == errno.EROFS
    assert str(info.value) == "[Errno 30] Read-only file system: '/var/log/dnf.log'"
    assert info.value.filename == "/var/log/dnf.log"


@pytest.mark.parametrize(("call", "expected"), [
    (lambda: os.mkdir("/etc"), "EEXIST"),
    (lambda: os.mkdir("/nope/dir"), "ENOENT"),
    (lambda: os.unlink("/etc/missing"), "EROFS"),
    (lambda: os.unlink("/nope/missing"), "ENOENT"),
    (lambda: os.rmdir("/etc/missing"), "EROFS"),
    (lambda: os.symlink("/x", "/etc/passwd"), "EEXIST"),
    (lambda: os.link("/etc/passwd", "/etc/passwd"), "EEXIST"),
    (lambda: open("/etc/passwd", "x"), "EEXIST"),
    (lambda: open("/etc", "w"), "EISDIR"),
    (lambda: open("/nope/file", "w"), "ENOENT"),
    (lambda: os.truncate("/etc", 0), "EISDIR"),
    (lambda: os.chmod("/etc/missing", 0o644), "ENOENT"),
    (lambda: os.rename("/tmp/x", "/etc/x"), "EXDEV"),
    (lambda: os.rename("/etc/missing", "/etc/other"), "EROFS"),
    (lambda: os.removexattr("/etc/passwd", "user.none"), "EROFS"),
    (lambda: open("/etc/passwd").read(), "ok"),
    (lambda: os.listdir("/etc"), "ok"),
])
def test_error_order_follows_linux(ro_ctr, call, expected):
    """EEXIST before EROFS for creation; EROFS before ENOENT for unlink; EXDEV first."""
    ro_ctr.run(write, "/tmp/x")
    assert ro_ctr.run(outcome, call) == expected


def test_rename_across_mounts_names_both_paths(ro_ctr):
    """rename(2) between mounts is EXDEV, reported with both paths."""
    ro_ctr.run(write, "/tmp/x")
    with pytest.raises(OSError) as info:
        ro_ctr.run(os.rename, "/tmp/x", "/data/x")
    assert str(info.value) == "[Errno 18] Invalid cross-device link: '/tmp/x' -> '/data/x'"


def test_read_only_bind_volume(ro_ctr):
    """A bind mount with ro refuses writes even though volumes are writable."""
    assert ro_ctr.run(outcome, write, "/config/app.conf") == "EROFS"
    assert ro_ctr.run(outcome, write, "/data/app.db") == "ok"


def test_sized_tmpfs_fills_with_enospc(ro_ctr):
    """Writing past size= gives ENOSPC; smaller files still fit."""
    assert ro_ctr.run(outcome, write, "/scratch/small", "x" * 60_000) == "ok"
    assert ro_ctr.run(outcome, write, "/scratch/big", "x" * 10_000) == "ENOSPC"
    assert ro_ctr.run(shutil.disk_usage, "/scratch").total == 65536


def test_full_tmpfs_keeps_the_bytes_that_fit(ro_ctr):
    """As on Linux, a write that overflows a tmpfs stores what fits, then ENOSPC."""
    assert ro_ctr.run(outcome, write, "/scratch/big", "x" * 100_000) == "ENOSPC"
    assert ro_ctr.run(os.path.getsize, "/scratch/big") == 65536
    assert ro_ctr.run(outcome, write, "/scratch/big", "y" * 1000) == "ok"
    assert ro_ctr.run(os.path.getsize, "/scratch/big") == 1000


def test_statvfs_flags(ro_ctr):
    """f_flag carries ST_RDONLY, ST_NOSUID, ST_NODEV and ST_NOEXEC per mount."""
    root = ro_ctr.run(os.statvfs, "/").f_flag
    tmp = ro_ctr.run(os.statvfs, "/tmp").f_flag
    scratch = ro_ctr.run(os.statvfs, "/scratch").f_flag
    assert root & os.ST_RDONLY and not tmp & os.ST_RDONLY
    assert tmp & os.ST_NOEXEC and tmp & os.ST_NOSUID and tmp & os.ST_NODEV
    assert not scratch & os.ST_NOEXEC
    assert ro_ctr.run(os.statvfs, "/config").f_flag & os.ST_RDONLY


def test_access_reports_read_only_and_noexec(ro_ctr):
    """os.access(W_OK) is False on a read-only mount; X_OK is False on noexec."""
    ro_ctr.run(write, "/tmp/tool")
    ro_ctr.run(os.chmod, "/tmp/tool", 0o755)
    assert ro_ctr.run(os.access, "/etc/passwd", os.W_OK) is False
    assert ro_ctr.run(os.access, "/etc/passwd", os.R_OK) is True
    assert ro_ctr.run(os.access, "/tmp/tool", os.W_OK) is True
    assert ro_ctr.run(os.access, "/tmp/tool", os.X_OK) is False
    assert ro_ctr.run(os.access, "/usr/bin/app", os.X_OK) is True


def test_proc_mounts_lists_the_mount_table(ro_ctr):
    """/proc/mounts inside shows the read-only overlay root and the tmpfs options."""
    text = ro_ctr.run(lambda: open("/proc/mounts").read())
    lines = {line.split()[1]: line.split() for line in text.splitlines()}
    assert lines["/"][0] == "overlay" and lines["/"][3].startswith("ro,relatime,lowerdir=")
    assert lines["/tmp"][2:4] == ["tmpfs", "rw,nosuid,nodev,noexec,relatime"]
    assert lines["/run"][3] == "rw,nosuid,nodev,noexec,relatime,mode=755"
    assert lines["/scratch"][3] == "rw,relatime,size=64k"
    assert lines["/config"][3] == "ro,relatime"
    assert text == ro_ctr.run(lambda: open("/proc/self/mounts").read())
    assert text == ro_ctr.proc_mounts


def test_logging_filehandler_fails_at_construction(ro_ctr):
    """logging.FileHandler raises EROFS when it is created."""
    with pytest.raises(OSError) as info:
        ro_ctr.run(logging.FileHandler, "/var/log/app.log")
    assert info.value.errno == errno.EROFS


def test_logging_with_delay_fails_at_first_record(ro_ctr):
    """With delay=True the handler is created; the first record raises EROFS."""
    def app() -> str:
        logger = logging.getLogger("rosim-test-delay")
        handler = logging.FileHandler("/var/log/app.log", delay=True)
        logger.addHandler(handler)
        try:
            return outcome(logger.warning, "hello")
        finally:
            logger.removeHandler(handler)

    assert ro_ctr.run(app) == "EROFS"


def test_tempfile_without_a_tmpfs_finds_no_directory(demo_image):
    """With a read-only root and no tmpfs (CRI-O container-only flag) mkstemp fails."""
    ctr = started("cri-o", demo_image, container_read_only=True)
    with pytest.raises(FileNotFoundError, match="No usable temporary directory"):
        ctr.run(tempfile.mkstemp)


def test_tempfile_uses_the_runtime_tmpfs(ro_ctr):
    """Under CRI-O --read-only, tempfile lands on the /tmp tmpfs."""
    def make() -> str:
        fd, path = tempfile.mkstemp()
        os.close(fd)
        return os.path.dirname(path)

    assert ro_ctr.run(make) == "/tmp"


def test_reads_work_everywhere(ro_ctr):
    """Reading is never blocked by a read-only mount."""
    assert ro_ctr.run(lambda: open("/etc/passwd").read()).startswith("root:")
    assert ro_ctr.run(lambda: sorted(os.listdir("/etc"))) == [
        "app", "emptydir", "hostname", "passwd", "resolv.conf"]


def test_writes_through_bind_mounted_files(demo_image):
    """The runtimes' /etc files are read-only exactly when the root is."""
    crio = started("cri-o", demo_image, read_only=True)
    podman = started("podman", demo_image, read_only=True)
    assert crio.run(outcome, write, "/etc/hostname", "x") == "EROFS"
    assert podman.run(outcome, write, "/etc/hosts", "x") == "EROFS"
    for profile in ("cri-o", "podman", "docker"):
        assert started(profile, demo_image).run(outcome, write, "/etc/hostname", "x") == "ok"
    assert started("docker", demo_image, read_only=True).run(
        outcome, write, "/etc/hosts", "x") == "EROFS"
    assert podman.run(outcome, write, "/etc/passwd", "x") == "EROFS"


def test_mount_points_cannot_be_removed_or_renamed(rw_ctr):
    """rmdir or rename of a mount point is EBUSY."""
    assert rw_ctr.run(outcome, lambda: os.rmdir("/dev/shm")) == "EBUSY"
    assert rw_ctr.run(outcome, lambda: os.rename("/dev/shm", "/dev/shm2")) == "EBUSY"


def test_rosim_error_is_not_raised_for_simulated_failures(ro_ctr):
    """Simulated failures are OSErrors, not RosimErrors: apps catch them unchanged."""
    with pytest.raises(OSError) as info:
        ro_ctr.run(write, "/etc/motd")
    assert not isinstance(info.value, rosim.RosimError)


def test_lstat_of_dot_and_dotdot_names_the_directory():
    """``lstat('/tmp/.')`` and ``lstat('/tmp/..')`` stat directories, as on Linux.

    A last component ``.`` or ``..`` is never a symbolic link, so ``ls -la``
    lists both entries; a missing directory before it is still ``ENOENT``.
    """
    ctr = rosim.Runtime("podman", read_only=True).create(rosim.Image.builtin("fedora"))
    ctr.start()

    def probe():
        root = os.stat("/")
        tmp = os.stat("/tmp")
        assert os.lstat("/tmp/..").st_ino == root.st_ino
        assert os.lstat("/tmp/.").st_ino == tmp.st_ino
        assert os.stat("/tmp/..", follow_symlinks=False).st_ino == root.st_ino
        try:
            os.lstat("/nonexistent/..")
        except OSError as exc:
            return exc.errno
        return None

    assert ctr.run(probe) == errno.ENOENT
    listing = ctr.sh("ls -la /tmp").stdout.splitlines()
    assert [line.split()[-1] for line in listing[1:]] == [".", ".."]

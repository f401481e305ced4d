"""What each container runtime mounts, by profile and read-only setting.

The rules follow the runtimes' code (see ``docs/design.md``):

=========  ==========================================  =====================================
profile    read-only root                              tmpfs it adds when the root is ro
=========  ==========================================  =====================================
cri-o      global ``read_only`` OR the container's     ``/run`` (mode=755), ``/tmp``,
           ``readonly_rootfs``; only the global flag   ``/var/tmp``: rw,noexec,nosuid,nodev,
           adds tmpfs                                  tmpcopyup
podman     ``--read-only``                             ``/tmp``, ``/var/tmp``, ``/run``:
                                                       rw,rprivate,nosuid,nodev,tmpcopyup
                                                       (none with ``read_only_tmpfs=False``);
                                                       ``/dev`` is noexec; a ``--tmpfs`` gets
                                                       nosuid,nodev but no noexec
docker     ``--read-only``                             none; a user ``--tmpfs`` defaults to
                                                       noexec,nosuid,nodev
=========  ==========================================  =====================================

A runtime tmpfs is skipped when a user mount targets that exact path.
``/dev`` is a tmpfs without ``noexec`` under Docker and CRI-O. The files bound
into ``/etc`` are read-only exactly when the root is. These rules were checked
against Docker 20.10 and Podman 4.3.1 (``tests/runtimes``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from stat import S_IFCHR, S_IFDIR, S_IFLNK

from rosim._bounds import RosimEnum
from rosim.fs.mounts import FsType, MountOptions, parse_options

__all__ = ["DEV_NODES", "DevNode", "PlannedMount", "Profile", "default_mounts"]


class Profile(RosimEnum):
    """The container runtimes rosim models; values are their command names."""

    CRIO = "cri-o"
    PODMAN = "podman"
    DOCKER = "docker"


@dataclass(frozen=True)
class PlannedMount:
    """A mount a container will get when it starts (before a device exists)."""

    destination: str
    fstype: FsType
    source: str
    options: MountOptions
    origin: str
    kind: str  # 'tmpfs', 'proc', 'sysfs', 'volume', 'host', 'file'
    key: str = ""
    content: bytes = b""
    sub_path: str = ""


_TMPFS = FsType.TMPFS


@dataclass(frozen=True)
class DevNode:
    """An entry runc makes in a container's ``/dev`` tmpfs.

    ``path`` is relative to ``/dev``; ``mode`` carries the file type (a
    character device, a symbolic link to ``target``, or a directory where the
    runtime mounts ``devpts`` or ``mqueue``); ``rdev`` is a device's
    ``(major, minor)``.
    """

    path: str
    mode: int
    target: str = ""
    rdev: tuple[int, int] = (0, 0)


def _chr(path: str, major: int, minor: int) -> DevNode:
    return DevNode(path, S_IFCHR | 0o666, rdev=(major, minor))


def _link(path: str, target: str) -> DevNode:
    return DevNode(path, S_IFLNK | 0o777, target)


#: What ``ls -la /dev`` shows in a container besides ``shm``, the same under
#: Docker 20.10, Podman 4.3.1 (rw and ``--read-only``) and a default ``runc
#: spec`` with runc 1.1.5 (checked here; CRI-O's default spec has the same
#: mounts): runc's default devices, its ``/dev/fd`` and ``std*`` links, the
#: ``ptmx`` link into the ``devpts`` mount at ``/dev/pts`` and the ``mqueue``
#: mount. runc also links ``/dev/core`` to ``/proc/kcore`` where the host has
#: ``/proc/kcore`` (this project's machines do not). A privileged container
#: gets every host device as well; rosim does not model those.
DEV_NODES: tuple[DevNode, ...] = (
    _link("fd", "/proc/self/fd"),
    _chr("full", 1, 7),
    DevNode("mqueue", S_IFDIR | 0o1777),
    _chr("null", 1, 3),
    _link("ptmx", "pts/ptmx"),
    DevNode("pts", S_IFDIR | 0o755),
    _chr("pts/ptmx", 5, 2),
    _chr("random", 1, 8),
    _link("stderr", "/proc/self/fd/2"),
    _link("stdin", "/proc/self/fd/0"),
    _link("stdout", "/proc/self/fd/1"),
    _chr("tty", 5, 0),
    _chr("urandom", 1, 9),
    _chr("zero", 1, 5),
)


@functools.lru_cache(maxsize=256)
def _opts(*names: str, mode: int | None = None, size: int | None = None) -> MountOptions:
    # The runtimes' own option sets, parsed once (MountOptions is frozen).
    return replace(parse_options(names), mode=mode, size=size)


#: ``/dev/shm``'s size: Docker's and CRI-O's 64 MiB, Podman's ``--shm-size``
#: default of 65536000 bytes (``size=64000k`` in ``/proc/mounts``).
SHM_SIZE = {"docker": 65536 * 1024, "cri-o": 65536 * 1024, "podman": 65536000}


def default_mounts(
    profile: Profile, *, root_read_only: bool, global_read_only: bool,
    read_only_tmpfs: bool, privileged: bool, taken: set[str], hostname: str,
    pod_shm: str | None = None,
) -> list[PlannedMount]:
    """The runtime's own mounts for one container, in mount order.

    ``taken`` holds the user's mount destinations; a default with the same
    destination is left out, as the runtimes do.

    ``/dev`` is a tmpfs without ``noexec`` under Docker and CRI-O (root can
    drop and run a binary there under every read-only setting); Podman mounts
    it ``noexec``. Podman 4.3.1 as tested keeps ``/dev`` and ``/dev/shm``
    writable with ``--read-only-tmpfs=false`` (current Podman's docs say they
    become read-only). A privileged CRI-O container gets ``/sys`` read-write
    and no ``ro`` on the runtime's other mounts; its root stays read-only.
    ``pod_shm`` names a CRI-O pod: its containers share one ``/dev/shm``
    (``mode=1777``), which outlives them until the pod is removed.
    """
    crio_privileged = profile is Profile.CRIO and privileged
    dev_flags = ("nosuid", "noexec") if profile is Profile.PODMAN else ("nosuid",)
    plan = [
        PlannedMount("/proc", FsType.PROC, "proc", _opts("rw", "nosuid", "nodev", "noexec"),
                     "runtime", "proc"),
        PlannedMount("/dev", _TMPFS, "tmpfs",
                     _opts("rw", *dev_flags, mode=0o755, size=65536 * 1024),
                     "runtime", "tmpfs"),
        PlannedMount("/sys", FsType.SYSFS, "sysfs",
                     _opts("rw" if crio_privileged else "ro", "nosuid", "nodev", "noexec"),
                     "runtime", "sysfs"),
        PlannedMount("/dev/shm", _TMPFS, "shm",
                     _opts("rw", "nosuid", "nodev", "noexec", size=SHM_SIZE[profile.value]),
                     "runtime", "tmpfs"),
    ]
    if profile is Profile.CRIO and pod_shm is not None:
        plan[-1] = PlannedMount("/dev/shm", _TMPFS, "shm",
                                _opts("rw", "nosuid", "nodev", "noexec", mode=0o1777,
                                      size=SHM_SIZE[profile.value]),
                                "runtime", "memory", key=pod_shm_key(pod_shm))
    if profile is Profile.CRIO and global_read_only:
        plan += [
            PlannedMount("/run", _TMPFS, "tmpfs",
                         _opts("rw", "noexec", "nosuid", "nodev", "tmpcopyup", mode=0o755),
                         "runtime", "tmpfs"),
            PlannedMount("/tmp", _TMPFS, "tmpfs",
                         _opts("rw", "noexec", "nosuid", "nodev", "tmpcopyup", mode=0o1777),
                         "runtime", "tmpfs"),
            PlannedMount("/var/tmp", _TMPFS, "tmpfs",
                         _opts("rw", "noexec", "nosuid", "nodev", "tmpcopyup", mode=0o1777),
                         "runtime", "tmpfs"),
        ]
    podman_tmpfs = profile is Profile.PODMAN and root_read_only and read_only_tmpfs
    if podman_tmpfs:
        plan += [
            PlannedMount(dest, _TMPFS, "tmpfs",
                         _opts("rw", "rprivate", "nosuid", "nodev", "tmpcopyup"),
                         "runtime", "tmpfs")
            for dest in ("/tmp", "/var/tmp", "/run")
        ]
    # Files the runtime bind-mounts into every container: read-only exactly
    # when the root is (CRI-O ``setupBaseContainerMounts``; Docker, moby:
    # ``writable := !ReadonlyRootfs``; Podman likewise), never for a
    # privileged CRI-O container.
    ro = root_read_only and not crio_privileged
    files: list[tuple[str, bytes]]
    if profile is Profile.CRIO:
        files = [
            ("/etc/resolv.conf", b"nameserver 10.96.0.10\nsearch default.svc.cluster.local\n"),
            ("/etc/hostname", hostname.encode() + b"\n"),
            ("/run/.containerenv", b""),
        ]
    else:
        files = [
            ("/etc/resolv.conf", b"nameserver 10.88.0.1\n"),
            ("/etc/hostname", hostname.encode() + b"\n"),
            ("/etc/hosts", b"127.0.0.1 localhost\n::1 localhost\n"
             + f"10.88.0.2 {hostname}\n".encode()),
        ]
        if profile is Profile.PODMAN and not podman_tmpfs:
            # Podman binds /run/.containerenv unless /run is its own tmpfs.
            files.append(("/run/.containerenv", b""))
    for dest, content in files:
        if profile is Profile.CRIO:
            flags: tuple[str, ...] = ("nosuid", "nodev", "noexec")
        elif profile is Profile.PODMAN and ro:
            flags = ("nosuid", "nodev", "noexec")
        else:
            # Docker binds them with no flags; Podman only when read-only.
            flags = ()
        opts = _opts("ro" if ro else "rw", *flags)
        plan.append(PlannedMount(dest, FsType.BIND, "/dev/sda1", opts, "runtime", "file",
                                 content=content))
    return [m for m in plan if m.destination not in taken]


def user_tmpfs_options(profile: Profile, options: MountOptions, given: tuple[str, ...]
                       ) -> MountOptions:
    """Apply the runtime's defaults to a user tmpfs (``--tmpfs`` in Docker/Podman).

    Docker defaults a ``--tmpfs`` to ``noexec,nosuid,nodev`` unless the user
    says ``exec``/``suid``/``dev``. Podman's docs say the same, but its code
    (4.3.1 as tested, and current Podman) adds only ``nosuid,nodev``: a
    Podman ``--tmpfs`` is executable. CRI-O takes the OCI options as given.
    """
    if profile is Profile.CRIO:
        return options
    defaults = (("nosuid", "suid"), ("nodev", "dev"))
    if profile is Profile.DOCKER:
        defaults = (("noexec", "exec"), *defaults)
    changes = {}
    for flag, opposite in defaults:
        if opposite not in given:
            changes[flag] = True
    return replace(options, **changes)


def pod_shm_key(pod: str) -> str:
    """The storage key of a CRI-O pod's shared ``/dev/shm``."""
    return f"pod-shm-{pod}"


def user_volume_options(profile: Profile, options: MountOptions, given: tuple[str, ...]
                        ) -> MountOptions:
    """Apply the runtime's defaults to a named volume (``-v NAME:/path``).

    Podman mounts a named volume ``nosuid,nodev`` unless the user says
    ``suid``/``dev`` (checked with Podman 4.3.1); Docker and CRI-O add nothing.
    """
    if profile is not Profile.PODMAN:
        return options
    changes = {flag: True for flag, opposite in (("nosuid", "suid"), ("nodev", "dev"))
               if opposite not in given}
    return replace(options, **changes)

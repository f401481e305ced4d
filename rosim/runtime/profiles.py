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
                                                       (none with ``read_only_tmpfs=False``,
                                                       which also makes /dev, /dev/shm ro)
docker     ``--read-only``                             none; a user ``--tmpfs`` defaults to
                                                       noexec,nosuid,nodev
=========  ==========================================  =====================================

A runtime tmpfs is skipped when a user mount targets that exact path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from rosim.fs.mounts import FsType, MountOptions, parse_options

__all__ = ["PlannedMount", "Profile", "default_mounts"]


class Profile(StrEnum):
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


def _opts(*names: str, mode: int | None = None, size: int | None = None) -> MountOptions:
    return replace(parse_options(names), mode=mode, size=size)


def default_mounts(
    profile: Profile, *, root_read_only: bool, global_read_only: bool,
    read_only_tmpfs: bool, privileged: bool, taken: set[str], hostname: str,
) -> list[PlannedMount]:
    """The runtime's own mounts for one container, in mount order.

    ``taken`` holds the user's mount destinations; a default with the same
    destination is left out, as the runtimes do.
    """
    dev_ro = profile is Profile.PODMAN and root_read_only and not read_only_tmpfs
    plan = [
        PlannedMount("/proc", FsType.PROC, "proc", _opts("rw", "nosuid", "nodev", "noexec"),
                     "runtime", "proc"),
        PlannedMount("/dev", _TMPFS, "tmpfs",
                     _opts("ro" if dev_ro else "rw", "nosuid", mode=0o755, size=65536 * 1024),
                     "runtime", "tmpfs"),
        PlannedMount("/sys", FsType.SYSFS, "sysfs", _opts("ro", "nosuid", "nodev", "noexec"),
                     "runtime", "sysfs"),
        PlannedMount("/dev/shm", _TMPFS, "shm",
                     _opts("ro" if dev_ro else "rw", "nosuid", "nodev", "noexec",
                           size=65536 * 1024),
                     "runtime", "tmpfs"),
    ]
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
    if profile is Profile.PODMAN and root_read_only and read_only_tmpfs:
        plan += [
            PlannedMount(dest, _TMPFS, "tmpfs",
                         _opts("rw", "rprivate", "nosuid", "nodev", "tmpcopyup"),
                         "runtime", "tmpfs")
            for dest in ("/tmp", "/var/tmp", "/run")
        ]
    # Files the runtime bind-mounts into every container.
    files: list[tuple[str, bytes, bool]]
    if profile is Profile.CRIO:
        ro = not privileged
        files = [
            ("/etc/resolv.conf", b"nameserver 10.96.0.10\nsearch default.svc.cluster.local\n", ro),
            ("/etc/hostname", hostname.encode() + b"\n", ro),
            ("/run/.containerenv", b"", ro),
        ]
    else:
        files = [
            ("/etc/resolv.conf", b"nameserver 10.88.0.1\n", False),
            ("/etc/hostname", hostname.encode() + b"\n", False),
            ("/etc/hosts", b"127.0.0.1 localhost\n::1 localhost\n"
             + f"10.88.0.2 {hostname}\n".encode(), False),
        ]
    for dest, content, ro in files:
        opts = _opts("ro" if ro else "rw", "nosuid", "nodev",
                     *(("noexec",) if profile is Profile.CRIO else ()))
        plan.append(PlannedMount(dest, FsType.BIND, "/dev/sda1", opts, "runtime", "file",
                                 content=content))
    return [m for m in plan if m.destination not in taken]


def user_tmpfs_options(profile: Profile, options: MountOptions, given: tuple[str, ...]
                       ) -> MountOptions:
    """Apply the runtime's defaults to a user tmpfs (``--tmpfs`` in Docker/Podman).

    Docker and Podman default a ``--tmpfs`` to ``noexec,nosuid,nodev`` unless
    the user says ``exec``/``suid``/``dev``; CRI-O takes the OCI options as given.
    """
    if profile is Profile.CRIO:
        return options
    changes = {}
    for flag, opposite in (("noexec", "exec"), ("nosuid", "suid"), ("nodev", "dev")):
        if opposite not in given:
            changes[flag] = True
    return replace(options, **changes)

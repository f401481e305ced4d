"""A container's view of the file system: its root tree and mount table.

The simulated kernel (:mod:`rosim.fs.kernel`) serves one namespace at a time:
the one of the container whose code is running. A namespace holds the root
directory node, the mounts (each with its own device number, so that a
rename across them is ``EXDEV`` as on Linux), and the event log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyfakefs.fake_file import FakeDirectory, FakeFile

from rosim.fs.events import EventLog
from rosim.fs.mounts import FsType, MountOptions

__all__ = ["Device", "MountEntry", "Namespace"]


@dataclass(eq=False)
class Device:
    """A simulated block device or memory file system: capacity and usage.

    ``total`` is ``None`` for "as big as the host disk"; writes beyond a set
    ``total`` fail with ``ENOSPC``.
    """

    dev: int
    fstype: FsType
    total: int | None = None
    used: int = 0
    reported_total: int = 0
    #: The disk this device's bytes also count against (a node's disk for a
    #: container's writable layer or an emptyDir), or None.
    parent: Device | None = None
    #: tmpfs ``nr_inodes=``: inodes it can hold (None: no limit), and in use.
    inodes: int | None = None
    inodes_used: int = 0

    def chain(self) -> list[Device]:
        """This device and the devices it draws space from, innermost first."""
        devices: list[Device] = []
        device: Device | None = self
        while device is not None:
            devices.append(device)
            device = device.parent
        return devices

    @property
    def free(self) -> int:
        """Bytes still available here, the tightest limit along the chain."""
        frees = [d.total - d.used for d in self.chain() if d.total is not None]
        if not frees:
            return max(self.reported_total - self.used, 0)
        return max(min(frees), 0)

    def limit(self) -> tuple[int, int]:
        """(size, used) as ``df`` shows them: the first device with a set size."""
        for device in self.chain():
            if device.total is not None:
                return device.total, device.used
        return self.reported_total, self.used


@dataclass(frozen=True)
class MountEntry:
    """One line of a container's mount table, as ``/proc/mounts`` shows it.

    ``origin`` says who added it: ``'image'`` (the root), ``'runtime'`` (the
    runtime's defaults, e.g. CRI-O's read-only tmpfs), or ``'user'``.
    """

    destination: str
    fstype: FsType
    source: str
    options: MountOptions
    origin: str
    dev: int = 0
    extra: str = ""

    @property
    def read_only(self) -> bool:
        """True when writes through this mount fail with EROFS."""
        return self.options.read_only

    def proc_line(self) -> str:
        """Render the entry as a ``/proc/mounts`` line."""
        flags = self.options.kernel_flags() + ["relatime"]
        if self.fstype is FsType.TMPFS:
            if self.options.size is not None:
                flags.append(f"size={self.options.size // 1024}k")
            if self.options.nr_inodes is not None:
                flags.append(f"nr_inodes={self.options.nr_inodes}")
            if self.options.mode is not None and self.options.mode != 0o1777:
                flags.append(f"mode={self.options.mode:o}")
        if self.extra:
            flags.append(self.extra)
        fstype = str(self.fstype)
        if self.fstype is FsType.BIND:
            fstype = "nfs4" if self.source.startswith("nfs:") else "ext4"
        return f"{self.source} {self.destination} {fstype} {','.join(flags)} 0 0"


@dataclass(eq=False)
class Namespace:
    """The root tree, the mount table and the event log of one container."""

    root: FakeDirectory
    mounts: list[MountEntry] = field(default_factory=list)
    events: EventLog = field(default_factory=EventLog)
    mount_roots: dict[int, FakeFile] = field(default_factory=dict)
    attachments: list[tuple[FakeDirectory, FakeFile, str]] = field(default_factory=list)
    cwd: str = "/"

    def by_dev(self) -> dict[int, MountEntry]:
        """Map device numbers to mount entries (the last mount of a device wins)."""
        return {m.dev: m for m in self.mounts}

    def proc_mounts(self) -> str:
        """The text of ``/proc/mounts`` inside the container."""
        return "".join(m.proc_line() + "\n" for m in self.mounts)

"""Storage accounting: where a pod's bytes are, and a node's disk (domain.md §6).

:func:`pod_usage` says where a pod's bytes are: each container's writable
layer and logs, its ``emptyDir`` volumes on disk and in memory, its
``hostPath`` directories and its claims. :func:`node_disk` is the node's
disk as the kubelet sees it: one file system for the node and its images
(``nodefs`` and ``imagefs`` are the same disk, the usual node without a
dedicated image file system), with the kubelet's default hard thresholds
``nodefs.available<10%``, ``imagefs.available<15%`` and
``nodefs.inodesFree<5%``. Because the image file system is the node's disk,
``imagefs.available`` has the same figures as ``nodefs.available`` and its
15 % is met first: ``DiskPressure`` comes at about 85 % use, not 90 %.
The eviction manager that acts on these
figures is :mod:`rosim.cluster.eviction`:
the checks, their order, their pace and their messages are there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rosim._errors import ConfigError
from rosim.cluster.spec import VolumeKind

if TYPE_CHECKING:
    from rosim.cluster.cluster import Cluster, Node

__all__ = ["BYTES_PER_INODE", "DEFAULT_IMAGEFS_THRESHOLD", "DEFAULT_INODES_THRESHOLD",
           "DEFAULT_NODEFS_THRESHOLD", "NodeDisk", "PodUsage", "node_disk", "pod_usage",
           "thresholds"]

#: ``nodefs.available<10%``: the kubelet's default hard eviction threshold.
DEFAULT_NODEFS_THRESHOLD = 0.10
#: ``imagefs.available<15%``: the kubelet's default hard threshold for the image
#: file system (on a node with one disk, the same figures as ``nodefs``).
DEFAULT_IMAGEFS_THRESHOLD = 0.15
#: ``nodefs.inodesFree<5%``: the kubelet's default hard threshold for inodes.
DEFAULT_INODES_THRESHOLD = 0.05
#: mke2fs's default ``inode_ratio``: an ext4 node disk has one inode per 16 KiB.
BYTES_PER_INODE = 16384


@dataclass(frozen=True)
class PodUsage:
    """Bytes a pod uses, by where they are.

    ``layers`` and ``logs`` are per container; ``empty_dirs`` (on the node's
    disk), ``memory`` (``emptyDir`` with ``medium: Memory``), ``host_paths``
    and ``claims`` per volume name.
    """

    pod: str
    layers: dict[str, int] = field(default_factory=dict)
    #: Inodes used per container (writable layer) and per disk emptyDir.
    inodes: dict[str, int] = field(default_factory=dict)
    empty_dir_inodes: dict[str, int] = field(default_factory=dict)
    logs: dict[str, int] = field(default_factory=dict)
    empty_dirs: dict[str, int] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)
    host_paths: dict[str, int] = field(default_factory=dict)
    claims: dict[str, int] = field(default_factory=dict)

    @property
    def ephemeral(self) -> int:
        """What ``ephemeral-storage`` counts: layers + logs + disk emptyDirs."""
        return sum(self.layers.values()) + sum(self.logs.values()) + sum(
            self.empty_dirs.values())

    @property
    def inodes_used(self) -> int:
        """Inodes the pod uses on its node's disk: layers and disk emptyDirs."""
        return sum(self.inodes.values()) + sum(self.empty_dir_inodes.values())

    @property
    def node_disk(self) -> int:
        """Everything this pod keeps on its node's disk (ephemeral + hostPath)."""
        return self.ephemeral + sum(self.host_paths.values())

    def by_kind(self) -> dict[str, int]:
        """Totals per storage kind, for plots and tables."""
        return {"writable layer": sum(self.layers.values()), "logs": sum(self.logs.values()),
                "emptyDir": sum(self.empty_dirs.values()),
                "emptyDir (Memory)": sum(self.memory.values()),
                "hostPath": sum(self.host_paths.values()),
                "persistentVolumeClaim": sum(self.claims.values())}


@dataclass(frozen=True)
class NodeDisk:
    """A node's disk as ``df`` and the kubelet see it.

    ``used`` counts everything on it: writable layers, logs, ``emptyDir``
    and ``hostPath`` directories, and the node's images (``images`` of it).
    The disk is both the kubelet's ``nodefs`` and the runtime's ``imagefs``
    (no dedicated image file system): the signals ``nodefs.available`` and
    ``imagefs.available`` have the same figures, each with its own threshold
    (``threshold``, ``imagefs_threshold``; a threshold of 0 is off).
    """

    node: str
    capacity: int
    used: int
    threshold: float = DEFAULT_NODEFS_THRESHOLD
    #: Inodes of the disk's file system, and in use (files, directories, links).
    inodes: int = 0
    inodes_used: int = 0
    inodes_threshold: float = DEFAULT_INODES_THRESHOLD
    #: Bytes the node's images take on the disk (part of ``used``).
    images: int = 0
    imagefs_threshold: float = DEFAULT_IMAGEFS_THRESHOLD

    @property
    def available(self) -> int:
        """``nodefs.available``."""
        return max(self.capacity - self.used, 0)

    @property
    def inodes_free(self) -> int:
        """``nodefs.inodesFree``."""
        return max(self.inodes - self.inodes_used, 0)

    @property
    def nodefs_pressure(self) -> bool:
        """``nodefs.available`` under its threshold."""
        return self.available < self.capacity * self.threshold

    @property
    def imagefs_pressure(self) -> bool:
        """``imagefs.available`` (the same disk) under its threshold."""
        return self.available < self.capacity * self.imagefs_threshold

    @property
    def bytes_pressure(self) -> bool:
        """``nodefs.available`` or ``imagefs.available`` under its threshold."""
        return self.nodefs_pressure or self.imagefs_pressure

    @property
    def pressure_signal(self) -> str:
        """The bytes signal that sets ``DiskPressure`` first as the disk fills: the
        one with the larger threshold (``imagefs.available`` with the defaults)."""
        return ("nodefs.available" if self.threshold > self.imagefs_threshold
                else "imagefs.available")

    @property
    def pressure_fraction(self) -> float:
        """The threshold of :attr:`pressure_signal`, as a fraction of the disk."""
        return max(self.threshold, self.imagefs_threshold)

    @property
    def pressure_bytes(self) -> int:
        """The threshold quantity of :attr:`pressure_signal`, in bytes."""
        return int(self.capacity * self.pressure_fraction)

    @property
    def signal(self) -> str | None:
        """The signal the kubelet acts on now: the bytes signal met first, else
        ``nodefs.inodesFree``, else None."""
        if self.bytes_pressure:
            return self.pressure_signal
        return "nodefs.inodesFree" if self.inode_pressure else None

    @property
    def inode_pressure(self) -> bool:
        """``nodefs.inodesFree`` under its threshold."""
        return bool(self.inodes) and self.inodes_free < self.inodes * self.inodes_threshold

    @property
    def pressure(self) -> bool:
        """A disk signal met: available bytes or free inodes under a threshold."""
        return self.bytes_pressure or self.inode_pressure


def thresholds(cluster: Cluster) -> tuple[float, float, float]:
    """The cluster's ``evictionHard`` disk thresholds, checked: ``nodefs_threshold``,
    ``imagefs_threshold`` and ``inodes_threshold``, each a fraction from 0 (off) to 1.
    Raises :class:`~rosim.ConfigError` naming the field and its value."""
    values = (cluster.nodefs_threshold, cluster.imagefs_threshold, cluster.inodes_threshold)
    for value, name, signal in zip(values, _THRESHOLD_FIELDS, _SIGNALS, strict=True):
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not 0 <= value <= 1:
            raise ConfigError(f"{name}(={value!r:.60}) must be a fraction from 0 to 1 "
                              f"(evictionHard {signal}).")
    return values


_THRESHOLD_FIELDS = ("nodefs_threshold", "imagefs_threshold", "inodes_threshold")
_SIGNALS = ("nodefs.available", "imagefs.available", "nodefs.inodesFree")


def node_disk(cluster: Cluster, node_name: str) -> NodeDisk:
    """The disk figures of one node."""
    node = cluster.node(node_name)
    total, used = node.runtime.disk.limit()
    device = node.runtime.disk
    nodefs, imagefs, inodes = thresholds(cluster)
    return NodeDisk(node.name, total, used, nodefs, device.inodes or 0,
                    device.inodes_used, inodes, node.images.bytes, imagefs)


def _storage_used(node: Node, kind: str, key: str) -> int:
    from rosim.fs.kernel import kernel

    store = {"host": node.runtime._host_paths, "volume": node.runtime._volumes,
             "memory": node.runtime._memory}[kind]
    directory = store.get(key)
    if directory is None:
        return 0
    device = kernel().devices.get(directory.st_dev)
    return device.used if device is not None else 0


def _storage_inodes(node: Node, key: str) -> int:
    from rosim.fs.kernel import kernel

    directory = node.runtime._host_paths.get(key)
    device = kernel().devices.get(directory.st_dev) if directory is not None else None
    return device.inodes_used if device is not None else 0


def pod_usage(cluster: Cluster, pod_name: str) -> PodUsage:
    """Where the bytes of pod ``pod_name`` are right now."""
    from rosim.fs.kernel import kernel

    pod = cluster.pod(pod_name)
    usage = PodUsage(pod.name)
    for name, ctr in pod.containers.items():
        usage.layers[name] = ctr.upper_size
        usage.inodes[name] = ctr._upper.inodes_used
        usage.logs[name] = ctr.log_bytes
    node = cluster.nodes.get(pod.node) if pod.node else None
    if node is None:
        return usage
    for volume in pod.spec.volumes:
        if volume.kind is VolumeKind.EMPTY_DIR:
            if volume.medium == "Memory":
                usage.memory[volume.name] = _storage_used(node, "memory",
                                                          f"{pod.uid}-{volume.name}")
            else:
                key = (f"/var/lib/kubelet/pods/{pod.uid}/volumes/"
                       f"kubernetes.io~empty-dir/{volume.name}")
                usage.empty_dirs[volume.name] = _storage_used(node, "host", key)
                usage.empty_dir_inodes[volume.name] = _storage_inodes(node, key)
        elif volume.kind is VolumeKind.HOST_PATH:
            usage.host_paths[volume.name] = _storage_used(node, "host", volume.path)
        elif volume.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM:
            pv = cluster.volumes[cluster.claims[volume.claim_name]]
            if pv.source == "hostPath":
                usage.claims[volume.name] = _storage_used(
                    node, "host", f"/var/lib/rosim-provisioner/{pv.name}")
                continue
            directory = (node.runtime._volumes.get(f"pv-{pv.name}") if pv.source == "local"
                         else node.runtime.network.get(f"pv-{pv.name}"))
            device = kernel().devices.get(directory.st_dev) if directory is not None else None
            usage.claims[volume.name] = device.used if device is not None else 0
    return usage

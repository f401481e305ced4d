"""Storage accounting and the kubelet's evictions (domain.md §6).

:func:`pod_usage` says where a pod's bytes are: each container's writable
layer and logs, its ``emptyDir`` volumes on disk and in memory, its
``hostPath`` directories and its claims. :func:`sync` is one pass of the
kubelet's eviction manager on every node:

* an ``emptyDir`` over its ``sizeLimit`` (on disk the limit is not enforced
  at write time) evicts the pod: ``Usage of EmptyDir volume "NAME" exceeds
  the limit "LIMIT". ``;
* a container over ``resources.limits.ephemeral-storage`` (writable layer +
  logs; the pod's sum adds its disk ``emptyDir``) evicts the pod:
  ``Container NAME exceeded its local ephemeral storage limit "LIMIT". ``;
* a node whose ``nodefs.available`` falls under the threshold (10% by
  default) reports ``DiskPressure`` and evicts pods, one at a time, in the
  kubelet's order — pods using more than they requested first, then lower
  priority first, then the largest use beyond the request — until the node
  is back over the threshold.

An evicted pod is ``Failed`` with reason ``Evicted``; its containers,
writable layers and ``emptyDir`` volumes are deleted, which gives their space
back to the node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rosim.cluster.spec import VolumeKind

if TYPE_CHECKING:
    from rosim.cluster.cluster import Cluster, Node, Pod

__all__ = ["DEFAULT_NODEFS_THRESHOLD", "NodeDisk", "PodUsage", "node_disk", "pod_usage", "sync"]

#: ``nodefs.available<10%``: the kubelet's default hard eviction threshold.
DEFAULT_NODEFS_THRESHOLD = 0.10


@dataclass(frozen=True)
class PodUsage:
    """Bytes a pod uses, by where they are.

    ``layers`` and ``logs`` are per container; ``empty_dirs`` (on the node's
    disk), ``memory`` (``emptyDir`` with ``medium: Memory``), ``host_paths``
    and ``claims`` per volume name.
    """

    pod: str
    layers: dict[str, int] = field(default_factory=dict)
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
    """A node's disk as ``df`` and the kubelet see it."""

    node: str
    capacity: int
    used: int
    threshold: float = DEFAULT_NODEFS_THRESHOLD

    @property
    def available(self) -> int:
        """``nodefs.available``."""
        return max(self.capacity - self.used, 0)

    @property
    def pressure(self) -> bool:
        """``DiskPressure``: available under the eviction threshold."""
        return self.available < self.capacity * self.threshold


def node_disk(cluster: Cluster, node_name: str) -> NodeDisk:
    """The disk figures of one node."""
    node = cluster.node(node_name)
    total, used = node.runtime.disk.limit()
    return NodeDisk(node.name, total, used, cluster.nodefs_threshold)


def _storage_used(node: Node, kind: str, key: str) -> int:
    from rosim.fs.kernel import kernel

    store = {"host": node.runtime._host_paths, "volume": node.runtime._volumes,
             "memory": node.runtime._memory}[kind]
    directory = store.get(key)
    if directory is None:
        return 0
    device = kernel().devices.get(directory.st_dev)
    return device.used if device is not None else 0


def pod_usage(cluster: Cluster, pod_name: str) -> PodUsage:
    """Where the bytes of pod ``pod_name`` are right now."""
    from rosim.fs.kernel import kernel

    pod = cluster.pod(pod_name)
    usage = PodUsage(pod.name)
    for name, ctr in pod.containers.items():
        usage.layers[name] = ctr.upper_size
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
                usage.empty_dirs[volume.name] = _storage_used(
                    node, "host", f"/var/lib/kubelet/pods/{pod.uid}/volumes/"
                                  f"kubernetes.io~empty-dir/{volume.name}")
        elif volume.kind is VolumeKind.HOST_PATH:
            usage.host_paths[volume.name] = _storage_used(node, "host", volume.path)
        else:
            pv = cluster.volumes[cluster.claims[volume.claim_name]]
            directory = (node.runtime._volumes.get(f"pv-{pv.name}") if pv.local
                         else node.runtime.network.get(f"pv-{pv.name}"))
            device = kernel().devices.get(directory.st_dev) if directory is not None else None
            usage.claims[volume.name] = device.used if device is not None else 0
    return usage


def _limit_violation(pod: Pod, usage: PodUsage) -> str | None:
    for volume in pod.spec.volumes:
        if volume.kind is VolumeKind.EMPTY_DIR and volume.medium != "Memory" and \
                volume.size_limit is not None and \
                usage.empty_dirs.get(volume.name, 0) > volume.size_limit:
            return (f'Usage of EmptyDir volume "{volume.name}" exceeds the limit '
                    f'"{volume.size_limit_text}". ')
    for spec in pod.spec.containers:
        limit = spec.ephemeral_storage_limit
        if limit is None:
            continue
        used = usage.layers.get(spec.name, 0) + usage.logs.get(spec.name, 0)
        if used > limit:
            return (f"Container {spec.name} exceeded its local ephemeral storage limit "
                    f'"{spec.ephemeral_storage_limit_text}". ')
    limits = [c.ephemeral_storage_limit for c in pod.spec.containers]
    if limits and all(limit is not None for limit in limits):
        total = sum(limits)  # type: ignore[arg-type]
        if usage.ephemeral > total:
            return (f"Pod ephemeral local storage usage exceeds the total limit of "
                    f"containers {total}. ")
    return None


def _request(pod: Pod) -> int:
    return sum(c.ephemeral_storage_request or 0 for c in pod.spec.containers)


def sync(cluster: Cluster) -> list[str]:
    """One pass of the eviction manager on every node; return the evicted pods."""
    evicted: list[str] = []
    for node in cluster.nodes.values():
        if not node.ready:
            continue
        for name in sorted(node.pods):
            pod = cluster.pods[name]
            message = _limit_violation(pod, pod_usage(cluster, name))
            if message is not None:
                cluster.evict(name, message)
                evicted.append(name)
        disk = node_disk(cluster, node.name)
        was = node.disk_pressure
        node.disk_pressure = disk.pressure
        if disk.pressure and not was:
            cluster._record("NodeHasDiskPressure", "", node.name,
                            f"nodefs.available {disk.available} < "
                            f"{int(disk.capacity * disk.threshold)}")
        while disk.pressure and node.pods:
            ranked = []
            for name in node.pods:
                pod = cluster.pods[name]
                usage = pod_usage(cluster, name).ephemeral
                request = _request(pod)
                ranked.append((usage <= request, pod.spec.priority, -(usage - request),
                               name, usage, request))
            ranked.sort()
            _, _, _, name, usage, request = ranked[0]
            detail = pod_usage(cluster, name)
            per_container = {c: detail.layers.get(c, 0) + detail.logs.get(c, 0)
                             for c in detail.layers}
            if per_container:
                container = max(per_container, key=lambda c: per_container[c])
                who = f"Container {container} was using {per_container[container]}"
            else:
                who = f"Pod {name} was using {usage}"
            cluster.evict(name, (
                "The node was low on resource: ephemeral-storage. Threshold quantity: "
                f"{int(disk.capacity * disk.threshold)}, available: {disk.available}. "
                f"{who}, request is {request}, has larger consumption of ephemeral-storage. "))
            evicted.append(name)
            disk = node_disk(cluster, node.name)
        if not disk.pressure and node.disk_pressure:
            node.disk_pressure = False
            cluster._record("NodeHasNoDiskPressure", "", node.name,
                            f"nodefs.available {disk.available}")
    return evicted

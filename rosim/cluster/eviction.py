"""The kubelet's eviction manager: its checks, their order, its pace, its messages.

One call of :func:`sync` is one pass of the eviction manager on every node
(the kubelet runs one every 10 s, :data:`EVICTION_INTERVAL`), as the kubelet
does it (domain.md §6):

1. **Local storage limits**, per pod, in this order; every pod over a limit
   is evicted in this pass, with the message of the first check it fails:

   * an ``emptyDir`` over its ``sizeLimit`` (not enforced at write time):
     ``Usage of EmptyDir volume "NAME" exceeds the limit "LIMIT". ``;
   * the pod over the sum of its containers' declared
     ``limits.ephemeral-storage`` (layers + logs + disk ``emptyDir``):
     ``Pod ephemeral local storage usage exceeds the total limit of
     containers LIMIT. ``;
   * a container over its own limit (layer + logs): ``Container NAME
     exceeded its local ephemeral storage limit "LIMIT". ``.

   ``emptyDir`` usage is what the kubelet measured last, refreshed every
   :data:`VOLUME_STATS_PERIOD` (60 s, ``volumeStatsAggPeriod``): a fast
   writer is seen late.
2. **Node pressure**: the node's disk is both its ``nodefs`` and its
   ``imagefs`` (no dedicated image file system), so the kubelet observes
   ``nodefs.available`` (threshold 10 %) and ``imagefs.available`` (15 %)
   on the same figures, and ``nodefs.inodesFree`` (5 %). Whichever is met
   sets ``DiskPressure``: with the defaults ``imagefs.available`` is met
   first, at about 85 % disk use. The kubelet records ``EvictionThresholdMet``
   (``Attempting to reclaim ephemeral-storage``: both bytes signals are
   ``ephemeral-storage``), first reclaims node-level resources — the dead
   containers it keeps (their layers and logs), then every unused image
   (:func:`rosim.cluster.images.delete_unused_images`), the same for both
   signals on a shared disk — and evicts a pod
   only if that was not enough: **at most one pod per pass**, ranked: pods using
   more than they request first, then lower priority, then the largest use
   beyond the request (images, layers, logs and volumes all count, as for
   both signals on a shared disk). The message quotes the threshold quantity
   of the signal met first (``Threshold quantity: 15Mi`` on a 100Mi disk;
   when both are met a real kubelet quotes whichever comes first in its
   ``evictionHard`` map). Under inode pressure the ranking counts inodes
   (nobody requests them) and the message is about ``inodes``.
3. **The condition**: ``DiskPressure`` stays true until
   ``evictionPressureTransitionPeriod`` (5 minutes,
   ``Cluster.pressure_transition_period``) has passed since the last pass
   that saw a threshold met; meanwhile the node keeps the
   ``node.kubernetes.io/disk-pressure`` taint and the scheduler places no new
   pod on it, though nothing more is evicted once no threshold is met.

Before its checks on a node, a pass runs the kubelet's image manager when
its 5-minute period has come (:func:`rosim.cluster.images.collect_if_due`:
unused images go at 85 % disk use, down to 80 %).

The message's ``available`` is what the kubelet observed at the start of
the pass, before it reclaimed anything. Quantities in messages print as
Kubernetes quantities (``1Gi``, ``1536Mi``,
or bytes when not a multiple of 1024), as ``resource.Quantity`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rosim._bounds import check_number
from rosim.cluster.images import collect_if_due, delete_unused_images
from rosim.cluster.kubelet import PodUsage, node_disk, pod_usage
from rosim.cluster.quantity import format_quantity
from rosim.cluster.spec import VolumeKind

if TYPE_CHECKING:
    from rosim.cluster.cluster import Cluster, Node, Pod

__all__ = ["EVICTION_INTERVAL", "VOLUME_STATS_PERIOD", "limit_violation", "reclaim", "sync"]

#: Seconds between two passes of the eviction manager.
EVICTION_INTERVAL = 10.0
#: ``volumeStatsAggPeriod``: how often the kubelet measures a pod's volumes.
VOLUME_STATS_PERIOD = 60.0

_DONE = ("Evicted", "Completed", "Error")


def _observed(cluster: Cluster, pod: Pod) -> PodUsage:
    """The pod's usage as the kubelet knows it: emptyDir figures up to 60 s old."""
    usage = pod_usage(cluster, pod.name)
    cache = cluster._volume_stats
    seen = cache.get(pod.uid)
    if seen is None or cluster.clock - seen[0] >= VOLUME_STATS_PERIOD:
        cache[pod.uid] = (cluster.clock, dict(usage.empty_dirs))
    else:
        usage.empty_dirs.clear()
        usage.empty_dirs.update(seen[1])
    return usage


def limit_violation(pod: Pod, usage: PodUsage) -> str | None:
    """The message of the first local-storage limit ``pod`` is over, or None."""
    for volume in pod.spec.volumes:
        if volume.kind is VolumeKind.EMPTY_DIR and volume.medium != "Memory" and \
                volume.size_limit is not None and \
                usage.empty_dirs.get(volume.name, 0) > volume.size_limit:
            return (f'Usage of EmptyDir volume "{volume.name}" exceeds the limit '
                    f'"{format_quantity(volume.size_limit)}". ')
    limits = [c.ephemeral_storage_limit for c in pod.spec.containers
              if c.ephemeral_storage_limit is not None]
    if limits and usage.ephemeral > sum(limits):
        return ("Pod ephemeral local storage usage exceeds the total limit of containers "
                f"{format_quantity(sum(limits))}. ")
    for spec in pod.spec.containers:
        limit = spec.ephemeral_storage_limit
        if limit is None:
            continue
        used = usage.layers.get(spec.name, 0) + usage.logs.get(spec.name, 0)
        if used > limit:
            return (f"Container {spec.name} exceeded its local ephemeral storage limit "
                    f'"{format_quantity(limit)}". ')
    return None


def reclaim(cluster: Cluster, node: Node) -> int:
    """Node-level reclaim: remove every dead container on the node
    (``DeleteAllUnusedContainers``), then every unused image
    (``DeleteUnusedImages``); returns the bytes the disk got back."""
    before = node_disk(cluster, node.name).used
    for name in sorted(node.pods):
        pod = cluster.pods[name]
        for ctr in pod.dead.values():
            if ctr.state != "removed":
                ctr.remove(force=True)
        pod.dead.clear()
    delete_unused_images(cluster, node)
    return before - node_disk(cluster, node.name).used


def _request(pod: Pod) -> int:
    return sum(c.ephemeral_storage_request or 0 for c in pod.spec.containers)


def _pressure_message(pod: Pod, usage: PodUsage, threshold: int, available: int) -> str:
    text = ("The node was low on resource: ephemeral-storage. Threshold quantity: "
            f"{format_quantity(threshold)}, available: {format_quantity(available)}. ")
    for spec in pod.spec.containers:
        used = usage.layers.get(spec.name, 0) + usage.logs.get(spec.name, 0)
        request = spec.ephemeral_storage_request or 0
        if used > request:
            text += (f"Container {spec.name} was using {format_quantity(used)}, request is "
                     f"{format_quantity(request)}, has larger consumption of "
                     "ephemeral-storage. ")
    return text


def _decimal(n: int) -> str:
    """An inode count as a ``DecimalSI`` quantity prints (``5k``, ``48000k``, ``4999``)."""
    for suffix in ("E", "P", "T", "G", "M", "k"):
        unit = 1000 ** ("kMGTPE".index(suffix) + 1)
        if n and n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def _inode_message(pod: Pod, usage: PodUsage, threshold: int, available: int) -> str:
    text = ("The node was low on resource: inodes. Threshold quantity: "
            f"{format_quantity(threshold)}, available: {_decimal(available)}. ")
    for spec in pod.spec.containers:
        used = usage.inodes.get(spec.name, 0)
        if used > 0:  # nobody requests inodes: any use is over the request
            text += (f"Container {spec.name} was using {_decimal(used)}, request is 0, "
                     "has larger consumption of inodes. ")
    return text


def _transition_period(cluster: Cluster) -> float:
    return check_number(cluster.pressure_transition_period, "pressure_transition_period",
                        high=86400.0, unit="s (evictionPressureTransitionPeriod)")


def sync(cluster: Cluster) -> list[str]:
    """One pass of the eviction manager on every node; return the evicted pods."""
    evicted: list[str] = []
    period = _transition_period(cluster)
    for node in list(cluster.nodes.values()):
        if not node.up:
            continue
        collect_if_due(cluster, node)
        live = [cluster.pods[n] for n in sorted(node.pods)
                if cluster.pods[n].status not in _DONE]
        usages = {pod.name: _observed(cluster, pod) for pod in live}
        over = [(pod, limit_violation(pod, usages[pod.name])) for pod in live]
        over = [(pod, message) for pod, message in over if message is not None]
        for pod, message in over:
            cluster.evict(pod.name, message)  # type: ignore[arg-type]
            evicted.append(pod.name)
        disk = node_disk(cluster, node.name)
        if disk.pressure:
            node.disk_pressure_seen = cluster.clock
        seen = node.disk_pressure_seen
        condition = seen is not None and (seen == cluster.clock or
                                          cluster.clock - seen < period)
        if condition and not node.disk_pressure:
            node.disk_pressure = True
            cluster._record("NodeHasDiskPressure", "", node.name,
                            f"Node {node.name} status is now: NodeHasDiskPressure")
        elif not condition and node.disk_pressure:
            node.disk_pressure = False
            cluster._record("NodeHasNoDiskPressure", "", node.name,
                            f"Node {node.name} status is now: NodeHasNoDiskPressure")
            cluster._retry_pending()  # the disk-pressure taint is gone
        if over or not disk.pressure:
            continue
        observed = disk  # what the kubelet's messages quote
        inodes = not disk.bytes_pressure  # nodefs.inodesFree is the signal
        cluster._record("EvictionThresholdMet", "", node.name, "Attempting to reclaim "
                        + ("inodes" if inodes else "ephemeral-storage"))
        reclaim(cluster, node)
        disk = node_disk(cluster, node.name)  # bytes and inodes given back
        if not disk.pressure:
            continue
        ranked = []
        for pod in live:
            usage = (usages[pod.name].inodes_used if inodes
                     else usages[pod.name].ephemeral)
            request = 0 if inodes else _request(pod)
            ranked.append((usage <= request, pod.priority, -(usage - request), pod.name, pod))
        if not ranked:
            continue
        ranked.sort(key=lambda r: r[:4])
        pod = ranked[0][4]
        if inodes:
            message = _inode_message(pod, usages[pod.name],
                                     int(observed.inodes * disk.inodes_threshold),
                                     observed.inodes_free)
        else:
            message = _pressure_message(pod, usages[pod.name], observed.pressure_bytes,
                                        observed.available)
        cluster.evict(pod.name, message)
        evicted.append(pod.name)
    return evicted

"""Pods deleted, evicted, drained; nodes failing, coming back, deleted.

``kubectl drain`` (domain.md §5) cordons the node, then refuses — listing
every pod that blocks, in kubectl's words — pods without a controller
unless ``--force``, pods with an ``emptyDir`` unless
``--delete-emptydir-data``, DaemonSet pods unless ``--ignore-daemonsets``
(which then stay). Otherwise it evicts the pods; their controllers create
replacements on other nodes.

A node **failure** runs on the cluster clock:

1. the machine stops; nothing notices for the node monitor's grace period
   (:data:`NODE_MONITOR_GRACE`, 40 s): then the node is ``NotReady`` and
   tainted ``node.kubernetes.io/unreachable``;
2. its pods tolerate that taint for :data:`TOLERATION_SECONDS` (300 s), then
   are marked for deletion: ``Terminating``, and they stay so, since no
   kubelet confirms it, until the node returns or its object is deleted;
3. controllers react to the deletion: a Deployment's replacement starts on
   another node, but a ``ReadWriteOnce`` network volume is still attached
   to the dead node: ``Multi-Attach error`` until the attach/detach
   controller force-detaches it :data:`FORCE_DETACH_SECONDS` (6 min) later;
   a StatefulSet does not replace its pod while the node object exists
   (at-most-one); a DaemonSet's pod stays;
4. the node's disks are unreachable, not destroyed: :func:`recover` brings
   them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rosim._errors import LifecycleError
from rosim.cluster.spec import VolumeKind
from rosim.cluster.workloads import reconcile_all, reconcile_workload

if TYPE_CHECKING:
    from rosim.cluster.cluster import Cluster
    from rosim.cluster.objects import Pod

__all__ = ["FORCE_DETACH_SECONDS", "NODE_MONITOR_GRACE", "TOLERATION_SECONDS", "delete",
           "delete_node", "drain", "evict", "fail", "recover"]

#: ``node-monitor-grace-period``: silence before the node is marked NotReady.
NODE_MONITOR_GRACE = 40.0
#: ``tolerationSeconds`` of the default ``unreachable``/``not-ready`` tolerations.
TOLERATION_SECONDS = 300.0
#: The attach/detach controller's ``maxWaitForUnmountDuration``.
FORCE_DETACH_SECONDS = 360.0


def _replace(cluster: Cluster, pod: Pod, avoid: str | None) -> list[Pod]:
    if not pod.workload:
        return []
    cluster._avoid = avoid
    try:
        return reconcile_workload(cluster, pod.workload, pod.name)
    finally:
        cluster._avoid = None


def delete(cluster: Cluster, pod_name: str, avoid: str | None = None) -> Pod | None:
    """``kubectl delete pod`` (see :meth:`Cluster.delete`)."""
    pod = cluster.pod(pod_name)
    node = cluster.nodes.get(pod.node or "")
    if node is not None and not node.up:
        # No kubelet confirms the deletion: the pod stays Terminating.
        _mark_terminating(cluster, pod)
        made = _replace(cluster, pod, avoid)
        return made[0] if made else None
    cluster._remove_pod(pod)
    del cluster.pods[pod.name]
    if node is not None:
        cluster._detach_unused(node.name, pod)
    made = _replace(cluster, pod, avoid)
    return made[0] if made else None


def evict(cluster: Cluster, pod_name: str, message: str) -> Pod:
    """The kubelet evicts a pod (see :meth:`Cluster.evict`)."""
    pod = cluster.pod(pod_name)
    node = pod.node or ""
    cluster._record("Evicted", pod.name, node, message.strip())
    cluster._remove_pod(pod)
    pod.status, pod.message = "Evicted", message
    if node:
        cluster._detach_unused(node, pod)
    _replace(cluster, pod, None)
    return pod


_DAEMONSET = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
_LOCAL = "Pods with local storage (use --delete-emptydir-data to override)"
_UNMANAGED = "cannot delete Pods that declare no controller (use --force to override)"


def drain(cluster: Cluster, node_name: str, *, force: bool = False,
          delete_emptydir_data: bool = False, ignore_daemonsets: bool = False) -> list[Pod]:
    """``kubectl drain`` (see :meth:`Cluster.drain`)."""
    node = cluster.node(node_name)
    if not node.cordoned:
        cluster.cordon(node_name)
    blocked: dict[str, list[str]] = {_UNMANAGED: [], _LOCAL: [], _DAEMONSET: []}
    evict_now: list[Pod] = []
    for name in sorted(node.pods):
        pod = cluster.pods[name]
        if pod.status in ("Completed", "Error", "Evicted"):
            continue
        ident = f"{pod.spec.namespace}/{pod.name}"
        if pod.workload.startswith("DaemonSet/"):
            if not ignore_daemonsets:
                blocked[_DAEMONSET].append(ident)
            continue
        if not delete_emptydir_data and any(v.kind is VolumeKind.EMPTY_DIR
                                            for v in pod.spec.volumes):
            blocked[_LOCAL].append(ident)
            continue
        if not pod.workload and not force:
            blocked[_UNMANAGED].append(ident)
            continue
        evict_now.append(pod)
    errors = [f"cannot delete {msg}: {', '.join(pods)}" for msg, pods in blocked.items() if pods]
    if errors:
        text = errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
        raise LifecycleError(f'error: unable to drain node "{node_name}" due to error: {text}, '
                             "continuing command...")
    made: list[Pod] = []
    for pod in evict_now:
        replacement = delete(cluster, pod.name)
        if replacement is not None:
            made.append(replacement)
    return made


def _mark_terminating(cluster: Cluster, pod: Pod) -> None:
    if pod.terminating:
        return
    pod.terminating, pod.terminating_since = True, cluster.clock
    pod.status = "Terminating"
    cluster._record("TaintManagerEviction", pod.name, pod.node or "",
                    f"Marking for deletion Pod {pod.spec.namespace}/{pod.name}")


def fail(cluster: Cluster, node_name: str, *, wait: bool = True) -> list[Pod]:
    """The machine ``node_name`` stops (see the module docstring)."""
    node = cluster.node(node_name)
    if not node.up:
        raise LifecycleError(f"node(={node_name!r}) is already down.")
    node.up = False
    outage = object()
    node.outage = outage
    before = set(cluster.pods)

    def current() -> bool:
        return node.outage is outage and not node.up \
            and cluster.nodes.get(node_name) is node

    def not_ready() -> None:
        if not current():
            return
        node.ready = False
        node.taints = ["node.kubernetes.io/unreachable:NoExecute",
                       "node.kubernetes.io/unreachable:NoSchedule"]
        cluster._record("NodeNotReady", "", node_name,
                        f"Node {node_name} status is now: NodeNotReady")
        for name in sorted(node.pods):
            cluster._record("NodeNotReady", name, node_name, "Node is not ready")
        cluster.at(TOLERATION_SECONDS, evict_pods)

    def evict_pods() -> None:
        if not current():
            return
        for name in sorted(node.pods):
            pod = cluster.pods.get(name)
            if pod is None or pod.workload.startswith("DaemonSet/"):
                continue
            _mark_terminating(cluster, pod)
        reconcile_all(cluster)
        if any(holder == node_name for holder in cluster.attachments.values()):
            cluster.at(FORCE_DETACH_SECONDS, force_detach)

    def force_detach() -> None:
        if not current():
            return
        for pv, holder in list(cluster.attachments.items()):
            if holder == node_name:
                del cluster.attachments[pv]
        cluster._retry_waiting()

    cluster.at(NODE_MONITOR_GRACE, not_ready)
    if wait:
        cluster.advance(NODE_MONITOR_GRACE + TOLERATION_SECONDS)
        if any(holder == node_name for holder in cluster.attachments.values()):
            cluster.advance(FORCE_DETACH_SECONDS)
    return [cluster.pods[p] for p in cluster.pods if p not in before]


def recover(cluster: Cluster, node_name: str) -> None:
    """The failed node returns (see :meth:`Cluster.recover`)."""
    node = cluster.node(node_name)
    if node.up:
        raise LifecycleError(f"node(={node_name!r}) is not down.")
    node.up = node.ready = True
    node.taints = []
    cluster._record("NodeReady", "", node_name, f"Node {node_name} status is now: NodeReady")
    for name in sorted(node.pods):
        pod = cluster.pods.get(name)
        if pod is not None and pod.terminating:
            cluster._remove_pod(pod)
            del cluster.pods[name]
    cluster._detach_unused(node_name)
    reconcile_all(cluster)


def delete_node(cluster: Cluster, node_name: str) -> None:
    """``kubectl delete node`` (see :meth:`Cluster.delete_node`)."""
    node = cluster.node(node_name)
    cluster._record("RemovingNode", "", node_name,
                    f"Node {node_name} event: Removing Node {node_name} from Controller")
    for name in sorted(node.pods):
        pod = cluster.pods.pop(name, None)
        if pod is not None:
            for ctr in [*pod.containers.values(), *pod.dead.values()]:
                if ctr.state != "removed":
                    ctr.remove(force=True)
    node.pods.clear()
    runtime = node.runtime
    for kind, store in (("host", runtime._host_paths), ("volume", runtime._volumes),
                        ("memory", runtime._memory)):
        for key in list(store):
            runtime.drop_storage(kind, key)
    del cluster.nodes[node_name]
    for pv, holder in list(cluster.attachments.items()):
        if holder == node_name:
            del cluster.attachments[pv]
    reconcile_all(cluster)
    cluster._retry_waiting()

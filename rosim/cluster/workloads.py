"""Workload controllers: what recreates a pod, under which name, with which data.

* **bare Pod**: nothing recreates it.
* **Deployment** → ReplicaSet ``NAME-HASH`` → pods ``NAME-HASH-xxxxx``: a pod
  that is deleted, evicted or marked for deletion is replaced by a pod with a
  new name and a new uid.
* **StatefulSet** → pods ``NAME-0`` … ``NAME-(n-1)``, created one by one
  (``podManagementPolicy: OrderedReady``: ``NAME-i`` once every lower
  ordinal is Running; ``Parallel``: at once): a missing pod is
  recreated with the *same* name, and mounts the same claim
  ``TEMPLATE-NAME-i`` made from ``volumeClaimTemplates``; a pod still
  ``Terminating`` (on a failed node) is not replaced while its node object
  exists (at-most-one semantics).
* **DaemonSet**: one pod per node, bound to it; it tolerates cordons and an
  unreachable node.
* **Job**: pods run to completion; failed pods are replaced up to
  ``backoffLimit``.

Generated names use the characters Kubernetes uses
(``bcdfghjklmnpqrstvwxz2456789``), from the cluster's seeded generator.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import TYPE_CHECKING

from rosim._errors import ConfigError
from rosim.cluster.manifests import WorkloadKind, WorkloadSpec

if TYPE_CHECKING:
    from rosim.cluster.cluster import Cluster
    from rosim.cluster.objects import Pod

__all__ = ["Workload", "find_workload", "reconcile_all", "reconcile_workload"]

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FINISHED = ("Completed", "Error", "Evicted")


def _safe(digest: bytes, n: int) -> str:
    return "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:n])


class Workload:
    """A workload object and its controller's state (running state, not a spec)."""

    def __init__(self, spec: WorkloadSpec) -> None:
        self.spec = spec
        self.key = f"{spec.kind.value}/{spec.name}"
        digest = hashlib.sha256(repr(spec.template).encode()).digest()
        #: ``pod-template-hash`` of a Deployment's ReplicaSet.
        self.template_hash = _safe(digest, 10)
        self.succeeded = 0
        self.failed = 0
        self.done = False

    @property
    def owner(self) -> str:
        """The ``ownerReferences`` entry its pods carry."""
        if self.spec.kind is WorkloadKind.DEPLOYMENT:
            return f"ReplicaSet/{self.spec.name}-{self.template_hash}"
        return self.key

    def pod_names(self, cluster: Cluster) -> list[str]:
        """Its pods, in creation order."""
        return [name for name, pod in cluster.pods.items() if pod.workload == self.key]

    def __repr__(self) -> str:
        return f"<Workload {self.key}>"

    # ------------------------------------------------------------ controllers
    def reconcile(self, cluster: Cluster, gone: str | None = None) -> list[Pod]:
        """Create the pods that are missing; return them.

        ``gone`` names the pod whose deletion woke the controller: a
        StatefulSet then looks at that ordinal only.
        """
        kind = self.spec.kind
        if kind is WorkloadKind.DEPLOYMENT:
            return self._replicas(cluster)
        if kind is WorkloadKind.STATEFUL_SET:
            prefix = f"{self.spec.name}-"
            if gone is not None and gone.startswith(prefix) and gone[len(prefix):].isdigit():
                ordinal = int(gone[len(prefix):])
                return self._ordinals(cluster, range(ordinal, ordinal + 1))
            return self._ordinals(cluster)
        if kind is WorkloadKind.DAEMON_SET:
            return self._per_node(cluster)
        if kind is WorkloadKind.JOB:
            return self._job(cluster)
        return []

    def _new_name(self, cluster: Cluster, prefix: str) -> str:
        while True:
            name = prefix + "".join(cluster._random.choice(_ALPHABET) for _ in range(5))
            if name not in cluster.pods:
                return name

    def _create(self, cluster: Cluster, name: str, ordinal: int | None = None,
                node: str | None = None) -> Pod:
        if self.spec.kind is WorkloadKind.STATEFUL_SET:
            message = f"create Pod {name} in StatefulSet {self.spec.name} successful"
        else:
            message = f"{self.owner.split('/')[0]} {self.owner.split('/')[1]}: Created pod: {name}"
        cluster._record("SuccessfulCreate", name, "", message)
        return cluster._create_pod(self.spec.pod_spec(name, ordinal), workload=self.key,
                                   owner=self.owner, node=node)

    def _replicas(self, cluster: Cluster) -> list[Pod]:
        active = [p for p in self.pod_names(cluster)
                  if not cluster.pods[p].terminating and cluster.pods[p].status not in _FINISHED]
        prefix = f"{self.spec.name}-{self.template_hash}-"
        return [self._create(cluster, self._new_name(cluster, prefix))
                for _ in range(self.spec.replicas - len(active))]

    def _ordinals(self, cluster: Cluster, ordinals: range | None = None) -> list[Pod]:
        made = []
        for i in ordinals if ordinals is not None else range(self.spec.replicas):
            if i >= self.spec.replicas:
                continue
            name = f"{self.spec.name}-{i}"
            pod = cluster.pods.get(name)
            if self.spec.pod_management_policy == "OrderedReady" and pod is None and any(
                    (p := cluster.pods.get(f"{self.spec.name}-{j}")) is None
                    or p.terminating or p.status != "Running" for j in range(i)):
                break  # OrderedReady: NAME-i waits for NAME-0 … NAME-(i-1) to run
            if pod is not None and pod.status in _FINISHED and not pod.terminating:
                # The controller deletes a failed pod and creates it again.
                cluster._remove_pod(pod)
                del cluster.pods[name]
                pod = None
            if pod is not None:
                continue
            for claim in self.spec.claim_templates:
                if f"{claim.name}-{name}" not in cluster.claims:
                    cluster._add_claim_spec(replace(claim, name=f"{claim.name}-{name}"))
            made.append(self._create(cluster, name, ordinal=i))
        return made

    def _per_node(self, cluster: Cluster) -> list[Pod]:
        covered = {cluster.pods[p].node for p in self.pod_names(cluster)}
        made = []
        for node in cluster.nodes.values():
            if node.name not in covered and node.ready and node.up:
                made.append(self._create(cluster, self._new_name(cluster, f"{self.spec.name}-"),
                                         node=node.name))
        return made

    def _job(self, cluster: Cluster) -> list[Pod]:
        if self.done:
            return []
        pods = [cluster.pods[p] for p in self.pod_names(cluster)]
        self.succeeded = sum(1 for p in pods if p.status == "Completed")
        self.failed = sum(1 for p in pods if p.status in ("Error", "Evicted"))
        if self.succeeded >= self.spec.completions:
            self.done = True
            cluster._record("Completed", "", "", f"Job {self.spec.name} completed")
            return []
        if self.failed > self.spec.backoff_limit:
            self.done = True
            cluster._record("BackoffLimitExceeded", "", "",
                            f"Job {self.spec.name} has reached the specified backoff limit")
            return []
        active = [p for p in pods if p.status not in _FINISHED and not p.terminating]
        want = min(self.spec.parallelism, self.spec.completions - self.succeeded) - len(active)
        return [self._create(cluster, self._new_name(cluster, f"{self.spec.name}-"))
                for _ in range(max(want, 0))]


def find_workload(cluster: Cluster, ref: str) -> Workload:
    """The workload named ``kind/name`` (``deployment/web``, ``deploy/web``, ``sts/db``...)."""
    kind, _, name = ref.partition("/")
    aliases = {"deployment": "Deployment", "deploy": "Deployment",
               "deployments": "Deployment", "statefulset": "StatefulSet",
               "sts": "StatefulSet", "daemonset": "DaemonSet", "ds": "DaemonSet",
               "job": "Job", "jobs": "Job"}
    full = aliases.get(kind.lower())
    workload = cluster.workloads.get(f"{full}/{name}") if full else None
    if workload is None:
        raise ConfigError(f"pod(={ref!r}) names no workload; workloads: "
                          + (", ".join(cluster.workloads) or "none") + ".")
    return workload  # type: ignore[no-any-return]


def reconcile_workload(cluster: Cluster, key: str, gone: str | None = None) -> list[Pod]:
    """Let the controller of workload ``key`` act now (``gone``: the pod that went)."""
    workload = cluster.workloads.get(key)
    return workload.reconcile(cluster, gone) if workload is not None else []


def reconcile_all(cluster: Cluster) -> list[Pod]:
    """Let the scheduler retry Pending pods, then every controller act (after a change)."""
    cluster._retry_pending()
    made: list[Pod] = []
    for workload in list(cluster.workloads.values()):
        made += workload.reconcile(cluster)
    return made

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

Controllers do not call each other: as in Kubernetes, a change (a pod
deleted, a pod that starts running) puts its workload on a work queue
(:func:`wake`), and the outermost cluster operation drains the queue
(:func:`run_queue`) until nothing changes. A StatefulSet of any size is
created in one pass of its controller, at a constant stack depth.
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

__all__ = ["Workload", "find_workload", "pod_running", "reconcile_all", "reconcile_workload",
           "run_queue", "wake"]

_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FINISHED = ("Completed", "Error", "Evicted")


def _runs(pod: Pod | None) -> bool:
    """The pod exists, is not being deleted and runs (what OrderedReady waits for)."""
    return pod is not None and pod.status == "Running" and not pod.terminating


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
        #: OrderedReady: the lowest ordinal a pass wanted to create and could
        #: not (a lower ordinal did not run); None when nothing waits.
        self.blocked: int | None = None
        self._names: list[str] = []

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
    def ordinal(self, pod_name: str | None) -> int | None:
        """The StatefulSet ordinal of ``pod_name`` (None for other kinds or names)."""
        if pod_name is None or self.spec.kind is not WorkloadKind.STATEFUL_SET:
            return None
        prefix = f"{self.spec.name}-"
        tail = pod_name[len(prefix):]
        if pod_name.startswith(prefix) and tail.isdigit() and tail.isascii():
            return int(tail)
        return None

    def _reconcile(self, cluster: Cluster, ordinals: set[int] | None) -> list[Pod]:
        """One pass of the controller: every pod, or (StatefulSet) these ordinals."""
        kind = self.spec.kind
        if kind is WorkloadKind.DEPLOYMENT:
            return self._replicas(cluster)
        if kind is WorkloadKind.STATEFUL_SET:
            if ordinals is None:
                return self._ordinals(cluster)
            made = []
            for i in sorted(ordinals):
                made += self._ordinals(cluster, i, i + 1)
            return made
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

    def _name(self, i: int) -> str:
        names = self._names
        while len(names) <= i:
            names.append(f"{self.spec.name}-{len(names)}")
        return names[i]

    def _ordinals(self, cluster: Cluster, start: int = 0, stop: int | None = None
                  ) -> list[Pod]:
        """StatefulSet pods ``start`` … ``stop - 1`` (all of them by default), in order.

        ``OrderedReady``: ``NAME-i`` is created only when ``NAME-0`` …
        ``NAME-(i-1)`` run; one pass walks the ordinals once, keeping
        whether every lower one runs, and stops at the first it may not
        create (:attr:`blocked`).
        """
        replicas = self.spec.replicas
        stop = replicas if stop is None else min(stop, replicas)
        ordered = self.spec.pod_management_policy == "OrderedReady"
        pods = cluster.pods
        if start == 0 and stop == replicas:
            self.blocked = None  # a whole pass finds again what waits
        lower_run = True
        if ordered and start:
            self._name(start - 1)
            for name in self._names[:start]:  # a targeted pass: do the lower ones run?
                pod = pods.get(name)
                if pod is None or pod.status != "Running" or pod.terminating:
                    lower_run = False
                    break
        made = []
        for i in range(start, stop):
            name = self._name(i)
            pod = pods.get(name)
            if pod is not None and pod.status in _FINISHED and not pod.terminating:
                # The controller deletes a failed pod and creates it again.
                cluster._remove_pod(pod)
                del pods[name]
                pod = None
            if pod is None:
                if not lower_run:
                    # OrderedReady: NAME-i waits for NAME-0 … NAME-(i-1) to run.
                    self.blocked = i if self.blocked is None else min(self.blocked, i)
                    break
                for claim in self.spec.claim_templates:
                    if f"{claim.name}-{name}" not in cluster.claims:
                        cluster._add_claim_spec(replace(claim, name=f"{claim.name}-{name}"))
                pod = self._create(cluster, name, ordinal=i)
                made.append(pod)
                if self.blocked == i:
                    self.blocked = None
            if ordered:
                lower_run = lower_run and _runs(pod)
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


def wake(cluster: Cluster, key: str, pod_name: str | None = None) -> None:
    """Put workload ``key`` on the controllers' work queue.

    ``pod_name``: the pod whose deletion woke it (a StatefulSet then looks
    at that ordinal only); None asks for a whole pass.
    """
    workload = cluster.workloads.get(key)
    if workload is None:
        return
    queue = cluster._work_queue
    ordinal = workload.ordinal(pod_name)
    if ordinal is None:
        queue[key] = None
    elif key not in queue:
        queue[key] = {ordinal}
    elif queue[key] is not None:
        queue[key].add(ordinal)


def pod_running(cluster: Cluster, pod: Pod) -> None:
    """A pod started running: its StatefulSet may create the ordinals it held back."""
    workload = cluster.workloads.get(pod.workload)
    if workload is None or workload.blocked is None:
        return
    ordinal = workload.ordinal(pod.name)
    if ordinal is not None and ordinal < workload.blocked:
        # The pass walks from the lowest waiting ordinal; it checks the lower ones.
        queue = cluster._work_queue
        if queue.get(workload.key, set()) is not None:
            queue[workload.key] = None
        run_queue(cluster)


def run_queue(cluster: Cluster) -> list[Pod]:
    """Drain the work queue: each workload's controller acts until nothing changes.

    Returns the pods created. A call made while the queue is being drained
    (a controller's action woke another) returns at once: the outer drain
    takes the new work, so the stack depth stays constant.
    """
    if cluster._draining:
        return []
    cluster._draining = True
    made: list[Pod] = []
    queue = cluster._work_queue
    try:
        while queue:
            key = next(iter(queue))
            ordinals = queue.pop(key)
            workload = cluster.workloads.get(key)
            if workload is not None:
                made += workload._reconcile(cluster, ordinals)
    except BaseException:
        queue.clear()
        raise
    finally:
        cluster._draining = False
    return made


def reconcile_workload(cluster: Cluster, key: str, gone: str | None = None) -> list[Pod]:
    """Let the controller of workload ``key`` act now (``gone``: the pod that went).

    Returns the pods created, those of other workloads the change woke included.
    """
    wake(cluster, key, gone)
    return run_queue(cluster)


def reconcile_all(cluster: Cluster) -> list[Pod]:
    """Let the scheduler retry Pending pods, then every controller act (after a change)."""
    draining = cluster._draining
    cluster._draining = True  # pods that start now wake their controllers, queued
    try:
        cluster._retry_pending()
    finally:
        cluster._draining = draining
    for key in cluster.workloads:
        cluster._work_queue[key] = None
    return run_queue(cluster)

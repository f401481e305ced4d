"""Scenario 3: where an app's data goes when Kubernetes moves the pod.

Two things are computed here by running the cluster, never looked up in a
table:

* :func:`survival_table` — for each place a pod can write (the container's
  writable layer, a runtime tmpfs, ``emptyDir``, ``emptyDir`` in memory,
  ``hostPath``, a network PVC, a local PVC) and each Kubernetes event (a
  container crash, ``kubectl delete pod``, ``kubectl drain``, a node
  failure): is a file written there before the event still readable by the
  Deployment's pod after it — ``kept``, ``lost``, or ``unreachable`` (the
  data is intact on a node the pod cannot use)?
* :func:`run_app_story` — the ``logapp`` web app, a one-replica Deployment,
  serves requests, logging to ``/var/log/myapp.log`` and appending records
  to ``/data``, while events happen; the result counts records written and
  records still readable.

The app runs as a Deployment, as real apps do: a deleted or evicted pod is
replaced by a new pod (new name, new uid). A bare Pod would not come back.

>>> story = run_app_story(logs="layer", data="pvc", events=["crash"], requests=5)
>>> [(s.event, s.written["data"], s.readable["data"], s.readable["logs"]) for s in story.steps]
[('deploy', 5, 5, 5), ('crash', 5, 5, 0)]
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rosim._bounds import RosimEnum, check_int, check_seq, check_type
from rosim._errors import ConfigError
from rosim.cluster.cluster import Cluster

__all__ = ["AppStep", "AppStory", "PodEvent", "StorageKind", "Survival", "SurvivalTable",
           "app_manifest", "deployment", "parse_event", "run_app_story", "survival_table"]

#: How the story names its app's pod: whichever pod the Deployment runs.
_APP = "deployment/myapp"


class StorageKind(RosimEnum):
    """Where a pod can keep files."""

    LAYER = "layer"
    TMPFS = "tmpfs"
    EMPTY_DIR = "emptyDir"
    EMPTY_DIR_MEMORY = "emptyDir-memory"
    HOST_PATH = "hostPath"
    PVC = "pvc"
    PVC_LOCAL = "pvc-local"
    STDOUT = "stdout"


class PodEvent(RosimEnum):
    """What happens to the pod: Kubernetes events (domain.md §5).

    ``crash``: the container's process dies and the kubelet starts a new
    container; ``reschedule``: ``kubectl delete pod``, and the Deployment's
    replacement lands on another node; ``drain``: ``kubectl drain
    --delete-emptydir-data`` of the pod's node; ``node-failure``: the node
    stops, and the control plane reacts on its timeline.
    """

    CRASH = "crash"
    RESCHEDULE = "reschedule"
    DRAIN = "drain"
    NODE_FAILURE = "node-failure"


_EVENT_LABELS = {
    PodEvent.CRASH: "container crash, new container",
    PodEvent.RESCHEDULE: "pod deleted, replaced",
    PodEvent.DRAIN: "node drained",
    PodEvent.NODE_FAILURE: "node failure",
}
_KIND_LABELS = {
    StorageKind.LAYER: "writable layer",
    StorageKind.TMPFS: "tmpfs (crio --read-only /tmp)",
    StorageKind.EMPTY_DIR: "emptyDir",
    StorageKind.EMPTY_DIR_MEMORY: "emptyDir medium: Memory",
    StorageKind.HOST_PATH: "hostPath",
    StorageKind.PVC: "persistentVolumeClaim (network)",
    StorageKind.PVC_LOCAL: "persistentVolumeClaim (local PV)",
    StorageKind.STDOUT: "stdout (log collector)",
}


def _apply_event(cluster: Cluster, ref: str, event: PodEvent, last_node: str) -> None:
    """Apply ``event`` to the pod ``ref``.

    A Pending pod (its local volume's node drained or failed) has no node:
    a drain or node failure then hits ``last_node``, where it last ran and
    where its local data stays. A node that is already down cannot fail
    again, so a second node failure there changes nothing.
    """
    pod = cluster.pod(ref)
    node = pod.node or last_node
    if event is PodEvent.CRASH:
        if pod.containers:
            cluster.crash(pod.name)
        elif pod.waiting:
            # Already crash-looping: the next restart fails by itself.
            cluster.advance(max(pod.waiting.values()) - cluster.clock)
    elif event is PodEvent.RESCHEDULE:
        cluster.reschedule(pod.name)
    elif event is PodEvent.DRAIN:
        cluster.drain(node, delete_emptydir_data=True)
    elif cluster.node(node).up:
        cluster.fail(node)
    # A node that is already down cannot fail again: nothing changes.


def deployment(name: str, pod_spec: dict[str, Any]) -> dict[str, Any]:
    """A one-replica Deployment manifest around ``pod_spec``."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": pod_spec}}}


def _volume(kind: StorageKind, name: str) -> dict[str, Any] | None:
    if kind is StorageKind.EMPTY_DIR:
        return {"name": name, "emptyDir": {}}
    if kind is StorageKind.EMPTY_DIR_MEMORY:
        return {"name": name, "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}
    if kind is StorageKind.HOST_PATH:
        return {"name": name, "hostPath": {"path": f"/srv/{name}", "type": "DirectoryOrCreate"}}
    if kind in (StorageKind.PVC, StorageKind.PVC_LOCAL):
        return {"name": name, "persistentVolumeClaim": {"claimName": f"{name}-claim"}}
    return None


def _prepare_claims(cluster: Cluster, kinds: dict[str, StorageKind], first_node: str) -> None:
    for name, kind in kinds.items():
        if kind is StorageKind.PVC:
            cluster.add_persistent_volume(f"{name}-pv", "10Gi", claim=f"{name}-claim")
        elif kind is StorageKind.PVC_LOCAL:
            cluster.add_persistent_volume(f"{name}-pv", "10Gi", node=first_node,
                                          claim=f"{name}-claim")


# ----------------------------------------------------------------- survival
class Survival(RosimEnum):
    """What became of a file after an event, seen from the workload's pod."""

    KEPT = "kept"
    LOST = "lost"
    #: Intact, on a node the pod does not run on or cannot reach.
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class SurvivalTable:
    """``cells[(kind, event)]``: what became of the file after the event."""

    kinds: tuple[StorageKind, ...]
    events: tuple[PodEvent, ...]
    cells: dict[tuple[StorageKind, PodEvent], Survival]

    def survives(self, kind: str, event: str) -> bool:
        """Whether data in ``kind`` is still readable by the pod after ``event``."""
        return self.cells[(StorageKind(kind), PodEvent(event))] is Survival.KEPT

    def outcome(self, kind: str, event: str) -> Survival:
        """``kept``, ``lost`` or ``unreachable`` for data in ``kind`` after ``event``."""
        return self.cells[(StorageKind(kind), PodEvent(event))]

    def rows(self) -> list[tuple[str, ...]]:
        """Header and one row per storage kind, ``kept``/``lost``/``unreachable`` per event."""
        head = ("storage", *(_EVENT_LABELS[e] for e in self.events))
        return [head, *((_KIND_LABELS[k], *(self.cells[(k, e)].value for e in self.events))
                        for k in self.kinds)]

    def __str__(self) -> str:
        rows = self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                         for r in rows)

    def _repr_html_(self) -> str:
        rows = self.rows()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        colour = {"kept": "#009E73", "lost": "#D55E00", "unreachable": "#0072B2"}
        body = "".join("<tr>" + f"<td>{html.escape(r[0])}</td>" + "".join(
            f'<td style="background:{colour[c]};color:white">{c}</td>' for c in r[1:])
            + "</tr>" for r in rows[1:])
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_PROBE_KINDS = (StorageKind.LAYER, StorageKind.EMPTY_DIR, StorageKind.EMPTY_DIR_MEMORY,
                StorageKind.HOST_PATH, StorageKind.PVC, StorageKind.PVC_LOCAL)


_POD_SCOPED = (StorageKind.LAYER, StorageKind.TMPFS, StorageKind.EMPTY_DIR,
               StorageKind.EMPTY_DIR_MEMORY)


def _probe_survival(event: PodEvent, kind: StorageKind) -> Survival:
    """A Deployment's pod writes a file to ``kind``; what became of it after ``event``?

    Data that belongs to the pod or its container (layer, tmpfs, emptyDir)
    and is not readable is lost; data of the node (hostPath, a local PV)
    that the pod cannot read is unreachable: intact where it was.
    """
    cluster = Cluster(nodes=3, read_only=kind is StorageKind.TMPFS, seed=0)
    volumes: list[dict[str, Any]] = []
    mounts: list[dict[str, Any]] = []
    path = {StorageKind.LAYER: "/var", StorageKind.TMPFS: "/tmp"}.get(kind, "/mnt/probe")
    volume = _volume(kind, "probe")
    if volume is not None:
        _prepare_claims(cluster, {"probe": kind}, "node-1")
        volumes.append(volume)
        mounts.append({"name": "probe", "mountPath": path})
    cluster.apply(deployment("probe", {
        "volumes": volumes, "containers": [{
            "name": "probe", "image": "busybox", "command": ["sleep", "3600"],
            "volumeMounts": mounts}]}))
    cluster.exec("deploy/probe", f"touch {path}/marker")
    _apply_event(cluster, "deploy/probe", event, cluster.pod("deploy/probe").node or "node-1")
    pod = cluster.pod("deploy/probe")
    node = cluster.nodes.get(pod.node or "")
    if pod.containers and node is not None and node.up and \
            pod.container().sh(f"test -e {path}/marker").ok:
        return Survival.KEPT
    return Survival.LOST if kind in _POD_SCOPED else Survival.UNREACHABLE


def survival_table(events: Sequence[str] | None = None) -> SurvivalTable:
    """Run each event on a pod that wrote a file to every kind of storage."""
    chosen = (tuple(parse_event(e) for e in check_seq(events, "events", "a list of events"))
              if events is not None else tuple(PodEvent))
    kinds = (StorageKind.LAYER, StorageKind.TMPFS) + _PROBE_KINDS[1:]
    cells = {(kind, event): _probe_survival(event, kind) for event in chosen for kind in kinds}
    return SurvivalTable(kinds, chosen, cells)


# ----------------------------------------------------------------- the app
def app_manifest(logs: str = "layer", data: str = "layer", read_only: bool = False,
                 name: str = "myapp") -> dict[str, Any]:
    """The ``logapp`` Deployment manifest with its logs and data on the given storage.

    ``logs``: ``layer``, ``emptyDir``, ``emptyDir-memory``, ``hostPath``,
    ``pvc``, ``pvc-local`` or ``stdout``; ``data``: the same but ``stdout``.
    ``read_only`` sets ``readOnlyRootFilesystem: true``.
    """
    check_type(read_only, "read_only", bool, "a bool")
    log_kind, data_kind = _kind(logs, "logs"), _kind(data, "data")
    if data_kind is StorageKind.STDOUT or data_kind is StorageKind.TMPFS:
        raise ConfigError(f"data(={data!r}) must be a place files can be kept.")
    if log_kind is StorageKind.TMPFS:
        raise ConfigError(f"logs(={logs!r}) must be a pod volume, the layer or stdout.")
    volumes, mounts = [], []
    for vol_name, kind, path in (("logs", log_kind, "/var/log"), ("data", data_kind, "/data")):
        volume = _volume(kind, vol_name)
        if volume is not None:
            volumes.append(volume)
            mounts.append({"name": vol_name, "mountPath": path})
    env = [{"name": "LOG_FILE", "value": "-" if log_kind is StorageKind.STDOUT
            else "/var/log/myapp.log"}, {"name": "DATA_DIR", "value": "/data"}]
    container: dict[str, Any] = {"name": "app", "image": "logapp", "env": env,
                                 "volumeMounts": mounts}
    if read_only:
        container["securityContext"] = {"readOnlyRootFilesystem": True}
    return deployment(name, {"volumes": volumes, "containers": [container]})


def parse_event(value: str) -> PodEvent:
    """A :class:`PodEvent` from its name; a ConfigError naming the value otherwise."""
    try:
        return PodEvent(value)
    except ValueError:
        raise ConfigError(f"events item(={value!r}) must be one of "
                          + ", ".join(repr(e.value) for e in PodEvent) + ".") from None


def _kind(value: str, field_name: str) -> StorageKind:
    try:
        return StorageKind(value)
    except ValueError:
        raise ConfigError(f"{field_name}(={value!r}) must be one of "
                          + ", ".join(repr(k.value) for k in StorageKind) + ".") from None


@dataclass(frozen=True)
class AppStep:
    """The app after one step: what it wrote so far and what is still readable."""

    event: str
    node: str | None
    status: str
    written: dict[str, int]
    readable: dict[str, int]

    @property
    def lost(self) -> dict[str, int]:
        """Records written but no longer readable, per stream (``logs``, ``data``)."""
        return {k: self.written[k] - self.readable[k] for k in self.written}


@dataclass(frozen=True)
class AppStory:
    """The whole run: settings, steps, and the deploy transcript."""

    logs: str
    data: str
    read_only: bool
    steps: tuple[AppStep, ...]
    deploy_log: str
    timeline: tuple[str, ...] = field(default=())
    #: ``(step index, error)`` for each batch of requests the app failed to serve.
    failed_requests: tuple[tuple[int, str], ...] = field(default=())

    @property
    def lost(self) -> dict[str, int]:
        """Records lost by the end of the story."""
        return self.steps[-1].lost

    def __str__(self) -> str:
        lines = [f"logs on {self.logs}, data on {self.data}"
                 + (", readOnlyRootFilesystem" if self.read_only else "")]
        for index, error in self.failed_requests:
            lines.append(f"requests before step {index} failed: {error}")
        for s in self.steps:
            lines.append(f"{s.event:<13} {s.status:<17} node={s.node or '-':<7} "
                         f"logs {s.readable['logs']:>3}/{s.written['logs']:<3} "
                         f"data {s.readable['data']:>3}/{s.written['data']:<3}")
        return "\n".join(lines)


def _count(cluster: Cluster, story_logs: StorageKind) -> dict[str, int]:
    pod = cluster.pod(_APP)
    shipped = sum(1 for name, lines in cluster.log_store.items() if name.startswith("myapp-")
                  for line in lines if "handled a request" in line)
    node = cluster.nodes.get(pod.node or "")
    if not pod.containers or node is None or not node.up:
        return {"logs": shipped if story_logs is StorageKind.STDOUT else 0, "data": 0}
    ctr = pod.container()

    def read() -> tuple[int, int]:
        def lines(path: str, needle: str) -> int:
            try:
                with open(path) as f:
                    return sum(1 for line in f if needle in line)
            except OSError:
                return 0
        return (lines("/var/log/myapp.log", "handled a request"),
                lines("/data/records.txt", "record"))

    logs, data = ctr.run(read)
    return {"logs": shipped if story_logs is StorageKind.STDOUT else logs, "data": data}


def run_app_story(logs: str = "layer", data: str = "layer",
                  events: Sequence[str] = ("crash", "reschedule", "node-failure"),
                  requests: int = 10, read_only: bool = False, seed: int = 0,
                  nodes: int = 3) -> AppStory:
    """Deploy ``logapp``, serve ``requests`` before each event, count what survives."""
    check_int(requests, "requests", high=10_000)
    check_type(read_only, "read_only", bool, "a bool")
    chosen = [parse_event(e) for e in check_seq(events, "events", "a list of events")]
    log_kind = _kind(logs, "logs")
    cluster = Cluster(nodes=nodes, seed=seed)
    _prepare_claims(cluster, {"logs": log_kind, "data": _kind(data, "data")}, "node-1")
    pod = cluster.apply(app_manifest(logs, data, read_only)).pod
    deploy_log = cluster.logs(pod.name)
    written = {"logs": 0, "data": 0}
    steps: list[AppStep] = []
    #: (step index, last error line) of every batch of requests that failed.
    failures: list[tuple[int, str]] = []

    def serve() -> None:
        current = cluster.pod(_APP)
        if current.status != "Running" or not requests:
            return
        result = cluster.exec(current.name, ["python3", "/app/app.py", "handle",
                                             str(requests)])
        if not result.ok:
            failures.append((len(steps), (result.stderr.strip().splitlines() or [""])[-1]))
        if result.ok:
            written["logs"] += requests
            written["data"] += requests
            if log_kind is StorageKind.STDOUT:
                cluster.log_store.setdefault(current.name, []).extend(
                    result.stdout.splitlines())

    def step(name: str) -> None:
        current = cluster.pod(_APP)
        steps.append(AppStep(name, current.node, current.status, dict(written),
                             _count(cluster, log_kind)))

    serve()
    step("deploy")
    last_node = cluster.pod(_APP).node or "node-1"
    for i, event in enumerate(chosen):
        _apply_event(cluster, _APP, event, last_node)
        last_node = cluster.pod(_APP).node or last_node
        step(event.value)
        if i < len(chosen) - 1:
            serve()
    return AppStory(logs, data, read_only, tuple(steps), deploy_log,
                    tuple(str(e) for e in cluster.timeline), tuple(failures))

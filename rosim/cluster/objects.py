"""The cluster's records: events, nodes, pods and their container statuses.

These are what ``kubectl get events``, ``kubectl get nodes`` and ``kubectl
get pod -o yaml`` show; :class:`~rosim.Cluster` keeps them up to date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rosim._errors import ConfigError, LifecycleError
from rosim.cluster.images import NodeImages
from rosim.cluster.spec import PodSpec

if TYPE_CHECKING:
    from rosim.runtime.container import Container
    from rosim.runtime.runtime import Runtime

__all__ = ["ClusterEvent", "ContainerStatus", "Node", "PersistentVolume", "Pod",
           "TerminatedState"]


@dataclass(frozen=True)
class ClusterEvent:
    """One line of the cluster timeline (``kubectl get events``).

    ``kind`` is the event's reason (``Scheduled``, ``BackOff``, ``Evicted``,
    ...), ``pod`` and ``node`` the objects it concerns, ``time`` the cluster
    clock in seconds when it happened.
    """

    seq: int
    kind: str
    pod: str
    node: str
    message: str
    time: float = 0.0

    @property
    def reason(self) -> str:
        """The event's reason, as ``kubectl get events`` names the column."""
        return self.kind

    def __str__(self) -> str:
        return (f"{self.time:>5g}s {self.kind:<23} {self.pod or '-':<22} "
                f"{self.node or '-':<7} {self.message}")


@dataclass(frozen=True)
class PersistentVolume:
    """A PersistentVolume as the cluster runs it.

    ``source`` is where the bytes live: ``network`` (a network disk of
    ``capacity`` bytes that follows the pod), ``nfs`` (network storage that
    does not enforce capacity), ``local`` (a disk of its own on ``node``,
    pinned by ``nodeAffinity``) or ``hostPath`` (a directory on the node's
    main disk, capacity not enforced; ``node`` is set once a pod used it).
    """

    name: str
    capacity: int
    node: str | None = None
    source: str = ""
    access_modes: tuple[str, ...] = ("ReadWriteOnce",)
    storage_class: str = ""

    def __post_init__(self) -> None:
        if not self.source:
            object.__setattr__(self, "source", "local" if self.node is not None else "network")

    @property
    def local(self) -> bool:
        """True when the data lives on one node (a local or hostPath PV)."""
        return self.source in ("local", "hostPath")

    @property
    def enforced(self) -> bool:
        """Whether writing past ``capacity`` fails (``ENOSPC``): not for nfs or hostPath."""
        return self.source in ("network", "local")

    @property
    def attachable(self) -> bool:
        """A network disk attached to one node at a time (``ReadWriteOnce``)."""
        return self.source == "network" and "ReadWriteMany" not in self.access_modes


class Node:
    """A machine of the cluster: a runtime, its storage, and its state.

    ``ready`` is the node's ``Ready`` condition as the control plane sees it;
    ``up`` is whether the machine itself runs (a failed node is down at once
    and ``NotReady`` after the node monitor's grace period).
    """

    def __init__(self, name: str, runtime: Runtime) -> None:
        self.name = name
        self.runtime = runtime
        self.ready = True
        self.up = True
        self.cordoned = False
        self.disk_pressure = False
        #: Cluster time the eviction manager last saw a disk threshold met (None: never).
        self.disk_pressure_seen: float | None = None
        self.pods: set[str] = set()
        #: Taints, as ``key:Effect`` strings.
        self.taints: list[str] = []
        #: A token of the current failure, so a recovered node ignores its old timeline.
        self.outage: object | None = None
        #: Images pulled to the node's disk (:mod:`rosim.cluster.images`).
        self.images = NodeImages()

    @property
    def schedulable(self) -> bool:
        """Ready, not cordoned, and without the disk-pressure taint."""
        return self.ready and self.up and not self.cordoned and not self.disk_pressure

    def __repr__(self) -> str:
        state = "Ready" if self.ready else "NotReady"
        if self.cordoned:
            state += ",SchedulingDisabled"
        return f"<Node {self.name} {state} pods={len(self.pods)}>"


@dataclass(frozen=True)
class TerminatedState:
    """``lastState.terminated`` of a container: how its previous instance ended."""

    exit_code: int
    reason: str
    container_id: str = ""
    #: What the container left in its termination-message file (at most 4096 bytes).
    message: str = ""


@dataclass(frozen=True)
class ContainerStatus:
    """One entry of ``status.containerStatuses``.

    ``state`` is ``running``, ``waiting`` (``reason`` says why:
    ``CrashLoopBackOff``, ``ContainerCreating``) or ``terminated``;
    ``restart_count`` counts the containers the kubelet created after the
    first; ``last_state`` is how the previous one ended.
    """

    name: str
    state: str
    reason: str
    restart_count: int
    last_state: TerminatedState | None
    container_id: str = ""


@dataclass(eq=False)
class Pod:
    """A pod as the cluster runs it: where, in which state, with which containers.

    ``status`` is what ``kubectl get pods`` prints in its STATUS column
    (``Pending``, ``ContainerCreating``, ``Running``, ``CrashLoopBackOff``,
    ``Completed``, ``Error``, ``Terminating``, ``Evicted``). ``owner`` is its
    controller (``ReplicaSet/web-5d8f7c9b6``, ``StatefulSet/db``...), empty
    for a bare Pod; ``restarts`` is each container's ``restartCount``;
    ``dead`` holds the one dead container the kubelet keeps per container.
    """

    spec: PodSpec
    uid: str
    node: str | None = None
    status: str = "Pending"
    containers: dict[str, Container] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    generation: int = 1
    message: str = ""
    owner: str = ""
    workload: str = ""
    priority: int = 0
    dead: dict[str, Container] = field(default_factory=dict)
    last_state: dict[str, TerminatedState] = field(default_factory=dict)
    #: Crashes counted for the back-off delay, per container.
    crashes: dict[str, int] = field(default_factory=dict)
    #: Cluster time of the last crash, per container (the back-off resets after 10 min).
    crashed_at: dict[str, float] = field(default_factory=dict)
    #: Containers waiting for their back-off to end: name -> restart time.
    waiting: dict[str, float] = field(default_factory=dict)
    #: Bytes in each ``medium: Memory`` emptyDir when a container started, per
    #: container: what it writes after that is charged to its memory cgroup.
    memory_base: dict[str, dict[str, int]] = field(default_factory=dict)
    #: The control plane marked the pod for deletion (``Terminating``).
    terminating: bool = False
    #: When the pod was marked for deletion (cluster clock), for force-detach.
    terminating_since: float | None = None

    @property
    def name(self) -> str:
        """``metadata.name``."""
        return self.spec.name

    @property
    def phase(self) -> str:
        """``status.phase``: ``Pending``, ``Running``, ``Succeeded`` or ``Failed``."""
        if self.status in ("Evicted", "Error"):
            return "Failed"
        if self.status == "Completed":
            return "Succeeded"
        if self.status in ("Pending", "ContainerCreating"):
            return "Pending"
        return "Running"

    def container(self, name: str | None = None) -> Container:
        """A container of the pod (the first when ``name`` is None)."""
        if not self.containers:
            raise LifecycleError(f"pod {self.name!r} has no running containers ({self.status}).")
        if name is None:
            return next(iter(self.containers.values()))
        try:
            return self.containers[name]
        except KeyError:
            raise ConfigError(f"container(={name!r}) is not in pod {self.name!r}; containers: "
                              + ", ".join(repr(n) for n in self.containers) + ".") from None

    def container_statuses(self) -> list[ContainerStatus]:
        """``status.containerStatuses``: one per container of the spec."""
        out = []
        for spec in self.spec.containers:
            ctr = self.containers.get(spec.name)
            if spec.name in self.waiting:
                state, reason = "waiting", "CrashLoopBackOff"
            elif ctr is None:
                state, reason = "waiting", "ContainerCreating"
            elif ctr.exit_code:
                state, reason = "terminated", "Error"
            elif self.status == "Completed":
                state, reason = "terminated", "Completed"
            else:
                state, reason = "running", ""
            out.append(ContainerStatus(spec.name, state, reason, self.restarts.get(spec.name, 0),
                                       self.last_state.get(spec.name),
                                       f"cri-o://{ctr.id}" if ctr is not None else ""))
        return out

    def __repr__(self) -> str:
        return f"<Pod {self.name} {self.status} on {self.node} uid={self.uid[:8]}>"

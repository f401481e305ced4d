"""A small Kubernetes cluster: nodes, pods, volumes and what survives what.

Nodes each run a container runtime (:class:`~rosim.Runtime`) with its own
storage: the containers' writable layers, ``emptyDir`` directories under
``/var/lib/kubelet/pods/<uid>/volumes/``, ``hostPath`` directories, local
PersistentVolumes. Network PersistentVolumes live outside the nodes and
follow a pod wherever it runs. The lifecycles are Kubernetes' (domain.md §5):

* a container **crash**: the kubelet starts a *new* container — new
  writable layer, same pod, same ``emptyDir``;
* a runtime **restart** of the same container keeps its writable layer;
* a pod **deleted and rescheduled**: a new pod (new uid) on some node — its
  ``emptyDir`` is deleted for good, ``hostPath`` data stays on the old node;
* a node **drained**: every pod there is evicted and rescheduled elsewhere;
* a node **failure**: the node and everything stored on it is gone.

Every event lands on :attr:`Cluster.timeline`. The scheduler is
deterministic: the least busy schedulable node, ties broken by a seeded
random generator.

>>> from rosim.cluster.cluster import Cluster
>>> c = Cluster(nodes=2, seed=1)
>>> pod = c.apply({"metadata": {"name": "web"}, "spec": {"containers": [
...     {"name": "app", "image": "busybox", "command": ["sleep", "1000"]}]}})
>>> pod.node, pod.status
('node-1', 'Running')
>>> c.reschedule("web").node
'node-2'
"""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rosim._errors import ConfigError, LifecycleError
from rosim.cluster.quantity import parse_quantity
from rosim.cluster.spec import PodSpec, VolumeKind, VolumeSpec
from rosim.fs.layers import Image
from rosim.fs.mounts import Bind, Volume
from rosim.images.catalog import resolve_image
from rosim.runtime.container import Container
from rosim.runtime.runtime import Runtime
from rosim.shell.result import ExecResult

__all__ = ["Cluster", "ClusterEvent", "Node", "PersistentVolume", "Pod"]


@dataclass(frozen=True)
class ClusterEvent:
    """One line of the cluster timeline (``kubectl get events``)."""

    seq: int
    kind: str
    pod: str
    node: str
    message: str

    def __str__(self) -> str:
        return f"{self.seq:>3} {self.kind:<21} {self.pod or '-':<12} {self.node or '-':<8} " \
               f"{self.message}"


@dataclass(frozen=True)
class PersistentVolume:
    """Storage outside the pod: network (follows the pod) or local to ``node``."""

    name: str
    capacity: int
    node: str | None = None

    @property
    def local(self) -> bool:
        """True for a local PV, pinned to its node by node affinity."""
        return self.node is not None


class Node:
    """A machine of the cluster: a runtime, its storage, and its state."""

    def __init__(self, name: str, runtime: Runtime) -> None:
        self.name = name
        self.runtime = runtime
        self.ready = True
        self.cordoned = False
        self.disk_pressure = False
        self.pods: set[str] = set()

    @property
    def schedulable(self) -> bool:
        """Ready, not cordoned, and without the disk-pressure taint."""
        return self.ready and not self.cordoned and not self.disk_pressure

    def __repr__(self) -> str:
        state = "Ready" if self.ready else "NotReady"
        if self.cordoned:
            state += ",SchedulingDisabled"
        return f"<Node {self.name} {state} pods={len(self.pods)}>"


@dataclass(eq=False)
class Pod:
    """A pod as the cluster runs it: where, in which state, with which containers."""

    spec: PodSpec
    uid: str
    node: str | None = None
    status: str = "Pending"
    containers: dict[str, Container] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    generation: int = 1
    message: str = ""

    @property
    def name(self) -> str:
        """``metadata.name``."""
        return self.spec.name

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

    def __repr__(self) -> str:
        return f"<Pod {self.name} {self.status} on {self.node} uid={self.uid[:8]}>"


class Cluster:
    """Nodes running pods, with Kubernetes' volume lifecycles (module docstring).

    ``nodes`` is a count or a list of names; ``profile`` and ``read_only`` set
    every node's runtime (``read_only`` is CRI-O's global ``--read-only``);
    ``seed`` fixes the scheduler's tie-breaking; ``disk`` sizes each node's
    disk (writable layers, emptyDirs and hostPaths share it).
    """

    def __init__(self, nodes: int | list[str] = 3, *, profile: str = "cri-o",
                 read_only: bool = False, seed: int = 0,
                 images: Mapping[str, Image] | None = None,
                 disk: int | str | None = None) -> None:
        if isinstance(nodes, int) and not isinstance(nodes, bool):
            if nodes < 1:
                raise ConfigError(f"nodes(={nodes!r}) must be at least 1.")
            names = [f"node-{i}" for i in range(1, nodes + 1)]
        elif isinstance(nodes, list) and nodes and all(isinstance(n, str) for n in nodes):
            names = list(nodes)
            if len(set(names)) != len(names):
                raise ConfigError(f"nodes(={nodes!r}) names a node twice.")
        else:
            raise ConfigError(f"nodes(={nodes!r}) must be a count or a list of names.")
        disk_size = parse_quantity(disk, field="disk") if disk is not None else None
        #: The cluster's network storage (network PersistentVolumes), shared by its nodes.
        self.network: dict[str, Any] = {}
        self.nodes = {n: Node(n, Runtime(profile, read_only=read_only, disk=disk_size,
                                         network=self.network))
                      for n in names}
        self.images: dict[str, Image] = dict(images or {})
        self.volumes: dict[str, PersistentVolume] = {}
        self.claims: dict[str, str] = {}
        self.pods: dict[str, Pod] = {}
        self.timeline: list[ClusterEvent] = []
        #: Lines the pods wrote to stdout, as a logging agent ships them.
        self.log_store: dict[str, list[str]] = {}
        self._random = random.Random(seed)
        self._uids = itertools.count(1)
        self._seed = seed
        #: ``evictionHard`` for ``nodefs.available``, as a fraction of the disk.
        self.nodefs_threshold = 0.10
        #: Simulated seconds since the cluster started (advanced by :meth:`tick`).
        self.clock = 0.0
        #: ``(clock, node, used, available)`` after every :meth:`tick`.
        self.disk_samples: list[tuple[float, str, int, int]] = []

    def __repr__(self) -> str:
        return f"<Cluster nodes={len(self.nodes)} pods={len(self.pods)}>"

    # ------------------------------------------------------------ bookkeeping
    def _record(self, kind: str, pod: str = "", node: str = "", message: str = "") -> None:
        self.timeline.append(ClusterEvent(len(self.timeline), kind, pod, node, message))

    def node(self, name: str) -> Node:
        """A node by name."""
        try:
            return self.nodes[name]
        except KeyError:
            raise ConfigError(f"node(={name!r}) is not in the cluster; nodes: "
                              + ", ".join(self.nodes) + ".") from None

    def pod(self, name: str) -> Pod:
        """A pod by name."""
        try:
            return self.pods[name]
        except KeyError:
            raise ConfigError(f"pod(={name!r}) does not exist; pods: "
                              + (", ".join(self.pods) or "none") + ".") from None

    def image(self, ref: str) -> Image:
        """Resolve an image reference (``registry/name:tag``) to an Image."""
        return resolve_image(ref, self.images)

    # ------------------------------------------------------------ storage objects
    def add_persistent_volume(self, name: str, capacity: int | str = "10Gi",
                              node: str | None = None, claim: str | None = None
                              ) -> PersistentVolume:
        """Create a PersistentVolume (local to ``node`` if given) and bind ``claim`` to it."""
        if name in self.volumes:
            raise ConfigError(f"PersistentVolume name(={name!r}) already exists.")
        if node is not None:
            self.node(node)
        pv = PersistentVolume(name, parse_quantity(capacity, field="capacity"), node)
        self.volumes[name] = pv
        if claim is not None:
            self.add_claim(claim, name)
        return pv

    def add_claim(self, claim: str, volume: str) -> None:
        """Create a PersistentVolumeClaim ``claim`` bound to PersistentVolume ``volume``."""
        if volume not in self.volumes:
            raise ConfigError(f"volume(={volume!r}) is not a PersistentVolume; volumes: "
                              + (", ".join(self.volumes) or "none") + ".")
        if claim in self.claims:
            raise ConfigError(f"PersistentVolumeClaim claim(={claim!r}) already exists.")
        if volume in self.claims.values():
            raise ConfigError(f"PersistentVolume volume(={volume!r}) is already bound.")
        self.claims[claim] = volume

    # ------------------------------------------------------------ pods
    def apply(self, manifest: Mapping[str, Any] | str | PodSpec) -> Pod:
        """Create a pod from a manifest (dict, YAML text or PodSpec) and start it."""
        if isinstance(manifest, PodSpec):
            spec = manifest
        elif isinstance(manifest, str):
            spec = PodSpec.from_yaml(manifest)
        else:
            spec = PodSpec.from_manifest(manifest)
        if spec.name in self.pods:
            raise ConfigError(f"metadata.name(={spec.name!r}): a pod of that name exists.")
        for volume in spec.volumes:
            if volume.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM and \
                    volume.claim_name not in self.claims:
                raise ConfigError(f"volume {volume.name!r}: persistentVolumeClaim.claimName"
                                  f"(={volume.claim_name!r}) is not a claim; claims: "
                                  + (", ".join(self.claims) or "none") + ".")
        for i, container in enumerate(spec.containers):
            resolve_image(container.image, self.images, field=f"spec.containers[{i}].image")
        pod = Pod(spec, self._new_uid(spec.name))
        self.pods[spec.name] = pod
        self._record("Created", spec.name, "", f"pod uid {pod.uid[:8]}")
        self._schedule(pod)
        return pod

    def _new_uid(self, name: str) -> str:
        digest = hashlib.sha256(f"{self._seed}/{name}/{next(self._uids)}".encode()).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def _pinned_node(self, pod: Pod) -> str | None:
        for volume in pod.spec.volumes:
            if volume.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM:
                pv = self.volumes[self.claims[volume.claim_name]]
                if pv.local:
                    return pv.node
        return None

    def _schedule(self, pod: Pod, avoid: str | None = None) -> None:
        pinned = self._pinned_node(pod)
        candidates = [n for n in self.nodes.values() if n.schedulable
                      and (pinned is None or n.name == pinned)]
        if avoid is not None and len(candidates) > 1:
            candidates = [n for n in candidates if n.name != avoid] or candidates
        if not candidates:
            pod.status = "Pending"
            pod.node = None
            why = (f"node affinity: its local PersistentVolume is on {pinned}"
                   if pinned else "no schedulable node")
            self._record("FailedScheduling", pod.name, "", f"0/{len(self.nodes)} nodes are "
                         f"available: {why}.")
            return
        fewest = min(len(n.pods) for n in candidates)
        best = [n for n in candidates if len(n.pods) == fewest]
        node = best[0] if len(best) == 1 else self._random.choice(best)
        pod.node = node.name
        node.pods.add(pod.name)
        self._record("Scheduled", pod.name, node.name,
                     f"Successfully assigned {pod.spec.namespace}/{pod.name} to {node.name}")
        self._start(pod)

    def _mounts(self, pod: Pod, node: Node, container_index: int) -> list[Bind]:
        spec = pod.spec.containers[container_index]
        volumes = {v.name: v for v in pod.spec.volumes}
        mounts = []
        for mount in spec.volume_mounts:
            volume = volumes[mount.name]
            source = self._volume_source(pod, node, volume)
            mounts.append(Bind(source, mount.mount_path,
                               read_only=mount.read_only or volume.read_only,
                               sub_path=mount.sub_path))
        return mounts

    def _volume_source(self, pod: Pod, node: Node, volume: VolumeSpec) -> Volume | str:
        if volume.kind is VolumeKind.EMPTY_DIR:
            if volume.medium == "Memory":
                return Volume(f"{pod.uid}-{volume.name}", medium="Memory",
                              size=volume.size_limit)
            return (f"/var/lib/kubelet/pods/{pod.uid}/volumes/kubernetes.io~empty-dir/"
                    f"{volume.name}")
        if volume.kind is VolumeKind.HOST_PATH:
            return volume.path
        pv = self.volumes[self.claims[volume.claim_name]]
        if pv.local:
            # A local PV is its own disk on the node, of the PV's capacity.
            return Volume(f"pv-{pv.name}", scope="disk", size=pv.capacity)
        return Volume(f"pv-{pv.name}", scope="cluster", size=pv.capacity)

    def _start(self, pod: Pod) -> None:
        node = self.node(pod.node)  # type: ignore[arg-type]
        for volume in pod.spec.volumes:
            if volume.kind is VolumeKind.HOST_PATH and volume.type in ("Directory", "File") \
                    and volume.path not in node.runtime._host_paths:
                pod.status = "ContainerCreating"
                self._record("FailedMount", pod.name, node.name,
                             f'MountVolume.SetUp failed for volume "{volume.name}" : hostPath '
                             f"type check failed: {volume.path} is not a "
                             f"{'file' if volume.type == 'File' else 'directory'}")
                return
        for i in range(len(pod.spec.containers)):
            self._start_container(pod, node, i)
        self._update_status(pod)

    def _start_container(self, pod: Pod, node: Node, index: int) -> Container:
        spec = pod.spec.containers[index]
        restarts = pod.restarts.get(spec.name, 0)
        name = f"k8s_{spec.name}_{pod.name}_{pod.spec.namespace}_{pod.uid[:8]}_{restarts}"
        ctr = node.runtime.create(
            self.image(spec.image), name=name, mounts=self._mounts(pod, node, index),
            read_only=spec.read_only_root_filesystem, privileged=spec.privileged,
            command=list(spec.command) if spec.command is not None else None,
            args=list(spec.args) if spec.args is not None else None,
            env=dict(spec.env), hostname=pod.name)
        ctr.start()
        pod.containers[spec.name] = ctr
        self._ship_logs(pod, ctr.process_runs[-1] if ctr.process_runs else None)
        if ctr.exit_code:
            tail = (ctr.process_runs[-1].stderr.strip().splitlines() or [""])[-1]
            self._record("BackOff", pod.name, node.name,
                         f"Back-off restarting failed container {spec.name}: exit code "
                         f"{ctr.exit_code}: {tail}")
        else:
            self._record("Started", pod.name, node.name, f"Started container {spec.name}")
        return ctr

    def _update_status(self, pod: Pod) -> None:
        failed = any(c.exit_code for c in pod.containers.values())
        pod.status = "CrashLoopBackOff" if failed else "Running"

    def _ship_logs(self, pod: Pod, result: ExecResult | None) -> None:
        if result is not None and result.stdout:
            self.log_store.setdefault(pod.name, []).extend(result.stdout.splitlines())

    def _stop_pod(self, pod: Pod, delete_storage: bool) -> None:
        node = self.nodes.get(pod.node) if pod.node else None
        for ctr in pod.containers.values():
            if ctr.state != "removed":
                ctr.remove(force=True)
        pod.containers = {}
        if node is not None:
            node.pods.discard(pod.name)
            if delete_storage:
                # The kubelet deletes a pod's emptyDir volumes with the pod.
                for volume in pod.spec.volumes:
                    if volume.kind is VolumeKind.EMPTY_DIR:
                        if volume.medium == "Memory":
                            node.runtime.drop_storage("memory", f"{pod.uid}-{volume.name}")
                        else:
                            prefix = f"/var/lib/kubelet/pods/{pod.uid}/"
                            for key in [k for k in node.runtime._host_paths
                                        if k.startswith(prefix)]:
                                node.runtime.drop_storage("host", key)

    # ------------------------------------------------------------ events
    def crash(self, pod_name: str, container: str | None = None) -> Pod:
        """A container exits with an error; the kubelet starts a new one in the same pod."""
        pod = self._running(pod_name)
        names = [container] if container else list(pod.containers)
        node = self.node(pod.node)  # type: ignore[arg-type]
        for name in names:
            old = pod.container(name)
            old.remove(force=True)
            pod.restarts[name] = pod.restarts.get(name, 0) + 1
            self._record("Killing", pod.name, node.name,
                         f"Container {name} crashed; the kubelet creates a new container")
            index = [c.name for c in pod.spec.containers].index(name)
            self._start_container(pod, node, index)
        self._update_status(pod)
        return pod

    def restart(self, pod_name: str) -> Pod:
        """Restart the pod's containers in place, as ``crictl stop`` + ``start`` would."""
        pod = self._running(pod_name)
        for name, ctr in pod.containers.items():
            ctr.restart()
            self._ship_logs(pod, ctr.process_runs[-1] if ctr.process_runs else None)
            self._record("Restarted", pod.name, pod.node or "", f"Container {name} restarted "
                         "in place (same container, same writable layer)")
        self._update_status(pod)
        return pod

    def delete(self, pod_name: str, recreate: bool = True, avoid: str | None = None) -> Pod:
        """Delete a pod; by default its controller creates a replacement (new uid)."""
        pod = self.pod(pod_name)
        self._stop_pod(pod, delete_storage=True)
        self._record("Deleted", pod.name, pod.node or "", "pod deleted; its emptyDir volumes "
                     "are deleted with it")
        del self.pods[pod.name]
        if not recreate:
            return pod
        new = Pod(pod.spec, self._new_uid(pod.name), generation=pod.generation + 1)
        self.pods[pod.name] = new
        self._record("Created", new.name, "", f"replacement pod uid {new.uid[:8]}")
        self._schedule(new, avoid=avoid)
        return new

    def reschedule(self, pod_name: str) -> Pod:
        """Delete the pod and schedule its replacement on another node if there is one."""
        pod = self.pod(pod_name)
        return self.delete(pod_name, avoid=pod.node)

    def cordon(self, node_name: str) -> None:
        """Mark a node unschedulable (``kubectl cordon``)."""
        self.node(node_name).cordoned = True
        self._record("Cordoned", "", node_name, "node marked unschedulable")

    def uncordon(self, node_name: str) -> None:
        """Make a node schedulable again."""
        self.node(node_name).cordoned = False
        self._record("Uncordoned", "", node_name, "node schedulable again")

    def drain(self, node_name: str) -> list[Pod]:
        """``kubectl drain``: cordon the node and evict its pods to other nodes."""
        node = self.node(node_name)
        self.cordon(node_name)
        moved = []
        for name in sorted(node.pods):
            self._record("Evicted", name, node_name, "evicted by kubectl drain")
            moved.append(self.delete(name))
        return moved

    def fail(self, node_name: str) -> list[Pod]:
        """The node dies: its local storage is gone; its pods are recreated elsewhere."""
        node = self.node(node_name)
        node.ready = False
        self._record("NodeNotReady", "", node_name, "node failed: its disks and everything on "
                     "them are gone")
        moved = []
        for name in sorted(node.pods):
            pod = self.pods[name]
            for ctr in pod.containers.values():
                if ctr.state != "removed":
                    ctr.remove(force=True)
            pod.containers = {}
            node.pods.discard(name)
            del self.pods[name]
            self._record("TaintManagerEviction", name, node_name,
                         "pod deleted from the failed node")
            new = Pod(pod.spec, self._new_uid(name), generation=pod.generation + 1)
            self.pods[name] = new
            self._schedule(new)
            moved.append(new)
        # Everything stored on the node goes with it.
        old_runtime = node.runtime
        for key in list(old_runtime._host_paths):
            old_runtime.drop_storage("host", key)
        for key in list(old_runtime._volumes):
            old_runtime.drop_storage("volume", key)
        for key in list(old_runtime._memory):
            old_runtime.drop_storage("memory", key)
        return moved

    def recover(self, node_name: str) -> None:
        """Bring a failed node back, empty (a replacement machine with the same name)."""
        node = self.node(node_name)
        node.ready = True
        self._record("NodeReady", "", node_name, "node is back, with empty disks")

    # ------------------------------------------------------------ storage
    def usage(self, pod_name: str) -> Any:
        """Where a pod's bytes are: a :class:`~rosim.cluster.kubelet.PodUsage`."""
        from rosim.cluster.kubelet import pod_usage

        return pod_usage(self, pod_name)

    def disk(self, node_name: str) -> Any:
        """A node's disk (capacity, used, available, DiskPressure)."""
        from rosim.cluster.kubelet import node_disk

        return node_disk(self, node_name)

    def evict(self, pod_name: str, message: str) -> Pod:
        """Evict a pod: ``Failed``/``Evicted``; its containers and emptyDirs go."""
        pod = self.pod(pod_name)
        node = pod.node or ""
        self._stop_pod(pod, delete_storage=True)
        pod.status = "Evicted"
        pod.message = message
        self._record("Evicted", pod.name, node, message.strip())
        return pod

    def kubelet_sync(self) -> list[str]:
        """One pass of every kubelet's eviction manager; returns the evicted pods."""
        from rosim.cluster.kubelet import sync

        return sync(self)

    def tick(self, seconds: float = 10.0) -> list[str]:
        """Advance the clock, run the eviction managers, sample every node's disk."""
        if seconds < 0:
            raise ConfigError(f"seconds(={seconds!r}) must be >= 0.")
        self.clock += seconds
        evicted = self.kubelet_sync()
        for name in self.nodes:
            disk = self.disk(name)
            self.disk_samples.append((self.clock, name, disk.used, disk.available))
        return evicted

    def _running(self, pod_name: str) -> Pod:
        pod = self.pod(pod_name)
        if not pod.containers:
            raise LifecycleError(f"pod {pod_name!r} has no containers ({pod.status}).")
        return pod

    # ------------------------------------------------------------ using pods
    def exec(self, pod_name: str, command: str | list[str],
             container: str | None = None) -> ExecResult:
        """``kubectl exec``: a command line (through sh) or an argv in a pod's container."""
        ctr = self._running(pod_name).container(container)
        if isinstance(command, str):
            return ctr.sh(command)
        return ctr.exec(list(command))

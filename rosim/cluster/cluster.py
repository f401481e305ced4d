"""A small Kubernetes cluster: nodes, workloads, pods, volumes and what survives what.

Nodes each run a container runtime (:class:`~rosim.Runtime`) with its own
storage: the containers' writable layers, ``emptyDir`` directories under
``/var/lib/kubelet/pods/<uid>/volumes/``, ``hostPath`` directories, local
PersistentVolumes. Network PersistentVolumes live outside the nodes and
follow a pod wherever it runs. :meth:`Cluster.apply` takes what ``kubectl
apply -f`` takes (:mod:`rosim.cluster.manifests`): Pods, Deployments,
StatefulSets, DaemonSets, Jobs, claims, volumes, storage and priority
classes; other kinds are listed as ignored.

The lifecycles are the kubelet's and the controllers' (domain.md §5):

* a container **crash**: the kubelet keeps the dead container (its layer
  and logs stay on the node) and, after its back-off delay, starts a *new*
  container in the same pod, with the same ``emptyDir``
  (:mod:`rosim.cluster.lifecycle`);
* a pod **deleted**: gone with its ``emptyDir``; a bare Pod is never
  recreated, a Deployment's ReplicaSet creates a pod of another name, a
  StatefulSet the same name with the same claim (:mod:`rosim.cluster.workloads`);
* a node **drained** (with ``kubectl drain``'s guards) or **failed** (on the
  control plane's timeline) (:mod:`rosim.cluster.disruptions`).

Every event lands on :attr:`Cluster.timeline`, stamped with the cluster
clock. The scheduler is deterministic: the least busy schedulable node,
ties broken by a seeded random generator.

>>> from rosim.cluster.cluster import Cluster
>>> c = Cluster(nodes=2, seed=1)
>>> applied = c.apply({"metadata": {"name": "web"}, "spec": {"containers": [
...     {"name": "app", "image": "busybox", "command": ["sleep", "1000"]}]}})
>>> print(applied)
pod/web created
>>> applied.pod.node, applied.pod.status
('node-1', 'Running')
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from rosim._bounds import INT64_MAX, check_int, check_number
from rosim._errors import ConfigError, LifecycleError
from rosim.cluster.images import ImageGCPolicy
from rosim.cluster.kubelet import BYTES_PER_INODE
from rosim.cluster.manifests import (
    ClaimSpec,
    ConfigMapSpec,
    IgnoredObject,
    ManifestSource,
    PersistentVolumeSpec,
    PriorityClassSpec,
    StorageClassSpec,
    WorkloadKind,
    WorkloadSpec,
    read_manifests,
)
from rosim.cluster.objects import ClusterEvent, Node, PersistentVolume, Pod
from rosim.cluster.quantity import parse_quantity
from rosim.cluster.spec import PodSpec, VolumeKind, VolumeSpec
from rosim.fs.layers import Image
from rosim.fs.mounts import Bind, Volume
from rosim.images.catalog import resolve_image
from rosim.runtime.runtime import Runtime
from rosim.shell.result import ExecResult

__all__ = ["Applied", "Cluster", "ClusterEvent", "Node", "PersistentVolume", "Pod"]

#: Provisioners whose volumes live on one node, in a directory of its main disk.
_NODE_PROVISIONERS = ("rancher.io/local-path", "k8s.io/minikube-hostpath",
                      "microk8s.io/hostpath", "docker.io/hostpath")
#: Provisioners of network storage that does not enforce a claim's size.
_NFS_PROVISIONERS = ("k8s-sigs.io/nfs-subdir-external-provisioner",
                     "cluster.local/nfs-client-provisioner", "nfs.csi.k8s.io")


@dataclass(frozen=True)
class Applied:
    """What :meth:`Cluster.apply` did, as ``kubectl apply`` prints it.

    ``lines`` are ``kind/name created`` lines (``ignored`` ones for kinds
    rosim does not simulate); ``pods`` are the pods created by this apply.
    """

    lines: tuple[str, ...]
    pods: tuple[Pod, ...]
    ignored: tuple[str, ...] = ()

    @property
    def pod(self) -> Pod:
        """The one pod this apply created (ConfigError if it made none or several)."""
        if len(self.pods) != 1:
            raise ConfigError(f"this apply created {len(self.pods)} pods, not one; "
                              "use .pods.")
        return self.pods[0]

    def __str__(self) -> str:
        return "\n".join(self.lines)

MAX_NODES = 5000
"""Most nodes a simulated cluster may have (Kubernetes' documented scalability limit)."""
MAX_SECONDS = 10 * 365 * 86400.0
"""Longest span of cluster time one call may advance (ten years)."""


def termination_file(pod: Pod, container: str) -> str:
    """The node's file behind a container's ``terminationMessagePath``
    (``/var/lib/kubelet/pods/UID/containers/NAME/ID``, one per container instance)."""
    attempt = pod.restarts.get(container, 0)
    cid = hashlib.sha256(f"{pod.uid}/{container}/{attempt}".encode()).hexdigest()[:8]
    return f"/var/lib/kubelet/pods/{pod.uid}/containers/{container}/{cid}"


def _hosts_file(pod_name: str, ip: str) -> bytes:
    """The hosts file the kubelet writes for a pod (``/etc/hosts`` in its containers)."""
    return ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
            "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
            f"{ip}\t{pod_name}\n").encode()


class Cluster:
    """Nodes running workloads, with Kubernetes' lifecycles (module docstring).

    ``nodes`` is a count or a list of names; ``profile`` and ``read_only`` set
    every node's runtime (``read_only`` is CRI-O's global ``--read-only``);
    ``seed`` fixes the scheduler's tie-breaking and the pods' generated
    names; ``disk`` sizes each node's disk (writable layers, logs, emptyDirs
    and hostPaths share it) and ``inodes`` its inode count (by default one
    per 16 KiB, as mke2fs makes an ext4 disk). ``images`` adds images by reference.
    """

    def __init__(self, nodes: int | list[str] = 3, *, profile: str = "cri-o",
                 read_only: bool = False, seed: int = 0,
                 images: Mapping[str, Image] | None = None,
                 disk: int | str | None = None, inodes: int | None = None) -> None:
        if isinstance(nodes, int) and not isinstance(nodes, bool):
            check_int(nodes, "nodes", low=1, high=MAX_NODES)
            names = [f"node-{i}" for i in range(1, nodes + 1)]
        elif isinstance(nodes, list) and nodes and all(isinstance(n, str) for n in nodes):
            names = list(nodes)
            if len(set(names)) != len(names):
                raise ConfigError(f"nodes(={nodes!r}) names a node twice.")
        else:
            raise ConfigError(f"nodes(={nodes!r}) must be a count or a list of names.")
        check_int(seed, "seed", low=-INT64_MAX - 1)
        disk_size = parse_quantity(disk, field="disk") if disk is not None else None
        #: The cluster's network storage (network PersistentVolumes), shared by its nodes.
        self.network: dict[str, Any] = {}
        self.nodes = {n: Node(n, Runtime(profile, read_only=read_only, disk=disk_size,
                                         network=self.network))
                      for n in names}
        if inodes is not None and (not isinstance(inodes, int) or isinstance(inodes, bool)
                                   or inodes < 1):
            raise ConfigError(f"inodes(={inodes!r}) must be a positive integer.")
        for node in self.nodes.values():
            # An ext4 node disk: one inode per 16 KiB unless ``inodes`` says otherwise.
            node.runtime.disk.inodes = inodes or max(
                node.runtime.disk.limit()[0] // BYTES_PER_INODE, 1)
        if images is not None and not isinstance(images, Mapping):
            raise ConfigError(f"images(={images!r:.60}) must be a dict of name to rosim.Image.")
        self.images: dict[str, Image] = dict(images or {})
        self.volumes: dict[str, PersistentVolume] = {}
        #: PersistentVolumeClaims: claim name -> bound PersistentVolume name ("" if Pending).
        self.claims: dict[str, str] = {}
        self.claim_specs: dict[str, ClaimSpec] = {}
        #: PersistentVolumes no claim is bound to.
        self._unbound: set[str] = set()
        #: Pods waiting for a volume still attached to another node.
        self._attach_waiting: set[str] = set()
        self.storage_classes: dict[str, StorageClassSpec] = {}
        self.priority_classes: dict[str, PriorityClassSpec] = {}
        self.config_maps: dict[str, ConfigMapSpec] = {}
        #: Workload controllers by ``Kind/name`` (bare Pods have none).
        self.workloads: dict[str, Any] = {}
        #: The controllers' work queue: workload key -> StatefulSet ordinals to
        #: look at (None: a whole pass); see :func:`rosim.cluster.workloads.run_queue`.
        self._work_queue: dict[str, set[int] | None] = {}
        self._draining = False
        self.pods: dict[str, Pod] = {}
        self.timeline: list[ClusterEvent] = []
        #: Lines the pods wrote to stdout, as a logging agent ships them, by pod name.
        self.log_store: dict[str, list[str]] = {}
        #: Network volumes attached to a node (``ReadWriteOnce``): PV name -> node.
        self.attachments: dict[str, str] = {}
        self._random = random.Random(seed)
        self._uids = itertools.count(1)
        self._seed = seed
        self._agenda: list[tuple[float, int, Callable[[], None]]] = []
        self._agenda_seq = itertools.count()
        #: A node replacements avoid while a pod is rescheduled.
        self._avoid: str | None = None
        #: The kubelet's last volume measurements: pod uid -> (time, emptyDir bytes).
        self._volume_stats: dict[str, tuple[float, dict[str, int]]] = {}
        #: ``evictionHard`` for ``nodefs.available``, as a fraction of the disk.
        self.nodefs_threshold = 0.10
        #: ``evictionHard`` for ``nodefs.inodesFree``, as a fraction of the inodes.
        self.inodes_threshold = 0.05
        #: ``evictionHard`` for ``imagefs.available`` (the node's disk: no dedicated
        #: image file system), as a fraction of the disk.
        self.imagefs_threshold = 0.15
        #: ``evictionPressureTransitionPeriod``: seconds ``DiskPressure`` stays after
        #: the last pass of the eviction manager that saw a threshold met.
        self.pressure_transition_period = 300.0
        #: The kubelets' image garbage collection thresholds (:mod:`rosim.cluster.images`).
        self.image_gc = ImageGCPolicy()
        #: ``containerLogMaxSize`` and ``containerLogMaxFiles`` (see
        #: :mod:`rosim.cluster.logrotate`).
        self.container_log_max_size = 10 * 1024 * 1024
        self.container_log_max_files = 5
        #: Simulated seconds since the cluster started (advanced by :meth:`advance`).
        self.clock = 0.0
        #: ``(clock, node, used, available)`` after every :meth:`tick`.
        self.disk_samples: list[tuple[float, str, int, int]] = []

    def __repr__(self) -> str:
        return f"<Cluster nodes={len(self.nodes)} pods={len(self.pods)}>"

    # ------------------------------------------------------------ bookkeeping
    def _record(self, kind: str, pod: str = "", node: str = "", message: str = "") -> None:
        self.timeline.append(ClusterEvent(len(self.timeline), kind, pod, node, message,
                                          self.clock))

    def node(self, name: str) -> Node:
        """A node by name."""
        try:
            return self.nodes[name]
        except (KeyError, TypeError):
            raise ConfigError(f"node(={name!r}) is not in the cluster; nodes: "
                              + ", ".join(self.nodes) + ".") from None

    def pod(self, name: str) -> Pod:
        """A pod by name, or ``deployment/NAME``-style: a pod of that workload.

        ``KIND/NAME`` (``deployment/web``, ``statefulset/db``, ``daemonset/x``,
        ``job/y``) picks the workload's first pod that is not being deleted,
        as ``kubectl exec deploy/web`` does.
        """
        if isinstance(name, str) and "/" in name:
            return self._workload_pod(name)
        try:
            return self.pods[name]
        except (KeyError, TypeError):
            raise ConfigError(f"pod(={name!r}) does not exist; pods: "
                              + (", ".join(self.pods) or "none") + ".") from None

    def _workload_pod(self, ref: str) -> Pod:
        from rosim.cluster.workloads import find_workload

        workload = find_workload(self, ref)
        pods = [self.pods[p] for p in workload.pod_names(self)]
        live = [p for p in pods if not p.terminating and p.phase in ("Running", "Pending")]
        chosen = live or pods
        if not chosen:
            raise ConfigError(f"pod(={ref!r}): {workload.key} has no pods.")
        return chosen[0]

    def image(self, ref: str) -> Image:
        """Resolve an image reference (``registry/name:tag``) to an Image."""
        return resolve_image(ref, self.images)

    # ------------------------------------------------------------ the clock
    def at(self, delay: float, action: Callable[[], None]) -> None:
        """Run ``action`` when the clock has advanced ``delay`` more seconds."""
        check_number(delay, "delay", high=MAX_SECONDS, unit="s")
        heapq.heappush(self._agenda, (self.clock + delay, next(self._agenda_seq), action))

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of cluster time pass: back-offs end, controllers act."""
        check_number(seconds, "seconds", high=MAX_SECONDS, unit="s")
        end = self.clock + seconds
        while self._agenda and self._agenda[0][0] <= end + 1e-9:
            when, _, action = heapq.heappop(self._agenda)
            self.clock = max(self.clock, when)
            action()
        self.clock = end

    def settle(self, limit: float = 3600.0) -> float:
        """Advance until nothing is scheduled (at most ``limit`` s); return the time waited.

        Crash-looping containers keep the agenda busy: their restarts stop
        counting after ``limit``.
        """
        start = self.clock
        while self._agenda and self._agenda[0][0] - start <= limit:
            self.advance(self._agenda[0][0] - self.clock)
        return self.clock - start

    # ------------------------------------------------------------ storage objects
    def add_persistent_volume(self, name: str, capacity: int | str = "10Gi",
                              node: str | None = None, claim: str | None = None, *,
                              source: str | None = None,
                              access_modes: tuple[str, ...] = ("ReadWriteOnce",)
                              ) -> PersistentVolume:
        """Create a PersistentVolume (local to ``node`` if given) and bind ``claim`` to it.

        ``source`` overrides where its bytes live (see :class:`PersistentVolume`).
        """
        if name in self.volumes:
            raise ConfigError(f"PersistentVolume name(={name!r}) already exists.")
        if node is not None:
            self.node(node)
        if source is not None and source not in ("network", "nfs", "local", "hostPath"):
            raise ConfigError(f"source(={source!r}) must be 'network', 'nfs', 'local' or "
                              "'hostPath'.")
        pv = PersistentVolume(name, parse_quantity(capacity, field="capacity"), node,
                              source or "", tuple(access_modes))
        self.volumes[name] = pv
        self._unbound.add(name)
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
        if volume not in self._unbound:
            raise ConfigError(f"PersistentVolume volume(={volume!r}) is already bound.")
        self.claims[claim] = volume
        self._unbound.discard(volume)

    def _add_claim_spec(self, spec: ClaimSpec) -> None:
        """A PersistentVolumeClaim object: bind it to a PV, provision one, or leave it Pending."""
        if spec.name in self.claims:
            return
        self.claim_specs[spec.name] = spec
        if spec.volume_name:
            self.claims[spec.name] = spec.volume_name if spec.volume_name in self.volumes else ""
            return
        klass_name = spec.storage_class
        if klass_name is None:
            default = [c for c in self.storage_classes.values() if c.default]
            klass_name = default[0].name if default else ""
        for name in sorted(self._unbound):  # a static PV of that class, big enough
            pv = self.volumes[name]
            if pv.capacity >= spec.storage and pv.storage_class == klass_name:
                self.claims[spec.name] = pv.name
                self._unbound.discard(pv.name)
                return
        klass = self.storage_classes.get(klass_name)
        if klass is None or klass.provisioner == "kubernetes.io/no-provisioner":
            if klass_name == "" and not self.storage_classes:
                # No StorageClass at all: the cluster's built-in network disks.
                self._provision(spec, "network")
                return
            self.claims[spec.name] = ""
            return
        if klass.provisioner in _NODE_PROVISIONERS:
            self._provision(spec, "hostPath", klass.name)
        elif klass.provisioner in _NFS_PROVISIONERS:
            self._provision(spec, "nfs", klass.name)
        else:
            self._provision(spec, "network", klass.name)

    def _provision(self, spec: ClaimSpec, source: str, klass: str = "") -> None:
        name = "pvc-" + self._new_uid(spec.name)
        self.volumes[name] = PersistentVolume(name, spec.storage, None, source,
                                              spec.access_modes, klass)
        self.claims[spec.name] = name

    def _add_volume_spec(self, spec: PersistentVolumeSpec) -> None:
        if spec.name in self.volumes:
            return
        if spec.node is not None:
            self.node(spec.node)
        self.volumes[spec.name] = PersistentVolume(spec.name, spec.capacity, spec.node,
                                                   spec.source, spec.access_modes,
                                                   spec.storage_class)
        self._unbound.add(spec.name)
        if spec.claim and self.claims.get(spec.claim) == "":
            self.claims[spec.claim] = spec.name
            self._unbound.discard(spec.name)
        for claim, bound in list(self.claims.items()):  # Pending claims that fit it
            cs = self.claim_specs.get(claim)
            if bound == "" and cs is not None and spec.name in self._unbound \
                    and spec.capacity >= cs.storage and (cs.storage_class or "") == \
                    spec.storage_class:
                self.claims[claim] = spec.name
                self._unbound.discard(spec.name)

    def priority_of(self, spec: PodSpec) -> int:
        """The priority the Priority admission plugin gives a pod (ConfigError if refused)."""
        if spec.priority_class_name:
            klass = self.priority_classes.get(spec.priority_class_name)
            if klass is None and spec.priority_class_name not in (
                    "system-cluster-critical", "system-node-critical"):
                raise ConfigError(f'pods "{spec.name}" is forbidden: no PriorityClass with '
                                  f'name {spec.priority_class_name} was found')
            value = klass.value if klass is not None else (
                2000000000 if spec.priority_class_name == "system-cluster-critical"
                else 2000001000)
        else:
            default = [c for c in self.priority_classes.values() if c.global_default]
            value = default[0].value if default else 0
        if spec.priority is not None and spec.priority != value:
            raise ConfigError(
                f'pods "{spec.name}" is forbidden: the integer value of priority '
                f"({spec.priority}) must not be provided in pod spec; priority admission "
                f"controller computed {value} from the given PriorityClass name")
        return value

    # ------------------------------------------------------------ apply
    def apply(self, manifest: ManifestSource | PodSpec) -> Applied:
        """``kubectl apply -f``: create every object of ``manifest``.

        ``manifest`` is a dict, a list of dicts, YAML text (several ``---``
        documents allowed), a :class:`pathlib.Path` to a YAML file, or a
        :class:`PodSpec`. Every document is read and checked before anything
        is created: a bad field anywhere creates nothing. Workloads get their
        pods at once; kinds rosim does not simulate are listed as ignored.
        """
        from rosim.cluster.workloads import Workload, reconcile_workload

        if isinstance(manifest, PodSpec):
            objects: list[Any] = [WorkloadSpec(WorkloadKind.POD, manifest.name, manifest,
                                               manifest.namespace)]
        else:
            objects = read_manifests(manifest)
        self._check(objects)
        lines: list[str] = []
        ignored: list[str] = []
        created: list[Pod] = []
        order = {PriorityClassSpec: 0, StorageClassSpec: 1, ConfigMapSpec: 2,
                 PersistentVolumeSpec: 3, ClaimSpec: 4}
        for obj in sorted(objects, key=lambda o: order.get(type(o), 5)):
            if isinstance(obj, IgnoredObject):
                group = obj.api_version.split("/")[0] if "/" in obj.api_version else ""
                ignored.append(f"{obj.kind.lower()}{'.' + group if group else ''}/{obj.name}")
                continue
            if isinstance(obj, PriorityClassSpec):
                self.priority_classes[obj.name] = obj
                lines.append(f"priorityclass.scheduling.k8s.io/{obj.name} created")
            elif isinstance(obj, StorageClassSpec):
                self.storage_classes[obj.name] = obj
                lines.append(f"storageclass.storage.k8s.io/{obj.name} created")
            elif isinstance(obj, ConfigMapSpec):
                self.config_maps[obj.name] = obj
                lines.append(f"configmap/{obj.name} created")
            elif isinstance(obj, PersistentVolumeSpec):
                self._add_volume_spec(obj)
                lines.append(f"persistentvolume/{obj.name} created")
            elif isinstance(obj, ClaimSpec):
                self._add_claim_spec(obj)
                lines.append(f"persistentvolumeclaim/{obj.name} created")
            else:
                workload = Workload(obj)
                before = set(self.pods)
                if obj.kind is WorkloadKind.POD:
                    self._create_pod(obj.template, workload="")
                else:
                    self.workloads[workload.key] = workload
                    reconcile_workload(self, workload.key)
                created += [self.pods[p] for p in self.pods if p not in before]
                group = {"Pod": "", "Job": ".batch"}.get(obj.kind.value, ".apps")
                lines.append(f"{obj.kind.value.lower()}{group}/{obj.name} created")
        lines += [f"{name} ignored (not simulated)" for name in ignored]
        return Applied(tuple(lines), tuple(created), tuple(ignored))

    def _check(self, objects: list[Any]) -> None:
        """Refuse the whole apply before creating anything (names, images, claims)."""
        pcs = {o.name: o for o in objects if isinstance(o, PriorityClassSpec)}
        claims = set(self.claims) | {o.name for o in objects if isinstance(o, ClaimSpec)}
        saved = self.priority_classes
        self.priority_classes = {**saved, **pcs}
        try:
            for obj in objects:
                if not isinstance(obj, WorkloadSpec):
                    continue
                if obj.kind is WorkloadKind.POD and obj.name in self.pods:
                    raise ConfigError(f"metadata.name(={obj.name!r}): a pod of that name "
                                      "exists.")
                key = f"{obj.kind.value}/{obj.name}"
                if key in self.workloads:
                    raise ConfigError(f"metadata.name(={obj.name!r}): a {obj.kind.value} of "
                                      "that name exists.")
                templates = {c.name for c in obj.claim_templates}
                for volume in obj.template.volumes:
                    if volume.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM and \
                            volume.name not in templates and volume.claim_name not in claims:
                        raise ConfigError(
                            f"volume {volume.name!r}: persistentVolumeClaim.claimName"
                            f"(={volume.claim_name!r}) is not a claim; claims: "
                            + (", ".join(sorted(claims)) or "none") + ".")
                for i, container in enumerate(obj.template.containers):
                    resolve_image(container.image, self.images,
                                  field=f"{obj.path}.containers[{i}].image")
                self.priority_of(obj.template)
        finally:
            self.priority_classes = saved

    # ------------------------------------------------------------ pods
    def _new_uid(self, name: str) -> str:
        digest = hashlib.sha256(f"{self._seed}/{name}/{next(self._uids)}".encode()).hexdigest()
        return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def _create_pod(self, spec: PodSpec, *, workload: str, owner: str = "",
                    node: str | None = None) -> Pod:
        """Create a pod object and schedule it (``node`` pins a DaemonSet's pod)."""
        pod = Pod(spec, self._new_uid(spec.name), owner=owner, workload=workload,
                  priority=self.priority_of(spec))
        self.pods[spec.name] = pod
        if node is not None:
            self._bind(pod, self.nodes[node])
        else:
            self._schedule(pod)
        return pod

    def _pinned_node(self, pod: Pod) -> str | None:
        for volume in pod.spec.volumes:
            if volume.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM:
                pv = self.volumes.get(self.claims.get(volume.claim_name, ""))
                if pv is not None and pv.local and pv.node is not None:
                    return pv.node
        return None

    def _unbound_claim(self, pod: Pod) -> str | None:
        for volume in pod.spec.volumes:
            if volume.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM and \
                    not self.claims.get(volume.claim_name):
                return volume.claim_name
        return None

    def _schedule(self, pod: Pod, avoid: str | None = None) -> None:
        avoid = avoid if avoid is not None else self._avoid
        unbound = self._unbound_claim(pod)
        if unbound is not None:
            pod.status, pod.node = "Pending", None
            self._record("FailedScheduling", pod.name, "",
                         f"0/{len(self.nodes)} nodes are available: pod has unbound immediate "
                         f"PersistentVolumeClaims ({unbound}).")
            return
        pinned = self._pinned_node(pod)
        candidates = [n for n in self.nodes.values() if n.schedulable
                      and (pinned is None or n.name == pinned)]
        if avoid is not None and len(candidates) > 1:
            candidates = [n for n in candidates if n.name != avoid] or candidates
        if not candidates:
            pod.status, pod.node = "Pending", None
            self._record("FailedScheduling", pod.name, "", self._unschedulable(pinned))
            return
        fewest = min(len(n.pods) for n in candidates)
        best = [n for n in candidates if len(n.pods) == fewest]
        node = best[0] if len(best) == 1 else self._random.choice(best)
        self._bind(pod, node)

    def _retry_pending(self) -> None:
        """The scheduler retries Pending pods when nodes change (only those that now fit)."""
        for pod in list(self.pods.values()):
            if pod.status != "Pending" or pod.node is not None or pod.terminating \
                    or self._unbound_claim(pod) is not None:
                continue
            pinned = self._pinned_node(pod)
            if any(n.schedulable and (pinned is None or n.name == pinned)
                   for n in self.nodes.values()):
                self._schedule(pod)

    def _unschedulable(self, pinned: str | None) -> str:
        reasons: dict[str, int] = {}
        for node in self.nodes.values():
            if not node.ready or not node.up:
                why = "had untolerated taint {node.kubernetes.io/unreachable: }"
            elif node.cordoned:
                why = "were unschedulable"
            elif node.disk_pressure:
                why = "had untolerated taint {node.kubernetes.io/disk-pressure: }"
            elif pinned is not None and node.name != pinned:
                why = "had volume node affinity conflict"
            else:
                continue
            reasons[why] = reasons.get(why, 0) + 1
        parts = ", ".join(f"{n} node(s) {why}" for why, n in sorted(reasons.items()))
        return (f"0/{len(self.nodes)} nodes are available: {parts}. preemption: 0/"
                f"{len(self.nodes)} nodes are available: {len(self.nodes)} Preemption is not "
                "helpful for scheduling.")

    def _bind(self, pod: Pod, node: Node) -> None:
        pod.node = node.name
        node.pods.add(pod.name)
        self._record("Scheduled", pod.name, node.name,
                     f"Successfully assigned {pod.spec.namespace}/{pod.name} to {node.name}")
        self._start(pod)

    def _mounts(self, pod: Pod, node: Node, container_index: int) -> list[Bind]:
        spec = pod.spec.containers[container_index]
        volumes = {v.name: v for v in pod.spec.volumes}
        # The kubelet's per-pod hosts file, bind-mounted read-write into every
        # container of the pod (it outlives a container crash).
        hosts = f"/var/lib/kubelet/pods/{pod.uid}/etc-hosts"
        node.runtime.host_file(hosts, _hosts_file(pod.name, self._pod_ip(pod)))
        mounts = [Bind(hosts, "/etc/hosts")]
        if any(m.mount_path == "/etc/hosts" for m in spec.volume_mounts):
            mounts = []
        # The termination-message file: a new empty one for every container
        # the kubelet creates, mode 0666, read-write whatever the root.
        if not any(m.mount_path == spec.termination_message_path for m in spec.volume_mounts):
            path = termination_file(pod, spec.name)
            node.runtime.host_file(path, b"", 0o666)
            mounts.append(Bind(path, spec.termination_message_path))
        for mount in spec.volume_mounts:
            volume = volumes[mount.name]
            source = self._volume_source(pod, node, volume)
            mounts.append(Bind(source, mount.mount_path,
                               read_only=mount.read_only or volume.read_only,
                               sub_path=mount.sub_path))
        return mounts

    def _pod_ip(self, pod: Pod) -> str:
        index = int(pod.uid[:6], 16)
        return f"10.244.{index % 250 + 1}.{index // 250 % 250 + 2}"

    def _volume_source(self, pod: Pod, node: Node, volume: VolumeSpec) -> Volume | str:
        if volume.kind is VolumeKind.EMPTY_DIR:
            if volume.medium == "Memory":
                # A tmpfs whose size is the smaller of its sizeLimit and the pod's
                # memory limit (the sum of its containers'), when there is one.
                limits = [c.memory_limit for c in pod.spec.containers]
                sizes = [volume.size_limit] if volume.size_limit is not None else []
                if limits and all(m is not None for m in limits):
                    sizes.append(sum(limits))  # type: ignore[arg-type]
                return Volume(f"{pod.uid}-{volume.name}", medium="Memory",
                              size=min(sizes) if sizes else None)
            return (f"/var/lib/kubelet/pods/{pod.uid}/volumes/kubernetes.io~empty-dir/"
                    f"{volume.name}")
        if volume.kind is VolumeKind.HOST_PATH:
            return volume.path
        if volume.kind in (VolumeKind.CONFIG_MAP, VolumeKind.SECRET):
            return self._config_volume(pod, node, volume)
        pv = self.volumes[self.claims[volume.claim_name]]
        if pv.source == "local":
            # A local PV is its own disk on the node, of the PV's capacity.
            return Volume(f"pv-{pv.name}", scope="disk", size=pv.capacity)
        if pv.source == "hostPath":
            return f"/var/lib/rosim-provisioner/{pv.name}"
        return Volume(f"pv-{pv.name}", scope="cluster",
                      size=pv.capacity if pv.enforced else None)

    def _config_volume(self, pod: Pod, node: Node, volume: VolumeSpec) -> str:
        """The kubelet writes a ConfigMap's keys as files and mounts them read-only."""
        from rosim.fs.kernel import kernel

        plugin = "configmap" if volume.kind is VolumeKind.CONFIG_MAP else "secret"
        key = f"/var/lib/kubelet/pods/{pod.uid}/volumes/kubernetes.io~{plugin}/{volume.name}"
        if key not in node.runtime._host_paths:
            directory = node.runtime._storage("host", key)
            cm = self.config_maps.get(volume.source_name)
            if cm is not None and volume.kind is VolumeKind.CONFIG_MAP:
                k = kernel()
                for name, text in sorted(cm.data.items()):
                    k.attach(directory, k.new_file(name, text.encode(), 0o644,
                                                   directory.st_dev))
        return key

    def _start(self, pod: Pod) -> None:
        from rosim.cluster.lifecycle import start_container

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
            if volume.kind is VolumeKind.CONFIG_MAP and \
                    volume.source_name not in self.config_maps:
                pod.status = "ContainerCreating"
                self._record("FailedMount", pod.name, node.name,
                             f'MountVolume.SetUp failed for volume "{volume.name}" : '
                             f'configmap "{volume.source_name}" not found')
                return
        if not self._attach(pod, node):
            return
        for i in range(len(pod.spec.containers)):
            start_container(self, pod, node, i)
        self._update_status(pod)

    def _attach(self, pod: Pod, node: Node) -> bool:
        """Attach the pod's network ``ReadWriteOnce`` volumes to ``node``, or wait."""
        for volume in pod.spec.volumes:
            if volume.kind is not VolumeKind.PERSISTENT_VOLUME_CLAIM:
                continue
            pv = self.volumes[self.claims[volume.claim_name]]
            if pv.source == "hostPath" and pv.node is None:
                object.__setattr__(pv, "node", node.name)
            if not pv.attachable:
                continue
            holder = self.attachments.get(pv.name)
            if holder is not None and holder != node.name:
                pod.status = "ContainerCreating"
                self._attach_waiting.add(pod.name)
                self._record("FailedAttachVolume", pod.name, node.name,
                             f'Multi-Attach error for volume "{pv.name}" Volume is already '
                             "exclusively attached to one node and can't be attached to "
                             "another")
                return False
        for volume in pod.spec.volumes:
            if volume.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM:
                pv = self.volumes[self.claims[volume.claim_name]]
                if pv.attachable and self.attachments.get(pv.name) != node.name:
                    self.attachments[pv.name] = node.name
                    if any(e.kind == "FailedAttachVolume" and e.pod == pod.name
                           for e in self.timeline[-50:]):
                        self._record("SuccessfulAttachVolume", pod.name, node.name,
                                     f'AttachVolume.Attach succeeded for volume "{pv.name}"')
        return True

    def _detach_unused(self, node_name: str, pod: Pod | None = None) -> None:
        """The attach/detach controller detaches volumes no pod on the node uses.

        ``pod`` is the pod that just left the node: only its volumes are
        looked at (all the node's attachments when None).
        """
        node = self.nodes.get(node_name)
        used = set()
        for name in (node.pods if node is not None else ()):
            for volume in self.pods[name].spec.volumes:
                if volume.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM:
                    used.add(self.claims.get(volume.claim_name, ""))
        if pod is not None:
            candidates = [self.claims.get(v.claim_name, "") for v in pod.spec.volumes
                          if v.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM]
        else:
            candidates = [pv for pv, holder in self.attachments.items() if holder == node_name]
        freed = False
        for pv in candidates:
            if self.attachments.get(pv) == node_name and pv not in used:
                del self.attachments[pv]
                freed = True
        if freed or pod is None:
            self._retry_waiting()

    def _retry_waiting(self) -> None:
        """Pods waiting for a volume attached elsewhere try again."""
        for name in sorted(self._attach_waiting):
            pod = self.pods.get(name)
            if pod is None or pod.terminating or pod.containers or pod.node is None \
                    or pod.status != "ContainerCreating":
                self._attach_waiting.discard(name)
                continue
            node = self.nodes.get(pod.node)
            if node is not None and node.up and self._attach_possible(pod, node):
                self._attach_waiting.discard(name)
                self._start(pod)

    def _attach_possible(self, pod: Pod, node: Node) -> bool:
        for volume in pod.spec.volumes:
            if volume.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM:
                pv = self.volumes[self.claims[volume.claim_name]]
                holder = self.attachments.get(pv.name)
                if pv.attachable and holder is not None and holder != node.name:
                    return False
        return True

    def _update_status(self, pod: Pod) -> None:
        from rosim.cluster.lifecycle import update_status

        update_status(self, pod)

    def _ship_logs(self, pod: Pod, result: ExecResult | None) -> None:
        if result is not None and result.stdout:
            self.log_store.setdefault(pod.name, []).extend(result.stdout.splitlines())

    def _remove_pod(self, pod: Pod, delete_storage: bool = True) -> None:
        """The kubelet kills the pod's containers, removes them and its emptyDirs."""
        from rosim.cluster.lifecycle import stop_pod

        stop_pod(self, pod, delete_storage)

    # ------------------------------------------------------------ events
    def crash(self, pod_name: str, container: str | None = None, *, exit_code: int = 1,
              wait: bool = True) -> Pod:
        """A container's process exits with ``exit_code``; the kubelet replaces it.

        The dead container is kept (``logs(previous=True)``); the pod is in
        ``CrashLoopBackOff`` for the back-off delay (10 s, 20 s, ... 5 min),
        then a new container starts. With ``wait`` the clock advances past
        that delay before the call returns.
        """
        from rosim.cluster.lifecycle import crash

        return crash(self, pod_name, container, exit_code=exit_code, wait=wait)

    def logs(self, pod_name: str, container: str | None = None, *,
             previous: bool = False) -> str:
        """``kubectl logs [--previous]``: what the container (or its dead one) printed."""
        from rosim.cluster.lifecycle import logs

        return logs(self, pod_name, container, previous=previous)

    def write_stdout(self, pod_name: str, text: str, container: str | None = None) -> None:
        """The app in a pod's container prints ``text`` to its stdout.

        It goes to the container's current log file on the node (counted in
        the pod's ephemeral storage, rotated by :meth:`tick`) and to the
        cluster's logging agent (:attr:`log_store`).
        """
        pod = self._running(pod_name)
        pod.container(container).write_stdout(text)
        self.log_store.setdefault(pod.name, []).extend(text.splitlines())

    def delete(self, pod_name: str, avoid: str | None = None) -> Pod | None:
        """``kubectl delete pod``: the pod and its emptyDirs go; its controller replaces it.

        Returns the replacement (a new name for a Deployment's pod, the same
        name for a StatefulSet's), or None for a bare Pod, which nothing
        recreates. ``avoid`` keeps the replacement off that node when another
        one can take it.
        """
        from rosim.cluster.disruptions import delete

        return delete(self, pod_name, avoid)

    def reschedule(self, pod_name: str) -> Pod | None:
        """Delete the pod; its controller's replacement goes to another node if one fits."""
        pod = self.pod(pod_name)
        return self.delete(pod.name, avoid=pod.node)

    def cordon(self, node_name: str) -> None:
        """Mark a node unschedulable (``kubectl cordon``)."""
        self.node(node_name).cordoned = True
        self._record("NodeNotSchedulable", "", node_name,
                     f"Node {node_name} status is now: NodeNotSchedulable")

    def uncordon(self, node_name: str) -> None:
        """Make a node schedulable again (``kubectl uncordon``)."""
        self.node(node_name).cordoned = False
        self._record("NodeSchedulable", "", node_name,
                     f"Node {node_name} status is now: NodeSchedulable")
        from rosim.cluster.workloads import reconcile_all

        reconcile_all(self)

    def drain(self, node_name: str, *, force: bool = False,
              delete_emptydir_data: bool = False, ignore_daemonsets: bool = False) -> list[Pod]:
        """``kubectl drain``: cordon the node and evict its pods, with kubectl's guards.

        Refuses (:class:`~rosim.LifecycleError` with kubectl's message, the
        node left cordoned) pods without a controller unless ``force``, pods
        with an ``emptyDir`` unless ``delete_emptydir_data`` and DaemonSet
        pods unless ``ignore_daemonsets``. Returns the replacement pods.
        """
        from rosim.cluster.disruptions import drain

        return drain(self, node_name, force=force, delete_emptydir_data=delete_emptydir_data,
                     ignore_daemonsets=ignore_daemonsets)

    def fail(self, node_name: str, *, wait: bool = True) -> list[Pod]:
        """The node stops: NotReady after 40 s, its pods evicted after their 300 s
        toleration (see :func:`rosim.cluster.disruptions.fail`). With ``wait`` the
        clock runs until the controllers have done what they will; returns the
        replacement pods."""
        from rosim.cluster.disruptions import fail

        return fail(self, node_name, wait=wait)

    def recover(self, node_name: str) -> None:
        """A failed node comes back with its disks: its kubelet removes the pods
        deleted meanwhile; local data (hostPath, local PVs) is there again."""
        from rosim.cluster.disruptions import recover

        recover(self, node_name)

    def delete_node(self, node_name: str) -> None:
        """``kubectl delete node``: its pods are removed from the API; controllers
        (a StatefulSet too) replace them. The machine's disks go with it."""
        from rosim.cluster.disruptions import delete_node

        delete_node(self, node_name)

    # ------------------------------------------------------------ storage
    def usage(self, pod_name: str) -> Any:
        """Where a pod's bytes are: a :class:`~rosim.cluster.kubelet.PodUsage`."""
        from rosim.cluster.kubelet import pod_usage

        return pod_usage(self, self.pod(pod_name).name)

    def disk(self, node_name: str) -> Any:
        """A node's disk (capacity, used, available, DiskPressure)."""
        from rosim.cluster.kubelet import node_disk

        return node_disk(self, node_name)

    def evict(self, pod_name: str, message: str) -> Pod:
        """The kubelet evicts a pod: ``Failed``/``Evicted``; its containers and
        emptyDirs go; its controller (if any) replaces it."""
        from rosim.cluster.disruptions import evict

        return evict(self, pod_name, message)

    def kubelet_sync(self) -> list[str]:
        """One pass of every kubelet's eviction manager; returns the evicted pods."""
        from rosim.cluster.eviction import sync

        return sync(self)

    def tick(self, seconds: float = 10.0) -> list[str]:
        """Advance the clock, rotate container logs, run the eviction managers,
        sample every node's disk."""
        check_number(seconds, "seconds", high=MAX_SECONDS, unit="s")
        from rosim.cluster.lifecycle import oom_check
        from rosim.cluster.logrotate import rotate_logs

        self.advance(seconds)
        for pod in list(self.pods.values()):
            if pod.containers:
                oom_check(self, pod)
        rotate_logs(self)
        evicted = self.kubelet_sync()
        for name in self.nodes:
            disk = self.disk(name)
            self.disk_samples.append((self.clock, name, disk.used, disk.available))
        return evicted

    def _running(self, pod_name: str) -> Pod:
        pod = self.pod(pod_name)
        if not pod.containers:
            raise LifecycleError(f"pod {pod.name!r} has no containers ({pod.status}).")
        node = self.nodes.get(pod.node or "")
        if node is None or not node.up:
            raise LifecycleError(f"pod {pod.name!r}: its node {pod.node} does not answer "
                                 "(the node is down).")
        return pod

    # ------------------------------------------------------------ using pods
    def exec(self, pod_name: str, command: str | list[str],
             container: str | None = None) -> ExecResult:
        """``kubectl exec``: a command line (through sh) or an argv in a pod's container."""
        from rosim.cluster.lifecycle import oom_check

        pod = self._running(pod_name)
        ctr = pod.container(container)
        result = ctr.sh(command) if isinstance(command, str) else ctr.exec(list(command))
        oom_check(self, pod)  # a Memory emptyDir's pages count against the memory limit
        return result

"""Scenario 4: a tenant escapes its volume quota through the copy-on-write layer.

Tenants share one node. Each tenant is a pod (:class:`QuotaTenant`) whose
application appends to one file at a steady rate. Tenant A has a
PersistentVolumeClaim with a small quota, but its application keeps its
cache in the image's directory ``/var/cache/app``: the bytes land in the
container's writable layer, on the node's disk, where the quota never looks
(domain.md §6). The node's disk fills; the other tenants' writes fail with
``ENOSPC``, and under ``DiskPressure`` the kubelet evicts pods in its order.

:func:`run_quota_scenario` runs tenants on a node in ticks of simulated time
(10 s by default). The tenants' image, ``tenant-app:1.0`` (512 MiB), is on
the node's disk with them; images that earlier pods left there and no
container uses any more (``unused_images``) are the first thing the kubelet
deletes under ``DiskPressure``. In each tick every tenant writes ``rate × tick`` bytes
in 1 MiB steps (declared by size, so gigabytes cost nothing), in the order
the tenants are given; every 10 s the kubelet's eviction manager runs once.
The :class:`QuotaRun` it returns says who lost what: each tenant's outcome
(``ok``, ``ENOSPC``, ``EROFS``, ``Evicted`` with the kubelet's message), the
bytes written and kept where, and samples, at each pass of the kubelet, of
the node's available space and of each tenant's usage by storage kind. Pods
are bare pods: an evicted pod is not recreated.

:func:`quota_case` runs the story for one choice of what tenant A writes,
where, and which protections are on (:class:`QuotaProtection`);
:func:`compare_quota_fixes` runs the story and each fix;
:func:`check_quota_exercise` checks a learner's tenant A.

>>> run = quota_case()
>>> [(t.tenant, t.outcome.value) for t in run.tenants]
[('tenant-a', 'Evicted'), ('tenant-b', 'Evicted'), ('tenant-c', 'ENOSPC')]
>>> run.evicted
('tenant-b', 'tenant-a')
>>> fixed = quota_case(where="pvc", protections=["readOnlyRootFilesystem"])
>>> [(t.tenant, t.outcome.value) for t in fixed.tenants]
[('tenant-a', 'ENOSPC'), ('tenant-b', 'ok'), ('tenant-c', 'ok')]
"""

from __future__ import annotations

import errno as errno_module
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import cache
from typing import Any

from rosim._bounds import RosimEnum, check_number
from rosim._errors import ConfigError
from rosim.cluster.cluster import Cluster
from rosim.cluster.eviction import EVICTION_INTERVAL
from rosim.cluster.images import image_size
from rosim.cluster.quantity import parse_quantity
from rosim.cluster.quota_results import (
    NODE_KINDS,
    OUTCOME_COLOURS,
    QuotaComparison,
    QuotaEvent,
    QuotaOutcome,
    QuotaRun,
    QuotaSample,
    TenantResult,
)
from rosim.fs.layers import Dir, File, Image
from rosim.fs.paths import container_path
from rosim.fs.sizes import format_size, parse_size
from rosim.images.catalog import program

__all__ = ["NODE_KINDS", "OUTCOME_COLOURS", "QuotaComparison", "QuotaEvent", "QuotaOutcome",
           "QuotaProtection", "QuotaRun", "QuotaSample", "QuotaTenant", "TenantResult",
           "check_quota_exercise", "compare_quota_fixes", "quota_case", "quota_tenants",
           "run_quota_scenario"]

MiB = 1024**2
GiB = 1024**3

#: The node's disk in the story.
NODE_DISK = "10Gi"
#: Seconds between two passes of the kubelet's eviction manager.
TICK_SECONDS = 10.0
#: Seconds of writes in the story.
DURATION_SECONDS = 120.0
#: Size of each write the applications make.
WRITE_STEP = 1 * MiB
#: Where tenant A's application keeps its cache: a directory of its image.
CACHE_DIR = "/var/cache/app"
#: Where each tenant's PersistentVolumeClaim is mounted by default.
CLAIM_PATH = "/data"
#: The ``ephemeral-storage`` limit and the ``overlay.size`` of the fixes.
FIX_LIMIT = "4Gi"
FIX_OVERLAY_SIZE = "4G"
#: The node's single name.
NODE = "node-1"
_IMAGE = "tenant-app:1.0"
#: The tenants' image on the node's disk: its layers' size.
IMAGE_SIZE = "512Mi"
#: How long before the story the pods that left ``unused_images`` ran.
UNUSED_IMAGES_AGE = 3600.0
#: Images left on the node by earlier batch jobs, in the story of unused images.
JOB_IMAGES = {"report-job:2.2": "1Gi", "report-job:2.3": "1Gi"}


class QuotaProtection(RosimEnum):
    """A protection against the bypass: on tenant A's pod, or on the node."""

    READ_ONLY_ROOT = "readOnlyRootFilesystem"
    EPHEMERAL_STORAGE_LIMIT = "ephemeral-storage limit"
    OVERLAY_SIZE = "overlay.size"


@cache
def _tenant_image() -> Image:
    """busybox and the application: ``IMAGE_SIZE`` of layers in all."""
    base = Image.builtin("busybox")
    app = parse_quantity(IMAGE_SIZE) - image_size(base)
    return base.with_layer(
        {f"{CACHE_DIR}/": None, f"{CLAIM_PATH}/": None, "/scratch/": None,
         "/var/tmp/": Dir(mode=0o1777), "/opt/app/app.bin": File(size=app)}, name=_IMAGE)


@cache
def _job_image(ref: str, size: int) -> Image:
    """An image of ``size`` bytes whose command ``true`` exits at once."""
    true, release = program("true"), f"{ref}\n"
    rest = size - len(true.content) - len(release)  # type: ignore[arg-type]
    return Image.from_dict(ref, {"/bin/true": true, "/etc/job-release": release,
                                 "/opt/job/job.bin": File(size=rest)})


def _under(path: str, directory: str | None) -> bool:
    if directory is None:
        return False
    return path == directory or path.startswith(directory.rstrip("/") + "/")


@dataclass(frozen=True)
class QuotaTenant:
    """A tenant: its pod's settings and what its application writes.

    ``path`` is the file the application appends to, ``rate`` its bytes per
    second and ``writes`` the bytes it means to write in all (``None``: as
    long as the run lasts). ``quota`` is the capacity of the tenant's
    PersistentVolumeClaim, mounted at ``claim_path`` (no claim when
    ``None``); ``empty_dir`` mounts an ``emptyDir`` there. ``read_only``,
    ``request``, ``limit`` and ``priority`` are the pod's
    ``readOnlyRootFilesystem``, ``resources.requests`` and
    ``resources.limits`` ``ephemeral-storage``, and the value of the
    PriorityClass its ``priorityClassName`` names.
    Sizes are Kubernetes quantities or bytes. Raises
    :class:`~rosim.ConfigError` naming a bad field.
    """

    name: str
    path: str
    rate: int | str
    writes: int | str | None = None
    priority: int = 0
    quota: int | str | None = None
    claim_path: str = CLAIM_PATH
    empty_dir: str | None = None
    read_only: bool = False
    request: str | None = None
    limit: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"name(={self.name!r}) must be a non-empty string.")
        set_ = object.__setattr__
        set_(self, "path", container_path(self.path, field="path"))
        set_(self, "claim_path", container_path(self.claim_path, field="claim_path"))
        if self.empty_dir is not None:
            set_(self, "empty_dir", container_path(self.empty_dir, field="empty_dir"))
        set_(self, "rate", parse_quantity(self.rate, field="rate"))
        if self.writes is not None:
            set_(self, "writes", parse_quantity(self.writes, field="writes"))
        if self.quota is not None:
            set_(self, "quota", parse_quantity(self.quota, field="quota"))
        for name in ("request", "limit"):
            value = getattr(self, name)
            if value is not None:
                parse_quantity(value, field=name)
                set_(self, name, str(value))
        if not isinstance(self.read_only, bool):
            raise ConfigError(f"read_only(={self.read_only!r}) must be a bool.")
        if not isinstance(self.priority, int) or isinstance(self.priority, bool):
            raise ConfigError(f"priority(={self.priority!r}) must be an integer.")

    @property
    def claim(self) -> str | None:
        """The PersistentVolumeClaim's name, or None without a quota."""
        return f"{self.name}-data" if self.quota is not None else None

    @property
    def kind(self) -> str:
        """Where ``path`` lands: ``writable layer``, ``persistentVolumeClaim`` or ``emptyDir``."""
        if self.quota is not None and _under(self.path, self.claim_path):
            return "persistentVolumeClaim"
        if _under(self.path, self.empty_dir):
            return "emptyDir"
        return "writable layer"

    def replace(self, **changes: Any) -> QuotaTenant:
        """A copy with some fields changed, e.g. ``tenant.replace(read_only=True)``."""
        known = {f.name for f in fields(self)}
        for key in changes:
            if key not in known:
                raise ConfigError(f"{key}(={changes[key]!r}) is not a field of QuotaTenant; "
                                  "fields: " + ", ".join(sorted(known)) + ".")
        return replace(self, **changes)

    def manifest(self) -> dict[str, Any]:
        """The tenant's Pod manifest, as ``kubectl apply`` would take it."""
        container: dict[str, Any] = {"name": "app", "image": _IMAGE}
        volumes: list[dict[str, Any]] = []
        mounts: list[dict[str, Any]] = []
        if self.quota is not None:
            volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": self.claim}})
            mounts.append({"name": "data", "mountPath": self.claim_path})
        if self.empty_dir is not None:
            volumes.append({"name": "scratch", "emptyDir": {}})
            mounts.append({"name": "scratch", "mountPath": self.empty_dir})
        if mounts:
            container["volumeMounts"] = mounts
        if self.read_only:
            container["securityContext"] = {"readOnlyRootFilesystem": True}
        resources = {key: {"ephemeral-storage": value} for key, value in
                     (("requests", self.request), ("limits", self.limit)) if value is not None}
        if resources:
            container["resources"] = resources
        spec: dict[str, Any] = {}
        if self.priority:
            spec["priorityClassName"] = self.priority_class
        if volumes:
            spec["volumes"] = volumes
        spec["containers"] = [container]
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": self.name},
                "spec": spec}

    @property
    def priority_class(self) -> str:
        """The PriorityClass its pod names (``priority-N``), or "" at priority 0."""
        return f"priority-{self.priority}" if self.priority else ""

    def documents(self) -> list[dict[str, Any]]:
        """What ``kubectl apply`` gets: the PriorityClass (if any), then the Pod."""
        docs = []
        if self.priority:
            docs.append({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                         "metadata": {"name": self.priority_class}, "value": self.priority})
        return [*docs, self.manifest()]

    def yaml(self) -> str:
        """The manifests in YAML: the PriorityClass (if any) and the Pod."""
        import yaml

        return yaml.safe_dump_all(self.documents(), sort_keys=False)


def quota_tenants(writes: int | str = "20Gi", where: str = "layer", *, read_only: bool = False,
                  limit: str | None = None) -> tuple[QuotaTenant, QuotaTenant, QuotaTenant]:
    """The three tenants of the story.

    * ``tenant-a``, priority 1000: a 1 GiB PVC at ``/data``; its application
      writes ``writes`` bytes at 200 MiB/s, into ``/var/cache/app`` (its
      image: ``where="layer"``) or into ``/data`` (``where="pvc"``).
      ``read_only`` and ``limit`` set its pod's ``readOnlyRootFilesystem``
      and ``ephemeral-storage`` limit.
    * ``tenant-b``, a batch job at priority 0, writes 5 MiB/s to its
      writable layer and requests nothing.
    * ``tenant-c``, priority 0, writes 5 MiB/s to an ``emptyDir`` and
      requests 1Gi of ``ephemeral-storage``.
    """
    target = {"layer": f"{CACHE_DIR}/cache.bin", "pvc": f"{CLAIM_PATH}/cache.bin"}
    if not isinstance(where, str) or where not in target:
        raise ConfigError(f"where(={where!r:.60}) must be 'layer' or 'pvc'.")
    a = QuotaTenant("tenant-a", target[where], rate="200Mi", writes=writes, priority=1000,
                    quota="1Gi", read_only=read_only, limit=limit)
    b = QuotaTenant("tenant-b", "/var/tmp/report.csv", rate="5Mi")
    c = QuotaTenant("tenant-c", "/scratch/index.db", rate="5Mi", empty_dir="/scratch",
                    request="1Gi")
    return a, b, c


# ----------------------------------------------------------------- results


# ----------------------------------------------------------------- running
class _App:
    """A tenant's application: appends to its file while its pod runs."""

    def __init__(self, tenant: QuotaTenant, duration: float) -> None:
        self.tenant = tenant
        budget = int(tenant.rate * duration)  # type: ignore[operator]
        self.remaining = budget if tenant.writes is None else min(budget, tenant.writes)
        self.writer: Any = None
        self.attempted = 0
        self.written = 0
        self.error = ""
        self.error_at: float | None = None
        self.evicted_at: float | None = None
        self.message = ""

    def write(self, cluster: Cluster, seconds: float, now: float) -> QuotaEvent | None:
        amount = min(int(self.tenant.rate * seconds), self.remaining)  # type: ignore[operator]
        if amount <= 0 or self.evicted_at is not None:
            return None
        self.remaining -= amount
        self.attempted += amount
        got = 0
        try:
            if self.writer is None:
                self.writer = cluster.pod(self.tenant.name).container().open_writer(
                    self.tenant.path)
            got = self.writer.write(amount, WRITE_STEP)
        except OSError as exc:
            failure = exc
        else:
            self.written += got
            if got == amount:
                return None
            failure = OSError(errno_module.ENOSPC, "No space left on device")
        name = errno_module.errorcode.get(failure.errno or 0, "error")
        if self.error:
            return None
        self.error, self.error_at = name, now
        return QuotaEvent(now, name, self.tenant.name,
                          f"{format_size(got)} of {format_size(amount)} written; "
                          f"[Errno {failure.errno}] {failure.strerror}: '{self.tenant.path}'")


def _usage(cluster: Cluster, name: str) -> dict[str, int]:
    kinds = cluster.usage(name).by_kind()
    return {k: kinds[k] for k in (*NODE_KINDS, "persistentVolumeClaim")}


def run_quota_scenario(tenants: Iterable[QuotaTenant], *, disk: int | str = NODE_DISK,
                       overlay_size: int | str | None = None,
                       duration: float = DURATION_SECONDS, tick: float = TICK_SECONDS,
                       label: str = "",
                       unused_images: Mapping[str, int | str] | None = None) -> QuotaRun:
    """Run ``tenants`` on one node with a ``disk`` and return who lost what.

    The tenants' image (``IMAGE_SIZE``) is on the node's disk from the
    start. ``unused_images`` (reference -> size) are images that pods which
    ran on the node an hour before (:data:`UNUSED_IMAGES_AGE`) left there:
    no container uses them, and the kubelet deletes them before it evicts
    anyone. ``overlay_size`` is the node's containers/storage ``overlay.size=``
    quota on each writable layer. Writes go on for ``duration`` seconds at a
    resolution of ``tick`` seconds; the kubelet's eviction manager runs every
    10 s (every tick when ticks are longer), after the writes, and each pass
    records a sample. The run is event-driven: the ticks between two passes
    in which no write can fail are written in one step, so a fine ``tick``
    costs little more than a coarse one. Raises :class:`~rosim.ConfigError`
    for bad values or two tenants of one name.
    """
    given = tenants
    tenants = (tenants,) if isinstance(tenants, QuotaTenant) else (
        tuple(tenants) if isinstance(tenants, Iterable) and not isinstance(tenants, str) else ())
    if not tenants or not all(isinstance(t, QuotaTenant) for t in tenants):
        raise ConfigError(f"tenants(={given!r:.60}) must be one or more QuotaTenant.")
    names = [t.name for t in tenants]
    if len(set(names)) != len(names):
        raise ConfigError(f"tenants(={names!r}) names a tenant twice.")
    check_number(tick, "tick", low=0.001, high=86400.0, unit="s")
    check_number(duration, "duration", high=366 * 86400.0, unit="s")
    if not (isinstance(duration, int | float) and duration >= tick):
        raise ConfigError(f"duration(={duration!r}) must be at least one tick ({tick!r} s).")
    jobs = _job_images(unused_images)
    cluster = Cluster(nodes=[NODE], disk=disk, images={_IMAGE: _tenant_image(), **jobs})
    runtime = cluster.node(NODE).runtime
    if jobs:
        _run_jobs(cluster, jobs)
    start = cluster.clock
    runtime.overlay_size = (parse_size(overlay_size, field="overlay_size")
                            if overlay_size is not None else None)
    for t in tenants:
        if t.claim is not None:
            cluster.add_persistent_volume(f"{t.claim}-pv", t.quota, claim=t.claim)
        cluster.apply(t.documents())
    apps = [_App(t, duration) for t in tenants]
    start_used = cluster.disk(NODE).used
    samples: list[QuotaSample] = []
    events: list[QuotaEvent] = []
    evicted: list[str] = []
    interval = max(float(tick), EVICTION_INTERVAL)
    ticks = math.ceil(duration / tick - 1e-9)
    done = 0
    next_pass = interval
    while done < ticks:
        # Event-driven: up to the next pass of the kubelet, the ticks in which
        # no write can fail are written in one go; near a full disk or a full
        # volume, tick by tick, in the tenants' order.
        span = min(max(1, math.ceil((next_pass - done * tick) / tick - 1e-9)), ticks - done)
        if span > 1 and not _quiet(apps, cluster, span * tick):
            span = 1
        done += span
        now = done * tick
        for app in apps:
            event = app.write(cluster, span * tick, now)
            if event is not None:
                events.append(event)
        if now < next_pass - 1e-9 and done < ticks:
            continue
        next_pass = (math.floor(now / interval + 1e-9) + 1) * interval
        disk_now = cluster.disk(NODE)
        usage = {app.tenant.name: (_usage(cluster, app.tenant.name) if app.evicted_at is None
                                   else dict.fromkeys((*NODE_KINDS, "persistentVolumeClaim"), 0))
                 for app in apps}
        seen = len(cluster.timeline)
        cluster.advance(start + now - cluster.clock)
        images = len(cluster.node(NODE).images)
        gone = cluster.kubelet_sync()
        disk_after = cluster.disk(NODE)
        for entry in cluster.timeline[seen:]:
            if entry.kind in _STORY_EVENTS:
                events.append(QuotaEvent(now, entry.kind, entry.pod, entry.message))
            if entry.kind == "EvictionThresholdMet" and disk_after.images < disk_now.images:
                deleted = images - len(cluster.node(NODE).images)
                events.append(QuotaEvent(now, "DeleteUnusedImages", "", (
                    f"{deleted} unused image{'s' * (deleted != 1)} deleted, "
                    f"{format_size(disk_now.images - disk_after.images)} back on the disk")))
        for name in gone:
            app = apps[names.index(name)]
            app.evicted_at, app.message = now, cluster.pod(name).message
            evicted.append(name)
        samples.append(QuotaSample(now, disk_now.capacity, disk_now.used,
                                   disk_after.available, usage, disk_now.images))
    results = []
    for app in apps:
        t = app.tenant
        claim_used = samples[-1].usage[t.name]["persistentVolumeClaim"]
        if t.kind == "persistentVolumeClaim":
            claim_used = app.written
        kept = app.written if (app.evicted_at is None or t.kind == "persistentVolumeClaim") else 0
        results.append(TenantResult(
            t.name, t.path, t.kind, app.attempted, app.written, kept,
            t.quota, claim_used,  # type: ignore[arg-type]
            parse_quantity(t.limit) if t.limit is not None else None,
            app.error, app.error_at, app.evicted_at, app.message))
    disk_info = cluster.disk(NODE)
    return QuotaRun(label or _default_label(tenants, overlay_size), disk_info.capacity,
                    disk_info.pressure_fraction, interval, runtime.overlay_size,
                    tuple(results), tuple(samples), tuple(events), tuple(evicted), start_used,
                    disk_info.pressure_signal)


#: The cluster events a run reports.
_STORY_EVENTS = ("Evicted", "NodeHasDiskPressure", "NodeHasNoDiskPressure",
                 "EvictionThresholdMet", "FreeDiskSpaceFailed", "ImageGCFailed")


def _job_images(unused_images: Mapping[str, int | str] | None) -> dict[str, Image]:
    if unused_images is None:
        return {}
    if not isinstance(unused_images, Mapping) or not all(
            isinstance(ref, str) and ref for ref in unused_images):
        raise ConfigError(f"unused_images(={unused_images!r:.60}) must map image references "
                          "to sizes.")
    jobs = {}
    for ref, size in unused_images.items():
        if ref == _IMAGE:
            raise ConfigError(f"unused_images key(={ref!r}) is the tenants' image.")
        value = parse_quantity(size, field=f"unused_images[{ref!r}]")
        if value < 1024:
            raise ConfigError(f"unused_images[{ref!r}](={size!r}) must be at least 1Ki.")
        jobs[ref] = _job_image(ref, value)
    return jobs


def _run_jobs(cluster: Cluster, jobs: Mapping[str, Image]) -> None:
    """Pods that ran each image to completion and were deleted, an hour ago."""
    names = []
    for i, ref in enumerate(jobs, start=1):
        name = f"job-{i}"
        cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                       "spec": {"restartPolicy": "Never", "containers": [
                           {"name": "job", "image": ref, "command": ["true"]}]}})
        names.append(name)
    cluster.kubelet_sync()  # the image manager sees them in use
    for name in names:
        cluster.delete(name)
    cluster.advance(UNUSED_IMAGES_AGE)


def _quiet(apps: Sequence[_App], cluster: Cluster, seconds: float) -> bool:
    """Whether ``seconds`` of writes can go in one step: none of them can fail.

    Every writer's own device (its layer under ``overlay.size``, its volume)
    and the node's disk they share must hold all that is written to them.
    """
    from rosim.fs.kernel import kernel

    devices = kernel().devices
    shared: dict[int, int] = {}
    for app in apps:
        demand = min(int(app.tenant.rate * seconds), app.remaining)  # type: ignore[operator]
        if demand <= 0 or app.evicted_at is not None:
            continue
        if app.writer is None:
            if app.error:
                continue  # its open fails every time (EROFS): nothing is written
            return False
        device = devices.get(app.writer._node.st_dev)
        if device is None:
            continue
        if demand > device.free:
            return False
        for outer in device.chain()[1:]:
            shared[outer.dev] = shared.get(outer.dev, 0) + demand
            if shared[outer.dev] > outer.free:
                return False
    return True


def _default_label(tenants: Sequence[QuotaTenant], overlay_size: int | str | None) -> str:
    parts = [f"{t.name}: readOnlyRootFilesystem" for t in tenants if t.read_only]
    parts += [f"{t.name}: ephemeral-storage limit {t.limit}" for t in tenants if t.limit]
    parts += [f"overlay.size={overlay_size}"] if overlay_size is not None else []
    return "; ".join(parts) or "no protection"


# ----------------------------------------------------------------- the story
def _protections(protections: Iterable[str | QuotaProtection]) -> frozenset[QuotaProtection]:
    if isinstance(protections, str):
        protections = [protections]
    if not isinstance(protections, Iterable):
        raise ConfigError(f"protections(={protections!r:.60}) must be a list of "
                          "QuotaProtection values.")
    chosen = set()
    for p in protections:
        try:
            chosen.add(QuotaProtection(p))
        except ValueError:
            raise ConfigError(f"protections item(={p!r}) must be one of "
                              + ", ".join(repr(q.value) for q in QuotaProtection) + ".") from None
    return frozenset(chosen)


def quota_case(writes: int | str = "20Gi", where: str = "layer",
               protections: Iterable[str | QuotaProtection] = (), *, limit: str = FIX_LIMIT,
               overlay_size: int | str = FIX_OVERLAY_SIZE,
               unused_images: Mapping[str, int | str] | None = None) -> QuotaRun:
    """Run the story: tenant A writes ``writes`` bytes to its ``layer`` or ``pvc``.

    ``protections`` are :class:`QuotaProtection` values:
    ``readOnlyRootFilesystem`` and an ``ephemeral-storage`` limit of
    ``limit`` go on tenant A's pod; ``overlay.size`` (``overlay_size``) on
    the node. The tenants are those of :func:`quota_tenants`;
    ``unused_images`` (reference -> size) are left on the node by earlier
    pods (see :func:`run_quota_scenario`).
    """
    if unused_images is not None and not isinstance(unused_images, Mapping):
        raise ConfigError(f"unused_images(={unused_images!r:.60}) must be a dict of "
                          "image reference to size.")
    chosen = _protections(protections)
    tenants = quota_tenants(writes, where, read_only=QuotaProtection.READ_ONLY_ROOT in chosen,
                            limit=limit if QuotaProtection.EPHEMERAL_STORAGE_LIMIT in chosen
                            else None)
    parts = [label for p, label in (
        (QuotaProtection.READ_ONLY_ROOT, "readOnlyRootFilesystem"),
        (QuotaProtection.EPHEMERAL_STORAGE_LIMIT, f"ephemeral-storage limit {limit}"),
        (QuotaProtection.OVERLAY_SIZE, f"overlay.size={overlay_size}")) if p in chosen]
    label = ", ".join(parts) or "no protection"
    if where == "pvc":
        label += ", cache on the PVC"
    if unused_images:
        label += f", {len(unused_images)} unused image{'s' * (len(unused_images) != 1)}"
    return run_quota_scenario(
        tenants, label=label, unused_images=unused_images,
        overlay_size=overlay_size if QuotaProtection.OVERLAY_SIZE in chosen else None)


#: The story and its fixes: (where A writes, protections).
FIXES: tuple[tuple[str, tuple[QuotaProtection, ...]], ...] = (
    ("layer", ()),
    ("layer", (QuotaProtection.READ_ONLY_ROOT,)),
    ("pvc", (QuotaProtection.READ_ONLY_ROOT,)),
    ("layer", (QuotaProtection.EPHEMERAL_STORAGE_LIMIT,)),
    ("layer", (QuotaProtection.OVERLAY_SIZE,)),
)


def compare_quota_fixes(writes: int | str = "20Gi") -> QuotaComparison:
    """Run the story without protection, then with each fix (see :data:`FIXES`)."""
    return QuotaComparison(tuple(quota_case(writes, where, protections)
                                 for where, protections in FIXES))


# ----------------------------------------------------------------- exercise
_APP_FIELDS = ("name", "path", "rate", "writes", "priority", "quota")


def check_quota_exercise(tenant_a: QuotaTenant) -> str:
    """Check a learner's tenant A: PASS when the other tenants are never harmed.

    Only the pod's settings may change (``read_only``, ``limit``,
    ``request``, ``claim_path``, ``empty_dir``); the application, its
    priority and its quota stay those of :func:`quota_tenants`. Returns a
    ``PASS: ...`` or ``FAIL: ...`` line followed by a hint.
    """
    if not isinstance(tenant_a, QuotaTenant):
        return (f"FAIL: tenant_a(={tenant_a!r}) is not a QuotaTenant.\n"
                "Hint: start from rosim.quota_tenants()[0] and use its replace().")
    given, others = quota_tenants()[0], quota_tenants()[1:]
    changed = [f for f in _APP_FIELDS if getattr(tenant_a, f) != getattr(given, f)]
    if changed:
        return (f"FAIL: {', '.join(changed)} changed: that changes the application, not its pod.\n"
                "Hint: keep what the application does; change read_only, limit, request, "
                "claim_path or empty_dir.")
    run = run_quota_scenario((tenant_a, *others), label="exercise")
    a = run.tenant(tenant_a.name)
    harmed = [run.tenant(t.name) for t in others if run.tenant(t.name).harmed]
    if not harmed:
        lines = [f"PASS: {' and '.join(t.name for t in others)} were never harmed.", a.summary()]
        if a.outcome is QuotaOutcome.EROFS:
            lines.append(f"Note: {tenant_a.name}'s application cannot write at all; mount a "
                         "volume where it writes.")
        elif a.outcome is QuotaOutcome.EVICTED:
            lines.append(f"Note: {tenant_a.name} was evicted and lost what it wrote; the "
                         "node was protected, the application was not.")
        if not tenant_a.read_only:
            lines.append("Note: its root is still writable: a write anywhere else in the "
                         "image escapes the quota again; readOnlyRootFilesystem makes it fail "
                         "at once.")
        return "\n".join(lines)
    lines = [f"FAIL: {t.summary()}" for t in harmed]
    peak = run.peak
    if tenant_a.limit is not None and a.outcome is QuotaOutcome.EVICTED:
        when = min(x for t in harmed for x in (t.error_at, t.evicted_at) if x is not None)
        seen = [s for s in run.samples if s.time <= when] or [peak]
        hint = (f"Hint: the kubelet checks the limit only every {run.tick:g} s; at {when:g} s, "
                f"when {harmed[0].tenant} was harmed, {tenant_a.name} held "
                f"{format_size(seen[-1].node_usage(tenant_a.name))}, not yet over it. Choose "
                "a limit the node can afford: DiskPressure comes at "
                f"{run.signal}<{run.threshold:.0%} ({format_size(run.threshold_bytes)} free "
                f"of {format_size(run.capacity)}).")
    else:
        hint = (f"Hint: {tenant_a.name} put {format_size(peak.node_usage(tenant_a.name))} on the "
                f"node's disk through its {a.kind}, where its quota never looks. Make its root "
                "read-only and give the application a place to write that the quota counts.")
    return "\n".join([*lines, hint])

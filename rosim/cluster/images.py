"""Images on a node's disk and the kubelet's image garbage collection (domain.md §6).

A container's image is pulled to its node before the container is created
(``imagePullPolicy: IfNotPresent``): its layers go on the node's disk once,
however many pods use it, and a layer two images share is stored once. The
images stay there, used or not, until one of two collectors removes them:

* the **image manager** (:func:`garbage_collect`), every 5 minutes
  (:data:`IMAGE_GC_PERIOD`): when the disk is ``imageGCHighThresholdPercent``
  (85 %) full or more, it deletes unused images, least recently used first,
  until it has freed what brings the disk down to
  ``imageGCLowThresholdPercent`` (80 %). When it cannot, it records
  ``FreeDiskSpaceFailed`` (``Failed to garbage collect required amount of
  images. Attempted to free N bytes, but only found M bytes eligible to
  free.``), and ``ImageGCFailed`` with the same text when the pass before
  failed too;
* the **eviction manager** (:mod:`rosim.cluster.eviction`), under
  ``DiskPressure``, first removes the dead containers, then *every* unused
  image (:func:`delete_unused_images`), and evicts a pod only if that was not
  enough.

On a node whose images share its disk, the image manager's 85 % is also
where ``imagefs.available<15%`` sets ``DiskPressure``: the eviction manager,
every 10 s, usually reclaims the images before the image manager's next pass.

An image is in use while a container of the node, running or dead, was
created from it: it is never deleted. Neither collector deletes an image
the kubelet first saw less than ``imageMinimumGCAge`` (2 minutes) ago. The
kubelet counts what it frees by image size (the sum of its layers); the disk
gets back the layers no other image on the node still holds. The thresholds
are the cluster's :class:`ImageGCPolicy` (``Cluster.image_gc``).

>>> from rosim.cluster.cluster import Cluster
>>> c = Cluster(nodes=1, disk="1Gi")
>>> _ = c.apply({"metadata": {"name": "web"}, "spec": {"containers": [
...     {"name": "app", "image": "busybox", "command": ["sleep", "1000"]}]}})
>>> [(i.ref, i.in_use) for i in node_images(c, "node-1")]
[('busybox', True)]
>>> c.disk("node-1").images == node_images(c, "node-1")[0].size
True
>>> ImageGCPolicy(high_threshold_percent=70, low_threshold_percent=75)
Traceback (most recent call last):
...
rosim._errors.ConfigError: low_threshold_percent(=75) must be below high_threshold_percent(=70).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from rosim._bounds import check_number, check_type
from rosim._errors import ConfigError
from rosim.cluster.quantity import format_quantity
from rosim.fs.layers import EntryKind, Image

if TYPE_CHECKING:
    from rosim.cluster.cluster import Cluster
    from rosim.cluster.objects import Node

__all__ = ["IMAGE_GC_PERIOD", "ImageGCPolicy", "NodeImage", "NodeImages", "collect_if_due",
           "delete_unused_images", "garbage_collect", "image_size", "node_images", "pull"]

#: ``ImageGCPeriod``: seconds between two passes of the image manager.
IMAGE_GC_PERIOD = 300.0


@dataclass(frozen=True)
class ImageGCPolicy:
    """The kubelet's image garbage collection settings.

    ``high_threshold_percent`` (``imageGCHighThresholdPercent``, 85) is the
    disk use at which the image manager starts deleting unused images;
    ``low_threshold_percent`` (``imageGCLowThresholdPercent``, 80) the use it
    frees down to; ``minimum_gc_age`` (``imageMinimumGCAge``, 120 s) how long
    after the kubelet first saw an image it may delete it. A high threshold of
    100 turns the image manager off (the eviction manager still reclaims
    images under ``DiskPressure``). Raises :class:`~rosim.ConfigError` as
    the kubelet's configuration check does: each percentage from 0 to 100,
    the low one below the high one.
    """

    high_threshold_percent: int = 85
    low_threshold_percent: int = 80
    minimum_gc_age: float = 120.0

    def __post_init__(self) -> None:
        for name, key in (("high_threshold_percent", "imageGCHighThresholdPercent"),
                          ("low_threshold_percent", "imageGCLowThresholdPercent")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
                raise ConfigError(f"{name}(={value!r:.60}) must be an integer from 0 to 100 "
                                  f"({key}).")
        if self.low_threshold_percent >= self.high_threshold_percent:
            raise ConfigError(
                f"low_threshold_percent(={self.low_threshold_percent}) must be below "
                f"high_threshold_percent(={self.high_threshold_percent}).")
        check_number(self.minimum_gc_age, "minimum_gc_age", high=365 * 86400.0, unit="s")

    @property
    def enabled(self) -> bool:
        """False when ``high_threshold_percent`` is 100: the image manager never runs."""
        return self.high_threshold_percent < 100


def image_size(image: Image) -> int:
    """An image's size as the runtime reports it: the bytes of all its layers' files."""
    check_type(image, "image", Image, "a rosim.Image")
    return sum(_layer_size(layer) for layer in image.layers)


def _layer_size(layer: object) -> int:
    return sum(e.size for e in layer.entries.values()  # type: ignore[attr-defined]
               if e.kind is EntryKind.FILE)


@dataclass
class NodeImage:
    """An image on a node's disk, as the kubelet's image manager records it.

    ``size`` is its layers' bytes; ``pulled`` the cluster time it came;
    ``first_detected`` and ``last_used`` when the image manager first saw it
    and last saw a container use it (None: not yet).
    """

    ref: str
    size: int
    layers: tuple[str, ...]
    pulled: float
    first_detected: float | None = None
    last_used: float | None = None
    in_use: bool = False

    def __str__(self) -> str:
        def when(t: float | None) -> str:
            return "-" if t is None else f"{t:g}s"
        return (f"{self.ref:<22} {format_quantity(self.size):>8} "
                f"{'yes' if self.in_use else 'no':<6} {when(self.last_used)}")


@dataclass
class NodeImages:
    """The images of one node: their records and the layers they hold on its disk."""

    images: dict[str, NodeImage] = field(default_factory=dict)
    #: Layer digest -> [bytes, images holding it].
    layers: dict[str, list[int]] = field(default_factory=dict)
    #: Cluster time of the image manager's next pass.
    next_gc: float = 0.0
    #: Whether the image manager's last pass failed to free enough.
    gc_failed: bool = False

    @property
    def bytes(self) -> int:
        """Bytes the images take on the node's disk (shared layers once)."""
        return sum(size for size, _ in self.layers.values())

    def __len__(self) -> int:
        return len(self.images)

    def __contains__(self, ref: object) -> bool:
        return ref in self.images


def _kernel():  # type: ignore[no-untyped-def]
    from rosim.fs.kernel import kernel

    return kernel()


def pull(cluster: Cluster, node: Node, ref: str) -> NodeImage:
    """Pull image ``ref`` to ``node`` if it is not there: its new layers go on the disk.

    A layer that does not fit on a full disk is not counted (rosim does not
    model ``ErrImagePull``).
    """
    store: NodeImages = node.images
    record = store.images.get(ref)
    if record is not None:
        return record
    image = cluster.image(ref)
    digests = []
    for layer in image.layers:
        digests.append(layer.digest)
        held = store.layers.get(layer.digest)
        if held is not None:
            held[1] += 1
            continue
        size = _layer_size(layer)
        try:
            _kernel().change_disk_usage(size, "image", node.runtime.disk.dev)
        except OSError:
            size = 0
        store.layers[layer.digest] = [size, 1]
    record = store.images[ref] = NodeImage(ref, image_size(image), tuple(digests),
                                           cluster.clock)
    return record


def _remove(node: Node, ref: str) -> int:
    """Delete image ``ref`` from the node: its layers no other image holds go."""
    store: NodeImages = node.images
    record = store.images.pop(ref)
    for digest in record.layers:
        held = store.layers[digest]
        held[1] -= 1
        if held[1] == 0:
            del store.layers[digest]
            if held[0]:
                _kernel().change_disk_usage(-held[0], "image", node.runtime.disk.dev)
    return record.size


def _policy(cluster: Cluster) -> ImageGCPolicy:
    policy = cluster.image_gc
    if not isinstance(policy, ImageGCPolicy):
        raise ConfigError(f"image_gc(={policy!r:.60}) must be an ImageGCPolicy.")
    return policy


def _mark_in_use(cluster: Cluster, node: Node) -> None:
    """Which images a container of the node (running or dead) was created from."""
    used: set[str] = set()
    for name in node.pods:
        pod = cluster.pods.get(name)
        if pod is not None:
            used.update(s.image for s in pod.spec.containers
                        if s.name in pod.containers or s.name in pod.dead)
    for ref, record in node.images.images.items():
        record.in_use = ref in used


def _detect(cluster: Cluster, node: Node) -> None:
    """The image manager's ``detectImages``: note which images containers use, now."""
    _mark_in_use(cluster, node)
    now = cluster.clock
    for record in node.images.images.values():
        if record.first_detected is None:
            record.first_detected = now
        if record.in_use:
            record.last_used = now


def _free_space(cluster: Cluster, node: Node, to_free: float) -> int:
    """Delete unused images, least recently used first, until ``to_free`` bytes
    are counted; images younger than ``minimum_gc_age`` stay. Bytes counted."""
    _detect(cluster, node)
    now = cluster.clock
    policy = _policy(cluster)
    order = sorted((r for r in node.images.images.values() if not r.in_use),
                   key=lambda r: (-math.inf if r.last_used is None else r.last_used,
                                  r.first_detected, r.ref))
    freed = 0
    for record in order:
        if now - (record.first_detected or 0.0) < policy.minimum_gc_age:
            continue
        freed += _remove(node, record.ref)
        if freed >= to_free:
            break
    return freed


def delete_unused_images(cluster: Cluster, node: Node) -> int:
    """The eviction manager's ``DeleteUnusedImages``: every unused image old enough
    goes. Returns the bytes the kubelet counts as freed."""
    return _free_space(cluster, node, math.inf)


def garbage_collect(cluster: Cluster, node: Node) -> int:
    """One pass of the image manager on ``node``; returns the bytes it freed.

    At ``high_threshold_percent`` disk use or more it frees what brings the
    disk to ``low_threshold_percent``; short of that, the events of the
    module docstring.
    """
    store: NodeImages = node.images
    policy = _policy(cluster)
    if not policy.enabled:
        return 0
    capacity, used = node.runtime.disk.limit()
    available = min(max(capacity - used, 0), capacity)
    _detect(cluster, node)
    freed = 0
    if capacity and 100 - available * 100 // capacity >= policy.high_threshold_percent:
        to_free = capacity * (100 - policy.low_threshold_percent) // 100 - available
        freed = _free_space(cluster, node, to_free)
        if freed < to_free:
            message = ("Failed to garbage collect required amount of images. Attempted to "
                       f"free {to_free} bytes, but only found {freed} bytes eligible to free.")
            cluster._record("FreeDiskSpaceFailed", "", node.name, message)
            if store.gc_failed:
                cluster._record("ImageGCFailed", "", node.name, message)
            store.gc_failed = True
            return freed
    store.gc_failed = False
    return freed


def collect_if_due(cluster: Cluster, node: Node) -> int:
    """Run the image manager on ``node`` when its 5-minute period has come."""
    store: NodeImages = node.images
    if cluster.clock + 1e-9 < store.next_gc:
        return 0
    store.next_gc = (math.floor(cluster.clock / IMAGE_GC_PERIOD + 1e-9) + 1) * IMAGE_GC_PERIOD
    return garbage_collect(cluster, node)


def node_images(cluster: Cluster, node_name: str) -> tuple[NodeImage, ...]:
    """The images on a node (``crictl images``), each marked in use or not, by name:
    copies of the image manager's records."""
    from rosim.cluster.cluster import Cluster

    check_type(cluster, "cluster", Cluster, "a rosim.Cluster")
    node = cluster.node(node_name)
    _mark_in_use(cluster, node)
    return tuple(replace(node.images.images[ref]) for ref in sorted(node.images.images))

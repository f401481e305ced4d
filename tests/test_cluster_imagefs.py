"""The image file system on the node's disk (domain.md §6, corrected by the kubelet's
source): ``imagefs.available<15%`` next to ``nodefs.available<10%``, and
``evictionPressureTransitionPeriod``.

On a node without a dedicated image file system the runtime's ``ImageFsInfo``
reports the node's own disk, so the eviction manager's ``imagefs.available``
observation has the figures of ``nodefs.available`` (pkg/kubelet/eviction/helpers.go
``makeSignalObservations``); with the default ``evictionHard`` (defaults_linux.go:
``memory.available<100Mi``, ``nodefs.available<10%``, ``nodefs.inodesFree<5%``,
``imagefs.available<15%``) the 15 % is met first, at about 85 % disk use (k3s issue
#6290: "Disk usage exceeds 85%, the image will be deleted and the node will be
tainted"). On a shared disk both signals reclaim the same way
(``buildSignalToNodeReclaimFuncs``: dead containers, then unused images) and rank
pods the same way (``buildSignalToRankFunc``: images, root, logs, volumes).
"""

from __future__ import annotations

import math

import pytest

import rosim
from rosim.images.catalog import program

MiB = 1024**2


def sized(ref, size):
    """An image of one layer, ``size`` bytes in all."""
    files = {"/bin/sleep": program("sleep"), "/etc/image": f"{ref}\n", "/var/": None}
    head = rosim.image_size(rosim.Image.from_dict(ref, files))
    return rosim.Image.from_dict(ref, {**files, "/opt/app.bin": rosim.File(size=size - head)})


def pod(name, image="writer:1", request=None):
    """A bare one-container pod that sleeps."""
    container = {"name": "app", "image": image, "command": ["sleep", "infinity"]}
    if request is not None:
        container["resources"] = {"requests": {"ephemeral-storage": request}}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [container]}}


def node(*, unused=None):
    """A 100 MiB node running ``writer`` (1 MiB image); with ``unused``, an image of that
    many bytes an earlier pod left an hour ago."""
    images = {"writer:1": sized("writer:1", MiB)}
    if unused:
        images["old:1"] = sized("old:1", unused)
    cluster = rosim.Cluster(nodes=1, disk="100Mi", images=images)
    cluster.apply(pod("writer"))
    if unused:
        cluster.apply(pod("gone", "old:1"))
        cluster.tick(10)
        cluster.delete("gone")
        cluster.tick(3600)
    return cluster


def fill(cluster, used):
    """Write into the writer's layer until the disk holds ``used`` bytes."""
    disk = cluster.disk("node-1")
    cluster.pod("writer").container().write_bytes(f"/var/f-{disk.used}", used - disk.used)


def kinds(cluster, *wanted):
    """(time, reason) of the node's events of these reasons."""
    return [(e.time, e.kind) for e in cluster.timeline if e.kind in wanted]


def test_defaults_are_the_kubelets_evictionhard():
    """nodefs.available<10%, imagefs.available<15%, nodefs.inodesFree<5%, and a 5-minute
    evictionPressureTransitionPeriod."""
    cluster = rosim.Cluster(nodes=1, disk="100Mi")
    disk = cluster.disk("node-1")
    assert (disk.threshold, disk.imagefs_threshold, disk.inodes_threshold) == (0.10, 0.15, 0.05)
    assert cluster.pressure_transition_period == 300
    assert (disk.pressure_signal, disk.pressure_bytes) == ("imagefs.available", 15 * MiB)


def test_disk_pressure_comes_at_85_percent_on_a_shared_disk():
    """86 MiB used of 100 MiB: imagefs.available (14 MiB) is under 15 MiB though
    nodefs.available is above 10 MiB: DiskPressure, and the writer (no request) is evicted
    with the imagefs threshold quoted."""
    cluster = node()
    fill(cluster, 86 * MiB)
    disk = cluster.disk("node-1")
    assert (disk.imagefs_pressure, disk.nodefs_pressure, disk.signal) == (
        True, False, "imagefs.available")
    assert cluster.tick() == ["writer"]
    assert kinds(cluster, "NodeHasDiskPressure", "EvictionThresholdMet", "Evicted") == [
        (10, "NodeHasDiskPressure"), (10, "EvictionThresholdMet"), (10, "Evicted")]
    assert [e.message for e in cluster.timeline if e.kind == "EvictionThresholdMet"] == [
        "Attempting to reclaim ephemeral-storage"]
    assert cluster.pod("writer").message == (
        "The node was low on resource: ephemeral-storage. Threshold quantity: 15Mi, "
        "available: 14Mi. Container app was using 85Mi, request is 0, has larger "
        "consumption of ephemeral-storage. ")


def test_exactly_15_percent_available_is_not_pressure():
    """The threshold is met only when available is less than it (``<``)."""
    cluster = node()
    fill(cluster, 85 * MiB)
    disk = cluster.disk("node-1")
    assert disk.available == 15 * MiB and not disk.pressure and disk.signal is None
    assert cluster.tick() == [] and not cluster.node("node-1").disk_pressure


def test_at_88_percent_the_unused_images_go_at_once():
    """The k3s report: past 85 % the images are deleted and the node is tainted: the
    eviction manager's reclaim, in the pass that sees the pressure, not the image
    manager's 5-minute pass."""
    cluster = node(unused=20 * MiB)
    fill(cluster, 88 * MiB)
    assert cluster.tick() == []
    assert [i.ref for i in rosim.node_images(cluster, "node-1")] == ["writer:1"]
    assert cluster.disk("node-1").available == 32 * MiB
    assert cluster.node("node-1").disk_pressure


def test_a_dedicated_threshold_moves_the_pressure():
    """imagefs.available<10%: at 88 % nothing happens; nodefs.available<20%: that signal
    is met first and its threshold is quoted."""
    cluster = node()
    cluster.imagefs_threshold = 0.10
    fill(cluster, 88 * MiB)
    assert cluster.tick() == []
    cluster.nodefs_threshold = 0.20
    assert cluster.disk("node-1").signal == "nodefs.available"
    assert cluster.tick() == ["writer"]
    assert "Threshold quantity: 20Mi, available: 12Mi." in cluster.pod("writer").message


def test_a_threshold_of_0_is_off():
    """imagefs.available<0%: DiskPressure comes back to nodefs.available<10%, at 90 %."""
    cluster = node()
    cluster.imagefs_threshold = 0
    fill(cluster, 89 * MiB)
    assert cluster.tick() == []
    fill(cluster, 91 * MiB)
    assert cluster.tick() == ["writer"]
    assert "Threshold quantity: 10Mi, available: 9Mi." in cluster.pod("writer").message


@pytest.mark.parametrize("field", ["nodefs_threshold", "imagefs_threshold",
                                   "inodes_threshold"])
@pytest.mark.parametrize("value", [1.5, -0.1, "15%", True, math.nan, None])
def test_bad_thresholds_name_the_field_and_value(field, value):
    """A threshold is a fraction from 0 to 1; anything else is refused, by name."""
    cluster = rosim.Cluster(nodes=1, disk="100Mi")
    setattr(cluster, field, value)
    with pytest.raises(rosim.ConfigError, match=rf"^{field}\(={value!r:.10}"):
        cluster.tick()
    with pytest.raises(rosim.ConfigError, match="must be a fraction from 0 to 1"):
        cluster.disk("node-1")


@pytest.mark.parametrize("value", [-1, "5m", math.inf])
def test_a_bad_transition_period_is_refused(value):
    """pressure_transition_period is a number of seconds."""
    cluster = rosim.Cluster(nodes=1, disk="100Mi")
    cluster.pressure_transition_period = value
    with pytest.raises(rosim.ConfigError, match=r"^pressure_transition_period\(="):
        cluster.tick()


def test_the_condition_stays_five_minutes_and_keeps_new_pods_off():
    """After the reclaim the disk is fine, but DiskPressure stays until 5 minutes after the
    last pass that saw the threshold met; meanwhile the disk-pressure taint keeps a new pod
    Pending; then NodeHasNoDiskPressure and the pod is scheduled."""
    cluster = node(unused=20 * MiB)
    start = cluster.clock
    fill(cluster, 88 * MiB)
    assert cluster.tick() == []
    assert not cluster.disk("node-1").pressure and cluster.node("node-1").disk_pressure
    cluster.apply(pod("late"))
    assert cluster.pod("late").status == "Pending" and cluster.pod("late").node is None
    assert "1 node(s) had untolerated taint {node.kubernetes.io/disk-pressure: }" in [
        e.message for e in cluster.timeline if e.pod == "late"][-1]
    for _ in range(29):
        cluster.tick()
    assert cluster.clock == start + 300 and cluster.node("node-1").disk_pressure
    assert cluster.pod("late").node is None
    cluster.tick()
    assert kinds(cluster, "NodeHasNoDiskPressure") == [(start + 310, "NodeHasNoDiskPressure")]
    assert cluster.pod("late").node == "node-1"


def test_a_shorter_transition_period():
    """evictionPressureTransitionPeriod 0: the condition follows each pass's observation."""
    cluster = node(unused=20 * MiB)
    cluster.pressure_transition_period = 0
    fill(cluster, 88 * MiB)
    cluster.tick()
    assert cluster.node("node-1").disk_pressure, "this pass saw the threshold met"
    cluster.tick()
    assert not cluster.node("node-1").disk_pressure

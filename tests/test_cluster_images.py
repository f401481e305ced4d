"""Images on a node's disk, the kubelet's image garbage collection and its reclaim
under DiskPressure (domain.md §6; the kubelet's image_gc_manager.go and
eviction_manager.go)."""

from __future__ import annotations

import pytest

import rosim
from rosim.images.catalog import program

MiB = 1024**2


def sized(ref, size):
    """An image of one layer, ``size`` bytes in all, shared with no other image:
    ``sleep`` and ``true``, a file naming it, and its application."""
    files = {"/bin/sleep": program("sleep"), "/bin/true": program("true"),
             "/etc/image": f"{ref}\n", "/var/": None}
    head = rosim.image_size(rosim.Image.from_dict(ref, files))
    return rosim.Image.from_dict(ref, {**files, "/opt/app.bin": rosim.File(size=size - head)})


def pod(name, image, *, restart="Always", command=("sleep", "infinity")):
    """A bare one-container pod."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": restart, "containers": [
                {"name": "app", "image": image, "command": list(command)}]}}


def refs(cluster):
    """The images on node-1, by reference."""
    return [i.ref for i in rosim.node_images(cluster, "node-1")]


def fill(cluster, name, used):
    """Write into pod ``name``'s layer until node-1's disk holds ``used`` bytes."""
    disk = cluster.disk("node-1")
    assert cluster.pod(name).container().write_bytes(
        f"/var/fill-{disk.used}", used - disk.used) == used - disk.used


def events(cluster, *kinds):
    """(time, reason, message) of the timeline's events of these reasons."""
    return [(e.time, e.kind, e.message) for e in cluster.timeline if e.kind in kinds]


# ----------------------------------------------------------------- pulls
def test_an_image_is_stored_once_per_node_and_shared_layers_once():
    """Two pods of one image: its layers once; a second image on the same base
    adds only its own layer, while the kubelet counts each image whole."""
    app = sized("app:1", 8 * MiB)
    app2 = app.with_layer({"/opt/v2.bin": rosim.File(size=2 * MiB)}, name="app:2")
    cluster = rosim.Cluster(nodes=1, disk="1Gi", images={"app:1": app, "app:2": app2})
    cluster.apply(pod("a", "app:1"))
    cluster.apply(pod("b", "app:1"))
    assert cluster.disk("node-1").images == cluster.disk("node-1").used == 8 * MiB
    cluster.apply(pod("c", "app:2"))
    assert [(i.ref, i.size, i.in_use) for i in rosim.node_images(cluster, "node-1")] == [
        ("app:1", 8 * MiB, True), ("app:2", 10 * MiB, True)]
    assert cluster.disk("node-1").images == 10 * MiB


def test_images_stay_after_their_pods_are_gone_until_collected():
    """Deleting the pod leaves its image on the node, unused."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi", images={"app:1": sized("app:1", 8 * MiB)})
    cluster.apply(pod("a", "app:1"))
    cluster.delete("a")
    assert [(i.ref, i.in_use) for i in rosim.node_images(cluster, "node-1")] == [
        ("app:1", False)]
    assert cluster.disk("node-1").used == 8 * MiB
    assert [cluster.tick(10) for _ in range(40)] == [[]] * 40, "below 85 %: kept"
    assert refs(cluster) == ["app:1"]


# ----------------------------------------------------------------- the image manager
def gc_node(images):
    """A 100 MiB node whose kubelet sets ``imagefs.available<10%``: at 88 % disk use only
    the image manager acts (with the default 15 %, DiskPressure comes at 85 % too)."""
    cluster = rosim.Cluster(nodes=1, disk="100Mi", images=images)
    cluster.imagefs_threshold = 0.10
    return cluster


def _three_old_images(size=10 * MiB):
    """old:1, mid:1 and new:1 (``size`` each), last used at 10 s, 300 s and 600 s; a
    writer pod of a 1 MiB image keeps running, on a 100 MiB disk."""
    images = {ref: sized(ref, size) for ref in ("old:1", "mid:1", "new:1")}
    images["writer:1"] = sized("writer:1", MiB)
    cluster = gc_node(images)
    cluster.apply(pod("writer", "writer:1"))
    for i, (ref, wait) in enumerate((("old:1", 10), ("mid:1", 290), ("new:1", 300))):
        cluster.apply(pod(f"user-{i}", ref))
        cluster.tick(wait)  # the image manager's pass at 10, 300, 600 s sees it in use
        cluster.delete(f"user-{i}")
    assert cluster.clock == 600
    return cluster


def test_image_gc_at_85_percent_frees_down_to_80_least_recently_used_first():
    """At its pass at 900 s the disk is 88 % full: the image manager needs 8 MiB and
    deletes the least recently used image (10 MiB); the two others stay."""
    cluster = _three_old_images()
    fill(cluster, "writer", 88 * MiB)
    cluster.tick(290)
    assert cluster.clock == 890 and len(refs(cluster)) == 4, "its next pass is at 900 s"
    cluster.tick(10)
    assert refs(cluster) == ["mid:1", "new:1", "writer:1"]
    assert cluster.disk("node-1").used == 78 * MiB
    assert events(cluster, "FreeDiskSpaceFailed", "ImageGCFailed", "Evicted") == []


def test_image_gc_deletes_in_lru_order_until_enough_is_counted():
    """4 MiB images, 7.5 MiB to free: old:1, then mid:1, and it stops; new:1 stays."""
    cluster = _three_old_images(4 * MiB)
    fill(cluster, "writer", 87 * MiB + MiB // 2)
    cluster.tick(300)
    assert refs(cluster) == ["new:1", "writer:1"]
    assert cluster.disk("node-1").used == 79 * MiB + MiB // 2


def test_below_the_high_threshold_the_image_manager_deletes_nothing():
    """84 % full at its pass: nothing goes."""
    cluster = _three_old_images()
    fill(cluster, "writer", 84 * MiB)
    cluster.tick(300)
    assert len(refs(cluster)) == 4


def test_images_in_use_are_never_deleted_and_the_failure_is_an_event():
    """Every image in use (a running container, an exited one the pod keeps): the image
    manager frees nothing and says so with the kubelet's message; ImageGCFailed at the
    second failed pass in a row."""
    images = {"big:1": sized("big:1", 40 * MiB), "job:1": sized("job:1", 10 * MiB)}
    cluster = gc_node(images)
    cluster.apply(pod("big", "big:1"))
    cluster.apply(pod("job", "job:1", restart="Never", command=["true"]))
    assert cluster.pod("job").status == "Completed"
    fill(cluster, "big", 88 * MiB)
    cluster.tick(10)
    message = ("Failed to garbage collect required amount of images. Attempted to free "
               f"{8 * MiB} bytes, but only found 0 bytes eligible to free.")
    assert events(cluster, "FreeDiskSpaceFailed", "ImageGCFailed") == [
        (10, "FreeDiskSpaceFailed", message)]
    cluster.tick(300)
    assert events(cluster, "FreeDiskSpaceFailed", "ImageGCFailed")[1:] == [
        (310, "FreeDiskSpaceFailed", message), (310, "ImageGCFailed", message)]
    assert refs(cluster) == ["big:1", "job:1"]
    assert all(i.in_use for i in rosim.node_images(cluster, "node-1"))


def test_a_dead_container_keeps_its_image_in_use():
    """In CrashLoopBackOff only the dead container the kubelet keeps refers to the
    image: it is still in use, and the image manager leaves it at 88 %."""
    images = {"crashy:1": sized("crashy:1", 40 * MiB), "writer:1": sized("writer:1", MiB)}
    cluster = gc_node(images)
    cluster.apply(pod("writer", "writer:1"))
    cluster.apply(pod("crashy", "crashy:1"))
    cluster.tick(10)
    fill(cluster, "writer", 88 * MiB)
    cluster.advance(285)
    cluster.crash("crashy", wait=False)  # back in 10 s
    assert (cluster.pod("crashy").containers, list(cluster.pod("crashy").dead)) == ({}, ["app"])
    cluster.advance(5)
    cluster.kubelet_sync()  # the image manager's pass at 300 s
    assert cluster.pod("crashy").status == "CrashLoopBackOff"
    assert refs(cluster) == ["crashy:1", "writer:1"]
    assert [e[1] for e in events(cluster, "FreeDiskSpaceFailed")] == ["FreeDiskSpaceFailed"]


def test_an_image_younger_than_the_minimum_age_stays():
    """imageMinimumGCAge (2 min): an image first seen at 10 s cannot go at that pass;
    at the next one, 5 minutes later, it goes."""
    images = {"app:1": sized("app:1", 20 * MiB), "writer:1": sized("writer:1", MiB)}
    cluster = gc_node(images)
    cluster.apply(pod("writer", "writer:1"))
    cluster.apply(pod("gone", "app:1"))
    cluster.delete("gone")
    fill(cluster, "writer", 88 * MiB)
    cluster.tick(10)
    assert refs(cluster) == ["app:1", "writer:1"]
    assert [e[1] for e in events(cluster, "FreeDiskSpaceFailed")] == ["FreeDiskSpaceFailed"]
    cluster.tick(290)
    assert refs(cluster) == ["writer:1"]
    assert cluster.disk("node-1").used == 68 * MiB


def test_a_high_threshold_of_100_turns_the_image_manager_off():
    """imageGCHighThresholdPercent 100: nothing is collected at 88 %."""
    cluster = _three_old_images()
    cluster.image_gc = rosim.ImageGCPolicy(high_threshold_percent=100, low_threshold_percent=80)
    fill(cluster, "writer", 88 * MiB)
    cluster.tick(300)
    assert len(refs(cluster)) == 4


def test_other_thresholds_apply():
    """imageGCHighThresholdPercent 70, low 50: at 78 % the manager frees down to 50 %."""
    cluster = _three_old_images()
    cluster.image_gc = rosim.ImageGCPolicy(high_threshold_percent=70, low_threshold_percent=50)
    fill(cluster, "writer", 78 * MiB)
    cluster.tick(300)
    assert refs(cluster) == ["writer:1"], "28 MiB needed: all three go"
    assert cluster.disk("node-1").used == 48 * MiB


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"high_threshold_percent": 101}, r"high_threshold_percent\(=101\) must be an integer "
                                      r"from 0 to 100 \(imageGCHighThresholdPercent\)"),
    ({"low_threshold_percent": -1}, r"low_threshold_percent\(=-1\)"),
    ({"high_threshold_percent": 80}, r"low_threshold_percent\(=80\) must be below "
                                     r"high_threshold_percent\(=80\)"),
    ({"high_threshold_percent": "85"}, r"high_threshold_percent\(='85'\)"),
    ({"minimum_gc_age": -5}, r"minimum_gc_age\(=-5\)"),
])
def test_policy_validation_names_the_field_and_value(kwargs, match):
    """Bad thresholds are refused as the kubelet's configuration check refuses them."""
    with pytest.raises(rosim.ConfigError, match=match):
        rosim.ImageGCPolicy(**kwargs)


def test_a_cluster_image_gc_that_is_not_a_policy_is_refused():
    """Cluster.image_gc must be an ImageGCPolicy."""
    cluster = rosim.Cluster(nodes=1)
    cluster.image_gc = 85
    with pytest.raises(rosim.ConfigError, match=r"image_gc\(=85\) must be an ImageGCPolicy"):
        cluster.tick()


# ----------------------------------------------------------------- the eviction manager
def _pressure(unused):
    """A 100 MiB node: an unused image of ``unused`` bytes, last used an hour ago, and a
    running writer (1 MiB image) that has left 5 MiB available (under the 15 MiB of
    ``imagefs.available<15%``, the same disk)."""
    images = {"old:1": sized("old:1", unused), "writer:1": sized("writer:1", MiB)}
    cluster = rosim.Cluster(nodes=1, disk="100Mi", images=images)
    cluster.apply(pod("writer", "writer:1"))
    cluster.apply(pod("gone", "old:1"))
    cluster.tick(10)
    cluster.delete("gone")
    cluster.tick(3600)
    fill(cluster, "writer", 95 * MiB)
    assert cluster.disk("node-1").pressure
    return cluster


def test_disk_pressure_reclaims_unused_images_before_evicting_anyone():
    """DiskPressure: EvictionThresholdMet, then every unused image goes; that was
    enough, so no pod is evicted; the condition stays for the 5-minute
    evictionPressureTransitionPeriod after the pass that saw the threshold met."""
    cluster = _pressure(20 * MiB)
    seen = cluster.clock + 10
    assert cluster.tick(10) == []
    assert refs(cluster) == ["writer:1"]
    assert cluster.disk("node-1").available == 25 * MiB
    assert cluster.pod("writer").status == "Running"
    kinds = ("NodeHasDiskPressure", "EvictionThresholdMet", "NodeHasNoDiskPressure", "Evicted")
    assert [e[1:] for e in events(cluster, *kinds)] == [
        ("NodeHasDiskPressure", "Node node-1 status is now: NodeHasDiskPressure"),
        ("EvictionThresholdMet", "Attempting to reclaim ephemeral-storage")]
    cluster.tick(290)
    assert cluster.node("node-1").disk_pressure, "4 min 50 s after: still DiskPressure"
    cluster.tick(10)
    assert events(cluster, *kinds)[2:] == [
        (seen + 300, "NodeHasNoDiskPressure", "Node node-1 status is now: NodeHasNoDiskPressure")]


def test_a_pod_is_evicted_only_when_the_reclaim_is_not_enough():
    """Deleting a 2 MiB image leaves the node under its threshold: one pod is evicted,
    and the message quotes what was available before the reclaim."""
    cluster = _pressure(2 * MiB)
    assert cluster.tick(10) == ["writer"]
    assert refs(cluster) == ["writer:1"], "the image of the evicted pod is now unused"
    assert cluster.pod("writer").message.startswith(
        "The node was low on resource: ephemeral-storage. Threshold quantity: 15Mi, "
        "available: 5Mi. Container app was using 92Mi")
    reasons = [e[1] for e in events(cluster, "EvictionThresholdMet", "Evicted")]
    assert reasons == ["EvictionThresholdMet", "Evicted"]


def test_the_reclaim_keeps_images_younger_than_the_minimum_age():
    """DeleteUnusedImages obeys imageMinimumGCAge too: a fresh image survives the reclaim."""
    images = {"old:1": sized("old:1", 20 * MiB), "writer:1": sized("writer:1", MiB)}
    cluster = rosim.Cluster(nodes=1, disk="100Mi", images=images)
    cluster.apply(pod("writer", "writer:1"))
    cluster.apply(pod("gone", "old:1"))
    cluster.delete("gone")
    fill(cluster, "writer", 95 * MiB)
    assert cluster.tick(10) == ["writer"]
    assert refs(cluster) == ["old:1", "writer:1"]

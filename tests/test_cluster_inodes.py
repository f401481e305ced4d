"""Inodes on a node's disk (domain.md §6): ``nodefs.inodesFree<5%`` is DiskPressure too."""

from __future__ import annotations

import errno

import pytest

import rosim


def pod(name="web", **spec):
    """A bare Pod with one busybox container."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"]}],
        **spec}}


def make_files(cluster, pod_name, count, directory="/var/many"):
    """Create ``count`` empty files in a pod's container; return the errno that stopped it."""
    def fill():
        import os

        os.makedirs(directory, exist_ok=True)
        for n in range(count):
            try:
                open(f"{directory}/f{n}", "w").close()
            except OSError as e:
                return e.errno
        return 0

    return cluster.pod(pod_name).container().run(fill)


def test_a_node_disk_has_one_inode_per_16k_by_default():
    """mke2fs's default inode ratio: a 1Gi disk has 65536 inodes."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    disk = cluster.disk("node-1")
    assert (disk.inodes, disk.inodes_used) == (65536, 0)


def test_files_in_a_writable_layer_use_the_node_disk_inodes():
    """Every new file or directory takes an inode of the node's disk; rm gives it back."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.apply(pod())
    before = cluster.disk("node-1").inodes_used
    assert make_files(cluster, "web", 10, "/tmp/d") == 0
    assert cluster.disk("node-1").inodes_used - before == 11
    assert cluster.usage("web").inodes["app"] >= 11
    cluster.exec("web", "rm /tmp/d/f0 /tmp/d/f1")
    assert cluster.disk("node-1").inodes_used - before == 9


def test_files_in_an_emptydir_use_the_node_disk_inodes():
    """An emptyDir on the node's disk draws on the same inodes."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    manifest = pod(volumes=[{"name": "scratch", "emptyDir": {}}])
    manifest["spec"]["containers"][0]["volumeMounts"] = [{"name": "scratch",
                                                          "mountPath": "/scratch"}]
    cluster.apply(manifest)
    before = cluster.disk("node-1").inodes_used
    make_files(cluster, "web", 5, "/scratch")
    assert cluster.disk("node-1").inodes_used - before == 5
    assert cluster.usage("web").empty_dir_inodes["scratch"] == 5


def test_no_inode_left_is_enospc():
    """With every inode in use, creating a file fails with ENOSPC though bytes are free."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi", inodes=100)
    cluster.apply(pod())
    assert make_files(cluster, "web", 200) == errno.ENOSPC
    disk = cluster.disk("node-1")
    assert disk.inodes_free == 0 and disk.available > 0.9 * disk.capacity


def test_deleting_the_pod_gives_its_inodes_back():
    """The writable layer's inodes go with its container."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.apply(pod())
    make_files(cluster, "web", 50)
    cluster.delete("web")
    assert cluster.disk("node-1").inodes_used == 0


def test_inodes_free_under_5_percent_is_disk_pressure_and_evicts():
    """nodefs.inodesFree<5%: DiskPressure, and the pod using the inodes is evicted with
    the kubelet's message about inodes."""
    cluster = rosim.Cluster(nodes=1, disk="10Gi", inodes=1000)
    cluster.apply(pod("quiet"))
    cluster.apply(pod("busy"))
    assert make_files(cluster, "busy", 960) == 0
    disk = cluster.disk("node-1")
    assert disk.inode_pressure and not disk.bytes_pressure and disk.pressure
    assert cluster.tick() == ["busy"]
    kinds = [e.kind for e in cluster.timeline]
    assert "NodeHasDiskPressure" in kinds
    evicted = [e for e in cluster.timeline if e.kind == "Evicted"][-1]
    assert evicted.pod == "busy"
    assert evicted.message.rstrip() == (
        "The node was low on resource: inodes. Threshold quantity: 50, available: 39. "
        "Container app was using 961, request is 0, has larger consumption of inodes.")
    assert cluster.disk("node-1").inodes_free == 1000
    assert cluster.node("node-1").disk_pressure, "evictionPressureTransitionPeriod: 5 min"
    cluster.tick(300)
    assert [e.time for e in cluster.timeline if e.kind == "NodeHasNoDiskPressure"] == [310]


def test_dead_containers_are_reclaimed_before_an_inode_eviction():
    """Node-level reclaim first: the dead container's layer and its inodes go, no eviction."""
    cluster = rosim.Cluster(nodes=1, disk="10Gi", inodes=1000)
    cluster.apply(pod())
    make_files(cluster, "web", 960)
    cluster.crash("web")
    assert cluster.disk("node-1").inode_pressure
    assert cluster.tick() == []
    assert not cluster.disk("node-1").pressure
    assert cluster.pod("web").status == "Running"


@pytest.mark.parametrize("value", [0, -5, 1.5, True, "many"])
def test_a_bad_inode_count_is_refused(value):
    """``inodes`` must be a positive integer."""
    with pytest.raises(rosim.ConfigError, match=r"inodes\(="):
        rosim.Cluster(nodes=1, inodes=value)

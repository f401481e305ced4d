"""Storage limits: node disks, volume quotas, overlay.size, memory, fallocate."""

from __future__ import annotations

import errno
import os

import pytest

import rosim
from tests.conftest import outcome

MiB = 1024 * 1024
IMAGE = rosim.Image.from_dict("quota", {
    "/etc/passwd": "root:x:0:0::/root:/bin/sh\n",
    "/bin/sh": rosim.File(b"\x7fELF\x02\x01\x01\x00rosim-program: sh\n", mode=0o755),
    "/bin/fallocate": rosim.File(b"\x7fELF\x02\x01\x01\x00rosim-program: fallocate\n",
                                 mode=0o755),
    "/bin/df": rosim.File(b"\x7fELF\x02\x01\x01\x00rosim-program: df\n", mode=0o755),
})


def reserve(path: str, size: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        os.posix_fallocate(fd, 0, size)
    finally:
        os.close(fd)


def started(runtime: rosim.Runtime, name: str, mounts=()) -> rosim.Container:
    ctr = runtime.create(IMAGE, name=name, mounts=list(mounts))
    ctr.start()
    return ctr


def test_fallocate_costs_no_memory_and_counts_as_upper_layer():
    """posix_fallocate declares gigabytes by size: the layer grows, no bytes are held."""
    ctr = started(rosim.Runtime("podman"), "big")
    ctr.run(reserve, "/blob", 8 * 1024**3)
    assert ctr.upper_size == 8 * 1024**3
    assert ctr.run(os.path.getsize, "/blob") == 8 * 1024**3


def test_overlay_size_caps_the_writable_layer():
    """containers/storage overlay.size=: writes past it fail with ENOSPC, nothing changes."""
    ctr = started(rosim.Runtime("podman", overlay_size="4M"), "capped")
    assert ctr.run(outcome, reserve, "/a", 3 * MiB) == "ok"
    assert ctr.run(outcome, reserve, "/b", 2 * MiB) == "ENOSPC"
    assert ctr.upper_size == 3 * MiB


def test_a_volume_quota_stops_at_its_size():
    """A quota on a volume (XFS project quota, PV capacity) is ENOSPC at the limit."""
    ctr = started(rosim.Runtime("docker"), "pv",
                  [rosim.Bind(rosim.Volume("pv", scope="cluster", size="1M"), "/data")])
    assert ctr.run(outcome, reserve, "/data/a", 2 * MiB) == "ENOSPC"
    assert ctr.run(outcome, reserve, "/data/b", 512 * 1024) == "ok"


def test_the_volume_quota_never_sees_the_writable_layer():
    """The seed's bypass: the quota counts the volume, not bytes in the image's layer."""
    ctr = started(rosim.Runtime("docker"), "bypass",
                  [rosim.Bind(rosim.Volume("quota-bypass", scope="cluster", size="1M"),
                              "/data")])
    assert ctr.run(outcome, reserve, "/var-layer.bin", 50 * MiB) == "ok"
    assert ctr.run(lambda: os.statvfs("/data").f_bfree * 4096) == 1 * MiB
    assert ctr.upper_size == 50 * MiB


def test_a_full_node_disk_fails_every_writer_on_it():
    """Writable layers and node volumes share the node's disk; network volumes do not."""
    runtime = rosim.Runtime("podman", disk="10M")
    a = started(runtime, "a", [rosim.Bind(rosim.Volume("local"), "/local")])
    b = started(runtime, "b", [rosim.Bind(rosim.Volume("nfs", scope="cluster"), "/nfs")])
    assert a.run(outcome, reserve, "/fill", 9 * MiB) == "ok"
    assert b.run(outcome, reserve, "/mine", 2 * MiB) == "ENOSPC"
    assert a.run(outcome, reserve, "/local/x", 2 * MiB) == "ENOSPC"
    assert b.run(outcome, reserve, "/nfs/x", 2 * MiB) == "ok"
    assert runtime.disk.used == 9 * MiB


def test_removing_a_container_gives_its_space_back():
    """The writable layer's bytes leave the node disk with the container."""
    runtime = rosim.Runtime("podman", disk="10M")
    a = started(runtime, "a")
    a.run(reserve, "/fill", 9 * MiB)
    a.remove(force=True)
    assert runtime.disk.used == 0
    b = started(runtime, "b")
    assert b.run(outcome, reserve, "/fill", 9 * MiB) == "ok"


def test_df_of_the_root_shows_the_node_disk():
    """df / in a container shows the disk holding the upper layer (overlay passes statfs)."""
    runtime = rosim.Runtime("podman", disk="100M")
    a = started(runtime, "a")
    b = started(runtime, "b")
    a.run(reserve, "/fill", 30 * MiB)
    line = b.sh("df -h /").stdout.splitlines()[1].split()
    assert line[1:5] == ["100M", "30M", "70M", "30%"]


def test_memory_volumes_count_against_memory_not_disk():
    """emptyDir medium: Memory is a tmpfs with size=: ENOSPC at once, node disk untouched."""
    runtime = rosim.Runtime("cri-o", disk="10M")
    ctr = started(runtime, "mem", [rosim.Bind(rosim.Volume("m", medium="Memory", size="2M"),
                                              "/cache")])
    assert ctr.run(outcome, reserve, "/cache/x", 3 * MiB) == "ENOSPC"
    assert ctr.run(outcome, reserve, "/cache/y", 1 * MiB) == "ok"
    assert runtime.disk.used == 0


def test_fallocate_program_reports_enospc():
    """util-linux fallocate prints its own message when the space is not there."""
    ctr = started(rosim.Runtime("podman", overlay_size="1M"), "tool")
    result = ctr.sh("fallocate -l 2M /x")
    assert (result.status, result.stderr) == (1, "fallocate: fallocate failed: "
                                                 "No space left on device\n")
    assert ctr.sh("fallocate -l 512K /y").ok


def test_cluster_nodes_have_disks_and_pvcs_have_capacity():
    """Cluster(disk=) sizes each node; a PVC's capacity is its quota."""
    cluster = rosim.Cluster(nodes=1, disk="20Mi")
    cluster.add_persistent_volume("data", "1Mi", claim="data")
    cluster.apply({"metadata": {"name": "tenant"}, "spec": {
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
        "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "9"],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}})
    assert cluster.exec("tenant", "fallocate -l 2M /data/x").status == 1
    assert cluster.exec("tenant", "fallocate -l 10M /scratch").ok
    busybox = rosim.image_size(rosim.Image.builtin("busybox"))
    assert cluster.node("node-1").runtime.disk.used == 10 * MiB + busybox


@pytest.mark.parametrize("bad", ["lots", -1])
def test_bad_disk_sizes(bad):
    """A disk size that is not a size names the field."""
    with pytest.raises(rosim.InvalidSizeError, match="disk"):
        rosim.Runtime("podman", disk=bad)


def test_enospc_is_the_kernel_error():
    """The failure is ENOSPC with the kernel's message, an ordinary OSError."""
    ctr = started(rosim.Runtime("podman", overlay_size="1M"), "err")
    with pytest.raises(OSError) as info:
        ctr.run(reserve, "/x", 2 * MiB)
    assert info.value.errno == errno.ENOSPC
    assert str(info.value) == "[Errno 28] No space left on device"

"""A ``medium: Memory`` emptyDir counts against the container's memory limit (domain.md §6)."""

from __future__ import annotations

import errno

import rosim

MI = 1024 * 1024


def pod(writer_limit="64Mi", other_limit="64Mi", size_limit=None):
    """A pod of two containers; ``writer`` mounts a Memory emptyDir at /cache."""
    empty_dir = {"medium": "Memory"}
    if size_limit:
        empty_dir["sizeLimit"] = size_limit
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {
        "containers": [
            {"name": "writer", "image": "busybox", "command": ["sleep", "3600"],
             "resources": {"limits": {"memory": writer_limit}},
             "volumeMounts": [{"name": "cache", "mountPath": "/cache"}]},
            {"name": "other", "image": "busybox", "command": ["sleep", "3600"],
             "resources": {"limits": {"memory": other_limit}}}],
        "volumes": [{"name": "cache", "emptyDir": empty_dir}]}}


def write(cluster, mib, name="blob"):
    """The writer puts ``mib`` MiB in /cache; returns the errno that stopped it (0 if none)."""
    def fill():
        try:
            with open(f"/cache/{name}", "wb") as f:
                for _ in range(mib):
                    f.write(b"\0" * MI)
        except OSError as e:
            return e.errno
        return 0

    return cluster.pod("web").container("writer").run(fill)


def test_tmpfs_room_but_no_memory_left_is_an_oom_kill():
    """The tmpfs (the pod's 128Mi) takes 100Mi; the writer's 64Mi limit does not: exit 137,
    reason OOMKilled in lastState, then the kubelet's back-off and a new container."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod
    assert write(cluster, 100) == 0, "the tmpfs has room: no ENOSPC"
    cluster.tick()
    state = p.last_state["writer"]
    assert (state.exit_code, state.reason) == (137, "OOMKilled")
    assert p.status == "CrashLoopBackOff"
    assert "other" in p.containers and "other" not in p.last_state
    assert cluster.timeline[-1].kind == "BackOff"
    cluster.advance(10)
    assert p.status == "Running" and p.container_statuses()[0].restart_count == 1


def test_the_new_container_is_not_charged_for_the_old_pages():
    """The pages the killed container wrote stay in the emptyDir; its successor runs."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod
    write(cluster, 100)
    cluster.tick()
    cluster.advance(10)
    cluster.tick()
    assert p.status == "Running"
    assert cluster.exec("web", "ls /cache", container="writer").stdout == "blob\n"


def test_a_kubectl_exec_write_over_the_limit_kills_at_once():
    """The OOM killer does not wait for the kubelet: an exec that outgrows the limit kills."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod(writer_limit="1Mi", other_limit="1Mi")).pod
    cluster.exec("web", "seq 1 200000 > /cache/numbers", container="writer")
    assert p.last_state["writer"].reason == "OOMKilled"


def test_under_the_memory_limit_nothing_happens():
    """Pages under the container's limit are fine."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod
    assert write(cluster, 60) == 0
    cluster.tick()
    assert p.status == "Running" and "writer" not in p.last_state


def test_where_the_tmpfs_is_smaller_it_is_enospc():
    """sizeLimit under the memory limit: the tmpfs is full first, ENOSPC, no kill."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod(size_limit="32Mi")).pod
    assert write(cluster, 40) == errno.ENOSPC
    cluster.tick()
    assert p.status == "Running" and "writer" not in p.last_state

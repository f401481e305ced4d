"""Container logs on a Kubernetes node (domain.md §5): stdout, rotation, accounting."""

from __future__ import annotations

import pytest

import rosim

MI = 1024 * 1024


def pod(name="web", **spec):
    """A bare Pod with one busybox container."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"]}],
        **spec}}


def megabyte_line(n):
    """A line of exactly 1Mi bytes, numbered ``n``."""
    head = f"line {n:04d} "
    return head + "x" * (MI - len(head) - 1) + "\n"


def test_app_stdout_reaches_the_container_log_and_the_node_disk():
    """What the app prints is in ``kubectl logs``, in the pod's usage and on the node."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.apply(pod())
    before = cluster.disk("node-1").used
    cluster.write_stdout("web", "served GET /\n")
    assert cluster.logs("web") == "served GET /\n"
    assert cluster.usage("web").logs["app"] == len("served GET /\n")
    assert cluster.disk("node-1").used - before == len("served GET /\n")
    assert cluster.log_store["web"] == ["served GET /"]


def test_exec_output_does_not_reach_the_container_log():
    """``kubectl exec`` prints to its caller, not to the container's log."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(pod())
    cluster.exec("web", "echo hello")
    assert cluster.logs("web") == ""


def test_log_rotates_at_10mi_and_keeps_5_files():
    """Past 5 × 10Mi the oldest lines are gone, with no event.

    ``kubectl logs`` shows the current file only.
    """
    cluster = rosim.Cluster(nodes=1, disk="10Gi")
    cluster.apply(pod())
    start = len(cluster.timeline)
    for n in range(70):
        cluster.write_stdout("web", megabyte_line(n))
        if n % 10 == 9:
            cluster.tick()
    ctr = cluster.pod("web").container()
    assert len(ctr.log_file_sizes()) == 5
    kept = ctr.logs()
    assert "line 0000" not in kept and "line 0029" not in kept
    assert "line 0030" in kept and "line 0069" in kept
    assert cluster.logs("web") == "", "the last tick rotated: the current file is new"
    assert [e.kind for e in cluster.timeline[start:]] == [], "rotation makes no event"
    assert cluster.usage("web").logs["app"] == 40 * MI, "4 rotated files and an empty one"


def test_kubectl_logs_reads_only_the_current_file():
    """After a rotation ``kubectl logs`` shows only what came after it."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.apply(pod())
    for n in range(11):
        cluster.write_stdout("web", megabyte_line(n))
    cluster.tick()
    cluster.write_stdout("web", "after rotation\n")
    assert cluster.logs("web") == "after rotation\n"
    assert "line 0000" in cluster.pod("web").container().logs()


def test_a_log_under_the_limit_is_not_rotated():
    """Under ``containerLogMaxSize`` the log stays one file, whatever the ticks."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.apply(pod())
    for n in range(9):
        cluster.write_stdout("web", megabyte_line(n))
        cluster.tick()
    assert cluster.pod("web").container().log_file_sizes() == [9 * MI]


def test_rotated_logs_count_toward_the_ephemeral_storage_limit():
    """Rotated files are still on the node: they count, and the kubelet evicts on them."""
    cluster = rosim.Cluster(nodes=1, disk="10Gi")
    manifest = pod()
    manifest["spec"]["containers"][0]["resources"] = {"limits": {"ephemeral-storage": "25Mi"}}
    cluster.apply(manifest)
    for n in range(12):
        cluster.write_stdout("web", megabyte_line(n))
    assert cluster.tick() == []
    for n in range(12, 26):
        cluster.write_stdout("web", megabyte_line(n))
    assert cluster.tick() == ["web"]
    event = [e for e in cluster.timeline if e.kind == "Evicted"][-1]
    assert event.message.startswith("Pod ephemeral local storage usage exceeds the total limit "
                                    "of containers 25Mi.")


def test_log_limits_follow_the_kubelet_configuration():
    """``containerLogMaxSize``/``containerLogMaxFiles`` set on the cluster are used."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.container_log_max_size = 100
    cluster.container_log_max_files = 2
    cluster.apply(pod())
    for n in range(4):
        cluster.write_stdout("web", f"{n:0100d}\n")
        cluster.tick()
    assert cluster.pod("web").container().logs() == "".join(f"{n:0100d}\n" for n in (3,))


def test_write_stdout_refuses_a_non_string():
    """The text must be a string."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(pod())
    with pytest.raises(rosim.ConfigError, match="text"):
        cluster.write_stdout("web", b"bytes")

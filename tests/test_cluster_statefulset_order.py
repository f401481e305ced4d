"""A StatefulSet creates its pods one by one (``OrderedReady``, domain.md §5)."""

from __future__ import annotations

import pytest

import rosim


def statefulset(replicas=3, policy=None, crash=False):
    """A StatefulSet of busybox pods (``crash``: the process exits 1 at once)."""
    spec = {"replicas": replicas, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [
                {"name": "db", "image": "busybox",
                 "command": ["sh", "-c", "exit 1"] if crash else ["sleep", "3600"]}]}}}
    if policy:
        spec["podManagementPolicy"] = policy
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": spec}


def creations(cluster):
    """The pods the StatefulSet controller created, in order."""
    return [e.pod for e in cluster.timeline if e.kind == "SuccessfulCreate"]


def test_pods_come_one_after_the_other_when_each_runs():
    """db-1 is created after db-0 started, db-2 after db-1."""
    cluster = rosim.Cluster(nodes=2)
    cluster.apply(statefulset())
    kinds = [(e.kind, e.pod) for e in cluster.timeline
             if e.kind in ("SuccessfulCreate", "Started")]
    assert kinds == [("SuccessfulCreate", "db-0"), ("Started", "db-0"),
                     ("SuccessfulCreate", "db-1"), ("Started", "db-1"),
                     ("SuccessfulCreate", "db-2"), ("Started", "db-2")]


def test_a_pod_that_does_not_run_holds_back_the_next():
    """db-0 in CrashLoopBackOff: db-1 is never created."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(statefulset(crash=True))
    cluster.advance(60)
    assert creations(cluster) == ["db-0"]
    assert cluster.pod("db-0").status in ("CrashLoopBackOff", "Error")
    assert "db-1" not in cluster.pods


def test_a_pod_waiting_to_start_holds_back_the_next():
    """db-0 waits for its ConfigMap (ContainerCreating): db-1 is not created."""
    cluster = rosim.Cluster(nodes=1)
    manifest = statefulset()
    tspec = manifest["spec"]["template"]["spec"]
    tspec["volumes"] = [{"name": "conf", "configMap": {"name": "db-conf"}}]
    tspec["containers"][0]["volumeMounts"] = [{"name": "conf", "mountPath": "/conf"}]
    cluster.apply(manifest)
    assert creations(cluster) == ["db-0"]
    assert cluster.pod("db-0").status == "ContainerCreating"


def test_the_next_pod_comes_when_the_first_one_runs():
    """db-0 Pending on a cordoned node; once uncordoned it runs and db-1, db-2 follow."""
    cluster = rosim.Cluster(nodes=1)
    cluster.cordon("node-1")
    cluster.apply(statefulset())
    assert creations(cluster) == ["db-0"] and cluster.pod("db-0").status == "Pending"
    cluster.uncordon("node-1")
    assert creations(cluster) == ["db-0", "db-1", "db-2"]
    assert all(cluster.pod(f"db-{i}").status == "Running" for i in range(3))


def test_parallel_creates_every_pod_at_once():
    """``podManagementPolicy: Parallel``: all pods, even if db-0 does not run."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(statefulset(policy="Parallel", crash=True))
    assert creations(cluster) == ["db-0", "db-1", "db-2"]


def test_a_deleted_pod_is_recreated_with_its_name_when_lower_ones_run():
    """Deleting db-1 brings db-1 back (db-0 runs)."""
    cluster = rosim.Cluster(nodes=2)
    cluster.apply(statefulset())
    replacement = cluster.delete("db-1")
    assert replacement is not None and replacement.name == "db-1"
    assert cluster.pod("db-1").status == "Running"


def test_a_bad_pod_management_policy_is_refused():
    """Only ``OrderedReady`` and ``Parallel``."""
    with pytest.raises(rosim.ConfigError, match="podManagementPolicy"):
        rosim.Cluster(nodes=1).apply(statefulset(policy="Random"))


def test_a_deleted_pod_waits_while_a_lower_one_does_not_run():
    """db-0 in back-off: a deleted db-2 is not recreated until db-0 runs again."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(statefulset())
    cluster.crash("db-0", wait=False)
    assert cluster.delete("db-2") is None
    assert "db-2" not in cluster.pods
    cluster.advance(10)  # the back-off ends: a new db-0 container runs
    assert cluster.pod("db-0").status == "Running"
    assert cluster.pod("db-2").status == "Running"
    assert creations(cluster) == ["db-0", "db-1", "db-2", "db-2"]


def test_a_large_statefulset_is_created_pod_after_pod():
    """1500 replicas on 3 nodes: each pod's start wakes the controller through its
    work queue, not by a nested call, so any size is created in order."""
    cluster = rosim.Cluster(nodes=3)
    applied = cluster.apply({
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "big"},
        "spec": {"replicas": 1500, "serviceName": "big",
                 "selector": {"matchLabels": {"app": "big"}},
                 "template": {"metadata": {"labels": {"app": "big"}}, "spec": {
                     "containers": [{"name": "c", "image": "busybox"}]}}}})
    assert [p.name for p in applied.pods] == [f"big-{i}" for i in range(1500)]
    assert all(p.status == "Running" for p in applied.pods)
    assert creations(cluster) == [f"big-{i}" for i in range(1500)]
    assert sorted(len(n.pods) for n in cluster.nodes.values()) == [500, 500, 500]
    assert cluster.delete("big-1499").name == "big-1499"

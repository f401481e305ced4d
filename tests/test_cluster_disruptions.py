"""kubectl drain's guards, a node failure on its timeline, local PVs (domain.md §5)."""

from __future__ import annotations

import pytest

import rosim


def spec(**extra):
    """A pod spec with one busybox container."""
    return {"containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"],
                            "volumeMounts": extra.pop("mounts", [])}], **extra}


def deployment(name, replicas=1, **extra):
    """A Deployment manifest."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec(**extra)}}}


def bare(name, **extra):
    """A bare Pod manifest."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec(**extra)}


def claim_volume(claim):
    """volumes/mounts arguments for a claim mounted at /data."""
    return {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
            "mounts": [{"name": "data", "mountPath": "/data"}]}


def test_drain_refuses_bare_and_emptydir_pods_with_kubectls_message():
    """Without --force / --delete-emptydir-data drain stops, the node stays cordoned."""
    cluster = rosim.Cluster(nodes=["a", "b"])
    cluster.cordon("b")
    cluster.apply([bare("lonely"), deployment("cache", volumes=[{"name": "s", "emptyDir": {}}],
                                              mounts=[{"name": "s", "mountPath": "/s"}])])
    cluster.uncordon("b")
    with pytest.raises(rosim.LifecycleError) as info:
        cluster.drain("a")
    cache = cluster.pod("deploy/cache").name
    assert str(info.value) == (
        'error: unable to drain node "a" due to error: [cannot delete cannot delete Pods '
        "that declare no controller (use --force to override): default/lonely, cannot "
        "delete Pods with local storage (use --delete-emptydir-data to override): "
        f"default/{cache}], continuing command...")
    assert cluster.node("a").cordoned and cluster.pod("lonely").node == "a"
    moved = cluster.drain("a", force=True, delete_emptydir_data=True)
    assert [p.node for p in moved] == ["b"] and "lonely" not in cluster.pods


def test_drain_needs_ignore_daemonsets_and_leaves_their_pods():
    """DaemonSet pods block drain unless --ignore-daemonsets, and then they stay."""
    cluster = rosim.Cluster(nodes=2)
    cluster.apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                   "spec": {"selector": {"matchLabels": {"app": "agent"}},
                            "template": {"metadata": {"labels": {"app": "agent"}},
                                         "spec": spec()}}})
    with pytest.raises(rosim.LifecycleError, match="cannot delete DaemonSet-managed Pods "
                                                   "\\(use --ignore-daemonsets to ignore\\)"):
        cluster.drain("node-1")
    assert cluster.drain("node-1", ignore_daemonsets=True) == []
    assert len(cluster.node("node-1").pods) == 1


def test_node_failure_timeline_for_a_deployment_with_a_network_claim():
    """NotReady at 40 s, Terminating at 340 s, Multi-Attach until force detach at 700 s."""
    cluster = rosim.Cluster(nodes=3, seed=1)
    cluster.add_persistent_volume("pv", "1Gi", claim="data")
    old = cluster.apply(deployment("app", **claim_volume("data"))).pod
    cluster.exec(old.name, "echo saved > /data/f")
    mark = len(cluster.timeline)
    (new,) = cluster.fail(old.node)
    timeline = [(e.time, e.kind, e.pod) for e in cluster.timeline[mark:]]
    assert timeline[:3] == [(40, "NodeNotReady", ""), (40, "NodeNotReady", old.name),
                            (340, "TaintManagerEviction", old.name)]
    attach = [(t, k) for t, k, p in timeline if p == new.name and "Attach" in k]
    assert attach == [(340, "FailedAttachVolume"), (700, "SuccessfulAttachVolume")]
    multi = next(e for e in cluster.timeline if e.kind == "FailedAttachVolume")
    assert multi.message.startswith('Multi-Attach error for volume "pv" Volume is already '
                                    "exclusively attached to one node")
    assert old.status == "Terminating" and cluster.pods[old.name] is old
    assert cluster.exec(new.name, "cat /data/f").stdout == "saved\n"


def test_a_failed_nodes_bare_pod_and_statefulset_pod_are_not_replaced():
    """At-most-one: the StatefulSet waits while the node object exists; deleting it frees."""
    cluster = rosim.Cluster(nodes=2)
    cluster.cordon("node-2")
    cluster.apply([bare("solo"), {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": spec()}}}])
    cluster.uncordon("node-2")
    assert cluster.fail("node-1") == []
    assert cluster.pod("db-0").status == cluster.pod("solo").status == "Terminating"
    with pytest.raises(rosim.LifecycleError, match="the node is down"):
        cluster.exec("db-0", "true")
    cluster.delete_node("node-1")
    assert cluster.pod("db-0").node == "node-2" and cluster.pod("db-0").status == "Running"
    assert "solo" not in cluster.pods


def test_a_recovered_node_has_its_local_data_and_drops_deleted_pods():
    """The node's disks were unreachable, not destroyed; its Terminating pods go."""
    cluster = rosim.Cluster(nodes=2)
    cluster.cordon("node-2")
    host = {"volumes": [{"name": "h", "hostPath": {"path": "/srv/h",
                                                   "type": "DirectoryOrCreate"}}],
            "mounts": [{"name": "h", "mountPath": "/h"}]}
    old = cluster.apply(deployment("app", **host)).pod
    cluster.uncordon("node-2")
    cluster.exec(old.name, "echo local > /h/f")
    (new,) = cluster.fail("node-1")
    assert new.node == "node-2" and not cluster.exec(new.name, "test -e /h/f").ok
    cluster.recover("node-1")
    assert old.name not in cluster.pods and cluster.node("node-1").ready
    assert "/srv/h" in cluster.node("node-1").runtime._host_paths
    cluster.reschedule(new.name)
    assert cluster.exec("deploy/app", "cat /h/f").stdout == "local\n"


def test_recover_before_the_toleration_keeps_the_pods():
    """Back within 300 s: the pods were never marked for deletion and keep running."""
    cluster = rosim.Cluster(nodes=2)
    p = cluster.apply(bare("solo")).pod
    cluster.fail(p.node, wait=False)
    cluster.advance(100)
    cluster.recover(p.node)
    cluster.advance(1000)
    assert p.status == "Running" and cluster.exec("solo", "true").ok


@pytest.mark.parametrize("event", ["drain", "fail"])
def test_a_local_pv_pod_stays_pending_with_its_data_intact(event):
    """A local PV after a drain or a failure: the replacement is Pending; the data stays."""
    cluster = rosim.Cluster(nodes=3)
    cluster.add_persistent_volume("local-pv", "5Gi", node="node-2", claim="local")
    old = cluster.apply(deployment("app", **claim_volume("local"))).pod
    assert old.node == "node-2"
    cluster.exec(old.name, "echo kept > /data/f")
    if event == "drain":
        cluster.drain("node-2")
    else:
        cluster.fail("node-2")
    new = cluster.pod("deploy/app")
    assert (new.status, new.node) == ("Pending", None)
    last = cluster.timeline[-1]
    assert (last.kind, last.pod) == ("FailedScheduling", new.name)
    assert "2 node(s) had volume node affinity conflict" in last.message
    assert "pv-local-pv" in cluster.node("node-2").runtime._volumes
    if event == "drain":
        cluster.uncordon("node-2")
    else:
        cluster.recover("node-2")
    assert cluster.pod("deploy/app") is new and new.node == "node-2", "the scheduler retried"
    assert cluster.exec("deploy/app", "cat /data/f").stdout == "kept\n"

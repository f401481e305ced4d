"""The kubelet's lifecycle (domain.md §5): new containers, dead ones kept, back-off, owners."""

from __future__ import annotations

import pytest

import rosim


def pod(name="web", **container):
    """A bare Pod with one busybox container."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"],
                        **container}]}}


def deployment(name="web", replicas=1, **container):
    """A Deployment of busybox pods."""
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": pod(name, **container)["spec"]}}}


def reasons(cluster, start=0):
    """The reasons of the timeline's events from ``start`` on."""
    return [e.kind for e in cluster.timeline[start:]]


def test_crash_makes_a_new_container_and_keeps_the_dead_one():
    """New id and layer; the dead container stays stopped with its layer; restartCount 1."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod
    first = p.container()
    cluster.exec("web", "echo mine > /var/note")
    cluster.crash("web")
    second = p.container()
    assert second is not first and second.id != first.id
    assert first.state == "stopped" and p.dead["app"] is first
    assert first.upper_size > 0, "the dead container's layer is still on the node"
    assert not cluster.exec("web", "test -e /var/note").ok
    (status,) = p.container_statuses()
    assert (status.state, status.restart_count) == ("running", 1)
    assert status.last_state == rosim.TerminatedState(1, "Error", f"cri-o://{first.id}")


def test_only_one_dead_container_is_kept_per_container():
    """A second crash: the first dead container is collected, the second kept."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod
    first = p.container()
    cluster.crash("web")
    second = p.container()
    cluster.crash("web", exit_code=137)
    assert first.state == "removed" and p.dead["app"] is second
    assert p.restarts["app"] == 2 and p.last_state["app"].exit_code == 137


def test_logs_previous_reads_the_dead_container():
    """kubectl logs --previous: the dead container's output; without one, kubectl's error."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(pod(command=["echo"], args=["hello"]))
    with pytest.raises(rosim.LifecycleError, match='previous terminated container "app" in '
                                                   'pod "web" not found'):
        cluster.logs("web", previous=True)
    cluster.crash("web")
    assert cluster.logs("web", previous=True) == "hello\n"
    assert cluster.logs("web") == "hello\n"


def test_back_off_event_and_delays_on_the_cluster_clock():
    """BackOff names container and pod (not the exit code); delays 10 s, 20 s, 40 s."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod
    times = []
    for _ in range(3):
        start = cluster.clock
        cluster.crash("web", wait=False)
        assert p.status == "CrashLoopBackOff" and p.containers == {}
        event = cluster.timeline[-1]
        assert event.kind == "BackOff"
        assert event.message == (f"Back-off restarting failed container app in pod "
                                 f"web_default({p.uid})")
        cluster.advance(p.waiting["app"] - cluster.clock)
        assert p.status == "Running"
        times.append(cluster.clock - start)
    assert times == [10, 20, 40]
    assert rosim.cluster.lifecycle.back_off_delay(9) == 300


def test_a_crash_is_not_a_killing_event():
    """Killing belongs to the kubelet killing a container (a deletion), not to a crash."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(pod())
    mark = len(cluster.timeline)
    cluster.crash("web")
    assert reasons(cluster, mark) == ["BackOff", "Created", "Started"]
    cluster.delete("web")
    assert reasons(cluster)[-1] == "Killing"
    assert cluster.timeline[-1].message == "Stopping container app"


def test_failing_start_process_loops_and_the_reason_is_in_last_state():
    """A process exiting 1 at start: CrashLoopBackOff, restarts with back-off, logs kept."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod(command=["cat", "/nope"])).pod
    assert p.status == "CrashLoopBackOff"
    assert p.last_state["app"].exit_code == 1
    assert "No such file or directory" in cluster.logs("web", previous=True)
    assert "/nope" not in cluster.timeline[-1].message
    cluster.advance(10 + 20 + 40)
    assert p.restarts["app"] == 3 and p.status == "CrashLoopBackOff"


def test_a_bare_pod_is_never_recreated():
    """kubectl delete pod of a bare Pod: it is gone, with its emptyDir."""
    cluster = rosim.Cluster(nodes=2)
    cluster.apply(pod())
    assert cluster.delete("web") is None
    assert cluster.pods == {} and all(not n.pods for n in cluster.nodes.values())


def test_a_deployments_pod_is_replaced_under_a_new_name_and_uid():
    """The ReplicaSet creates a pod NAME-HASH-xxxxx with a new uid; the hash stays."""
    cluster = rosim.Cluster(nodes=2, seed=5)
    old = cluster.apply(deployment()).pod
    new = cluster.delete(old.name)
    assert new is not None and new.name != old.name and new.uid != old.uid
    assert new.name.rsplit("-", 1)[0] == old.name.rsplit("-", 1)[0]
    assert new.owner == old.owner and new.owner.startswith("ReplicaSet/web-")
    assert reasons(cluster)[-4:] == ["SuccessfulCreate", "Scheduled", "Created", "Started"]
    assert cluster.pod("deployment/web") is new


def test_a_statefulset_pod_comes_back_with_its_name_and_claim():
    """NAME-0 is recreated as NAME-0 and mounts the same claim, with its data."""
    cluster = rosim.Cluster(nodes=3)
    cluster.apply({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
                   "spec": {"replicas": 2, "serviceName": "db",
                            "selector": {"matchLabels": {"app": "db"}},
                            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {
                                "containers": [{"name": "db", "image": "busybox",
                                                "volumeMounts": [{"name": "data",
                                                                  "mountPath": "/data"}]}]}},
                            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                                "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "1Gi"}}}}]}})
    cluster.exec("db-0", "echo row > /data/t")
    old_uid = cluster.pod("db-0").uid
    again = cluster.reschedule("db-0")
    assert again.name == "db-0" and again.uid != old_uid
    assert cluster.exec("db-0", "cat /data/t").stdout == "row\n"
    assert cluster.claims["data-db-0"] != cluster.claims["data-db-1"]


def test_a_daemonset_runs_one_pod_per_node_even_when_cordoned():
    """One pod per node; a cordoned node keeps its DaemonSet pod."""
    cluster = rosim.Cluster(nodes=3)
    cluster.cordon("node-3")
    applied = cluster.apply({"apiVersion": "apps/v1", "kind": "DaemonSet",
                             "metadata": {"name": "agent"},
                             "spec": {"selector": {"matchLabels": {"app": "agent"}},
                                      "template": {"metadata": {"labels": {"app": "agent"}},
                                                   "spec": pod()["spec"]}}})
    assert sorted(p.node for p in applied.pods) == ["node-1", "node-2", "node-3"]


def test_a_job_runs_to_completion_and_replaces_failed_pods():
    """Completions counted by Completed pods; a failing pod is replaced up to backoffLimit."""
    cluster = rosim.Cluster(nodes=2)
    ok = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "ok"},
          "spec": {"completions": 2, "template": {"spec": {
              "restartPolicy": "Never", "containers": [{"name": "a", "image": "busybox",
                                                        "command": ["true"]}]}}}}
    cluster.apply(ok)
    cluster.settle()
    done = [p for p in cluster.pods.values() if p.workload == "Job/ok"]
    assert [p.status for p in done] == ["Completed", "Completed"]
    assert reasons(cluster)[-1] == "Completed"
    bad = {**ok, "metadata": {"name": "bad"}, "spec": {"backoffLimit": 1, "template": {"spec": {
        "restartPolicy": "Never", "containers": [{"name": "a", "image": "busybox",
                                                  "command": ["false"]}]}}}}
    cluster.apply(bad)
    cluster.settle()
    failed = [p for p in cluster.pods.values() if p.workload == "Job/bad"]
    assert [p.status for p in failed] == ["Error", "Error"]
    assert cluster.timeline[-1].message == "Job bad has reached the specified backoff limit"


def test_crash_needs_running_containers():
    """A Pending pod cannot crash: LifecycleError naming its state."""
    cluster = rosim.Cluster(nodes=1)
    cluster.cordon("node-1")
    cluster.apply(pod())
    with pytest.raises(rosim.LifecycleError, match="has no containers \\(Pending\\)"):
        cluster.crash("web")
    with pytest.raises(rosim.ConfigError, match="exit_code"):
        cluster.crash("web", exit_code=0)


def test_env_command_and_args_reach_every_new_container():
    """command, args and env reach the process after a crash and a replacement too."""
    cluster = rosim.Cluster(nodes=2)
    cluster.apply(deployment(command=["echo"], args=["hello", "world"],
                             env=[{"name": "GREETING", "value": "hi there"}]))
    for step in (None, cluster.crash, cluster.reschedule):
        if step is not None:
            step(cluster.pod("deploy/web").name)
        ctr = cluster.pod("deploy/web").container()
        assert ctr.argv == ["echo", "hello", "world"] and ctr.env["GREETING"] == "hi there"
        assert cluster.exec("deploy/web", "echo $GREETING").stdout == "hi there\n"
    assert sum(len(v) for v in cluster.log_store.values()) == 3


def test_the_pods_hosts_file_is_writable_and_outlives_a_crash():
    """/etc/hosts is the kubelet's per-pod file: rw under a read-only root, kept by the
    pod across container crashes, fresh in a replacement pod."""
    cluster = rosim.Cluster(nodes=2, read_only=True)
    p = cluster.apply(deployment()).pod
    hosts = cluster.exec(p.name, "cat /etc/hosts").stdout
    assert hosts.startswith("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n")
    assert hosts.rstrip().endswith(f"\t{p.name}")
    assert not cluster.exec(p.name, "touch /etc/motd").ok
    assert cluster.exec(p.name, "echo '6.6.6.6 pypi.org' >> /etc/hosts").ok
    cluster.crash(p.name)
    assert "6.6.6.6 pypi.org" in cluster.exec(p.name, "cat /etc/hosts").stdout
    new = cluster.delete(p.name)
    assert "6.6.6.6" not in cluster.exec(new.name, "cat /etc/hosts").stdout
    runtime = cluster.node(p.node).runtime
    assert f"/var/lib/kubelet/pods/{p.uid}/etc-hosts" not in runtime._host_files


@pytest.mark.parametrize(("size_limit", "memory", "expected_mib"), [
    (None, "64Mi", 64), ("32Mi", "64Mi", 32), ("128Mi", "64Mi", 64)])
def test_a_memory_empty_dir_is_sized_by_the_pods_memory_limit(size_limit, memory,
                                                               expected_mib):
    """medium: Memory: a tmpfs of the smaller of sizeLimit and the pod's memory limit."""
    cluster = rosim.Cluster(nodes=1)
    empty_dir = {"medium": "Memory", **({"sizeLimit": size_limit} if size_limit else {})}
    manifest = pod(volumeMounts=[{"name": "m", "mountPath": "/m"}],
                   resources={"limits": {"memory": memory}})
    manifest["spec"]["volumes"] = [{"name": "m", "emptyDir": empty_dir}]
    ctr = cluster.apply(manifest).pod.container()
    assert ctr.write_bytes("/m/big", 256 * 2**20) == expected_mib * 2**20
    assert f"size={expected_mib * 1024}k" in ctr.proc_mounts

"""The kubelet's ``/dev/termination-log`` (domain.md §5): writable, per container, read at exit."""

from __future__ import annotations

import pytest

import rosim


def pod(name="web", read_only=True, **container):
    """A bare Pod with one busybox container, its root read-only by default."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": {
        "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"],
                        "securityContext": {"readOnlyRootFilesystem": read_only},
                        **container}]}}


def test_termination_log_is_writable_under_a_read_only_root():
    """/etc is EROFS, /dev/termination-log takes the write (mode 0666, empty at start)."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(pod())
    denied = cluster.exec("web", "echo x > /etc/motd")
    assert denied.status != 0 and "Read-only file system" in denied.stderr
    assert cluster.exec("web", "stat -c %a /dev/termination-log").stdout.strip() == "666"
    assert cluster.exec("web", "cat /dev/termination-log").stdout == ""
    assert cluster.exec("web", "echo 'disk full' > /dev/termination-log").status == 0
    assert cluster.exec("web", "cat /dev/termination-log").stdout == "disk full\n"


def test_the_message_lands_in_last_state_after_a_crash():
    """The kubelet reads the file into ``lastState.terminated.message``; the new container
    starts with an empty file of its own."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod
    cluster.exec("web", "echo 'cannot open /data/db' > /dev/termination-log")
    cluster.crash("web", exit_code=3)
    state = p.last_state["app"]
    assert (state.exit_code, state.reason, state.message) == (
        3, "Error", "cannot open /data/db\n")
    assert cluster.exec("web", "cat /dev/termination-log").stdout == ""


def test_the_message_is_cut_at_4096_bytes():
    """The kubelet reads at most 4096 bytes of the file."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod

    def last_words():
        with open("/dev/termination-log", "w") as f:
            f.write("a" * 5000)

    p.container().run(last_words)
    cluster.crash("web")
    assert p.last_state["app"].message == "a" * 4096


def test_fallback_to_logs_on_error_uses_the_log_tail():
    """``FallbackToLogsOnError``: an empty file and a failure give the log's last lines."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod(terminationMessagePolicy="FallbackToLogsOnError")).pod
    for n in range(100):
        cluster.write_stdout("web", f"line {n}\n")
    cluster.crash("web")
    message = p.last_state["app"].message
    assert message.startswith("line 20\n") and message.endswith("line 99\n")


def test_the_file_policy_leaves_the_message_empty():
    """The default policy ``File`` does not look at the log."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod
    cluster.write_stdout("web", "fatal: no config\n")
    cluster.crash("web")
    assert p.last_state["app"].message == ""


def test_a_custom_termination_message_path_is_mounted_there():
    """``terminationMessagePath`` moves the file; /dev/termination-log is then absent."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod(terminationMessagePath="/tmp/last-words")).pod
    assert cluster.exec("web", "echo bye > /tmp/last-words").status == 0
    assert cluster.exec("web", "test -e /dev/termination-log").status != 0
    cluster.crash("web")
    assert p.last_state["app"].message == "bye\n"


def test_deleting_the_pod_deletes_its_termination_files():
    """The files live in the pod's directory on the node and go with it."""
    cluster = rosim.Cluster(nodes=1)
    p = cluster.apply(pod()).pod
    uid = p.uid
    cluster.crash("web")
    runtime = cluster.node("node-1").runtime
    assert sum(k.startswith(f"/var/lib/kubelet/pods/{uid}/containers/")
               for k in runtime._host_files) == 2
    cluster.delete("web")
    assert not any(k.startswith(f"/var/lib/kubelet/pods/{uid}/") for k in runtime._host_files)


@pytest.mark.parametrize("field, value", [("terminationMessagePolicy", "Always"),
                                          ("terminationMessagePath", "relative/path")])
def test_bad_termination_fields_are_refused(field, value):
    """A bad policy or path names the field and the value."""
    cluster = rosim.Cluster(nodes=1)
    with pytest.raises(rosim.ConfigError, match=field):
        cluster.apply(pod(**{field: value}))

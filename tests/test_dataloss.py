"""Scenario 3: what survives which pod event, and the logging app that loses its data."""

from __future__ import annotations

import pytest

import rosim
from rosim import PodEvent, StorageKind

K, E = StorageKind, PodEvent

# domain.md §5 "Lifecycles: what survives what", cell by cell, seen from the
# Deployment's pod after the event. "kept": the pod reads the file; "lost":
# the file went with the container or the pod; "unreachable": the file is
# intact on a node the pod does not run on or cannot reach (hostPath "stays
# on the old node, not seen by the new pod"; "the node's local data is
# unreachable, not necessarily destroyed"; "a local PersistentVolume ...
# after a drain the pod stays Pending and the data is intact on that node").
# The page's "docker restart" row is a runtime event, not a Kubernetes one:
# it is the backdoor scenario's, not this table's.
KEPT, LOST, AWAY = rosim.Survival.KEPT, rosim.Survival.LOST, rosim.Survival.UNREACHABLE
DOMAIN_SURVIVAL = {
    #             layer tmpfs emptyDir Memory hostPath pvc  pvc-local
    E.CRASH: (LOST, LOST, KEPT, KEPT, KEPT, KEPT, KEPT),
    E.RESCHEDULE: (LOST, LOST, LOST, LOST, AWAY, KEPT, KEPT),
    E.DRAIN: (LOST, LOST, LOST, LOST, AWAY, KEPT, AWAY),
    E.NODE_FAILURE: (LOST, LOST, LOST, LOST, AWAY, KEPT, AWAY),
}
COLUMNS = (K.LAYER, K.TMPFS, K.EMPTY_DIR, K.EMPTY_DIR_MEMORY, K.HOST_PATH, K.PVC, K.PVC_LOCAL)


@pytest.fixture(scope="module")
def table() -> rosim.SurvivalTable:
    """The survival table, computed once by running every event."""
    return rosim.survival_table()


CELLS = [(kind, event, DOMAIN_SURVIVAL[event][i])
         for event in PodEvent for i, kind in enumerate(COLUMNS)]


@pytest.mark.parametrize(("kind", "event", "expected"), CELLS,
                         ids=[f"{k.value}-{e.value}" for k, e, _ in CELLS])
def test_survival_table_matches_the_domain_page(table, kind, event, expected):
    """Each computed cell is the domain page's."""
    assert table.outcome(kind, event) is expected
    assert table.survives(kind, event) is (expected is KEPT)


def test_survival_table_covers_every_kind_and_event(table):
    """Rows are the storage kinds, columns the events; rows() reads kept/lost."""
    assert set(table.kinds) == set(COLUMNS) and table.events == tuple(PodEvent)
    assert len(table.cells) == len(COLUMNS) * len(PodEvent)
    rows = table.rows()
    assert rows[0][0] == "storage" and len(rows) == len(COLUMNS) + 1
    layer = next(r for r in rows if r[0] == "writable layer")
    assert layer[1:] == ("lost", "lost", "lost", "lost")
    host = next(r for r in rows if r[0] == "hostPath")
    assert host[1:] == ("kept", "unreachable", "unreachable", "unreachable")
    assert "persistentVolumeClaim (network)" in str(table)
    assert table._repr_html_().count("<tr>") == len(COLUMNS) + 1


def test_survival_table_for_chosen_events():
    """survival_table(events) runs only those events; unknown ones are refused."""
    small = rosim.survival_table(["crash"])
    assert small.events == (PodEvent.CRASH,)
    assert small.survives("emptyDir", "crash") and not small.survives("layer", "crash")
    with pytest.raises(rosim.ConfigError, match="^events item\\(='explode'\\) must be one of"):
        rosim.survival_table(["explode"])


# ----------------------------------------------------------------- the app
def readable(story, stream):
    """(written, readable) for ``stream`` at each step of the story."""
    return [(s.written[stream], s.readable[stream]) for s in story.steps]


def test_app_on_the_writable_layer_loses_everything_on_a_crash():
    """Logs and data in the layer: a crash (new container) loses every record."""
    story = rosim.run_app_story(logs="layer", data="layer", events=["crash"], requests=4)
    assert [s.event for s in story.steps] == ["deploy", "crash"]
    assert readable(story, "logs") == readable(story, "data") == [(4, 4), (4, 0)]
    assert story.lost == {"logs": 4, "data": 4}


def test_restart_in_place_is_not_a_kubernetes_event():
    """The kubelet never restarts a container in place: 'restart' is no story event."""
    with pytest.raises(rosim.ConfigError, match="^events item\\(='restart'\\) must be one of"):
        rosim.run_app_story(events=["restart"])


def test_app_on_empty_dir_survives_a_crash_not_a_reschedule():
    """emptyDir outlives the container but goes with the pod."""
    story = rosim.run_app_story(logs="emptyDir", data="emptyDir",
                                events=["crash", "reschedule"], requests=5)
    assert readable(story, "data") == [(5, 5), (5, 5), (10, 0)]
    assert readable(story, "logs") == [(5, 5), (5, 5), (10, 0)]
    assert story.steps[2].node != story.steps[1].node


def test_app_with_host_path_loses_its_records_when_the_pod_moves():
    """hostPath keeps data across a crash; the new node does not have it."""
    story = rosim.run_app_story(logs="stdout", data="hostPath",
                                events=["crash", "reschedule"], requests=3)
    assert readable(story, "data") == [(3, 3), (3, 3), (6, 0)]


def test_app_with_stdout_logs_and_pvc_data_loses_nothing():
    """stdout logs + network PVC data: no loss across crash, reschedule, node failure."""
    story = rosim.run_app_story(logs="stdout", data="pvc",
                                events=["crash", "reschedule", "node-failure"], requests=6)
    assert [s.status for s in story.steps] == ["Running"] * 4
    assert len({s.node for s in story.steps[1:]}) > 1, "the pod moved"
    assert readable(story, "logs") == readable(story, "data") == [
        (6, 6), (6, 6), (12, 12), (18, 18)]
    assert story.lost == {"logs": 0, "data": 0} and story.failed_requests == ()


def test_app_with_local_pvc_is_pending_when_its_node_fails():
    """A local PV keeps data through a crash; its node failing leaves the pod Pending."""
    story = rosim.run_app_story(logs="stdout", data="pvc-local",
                                events=["crash", "node-failure"], requests=2)
    assert readable(story, "data") == [(2, 2), (2, 2), (4, 0)]
    assert story.steps[-1].status == "Pending" and story.steps[-1].node is None


def test_stories_count_only_their_own_records():
    """Two stories in a row each read exactly the records they wrote."""
    for _ in range(2):
        story = rosim.run_app_story(logs="stdout", data="pvc", events=["crash"], requests=3)
        assert readable(story, "data") == [(3, 3), (3, 3)]


def test_read_only_deploy_fails_at_once():
    """readOnlyRootFilesystem: the first log write fails with EROFS at deploy time."""
    story = rosim.run_app_story(logs="layer", data="layer", read_only=True,
                                events=["crash"], requests=5)
    assert story.steps[0].status == "CrashLoopBackOff"
    assert story.steps[0].written == {"logs": 0, "data": 0}
    assert ("OSError: [Errno 30] Read-only file system: '/var/log/myapp.log'"
            in story.deploy_log)
    backoff = [line for line in story.timeline if "BackOff" in line]
    assert backoff and "Back-off restarting failed container app in pod myapp-" in backoff[0]
    assert not any("/var/log/myapp.log" in line for line in backoff), "the reason is in lastState"
    assert "readOnlyRootFilesystem" in str(story)


def test_read_only_with_volumes_runs_and_loses_nothing():
    """The fix: read-only root, logs to stdout, data on a PVC — runs, nothing lost."""
    story = rosim.run_app_story(logs="stdout", data="pvc", read_only=True,
                                events=["crash", "reschedule", "node-failure"], requests=2)
    assert [s.status for s in story.steps] == ["Running"] * 4
    assert readable(story, "logs")[-1] == readable(story, "data")[-1] == (6, 6)
    assert story.lost == {"logs": 0, "data": 0}


def test_read_only_with_empty_dir_logs_starts():
    """Logs on an emptyDir and data on a PVC: a read-only root is no problem."""
    story = rosim.run_app_story(logs="emptyDir", data="pvc", read_only=True, events=[],
                                requests=3)
    assert story.steps[0].status == "Running" and story.lost["logs"] == 0


def test_app_manifest_places_logs_and_data():
    """app_manifest puts volumes where asked and sets LOG_FILE for stdout."""
    m = rosim.app_manifest(logs="stdout", data="pvc", read_only=True)
    app = m["spec"]["template"]["spec"]["containers"][0]
    assert app["image"] == "logapp"
    assert m["kind"] == "Deployment"
    m = m["spec"]["template"]
    assert {"name": "LOG_FILE", "value": "-"} in app["env"]
    assert app["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert m["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {
        "claimName": "data-claim"}}]
    assert app["securityContext"] == {"readOnlyRootFilesystem": True}
    layer = rosim.app_manifest()["spec"]["template"]
    assert layer["spec"]["volumes"] == [] and "securityContext" not in \
        layer["spec"]["containers"][0]
    (template,) = rosim.pod_templates(rosim.app_manifest())
    assert (template.kind, template.name) == ("Deployment", "myapp")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"data": "stdout"}, "data(='stdout') must be a place files can be kept."),
    ({"data": "tmpfs"}, "data(='tmpfs') must be a place files can be kept."),
    ({"logs": "tmpfs"}, "logs(='tmpfs') must be a pod volume, the layer or stdout."),
    ({"logs": "disk"}, "logs(='disk') must be one of 'layer', "),
    ({"data": "nfs"}, "data(='nfs') must be one of 'layer', "),
])
def test_app_manifest_refuses_bad_kinds(kwargs, message):
    """Bad storage kinds are ConfigErrors naming the argument and the value."""
    with pytest.raises(rosim.ConfigError) as info:
        rosim.app_manifest(**kwargs)
    assert str(info.value).startswith(message)


def test_run_app_story_checks_its_arguments():
    """requests must be a non-negative int; events must be known events."""
    for bad in (-1, 2.5, True):
        with pytest.raises(rosim.ConfigError, match="requests"):
            rosim.run_app_story(requests=bad)
    with pytest.raises(rosim.ConfigError, match="^events item\\(='meteor'\\) must be one of"):
        rosim.run_app_story(events=["meteor"])


def test_events_after_a_local_volume_leaves_the_pod_pending():
    """A drain or node failure after the pod went Pending hits the node it last ran on.

    With its local PersistentVolume's node drained, the pod stays Pending and
    has no node; a later node failure (or a second one) is not an error.
    """
    from rosim.cluster.dataloss import run_app_story

    for events in (("drain", "node-failure"), ("node-failure", "node-failure"),
                   ("node-failure", "drain")):
        story = run_app_story(logs="pvc-local", data="pvc-local", events=events)
        assert [s.status for s in story.steps] == ["Running", "Pending", "Pending"]
        assert story.steps[-1].node is None

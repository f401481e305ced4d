"""Scenario 4: the storage mechanisms of domain.md §6 and the quota-bypass story."""

from __future__ import annotations

import errno

import pytest

import rosim

MiB = 1024**2
GiB = 1024**3


def sized(ref, size):
    """busybox and a layer of its own: ``size`` bytes of layers in all."""
    base = rosim.Image.builtin("busybox")
    return base.with_layer({"/opt/app.bin": rosim.File(size=size - rosim.image_size(base))},
                           name=ref)


def pod(name, *, read_only=False, limit=None, request=None, priority=0, volumes=(),
        mounts=(), image="busybox"):
    """A one-container pod manifest of the scenario's shape."""
    container = {"name": "app", "image": image, "command": ["sleep", "infinity"],
                 "volumeMounts": list(mounts)}
    if read_only:
        container["securityContext"] = {"readOnlyRootFilesystem": True}
    resources = {k: {"ephemeral-storage": v} for k, v in (("limits", limit),
                                                           ("requests", request)) if v}
    if resources:
        container["resources"] = resources
    spec = {"volumes": list(volumes), "containers": [container]}
    docs = []
    if priority:
        spec["priorityClassName"] = f"p{priority}"
        docs.append({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                     "metadata": {"name": f"p{priority}"}, "value": priority})
    return [*docs, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}]


def claimed(cluster, name, capacity):
    """A pod with a PVC of ``capacity`` at /data."""
    cluster.add_persistent_volume(f"{name}-pv", capacity, claim=f"{name}-data")
    return cluster.apply(pod(name, volumes=[
        {"name": "data", "persistentVolumeClaim": {"claimName": f"{name}-data"}}],
        mounts=[{"name": "data", "mountPath": "/data"}])).pod


def enospc(call, *args):
    """Call and return the OSError's errno and message (None if no error)."""
    try:
        call(*args)
    except OSError as exc:
        return exc.errno, str(exc)
    return None


# ----------------------------------------------------------------- mechanisms
def test_a_volume_quota_fails_the_write_with_enospc_at_its_capacity():
    """A PV's capacity is its quota: the writes fill it exactly, then ENOSPC."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    writer = claimed(cluster, "t", "8Mi").container().open_writer("/data/x")
    assert writer.write(20 * MiB) == 8 * MiB
    assert enospc(writer.write, MiB) == (errno.ENOSPC, "[Errno 28] No space left on device")
    assert cluster.usage("t").claims == {"data": 8 * MiB}
    disk = cluster.disk("node-1")
    assert disk.used == disk.images == rosim.image_size(rosim.Image.builtin("busybox"))


def test_the_volume_quota_never_sees_the_writable_layer():
    """The bypass: bytes in the image's directories count on the node, not in the quota."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    ctr = claimed(cluster, "t", "8Mi").container()
    assert ctr.write_bytes("/var/cache.bin", 100 * MiB) == 100 * MiB
    usage = cluster.usage("t")
    assert (usage.claims, usage.layers) == ({"data": 0}, {"app": 100 * MiB})
    disk = cluster.disk("node-1")
    assert disk.used - disk.images == 100 * MiB


def test_memory_empty_dir_is_a_tmpfs_that_fails_at_its_size_limit():
    """emptyDir medium: Memory with sizeLimit: ENOSPC at once; the node's disk is untouched."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.apply(pod("m", volumes=[{"name": "m", "emptyDir": {"medium": "Memory",
                                                                "sizeLimit": "4Mi"}}],
                      mounts=[{"name": "m", "mountPath": "/m"}]))
    writer = cluster.pod("m").container().open_writer("/m/x")
    assert writer.write(6 * MiB) == 4 * MiB
    assert enospc(writer.write, MiB)[0] == errno.ENOSPC
    assert cluster.usage("m").memory == {"m": 4 * MiB}
    disk = cluster.disk("node-1")
    assert disk.used == disk.images
    assert cluster.tick() == []


def test_disk_empty_dir_size_limit_evicts_later_without_a_write_error():
    """emptyDir sizeLimit on disk: the write succeeds; the kubelet evicts at its next pass."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.apply(pod("e", volumes=[{"name": "scratch", "emptyDir": {"sizeLimit": "1Mi"}}],
                      mounts=[{"name": "scratch", "mountPath": "/scratch"}]))
    assert cluster.pod("e").container().write_bytes("/scratch/x", 3 * MiB) == 3 * MiB
    assert cluster.tick() == ["e"]
    evicted = cluster.pod("e")
    assert (evicted.status, evicted.message) == (
        "Evicted", 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ')
    disk = cluster.disk("node-1")
    assert disk.used == disk.images


def test_ephemeral_storage_limit_counts_the_layer_and_evicts_with_the_kubelet_message():
    """limits.ephemeral-storage: the writable layer counts; over it, Evicted at the next pass."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    ctr = cluster.apply(pod("l", limit="2Mi")).pod.container()
    assert ctr.write_bytes("/var/x", 2 * MiB) == 2 * MiB
    assert cluster.tick() == []
    ctr.write_bytes("/var/x", MiB)
    assert cluster.tick() == ["l"]
    # The pod-level check (the sum of the declared limits) comes first.
    assert cluster.pod("l").message == ("Pod ephemeral local storage usage exceeds the total "
                                        "limit of containers 2Mi. ")


def test_container_limit_message_when_the_pod_total_is_not_exceeded():
    """Two containers, one over its own limit, the pod under the sum: the container message."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    small = {"name": "small", "image": "busybox", "command": ["sleep", "infinity"],
             "resources": {"limits": {"ephemeral-storage": "1Mi"}}}
    big = {**small, "name": "big", "resources": {"limits": {"ephemeral-storage": "1Gi"}}}
    applied = cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "two"},
                             "spec": {"containers": [small, big]}})
    applied.pod.container("small").write_bytes("/var/x", 2 * MiB)
    assert cluster.tick() == ["two"]
    assert cluster.pod("two").message == ('Container small exceeded its local ephemeral '
                                          'storage limit "1Mi". ')


def test_ephemeral_storage_limit_does_not_count_memory_empty_dirs():
    """A Memory emptyDir is memory, not ephemeral storage: no eviction for it."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.apply(pod("m", limit="1Mi", volumes=[{"name": "m", "emptyDir": {
        "medium": "Memory", "sizeLimit": "8Mi"}}], mounts=[{"name": "m", "mountPath": "/m"}]))
    cluster.pod("m").container().write_bytes("/m/x", 4 * MiB)
    assert cluster.tick() == []


def test_overlay_size_on_a_nodes_runtime_caps_each_writable_layer():
    """containers/storage overlay.size=, set on a node before its pods start: ENOSPC."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.node("node-1").runtime.overlay_size = 4 * MiB
    writer = cluster.apply(pod("o")).pod.container().open_writer("/var/x")
    assert writer.write(10 * MiB) == 4 * MiB
    assert enospc(writer.write, MiB)[0] == errno.ENOSPC
    assert cluster.apply(pod("p")).pod.container().write_bytes("/var/x", 4 * MiB) == 4 * MiB


def test_read_only_root_fails_at_open_with_erofs_while_the_claim_takes_writes():
    """readOnlyRootFilesystem: a write into the image is EROFS at open; /data still works."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.add_persistent_volume("r-pv", "4Mi", claim="r-data")
    ctr = cluster.apply(pod("r", read_only=True, volumes=[
        {"name": "data", "persistentVolumeClaim": {"claimName": "r-data"}}],
        mounts=[{"name": "data", "mountPath": "/data"}])).pod.container()
    with pytest.raises(OSError) as info:
        ctr.open_writer("/var/cache.bin")
    assert (info.value.errno, info.value.filename) == (errno.EROFS, "/var/cache.bin")
    assert ctr.write_bytes("/data/cache.bin", 8 * MiB) == 4 * MiB


def test_a_full_node_disk_fails_every_writer_on_it():
    """Below zero available, layers and emptyDirs on the node all get ENOSPC."""
    cluster = rosim.Cluster(nodes=1, disk="64Mi", images={"app:1": sized("app:1", 4 * MiB)})
    a = cluster.apply(pod("a", image="app:1")).pod.container()
    b = cluster.apply(pod("b", image="app:1", volumes=[{"name": "s", "emptyDir": {}}],
                          mounts=[{"name": "s", "mountPath": "/s"}])).pod.container()
    assert a.write_bytes("/var/x", 100 * MiB) == 60 * MiB, "the image holds 4 MiB of it"
    assert cluster.disk("node-1").available == 0
    assert enospc(b.write_bytes, "/var/y", MiB)[0] == errno.ENOSPC
    assert enospc(b.write_bytes, "/s/y", MiB)[0] == errno.ENOSPC


def test_disk_pressure_evicts_in_the_kubelets_order():
    """Over requests first, then lower priority, then the largest use beyond the request."""
    cluster = rosim.Cluster(nodes=1, disk="100Mi", images={"app:1": sized("app:1", MiB)})
    spec = {"within": dict(request="90Mi", priority=0), "high": dict(priority=100),
            "low-small": dict(priority=0), "low-big": dict(priority=0)}
    sizes = {"within": 85, "high": 5, "low-small": 2, "low-big": 3}
    for name, kwargs in spec.items():
        cluster.apply(pod(name, image="app:1", **kwargs)).pod.container().write_bytes(
            "/var/x", sizes[name] * MiB)
    assert cluster.disk("node-1").pressure and cluster.disk("node-1").images == MiB
    # 100 MiB - 1 MiB image - 95 MiB written = 4 MiB available, under the 15 MiB of
    # imagefs.available<15% (the same disk). At most one pod per pass (every 10 s):
    # 4 + 3 = 7, 7 + 2 = 9, 9 + 5 = 14 MiB, still under 15 MiB, so the pod within its
    # request goes last; 14 + 85 = 99 MiB, and the passes after evict nobody.
    assert [cluster.tick() for _ in range(5)] == [
        ["low-big"], ["low-small"], ["high"], ["within"], []]
    assert cluster.clock == 50
    assert cluster.pod("low-big").message == (
        "The node was low on resource: ephemeral-storage. Threshold quantity: 15Mi, "
        "available: 4Mi. Container app was using 3Mi, request is 0, has larger "
        "consumption of ephemeral-storage. ")
    assert "available: 9Mi. Container app was using 5Mi, request is 0" in \
        cluster.pod("high").message
    assert cluster.pod("within").message == (
        "The node was low on resource: ephemeral-storage. Threshold quantity: 15Mi, "
        "available: 14Mi. ")
    evictions = [(e.kind, e.time) for e in cluster.timeline if e.kind.startswith(("Evict",
                                                                               "Node"))]
    assert evictions == [("NodeHasDiskPressure", 10), ("EvictionThresholdMet", 10),
                         ("Evicted", 10), ("EvictionThresholdMet", 20), ("Evicted", 20),
                         ("EvictionThresholdMet", 30), ("Evicted", 30),
                         ("EvictionThresholdMet", 40), ("Evicted", 40)]
    cluster.tick(290)
    assert [e.time for e in cluster.timeline if e.kind == "NodeHasNoDiskPressure"] == [340], \
        "evictionPressureTransitionPeriod: 5 minutes after the last pass under pressure"
    assert {e.message for e in cluster.timeline if e.kind == "EvictionThresholdMet"} == {
        "Attempting to reclaim ephemeral-storage"}
    assert [i.ref for i in rosim.node_images(cluster, "node-1")] == ["app:1"], "in use: kept"


def test_dead_containers_are_reclaimed_before_any_pod_is_evicted():
    """Under pressure the kubelet first removes the dead containers it keeps."""
    cluster = rosim.Cluster(nodes=1, disk="100Mi", images={"app:1": sized("app:1", MiB)})
    ctr = cluster.apply(pod("crashy", image="app:1")).pod.container()
    ctr.write_bytes("/var/x", 95 * MiB)
    cluster.crash("crashy")
    dead = cluster.pod("crashy").dead["app"]
    assert dead.state == "stopped" and cluster.disk("node-1").used == 96 * MiB
    assert cluster.disk("node-1").pressure
    assert cluster.tick() == []
    assert dead.state == "removed" and cluster.disk("node-1").used == MiB, "the image stays"
    assert cluster.pod("crashy").status == "Running"


# ----------------------------------------------------------------- the story
@pytest.fixture(scope="module")
def fixes():
    """The story without protection and with each fix."""
    return rosim.compare_quota_fixes()


def outcomes(run):
    """(tenant, outcome) for each tenant of a run."""
    return [(t.tenant, t.outcome.value) for t in run.tenants]


def test_without_protection_the_quota_shows_nothing_while_the_node_fills(fixes):
    """A writes 9.3 GiB to its layer; its 1 GiB quota shows 0 B; the disk is full at 50 s."""
    run = fixes.run("no protection")
    a = run.tenant("tenant-a")
    assert (run.start_used, run.samples[0].images) == (512 * MiB, 512 * MiB)
    assert (a.kind, a.written, a.claim_used, a.quota) == ("writable layer", 9528 * MiB, 0,
                                                          GiB)
    full = run.sample_at(50)
    assert (full.available, full.usage["tenant-a"]["persistentVolumeClaim"]) == (0, 0)
    assert run.sample_at(40).usage["tenant-a"]["writable layer"] == 8000 * MiB


def test_without_protection_b_is_evicted_at_85_percent_before_a(fixes):
    """At 40 s the disk is 87 % full: imagefs.available (the node's disk) is under 15 %,
    DiskPressure, and the kubelet evicts B (priority 0) first; at 50 s the disk is full,
    C's write fails, and A goes."""
    run = fixes.run("no protection")
    assert outcomes(run) == [("tenant-a", "Evicted"), ("tenant-b", "Evicted"),
                             ("tenant-c", "ENOSPC")]
    # 512 MiB image + 4 x (2000 + 50 + 50) MiB = 8912 MiB used at 40 s: 1328 MiB
    # available, under 15 % of 10 GiB (1536 MiB). B (200 MiB, priority 0) goes; C is
    # within its 1Gi request. 1528 MiB are left for the next 10 s: A takes them all,
    # C's write fails, and the pass at 50 s evicts A (priority 1000, no request).
    # The tenants' image is in use: the kubelet has nothing to reclaim first.
    assert run.evicted == ("tenant-b", "tenant-a")
    b, c = run.tenant("tenant-b"), run.tenant("tenant-c")
    assert (b.error, b.error_at, b.evicted_at, b.written, b.kept) == (
        "", None, 40, 200 * MiB, 0)
    assert run.tenant("tenant-a").evicted_at == 50
    assert b.message == (
        "The node was low on resource: ephemeral-storage. Threshold quantity: 1536Mi, "
        "available: 1328Mi. Container app was using 200Mi, request is 0, has larger "
        "consumption of ephemeral-storage. ")
    # C: 50 MiB every 10 s for 120 s, all but the one at 50 s.
    assert (c.evicted_at, c.written, c.kept, c.lost) == (None, 550 * MiB, 550 * MiB, 50 * MiB)
    assert run.harmed == ("tenant-a", "tenant-b", "tenant-c")
    assert run.sample_at(50).available_after == (10240 - 512 - 200) * MiB
    assert [e.time for e in run.events if e.kind == "EvictionThresholdMet"] == [40, 50]
    assert [e.kind for e in run.events if e.kind.startswith("Node")] == [
        "NodeHasDiskPressure"], "the condition stays 5 minutes, past the end of the run"
    assert not [e for e in run.events if e.kind == "DeleteUnusedImages"]
    assert run.samples[-1].images == 512 * MiB


def test_read_only_root_stops_writes_to_the_image_with_erofs_at_once(fixes):
    """readOnlyRootFilesystem: A's first write is EROFS; nobody else is harmed."""
    run = fixes.run("readOnlyRootFilesystem")
    assert outcomes(run) == [("tenant-a", "EROFS"), ("tenant-b", "ok"), ("tenant-c", "ok")]
    a = run.tenant("tenant-a")
    assert (a.error_at, a.written) == (10, 0)
    assert "[Errno 30] Read-only file system: '/var/cache/app/cache.bin'" in run.events[0].message


def test_read_only_root_with_the_cache_on_the_pvc_stops_at_the_quota(fixes):
    """The cache on the PVC: A fills its 1 GiB quota, then ENOSPC; the node is untouched."""
    run = fixes.run("readOnlyRootFilesystem, cache on the PVC")
    assert outcomes(run) == [("tenant-a", "ENOSPC"), ("tenant-b", "ok"), ("tenant-c", "ok")]
    a = run.tenant("tenant-a")
    assert (a.kind, a.written, a.claim_used, a.kept, a.error_at) == (
        "persistentVolumeClaim", GiB, GiB, GiB, 10)
    assert run.peak.node_usage("tenant-a") == 0


def test_ephemeral_storage_limit_evicts_a_with_the_kubelet_message(fixes):
    """limits.ephemeral-storage 4Gi: A is evicted at 30 s, before the node is in danger."""
    run = fixes.run("ephemeral-storage limit 4Gi")
    assert outcomes(run) == [("tenant-a", "Evicted"), ("tenant-b", "ok"), ("tenant-c", "ok")]
    a = run.tenant("tenant-a")
    assert (a.evicted_at, a.limit, a.message) == (
        30, 4 * GiB, "Pod ephemeral local storage usage exceeds the total limit of "
        "containers 4Gi. ")
    assert run.evicted == ("tenant-a",)


def test_overlay_size_gives_a_enospc_at_its_size(fixes):
    """overlay.size=4G on the node: A's layer stops at 4 GiB with ENOSPC; A keeps running."""
    run = fixes.run("overlay.size=4G")
    assert outcomes(run) == [("tenant-a", "ENOSPC"), ("tenant-b", "ok"), ("tenant-c", "ok")]
    a = run.tenant("tenant-a")
    assert (a.written, a.kept, a.error_at, a.evicted_at) == (4 * GiB, 4 * GiB, 30, None)
    assert run.overlay_size == 4 * GiB


def test_samples_every_tick_and_a_small_writer_harms_nobody():
    """Twelve samples of 10 s; 2 GiB written by A fit without harm."""
    run = rosim.quota_case("2Gi")
    assert [s.time for s in run.samples] == [10.0 * i for i in range(1, 13)]
    assert (run.harmed, run.events, run.label) == ((), (), "no protection")
    assert run.samples[-1].used == 2 * GiB + 2 * 600 * MiB + run.samples[-1].images
    assert run.samples[-1].images == 512 * MiB


def test_runs_are_reproducible():
    """Two runs of one case are equal: nothing leaks from one cluster to the next."""
    first = rosim.quota_case("3Gi", "pvc")
    assert rosim.quota_case("3Gi", "pvc") == first
    assert first.tenant("tenant-a").written == GiB


def test_text_and_html_say_who_lost_what(fixes):
    """The renderings name outcomes, kinds, quotas and the kubelet's messages."""
    run = fixes.run("no protection")
    text = str(run)
    assert text.splitlines()[0] == ("no protection: node disk 10G (512M of images at the "
                                    "start), eviction threshold imagefs.available<15% (1.5G)")
    assert "tenant-a  Evicted at 50 s  writable layer  9.3G   9.8G  0B    0B of 1G" in text
    assert "Evicted               tenant-b  The node was low on resource" in text
    assert "<td>0B of 1G</td>" in run._repr_html_()
    assert str(fixes).count("tenant-b") == 5
    assert fixes._repr_html_().count('rowspan="3"') == 5
    assert "tenant-a  9.3G" in str(run.sample_at(50))
    assert str(run.sample_at(50)).startswith("at 50 s: node disk 10G used of 10G, 0B "
                                             "available; images 512M")
    assert run.tenant("tenant-c").summary() == (
        "tenant-c: wrote 550M of 600M to its emptyDir (/scratch/index.db); ENOSPC from 50 s; "
        "kept 550M.")


def test_tenant_manifest_and_validation():
    """QuotaTenant builds its PriorityClass and Pod manifests and names a bad field."""
    a = rosim.quota_tenants()[0].replace(read_only=True, limit="4Gi")
    priority_class, pod_object = rosim.read_manifests(a.yaml())
    spec = pod_object.template
    assert (priority_class.name, priority_class.value) == ("priority-1000", 1000)
    assert (spec.priority_class_name, spec.priority, spec.containers[0].read_only_root_filesystem,
            spec.containers[0].ephemeral_storage_limit) == ("priority-1000", None, True, 4 * GiB)
    assert "\n  priority:" not in a.yaml()
    assert a.claim == "tenant-a-data" and a.kind == "writable layer"
    assert a.replace(claim_path="/var/cache/app").kind == "persistentVolumeClaim"
    with pytest.raises(rosim.ConfigError, match=r"rate\(='fast'\)"):
        a.replace(rate="fast")
    with pytest.raises(rosim.ConfigError, match=r"colour\(='red'\) is not a field"):
        a.replace(colour="red")
    with pytest.raises(rosim.ConfigError, match=r"where\(='disk'\)"):
        rosim.quota_tenants(where="disk")
    with pytest.raises(rosim.ConfigError, match=r"protections item\(='chmod'\)"):
        rosim.quota_case(protections=["chmod"])
    with pytest.raises(rosim.ConfigError, match="names a tenant twice"):
        rosim.run_quota_scenario([a, a])
    with pytest.raises(rosim.ConfigError, match=r"tick\(=0\)"):
        rosim.run_quota_scenario([a], tick=0)


def test_other_errors_are_reported_by_errno_name():
    """A write that fails for another reason (no such directory) keeps its errno name."""
    lost = rosim.QuotaTenant("lost", "/no/such/dir/file", rate="1Mi")
    result = rosim.run_quota_scenario([lost], duration=20).tenant("lost")
    assert (result.outcome, result.error, result.written, result.attempted) == (
        rosim.QuotaOutcome.OTHER_ERROR, "ENOENT", 0, 20 * MiB)


def test_the_exercise_check():
    """PASS for the stored answer; FAIL with a hint for the story, a big limit, a new app."""
    a = rosim.quota_tenants()[0]
    assert rosim.check_quota_exercise(a.replace(read_only=True, claim_path="/var/cache/app")
                                      ).startswith("PASS: tenant-b and tenant-c were never")
    story = rosim.check_quota_exercise(a)
    assert story.startswith("FAIL: tenant-b: wrote 200M") and "Hint: tenant-a put 9.3G" in story
    big = rosim.check_quota_exercise(a.replace(limit="8Gi"))
    assert "Hint: the kubelet checks the limit only every 10 s" in big
    assert rosim.check_quota_exercise(a.replace(rate="1Mi")).startswith("FAIL: rate changed")
    assert "Note: its root is still writable" in rosim.check_quota_exercise(a.replace(limit="4Gi"))


def test_a_fine_tick_resolves_write_errors_while_the_kubelet_keeps_its_pace():
    """tick=1: ENOSPC at the second the disk fills; evictions and samples every 10 s."""
    run = rosim.run_quota_scenario(rosim.quota_tenants(), tick=1.0)
    assert [s.time for s in run.samples] == [10.0 * i for i in range(1, 13)]
    # 9.5 GiB free after the image, 210 MiB/s written: 1328 MiB left at 40 s, under the
    # 1536 MiB threshold: B goes, giving back its 200 MiB; 1528 MiB at 205 MiB/s last
    # 7.45 s: full during second 48.
    assert run.tenant("tenant-c").error_at == 48
    assert [(e.time, e.pod) for e in run.events if e.kind == "Evicted"] == [
        (40, "tenant-b"), (50, "tenant-a")]
    assert run.tick == 10


def test_samples_report_what_the_kubelet_measures():
    """Each sample's per-kind usage is the pods' accounting, and adds up on the node."""
    run = rosim.quota_case("3Gi")
    for sample in run.samples:
        on_node = sum(sample.node_usage(t.tenant) for t in run.tenants)
        assert on_node + sample.images == sample.used


def test_empty_dir_usage_is_seen_with_the_volume_stats_lag():
    """The kubelet measures emptyDir usage every 60 s: an overflow is evicted late."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    volume = [{"name": "s", "emptyDir": {"sizeLimit": "1Mi"}}]
    ctr = cluster.apply(pod("e", volumes=volume, mounts=[{"name": "s", "mountPath": "/s"}])
                        ).pod.container()
    assert cluster.tick() == [], "measured at 10 s: empty"
    ctr.write_bytes("/s/x", 2 * MiB)
    passes = [cluster.tick() for _ in range(6)]
    assert passes == [[], [], [], [], [], ["e"]], "seen at the next measurement, 60 s later"
    assert cluster.clock == 70


JOBS = {"report-job:2.2": "1Gi", "report-job:2.3": "1Gi"}


def test_unused_images_are_deleted_before_anyone_is_evicted():
    """Lab 04's moment: two job images left an hour before; A writes 6.5 GiB. At 30 s the
    disk is under its threshold (10 GiB - 2.5 GiB of images - 3 x 2100 MiB = 1380 MiB,
    under 15 %, 1536 MiB); the kubelet deletes the two images and evicts nobody."""
    run = rosim.quota_case("6.5Gi", unused_images=JOBS)
    assert run.label == "no protection, 2 unused images"
    assert (run.start_used, run.sample_at(30).images) == (2560 * MiB, 2560 * MiB)
    assert run.sample_at(30).available == 1380 * MiB
    assert [(e.time, e.kind) for e in run.events] == [
        (30, "NodeHasDiskPressure"), (30, "EvictionThresholdMet"), (30, "DeleteUnusedImages")]
    assert run.events[2].message == "2 unused images deleted, 2G back on the disk"
    assert (run.sample_at(30).available_after, run.sample_at(40).images) == (
        (1380 + 2048) * MiB, 512 * MiB)
    assert (run.evicted, run.harmed) == ((), ())


def test_without_the_old_images_the_same_writes_bring_no_pressure():
    """The pressure of the moment above came from the images: without them, none (the
    least available is 10 GiB - 512 MiB - 6.5 GiB - 2 x 600 MiB = 1872 MiB, at the end,
    above the 1536 MiB of imagefs.available<15%)."""
    run = rosim.quota_case("6.5Gi")
    assert run.events == () and min(s.available for s in run.samples) == 1872 * MiB


def test_when_deleting_the_images_is_not_enough_the_kubelet_evicts():
    """A writes 9 GiB: at 30 s 1380 MiB are left and the images go (3428 MiB); at 40 s A's
    next 2000 MiB and B's and C's writes leave 1328 MiB, nothing is left to reclaim, and B
    (priority 0) is evicted; at 50 s A, with 262 MiB left (3428 + 200 - 2100 - 1216 - 50);
    nobody's write failed."""
    run = rosim.quota_case("9Gi", unused_images=JOBS)
    kinds = [(e.time, e.kind) for e in run.events]
    assert kinds == [(30, "NodeHasDiskPressure"), (30, "EvictionThresholdMet"),
                     (30, "DeleteUnusedImages"), (40, "EvictionThresholdMet"),
                     (40, "Evicted"), (50, "EvictionThresholdMet"), (50, "Evicted")]
    assert run.evicted == ("tenant-b", "tenant-a")
    assert "Threshold quantity: 1536Mi, available: 1328Mi." in run.tenant("tenant-b").message
    assert "Threshold quantity: 1536Mi, available: 262Mi." in run.tenant("tenant-a").message
    assert run.tenant("tenant-a").error_at is None


@pytest.mark.parametrize(("images", "match"), [
    ("report-job", r"unused_images\(='report-job'\) must map"),
    ({"tenant-app:1.0": "1Gi"}, r"unused_images key\(='tenant-app:1.0'\) is the tenants'"),
    ({"job:1": "1Gx"}, r"unused_images\['job:1'\]\(='1Gx'\)"),
    ({"job:1": 10}, r"unused_images\['job:1'\]\(=10\) must be at least 1Ki"),
])
def test_bad_unused_images_name_the_field(images, match):
    """unused_images is checked before anything runs."""
    with pytest.raises(rosim.ConfigError, match=match):
        rosim.run_quota_scenario(rosim.quota_tenants(), unused_images=images)

"""The cluster: Pod manifests, the scheduler, node events, volumes and the timeline."""

from __future__ import annotations

import errno

import pytest

import rosim
from rosim.cluster.quantity import format_quantity


def manifest(name="web", *, volumes=(), mounts=(), containers=None, **container):
    """A Pod manifest in Kubernetes' shape: one busybox container by default."""
    if containers is None:
        containers = [{"name": "app", "image": "busybox", "command": ["sleep", "3600"],
                       "volumeMounts": list(mounts), **container}]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"volumes": list(volumes), "containers": containers}}


def network_claim(cluster, claim="data-claim"):
    """Bind ``claim`` to a new network PersistentVolume; return the claim name."""
    cluster.add_persistent_volume(f"{claim}-pv", "1Gi", claim=claim)
    return claim


def kinds(cluster, start=0):
    """The kinds of the timeline events from ``start`` on."""
    return [e.kind for e in cluster.timeline[start:]]


def config_error(cluster_or_none, bad_manifest) -> str:
    """Apply (or parse) ``bad_manifest`` and return the ConfigError's message."""
    with pytest.raises(rosim.ConfigError) as info:
        if cluster_or_none is None:
            rosim.PodSpec.from_manifest(bad_manifest)
        else:
            cluster_or_none.apply(bad_manifest)
    return str(info.value)


# ----------------------------------------------------------------- manifests
def test_manifest_dict_maps_camel_case_to_the_spec():
    """A dict manifest with camelCase keys becomes snake_case PodSpec fields."""
    spec = rosim.PodSpec.from_manifest(manifest(
        volumes=[{"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                 {"name": "host", "hostPath": {"path": "/srv/app", "type": "Directory"}},
                 {"name": "data", "persistentVolumeClaim": {"claimName": "c",
                                                            "readOnly": True}}],
        mounts=[{"name": "cache", "mountPath": "/cache"},
                {"name": "host", "mountPath": "/srv", "readOnly": True, "subPath": "a/b"}],
        securityContext={"readOnlyRootFilesystem": True, "privileged": False},
        resources={"limits": {"ephemeral-storage": "1Gi"}}))
    cache, host, data = spec.volumes
    assert (cache.kind, cache.medium, cache.size_limit) == ("emptyDir", "Memory", 64 * 2**20)
    assert (host.kind, host.path, host.type) == ("hostPath", "/srv/app", "Directory")
    assert (data.kind, data.claim_name, data.read_only) == ("persistentVolumeClaim", "c", True)
    app = spec.containers[0]
    assert app.read_only_root_filesystem is True and app.privileged is False
    assert app.ephemeral_storage_limit == 2**30
    assert app.volume_mounts[1] == rosim.cluster.spec.VolumeMountSpec("host", "/srv", True, "a/b")


def test_manifest_yaml_runs_like_the_same_dict():
    """YAML text with camelCase keys parses to the same spec and runs."""
    text = """
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  volumes:
  - name: cache
    emptyDir: {medium: Memory, sizeLimit: 64Mi}
  containers:
  - name: app
    image: docker.io/library/busybox:1.36
    command: [sleep, "3600"]
    securityContext: {readOnlyRootFilesystem: true}
    volumeMounts:
    - {name: cache, mountPath: /cache}
"""
    as_dict = manifest(volumes=[{"name": "cache", "emptyDir": {"medium": "Memory",
                                                               "sizeLimit": "64Mi"}}],
                       mounts=[{"name": "cache", "mountPath": "/cache"}],
                       securityContext={"readOnlyRootFilesystem": True})
    as_dict["spec"]["containers"][0]["image"] = "docker.io/library/busybox:1.36"
    assert rosim.PodSpec.from_yaml(text) == rosim.PodSpec.from_manifest(as_dict)
    pod = rosim.Cluster(nodes=1).apply(text).pod
    assert pod.status == "Running"
    cache = next(m for m in pod.container().mounts if m.destination == "/cache")
    assert (cache.fstype, cache.options.size) == ("tmpfs", 64 * 2**20)


def test_invalid_yaml_is_a_config_error():
    """Text that is not YAML is a ConfigError, not a yaml exception."""
    with pytest.raises(rosim.ConfigError, match="not valid YAML"):
        rosim.Cluster(nodes=1).apply("metadata: {name: [web\n")


def test_unknown_volume_in_a_mount_names_the_field_and_value():
    """A volumeMount naming no volume: the mount's field path and the name."""
    message = config_error(None, manifest(
        volumes=[{"name": "data", "emptyDir": {}}],
        mounts=[{"name": "data", "mountPath": "/data"}, {"name": "logs", "mountPath": "/logs"}]))
    assert message.startswith("spec.containers[0].volumeMounts[1].name(='logs') is not a "
                              "volume of the pod")
    assert "'data'" in message


def test_duplicate_volume_names_are_refused():
    """Two volumes of one name: the second's path and the name."""
    message = config_error(None, manifest(volumes=[{"name": "data", "emptyDir": {}},
                                                   {"name": "data", "emptyDir": {}}]))
    assert message == "spec.volumes[1].name(='data') is used twice."


def test_duplicate_container_names_are_refused():
    """Two containers of one name: the second's path and the name."""
    message = config_error(None, manifest(containers=[{"name": "app", "image": "busybox"},
                                                      {"name": "app", "image": "busybox"}]))
    assert message == "spec.containers[1].name(='app') is used twice."


def test_bad_size_limit_names_the_field_and_value():
    """sizeLimit: 1Gx is an InvalidSizeError (a ConfigError) naming its path."""
    with pytest.raises(rosim.InvalidSizeError) as info:
        rosim.PodSpec.from_manifest(manifest(volumes=[{"name": "c",
                                                       "emptyDir": {"sizeLimit": "1Gx"}}]))
    assert str(info.value).startswith("spec.volumes[0].emptyDir.sizeLimit(='1Gx') is not a "
                                      "Kubernetes quantity")
    assert isinstance(info.value, rosim.ConfigError)


def test_bad_ephemeral_storage_limit_names_the_field():
    """resources.limits.ephemeral-storage is parsed as a quantity too."""
    message = config_error(None, manifest(resources={"limits": {"ephemeral-storage": "lots"}}))
    assert "spec.containers[0].resources.limits.ephemeral-storage(='lots')" in message


def test_bad_medium_is_refused():
    """emptyDir.medium other than '' or Memory: path and value."""
    message = config_error(None, manifest(volumes=[{"name": "c", "emptyDir": {"medium": "Disk"}}]))
    assert message == "spec.volumes[0].emptyDir.medium(='Disk') must be '' or 'Memory'."


def test_bad_host_path_type_is_refused():
    """hostPath.type must be one of Kubernetes' types: path, value, the choices."""
    message = config_error(None, manifest(volumes=[{"name": "h", "hostPath": {
        "path": "/srv", "type": "Dir"}}]))
    assert message.startswith("spec.volumes[0].hostPath.type(='Dir') must be one of")
    assert "'DirectoryOrCreate'" in message


def test_volume_with_no_or_two_types_is_refused():
    """A volume needs exactly one of emptyDir, hostPath, persistentVolumeClaim."""
    message = config_error(None, manifest(volumes=[{"name": "v", "emptyDir": {},
                                                    "hostPath": {"path": "/srv"}}]))
    assert message.startswith("spec.volumes[0](name='v') must have exactly one of")


def test_missing_claim_is_refused_and_nothing_is_created():
    """A persistentVolumeClaim that does not exist: volume, claimName and value."""
    cluster = rosim.Cluster(nodes=1)
    message = config_error(cluster, manifest(
        volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "nope"}}]))
    assert "'data'" in message
    assert "persistentVolumeClaim.claimName(='nope') is not a claim" in message
    assert cluster.pods == {} and cluster.timeline == []


def test_unknown_image_is_refused_and_nothing_is_created():
    """An image rosim does not know: the reference and the known images."""
    cluster = rosim.Cluster(nodes=1)
    message = config_error(cluster, manifest(image="quay.io/acme/nope:1"))
    assert message.startswith(
        "spec.containers[0].image(='quay.io/acme/nope:1') is not a known image")
    assert "busybox" in message
    assert cluster.pods == {} and cluster.timeline == []


def test_unknown_image_names_the_container_field_path():
    """With two containers, the error names spec.containers[1].image."""
    message = config_error(rosim.Cluster(nodes=1), manifest(containers=[
        {"name": "app", "image": "busybox"}, {"name": "side", "image": "nope"}]))
    assert "spec.containers[1].image(='nope')" in message


def test_mount_path_mounted_twice_is_refused():
    """Two volumeMounts on one mountPath: the second's path and the value."""
    message = config_error(None, manifest(
        volumes=[{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}],
        mounts=[{"name": "a", "mountPath": "/data"}, {"name": "b", "mountPath": "/data/"}]))
    assert message == "spec.containers[0].volumeMounts[1].mountPath(='/data') is mounted twice."


@pytest.mark.parametrize("sub_path", ["../etc", "a/../../b", "/abs"])
def test_sub_path_must_stay_inside_the_volume(sub_path):
    """subPath with '..' (or absolute) is refused with its path and value."""
    message = config_error(None, manifest(volumes=[{"name": "a", "emptyDir": {}}],
                                          mounts=[{"name": "a", "mountPath": "/data",
                                                   "subPath": sub_path}]))
    assert message == (f"spec.containers[0].volumeMounts[0].subPath(={sub_path!r}) must be a "
                       "relative path without '..'.")


def test_wrong_types_name_the_field():
    """A string where a list belongs, a number where a bool belongs."""
    assert config_error(None, manifest(command="sleep 1")).startswith(
        "spec.containers[0].command(='sleep 1') must be a list.")
    assert config_error(None, manifest(securityContext={"readOnlyRootFilesystem": "yes"})) == (
        "spec.containers[0].securityContext.readOnlyRootFilesystem(='yes') must be true or false.")
    assert config_error(None, {"metadata": {}, "spec": {"containers": []}}).startswith(
        "metadata.name(=None)")


def test_a_pod_name_is_used_once():
    """Applying a second pod of the same name is a ConfigError."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(manifest())
    assert "metadata.name(='web')" in config_error(cluster, manifest())


# ----------------------------------------------------------------- scheduler
def _placements(seed, pods=7, nodes=3):
    cluster = rosim.Cluster(nodes=nodes, seed=seed)
    return [cluster.apply(manifest(f"p{i}")).pod.node for i in range(pods)], cluster


def test_scheduler_is_deterministic_for_a_seed():
    """The same seed and the same steps give the same nodes and the same timeline."""
    (first, a), (second, b) = _placements(3), _placements(3)
    assert first == second
    assert [str(e) for e in a.timeline] == [str(e) for e in b.timeline]
    firsts = {_placements(seed, pods=1)[0][0] for seed in range(12)}
    assert len(firsts) > 1, "ties between equally busy nodes are broken by the seed"


def test_scheduler_spreads_pods_to_the_least_busy_node():
    """Pods spread evenly; a new pod goes to the node running the fewest."""
    placements, cluster = _placements(0, pods=6, nodes=3)
    assert sorted(len(n.pods) for n in cluster.nodes.values()) == [2, 2, 2]
    assert cluster.delete("p0") is None, "a bare Pod is not recreated"
    freed = [n for n in cluster.nodes.values() if len(n.pods) == 1]
    assert cluster.apply(manifest("late")).pod.node == freed[0].name


def test_cordon_keeps_pods_but_stops_new_ones():
    """A cordoned node keeps its pods and gets no new ones until uncordoned."""
    cluster = rosim.Cluster(nodes=2)
    first = cluster.apply(manifest("a")).pod
    start = len(cluster.timeline)
    cluster.cordon(first.node)
    assert "SchedulingDisabled" in repr(cluster.node(first.node))
    others = [cluster.apply(manifest(f"b{i}")).pod for i in range(3)]
    assert all(p.node != first.node for p in others)
    assert cluster.pod("a").node == first.node and cluster.pod("a").status == "Running"
    cluster.uncordon(first.node)
    assert cluster.node(first.node).schedulable
    assert cluster.apply(manifest("c")).pod.node == first.node
    assert kinds(cluster, start)[0] == "NodeNotSchedulable"
    assert "NodeSchedulable" in kinds(cluster, start)


def test_no_schedulable_node_leaves_the_pod_pending():
    """With every node cordoned a new pod is Pending with a FailedScheduling event."""
    cluster = rosim.Cluster(nodes=2)
    for name in cluster.nodes:
        cluster.cordon(name)
    pod = cluster.apply(manifest()).pod
    assert (pod.status, pod.node, pod.containers) == ("Pending", None, {})
    assert cluster.timeline[-1].kind == "FailedScheduling"
    assert cluster.timeline[-1].message.startswith(
        "0/2 nodes are available: 2 node(s) were unschedulable.")
    with pytest.raises(rosim.LifecycleError):
        cluster.exec("web", "true")


def test_persistent_volume_errors():
    """PV and claim bookkeeping refuses duplicates, unknown nodes and volumes."""
    cluster = rosim.Cluster(nodes=1)
    cluster.add_persistent_volume("pv-a", "1Gi", claim="a")
    assert cluster.volumes["pv-a"].capacity == 2**30 and not cluster.volumes["pv-a"].local
    with pytest.raises(rosim.ConfigError, match="name\\(='pv-a'\\) already exists"):
        cluster.add_persistent_volume("pv-a")
    with pytest.raises(rosim.ConfigError, match="node\\(='node-9'\\)"):
        cluster.add_persistent_volume("pv-b", node="node-9")
    with pytest.raises(rosim.ConfigError, match="is already bound"):
        cluster.add_claim("other", "pv-a")
    with pytest.raises(rosim.ConfigError, match="volume\\(='pv-z'\\)"):
        cluster.add_claim("z", "pv-z")
    with pytest.raises(rosim.InvalidSizeError, match="capacity\\(='1Gx'\\)"):
        cluster.add_persistent_volume("pv-c", "1Gx")


# ----------------------------------------------------------------- volumes
def test_host_path_directory_missing_fails_the_mount():
    """hostPath type Directory that is not on the node: ContainerCreating, FailedMount."""
    cluster = rosim.Cluster(nodes=1)
    pod = cluster.apply(manifest(volumes=[{"name": "h", "hostPath": {
        "path": "/srv/missing", "type": "Directory"}}],
        mounts=[{"name": "h", "mountPath": "/h"}])).pod
    assert (pod.status, pod.containers) == ("ContainerCreating", {})
    event = cluster.timeline[-1]
    assert (event.kind, event.pod, event.node) == ("FailedMount", "web", "node-1")
    assert event.message == ('MountVolume.SetUp failed for volume "h" : hostPath type check '
                             "failed: /srv/missing is not a directory")


def test_host_path_directory_existing_on_the_node_mounts():
    """Directory mounts once DirectoryOrCreate made it on that node; both see the files."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(manifest("maker", volumes=[{"name": "h", "hostPath": {
        "path": "/srv/shared", "type": "DirectoryOrCreate"}}],
        mounts=[{"name": "h", "mountPath": "/h"}]))
    cluster.exec("maker", "echo hello > /h/greeting")
    user = cluster.apply(manifest("user", volumes=[{"name": "h", "hostPath": {
        "path": "/srv/shared", "type": "Directory"}}],
        mounts=[{"name": "h", "mountPath": "/in"}])).pod
    assert user.status == "Running"
    assert cluster.exec("user", "cat /in/greeting").stdout == "hello\n"


def test_host_path_file_missing_says_not_a_file():
    """hostPath type File that is missing: the kubelet's 'is not a file' message."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(manifest(volumes=[{"name": "h", "hostPath": {
        "path": "/srv/app.conf", "type": "File"}}], mounts=[{"name": "h", "mountPath": "/conf"}]))
    assert cluster.timeline[-1].message.endswith("/srv/app.conf is not a file")


def test_read_only_volume_mounts_are_erofs():
    """readOnly volumeMounts (and a read-only claim) refuse writes with EROFS."""
    cluster = rosim.Cluster(nodes=1)
    claim = network_claim(cluster)
    pod = cluster.apply(manifest(
        volumes=[{"name": "cfg", "emptyDir": {}},
                 {"name": "data", "persistentVolumeClaim": {"claimName": claim,
                                                            "readOnly": True}}],
        mounts=[{"name": "cfg", "mountPath": "/config", "readOnly": True},
                {"name": "data", "mountPath": "/data"}])).pod
    for path in ("/config/x", "/data/x"):
        result = cluster.exec("web", f"touch {path}")
        assert (result.status, result.stderr) == (
            1, f"touch: cannot touch '{path}': Read-only file system\n")
    with pytest.raises(OSError) as info:
        pod.container().run(lambda: open("/config/app.conf", "w"))
    assert info.value.errno == errno.EROFS
    assert cluster.exec("web", "touch /var/ok").ok


def test_read_only_root_filesystem_makes_the_root_erofs():
    """readOnlyRootFilesystem: true — the root is EROFS, a volume stays writable."""
    cluster = rosim.Cluster(nodes=1)
    pod = cluster.apply(manifest(volumes=[{"name": "scratch", "emptyDir": {}}],
                                 mounts=[{"name": "scratch", "mountPath": "/scratch"}],
                                 securityContext={"readOnlyRootFilesystem": True})).pod
    assert pod.container().read_only
    result = cluster.exec("web", "touch /var/x")
    assert (result.status, result.stderr) == (
        1, "touch: cannot touch '/var/x': Read-only file system\n")
    with pytest.raises(OSError) as info:
        pod.container().run(lambda: open("/etc/motd", "w"))
    assert info.value.errno == errno.EROFS
    assert cluster.exec("web", "touch /scratch/x").ok


def test_read_only_cluster_is_crio_global_read_only():
    """Cluster(read_only=True) runs every node's CRI-O with --read-only."""
    cluster = rosim.Cluster(nodes=1, read_only=True)
    pod = cluster.apply(manifest()).pod
    assert pod.container().read_only
    assert not cluster.exec("web", "touch /var/x").ok and cluster.exec("web", "touch /tmp/x").ok


def test_empty_dir_is_shared_by_the_pods_containers():
    """Two containers of one pod see the same emptyDir."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(manifest(volumes=[{"name": "shared", "emptyDir": {}}], containers=[
        {"name": "writer", "image": "busybox",
         "volumeMounts": [{"name": "shared", "mountPath": "/out"}]},
        {"name": "reader", "image": "busybox",
         "volumeMounts": [{"name": "shared", "mountPath": "/in", "readOnly": True}]}]))
    assert cluster.exec("web", "echo hi > /out/msg", container="writer").ok
    assert cluster.exec("web", "cat /in/msg", container="reader").stdout == "hi\n"


@pytest.mark.parametrize("volume", [{"emptyDir": {}},
                                    {"hostPath": {"path": "/srv/sub", "type": "DirectoryOrCreate"}},
                                    "pvc"])
def test_sub_path_is_a_directory_of_the_volume(volume):
    """A subPath mount and a whole-volume mount show the same files."""
    cluster = rosim.Cluster(nodes=1)
    if volume == "pvc":
        volume = {"persistentVolumeClaim": {"claimName": network_claim(cluster)}}
    cluster.apply(manifest(volumes=[{"name": "v", **volume}], containers=[
        {"name": "whole", "image": "busybox", "volumeMounts": [{"name": "v", "mountPath": "/v"}]},
        {"name": "part", "image": "busybox",
         "volumeMounts": [{"name": "v", "mountPath": "/logs", "subPath": "logs"}]}]))
    assert cluster.exec("web", "echo line > /logs/app.log", container="part").ok
    assert cluster.exec("web", "cat /v/logs/app.log", container="whole").stdout == "line\n"


def test_clusters_do_not_share_network_volumes():
    """A PV in a fresh cluster starts empty, whatever other clusters wrote."""
    pod = manifest(volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "c"}}],
                   mounts=[{"name": "d", "mountPath": "/d"}])
    first = rosim.Cluster(nodes=1)
    first.add_persistent_volume("tc-isolation-pv", claim="c")
    first.apply(pod)
    first.exec("web", "touch /d/from-first")
    second = rosim.Cluster(nodes=1)
    second.add_persistent_volume("tc-isolation-pv", claim="c")
    second.apply(pod)
    assert second.exec("web", "ls /d").stdout == ""


# ----------------------------------------------------------------- exec
def test_exec_runs_a_command_line_or_an_argv():
    """cluster.exec: a string through sh, a list as argv, a chosen container."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(manifest(containers=[{"name": "a", "image": "busybox"},
                                       {"name": "b", "image": "busybox"}]))
    line = cluster.exec("web", "cd /etc && pwd; test -d /etc && echo yes")
    assert (line.status, line.stdout) == (0, "/etc\nyes\n")
    argv = cluster.exec("web", ["cat", "/etc/passwd"], container="b")
    assert argv.ok and argv.stdout.startswith("root:x:0:0:")
    missing = cluster.exec("web", "nosuchcmd")
    assert (missing.status, missing.stderr) == (127, "sh: nosuchcmd: not found\n")  # busybox
    with pytest.raises(rosim.ConfigError, match="container\\(='c'\\) is not in pod 'web'"):
        cluster.exec("web", "true", container="c")
    with pytest.raises(rosim.ConfigError, match="pod\\(='nope'\\) does not exist"):
        cluster.exec("nope", "true")


def test_containers_of_different_pods_are_separate():
    """A file written in one pod's container is not in another pod's."""
    cluster = rosim.Cluster(nodes=1)
    cluster.apply(manifest("a"))
    cluster.apply(manifest("b"))
    cluster.exec("a", "touch /var/only-a")
    assert not cluster.exec("b", "test -e /var/only-a").ok


# ----------------------------------------------------------------- events
def test_cluster_arguments_are_checked():
    """nodes must be a positive count or a list of distinct names; node() names the value."""
    assert list(rosim.Cluster(nodes=["a", "b"]).nodes) == ["a", "b"]
    for bad in (0, ["a", "a"], "three", True):
        with pytest.raises(rosim.ConfigError, match="nodes\\(="):
            rosim.Cluster(nodes=bad)
    with pytest.raises(rosim.ConfigError, match="node\\(='x'\\) is not in the cluster"):
        rosim.Cluster(nodes=1).cordon("x")


# ----------------------------------------------------------------- quantities
@pytest.mark.parametrize(("text", "value"), [
    ("1Ki", 1024), ("1k", 1000), ("1Mi", 2**20), ("1M", 10**6), ("1Gi", 2**30),
    ("1G", 10**9), ("2Ti", 2 * 2**40), ("1T", 10**12), ("1Pi", 2**50), ("1E", 10**18),
    ("1.5Gi", 3 * 2**29), ("1e3", 1000), ("500M", 5 * 10**8), ("128", 128), (128, 128),
])
def test_parse_quantity_binary_and_decimal_suffixes(text, value):
    """Ki/Mi/Gi... are powers of 1024; k/M/G... powers of 1000."""
    assert rosim.parse_quantity(text) == value


@pytest.mark.parametrize("bad", ["1Gx", "1KB", "1ki", "-1", "", "Gi", True, -5, None])
def test_parse_quantity_refuses_what_kubernetes_refuses(bad):
    """A bad quantity is an InvalidSizeError naming the field and the value."""
    with pytest.raises(rosim.InvalidSizeError, match=f"^sizeLimit\\(={bad!r}"):
        rosim.parse_quantity(bad, field="sizeLimit")


def test_format_quantity_is_the_shortest_exact_binary_form():
    """1Gi, 64Mi, 1536Ki, or plain bytes."""
    assert [format_quantity(n) for n in (2**30, 64 * 2**20, 1536 * 1024, 1000, 0)] == [
        "1Gi", "64Mi", "1536Ki", "1000", "0"]

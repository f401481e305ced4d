"""Manifests as kubectl apply reads them: kinds, YAML streams, strict fields, pod templates."""

from __future__ import annotations

from pathlib import Path

import pytest

import rosim

DATA = Path(__file__).parent / "data"
BUSYBOX = rosim.Image.builtin("busybox")
IMAGES = {"cassandra": BUSYBOX, "nginx": BUSYBOX}


def deployment(name="web", replicas=2, **pod_spec):
    """A Deployment manifest with one busybox container by default."""
    spec = {"containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"]}],
            **pod_spec}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}}


def error(source) -> str:
    """The ConfigError message of applying ``source`` to a fresh cluster."""
    with pytest.raises(rosim.ConfigError) as info:
        rosim.Cluster(nodes=2, images=IMAGES).apply(source)
    return str(info.value)


def test_cassandra_statefulset_file_applies_with_its_service_and_storage_class():
    """The Cassandra-shaped file: StorageClass, StatefulSet (3 pods, 3 claims), Service ignored."""
    cluster = rosim.Cluster(nodes=3, images=IMAGES)
    applied = cluster.apply(DATA / "cassandra-statefulset.yaml")
    assert applied.lines == ("storageclass.storage.k8s.io/fast created",
                             "statefulset.apps/cassandra created",
                             "service/cassandra ignored (not simulated)")
    assert applied.ignored == ("service/cassandra",)
    assert sorted(p.name for p in applied.pods) == ["cassandra-0", "cassandra-1", "cassandra-2"]
    assert all(p.status == "Running" and p.owner == "StatefulSet/cassandra"
               for p in applied.pods)
    assert sorted(cluster.claims) == [f"cassandra-data-cassandra-{i}" for i in range(3)]
    assert len(set(cluster.claims.values())) == 3, "one volume per replica"
    assert cluster.exec("cassandra-1", "echo ring > /cassandra_data/f").ok


def test_nginx_deployment_file_mounts_its_config_map_read_only():
    """The nginx file: ConfigMap, Deployment of 2 pods named NAME-HASH-xxxxx, Service ignored."""
    cluster = rosim.Cluster(nodes=3, images=IMAGES, seed=3)
    applied = cluster.apply((DATA / "nginx-deployment.yaml").read_text())
    assert applied.lines[:2] == ("configmap/nginx-conf created", "deployment.apps/nginx created")
    names = [p.name for p in applied.pods]
    assert len(names) == 2 and all(n.startswith("nginx-") and len(n.split("-")) == 3
                                   for n in names)
    assert len({n.rsplit("-", 1)[0] for n in names}) == 1, "one ReplicaSet, one template hash"
    out = cluster.exec("deploy/nginx", "cat /etc/nginx/conf.d/default.conf").stdout
    assert "listen 80;" in out
    touch = cluster.exec("deploy/nginx", "touch /etc/nginx/conf.d/x")
    assert "Read-only file system" in touch.stderr


def test_multi_document_yaml_with_a_list_and_empty_documents():
    """'---' documents, an empty one and a kind: List are all read."""
    text = """
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: a}
    data: {k: v}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec: {rules: []}
"""
    objects = rosim.read_manifests(text)
    assert [type(o).__name__ for o in objects] == ["ConfigMapSpec", "IgnoredObject"]
    assert objects[1] == rosim.IgnoredObject("Ingress", "networking.k8s.io/v1", "web")


@pytest.mark.parametrize(("path", "manifest"), [
    ("spec.template.spec.containers[0].securityContekst",
     deployment(containers=[{"name": "a", "image": "busybox", "securityContekst": {}}])),
    ("spec.template.spec.volumes[0].emptyDir.sizeLimits",
     deployment(volumes=[{"name": "v", "emptyDir": {"sizeLimits": "1Gi"}}])),
    ("spec.replica", {**deployment(), "spec": {**deployment()["spec"], "replica": 3}}),
    ("metadata.nmae", {"apiVersion": "v1", "kind": "Pod", "metadata": {"nmae": "x"},
                       "spec": {}}),
])
def test_unknown_fields_are_refused_with_their_path(path, manifest):
    """Strict decoding: an unknown field anywhere is named by its full path."""
    message = error(manifest)
    assert f'strict decoding error: unknown field "{path}"' in message


def test_a_bad_document_creates_nothing():
    """The whole stream is checked before anything is created."""
    cluster = rosim.Cluster(nodes=1)
    bad = deployment("second", containers=[{"name": "a", "image": "busybox", "bogus": 1}])
    with pytest.raises(rosim.ConfigError, match='unknown field "spec.template.spec'):
        cluster.apply([deployment("first"), bad])
    assert cluster.pods == {} and cluster.workloads == {}


def test_api_versions_and_selectors_are_checked():
    """Wrong apiVersion, missing selector, selector not matching the template's labels."""
    old = {**deployment(), "apiVersion": "extensions/v1beta1"}
    assert 'no matches for kind "Deployment" in version "extensions/v1beta1"' in error(old)
    no_selector = deployment()
    del no_selector["spec"]["selector"]
    assert "spec.selector: Required value" in error(no_selector)
    wrong = deployment()
    wrong["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    assert "`selector` does not match template `labels`" in error(wrong)


def test_job_needs_a_restart_policy_other_than_always():
    """A Job's pod template must say OnFailure or Never, as the API server requires."""
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
           "spec": {"template": {"spec": {"containers": [
               {"name": "a", "image": "busybox", "command": ["true"]}]}}}}
    assert "spec.template.spec.restartPolicy" in error(job)
    assert 'supported values: "OnFailure", "Never"' in error(job)


def test_spec_priority_is_refused_by_the_priority_admission_plugin():
    """spec.priority differing from what priorityClassName gives: forbidden."""
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"priority": 1000, "containers": [{"name": "a", "image": "busybox"}]}}
    assert error(pod) == ('pods "p" is forbidden: the integer value of priority (1000) must '
                          "not be provided in pod spec; priority admission controller "
                          "computed 0 from the given PriorityClass name")
    unknown = {**pod, "spec": {"priorityClassName": "gold",
                               "containers": [{"name": "a", "image": "busybox"}]}}
    assert "no PriorityClass with name gold was found" in error(unknown)


def test_priority_class_name_gives_the_pod_its_priority():
    """A PriorityClass in the same stream sets the priority of the pods naming it."""
    cluster = rosim.Cluster(nodes=1)
    applied = cluster.apply([
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
         "metadata": {"name": "gold"}, "value": 1000},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
         "spec": {"priorityClassName": "gold", "containers": [{"name": "a",
                                                               "image": "busybox"}]}}])
    assert applied.pod.priority == 1000


def test_pod_templates_give_each_workloads_pod_spec_and_its_path():
    """pod_templates: kind, name, field path and PodSpec of every workload, nothing else."""
    templates = rosim.pod_templates(DATA / "cassandra-statefulset.yaml")
    (sts,) = templates
    assert (sts.kind, sts.name, sts.path, sts.document) == (
        "StatefulSet", "cassandra", "spec.template.spec", 1)
    container = sts.spec.containers[0]
    assert container.image == "gcr.io/google-samples/cassandra:v13"
    assert [m.mount_path for m in container.volume_mounts] == ["/cassandra_data"]
    pod = rosim.pod_templates({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"},
                               "spec": {"containers": [{"name": "a", "image": "i"}]}})
    assert (pod[0].kind, pod[0].path) == ("Pod", "spec")


TEMPLATE_ONLY = """\
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  selector: {matchLabels: {app: rs}}
  template:
    metadata: {labels: {app: rs}}
    spec: {containers: [{name: a, image: redis}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc, namespace: legacy}
spec:
  selector: {app: rc}
  template:
    metadata: {labels: {app: rc}}
    spec: {containers: [{name: b, image: nginx}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: c, image: busybox}]
"""


def test_pod_templates_read_kinds_the_cluster_does_not_run():
    """ReplicaSet, ReplicationController and CronJob: pod_templates reads their
    templates, checked strictly; Cluster.apply lists them as ignored."""
    templates = rosim.pod_templates(TEMPLATE_ONLY)
    assert [(t.kind, t.name, t.namespace, t.path, t.document, t.spec.containers[0].image)
            for t in templates] == [
        ("ReplicaSet", "rs", "default", "spec.template.spec", 0, "redis"),
        ("ReplicationController", "rc", "legacy", "spec.template.spec", 1, "nginx"),
        ("CronJob", "nightly", "default", "spec.jobTemplate.spec.template.spec", 2, "busybox"),
    ]
    result = rosim.Cluster(nodes=1, images=IMAGES).apply(TEMPLATE_ONLY)
    assert result.ignored == ("replicaset.apps/rs", "replicationcontroller/rc",
                              "cronjob.batch/nightly")
    bad = TEMPLATE_ONLY.replace('schedule: "0 3 * * *"', 'schedule: "0 3 * * *"\n  schedul: x')
    with pytest.raises(rosim.ConfigError, match='CronJob "nightly": strict decoding error: '
                                                'unknown field "spec.schedul"'):
        rosim.pod_templates(bad)
    with pytest.raises(rosim.ConfigError, match='no matches for kind "CronJob" in version '
                                                '"batch/v1beta1"'):
        rosim.pod_templates(TEMPLATE_ONLY.replace("batch/v1", "batch/v1beta1"))
    with pytest.raises(rosim.ConfigError, match=r"CronJob \"nightly\": spec.jobTemplate: "
                                                "Required value"):
        rosim.pod_templates({"apiVersion": "batch/v1", "kind": "CronJob",
                             "metadata": {"name": "nightly"}, "spec": {"schedule": "@daily"}})


def test_manifest_files_and_bad_sources():
    """A missing file and a non-manifest value are ConfigErrors naming them."""
    with pytest.raises(rosim.ConfigError, match="cannot be read"):
        rosim.read_manifests(DATA / "missing.yaml")
    with pytest.raises(rosim.ConfigError, match="must be a dict, a list of dicts"):
        rosim.read_manifests(42)
    with pytest.raises(rosim.ManifestError, match="^manifest: line 2: not valid YAML"):
        rosim.read_manifests("a: [")
    with pytest.raises(rosim.ManifestError, match="mapping key 'a' already defined"):
        rosim.read_manifests("a: 1\na: 2\n")


def test_claims_bind_provision_or_stay_pending():
    """A claim binds a fitting PV, is provisioned by its class, or waits (no-provisioner)."""
    cluster = rosim.Cluster(nodes=2)
    cluster.apply("""
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: local-path}
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: manual}
provisioner: kubernetes.io/no-provisioner
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: scratch}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: local-path
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: waits}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  resources: {requests: {storage: 1Gi}}
""")
    scratch = cluster.volumes[cluster.claims["scratch"]]
    assert (scratch.source, scratch.enforced) == ("hostPath", False)
    assert cluster.claims["waits"] == ""
    applied = cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                             "spec": {"volumes": [{"name": "d", "persistentVolumeClaim": {
                                 "claimName": "waits"}}],
                                      "containers": [{"name": "a", "image": "busybox"}]}})
    assert applied.pod.status == "Pending"
    assert "unbound immediate PersistentVolumeClaims (waits)" in cluster.timeline[-1].message


def test_a_local_path_claim_does_not_enforce_its_size():
    """local-path provisions a directory on the node's disk: writes go past the claim's size."""
    cluster = rosim.Cluster(nodes=1, disk="1Gi")
    cluster.apply([
        {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
         "metadata": {"name": "local-path"}, "provisioner": "rancher.io/local-path"},
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
         "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local-path",
                  "resources": {"requests": {"storage": "10Mi"}}}}])
    pod = cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {
        "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "c"}}],
        "containers": [{"name": "a", "image": "busybox", "volumeMounts": [
            {"name": "d", "mountPath": "/d"}]}]}}).pod
    assert pod.container().write_bytes("/d/big", 50 * 1024**2) == 50 * 1024**2
    assert cluster.usage("p").claims["d"] == 50 * 1024**2


def test_cassandra_keeps_its_data_through_a_crash_a_deletion_and_a_node_failure():
    """StatefulSet pods: same name and claim back; a dead node's pod waits (at-most-one)."""
    cluster = rosim.Cluster(nodes=3, images=IMAGES)
    cluster.apply(DATA / "cassandra-statefulset.yaml")
    for i in range(3):
        cluster.exec(f"cassandra-{i}", f"echo row-{i} > /cassandra_data/sstable")
    cluster.crash("cassandra-0")
    cluster.reschedule("cassandra-1")
    node = cluster.pod("cassandra-2").node
    assert cluster.fail(node) == []
    assert cluster.pod("cassandra-2").status == "Terminating"
    cluster.delete_node(node)
    for i in range(3):
        assert cluster.exec(f"cassandra-{i}", "cat /cassandra_data/sstable").stdout == \
            f"row-{i}\n"
    assert cluster.pod("cassandra-2").node != node


def test_nginx_replacements_lose_their_cache_and_keep_their_config():
    """Deployment pods: a replacement has a new name, an empty emptyDir, the same ConfigMap."""
    cluster = rosim.Cluster(nodes=3, images=IMAGES, seed=2)
    cluster.apply(DATA / "nginx-deployment.yaml")
    first = cluster.pod("deployment/nginx")
    cluster.exec(first.name, "echo cached > /var/cache/nginx/page")
    cluster.crash(first.name)
    assert cluster.exec(first.name, "cat /var/cache/nginx/page").stdout == "cached\n"
    replacement = cluster.delete(first.name)
    assert replacement.name != first.name and first.name not in cluster.pods
    assert not cluster.exec(replacement.name, "test -e /var/cache/nginx/page").ok
    assert "listen 80;" in cluster.exec(replacement.name,
                                        "cat /etc/nginx/conf.d/default.conf").stdout
    assert len([p for p in cluster.pods.values() if p.workload == "Deployment/nginx"]) == 2

"""Real public manifests, as published upstream: they apply, run, and keep or lose data
as the kubelet would (tests/data/upstream/README.md names each file's source)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

import rosim

UPSTREAM = Path(__file__).parent / "data" / "upstream"
BUSYBOX = rosim.Image.builtin("busybox")
IMAGES = {"cassandra": BUSYBOX, "nginx": BUSYBOX}
EXAMPLES_CASSANDRA = UPSTREAM / "kubernetes-examples/cassandra/cassandra-statefulset.yaml"
WEBSITE = UPSTREAM / "kubernetes-website"


def _blob_sha(data: bytes) -> str:
    """The git blob id of ``data`` (what ``git rev-parse COMMIT:PATH`` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_vendored_files_are_byte_for_byte_the_upstream_blobs():
    """Each file's git blob id is the one the README records for its upstream commit;
    every manifest under upstream/ is listed."""
    readme = (UPSTREAM / "README.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \|.*\| `([0-9a-f]{40})` \|$", readme, re.M)
    assert rows, "the README lists the vendored files"
    listed = {path: sha for path, sha in rows}
    on_disk = {str(p.relative_to(UPSTREAM)) for p in UPSTREAM.rglob("*.yaml")}
    assert set(listed) == on_disk
    for path, sha in listed.items():
        assert _blob_sha((UPSTREAM / path).read_bytes()) == sha, path


def test_examples_cassandra_runs_three_pods_on_the_beta_class_annotation():
    """The Kubernetes examples' Cassandra: StorageClass and StatefulSet created, three
    pods, each claim bound through its volume.beta.kubernetes.io/storage-class
    annotation (which the PV controller reads before storageClassName)."""
    cluster = rosim.Cluster(nodes=3, images=IMAGES)
    applied = cluster.apply(EXAMPLES_CASSANDRA)
    assert applied.lines == ("storageclass.storage.k8s.io/fast created",
                             "statefulset.apps/cassandra created")
    assert sorted(p.name for p in applied.pods) == ["cassandra-0", "cassandra-1", "cassandra-2"]
    assert all(p.status == "Running" and p.owner == "StatefulSet/cassandra"
               for p in applied.pods)
    claims = rosim.read_manifests(EXAMPLES_CASSANDRA)[0].claim_templates
    assert [(c.name, c.storage_class) for c in claims] == [("cassandra-data", "fast")]
    assert sorted(cluster.claims) == [f"cassandra-data-cassandra-{i}" for i in range(3)]
    assert all(cluster.claims.values()), "every claim bound"


def test_statefulset_pod_deleted_comes_back_with_its_name_and_claim_data():
    """kubectl delete pod cassandra-0: the StatefulSet makes cassandra-0 again (new uid),
    with its PVC's data; what it wrote to its writable layer is gone."""
    cluster = rosim.Cluster(nodes=3, images=IMAGES)
    cluster.apply(EXAMPLES_CASSANDRA)
    old = cluster.pod("cassandra-0")
    assert cluster.exec("cassandra-0", "echo row-0 > /var/lib/cassandra/sstable").ok
    assert cluster.exec("cassandra-0", "echo layer > /etc/note").ok
    new = cluster.delete("cassandra-0")
    assert new is not None and new.name == "cassandra-0" and new.uid != old.uid
    assert cluster.exec("cassandra-0", "cat /var/lib/cassandra/sstable").stdout == "row-0\n"
    assert not cluster.exec("cassandra-0", "test -e /etc/note").ok


def test_tutorial_cassandra_with_its_headless_service():
    """The docs' Cassandra tutorial: Service and StatefulSet in one apply; the Service
    is listed as ignored, the pods mount their claims at /cassandra_data."""
    stream = ((WEBSITE / "application/cassandra/cassandra-service.yaml").read_text() + "---\n"
              + (WEBSITE / "application/cassandra/cassandra-statefulset.yaml").read_text())
    cluster = rosim.Cluster(nodes=3, images=IMAGES)
    applied = cluster.apply(stream)
    assert applied.ignored == ("service/cassandra",)
    assert sorted(p.name for p in applied.pods) == ["cassandra-0", "cassandra-1", "cassandra-2"]
    assert cluster.exec("cassandra-2", "echo x > /cassandra_data/f").ok


def test_nginx_deployment_with_service_and_config_maps_around_it():
    """kubectl apply -f configmaps.yaml -f nginx-app.yaml (JSON-style YAML): two
    ConfigMaps and a Deployment of three pods NAME-HASH-xxxxx; the Service is ignored."""
    stream = ((WEBSITE / "configmap/configmaps.yaml").read_text()
              + (WEBSITE / "application/nginx-app.yaml").read_text())
    cluster = rosim.Cluster(nodes=3, images=IMAGES, seed=1)
    applied = cluster.apply(stream)
    assert applied.lines == ("configmap/special-config created", "configmap/env-config created",
                             "deployment.apps/my-nginx created",
                             "service/my-nginx-svc ignored (not simulated)")
    assert applied.ignored == ("service/my-nginx-svc",)
    names = [p.name for p in applied.pods]
    assert len(names) == 3 and all(re.fullmatch(r"my-nginx-[a-z0-9]+-[a-z0-9]{5}", n)
                                   for n in names)
    assert len({n.rsplit("-", 1)[0] for n in names}) == 1, "one ReplicaSet"
    assert all(p.status == "Running" for p in applied.pods)
    assert set(cluster.config_maps) == {"special-config", "env-config"}


def test_deployment_pod_deleted_is_replaced_under_a_new_name_without_its_layer_data():
    """kubectl delete pod on the docs' nginx Deployment: the ReplicaSet makes a pod of
    another name and uid, whose writable layer starts from the image again."""
    cluster = rosim.Cluster(nodes=2, images=IMAGES, seed=4)
    applied = cluster.apply(WEBSITE / "application/deployment.yaml")
    assert applied.lines == ("deployment.apps/nginx-deployment created",)
    first = applied.pods[0]
    assert cluster.exec(first.name, "echo page > /etc/index.html").ok
    replacement = cluster.delete(first.name)
    assert replacement is not None and replacement.name != first.name
    assert replacement.uid != first.uid and first.name not in cluster.pods
    assert replacement.name.rsplit("-", 1)[0] == first.name.rsplit("-", 1)[0]
    assert not cluster.exec(replacement.name, "test -e /etc/index.html").ok
    assert len([p for p in cluster.pods.values()
                if p.workload == "Deployment/nginx-deployment"]) == 2


@pytest.mark.parametrize("path, kind, where", [
    (EXAMPLES_CASSANDRA, "StatefulSet", "spec.template.spec"),
    (WEBSITE / "application/nginx-app.yaml", "Deployment", "spec.template.spec"),
    (WEBSITE / "application/deployment.yaml", "Deployment", "spec.template.spec"),
])
def test_rosim_check_lints_the_upstream_workloads(path, kind, where):
    """rosim check reads each real file: RO001 for the container at its field path."""
    report = rosim.check_manifests({path.name: path.read_text()}, lint_only=True)
    ro001 = [f for f in report.findings if f.rule == "RO001"]
    assert len(ro001) == 1 and ro001[0].workload.startswith(f"{kind}/")
    assert ro001[0].field == f"{where}.containers[0].securityContext"

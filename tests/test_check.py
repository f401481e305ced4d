"""The check engine: rules, write-path sources, fix classification and the proof."""

from __future__ import annotations

import textwrap

import pytest

import rosim
from rosim.check.catalogue import PathKind, catalogue, lookup
from rosim.check.rules import RULES
from rosim.check.sources import classify, parse_diff

SHOP = textwrap.dedent("""\
    # The shop: a web server and a worker.
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: shop  # the Service selects it
    spec:
      selector: {matchLabels: {app: shop}}
      template:
        metadata: {labels: {app: shop}}
        spec:
          containers:
            - name: web
              image: nginx:1.25
            - name: worker
              image: registry.example.com/shop/worker:3
    """)
WORKER_DIFF = "C /app\nC /app/data\nA /app/data/orders.db\nC /tmp\nA /tmp/t1\nA /run/w.pid\n"


def _rules(report, container=None):
    return sorted({f.rule for f in report.findings
                   if container is None or f.container == container})


def test_linter_rule_has_every_linters_id():
    """RO001 carries the six linters' ids for a writable root (domain.md §7)."""
    assert dict(RULES["RO001"].equivalents) == {
        "kube-linter": "no-read-only-root-fs",
        "kube-score": "container-security-context-readonlyrootfilesystem",
        "Polaris": "notReadOnlyRootFilesystem", "kubesec": "ReadOnlyRootFilesystem",
        "Checkov": "CKV_K8S_22", "Trivy": "KSV014"}


def test_catalogue_entries_name_their_sources():
    """Every catalogue entry has writes and a source; common images are matched by name."""
    for entry in catalogue():
        assert entry.writes and entry.source, entry.name
    for ref, name in [("nginx", "nginx"), ("docker.io/library/postgres:16", "postgres"),
                      ("mariadb:11", "mysql"), ("grafana/grafana:10", "grafana"),
                      ("prom/prometheus", "prometheus"), ("httpd:2.4", "httpd"),
                      ("tomcat:10", "tomcat"), ("node:20", "node"), ("python:3.12", "python"),
                      ("redis:7", "redis"), ("quay.io/crio/redis:alpine", "redis")]:
        assert lookup(ref).name == name, ref


def test_diff_keeps_leaves_and_classifies():
    """Directories on the way to a change are not writes; each leaf gets a kind and mount."""
    writes = parse_diff(WORKER_DIFF, source="w.diff")
    assert [(w.path, w.kind, w.mount) for w in writes] == [
        ("/app/data/orders.db", PathKind.DATA, "/app/data"),
        ("/tmp/t1", PathKind.TEMP, "/tmp"),
        ("/run/w.pid", PathKind.RUN, "/run")]
    assert classify("/etc/nginx/conf.d/default.conf") is PathKind.CONFIG
    assert classify("/usr/local/tomcat/logs/catalina.out") is PathKind.LOG


@pytest.mark.parametrize("text, message", [
    ("X /etc\n", "line 1"), ("A relative/path\n", "must be absolute"),
    ("A /a/../b\n", "without '..'"), ("\n\n", "no diff lines")])
def test_bad_diff_lines_are_one_line_errors(text, message):
    """A diff line rosim cannot read is a CheckInputError naming the file and line."""
    with pytest.raises(rosim.CheckInputError, match=message) as info:
        parse_diff(text, source="run.diff")
    assert str(info.value).startswith("run.diff")


def test_shop_findings_fix_and_proof():
    """The shop: linter findings, the writes, a fix per kind, and a proof that it works."""
    report = rosim.check_manifests(SHOP, diffs={"worker": WORKER_DIFF})
    assert _rules(report, "web") == ["RO001", "RO002", "RO003"]
    assert _rules(report, "worker") == ["RO001", "RO002", "RO003"]
    worker = next(c for c in report.containers if c.container == "worker")
    mounts = {m.mount_path: m for m in worker.fix.mounts}
    assert mounts["/app/data"].claim == "app-data-shop"
    assert mounts["/tmp"].source == "emptyDir" and mounts["/tmp"].size_limit == "64Mi"
    assert mounts["/run"].medium == "Memory"
    proof = report.proofs[0]
    outcome = {(o.container, o.path): o for o in proof.outcomes}
    data = outcome[("worker", "/app/data/orders.db")]
    assert (data.as_written, data.linter_fix, data.after_fix) == ("OK", "EROFS", "OK")
    assert (data.kept_as_written, data.kept_after_fix) == (False, True)
    assert outcome[("web", "/var/cache/nginx")].linter_fix == "EROFS"
    assert proof.ok and not proof.evicted
    assert proof.ephemeral_limit is not None and proof.ephemeral_used < proof.ephemeral_limit
    assert report.exit_code == 1


def test_fixed_manifest_keeps_comments_and_passes_the_check():
    """The patched YAML keeps the user's comments; checked again, only RO002 is left."""
    report = rosim.check_manifests(SHOP, diffs={"worker": WORKER_DIFF}, proof=False)
    fixed = report.fixed()["<manifest>"]
    assert "# The shop: a web server and a worker." in fixed
    assert "name: shop  # the Service selects it" in fixed
    assert "readOnlyRootFilesystem: true" in fixed
    assert "kind: PersistentVolumeClaim" in fixed
    again = rosim.check_manifests(fixed, diffs={"worker": WORKER_DIFF})
    assert _rules(again) == ["RO002"]
    assert again.proofs[0].ok


def test_non_root_user_from_catalogue_closes_the_dev_finding():
    """Where the image has a non-root user (redis: 999) the fix sets it and RO002 goes."""
    text = ("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: cache}\nspec:\n"
            "  selector: {matchLabels: {app: c}}\n  template:\n"
            "    metadata: {labels: {app: c}}\n    spec:\n"
            "      containers: [{name: redis, image: redis:7}]\n")
    report = rosim.check_manifests(text)
    fix = report.containers[0].fix
    assert fix.run_as_user == 999
    assert fix.mounts[0].claim and fix.mounts[0].mount_path == "/data"
    fixed = report.fixed()["<manifest>"]
    assert "volumeClaimTemplates" in fixed and "kind: PersistentVolumeClaim" not in fixed
    again = rosim.check_manifests(fixed)
    assert again.findings == ()
    assert again.exit_code == 0


def test_generated_config_gets_an_init_container_and_hidden_files_are_found():
    """An emptyDir over /etc/nginx/conf.d hides default.conf (RO007); the fix seeds it."""
    text = textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers:
          - name: nginx
            image: nginx
            securityContext: {readOnlyRootFilesystem: true, runAsNonRoot: true}
            volumeMounts: [{name: conf, mountPath: /etc/nginx/conf.d}]
          volumes: [{name: conf, emptyDir: {sizeLimit: 1Mi}}]
        """)
    report = rosim.check_manifests(text, proof=False)
    hidden = [f for f in report.findings if f.rule == "RO007"]
    assert hidden and "/etc/nginx/conf.d/default.conf" in hidden[0].message
    diff = "C /etc\nC /etc/app\nC /etc/app/app.conf\n"
    text2 = text.replace("image: nginx", "image: example.com/app:1").replace(
        "/etc/nginx/conf.d", "/srv")
    report2 = rosim.check_manifests(text2, diffs={"": diff})
    mount = report2.containers[0].fix.mounts[0]
    assert (mount.mount_path, mount.kind, mount.copy_from_image) == (
        "/etc/app", PathKind.CONFIG, True)
    fixed = report2.fixed()["<manifest>"]
    assert "initContainers" in fixed and "cp -a -n /etc/app/. /seed/" in fixed
    assert report2.proofs[0].ok


def test_emptydir_without_limit_and_hostpath_and_privileged():
    """RO005 (quota bypass), RO006 (hostPath), RO004 (data on emptyDir), RO008 (privileged)."""
    text = textwrap.dedent("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: db}
        spec:
          containers:
          - name: pg
            image: postgres:16
            securityContext: {privileged: true}
            volumeMounts:
            - {name: data, mountPath: /var/lib/postgresql/data}
            - {name: sock, mountPath: /var/run/postgresql}
          volumes:
          - {name: data, emptyDir: {}}
          - {name: sock, hostPath: {path: /srv/pg}}
        """)
    report = rosim.check_manifests(text, proof=False)
    assert _rules(report) == ["RO001", "RO002", "RO004", "RO005", "RO006", "RO008"]
    line = next(f for f in report.findings if f.rule == "RO006").line
    assert line == 11


def test_python_function_writes_are_found_in_rosim():
    """--python runs the app's function in a writable rosim container and reads its diff."""
    import sys
    import types

    module = types.ModuleType("shopapp_for_check")

    def main():
        import logging
        import os
        import tempfile
        os.makedirs("/srv/shop/uploads", exist_ok=True)
        with open("/srv/shop/uploads/a.png", "wb") as f:
            f.write(b"png")
        logging.getLogger("x").addHandler(logging.FileHandler("/var/log/shop.log"))
        tempfile.mkstemp()

    module.main = main
    sys.modules[module.__name__] = module
    try:
        report = rosim.check_manifests(
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
            "  containers: [{name: app, image: example.com/shop:1}]\n",
            python={"app": "shopapp_for_check:main"})
    finally:
        del sys.modules[module.__name__]
    writes = {w.path: w for w in report.containers[0].writes}
    assert writes["/srv/shop/uploads/a.png"].kind is PathKind.DATA
    assert writes["/var/log/shop.log"].kind is PathKind.LOG
    assert any(p.startswith("/tmp/") for p in writes)
    assert report.proofs[0].ok


def test_image_tar_tells_what_a_mount_hides(tmp_path):
    """With the image's tree the check knows the files a new mount would hide."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in [("app/templates/index.html", b"<h1>"), ("app/app.py", b"")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "app.tar"
    path.write_bytes(buf.getvalue())
    image = rosim.Image.from_tar(path, name="example.com/app:1")
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n"
            "    image: example.com/app:1\n    volumeMounts: [{name: t, mountPath: /app}]\n"
            "  volumes: [{name: t, emptyDir: {sizeLimit: 1Mi}}]\n")
    report = rosim.check_manifests(text, images={"app": image},
                                   diffs={"app": "A /app/cache.bin\n"})
    hidden = [f for f in report.findings if f.rule == "RO007"]
    assert hidden and "/app/app.py" in hidden[0].message


@pytest.mark.parametrize("text, message", [
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
     "  containers: [{name: a, image: b.io/x}]\n", "not in the image catalogue"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {selector: "
     "{matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: []}}}\n",
     "containers"),
    ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: "
     "{containers: [{name: a, image: b}]}}}\n", "spec.selector: Required value"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a, "
     "image: redis, bogus: 1}]}\n", "bogus"),
    ("- just\n- a list\n", "not a Kubernetes object"),
    ("apiVersion: v1\nmetadata: {name: x}\n", "kind(=None)"),
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: a}]}\n",
     "image"),
    ("kind: Pod\nkind: Pod\n", "already defined"),
    ("kind: [unclosed\n", "not valid YAML"),
])
def test_bad_manifests_are_one_line_errors(text, message):
    """Every bad manifest is a ConfigError whose one line names the source."""
    with pytest.raises(rosim.ConfigError) as info:
        rosim.check_manifests({"bad.yaml": text})
    assert message in str(info.value)
    assert str(info.value).startswith("bad.yaml")


def test_container_keys_must_name_containers():
    """--diff for an unknown container, or without a name among several, is refused."""
    with pytest.raises(rosim.CheckInputError, match="no container named 'db'"):
        rosim.check_manifests(SHOP, diffs={"db": WORKER_DIFF})
    with pytest.raises(rosim.CheckInputError, match="name one"):
        rosim.check_manifests(SHOP, diffs={"": WORKER_DIFF})


def test_lint_only_needs_no_write_source():
    """--lint-only gives the manifest rules for images the catalogue does not know."""
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
            "  containers: [{name: a, image: b.io/x}]\n")
    report = rosim.check_manifests(text, lint_only=True)
    assert _rules(report) == ["RO001", "RO002"]
    assert report.proofs == ()


def test_other_kinds_are_ignored_and_lists_are_read():
    """Services and ConfigMaps are listed as ignored; a List's items are checked."""
    text = textwrap.dedent("""\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Service
          metadata: {name: s}
        - apiVersion: v1
          kind: Pod
          metadata: {name: p}
          spec:
            containers: [{name: r, image: redis}]
        """)
    report = rosim.check_manifests(text, proof=False)
    assert report.ignored == ("Service/s",)
    assert {f.workload for f in report.findings} == {"Pod/p"}
    assert "readOnlyRootFilesystem: true" in report.fixed()["<manifest>"]


def test_kinds_only_inspected_are_checked_through_the_clusters_table():
    """ReplicaSet, ReplicationController and CronJob pods are linted at the path
    rosim.pod_templates gives; a field the API server refuses is a one-line error."""
    text = textwrap.dedent("""\
        apiVersion: v1
        kind: ReplicationController
        metadata: {name: rc}
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
          schedule: "@daily"
          jobTemplate:
            spec:
              template:
                spec:
                  restartPolicy: OnFailure
                  containers: [{name: c, image: redis}]
        """)
    report = rosim.check_manifests(text, lint_only=True)
    assert {(f.workload, f.field) for f in report.findings if f.rule == "RO001"} == {
        ("ReplicationController/rc", "spec.template.spec.containers[0].securityContext"),
        ("CronJob/nightly", "spec.jobTemplate.spec.template.spec.containers[0].securityContext"),
    }
    with pytest.raises(rosim.ConfigError, match=r"^bad.yaml: CronJob \"nightly\": strict "
                                                r"decoding error: unknown field \"spec.sched"):
        rosim.check_manifests({"bad.yaml": text.replace("schedule:", "sched:")},
                              lint_only=True)


def test_two_containers_writing_tmp_get_volumes_of_their_own():
    """Each container's /tmp is its own emptyDir; the names do not clash."""
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n"
            "  selector: {matchLabels: {app: d}}\n  template:\n"
            "    metadata: {labels: {app: d}}\n    spec:\n"
            "      containers: [{name: a, image: node:20}, {name: b, image: python:3.12}]\n")
    report = rosim.check_manifests(text)
    names = [m.volume for c in report.containers for m in c.fix.mounts]
    assert len(names) == len(set(names)) and "tmp" in names and "tmp-2" in names
    assert report.proofs[0].ok


def test_docs_list_every_rule_and_catalogue_entry():
    """docs/check.md names every rule with its linter ids and every catalogue entry."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "check.md").read_text()
    for rule in RULES.values():
        row = next(line for line in text.splitlines() if f"`{rule.id}`" in line)
        assert rule.name in row
        for tool, rid in rule.equivalents.items():
            assert f"{tool} `{rid}`" in row, (rule.id, tool)
    for entry in catalogue():
        assert f"| {entry.name} |" in text, entry.name


def test_proof_seeds_config_volumes_from_the_image(monkeypatch):
    """The fix's init container is played: the image's config stays visible in its volume."""
    text = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
            "  containers: [{name: app, image: example.com/app:1}]\n")
    diff = "C /etc\nC /etc/app\nC /etc/app/app.conf\n"
    report = rosim.check_manifests(text, diffs={"": diff})
    assert report.containers[0].fix.mounts[0].copy_from_image
    assert report.proofs[0].hidden == () and report.proofs[0].ok
    monkeypatch.setattr("rosim.check.proof._seed", lambda *args: None)
    unseeded = rosim.check_manifests(text, diffs={"": diff})
    assert unseeded.proofs[0].hidden == ("app /etc/app/app.conf",)
    assert "image files the fix's mounts hide: app /etc/app/app.conf" in str(
        unseeded.proofs[0])


def test_image_tar_without_a_container_name_goes_to_the_container_running_it():
    """An image given without CONTAINER= is matched to the container by its name."""
    image = rosim.Image.from_dict("docker.io/library/nginx:1.25", {
        "/etc/nginx/conf.d/default.conf": "server {}\n", "/var/cache/nginx/": None})
    report = rosim.check_manifests(SHOP, diffs={"worker": WORKER_DIFF}, images={"": image})
    assert report.proofs[0].ok
    other = rosim.Image.from_dict("example.com/other:1", {"/etc/x": "x"})
    with pytest.raises(rosim.CheckInputError, match="is not the image of any container"):
        rosim.check_manifests(SHOP, diffs={"worker": WORKER_DIFF}, images={"": other})


def test_replicas_sharing_a_new_claim_get_a_note():
    """A Deployment of several replicas with a new ReadWriteOnce claim gets a note."""
    text = SHOP.replace("spec:\n  selector", "spec:\n  replicas: 3\n  selector")
    report = rosim.check_manifests(text, diffs={"worker": WORKER_DIFF}, proof=False)
    worker = next(c for c in report.containers if c.container == "worker")
    assert worker.fix.notes and "3 replicas share the claim app-data-shop" in worker.fix.notes[0]
    assert "note: 3 replicas share" in report.to_text()

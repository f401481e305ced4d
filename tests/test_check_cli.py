"""``rosim check`` as a user runs it: formats, exit codes, --fix, --patch, bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from rosim.check.exercise import CAPSTONE_MANIFEST
from rosim.cli import main

DATA = Path(__file__).parent / "data"
#: The capstone of notebook 05 cut to its front end: the Deployment with its nginx
#: container only (the worker container and the Service left out).
MANIFEST = CAPSTONE_MANIFEST.split("        - name: worker\n")[0]
CLEAN = """\
apiVersion: v1
kind: Pod
metadata:
  name: cache
spec:
  containers:
    - name: redis
      image: redis:7
      securityContext:
        readOnlyRootFilesystem: true
        runAsNonRoot: true
        runAsUser: 999
      volumeMounts:
        - name: data
          mountPath: /data
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: cache-data
"""


@pytest.fixture
def shop(tmp_path):
    """A manifest file in a temporary directory."""
    path = tmp_path / "shop.yaml"
    path.write_text(MANIFEST)
    return path


def test_the_front_end_is_the_capstones_deployment():
    """MANIFEST is the capstone's first lines, up to its worker: one Deployment, one
    container, three commented lines."""
    assert CAPSTONE_MANIFEST.startswith(MANIFEST)
    (doc,) = yaml.safe_load_all(MANIFEST)
    assert doc["kind"] == "Deployment"
    assert [c["name"] for c in doc["spec"]["template"]["spec"]["containers"]] == ["web"]
    assert len([line for line in MANIFEST.splitlines() if "#" in line]) == 3


def _run(capsys, *argv):
    status = main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def test_text_report_and_exit_one_on_findings(capsys, shop):
    """Findings print with file:line, rule id and the linters' ids; exit status 1."""
    status, out, err = _run(capsys, shop)
    assert status == 1
    assert f"{shop}:15: RO001 error: Deployment/shop container 'web'" in out
    assert "Checkov CKV_K8S_22" in out and "Trivy KSV014" in out
    assert "EROFS" in out and "the fix works" in out
    assert "\x1b[" not in out
    assert err == ""


def test_clean_manifest_exits_zero(capsys, tmp_path):
    """A manifest with nothing to report exits 0."""
    path = tmp_path / "clean.yaml"
    path.write_text(CLEAN)
    status, out, _ = _run(capsys, path)
    assert status == 0
    assert "0 finding(s)" in out


def test_sarif_validates_against_the_official_schema(capsys, shop):
    """--format sarif produces a log valid against the OASIS SARIF 2.1.0 schema."""
    status, out, _ = _run(capsys, shop, "--format", "sarif")
    assert status == 1
    log = json.loads(out)
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"RO001", "RO003"}
    first = results[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"].endswith("shop.yaml")
    assert first["region"]["startLine"] == 15


def test_sarif_schema_rejects_a_broken_log():
    """The vendored schema does reject a malformed log (the validation can fail)."""
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate({"version": "2.1.0", "runs": [
            {"tool": {"driver": {}}, "results": []}]})


def test_json_format(capsys, shop):
    """--format json lists findings, writes, fixes and proofs."""
    status, out, _ = _run(capsys, shop, "--format", "json")
    data = json.loads(out)
    assert status == data["exitCode"] == 1
    assert data["containers"][0]["catalogue"] == "nginx"
    assert data["proofs"][0]["ok"] is True
    assert {w["path"] for w in data["proofs"][0]["writes"]} == {"/var/cache/nginx", "/var/run"}


def test_fix_rewrites_in_place_keeping_comments(capsys, shop):
    """--fix writes the fix into the file: comments and key order kept, nothing else."""
    status, out, _ = _run(capsys, shop, "--fix")
    text = shop.read_text()
    first, api = MANIFEST.splitlines()[:2]
    assert text.startswith(f"{first}\n{api}\nkind: Deployment\n") and first.startswith("# ")
    assert all(f"{line}\n" in text for line in MANIFEST.splitlines() if "#" in line)
    doc = yaml.safe_load(text)
    web = doc["spec"]["template"]["spec"]["containers"][0]
    assert web["securityContext"]["readOnlyRootFilesystem"] is True
    assert {m["mountPath"] for m in web["volumeMounts"]} == {"/var/cache/nginx", "/var/run"}
    assert "RO002" in out.splitlines()[-1]
    assert status == 1
    assert sorted(p.name for p in shop.parent.iterdir()) == ["shop.yaml"]


def test_fix_to_output_leaves_the_input_alone(capsys, shop, tmp_path):
    """--fix --output writes only the output file."""
    out_path = tmp_path / "fixed.yaml"
    _run(capsys, shop, "--fix", "--output", out_path)
    assert shop.read_text() == MANIFEST
    assert "readOnlyRootFilesystem: true" in out_path.read_text()


def test_patch_is_a_strategic_merge_patch(capsys, shop):
    """--patch prints patches naming only what changes; the report goes to stderr."""
    status, out, err = _run(capsys, shop, "--patch")
    patch = yaml.safe_load(out)
    assert patch["kind"] == "Deployment" and patch["metadata"] == {"name": "shop"}
    web = patch["spec"]["template"]["spec"]["containers"][0]
    assert web["name"] == "web" and "image" not in web
    assert web["securityContext"] == {"readOnlyRootFilesystem": True}
    assert "RO001" in err
    assert status == 1


def test_stdin_and_diff(capsys, monkeypatch, tmp_path):
    """'-' reads stdin; --diff CONTAINER=FILE gives a container's writes."""
    diff = tmp_path / "run.diff"
    diff.write_text("C /srv\nA /srv/app.db\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
        "  containers: [{name: app, image: x.io/app}]\n"))
    status, out, _ = _run(capsys, "-", "--diff", f"app={diff}")
    assert status == 1
    assert "<stdin>:5: RO001" in out
    assert "A /srv/app.db" in out


def _evil_tar(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../../etc/cron.d/x")
        tar.addfile(info, io.BytesIO(b""))
    path = tmp_path / "evil.tar"
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize("case", [
    "missing-file", "bad-yaml", "unknown-image", "bad-diff-line", "evil-tar", "binary",
    "fix-and-patch", "no-files", "diff-unknown-container", "python-missing", "directory"])
def test_every_bad_input_is_one_line_and_exit_two(capsys, tmp_path, shop, case):
    """Bad input: exit 2 and one line on stderr naming the file and the problem."""
    unknown = tmp_path / "u.yaml"
    unknown.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: "
                       "[{name: a, image: example.com/mystery:1}]\n")
    bad_diff = tmp_path / "bad.diff"
    bad_diff.write_text("A /ok\nthis is not a diff line\n")
    good_diff = tmp_path / "good.diff"
    good_diff.write_text("A /srv/x\n")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: Pod\nspec: [unclosed\n")
    argv, expect = {
        "missing-file": ([tmp_path / "nope.yaml"], "nope.yaml: cannot read"),
        "bad-yaml": ([broken], "broken.yaml: line"),
        "unknown-image": ([unknown], "not in the image catalogue"),
        "bad-diff-line": ([shop, "--diff", f"web={bad_diff}"], "bad.diff: line 2"),
        "evil-tar": ([shop, "--image-tar", _evil_tar(tmp_path)], "contains '..'"),
        "binary": ([binary], "bin.yaml"),
        "fix-and-patch": ([shop, "--fix", "--patch"], "exclude each other"),
        "no-files": ([], "no manifest given"),
        "diff-unknown-container": ([shop, "--diff", f"db={good_diff}"],
                                   "no container named 'db'"),
        "python-missing": ([shop, "--python", "web=no_such_module_xyz:main"],
                           "cannot import 'no_such_module_xyz'"),
        "directory": ([tmp_path], "is a directory"),
    }[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    status, out, err = _run(capsys, *argv)
    assert status == 2, err
    assert out == ""
    assert err.startswith("rosim check: error: ")
    assert err.count("\n") == 1
    assert expect in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_list_images(capsys):
    """--list-images prints the catalogue with each entry's source."""
    status, out, _ = _run(capsys, "--list-images")
    assert status == 0
    assert "hub.docker.com/_/nginx" in out and "prometheus" in out


def test_console_script_runs_check(tmp_path):
    """``python -m rosim check`` is the same command, with the same exit codes."""
    path = tmp_path / "clean.yaml"
    path.write_text(CLEAN)
    proc = subprocess.run([sys.executable, "-m", "rosim", "check", str(path), "--format",
                           "json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["findings"] == []


@pytest.mark.parametrize("name", ["nginx-deployment.yaml", "cassandra-statefulset.yaml"])
def test_kubernetes_examples_findings_fix_and_proof(capsys, tmp_path, name):
    """The Kubernetes example manifests: findings, a fix keeping every comment, a proof."""
    original = (DATA / name).read_text()
    path = tmp_path / name
    path.write_text(original)
    status, out, _ = _run(capsys, path, "--format", "json")
    report = json.loads(out)
    assert status == 1
    assert "RO001" in {f["rule"] for f in report["findings"]}
    assert report["proofs"] and all(p["ok"] for p in report["proofs"])
    assert any(w["linterFix"] == "EROFS" for p in report["proofs"] for w in p["writes"])
    status, out, _ = _run(capsys, path, "--fix")
    fixed = path.read_text()
    comments = [line.strip() for line in original.splitlines() if "#" in line]
    assert comments and all(c in fixed for c in comments)
    assert [d.get("kind") for d in yaml.safe_load_all(fixed)] == \
        [d.get("kind") for d in yaml.safe_load_all(original)]
    again = json.loads(_run(capsys, path, "--format", "json")[1])
    assert {f["rule"] for f in again["findings"]} <= {"RO002"}
    status, out, _ = _run(capsys, DATA / name, "--format", "sarif")
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(json.loads(out))


UPSTREAM = DATA / "upstream"


@pytest.mark.parametrize("name", [
    "kubernetes-website/application/nginx-app.yaml",
    "kubernetes-website/application/deployment.yaml",
    "kubernetes-examples/cassandra/cassandra-statefulset.yaml",
])
def test_real_public_manifests_fix_and_proof(capsys, tmp_path, name):
    """Real files as published: findings, a proven fix, --fix output that parses to the
    same documents plus the fix (a JSON-style file comes back in block style)."""
    original = (UPSTREAM / name).read_text()
    path = tmp_path / Path(name).name
    path.write_text(original)
    status, out, _ = _run(capsys, path, "--format", "json")
    report = json.loads(out)
    assert status == 1 and "RO001" in {f["rule"] for f in report["findings"]}
    assert report["proofs"] and all(p["ok"] for p in report["proofs"])
    _run(capsys, path, "--fix")
    fixed = path.read_text()
    before = list(yaml.safe_load_all(original))
    after = [d for d in yaml.safe_load_all(fixed) if d.get("kind") != "PersistentVolumeClaim"]
    assert [d["kind"] for d in after] == [d["kind"] for d in before]
    assert max(len(line) for line in fixed.splitlines()) < 120, "no document on one line"
    comments = [line.strip() for line in original.splitlines() if line.lstrip().startswith("#")]
    assert all(c in fixed for c in comments)
    for old, new in zip(before, after, strict=True):
        if old["kind"] not in ("Deployment", "StatefulSet"):
            assert new == old
            continue
        pod = new["spec"]["template"]["spec"]
        assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["containers"][0]["image"] == old["spec"]["template"]["spec"][
            "containers"][0]["image"]
    again = json.loads(_run(capsys, path, "--format", "json")[1])
    assert {f["rule"] for f in again["findings"]} <= {"RO002"}


def test_color_always_paints_levels_and_outcomes(capsys, shop):
    """--color always colours the levels and the proof's EROFS; never leaves plain text."""
    _, out, _ = _run(capsys, shop, "--color", "always")
    assert "\x1b[31merror\x1b[0m" in out and "\x1b[31mEROFS\x1b[0m" in out
    _, plain, _ = _run(capsys, shop, "--color", "never")
    assert "\x1b[" not in plain


def test_bad_options_are_one_line_too(capsys):
    """A bad --format or a missing option value is one line on stderr and exit status 2."""
    for argv in (["check", "x.yaml", "--format", "xml"], ["check", "x.yaml", "--diff"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("rosim check: error: ") and err.count("\n") == 1

"""End to end against real Docker: rosim check's verdict agrees with a real container.

A busybox image whose app writes a log, a pid file, a cache and data is
built with ``docker import`` and run in real Docker (writable root);
``docker diff`` of that run and ``docker save`` of the image go to ``rosim
check --diff --image-tar --fix``. Then the same image runs in real Docker
with ``--read-only`` alone (the linters' fix: every write must fail, as
rosim's proof says) and with ``--read-only`` plus the proposed mounts
(emptyDirs as ``--tmpfs``, the claim as a fresh host directory): every write
must work, as rosim's proof says, and the data must land in the volume.

Needs root, Debian's docker.io and busybox-static; skips without them, fails
instead with ``ROSIM_REQUIRE_RUNTIMES=1`` (``.ci/run`` as root). Uses the
daemon of ``ROSIM_DOCKER_HOST`` or a private one (``tests/runtimes/engines.py``).
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from rosim.cli import main

pytestmark = pytest.mark.runtimes

BUSYBOX = "/bin/busybox"
IMAGE = "rosim-check-e2e:1"
#: The app: each write in its own shell, one "PATH OK" / "PATH FAIL message" line each.
APP = """\
#!/bin/sh
st=0
w() { if out=$(sh -c "$2" 2>&1); then echo "$1 OK"; else echo "$1 FAIL $out"; st=1; fi; }
w /var/log/app.log 'echo started >> /var/log/app.log'
w /run/app.pid 'echo $$ > /run/app.pid'
w /var/cache/app/index 'mkdir -p /var/cache/app && echo cached > /var/cache/app/index'
w /data/records.txt 'mkdir -p /data && echo record >> /data/records.txt'
exit $st
"""
MANIFEST = """\
# The e2e app: writes a log, a pid file, a cache and data.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: e2e
spec:
  selector: {matchLabels: {app: e2e}}
  template:
    metadata: {labels: {app: e2e}}
    spec:
      containers:
        - name: app
          image: rosim-check-e2e:1   # built by docker import
          command: ["/bin/sh", "/app/run.sh"]
"""


def _engines():
    sys.path.insert(0, str(Path(__file__).parent / "runtimes"))
    try:
        import engines
    except ImportError:
        engines = None
    finally:
        sys.path.pop(0)
    reason = None if engines is not None else "tests/runtimes/engines.py not found"
    if reason is None:
        reason = engines.availability()
    if reason is None and not os.path.isfile(BUSYBOX):
        reason = f"{BUSYBOX} not found (apt-get install busybox-static)"
    if reason is not None:
        if os.environ.get("ROSIM_REQUIRE_RUNTIMES") == "1":
            pytest.fail(f"{reason}; ROSIM_REQUIRE_RUNTIMES=1 makes this test mandatory",
                        pytrace=False)
        pytest.skip(f"real Docker not available: {reason}")
    return engines


def _rootfs() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(name, data=None, mode=0o755, link=None):
            info = tarfile.TarInfo(name)
            info.mode, info.mtime = mode, 1_700_000_000
            if link is not None:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            elif data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

        for d in ("bin", "etc", "app", "run", "var", "var/log", "var/cache"):
            add(d)
        add("tmp", mode=0o1777)
        add("bin/busybox", Path(BUSYBOX).read_bytes())
        for tool in ("sh", "echo", "mkdir", "cat", "ls"):
            add(f"bin/{tool}", link="busybox")
        add("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", mode=0o644)
        add("app/run.sh", APP.encode())
    return buf.getvalue()


def _lines(stdout: str) -> dict[str, str]:
    out = {}
    for line in stdout.splitlines():
        path, _, rest = line.partition(" ")
        if path.startswith("/"):
            out[path] = "OK" if rest == "OK" else (
                "EROFS" if "Read-only file system" in rest else rest)
    return out


def test_check_verdict_agrees_with_real_docker(tmp_path, capsys):
    """Diff of a real run → rosim check → the proposed mounts work in real Docker."""
    engines = _engines()
    with engines.DockerDaemon.session() as docker:
        rootfs = tmp_path / "rootfs.tar"
        rootfs.write_bytes(_rootfs())
        docker.run("import", str(rootfs), IMAGE)
        names = []
        try:
            # 1. A real run with a writable root, and its diff.
            names.append("rosim-check-e2e-rw")
            run = docker.run("run", "--name", names[-1], IMAGE, "/bin/sh", "/app/run.sh",
                             check=False)
            assert run.returncode == 0, run.stdout + run.stderr
            diff = tmp_path / "app.diff"
            diff.write_text(docker.run("diff", names[-1]).stdout)
            saved = tmp_path / "image.tar"
            docker.run("save", "-o", str(saved), IMAGE)

            # 2. rosim check on the manifest with that diff and image.
            manifest = tmp_path / "e2e.yaml"
            manifest.write_text(MANIFEST)
            fixed = tmp_path / "fixed.yaml"
            status = main(["check", str(manifest), "--diff", f"app={diff}", "--image-tar",
                           f"app={saved}", "--format", "json", "--fix", "-o", str(fixed)])
            report = json.loads(capsys.readouterr().out)
            assert status == 1  # root user is left: the image has no other
            proof = {w["path"]: w for w in report["proofs"][0]["writes"]}
            assert set(proof) == {"/var/log/app.log", "/run/app.pid", "/var/cache/app/index",
                                  "/data/records.txt"}
            fix = report["containers"][0]["fix"]
            mounts = {m["mountPath"]: m for m in fix["mounts"]}
            assert mounts["/data"]["claim"] and mounts["/run"]["source"] == "emptyDir (Memory)"
            assert not any(m["copyFromImage"] for m in mounts.values())
            deployment, claim = yaml.safe_load_all(fixed.read_text())
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert claim["kind"] == "PersistentVolumeClaim"

            # 3. Real Docker with --read-only only: rosim said EROFS for every write.
            names.append("rosim-check-e2e-ro")
            ro = docker.run("run", "--name", names[-1], "--read-only", IMAGE, "/bin/sh",
                            "/app/run.sh", check=False)
            assert ro.returncode != 0
            assert _lines(ro.stdout) == {p: w["linterFix"] for p, w in proof.items()}

            # 4. Real Docker with --read-only and the proposed mounts: all OK, as rosim said.
            volume = tmp_path / "claim"
            volume.mkdir()
            args = ["run", "--name", "rosim-check-e2e-fixed", "--read-only"]
            names.append(args[2])
            for path, mount in sorted(mounts.items()):
                if mount["claim"]:
                    args += ["-v", f"{volume}:{path}"]
                else:
                    args += ["--tmpfs", f"{path}:size={mount['sizeLimit'].replace('Mi', 'm')}"]
            fixed_run = docker.run(*args, IMAGE, "/bin/sh", "/app/run.sh", check=False)
            assert fixed_run.returncode == 0, fixed_run.stdout + fixed_run.stderr
            assert _lines(fixed_run.stdout) == {p: w["afterFix"] for p, w in proof.items()}
            assert (volume / "records.txt").read_text() == "record\n"
            # Nothing but the mount points Docker made for the mounts lands in the layer.
            added = {line[2:] for line in docker.run("diff", names[-1]).stdout.splitlines()
                     if line.startswith("A ")}
            assert added <= set(mounts), added
        finally:
            for name in names:
                docker.run("rm", "-f", name, check=False)
            docker.run("rmi", "-f", IMAGE, check=False)

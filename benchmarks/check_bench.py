"""Benchmark: importing a 100 MB image tar, and ``rosim check`` on 50 manifests.

Scenario 1, **image import**: a ``docker save`` archive of ``IMAGE_MB`` MB in
``LAYERS`` layers (``SMALL_FILES`` small files of ``SMALL_MIN``-``SMALL_MAX``
bytes spread over directories, ``LARGE_FILES`` large files of ``LARGE_MB`` MB,
whiteouts and an opaque directory in the upper layers) is written to a
temporary directory, then read with :func:`rosim.Image.from_tar` and its
merged tree built. Target: under ``MAX_IMPORT_SECONDS``.

Scenario 2, **rosim check on 50 manifests**: ``MANIFESTS`` manifest files,
each a Deployment (or StatefulSet, one in ``STATEFUL_EVERY``) of two
containers drawn from the image catalogue (nginx, redis, postgres, grafana,
...), are checked by ``python -m rosim check FILES... --format json`` in a
fresh process: findings, write paths, fixes and the proof (three simulated
pods per workload). Target: the whole command under ``MAX_CHECK_SECONDS``;
the command's CPU time and the in-process time of :func:`rosim.check_manifests`
are printed too (on a busy machine the CPU time is the steadier figure).

Run on its own with ``.venv/bin/python benchmarks/check_bench.py`` or from
``benchmarks/run.py``.
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from time import perf_counter

import rosim

SEED = 20240101
IMAGE_MB = 100  # the archive's size, about
LAYERS = 3
SMALL_FILES = 6000  # small files in the bottom layer
SMALL_MIN, SMALL_MAX = 200, 8192  # bytes
LARGE_FILES = 12  # large files (libraries, binaries) in the bottom layer
LARGE_MB = 6
TOP_FILES = 500  # files in each upper layer
MAX_IMPORT_SECONDS = 5.0  # target: Image.from_tar + tree for the 100 MB archive

MANIFESTS = 50
STATEFUL_EVERY = 5
IMAGES = ("nginx:1.25", "redis:7", "postgres:16", "grafana/grafana:10", "prom/prometheus",
          "httpd:2.4", "tomcat:10", "mysql:8", "node:20", "python:3.12")
MAX_CHECK_SECONDS = 5.0  # target: `rosim check` on the 50 files, whole process

MB = 1024 * 1024


def _layer(files: dict[str, bytes], dirs: list[str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def build_archive(path: Path, rng: random.Random) -> int:
    """Write the docker save archive; return its size in bytes."""
    bottom: dict[str, bytes] = {}
    dirs = sorted({f"usr/share/d{i // 50:03d}" for i in range(SMALL_FILES)})
    for i in range(SMALL_FILES):
        bottom[f"usr/share/d{i // 50:03d}/f{i:05d}"] = rng.randbytes(
            rng.randint(SMALL_MIN, SMALL_MAX))
    for i in range(LARGE_FILES):
        bottom[f"usr/lib/lib{i:02d}.so"] = bytes(LARGE_MB * MB)
    layers = [_layer(bottom, ["usr", "usr/share", "usr/lib", *dirs])]
    for n in range(1, LAYERS):
        top = {f"app/l{n}/f{i:04d}": rng.randbytes(rng.randint(SMALL_MIN, SMALL_MAX))
               for i in range(TOP_FILES)}
        top[f"usr/share/d{n:03d}/.wh..wh..opq"] = b""
        top[f"usr/lib/.wh.lib{n:02d}.so"] = b""
        layers.append(_layer(top, ["app", f"app/l{n}"]))
    manifest = [{"Config": "config.json", "RepoTags": ["bench:1"],
                 "Layers": [f"l{i}/layer.tar" for i in range(len(layers))]}]
    outer = {"manifest.json": json.dumps(manifest).encode(),
             "config.json": json.dumps({"config": {"Cmd": ["/app/run"]}}).encode()}
    outer.update({f"l{i}/layer.tar": data for i, data in enumerate(layers)})
    path.write_bytes(_layer(outer, []))
    return path.stat().st_size


def bench_import(directory: Path, rng: random.Random) -> tuple[int, float, int]:
    """(archive bytes, seconds to import and build the tree, paths in the tree)."""
    path = directory / "bench.tar"
    size = build_archive(path, rng)
    t0 = perf_counter()
    image = rosim.Image.from_tar(path)
    paths = len(image.tree)
    seconds = perf_counter() - t0
    assert image.tree.entry("/usr/lib/lib01.so") is None  # whited out
    return size, seconds, paths


def _manifest(i: int, rng: random.Random) -> str:
    kind = "StatefulSet" if i % STATEFUL_EVERY == 0 else "Deployment"
    images = rng.sample(IMAGES, 2)
    containers = "".join(f"        - name: c{j}  # container {j}\n          image: {img}\n"
                         for j, img in enumerate(images))
    return (f"# workload {i}\napiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: w{i:02d}\n"
            f"spec:\n  replicas: 2\n  selector: {{matchLabels: {{app: w{i:02d}}}}}\n"
            f"  template:\n    metadata: {{labels: {{app: w{i:02d}}}}}\n    spec:\n"
            f"      containers:\n{containers}"
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\n")


def bench_check(directory: Path, rng: random.Random) -> tuple[float, float, float, int, int]:
    """(process seconds, its CPU seconds, in-process seconds, findings, proofs)."""
    files = []
    for i in range(MANIFESTS):
        path = directory / f"m{i:02d}.yaml"
        path.write_text(_manifest(i, rng))
        files.append(path)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = perf_counter()
    proc = subprocess.run([sys.executable, "-m", "rosim", "check", *map(str, files),
                           "--format", "json"], capture_output=True, text=True, check=False)
    process = perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert len(data["proofs"]) == MANIFESTS and all(p["ok"] for p in data["proofs"])
    texts = {str(f): f.read_text() for f in files}
    t0 = perf_counter()
    rosim.check_manifests(texts)
    inside = perf_counter() - t0
    return process, cpu, inside, len(data["findings"]), len(data["proofs"])


def run() -> dict[str, float]:
    """Run both scenarios; return their figures."""
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="rosim-bench-") as tmp:
        size, import_s, paths = bench_import(Path(tmp), rng)
        process, cpu, inside, findings, proofs = bench_check(Path(tmp), rng)
    return {"size": size, "import": import_s, "paths": paths, "process": process,
            "cpu": cpu, "inside": inside, "findings": findings, "proofs": proofs}


def report(figures: dict[str, float]) -> list[tuple[bool, str]]:
    """Print the figures; return (ok, line) per target."""
    print(f"7. Image.from_tar: {figures['size'] / MB:.0f} MB docker save archive, {LAYERS} "
          f"layers, {figures['paths']} paths: {figures['import']:.2f} s (import + tree)")
    print(f"   rosim check: {MANIFESTS} manifests, {figures['findings']} findings, "
          f"{figures['proofs']} proofs: {figures['process']:.2f} s as a command, "
          f"{figures['cpu']:.2f} s of CPU (check_manifests in-process {figures['inside']:.2f} s;"
          f" load average {os.getloadavg()[0]:.2f}: on a busy machine the CPU time is the "
          "steadier figure)")
    return [
        (figures["import"] < MAX_IMPORT_SECONDS,
         f"Image.from_tar of a {figures['size'] / MB:.0f} MB image = {figures['import']:.2f} s "
         f"(target < {MAX_IMPORT_SECONDS} s)"),
        (figures["process"] < MAX_CHECK_SECONDS,
         f"rosim check on {MANIFESTS} manifests = {figures['process']:.2f} s "
         f"(target < {MAX_CHECK_SECONDS} s)"),
    ]


if __name__ == "__main__":
    checks = report(run())
    for ok, line in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {line}")
    sys.exit(0 if all(ok for ok, _ in checks) else 1)

"""Benchmark: an hour of writes by 200 tenants on one node, with the kubelet watching.

Scenario: a node with a ``NODE_DISK`` disk runs ``PODS`` pods for
``DURATION_SECONDS`` of simulated time, at a resolution of ``TICK_SECONDS``,
through :func:`rosim.run_quota_scenario`. In each tick every pod writes
``rate × tick`` bytes in ``1 MiB`` steps (declared by size, so no byte is held
in memory); every 10 s the kubelet's eviction manager runs once over every
pod. The run is event-driven: between two passes of the kubelet, the ticks in
which no write can fail are written in one step. The pods, built from a
seeded generator:

* ``bypass``, the quota bypass of Scenario 4: a 1 GiB PersistentVolumeClaim
  at ``/data`` but a cache written to its image's ``/var/cache/app`` at
  ``BYPASS_RATE`` per second, at priority ``BYPASS_PRIORITY``;
* ``PODS - 1`` other tenants, each writing ``TENANT_RATE`` per second to its
  writable layer, to an ``emptyDir`` (one in ``EMPTY_DIR_EVERY``) or to its
  own claim (one in ``CLAIM_EVERY``, 1 GiB each); one in
  ``REQUEST_EVERY`` requests ``TENANT_REQUEST`` of ``ephemeral-storage``,
  and their priorities are drawn from ``PRIORITIES``.

Together they fill the disk within the hour: the node reaches
``DiskPressure`` and, at every pass from then on, the kubelet ranks every pod
to pick whom to evict (the other tenants, lower in priority, go first).

The timed figure is the whole ``run_quota_scenario`` call in CPU seconds
(``time.process_time``, steadier than the wall clock on a busy machine; the
wall clock is printed too): creating the node, the claims and the pods, then
every tick's writes, usage samples and eviction passes. Target: under
``MAX_SECONDS``. The same run with ``SMALL_PODS`` pods shows the growth:
the cost per pod should be the same at both sizes, within ``MAX_RATIO``.

Run on its own with ``.venv/bin/python benchmarks/quota_bench.py`` (prints
the figures and one PASS/FAIL line; exit status 1 on FAIL), or call
:func:`run` and :func:`report` from ``benchmarks/run.py``.
"""

from __future__ import annotations

import gc
import os
import random
import sys
from dataclasses import dataclass
from time import perf_counter, process_time

import rosim

SEED = 20240104  # seed of the tenants' kinds, requests and priorities
NODE_DISK = "100Gi"  # the node's disk
PODS = 200  # pods on the node, the bypassing tenant included
DURATION_SECONDS = 3600.0  # simulated time
TICK_SECONDS = 1.0  # resolution of the simulated time, seconds
BYPASS_RATE = "16Mi"  # bytes per second the bypassing tenant writes to its image
BYPASS_PRIORITY = 1000  # its pod's priority
TENANT_RATE = "64Ki"  # bytes per second each other tenant writes
EMPTY_DIR_EVERY = 4  # one tenant in this many writes to an emptyDir
CLAIM_EVERY = 7  # one tenant in this many writes to its own 1 GiB claim
REQUEST_EVERY = 3  # one tenant in this many requests TENANT_REQUEST
TENANT_REQUEST = "512Mi"  # its ephemeral-storage request
PRIORITIES = (0, 0, 100, 1000)  # drawn for each tenant
MAX_SECONDS = 3.0  # target: the whole simulated hour, CPU seconds
SMALL_PODS = 100  # pods in the second run (growth)
MAX_RATIO = 1.5  # target: CPU per pod at both sizes within this factor


def tenants(pods: int = PODS, seed: int = SEED) -> list[rosim.QuotaTenant]:
    """The bypassing tenant and ``pods - 1`` others (module docstring)."""
    rng = random.Random(seed)
    chosen = [rosim.QuotaTenant("bypass", "/var/cache/app/cache.bin", rate=BYPASS_RATE,
                                quota="1Gi", priority=BYPASS_PRIORITY)]
    for i in range(1, pods):
        name = f"tenant-{i:03d}"
        request = TENANT_REQUEST if i % REQUEST_EVERY == 0 else None
        priority = rng.choice(PRIORITIES)
        if i % CLAIM_EVERY == 0:
            tenant = rosim.QuotaTenant(name, "/data/out.bin", rate=TENANT_RATE, quota="1Gi",
                                       priority=priority, request=request)
        elif i % EMPTY_DIR_EVERY == 0:
            tenant = rosim.QuotaTenant(name, "/scratch/out.bin", rate=TENANT_RATE,
                                       empty_dir="/scratch", priority=priority,
                                       request=request)
        else:
            tenant = rosim.QuotaTenant(name, "/var/tmp/out.bin", rate=TENANT_RATE,
                                       priority=priority, request=request)
        chosen.append(tenant)
    return chosen


@dataclass(frozen=True)
class BenchResult:
    """One timed run: wall and CPU seconds, and the run itself."""

    pods: int
    seconds: float
    cpu_seconds: float
    run: rosim.QuotaRun

    @property
    def ticks(self) -> int:
        """Ticks simulated."""
        return len(self.run.samples)

    @property
    def written(self) -> int:
        """Bytes written by all pods."""
        return sum(t.written for t in self.run.tenants)

    @property
    def writes(self) -> int:
        """Writes made: one per running pod and tick, each charged in 1 MiB steps."""
        return sum(1 for sample in self.run.samples for t in self.run.tenants
                   if t.evicted_at is None or t.evicted_at >= sample.time)


def run(pods: int = PODS, duration: float = DURATION_SECONDS, seed: int = SEED) -> BenchResult:
    """Time one run of ``pods`` tenants for ``duration`` simulated seconds."""
    chosen = tenants(pods, seed)
    gc.collect()
    wall, cpu = perf_counter(), process_time()
    result = rosim.run_quota_scenario(chosen, disk=NODE_DISK, duration=duration,
                                      tick=TICK_SECONDS, label=f"{pods} pods")
    return BenchResult(pods, perf_counter() - wall, process_time() - cpu, result)


def report(result: BenchResult, max_seconds: float = MAX_SECONDS,
           small: BenchResult | None = None) -> list[tuple[bool, str]]:
    """Print the figures of ``result``; return (ok, line) for each target."""
    run_ = result.run
    fullest = run_.peak
    evicted = len(run_.evicted)
    failed = sum(1 for t in run_.tenants if t.error)
    bypass = run_.tenant("bypass")
    hours = run_.samples[-1].time / 3600
    print(f"6. Quota bypass: {result.pods} pods on a {rosim.format_size(run_.capacity)} node, "
          f"{hours:g} h simulated at {TICK_SECONDS:g} s resolution, event-driven, "
          f"{result.ticks} passes of the kubelet")
    print(f"   written: {rosim.format_size(result.written)}; fullest at {fullest.time:g} s with "
          f"{rosim.format_size(fullest.available)} available")
    print(f"   DiskPressure evictions: {evicted} (first: {', '.join(run_.evicted[:3]) or '-'}); "
          f"pods with a failed write: {failed}")
    print(f"   bypass: {bypass.outcome.value}, wrote {rosim.format_size(bypass.written)} to its "
          f"writable layer; its quota shows {rosim.format_size(bypass.claim_used)} used")
    runs = [result] + ([small] if small is not None else [])
    for r in runs:
        print(f"   {r.pods} pods: {r.cpu_seconds:.2f} s CPU, {r.seconds:.2f} s wall "
              f"({r.cpu_seconds / r.pods * 1e3:.2f} ms CPU per pod)")
    checks = [(result.cpu_seconds < max_seconds,
               f"an hour of writes by {result.pods} pods on a "
               f"{rosim.format_size(run_.capacity)} node at {TICK_SECONDS:g} s resolution = "
               f"{result.cpu_seconds:.2f} s CPU ({result.seconds:.2f} s wall; target < "
               f"{max_seconds:g} s CPU)")]
    if small is not None:
        ratio = (result.cpu_seconds / result.pods) / (small.cpu_seconds / small.pods)
        checks.append((1 / MAX_RATIO <= ratio <= MAX_RATIO,
                       f"quota run linear in pods: CPU per pod {result.pods} / {small.pods} "
                       f"pods = {ratio:.2f}× (target {1 / MAX_RATIO:.2f}-{MAX_RATIO}×)"))
    return checks


def main() -> int:
    """Run the benchmark, print the figures and a PASS/FAIL line; 0 when it passes."""
    print(f"rosim {rosim.__version__} quota benchmark (seed {SEED}, Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f})\n")
    run(SMALL_PODS, 600.0)  # warm-up: images, first-use caches
    small = run(SMALL_PODS)
    checks = report(run(), small=small)
    print()
    for ok, line in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {line}")
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

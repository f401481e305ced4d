"""Benchmark: what confining container code costs per call.

Scenario: a learner's notebook calls ``ctr.run(func)`` and ``ctr.sh("echo hi")``
over and over (the 1000-pod cluster benchmark does the same). Since container
code runs on a confined worker thread (Landlock where the kernel has it), each
call hands its work to that thread and waits for the answer. This benchmark
measures a ``ctr.run`` round trip of a function that does nothing and a
``ctr.sh("echo hi")`` in the CRI-O read-only fedora container, ``WARMUP``
unmeasured calls then the median of ``REPS`` calls, and prints them next to
the same figures measured before the worker thread existed (``BEFORE_*``:
rosim 0.1.0 at commit 0724529, container code on the caller's thread under
the audit hook, measured with this script on this 2-core machine at a load
average of about 3). Figures move with the machine's load; compare them at a
similar load.
Target: each within ``MAX_RATIO`` of its figure before.
"""

from __future__ import annotations

import gc
import statistics
from time import perf_counter

import rosim

WARMUP = 50  # unmeasured calls
REPS = 500  # measured calls (median taken)
MAX_RATIO = 1.5  # allowed slow-down against the same-thread figures
#: Medians in microseconds measured before container code ran on a worker thread.
BEFORE_RUN_US = 193.0
BEFORE_SH_US = 300.0


def _median_us(call) -> float:  # noqa: ANN001
    for _ in range(WARMUP):
        call()
    gc.collect()
    times = []
    for _ in range(REPS):
        start = perf_counter()
        call()
        times.append(perf_counter() - start)
    return statistics.median(times) * 1e6


def bench() -> tuple[float, float]:
    """Median microseconds of a ``ctr.run`` round trip and of ``ctr.sh("echo hi")``."""
    ctr = rosim.Runtime("cri-o", read_only=True).create(rosim.Image.builtin("fedora"),
                                                         name="fedora")
    ctr.start()
    assert ctr.run(int, "7") == 7
    assert ctr.sh("echo hi").stdout == "hi\n"
    run_us = _median_us(lambda: ctr.run(int, "7"))
    sh_us = _median_us(lambda: ctr.sh("echo hi"))
    return run_us, sh_us


def checks() -> list[tuple[bool, str]]:
    """Print the figures; return (within target, description) for each."""
    run_us, sh_us = bench()
    print(f"\n8. Cost of the host guard ({rosim.host_guard()} on a worker thread)")
    results = []
    for label, now, before in (("ctr.run round trip", run_us, BEFORE_RUN_US),
                               ('ctr.sh("echo hi")', sh_us, BEFORE_SH_US)):
        ratio = now / before
        print(f"   {label:<20} {now:8.1f} µs   before the worker thread {before:8.1f} µs"
              f"   ×{ratio:.2f}")
        results.append((ratio <= MAX_RATIO,
                         f"{label} = {now:.1f} µs, ×{ratio:.2f} of {before:.1f} µs before "
                         f"the worker thread (target ≤ {MAX_RATIO}×)"))
    return results


if __name__ == "__main__":
    for ok, line in checks():
        print(("OK  " if ok else "MISS") + "  " + line)

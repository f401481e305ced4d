"""Benchmark: the cost of one ``ctr.sh(...)`` command line made of shell builtins.

Scenario: a learner replays the CRI-O ``--read-only`` demo in the ``fedora``
image and types short command lines built from the builtins they reach for
(``echo``, ``test``, ``cd``, ``pwd``, ``true``). Each ``ctr.sh(line)`` starts
a fresh shell in the container, as ``crictl exec CTR sh -c LINE`` does, so
its cost includes the shell's start-up. Each line runs ``SHELL_WARMUP``
times unmeasured, then ``SHELL_REPS`` times; the figure is the median per
call. Its output is checked, so a fast wrong answer does not count.
"""

from __future__ import annotations

import gc
import statistics
from time import perf_counter

import rosim

SHELL_WARMUP = 20  # unmeasured calls per command line
SHELL_REPS = 200  # measured calls per command line (median taken)

#: (command line, expected stdout, expected exit status)
LINES = [
    ("echo hello", "hello\n", 0),
    ("cd /var/log && pwd", "/var/log\n", 0),
    ("test -d /etc && echo dir || echo none", "dir\n", 0),
    ("[ -w /usr ] || echo read-only", "read-only\n", 0),
    ("true; echo $?", "0\n", 0),
    ('cd /tmp; pwd; test -e /etc/passwd && echo "have passwd"; true && echo ok',
     "/tmp\nhave passwd\nok\n", 0),
]


def container() -> rosim.Container:
    """The demo's container: fedora under CRI-O with the global --read-only flag."""
    ctr = rosim.Runtime("cri-o", read_only=True).create(rosim.Image.builtin("fedora"),
                                                         name="fedora")
    ctr.start()
    return ctr


def bench() -> tuple[list[tuple[str, float]], float]:
    """Median seconds per ``ctr.sh`` call for each line; and per call in one session."""
    ctr = container()
    medians = []
    for line, stdout, status in LINES:
        result = ctr.sh(line)
        assert (result.stdout, result.status) == (stdout, status), (line, result)
        for _ in range(SHELL_WARMUP):
            ctr.sh(line)
        gc.collect()
        times = []
        for _ in range(SHELL_REPS):
            t0 = perf_counter()
            ctr.sh(line)
            times.append(perf_counter() - t0)
        medians.append((line, statistics.median(times)))
    session = ctr.shell()
    times = []
    for _ in range(SHELL_REPS):
        t0 = perf_counter()
        session.sh(LINES[-1][0])
        times.append(perf_counter() - t0)
    return medians, statistics.median(times)


def report(max_ms: float) -> list[tuple[bool, str]]:
    """Run, print the figures; return (ok, line) per target."""
    medians, in_session = bench()
    print(f"5. Shell: ctr.sh(LINE) in a fedora container (crio --read-only), builtins only; "
          f"median of {SHELL_REPS} calls")
    print(f"   {'command line':<76}{'ms/call':>9}")
    for line, seconds in medians:
        print(f"   {line:<76}{seconds * 1e3:>9.3f}")
    print(f"   info: the last line in one ShellSession (no new shell per call): "
          f"{in_session * 1e3:.3f} ms\n")
    worst_line, worst = max(medians, key=lambda m: m[1])
    return [(worst * 1e3 < max_ms,
             f"ctr.sh with builtins: slowest median {worst * 1e3:.3f} ms/call "
             f"({worst_line!r}; target < {max_ms:g} ms)")]

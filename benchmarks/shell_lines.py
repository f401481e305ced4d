"""Benchmark: the cost of one ``ctr.sh(...)`` command line made of shell builtins.

Scenario: a learner replays the CRI-O ``--read-only`` demo in the ``fedora``
image and types short command lines built from the builtins they reach for
(``echo``, ``test``, ``cd``, ``pwd``, ``true``). Each ``ctr.sh(line)`` starts
a fresh shell in the container, as ``crictl exec CTR sh -c LINE`` does, so
its cost includes the shell's start-up. Each line runs ``SHELL_WARMUP``
times unmeasured, then ``SHELL_REPS`` times; the figure is the median per
call. Its output is checked, so a fast wrong answer does not count. The
lines include the shell's compound syntax (``for``, ``while`` with
arithmetic, ``case``, a function, ``$(...)``, ``${X:-default}``), still
builtins only.

Scenario 2 (tokenizer): ``parse()`` of three one-megabyte lines: one
word of 1 MB, 333 333 short words, and 111 111 double-quoted variables
(``"$v0" "$v1" ...``, each name different); each is parsed ``TOKENIZER_REPS`` times and the best
time counts (the tokenizer reads each character once, so time grows with
the length of the line). Target: each under ``max_seconds``. For
information, the time a runaway recursion (``f() { f; }; f``) takes to
reach the function nesting limit.
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
    ("for i in 1 2 3; do echo $i; done", "1\n2\n3\n", 0),
    ("n=0; while [ $n -lt 3 ]; do n=$((n+1)); done; echo $n", "3\n", 0),
    ('case ${X:-web.conf} in *.conf) echo conf;; *) echo other;; esac', "conf\n", 0),
    ('f() { echo "$# $1"; }; f $(echo a b)', "2 a\n", 0),
]

TOKENIZER_REPS = 3  # parses per line (best taken)
MEGABYTE = 1_000_000


def tokenizer_lines() -> list[tuple[str, str]]:
    """(label, line) for the three one-megabyte lines."""
    return [
        ("one 1 MB word", "echo " + "a" * (MEGABYTE - 5)),
        ("333 333 short words", "echo" + " ab" * ((MEGABYTE - 4) // 3)),
        ('"$v0" "$v1"...: 111 111 words', "echo" + "".join(
            f' "$v{i}"' for i in range(111_111))),
    ]


def bench_tokenizer() -> list[tuple[str, int, float]]:
    """(label, length, best seconds) of ``parse`` for each one-megabyte line."""
    from rosim.shell.parser import parse

    out = []
    for label, line in tokenizer_lines():
        best = float("inf")
        for _ in range(TOKENIZER_REPS):
            gc.collect()
            t0 = perf_counter()
            script = parse(line)
            best = min(best, perf_counter() - t0)
        assert len(script.items) == 1
        out.append((label, len(line), best))
    return out


def bench_runaway(ctr: rosim.Container) -> tuple[float, str]:
    """Seconds for ``f() { f; }; f`` to stop at the nesting limit, and its message."""
    t0 = perf_counter()
    result = ctr.sh("f() { f; }; f")
    return perf_counter() - t0, result.stderr.strip()


def tokenizer_report(max_seconds: float) -> list[tuple[bool, str]]:
    """Run and print the tokenizer figures; return (ok, line) per line."""
    figures = bench_tokenizer()
    seconds, message = bench_runaway(container())
    print(f"5b. Tokenizer: parse() of one-megabyte lines, best of {TOKENIZER_REPS}")
    print(f"   {'line':<30}{'characters':>12}{'seconds':>10}")
    for label, length, best in figures:
        print(f"   {label:<30}{length:>12}{best:>10.3f}")
    print(f"   info: runaway recursion stops in {seconds:.2f} s with {message!r}\n")
    return [(best < max_seconds, f"parse a 1 MB line ({label}): {best:.3f} s "
             f"(target < {max_seconds:g} s)") for label, _, best in figures]


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

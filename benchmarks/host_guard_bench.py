"""Benchmark: what confining container code costs per call.

Scenario: a learner's notebook calls ``ctr.run(func)`` and ``ctr.sh("echo hi")``
over and over (the 1000-pod cluster benchmark does the same). Since container
code runs on a confined worker thread (Landlock where the kernel has it), each
call hands its work to that thread and waits for the answer, and the process
state container code may change is saved and put back around it.

This benchmark measures a ``ctr.run`` round trip of a function that does
nothing (``ctr.run(int, "7")``) and a ``ctr.sh("echo hi")`` in the CRI-O
read-only fedora container, for today's rosim and for rosim as it was before
the worker thread existed (commit ``BEFORE_COMMIT``: container code on the
caller's thread under the audit hook), **in the same run**: the old tree is
exported from git history (``git archive``) into a temporary directory, and
two subprocesses, one per tree, take turns measuring ``ROUNDS`` rounds of
``REPS`` calls each, so both share the machine's load. The figures are the
medians over all rounds; the ratio is now / before.

Without the git history (a source archive, a shallow clone), the figures
recorded for that commit (``BEFORE_RUN_US``/``BEFORE_SH_US``, at a load
average of about 3) stand in for the before side, labelled as such.
Target: each within ``MAX_RATIO`` of its figure before.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

WARMUP = 100  # unmeasured calls of each kind, per tree
ROUNDS = 8  # alternating rounds: before, now, before, now...
REPS = 100  # measured calls of each kind per round
MAX_RATIO = 1.5  # allowed slow-down against the same-thread figures
#: rosim before container code ran on a worker thread.
BEFORE_COMMIT = "0724529"
#: Medians in microseconds recorded at BEFORE_COMMIT (load average about 3),
#: used only when the git history is not available.
BEFORE_RUN_US = 193.0
BEFORE_SH_US = 300.0
KINDS = ("run", "sh")
LABELS = {"run": "ctr.run round trip", "sh": 'ctr.sh("echo hi")'}
ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------ measuring side
def _serve() -> None:
    """Measure on request (one subprocess per tree): a line in, a JSON line out."""
    import rosim

    ctr = rosim.Runtime("cri-o", read_only=True).create(rosim.Image.builtin("fedora"),
                                                         name="fedora")
    ctr.start()
    assert ctr.run(int, "7") == 7
    assert ctr.sh("echo hi").stdout == "hi\n"
    calls = {"run": lambda: ctr.run(int, "7"), "sh": lambda: ctr.sh("echo hi")}
    for call in calls.values():
        for _ in range(WARMUP):
            call()
    print(json.dumps({"rosim": rosim.__file__}), flush=True)
    for line in sys.stdin:
        kind, reps = line.split()
        call = calls[kind]
        gc.collect()
        times = []
        for _ in range(int(reps)):
            start = perf_counter()
            call()
            times.append(perf_counter() - start)
        print(json.dumps(times), flush=True)


class _Tree:
    """A subprocess measuring the rosim found at ``path`` (None: this tree)."""

    def __init__(self, path: Path | None) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(path or ROOT), env.get("PYTHONPATH", "")) if p)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self.proc = subprocess.Popen(  # noqa: S603 - this interpreter, this script
            [sys.executable, __file__, "--serve"], env=env, cwd=str(path or ROOT),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = json.loads(self._line())
        self.rosim = hello["rosim"]
        self.times: dict[str, list[float]] = {kind: [] for kind in KINDS}

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the measuring subprocess ended (status {self.proc.wait()})")
        return line

    def measure(self, kind: str, reps: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{kind} {reps}\n")
        self.proc.stdin.flush()
        self.times[kind].extend(json.loads(self._line()))

    def median_us(self, kind: str) -> float:
        return statistics.median(self.times[kind]) * 1e6

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _export_before(into: Path) -> bool:
    """Write the rosim package as of BEFORE_COMMIT into ``into``; False without history."""
    try:
        archive = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "archive", "--format=tar", BEFORE_COMMIT, "rosim"],  # noqa: S607
            capture_output=True, check=True, timeout=60).stdout
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive,  # noqa: S603, S607
                       capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return (into / "rosim" / "__init__.py").is_file()


def bench() -> tuple[dict[str, float], dict[str, float] | None, str]:
    """Median µs per kind now and before (None: no git history), and a description."""
    with tempfile.TemporaryDirectory(prefix="rosim-before-") as tmp:
        before_tree = Path(tmp)
        have_before = _export_before(before_tree)
        now = _Tree(None)
        before = _Tree(before_tree) if have_before else None
        load = os.getloadavg()[0]
        try:
            for _ in range(ROUNDS):
                for kind in KINDS:
                    for tree in (before, now):
                        if tree is not None:
                            tree.measure(kind, REPS)
        finally:
            now.close()
            if before is not None:
                before.close()
        load = (load + os.getloadavg()[0]) / 2
        now_us = {kind: now.median_us(kind) for kind in KINDS}
        if before is None:
            return now_us, None, f"load average {load:.2f}"
        if not before.rosim.startswith(tmp):
            raise RuntimeError(f"the before side imported {before.rosim}, not the old tree")
        return now_us, {kind: before.median_us(kind) for kind in KINDS}, (
            f"load average {load:.2f}")


def checks() -> list[tuple[bool, str]]:
    """Print the figures; return (within target, description) for each."""
    import rosim

    now_us, before_us, load = bench()
    if before_us is None:
        source = (f"figures recorded at {BEFORE_COMMIT} (no git history here, so "
                  "NOT measured in this run)")
        before_us = {"run": BEFORE_RUN_US, "sh": BEFORE_SH_US}
    else:
        source = f"{BEFORE_COMMIT} measured in this run, alternating"
    print(f"\n8. Cost of the host guard ({rosim.host_guard()} on a worker thread); "
          f"before = {source}; {ROUNDS}×{REPS} calls each, {load}")
    results = []
    for kind in KINDS:
        label, now, before = LABELS[kind], now_us[kind], before_us[kind]
        ratio = now / before
        print(f"   {label:<20} {now:8.1f} µs   before the worker thread {before:8.1f} µs"
              f"   ×{ratio:.2f}")
        results.append((ratio <= MAX_RATIO,
                        f"{label} = {now:.1f} µs, ×{ratio:.2f} of {before:.1f} µs before "
                        f"the worker thread ({source}; target ≤ {MAX_RATIO}×)"))
    return results


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        _serve()
    else:
        for ok, line in checks():
            print(("OK  " if ok else "MISS") + "  " + line)

"""Executing files on each runtime's mounts: ``ctr.sh`` against busybox in runc.

See ``docs/fidelity.md`` ("Executing files") and ``exec_harness.py``. Each
container set-up starts once on each side and runs all its cases; each case
is two tests: the kernel gives the exit status the runtimes' documentation
leads to expect, and rosim gives the kernel's outcome.
"""

from __future__ import annotations

import pytest
from exec_harness import (
    ExecCase,
    ExecSetup,
    SetupRun,
    run_setup,
)

import rosim

pytestmark = pytest.mark.fidelity

DENIED, RUNS, MISSING = 126, 0, 127


def on(directory: str, expect: int) -> tuple[ExecCase, ExecCase]:
    """The script and the busybox copy, made executable and run from ``directory``."""
    where = "noexec" if expect == DENIED else "exec"
    return (
        ExecCase(f"script in {directory} ({where})", "script", f"{directory}/tool",
                 expect=expect),
        ExecCase(f"busybox in {directory} ({where})", "busybox", f"{directory}/sh",
                 expect=expect),
    )


def no_x_bit(directory: str) -> tuple[ExecCase, ExecCase]:
    """The script and the busybox copy with ``chmod -x``, on a mount that allows exec."""
    return (
        ExecCase(f"script without x bit in {directory}", "script",
                 f"{directory}/nox-tool", chmod="-x", expect=DENIED),
        ExecCase(f"busybox without x bit in {directory}", "busybox",
                 f"{directory}/nox/sh", chmod="-x", expect=DENIED),
    )


def missing(target: str) -> ExecCase:
    return ExecCase(f"missing {target}", "missing", target, expect=MISSING)


SETUPS = (
    ExecSetup(
        "crio-ro", "CRI-O --read-only", "cri-o",
        cases=(
            *on("/tmp", DENIED), *on("/var/tmp", DENIED), *on("/run", DENIED),
            *on("/dev/shm", DENIED),
            missing("/tmp/missing"), missing("missing-tool"),
        ),
    ),
    ExecSetup(
        "podman-ro", "Podman --read-only", "podman",
        cases=(
            *on("/tmp", RUNS),
            *on("/var/tmp", RUNS),
            *on("/run", RUNS),
            *on("/dev/shm", DENIED),
            *no_x_bit("/tmp"),
            ExecCase("script copied without chmod in /tmp", "script", "/tmp/keep-tool",
                     chmod=None, expect=RUNS),
            ExecCase("busybox copied without chmod in /tmp", "busybox", "/tmp/keep/sh",
                     chmod=None, expect=RUNS),
            missing("/tmp/missing"),
        ),
    ),
    ExecSetup(
        "docker-ro-tmpfs", "Docker --read-only --tmpfs /tmp -v data:/data", "docker",
        mounts=(rosim.Tmpfs("/tmp"), rosim.Bind(rosim.Volume("data"), "/data")),
        cases=(
            *on("/tmp", DENIED), *on("/dev/shm", DENIED),
            *on("/data", RUNS),
            *no_x_bit("/data"),
            missing("/data/missing"),
        ),
    ),
    ExecSetup(
        "docker-ro-exec-tmpfs", "Docker --read-only --tmpfs /tmp:exec", "docker",
        mounts=(rosim.Tmpfs("/tmp", options=("exec",)),),
        cases=(*on("/tmp", RUNS),),
    ),
)
BY_NAME = {s.name: s for s in SETUPS}

_RUNS: dict[str, SetupRun | Exception] = {}


def setup_run(fidelity, busybox: bytes, name: str) -> SetupRun:
    """Run a set-up once per session on both sides (failures are cached too)."""
    cached = _RUNS.get(name)
    if cached is None:
        try:
            cached = run_setup(BY_NAME[name], busybox)
            fidelity.containers += 1
            fidelity.container_seconds += cached.seconds
        except AssertionError as exc:  # FidelityError, or mount tables differ
            cached = exc
        _RUNS[name] = cached
    if isinstance(cached, Exception):
        # Not an AssertionError: a broken real run must not pass as a known mismatch.
        pytest.fail(f"set-up {name!r}: {cached}", pytrace=False)
    return cached


def _params(with_xfail: bool):
    for spec in SETUPS:
        for case in spec.cases:
            marks = ([pytest.mark.xfail(strict=True, raises=AssertionError,
                                        reason=case.xfail)]
                     if with_xfail and case.xfail else [])
            yield pytest.param(spec.name, case.label, id=f"{spec.name}: {case.label}",
                               marks=marks)


def _case(setup: str, label: str) -> ExecCase:
    return next(c for c in BY_NAME[setup].cases if c.label == label)


@pytest.mark.parametrize(("setup", "label"), list(_params(with_xfail=False)))
def test_kernel_exec_status(fidelity, busybox, setup, label):
    """busybox sh in runc gives the exit status the mount's options lead to expect."""
    case = _case(setup, label)
    run = setup_run(fidelity, busybox, setup)
    real = run.real[label]
    assert real.shell_status == 0 and real.outcome.status == case.expect, (
        f"{BY_NAME[setup].title}: `{case.command()}`\n"
        f"  expected status={case.expect}, the kernel gave: {real}"
    )


@pytest.mark.parametrize(("setup", "label"), list(_params(with_xfail=True)))
def test_exec_matches_kernel(fidelity, busybox, setup, label):
    """``ctr.sh`` gives the kernel's exit status, output and error."""
    case = _case(setup, label)
    run = setup_run(fidelity, busybox, setup)
    real, sim = run.real[label], run.rosim[label]
    if real.shell_status != 0:
        pytest.fail(f"`{case.command()}` did not finish in the real container: {real}",
                    pytrace=False)
    fidelity.compared += 1
    fidelity.known_mismatches += bool(case.xfail)
    assert sim.outcome == real.outcome, (
        f"rosim differs from the kernel in {BY_NAME[setup].title}, case {label!r}\n"
        f"  command: {case.command()}\n"
        f"  kernel (busybox sh): {real.outcome}\n    raw: {real}\n"
        f"  rosim (ctr.sh):      {sim.outcome}\n    raw: {sim}"
    )


def test_messages_differ_only_in_wording():
    """The one normalisation: busybox's ``not found`` is bash's 127 message."""
    from exec_harness import essential_error, outcome

    assert essential_error("sh: /tmp/x: not found") == \
        "sh: /tmp/x: No such file or directory"
    assert essential_error("sh: tool: not found") == "sh: tool: command not found"
    assert essential_error("sh: /tmp/x: Permission denied") == \
        "sh: /tmp/x: Permission denied"
    got = outcome("script ran\nstatus=0\n", "")
    assert (got.status, got.stdout, got.errors) == (0, ("script ran",), ())


def test_case_commands():
    """The command lines the cases run (the same text on both sides)."""
    crio = BY_NAME["crio-ro"]
    assert crio.cases[0].command() == \
        "cp /opt/tool.sh /tmp/tool; chmod +x /tmp/tool; /tmp/tool; echo status=$?"
    assert crio.cases[1].command() == \
        "cp /bin/sh /tmp/sh; chmod +x /tmp/sh; /tmp/sh -c 'echo ran'; echo status=$?"
    podman = BY_NAME["podman-ro"]
    nox = next(c for c in podman.cases if c.label == "busybox without x bit in /tmp")
    assert nox.command() == ("mkdir -p /tmp/nox; cp /bin/sh /tmp/nox/sh; "
                             "chmod -x /tmp/nox/sh; /tmp/nox/sh -c 'echo ran'; "
                             "echo status=$?")

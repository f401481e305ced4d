"""rosim against the real kernel: the same Python code in runc and in rosim.

See ``docs/fidelity.md``. Each operation of each scenario in
``fidelity_cases.py`` is one test; a scenario's containers start once.
"""

from __future__ import annotations

import subprocess

import pytest
from fidelity_cases import BY_NAME, SCENARIOS, Op
from fidelity_harness import (
    FidelityError,
    Setup,
    _sh,
    leftovers,
    proc_mounts_view,
    rosim_changes,
    run_real,
)

import rosim

pytestmark = pytest.mark.fidelity


def _op_params():
    for sc in SCENARIOS:
        for o in sc.ops:
            marks = [pytest.mark.xfail(strict=True, reason=o.xfail)] if o.xfail else []
            yield pytest.param(sc.name, o.label, id=f"{sc.name}: {o.label}", marks=marks)


def _find(scenario: str, label: str) -> Op:
    return next(o for o in BY_NAME[scenario].ops if o.label == label)


@pytest.mark.parametrize(("scenario", "label"), list(_op_params()))
def test_operation(fidelity, scenario, label):
    """One operation's outcome (value or errno) in rosim equals the kernel's."""
    op = _find(scenario, label)
    run = fidelity.scenario(BY_NAME[scenario])
    real, sim = run.real_outcomes[label], run.rosim[label]
    if op.compare == "proc_mounts":
        real = proc_mounts_view(real, run.destinations, run.bind_destinations)
        sim = proc_mounts_view(sim, run.destinations, run.bind_destinations)
    fidelity.compared += 1
    fidelity.known_mismatches += bool(op.xfail)
    assert sim == real, (
        f"rosim differs from the kernel in scenario {scenario!r}, operation {label!r}\n"
        f"  code:   {op.code}\n  kernel: {real!r}\n  rosim:  {sim!r}"
    )


def _diff_params():
    for sc in SCENARIOS:
        marks = ([pytest.mark.xfail(strict=True, reason=sc.diff_xfail)]
                 if sc.diff_xfail else [])
        yield pytest.param(sc.name, id=sc.name, marks=marks)


@pytest.mark.parametrize("scenario", list(_diff_params()))
def test_upper_layer_diff(fidelity, scenario):
    """The real upperdir, read as A/C/D changes, equals ``Container.diff()``."""
    run = fidelity.scenario(BY_NAME[scenario])
    fidelity.diffs += 1
    real, sim = run.real.changes, run.rosim_diff
    missing = [c for c in real if c not in sim]
    extra = [c for c in sim if c not in real]
    assert sim == real, (
        f"Container.diff() differs from the real upper layer in scenario {scenario!r}\n"
        f"  only in the kernel's upperdir: {missing}\n  only in rosim: {extra}\n"
        f"  upperdir: {run.real.upper_listing}"
    )


# ------------------------------------------------ programs given as functions
def dnf_like():
    """The CRI-O blog's demo, in miniature: a package manager opens its log first."""
    import logging
    import os

    def install():
        handler = logging.FileHandler("/var/log/dnf.log")
        try:
            os.makedirs("/var/cache/dnf/metadata", exist_ok=True)
            with open("/var/cache/dnf/metadata/repomd.xml", "w") as f:
                f.write("<repomd/>\n")
            with open("/opt/tool/bin/nc", "wb") as f:
                f.write(b"\x7fELF")
            os.chmod("/opt/tool/bin/nc", 0o755)
            return sorted(os.listdir("/opt/tool/bin"))
        finally:
            handler.close()

    # ``outcome`` comes with the harness's prelude, on both sides.
    return [
        outcome(install),  # noqa: F821
        outcome(os.path.exists, "/var/log/dnf.log"),  # noqa: F821
        outcome(lambda: os.statvfs("/").f_flag & os.ST_RDONLY),  # noqa: F821
    ]


PROGRAM_IMAGE = {**BY_NAME["crio-ro"].setup.image}


@pytest.mark.parametrize(("profile", "read_only"), [("cri-o", True), ("podman", False)],
                         ids=["cri-o read-only", "podman read-write"])
def test_function_program(fidelity, profile, read_only):
    """A plain function, sent by its source, gives the same results on both sides."""
    setup = Setup(f"program-{profile}", PROGRAM_IMAGE, profile=profile, read_only=read_only)
    real, sim, ctr = fidelity.both(setup, dnf_like)
    fidelity.compared += len(real.result)
    assert sim == real.result, f"kernel: {real.result!r}\nrosim:  {sim!r}"
    fidelity.diffs += 1
    assert rosim_changes(ctr) == sorted(real.changes, key=lambda c: c[1])


SOURCE_PROGRAM = '''
import os, shutil

def main():
    os.makedirs("/site/static", exist_ok=True)
    shutil.copytree("/srv/www", "/site/www")
    return [
        outcome(lambda: sorted(os.listdir("/site"))),
        outcome(os.rename, "/site", "/tmp/site"),
        outcome(shutil.move, "/site", "/tmp/site"),
        outcome(lambda: sorted(os.listdir("/tmp/site"))),
        outcome(os.path.exists, "/site"),
    ]
'''


def test_source_program(fidelity):
    """A program given as source text: copies across mounts on a writable root."""
    setup = Setup("source-docker", PROGRAM_IMAGE, profile="docker",
                  mounts=(rosim.Tmpfs("/tmp"),))
    real, sim, ctr = fidelity.both(setup, SOURCE_PROGRAM)
    fidelity.compared += len(real.result)
    assert sim == real.result, f"kernel: {real.result!r}\nrosim:  {sim!r}"
    fidelity.diffs += 1
    assert rosim_changes(ctr) == sorted(real.changes, key=lambda c: c[1])


# ------------------------------------------------------------- bad input
SMALL = Setup("bad-input", {"/etc/motd": "hi\n"}, profile="docker")


def test_program_failure_reports_stderr(fidelity):
    """A program that dies gives a clear failure with the container's stderr."""
    with pytest.raises(FidelityError) as info:
        run_real(SMALL, "def main():\n    return 1 // 0\n")
    message = str(info.value)
    assert "exited with 1" in message
    assert "ZeroDivisionError" in message
    assert not leftovers()


def test_runc_failure_reports_stderr(fidelity, monkeypatch):
    """A spec runc rejects (a bind of a missing source) fails with runc's stderr."""
    import fidelity_harness

    real_spec = fidelity_harness._spec

    def broken_spec(*args, **kwargs):
        spec = real_spec(*args, **kwargs)
        spec["mounts"].append({"destination": "/broken", "type": "bind",
                               "source": "/nonexistent/rosim-fidelity-source",
                               "options": ["rbind"]})
        return spec

    monkeypatch.setattr(fidelity_harness, "_spec", broken_spec)
    with pytest.raises(FidelityError) as info:
        run_real(SMALL, "def main():\n    return []\n")
    message = str(info.value)
    assert "runc run" in message and "stderr" in message
    assert "rosim-fidelity-source" in message
    assert not leftovers()


def test_hung_container_times_out(fidelity):
    """A container that hangs is killed at the timeout: a failure, not a hang."""
    program = "import time\n\ndef main():\n    time.sleep(60)\n    return []\n"
    with pytest.raises(FidelityError, match="did not finish within 2 s"):
        run_real(SMALL, program, timeout=2)
    assert not leftovers()


def test_missing_binary_is_a_clear_failure(fidelity):
    with pytest.raises(FidelityError, match="is not installed"):
        _sh(["/nonexistent/runc", "--version"], "checking runc")


def test_runc_version(fidelity):
    """Record which runc the outcomes were compared against (shown with -v)."""
    out = subprocess.run(["runc", "--version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("runc version")

"""Scenario 2's dropped binaries against the kernel: written? executed?

For each runtime setting of :func:`rosim.backdoor_settings` a real runc
container gets the same mounts (the runtime's tmpfs, the user's ``--tmpfs``,
an ``emptyDir`` as an empty host directory) and runs, in ``/tmp``,
``/var/tmp``, ``/run``, ``/dev/shm`` and ``/dev``, what the dropper does: copy a
binary there (busybox, as ``exec_harness`` does), make it executable and run
it. The simulation's :func:`rosim.run_attack` of the matching ``drop-*``
technique must report the same: planted when the copy worked, executed when
the binary ran.
"""

from __future__ import annotations

import time

import pytest
from exec_harness import (
    ExecCase,
    Ran,
    real_image,
    run_real_commands,
)
from fidelity_harness import Setup

import rosim

pytestmark = pytest.mark.fidelity

DIRECTORIES = ("/tmp", "/var/tmp", "/run", "/dev/shm", "/dev")
#: The harness runs as root; the non-root setting is checked against real
#: Docker (``docker --read-only --user 1000`` in tests/runtimes).
SETTINGS = tuple(s.label for s in rosim.backdoor_settings() if s.user is None)

_REAL: dict[str, dict[str, Ran] | Exception] = {}


def dropper(directory: str) -> ExecCase:
    """Copy busybox to ``directory/sh``, chmod +x, run it, print ``status=$?``."""
    return ExecCase(f"binary in {directory}", "busybox", f"{directory}/sh")


def real_setup(label: str, busybox: bytes) -> Setup:
    """The runc container of one backdoor setting (its emptyDir is a host directory)."""
    setting = rosim.backdoor_setting(label)
    empty = tuple(rosim.Bind(rosim.Volume("empty" + p.replace("/", "-")), p)
                  for p in setting.empty_dirs)
    slug = "".join(c if c.isalnum() else "-" for c in label).strip("-")
    return Setup(f"backdoor-{slug}", real_image(busybox), profile=setting.profile,
                 read_only=setting.read_only, container_read_only=setting.container_read_only,
                 read_only_tmpfs=setting.read_only_tmpfs, mounts=(*setting.mounts, *empty))


def real_runs(fidelity, busybox: bytes, label: str) -> dict[str, Ran]:
    """Each directory's dropper run in one real container per setting (cached)."""
    cached = _REAL.get(label)
    if cached is None:
        commands = [dropper(d).command() for d in DIRECTORIES]
        start = time.perf_counter()
        try:
            runs = run_real_commands(real_setup(label, busybox), commands)
            cached = dict(zip(DIRECTORIES, runs, strict=True))
        except AssertionError as exc:
            cached = exc
        fidelity.containers += 1
        fidelity.container_seconds += time.perf_counter() - start
        _REAL[label] = cached
    if isinstance(cached, Exception):
        pytest.fail(f"setting {label!r}: {cached}", pytrace=False)
    return cached


@pytest.mark.parametrize("directory", DIRECTORIES)
@pytest.mark.parametrize("label", SETTINGS)
def test_dropped_binary_matches_kernel(fidelity, busybox, label, directory):
    """run_attack's planted/executed for drop-* match cp and execve in runc."""
    real = real_runs(fidelity, busybox, label)[directory]
    if real.shell_status != 0:
        pytest.fail(f"the dropper did not finish in the real container: {real}", pytrace=False)
    result = real.outcome
    real_planted = not any(e.startswith("cp:") for e in result.errors)
    real_executed = result.status == 0 and result.stdout == ("ran",)
    attack = rosim.run_attack("drop" + directory.replace("/", "-"), label, "restart")
    fidelity.compared += 1
    assert (attack.planted, attack.executed) == (real_planted, real_executed), (
        f"{label}, binary in {directory}\n"
        f"  kernel: planted={real_planted} executed={real_executed} ({result})\n"
        f"  rosim:  planted={attack.planted} executed={attack.executed}\n{attack.transcript}"
    )


def test_settings_cover_both_tmpfs_flavours():
    """CRI-O-style (noexec) and Podman-style (exec) tmpfs are both compared."""
    assert "crio --read-only" in SETTINGS and "podman --read-only" in SETTINGS
    assert dropper("/tmp").command() == (
        "cp /bin/sh /tmp/sh; chmod +x /tmp/sh; /tmp/sh -c 'echo ran'; echo status=$?")

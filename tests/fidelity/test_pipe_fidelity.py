"""Pipelines whose reader exits early, and /dev: rosim's ``ctr.sh`` against busybox in runc.

The real side runs each command line with busybox ``sh -c`` in a runc
container (``exec_harness``); ``cat``, ``head``, ``wc`` and ``yes`` are
busybox applets there and rosim programs in rosim's image.
"""

from __future__ import annotations

import pytest
from exec_harness import (
    _common,
    program,
    run_real_commands,
    run_rosim_commands,
)
from fidelity_harness import Setup

import rosim

pytestmark = pytest.mark.fidelity

TOOLS = ("cat", "head", "wc", "yes")

COMMANDS = (
    "cat /dev/zero | head -c 5 | wc -c",
    "yes | head -n 3",
    "cat /dev/urandom | head -c 16 | wc -c",
    "(yes; echo after $? >&2) | head -n 1",
    "echo x > /dev/null; echo status=$?",
    "echo x > /dev/zero; echo status=$?",
    "echo x > /dev/urandom; echo status=$?",
    "head -c 3 /dev/full | wc -c",
    "echo x > /dev/full; echo status=$?",
    "cat /dev/tty; echo status=$?",
)


def _image(shell: rosim.File, link: bool) -> dict:
    image = _common()
    image["/bin/sh"] = shell
    for tool in TOOLS:
        image[f"/bin/{tool}"] = rosim.Symlink("sh") if link else program(tool)
    return image


def test_pipelines_and_devices_match_busybox_in_runc(fidelity, busybox):
    """Output and status of each command line are busybox's in a --read-only runc container."""
    real = run_real_commands(
        Setup("pipes-runc", _image(rosim.File(busybox, mode=0o755), True),
              profile="docker", read_only=True), COMMANDS)
    sim, _ = run_rosim_commands(
        Setup("pipes-rosim", _image(program("sh"), False), profile="docker", read_only=True),
        COMMANDS)
    fidelity.compared += len(COMMANDS)
    for command, want, got in zip(COMMANDS, real, sim, strict=True):
        # stderr: the error after the last colon (busybox's cat says "can't open").
        assert (got.shell_status, got.stdout.split(), _errors(got.stderr)) == \
            (want.shell_status, want.stdout.split(), _errors(want.stderr)), command


def _errors(stderr: str) -> list[str]:
    return [line.rsplit(": ", 1)[-1] for line in stderr.splitlines()]

"""Fixtures for the Docker and Podman tests: real engines next to rosim.

The tests need root, Debian's ``docker.io`` (dockerd 20.10), ``podman`` and
``runc``, and a static busybox (``busybox-static``) for the image. Without
them they skip with the reason ``docker, podman or root not available``; with
``ROSIM_REQUIRE_RUNTIMES=1`` (set by ``.ci/run`` as root) the skip is a
failure instead.

Every setting runs once per session on each side; the tests only compare.
``docker_daemon`` is a session fixture any test may use: the daemon named by
``ROSIM_DOCKER_HOST`` (``.ci/run`` starts one), or a private one for the
session, stopped and removed at its end.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from engines import DockerDaemon, Podman, availability, leftovers  # noqa: E402
from runtimes_harness import (  # noqa: E402
    BUSYBOX,
    SETTINGS,
    TALLY,
    Engines,
    SettingRun,
    rosim_image,
    run_setting,
)

REQUIRE_ENV = "ROSIM_REQUIRE_RUNTIMES"
SKIP_REASON = "docker, podman or root not available"


def require_engines() -> None:
    """Skip (or, with ROSIM_REQUIRE_RUNTIMES=1, fail) without root, Docker and Podman."""
    reason = availability()
    if reason is None and not os.path.isfile(BUSYBOX):
        reason = f"{BUSYBOX} not found (apt-get install busybox-static)"
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 makes the runtimes tests mandatory",
                    pytrace=False)
    pytest.skip(SKIP_REASON)


@pytest.fixture(scope="session")
def docker_daemon() -> Iterator[DockerDaemon]:
    """A running dockerd for the session (see ``engines.DockerDaemon.session``)."""
    require_engines()
    with DockerDaemon.session() as daemon:
        yield daemon
    left = leftovers()
    assert not left, f"the runtimes tests left something behind: {left}"


@dataclass
class Runs:
    """Every setting, run once on each side."""

    by_label: dict[str, SettingRun]

    def get(self, label: str) -> SettingRun:
        return self.by_label[label]


@pytest.fixture(scope="session")
def runs(docker_daemon: DockerDaemon) -> Iterator[Runs]:
    """Run every setting on both sides once; clean up and check for leftovers."""
    with open(BUSYBOX, "rb") as f:
        busybox = f.read()
    with Podman.session() as podman:
        engines = Engines(docker_daemon, podman, busybox)
        try:
            image = rosim_image()
            by_label = {s.label: run_setting(engines, s, image, i)
                        for i, s in enumerate(SETTINGS)}
        finally:
            engines.cleanup()
            docker_daemon.run("rmi", "-f", Engines.IMAGE, check=False)
            TALLY.containers += engines.containers
            TALLY.seconds += engines.seconds
        dump = os.environ.get("ROSIM_RUNTIMES_DUMP")
        if dump:
            # Both sides' outputs, for reading a mismatch in full.
            import dataclasses
            import json

            with open(dump, "w") as f:
                json.dump({k: dataclasses.asdict(v) for k, v in by_label.items()}, f, indent=1)
        for run in by_label.values():
            if run.excluded:
                TALLY.excluded.append(f"{run.setting.label}: {run.excluded}")
        yield Runs(by_label)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    t = TALLY
    if not t.checks:
        return
    terminalreporter.write_sep("-", "rosim against real Docker and Podman")
    terminalreporter.write_line(
        f"{len(t.settings)} settings x checks: {t.checks} compared, {t.mismatches} mismatches; "
        f"{t.containers} real container runs took {t.seconds:.1f} s")
    for line in t.excluded:
        terminalreporter.write_line(f"excluded (this machine): {line}")

"""Fixtures for the fidelity tests: real runc containers next to rosim ones.

Every test here needs root and runc. Without them the tests skip with the
reason ``runc or root not available``; with ``ROSIM_REQUIRE_FIDELITY=1``
(set by ``.ci/run`` as root) that skip is a failure instead.

A scenario's container is started once per session on each side and its
outcomes are cached, so the per-operation tests only compare.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from exec_harness import BUSYBOX, BUSYBOX_SKIP_REASON, busybox_reason, busybox_required
from fidelity_cases import Scenario
from fidelity_harness import (
    REQUIRE_ENV,
    SKIP_REASON,
    FidelityError,
    RealRun,
    availability,
    leftovers,
    rosim_changes,
    run_real,
    run_rosim,
)

import rosim


def require_real_containers() -> None:
    """Skip (or, with ROSIM_REQUIRE_FIDELITY=1, fail) when runc cannot run here."""
    reason = availability()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 makes the fidelity tests mandatory",
                    pytrace=False)
    pytest.skip(SKIP_REASON)


@dataclass
class ScenarioRun:
    """Both sides of one scenario: outcomes by label, the two diffs, the mounts."""

    real: RealRun
    rosim: dict[str, Any]
    real_outcomes: dict[str, Any]
    rosim_diff: list[tuple[str, str]]
    destinations: list[str]
    bind_destinations: list[str]


@dataclass
class FidelityRunner:
    """Runs scenarios once and keeps count of what was compared."""

    runs: dict[str, ScenarioRun | FidelityError] = field(default_factory=dict)
    compared: int = 0
    known_mismatches: int = 0
    diffs: int = 0
    container_seconds: float = 0.0
    containers: int = 0

    def scenario(self, sc: Scenario) -> ScenarioRun:
        cached = self.runs.get(sc.name)
        if cached is None:
            try:
                cached = self._run(sc)
            except FidelityError as exc:
                cached = exc
            self.runs[sc.name] = cached
        if isinstance(cached, FidelityError):
            raise FidelityError(f"scenario {sc.name!r}: {cached}")
        return cached

    def _run(self, sc: Scenario) -> ScenarioRun:
        program = sc.program()
        start = time.perf_counter()
        real = run_real(sc.setup, program)
        self.container_seconds += time.perf_counter() - start
        self.containers += 1
        sim, ctr = run_rosim(sc.setup, program)
        mounts = ctr.mounts
        return ScenarioRun(
            real=real,
            rosim=dict(sim),
            real_outcomes=dict(real.result),
            rosim_diff=rosim_changes(ctr),
            destinations=[m.destination for m in mounts],
            bind_destinations=[m.destination for m in mounts if m.fstype == "bind"],
        )

    def both(self, setup: Any, program: Any, **kwargs: Any) -> tuple[Any, Any, rosim.Container]:
        """Run any program on both sides (not cached): real result, rosim result, container."""
        start = time.perf_counter()
        real = run_real(setup, program, **kwargs)
        self.container_seconds += time.perf_counter() - start
        self.containers += 1
        sim, ctr = run_rosim(setup, program)
        return real, sim, ctr


_RUNNER = FidelityRunner()


@pytest.fixture(scope="session")
def fidelity() -> FidelityRunner:
    """The session's runner; skips or fails first when runc or root is missing."""
    require_real_containers()
    yield _RUNNER
    left = leftovers()
    assert not left, f"the fidelity tests left mounts or containers behind: {left}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    r = _RUNNER
    if not r.containers:
        return
    terminalreporter.write_sep("-", "rosim fidelity against runc")
    terminalreporter.write_line(
        f"{r.compared} operation outcomes compared ({r.known_mismatches} of them known "
        f"mismatches, xfail), {r.diffs} upper layers compared with Container.diff(); "
        f"{r.containers} real containers took {r.container_seconds:.1f} s"
    )


@pytest.fixture(scope="session")
def busybox(fidelity) -> bytes:
    """The static busybox's bytes; skips (or fails when required) without it.

    ``fidelity`` has already skipped (or failed) without runc or root.
    """
    reason = busybox_reason()
    if reason is not None:
        if busybox_required():
            pytest.fail(f"{reason}; ROSIM_REQUIRE_FIDELITY=1 makes the fidelity tests "
                        "mandatory", pytrace=False)
        pytest.skip(BUSYBOX_SKIP_REASON)
    with open(BUSYBOX, "rb") as f:
        return f.read()

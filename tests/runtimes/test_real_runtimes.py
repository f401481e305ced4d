"""Every runtime setting rosim models, against real Docker and Podman.

See ``runtimes_harness.py`` for what runs and ``docs/fidelity.md`` for what
is compared. Each test compares one part of one setting's run.
"""

from __future__ import annotations

import pytest
from runtimes_harness import (
    DIR_PATHS,
    FILE_PATHS,
    SETTINGS,
    compare,
    mount_table,
    normalise_line,
    sections,
)

pytestmark = pytest.mark.runtimes

LABELS = [s.label for s in SETTINGS]


def _run(runs, label):
    run = runs.get(label)
    if run.excluded:
        pytest.skip(f"excluded on this machine: {run.excluded}")
    return run


def _section(output: str, name: str) -> list[str]:
    """A section's lines, normalised; a repeated line counts once (busybox ``rm -r``
    reports every entry it cannot remove, rosim's the first)."""
    out: list[str] = []
    for line in sections(output).get(name, []):
        line = normalise_line(line)
        if not out or out[-1] != line:
            out.append(line)
    return out


@pytest.mark.parametrize("label", LABELS)
def test_mount_table(runs, label):
    """/proc/mounts: mount points, fs types, ro/rw, noexec/nosuid/nodev, tmpfs size/mode."""
    run = _run(runs, label)
    real = mount_table(sections(run.real.first)["mounts"])
    sim = mount_table(sections(run.rosim.first)["mounts"])
    compare(label, "mount table", real, sim)


@pytest.mark.parametrize("path", DIR_PATHS + FILE_PATHS)
@pytest.mark.parametrize("label", LABELS)
def test_probe(runs, label, path):
    """touch, echo > and cp + run at one path: exit statuses and error messages."""
    run = _run(runs, label)
    real, sim = _section(run.real.first, path), _section(run.rosim.first, path)
    if run.setting.user and path in FILE_PATHS:
        # touch of a file the user may not write: busybox reports utimensat's
        # EROFS, GNU touch (rosim's) open's EACCES; the statuses are compared.
        real, sim = real[1:], sim[1:]
    compare(label, f"probe {path}", real, sim)


@pytest.mark.parametrize("label", LABELS)
def test_file_operations(runs, label):
    """The script of file operations: every command's status and error."""
    run = _run(runs, label)
    compare(label, "file operations", _section(run.real.first, "ops"),
            _section(run.rosim.first, "ops"))


@pytest.mark.parametrize("label", LABELS)
def test_diff(runs, label):
    """docker diff / podman diff after the script, against Container.diff()."""
    run = _run(runs, label)
    compare(label, "diff", run.real.diff, run.rosim.diff)


@pytest.mark.parametrize("label", LABELS)
def test_restart_keeps_the_writable_layer_and_empties_tmpfs(runs, label):
    """The same container started again: the markers and every probe, and the diff."""
    run = _run(runs, label)
    real, sim = run.real.second, run.rosim.second
    names = ("start", *DIR_PATHS, "ops") if run.setting.user else (
        "start", *DIR_PATHS, *FILE_PATHS, "ops")
    for name in names:
        compare(label, f"restart {name}", _section(real, name), _section(sim, name))
    compare(label, "diff after restart", run.real.second_diff, run.rosim.second_diff)


@pytest.mark.parametrize("label", [s.label for s in SETTINGS
                                   if not s.read_only and not s.privileged])
def test_rm_and_run_starts_clean(runs, label):
    """rm + run: a new container shows what the first run showed."""
    run = _run(runs, label)
    assert run.real.fresh is not None and run.rosim.fresh is not None
    for name in ("start", *DIR_PATHS, *FILE_PATHS, "ops"):
        compare(label, f"fresh {name}", _section(run.real.fresh, name),
                _section(run.rosim.fresh, name))
    compare(label, "fresh = first run", _section(run.real.fresh, "start"),
            _section(run.real.first, "start"))

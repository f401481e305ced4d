"""Write probes: where can a process inside a container write?

:func:`probe_writes` tries to create a file at (or inside) each path, the way
``touch`` would, and reports the outcome per path. :func:`compare_settings`
runs the same probe across runtime settings, giving the table the first lab
is built around. Both return plain result objects that render as text or
HTML and that :mod:`rosim.teach.plots` draws.

>>> import rosim
>>> from rosim.teach.probe import probe_writes
>>> image = rosim.Image.from_dict("demo", {"/etc/passwd": "root\\n", "/tmp/": None})
>>> ctr = rosim.Runtime("cri-o", read_only=True).create(image, name="probe")
>>> ctr.start()
>>> print(probe_writes(ctr, ["/etc", "/tmp"]))
path  mount  result
/etc  /      EROFS
/tmp  /tmp   ok
"""

from __future__ import annotations

import errno
import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rosim._bounds import check_items, check_type
from rosim._errors import ConfigError
from rosim.fs.kernel import kernel
from rosim.fs.layers import Image
from rosim.fs.paths import container_path
from rosim.runtime.container import Container
from rosim.runtime.runtime import Runtime

__all__ = ["Capabilities", "Comparison", "ProbeResult", "ProbeRow", "Setting",
           "capability_settings", "compare_capabilities", "compare_settings", "probe_exec",
           "probe_writes", "standard_settings"]

_PROBE_NAME = ".rosim-probe"


@dataclass(frozen=True)
class ProbeRow:
    """The outcome of one probe: ``result`` is ``'ok'`` or an errno name."""

    path: str
    mount: str | None
    result: str
    message: str

    @property
    def writable(self) -> bool:
        """True when the write succeeded."""
        return self.result == "ok"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(header)] + [list(r) for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        for r in rows
    )


def _html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="{"ok" if c == "ok" else ""}">{html.escape(c)}</td>' for c in r
        ) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class ProbeResult:
    """The rows of one :func:`probe_writes` run, in the order asked."""

    container: str
    rows: tuple[ProbeRow, ...]

    def writable(self) -> list[str]:
        """Paths where a file could be created."""
        return [r.path for r in self.rows if r.writable]

    def denied(self) -> list[str]:
        """Paths where creating a file failed."""
        return [r.path for r in self.rows if not r.writable]

    def __str__(self) -> str:
        return _table(("path", "mount", "result"),
                      ((r.path, r.mount or "?", r.result) for r in self.rows))

    def _repr_html_(self) -> str:
        return _html_table(("path", "mount", "result", "message"),
                           ((r.path, r.mount or "?", r.result, r.message) for r in self.rows))


def _probe_one(path: str) -> tuple[str, str, str | None]:
    target = path
    if os.path.isdir(path):
        target = os.path.join(path, _PROBE_NAME)
    existed = os.path.lexists(target)
    mount = _mount_of(target)
    try:
        with open(target, "a"):
            pass
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc.errno)), str(exc), mount
    if not existed:
        os.remove(target)
    return "ok", "", mount


def _mount_of(path: str) -> str | None:
    """The mount a path resolves to (symlinks followed), from inside a container."""
    k = kernel()
    for candidate in (path, os.path.dirname(path)):
        try:
            entry = k.mount_of(k.resolve(candidate))
        except OSError:
            continue
        return entry.destination if entry is not None else None
    return None


def _checked_paths(paths: object) -> list[str]:
    """``paths`` as a list of absolute container paths; else ConfigError."""
    if isinstance(paths, str | bytes) or not isinstance(paths, Iterable):
        raise ConfigError(f"paths(={paths!r:.60}) must be a list of absolute paths.")
    return [container_path(p, field="paths item") for p in paths]


def probe_writes(ctr: Container, paths: Iterable[str]) -> ProbeResult:
    """Try to create a file at each path (inside it, for a directory).

    A probe file that could be created is removed again, so probing leaves
    nothing behind in the container's upper layer. The container's event log
    records the attempts.
    """
    check_type(ctr, "ctr", Container, "a rosim.Container")
    checked = _checked_paths(paths)
    outcomes = ctr.run(lambda: [_probe_one(p) for p in checked])
    rows = [ProbeRow(path, mount, result, message)
            for path, (result, message, mount) in zip(checked, outcomes, strict=True)]
    return ProbeResult(ctr.name, tuple(rows))


@dataclass(frozen=True)
class Setting:
    """A runtime configuration to compare: a label, Runtime and create() arguments."""

    label: str
    profile: str
    read_only: bool = False
    container_read_only: bool | None = None
    runtime_options: dict = field(default_factory=dict)
    mounts: tuple = ()
    privileged: bool = False
    #: The uid the container runs as (``runAsUser``, ``--user``); None is root.
    user: int | None = None

    def create(self, image: Image, name: str, mounts: tuple = ()) -> Container:
        """Create and start a container for this setting (plus extra ``mounts``)."""
        runtime = Runtime(self.profile, read_only=self.read_only, **self.runtime_options)
        ctr = runtime.create(image, name=name, mounts=[*self.mounts, *mounts],
                             read_only=self.container_read_only, privileged=self.privileged,
                             user=self.user)
        ctr.start()
        return ctr


def standard_settings() -> list[Setting]:
    """The settings the labs compare: read-write and each read-only flavour."""
    return [
        Setting("crio (read-write)", "cri-o"),
        Setting("crio --read-only", "cri-o", read_only=True),
        Setting("crio, readOnlyRootFilesystem only", "cri-o", container_read_only=True),
        Setting("podman --read-only", "podman", read_only=True),
        Setting("podman --read-only --read-only-tmpfs=false", "podman", read_only=True,
                runtime_options={"read_only_tmpfs": False}),
        Setting("docker --read-only", "docker", read_only=True),
    ]


class _PathGrid:
    """Text and HTML rendering of a path × setting grid of outcomes."""

    paths: tuple[str, ...]
    labels: tuple[str, ...]

    def outcome(self, label: str, path: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _rows(self) -> Iterable[tuple[str, ...]]:
        return ((p, *(self.outcome(lab, p) for lab in self.labels)) for p in self.paths)

    def __str__(self) -> str:
        return _table(("path", *self.labels), self._rows())

    def _repr_html_(self) -> str:
        return _html_table(("path", *self.labels), self._rows())


@dataclass(frozen=True)
class Comparison(_PathGrid):
    """Probe outcomes for several settings: ``results[label]`` per setting."""

    paths: tuple[str, ...]
    labels: tuple[str, ...]
    results: dict[str, ProbeResult]

    def outcome(self, label: str, path: str) -> str:
        """The result (``'ok'`` or an errno name) of ``path`` under ``label``."""
        for row in self.results[label].rows:
            if row.path == path:
                return row.result
        raise ConfigError(f"path(={path!r}) was not probed.")



def compare_settings(image: Image, paths: Sequence[str],
                     settings: Sequence[Setting] | None = None) -> Comparison:
    """Probe ``paths`` in a fresh container of ``image`` under each setting."""
    check_type(image, "image", Image, "a rosim.Image")
    paths = _checked_paths(paths)
    if settings is not None:
        check_items(settings, "settings", Setting, "a list of rosim.Setting, or None")
    settings = list(settings) if settings is not None else standard_settings()
    labels = [s.label for s in settings]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"settings labels(={labels!r}) must be unique.")
    results = {}
    for i, setting in enumerate(settings):
        ctr = setting.create(image, f"compare-{i}")
        results[setting.label] = probe_writes(ctr, paths)
    return Comparison(tuple(paths), tuple(labels), results)


# ---------------------------------------------------------------- write + exec
_EXEC_NAME = ".rosim-exec"
_SCRIPT = "#!/bin/sh\nexit 0\n"


def _refused(exc: OSError) -> str:
    """``'no permission'`` for EACCES/EPERM (the mode bits), else ``'read-only'``."""
    import errno

    return "no permission" if exc.errno in (errno.EACCES, errno.EPERM) else "read-only"


def _drop_and_run(path: str) -> str:
    """Write an executable into ``path`` and run it, as an attacker's dropper would."""
    from rosim.shell.interp import Proc, Shell, _Sink

    if os.path.lexists(path) and not os.path.isdir(path):
        # An existing file: test writing without changing it, and its mount's noexec.
        try:
            with open(path, "a"):
                pass
        except OSError as exc:
            return _refused(exc)
        return "write, noexec" if os.statvfs(path).f_flag & os.ST_NOEXEC else "write + exec"
    target = os.path.join(path, _EXEC_NAME) if os.path.isdir(path) else path
    try:
        with open(target, "w") as f:
            f.write(_SCRIPT)
        os.chmod(target, 0o755)
    except OSError as exc:
        return _refused(exc)
    output: list[tuple[str, str]] = []
    shell = Shell()
    proc = Proc([target], "", _Sink(output, "stdout"), _Sink(output, "stderr"), shell)
    status = shell.execute(proc)
    os.remove(target)
    return "write + exec" if status == 0 else "write, noexec"


def probe_exec(ctr: Container, paths: Iterable[str]) -> dict[str, str]:
    """For each path: ``'read-only'``, ``'no permission'``, ``'write, noexec'`` or
    ``'write + exec'``.

    The probe writes a small script, makes it executable and runs it through
    the container's exec rules (``noexec`` mounts refuse it with EACCES), then
    removes it.
    """
    check_type(ctr, "ctr", Container, "a rosim.Container")
    checked = _checked_paths(paths)
    return dict(zip(checked, ctr.run(lambda: [_drop_and_run(p) for p in checked]),
                    strict=True))


def capability_settings() -> list[Setting]:
    """The runtime settings compared for write and exec (issue: runtimes side by side)."""
    from rosim.fs.mounts import Tmpfs

    return [
        Setting("crio --read-only", "cri-o", read_only=True),
        Setting("crio, readOnlyRootFilesystem only", "cri-o", container_read_only=True),
        Setting("crio --read-only, privileged", "cri-o", read_only=True, privileged=True),
        Setting("podman --read-only", "podman", read_only=True),
        Setting("podman --read-only --read-only-tmpfs=false", "podman", read_only=True,
                runtime_options={"read_only_tmpfs": False}),
        Setting("docker --read-only", "docker", read_only=True),
        Setting("docker --read-only --tmpfs /tmp", "docker", read_only=True,
                mounts=(Tmpfs("/tmp"),)),
        # runAsNonRoot / runAsUser: the only setting that closes /dev (0755, root's).
        Setting("crio --read-only, runAsUser: 1000", "cri-o", read_only=True, user=1000),
    ]


@dataclass(frozen=True)
class Capabilities(_PathGrid):
    """Write/exec outcomes: ``results[label][path]`` is one of three strings."""

    paths: tuple[str, ...]
    labels: tuple[str, ...]
    results: dict[str, dict[str, str]]

    def outcome(self, label: str, path: str) -> str:
        """``'read-only'``, ``'no permission'``, ``'write, noexec'`` or ``'write + exec'``."""
        return self.results[label][path]



def compare_capabilities(image: Image, paths: Sequence[str] | None = None,
                         settings: Sequence[Setting] | None = None,
                         volume: str = "/data") -> Capabilities:
    """Try writing and executing at each path under each setting.

    Every container gets a writable volume at ``volume`` too, so the table
    shows that a volume is writable (and executable) whatever the root is.
    """
    from rosim.fs.mounts import Bind, Volume

    check_type(image, "image", Image, "a rosim.Image")
    volume = container_path(volume, field="volume")
    if settings is not None:
        check_items(settings, "settings", Setting, "a list of rosim.Setting, or None")
    paths = _checked_paths(paths) if paths is not None else [
        "/", "/usr", "/etc", "/var/log", "/tmp", "/var/tmp", "/run", "/dev", "/dev/shm", volume]
    settings = list(settings) if settings is not None else capability_settings()
    results = {}
    for i, setting in enumerate(settings):
        ctr = setting.create(image, f"caps-{i}", mounts=(Bind(Volume("caps-data"), volume),))
        results[setting.label] = probe_exec(ctr, paths)
    return Capabilities(tuple(paths), tuple(s.label for s in settings), results)

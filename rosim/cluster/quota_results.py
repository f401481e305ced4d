"""What a quota-bypass run reports: outcomes, events, samples, renderings.

See :mod:`rosim.cluster.quota` for the scenario that produces these records.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from rosim._bounds import RosimEnum
from rosim._errors import ConfigError
from rosim.fs.sizes import format_size

__all__ = ["NODE_KINDS", "OUTCOME_COLOURS", "QuotaComparison", "QuotaEvent", "QuotaOutcome",
           "QuotaRun", "QuotaSample", "TenantResult"]

#: Storage kinds that live on the node's disk, as :meth:`PodUsage.by_kind` names them.
NODE_KINDS = ("writable layer", "logs", "emptyDir")


class QuotaOutcome(RosimEnum):
    """What happened to a tenant's writes by the end of a run."""

    OK = "ok"
    ENOSPC = "ENOSPC"
    EROFS = "EROFS"
    OTHER_ERROR = "other error"
    EVICTED = "Evicted"


@dataclass(frozen=True)
class QuotaEvent:
    """Something that happened at ``time`` seconds: a write error, an eviction, pressure."""

    time: float
    kind: str
    pod: str
    message: str

    def __str__(self) -> str:
        return f"{self.time:>5g} s  {self.kind:<21} {self.pod or '-':<9} {self.message}"


@dataclass(frozen=True)
class QuotaSample:
    """The node after one tick's writes, as the kubelet measured it, and after its evictions.

    ``usage[tenant][kind]`` is what :meth:`~rosim.PodUsage.by_kind` reports
    (bytes), taken before the eviction manager ran; ``images`` is what the
    node's images take of ``used``.
    """

    time: float
    capacity: int
    used: int
    available_after: int
    usage: dict[str, dict[str, int]]
    images: int = 0

    @property
    def available(self) -> int:
        """``nodefs.available`` when the kubelet looked."""
        return max(self.capacity - self.used, 0)

    def node_usage(self, tenant: str) -> int:
        """Bytes ``tenant`` kept on the node's disk (writable layer, logs, emptyDir)."""
        return sum(self.usage[tenant].get(kind, 0) for kind in NODE_KINDS)

    def __str__(self) -> str:
        head = ("tenant", *NODE_KINDS, "persistentVolumeClaim")
        rows = [head] + [(name, *(format_size(kinds.get(k, 0)) for k in head[1:]))
                         for name, kinds in self.usage.items()]
        return "\n".join([f"at {self.time:g} s: node disk {format_size(self.used)} used of "
                          f"{format_size(self.capacity)}, {format_size(self.available)} "
                          f"available; images {format_size(self.images)}", *_table(rows)])


@dataclass(frozen=True)
class TenantResult:
    """Who lost what: one tenant's writes and fate in a run.

    ``attempted`` bytes were meant for ``path`` (in ``kind``), ``written``
    fitted, ``kept`` are still there at the end (an eviction deletes the
    writable layer and the ``emptyDir``; a claim keeps its data). ``error``
    is the errno name of the first failed write, at ``error_at`` seconds;
    ``evicted_at`` and ``message`` tell the eviction. ``quota`` (the PVC's
    capacity) and ``limit`` (``ephemeral-storage``) are in bytes.
    """

    tenant: str
    path: str
    kind: str
    attempted: int
    written: int
    kept: int
    quota: int | None = None
    claim_used: int = 0
    limit: int | None = None
    error: str = ""
    error_at: float | None = None
    evicted_at: float | None = None
    message: str = ""

    @property
    def outcome(self) -> QuotaOutcome:
        """``Evicted`` if the kubelet evicted the pod, else the first write error, else ``ok``."""
        if self.evicted_at is not None:
            return QuotaOutcome.EVICTED
        if self.error in ("ENOSPC", "EROFS"):
            return QuotaOutcome(self.error)
        return QuotaOutcome.OTHER_ERROR if self.error else QuotaOutcome.OK

    @property
    def harmed(self) -> bool:
        """True when a write failed or the pod was evicted."""
        return self.outcome is not QuotaOutcome.OK

    @property
    def lost(self) -> int:
        """Bytes the application meant to keep and does not have: never written, or deleted."""
        return self.attempted - self.kept

    def summary(self) -> str:
        """One sentence: what happened to this tenant's writes."""
        where = f"{self.kind} ({self.path})"
        text = (f"{self.tenant}: wrote {format_size(self.written)} of "
                f"{format_size(self.attempted)} to its {where}")
        if self.error:
            text += f"; {self.error} from {self.error_at:g} s"
        if self.evicted_at is not None:
            text += f"; Evicted at {self.evicted_at:g} s"
        text += f"; kept {format_size(self.kept)}."
        if self.quota is not None:
            text += (f" Its quota (PVC) shows {format_size(self.claim_used)} used of "
                     f"{format_size(self.quota)}.")
        return text


_HEAD = ("tenant", "outcome", "writes to", "wrote", "of", "kept", "PVC quota used")


def _row(t: TenantResult) -> tuple[str, ...]:
    quota = (f"{format_size(t.claim_used)} of {format_size(t.quota)}" if t.quota is not None
             else "-")
    when = t.evicted_at if t.evicted_at is not None else t.error_at
    outcome = t.outcome.value + (f" at {when:g} s" if when is not None else "")
    return (t.tenant, outcome, t.kind, format_size(t.written), format_size(t.attempted),
            format_size(t.kept), quota)


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]


#: Okabe–Ito colours of the outcomes, for the HTML tables and the views.
OUTCOME_COLOURS = {QuotaOutcome.OK: "#009E73", QuotaOutcome.ENOSPC: "#E69F00",
                   QuotaOutcome.EROFS: "#0072B2", QuotaOutcome.OTHER_ERROR: "#999999",
                   QuotaOutcome.EVICTED: "#D55E00"}


def _html_rows(runs: Sequence[QuotaRun], with_label: bool) -> str:
    body = []
    for run in runs:
        for i, t in enumerate(run.tenants):
            cells = list(_row(t))
            colour = OUTCOME_COLOURS[t.outcome]
            ink = "black" if t.outcome is QuotaOutcome.ENOSPC else "white"
            tds = [f"<td>{html.escape(cells[0])}</td>",
                   f'<td style="background:{colour};color:{ink}">{html.escape(cells[1])}</td>']
            tds += [f"<td>{html.escape(c)}</td>" for c in cells[2:]]
            if with_label and i == 0:
                tds.insert(0, f'<td rowspan="{len(run.tenants)}">{html.escape(run.label)}</td>')
            body.append("<tr>" + "".join(tds) + "</tr>")
    head = (("case",) if with_label else ()) + _HEAD
    return ("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(body) + "</tbody></table>")


@dataclass(frozen=True)
class QuotaRun:
    """One run of tenants on a node: outcomes, events and per-tick samples."""

    label: str
    capacity: int
    threshold: float
    tick: float
    overlay_size: int | None
    tenants: tuple[TenantResult, ...]
    samples: tuple[QuotaSample, ...]
    events: tuple[QuotaEvent, ...]
    evicted: tuple[str, ...] = field(default=())
    #: Bytes on the node's disk before the first write (its images).
    start_used: int = 0
    #: The eviction signal whose threshold (``threshold``) sets DiskPressure first:
    #: ``imagefs.available`` on a node whose images share its disk.
    signal: str = "imagefs.available"

    @property
    def start_available(self) -> int:
        """``nodefs.available`` before the first write."""
        return max(self.capacity - self.start_used, 0)

    def tenant(self, name: str) -> TenantResult:
        """The result of tenant ``name``."""
        for result in self.tenants:
            if result.tenant == name:
                return result
        raise ConfigError(f"tenant(={name!r}) is not in this run; tenants: "
                          + ", ".join(t.tenant for t in self.tenants) + ".")

    @property
    def harmed(self) -> tuple[str, ...]:
        """Tenants whose writes failed or that were evicted."""
        return tuple(t.tenant for t in self.tenants if t.harmed)

    @property
    def peak(self) -> QuotaSample:
        """The sample with the fullest node disk (the first, if several)."""
        return max(self.samples, key=lambda s: s.used)

    @property
    def threshold_bytes(self) -> int:
        """The eviction threshold of :attr:`signal` in bytes."""
        return int(self.capacity * self.threshold)

    def sample_at(self, time: float) -> QuotaSample:
        """The sample taken at ``time`` seconds."""
        for sample in self.samples:
            if sample.time == time:
                return sample
        raise ConfigError(f"time(={time!r}) is not a sample time; samples every "
                          f"{self.tick:g} s up to {self.samples[-1].time:g} s.")

    def __str__(self) -> str:
        lines = [f"{self.label}: node disk {format_size(self.capacity)} "
                 f"({format_size(self.start_used)} of images at the start), eviction "
                 f"threshold {self.signal}<{self.threshold:.0%} "
                 f"({format_size(self.threshold_bytes)})"]
        lines += _table([_HEAD, *(_row(t) for t in self.tenants)])
        lines += [str(e) for e in self.events]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        events = "".join(f"<li>{html.escape(str(e))}</li>" for e in self.events)
        return (f"<p><b>{html.escape(self.label)}</b>: node disk "
                f"{format_size(self.capacity)}</p>" + _html_rows([self], with_label=False)
                + (f"<ul>{events}</ul>" if events else ""))


@dataclass(frozen=True)
class QuotaComparison:
    """Several runs of the same tenants, each with other protections."""

    runs: tuple[QuotaRun, ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """The runs' labels, in order."""
        return tuple(r.label for r in self.runs)

    def run(self, label: str) -> QuotaRun:
        """The run labelled ``label``."""
        for run in self.runs:
            if run.label == label:
                return run
        raise ConfigError(f"label(={label!r}) is not a run; runs: "
                          + ", ".join(repr(lab) for lab in self.labels) + ".")

    def __str__(self) -> str:
        rows = [("case", *_HEAD)]
        for run in self.runs:
            rows += [((run.label if i == 0 else ""), *_row(t))
                     for i, t in enumerate(run.tenants)]
        return "\n".join(_table(rows))

    def _repr_html_(self) -> str:
        return _html_rows(self.runs, with_label=True)

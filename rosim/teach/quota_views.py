"""Views of Scenario 4: a tenant escaping its volume quota through its writable layer.

Thin views over the result objects of :mod:`rosim.cluster.quota`:

* :func:`plot_quota_usage` draws, for each run, the node's disk at its
  fullest as one stacked bar: a colour per tenant, a hatch per storage kind,
  each tenant's PVC quota (and ``ephemeral-storage`` limit) marked on its
  own segment, the disk's size and the eviction threshold as lines;
* :func:`plot_node_space` draws the node's available space over time for
  each run, with the eviction threshold and the moments of eviction;
* :class:`QuotaExplorer` (made by :func:`quota_explorer`) puts ipywidgets
  controls in front of :func:`~rosim.quota_case`: how much tenant A writes,
  where, and which protections are on. It only displays the
  :class:`~rosim.QuotaRun` that ``quota_case`` returns.

Tenants and runs are told apart by the labs' identity colours (which carry
no meaning, see :data:`~rosim.teach.plots.PALETTE`), hatches, line styles
and text labels. Figures fit the notebook column, with their legends below.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rosim._bounds import check_type
from rosim._errors import ConfigError
from rosim.cluster.quota import (
    FIX_LIMIT,
    FIX_OVERLAY_SIZE,
    NODE_KINDS,
    QuotaComparison,
    QuotaProtection,
    QuotaRun,
    quota_case,
)
from rosim.fs.sizes import format_size
from rosim.teach.plots import (
    IDENTITY_COLOURS,
    MAX_WIDTH_IN,
    MIN_FONT_PT,
    check_title,
    notebook_figure,
)
from rosim.teach.plots import _wrap as wrap_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["IMAGES_HATCH", "KIND_HATCHES", "RUN_COLOURS", "TENANT_COLOURS", "QuotaExplorer",
           "plot_node_space", "plot_quota_usage", "quota_explorer", "quota_summary"]

#: Colours of the tenants, in the order of a run's tenants (identity only).
TENANT_COLOURS = IDENTITY_COLOURS
#: Colours of the runs' lines in :func:`plot_node_space` (identity only; each
#: run also has its own line style).
RUN_COLOURS = ("#000000", IDENTITY_COLOURS[0], IDENTITY_COLOURS[2], IDENTITY_COLOURS[0],
               "#AAAAAA", IDENTITY_COLOURS[2])
_LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)))
#: Hatches of the storage kinds on the node's disk.
KIND_HATCHES = {"writable layer": "", "logs": "..", "emptyDir": "//"}
#: Hatch of the node's images, at the bottom of each bar (white: no tenant's).
IMAGES_HATCH = "xx"
_GIB = 1024**3


def _runs(runs: QuotaRun | QuotaComparison | Sequence[QuotaRun]) -> list[QuotaRun]:
    if isinstance(runs, QuotaRun):
        return [runs]
    if isinstance(runs, QuotaComparison):
        return list(runs.runs)
    chosen = list(runs) if isinstance(runs, list | tuple) else []
    if not chosen or not all(isinstance(r, QuotaRun) for r in chosen):
        raise ConfigError(f"runs(={runs!r}) must be a QuotaRun, a QuotaComparison or a "
                          "non-empty sequence of QuotaRun.")
    return chosen


def _wrap(text: str, width: int = 16) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False,
                                   break_long_words=False)) or text


def _colours(run: QuotaRun) -> dict[str, str]:
    return {t.tenant: TENANT_COLOURS[i % len(TENANT_COLOURS)]
            for i, t in enumerate(run.tenants)}


# ----------------------------------------------------------------- usage bars
def plot_quota_usage(runs: QuotaRun | QuotaComparison | Sequence[QuotaRun],
                     title: str | None = None) -> Figure:
    """Draw the node's disk at its fullest in each run, stacked by tenant and kind.

    Each bar is one run at its peak sample (the moment the kubelet saw the
    least available space). At the bottom, cross-hatched, the node's images;
    above them a tenant's segments (colour) are its writable
    layer, logs and ``emptyDir`` (hatch); a black tick on the tenant's
    segment marks where its PVC quota would have stopped it, a dashed tick
    its ``ephemeral-storage`` limit. Under each bar: every tenant's outcome.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    check_title(title)
    chosen = _runs(runs)
    fig = notebook_figure(figsize=(min(MAX_WIDTH_IN, 1.6 * len(chosen) + 1.8), 6.8))
    ax = fig.add_subplot()
    capacity = max(r.capacity for r in chosen) / _GIB
    for x, run in enumerate(chosen):
        colours = _colours(run)
        peak = run.peak
        bottom = peak.images / _GIB
        if bottom > 0:
            ax.bar(x, bottom, 0.6, color="white", hatch=IMAGES_HATCH, edgecolor="black",
                   linewidth=0.4)
        for result in run.tenants:
            start = bottom
            for kind in NODE_KINDS:
                size = peak.usage[result.tenant].get(kind, 0) / _GIB
                if size <= 0:
                    continue
                ax.bar(x, size, 0.6, bottom=bottom, color=colours[result.tenant],
                       hatch=KIND_HATCHES[kind], edgecolor="black", linewidth=0.4)
                bottom += size
            for value, style in ((result.quota, "-"), (result.limit, "--")):
                if value is not None and bottom > start:
                    y = start + value / _GIB
                    ax.plot([x - 0.36, x + 0.36], [y, y], color="black", linestyle=style,
                            linewidth=2)
        ax.text(x, bottom + capacity * 0.015, format_size(peak.used), ha="center",
                va="bottom", fontsize=MIN_FONT_PT)
    ax.axhline(capacity, color="#999999", linestyle="--", linewidth=1)
    threshold = capacity * (1 - chosen[0].threshold)
    ax.axhline(threshold, color="#999999", linestyle=":", linewidth=1.2)
    labels = []
    for run in chosen:
        outcomes = "\n".join(f"{t.tenant}: {t.outcome.value}" + (
            f"\n(PVC {format_size(t.claim_used)}/{format_size(t.quota)})"
            if t.quota is not None else "") for t in run.tenants)
        labels.append(f"{wrap_label(run.label, 14)}\n\n{outcomes}")
    ax.set_xticks(range(len(chosen)), labels, fontsize=MIN_FONT_PT)
    ax.set_xlim(-0.6, len(chosen) - 0.4)
    ax.set_ylim(0, capacity * 1.12)
    ax.set_ylabel("bytes on the node's disk (GiB)", fontsize=MIN_FONT_PT + 1)
    ax.tick_params(axis="y", labelsize=MIN_FONT_PT)
    ax.set_title(title or "The node's disk at its fullest, by tenant and storage kind",
                 fontsize=MIN_FONT_PT + 3)
    first = _colours(chosen[0])
    handles = [Patch(facecolor=c, label=name) for name, c in first.items()]
    handles += [Patch(facecolor="white", edgecolor="black", hatch=IMAGES_HATCH,
                      label="the node's images")]
    handles += [Patch(facecolor="white", edgecolor="black", hatch=h or None,
                      label=kind) for kind, h in KIND_HATCHES.items()]
    handles += [Line2D([], [], color="black", linewidth=2, label="its PVC quota"),
                Line2D([], [], color="black", linewidth=2, linestyle="--",
                       label="its ephemeral-storage limit"),
                Line2D([], [], color="#999999", linestyle="--",
                       label=f"node disk ({format_size(chosen[0].capacity)})"),
                Line2D([], [], color="#999999", linestyle=":",
                       label=f"DiskPressure ({chosen[0].signal}<{chosen[0].threshold:.0%})")]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=MIN_FONT_PT,
               frameon=False)
    fig.tight_layout(rect=(0, 1.0 / fig.get_size_inches()[1], 1, 1))
    return fig


# ----------------------------------------------------------------- time series
def plot_node_space(runs: QuotaRun | QuotaComparison | Sequence[QuotaRun],
                    title: str | None = None) -> Figure:
    """Draw the node's available space over time in each run.

    One line per run, in GiB, from the space left by the node's images: at
    each tick the space the kubelet saw after
    the tick's writes, then (straight down the same instant) what was left
    after its evictions. The dotted line is the threshold that sets
    ``DiskPressure`` first (``imagefs.available<15%`` on a node whose images
    share its disk); a triangle marks each moment of eviction, labelled
    with the pods evicted, in the kubelet's order.
    """
    from matplotlib.lines import Line2D

    check_title(title)
    chosen = _runs(runs)
    fig = notebook_figure(figsize=(MAX_WIDTH_IN, 4.6 + 0.25 * len(chosen)))
    ax = fig.add_subplot()
    capacity = max(r.capacity for r in chosen) / _GIB
    handles = []
    for i, run in enumerate(chosen):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        style = _LINE_STYLES[i % len(_LINE_STYLES)]
        xs, ys = [0.0], [run.start_available / _GIB]
        for sample in run.samples:
            xs += [sample.time, sample.time]
            ys += [sample.available / _GIB, sample.available_after / _GIB]
        ax.plot(xs, ys, color=colour, linestyle=style, linewidth=2, zorder=3)
        handles.append(Line2D([], [], color=colour, linestyle=style, linewidth=2,
                              label=run.label))
        evictions: dict[float, list[str]] = {}
        for event in run.events:
            if event.kind == "Evicted":
                evictions.setdefault(event.time, []).append(event.pod)
        for time, pods in evictions.items():
            y = run.sample_at(time).available / _GIB
            ax.plot([time], [y], marker="v", markersize=10, color=colour,
                    markeredgecolor="black", zorder=4, clip_on=False)
            ax.annotate("evicted: " + ", ".join(pods), (time, y),
                        xytext=(8, 10 + 15 * i), textcoords="offset points",
                        fontsize=MIN_FONT_PT,
                        color=colour, arrowprops={"arrowstyle": "-", "color": colour,
                                                  "linewidth": 0.6})
    threshold = chosen[0].threshold
    ax.axhline(capacity * threshold, color="#999999", linestyle=":", linewidth=1.5, zorder=1)
    handles += [Line2D([], [], color="#999999", linestyle=":", linewidth=1.5,
                       label=f"eviction threshold {chosen[0].signal}<{threshold:.0%}"),
                Line2D([], [], color="#777777", marker="v", linestyle="none", markersize=9,
                       markeredgecolor="black", label="eviction")]
    end = max(r.samples[-1].time for r in chosen)
    ax.set_xlim(0, end)
    ax.set_ylim(0, capacity * 1.05)
    ax.set_xlabel("time (s); the kubelet checks every "
                  f"{chosen[0].tick:g} s", fontsize=MIN_FONT_PT + 1)
    ax.set_ylabel("node's available space (GiB)", fontsize=MIN_FONT_PT + 1)
    ax.tick_params(labelsize=MIN_FONT_PT)
    ax.set_title(title or "The node's available space while the tenants write",
                 fontsize=MIN_FONT_PT + 3)
    rows = (len(handles) + 1) // 2
    fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=MIN_FONT_PT,
               frameon=False)
    fig.tight_layout(rect=(0, (0.25 * rows + 0.1) / fig.get_size_inches()[1], 1, 1))
    return fig


# ----------------------------------------------------------------- widget
_PROTECTION_LABELS = {
    QuotaProtection.READ_ONLY_ROOT: "tenant-a: readOnlyRootFilesystem: true",
    QuotaProtection.EPHEMERAL_STORAGE_LIMIT: f"tenant-a: ephemeral-storage limit {FIX_LIMIT}",
    QuotaProtection.OVERLAY_SIZE: f"node: overlay.size={FIX_OVERLAY_SIZE}",
}
_WHERE = (("its image: /var/cache/app", "layer"), ("its PVC: /data", "pvc"))


def quota_summary(run: QuotaRun) -> str:
    """One line on who was harmed in ``run``, besides the tenants that caused it.

    >>> from rosim import quota_case
    >>> quota_summary(quota_case("2Gi"))
    'Nobody was harmed: every write fitted and no pod was evicted.'
    """
    check_type(run, "run", QuotaRun, "a rosim.QuotaRun (from quota_case)")
    harmed = [run.tenant(name) for name in run.harmed]
    if not harmed:
        return "Nobody was harmed: every write fitted and no pod was evicted."
    return "Harmed: " + "; ".join(f"{t.tenant} ({t.outcome.value})" for t in harmed) + "."


class QuotaExplorer:
    """ipywidgets controls for :func:`~rosim.quota_case`, with its table and figure.

    The controls are attributes, so code (and tests) can drive them:
    ``writes`` (a slider, GiB that tenant A writes), ``where`` (toggle
    buttons: ``layer`` or ``pvc``) and ``protections`` (a checkbox per
    :class:`~rosim.QuotaProtection` value). Every change reruns the case
    (in a running kernel, :data:`DEBOUNCE_S` after the last of a quick series
    of changes, so arrow keys on the slider run it once);
    ``result`` holds the :class:`~rosim.QuotaRun`, ``figure`` its
    :func:`plot_node_space`, ``summary.value`` the table, ``image`` shows the
    figure. Display the explorer (or its ``widget``) in a notebook.
    """

    def __init__(self, writes: int = 20, where: str = "layer",
                 protections: Sequence[str] = ()) -> None:
        import ipywidgets as w

        result = quota_case(f"{writes}Gi", where, protections)
        chosen = {QuotaProtection(p) for p in protections}
        self.writes = w.IntSlider(value=writes, min=0, max=30, step=1,
                                  description="tenant-a writes (GiB)", continuous_update=False,
                                  style={"description_width": "initial"})
        self.where = w.ToggleButtons(options=list(_WHERE), value=where,
                                     description="tenant-a writes to",
                                     style={"description_width": "initial",
                                            "button_width": "auto"})
        self.protections = {p.value: w.Checkbox(value=p in chosen, description=label,
                                                indent=False, layout={"width": "auto"})
                            for p, label in _PROTECTION_LABELS.items()}
        self.summary = w.HTML()
        self.image = w.Image(format="png")
        self.widget = w.VBox([self.writes, self.where,
                              w.HBox(list(self.protections.values())),
                              self.summary, self.image])
        self.result: QuotaRun
        self.figure: Figure
        self._pending: Any = None
        for control in (self.writes, self.where, *self.protections.values()):
            control.observe(self._changed, names="value")
        self._show(result)

    @property
    def chosen_protections(self) -> list[str]:
        """The protections switched on, in :class:`~rosim.QuotaProtection` order."""
        return [name for name, box in self.protections.items() if box.value]

    def update(self) -> QuotaRun:
        """Rerun the case with the current settings and redraw; return the run."""
        self._show(quota_case(f"{self.writes.value}Gi", self.where.value,
                              self.chosen_protections))
        return self.result

    def _show(self, result: QuotaRun) -> None:
        self.result = result
        self.figure = plot_node_space(result)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=72)
        self.image.value = buffer.getvalue()
        # The events go in a folded list, so that controls, table and figure
        # fit one screen.
        table = result._repr_html_().replace(
            "<ul>", "<details><summary>the kubelet's events</summary><ul>", 1).replace(
            "</ul>", "</ul></details>", 1)
        self.summary.value = f"<p><b>{html.escape(quota_summary(result))}</b></p>" + table

    def _changed(self, change: dict[str, Any]) -> None:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.update()
            return
        if self._pending is not None:
            self._pending.cancel()
        self.summary.value = "<p><i>updating...</i></p>"
        self._pending = loop.call_later(DEBOUNCE_S, self._run_pending)

    def _run_pending(self) -> None:
        self._pending = None
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = (f"Quota explorer: tenant-a writes {self.writes.value} GiB to "
                                f"its {self.where.value}; " + quota_summary(self.result))
        return bundle


#: Seconds the explorer waits after a change before it reruns the case.
DEBOUNCE_S = 0.4


def quota_explorer(writes: int = 20, where: str = "layer",
                   protections: Sequence[str] = ()) -> QuotaExplorer:
    """A :class:`QuotaExplorer` starting from the given settings (needs ipywidgets).

    ``writes`` is in GiB; ``where`` and ``protections`` are those of
    :func:`~rosim.quota_case`.
    """
    return QuotaExplorer(writes, where, protections)

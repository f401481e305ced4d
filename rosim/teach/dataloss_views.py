"""Views of Scenario 3: what survives when Kubernetes moves a pod.

Thin views over the result objects of :mod:`rosim.cluster.dataloss`:

* :func:`plot_survival` draws a :class:`~rosim.SurvivalTable` as a grid of
  ``kept`` / ``lost`` cells;
* :func:`plot_story` draws one or more :class:`~rosim.AppStory` timelines:
  records written and records still readable, for the logs and the data,
  step by step through the events;
* :func:`loss_summary` says in one sentence what a story lost;
* :class:`DataLossExplorer` (made by :func:`data_loss_explorer`) puts
  ipywidgets controls in front of :func:`~rosim.run_app_story` and shows the
  figure and the summary. It only displays: the settings go to
  ``run_app_story``, the result to the functions above.

Colours are the labs' shared :data:`~rosim.teach.plots.PALETTE` (kept is
green, lost vermillion); every cell and line is also labelled in text.

>>> from rosim import run_app_story
>>> story = run_app_story(logs="stdout", data="emptyDir", events=["crash"], requests=3)
>>> print(loss_summary(story))
No record lost: all 3 log lines and 3 data records are still readable.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rosim._bounds import check_seq, check_type
from rosim._errors import ConfigError, RosimError
from rosim.cluster.dataloss import (
    _KIND_LABELS,
    AppStory,
    PodEvent,
    StorageKind,
    SurvivalTable,
    parse_event,
    run_app_story,
)
from rosim.teach.plots import (
    MAX_WIDTH_IN,
    MIN_FONT_PT,
    PALETTE,
    check_title,
    grid_figure,
    notebook_figure,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["STREAM_COLOURS", "SURVIVAL_COLOURS", "DataLossExplorer", "data_loss_explorer",
           "loss_summary", "plot_story", "plot_survival"]

#: Kept (works), lost (danger), kept but out of reach (partly).
SURVIVAL_COLOURS = {"kept": PALETTE["works"], "lost": PALETTE["danger"],
                    "unreachable": PALETTE["partly"]}

#: The "still readable" lines (kept: works), what was written (black) and lost (danger).
STREAM_COLOURS = {"logs": PALETTE["works"], "data": PALETTE["works"], "written": "#000000",
                  "lost": PALETTE["danger"]}

_EVENT_MARK = PALETTE["neutral"]
_STREAM_FILES = {"logs": "/var/log/myapp.log", "data": "/data/records.txt"}
_STREAM_UNITS = {"logs": "log lines", "data": "data records"}
_STEP_LABELS = {
    "deploy": "deploy",
    PodEvent.CRASH.value: "crash,\nnew container",
    PodEvent.RESCHEDULE.value: "pod\nrescheduled",
    PodEvent.DRAIN.value: "node\ndrained",
    PodEvent.NODE_FAILURE.value: "node\nfailure",
}
_EVENT_BUTTONS = {
    PodEvent.CRASH: "crash",
    PodEvent.RESCHEDULE: "reschedule",
    PodEvent.DRAIN: "drain node",
    PodEvent.NODE_FAILURE: "node failure",
}
_FIX = {"logs": StorageKind.STDOUT.value, "data": StorageKind.PVC.value}
_DEFAULT_EVENTS = (PodEvent.CRASH.value, PodEvent.RESCHEDULE.value,
                   PodEvent.NODE_FAILURE.value)


# ----------------------------------------------------------------- survival
def plot_survival(table: SurvivalTable, title: str | None = None) -> Figure:
    """Draw a storage kind × event grid: ``kept`` (green), ``lost`` (vermillion),
    ``unreachable`` (blue: intact on a node the pod cannot use).

    Rows are the table's storage kinds, columns its events, in the table's
    order and with the labels of :meth:`SurvivalTable.rows`.
    """
    check_type(table, "table", SurvivalTable, "a rosim.SurvivalTable (from survival_table)")
    check_title(title)
    head, *rows = table.rows()
    events, kinds = head[1:], [row[0] for row in rows]
    cells = {(event, row[0]): value for row in rows
             for event, value in zip(events, row[1:], strict=True)}

    def cell(event: str, kind: str) -> tuple[str, str]:
        value = cells[(event, kind)]
        return SURVIVAL_COLOURS[value], value

    return grid_figure(events, kinds, cell, SURVIVAL_COLOURS, xlabel="event",
                       ylabel="where the pod wrote the file",
                       title=title or "Is a file the pod wrote still readable after the event?",
                       column_labels=[textwrap.fill(e, 14) for e in events],
                       figsize=(1.3 * len(events) + 3.0, 0.5 * len(kinds) + 2.6),
                       cell_height=0.88)


# ----------------------------------------------------------------- stories
def plot_story(story: AppStory | Sequence[AppStory], title: str | None = None) -> Figure:
    """Draw records written and still readable at each step of one or more stories.

    Each story is a row of two axes, the logs on the left and the data on the
    right. The x axis is the story's steps (deploy, then each event, with the
    node the pod ran on); the dashed line counts the records written, the
    solid line those still readable, and the shaded area between them is lost.
    Raises :class:`~rosim.ConfigError` unless given an AppStory or a non-empty
    sequence of them.
    """
    check_title(title)
    stories = [story] if isinstance(story, AppStory) else (
        list(story) if isinstance(story, list | tuple) else [])
    if not stories or not all(isinstance(s, AppStory) for s in stories):
        raise ConfigError(f"story(={story!r}) must be an AppStory or a non-empty "
                          "sequence of them.")
    fig = notebook_figure(figsize=(MAX_WIDTH_IN, 3.7 * len(stories) + 0.7),
                          layout="constrained")
    axes = fig.subplots(len(stories), 2, squeeze=False)
    for row, one in zip(axes, stories, strict=True):
        for ax, stream in zip(row, ("logs", "data"), strict=True):
            _draw_stream(ax, one, stream)
    if title is None:
        title = (_settings(stories[0]) if len(stories) == 1
                 else "Records written and still readable, for each choice of storage")
    fig.suptitle(title, fontsize=MIN_FONT_PT + 3)
    return fig


def _settings(story: AppStory) -> str:
    text = f"logs on {_kind_label(story.logs)}, data on {_kind_label(story.data)}"
    return text + (", readOnlyRootFilesystem: true" if story.read_only else "")


def _kind_label(kind: str) -> str:
    return _KIND_LABELS.get(StorageKind(kind), kind)


def _draw_stream(ax: Axes, story: AppStory, stream: str) -> None:
    from matplotlib.ticker import MaxNLocator

    x = list(range(len(story.steps)))
    written = [s.written[stream] for s in story.steps]
    readable = [s.readable[stream] for s in story.steps]
    for i in x[1:]:
        ax.axvline(i, color=_EVENT_MARK, linestyle=":", linewidth=1, zorder=0)
    ax.fill_between(x, readable, written, color=STREAM_COLOURS["lost"], alpha=0.25,
                    linewidth=0, label="lost")
    ax.plot(x, readable, color=STREAM_COLOURS[stream], marker="s", markersize=7,
            linewidth=2.5, label="still readable", clip_on=False)
    ax.plot(x, written, color=STREAM_COLOURS["written"], linestyle="--", marker="o",
            markersize=4, linewidth=1.2, label="written", clip_on=False)
    ax.set_xticks(x, [_tick(s) for s in story.steps], fontsize=MIN_FONT_PT)
    ax.set_xlim(-0.3, max(len(x) - 0.7, 0.3))
    top = max(written + readable + [1]) * 1.45
    ax.set_ylim(-0.03 * top, top)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("event, then the pod's node", fontsize=MIN_FONT_PT)
    ax.set_ylabel(_STREAM_UNITS[stream], fontsize=MIN_FONT_PT)
    ax.tick_params(axis="y", labelsize=MIN_FONT_PT)
    kind = StorageKind(getattr(story, stream))
    where = ("stdout, shipped by the log collector" if kind is StorageKind.STDOUT
             else f"{_STREAM_FILES[stream]} on {_kind_label(kind)}")
    final = story.steps[-1]
    lost = final.written[stream] - final.readable[stream]
    mode = "\nreadOnlyRootFilesystem: true" if story.read_only else ""
    ax.set_title(f"{stream}: {where}\n{lost} of {final.written[stream]} lost{mode}",
                 fontsize=MIN_FONT_PT)
    if not any(written):
        ax.text(0.5, 0.5, f"nothing written\npod {story.steps[0].status} at deploy",
                transform=ax.transAxes, ha="center", va="center", fontsize=MIN_FONT_PT)
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(name) for name in ("written", "still readable", "lost")]
    ax.legend([handles[i] for i in order], [labels[i] for i in order], loc="upper center",
              ncol=3, fontsize=MIN_FONT_PT, framealpha=0.9, handlelength=1.5,
              columnspacing=0.8, borderaxespad=0.2)


def _tick(step: Any) -> str:
    label = f"{_STEP_LABELS.get(step.event, step.event)}\n{step.node or 'no node'}"
    return label if step.status == "Running" else f"{label}\n{step.status}"


def loss_summary(story: AppStory) -> str:
    """One sentence on what ``story`` lost by its end, and why nothing, if nothing.

    >>> from rosim import run_app_story
    >>> print(loss_summary(run_app_story(events=["crash"], requests=2)))
    Lost: 2 of 2 log lines and 2 of 2 data records (4 records in all).
    """
    check_type(story, "story", AppStory, "a rosim.AppStory (from run_app_story)")
    final = story.steps[-1]
    written, lost = final.written, final.lost
    if not any(written.values()):
        first = story.steps[0]
        if first.status != "Running":
            error = (story.deploy_log.strip().splitlines() or ["no output"])[-1]
            return (f"Nothing written, nothing lost: the pod is {first.status} from "
                    f"deploy, the app failed with {error}")
        return "Nothing written, nothing lost: the app wrote no record."
    parts = [f"{lost[s]} of {written[s]} {_STREAM_UNITS[s]}" for s in ("logs", "data")]
    total = sum(lost.values())
    if total == 0:
        text = (f"No record lost: all {written['logs']} {_STREAM_UNITS['logs']} and "
                f"{written['data']} {_STREAM_UNITS['data']} are still readable.")
    else:
        text = f"Lost: {parts[0]} and {parts[1]} ({total} records in all)."
    if final.status != "Running":
        text += f" The pod ends {final.status}."
    return text


# ----------------------------------------------------------------- widget
class DataLossExplorer:
    """ipywidgets controls for :func:`~rosim.run_app_story`, with its figure and summary.

    The controls are attributes, so code (and tests) can drive them: ``logs``
    and ``data`` (dropdowns of storage kinds), ``events`` (a toggle button per
    :class:`~rosim.PodEvent`, applied in that enum's order, whatever the order
    they were given in), ``read_only`` (a
    checkbox), ``fix`` (a button that moves the logs to stdout and the data to
    a PVC). Every change reruns the story; ``story``, ``figure`` and
    ``summary.value`` hold the result, and the ``output`` widget shows the
    figure. Display the explorer (or its ``widget``) in a notebook.
    """

    def __init__(self, logs: str = "layer", data: str = "layer",
                 events: Sequence[str] = _DEFAULT_EVENTS, read_only: bool = False,
                 requests: int = 10) -> None:
        import ipywidgets as w

        check_type(read_only, "read_only", bool, "a bool")
        chosen = {parse_event(e) for e in check_seq(events, "events", "a list of events")}
        story = run_app_story(logs, data, [e.value for e in PodEvent if e in chosen],
                              requests=requests, read_only=read_only)
        self.requests = requests
        self.logs = w.Dropdown(options=_options(exclude=(StorageKind.TMPFS,)),
                               value=story.logs, description="logs")
        self.data = w.Dropdown(options=_options(exclude=(StorageKind.TMPFS,
                                                         StorageKind.STDOUT)),
                               value=story.data, description="data")
        self.events = {e.value: w.ToggleButton(value=e in chosen, description=label,
                                               tooltip=f"apply the event {e.value!r}")
                       for e, label in _EVENT_BUTTONS.items()}
        self.read_only = w.Checkbox(value=bool(read_only),
                                    description="readOnlyRootFilesystem: true")
        self.fix = w.Button(description="apply the fix: logs to stdout, data on a PVC",
                            layout=w.Layout(width="auto"))
        self.summary = w.HTML()
        self.output = w.Output()
        self.widget = w.VBox([w.HBox([self.logs, self.data]),
                              w.HBox(list(self.events.values())),
                              w.HBox([self.read_only, self.fix]),
                              self.summary, self.output])
        self.story: AppStory
        self.figure: Figure
        self._holding = False
        for control in (self.logs, self.data, self.read_only, *self.events.values()):
            control.observe(self._changed, names="value")
        self.fix.on_click(self._apply_fix)
        self._show(story)

    @property
    def chosen_events(self) -> list[str]:
        """The events switched on, in the order the story applies them."""
        return [name for name, button in self.events.items() if button.value]

    @property
    def lost(self) -> int:
        """Records (log lines and data records) lost by the end of the story."""
        return sum(self.story.lost.values())

    def update(self) -> None:
        """Rerun the story with the current settings and redraw the figure.

        A combination the cluster cannot play (for example a node failure
        while the pod has no node) is reported in the summary, not raised;
        ``story`` and ``figure`` then keep the last story that ran.
        """
        from IPython.display import clear_output

        try:
            story = run_app_story(self.logs.value, self.data.value, self.chosen_events,
                                  requests=self.requests, read_only=self.read_only.value)
        except RosimError as exc:
            with self.output:
                clear_output()
            self.summary.value = ("<b>This combination cannot be played:</b> "
                                  + html.escape(str(exc)))
            return
        self._show(story)

    def _show(self, story: AppStory) -> None:
        from IPython.display import clear_output, display

        self.story = story
        self.figure = plot_story(story)
        with self.output:
            clear_output(wait=True)
            display(self.figure)
        self.summary.value = (f"<b>{self.lost} records lost.</b> "
                              + html.escape(loss_summary(self.story)))

    def _changed(self, change: dict[str, Any]) -> None:
        if not self._holding:
            self.update()

    def _apply_fix(self, button: Any = None) -> None:
        self._holding = True
        try:
            self.logs.value, self.data.value = _FIX["logs"], _FIX["data"]
        finally:
            self._holding = False
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = (f"Data-loss explorer: logs on {self.logs.value}, data on "
                                f"{self.data.value}, events {', '.join(self.chosen_events)}: "
                                + loss_summary(self.story))
        return bundle


def _options(exclude: tuple[StorageKind, ...]) -> list[tuple[str, str]]:
    return [(_KIND_LABELS[k], k.value) for k in StorageKind if k not in exclude]


def data_loss_explorer(logs: str = "layer", data: str = "layer",
                       events: Sequence[str] = _DEFAULT_EVENTS, read_only: bool = False,
                       requests: int = 10) -> DataLossExplorer:
    """A :class:`DataLossExplorer` starting from the given settings (needs ipywidgets).

    ``logs``, ``data``, ``events``, ``read_only`` and ``requests`` are those
    of :func:`~rosim.run_app_story`.
    """
    return DataLossExplorer(logs, data, events, read_only, requests)

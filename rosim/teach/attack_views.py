"""Views of scenario 2: a heatmap of the backdoor table and an interactive panel.

Both only display result objects of :mod:`rosim.scenarios.backdoors`:
:func:`plot_backdoors` draws a :class:`~rosim.BackdoorTable`, and
:class:`AttackPanel` shows the :class:`~rosim.Attack` that
:func:`~rosim.run_attack` returns for the chosen technique, setting and event.
Colours are the labs' shared :data:`~rosim.teach.plots.PALETTE` and every
cell is labelled in text. The table's events are drawn one under the other,
or one at a time with :class:`BackdoorViewer` (a dropdown of events).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rosim._bounds import check_items, check_type
from rosim.fs.layers import Image
from rosim.scenarios.backdoor_catalog import techniques
from rosim.scenarios.backdoors import (
    Attack,
    BackdoorOutcome,
    BackdoorTable,
    LifecycleEvent,
    backdoor_settings,
    run_attack,
)
from rosim.teach.plots import (
    INK,
    MAX_WIDTH_IN,
    MIN_FONT_PT,
    PALETTE,
    _wrap,
    check_title,
    notebook_figure,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure


__all__ = ["BACKDOOR_COLOURS", "AttackPanel", "BackdoorViewer", "backdoor_viewer",
           "plot_backdoors"]

#: Blocked (refused), planted but never runs (inert), ran but gone after the
#: event (partly), persists (danger).
BACKDOOR_COLOURS = {
    BackdoorOutcome.BLOCKED: PALETTE["refused"],
    BackdoorOutcome.NEVER_RUNS: PALETTE["inert"],
    BackdoorOutcome.GONE: PALETTE["partly"],
    BackdoorOutcome.PERSISTS: PALETTE["danger"],
}
#: Text colour on each cell colour, for contrast.
_INK = {outcome: INK[colour] for outcome, colour in BACKDOOR_COLOURS.items()}


def plot_backdoors(table: BackdoorTable, events: Sequence[str | LifecycleEvent] | None = None,
                   title: str | None = None) -> Figure:
    """Draw technique × setting grids, one per event, coloured by outcome.

    ``events`` chooses the panels (all events of the table by default); rows
    are named by ATT&CK id and where the implant goes.
    """
    from matplotlib.patches import Patch, Rectangle

    check_type(table, "table", BackdoorTable, "a rosim.BackdoorTable (from backdoor_table)")
    if events is not None:
        check_items(events, "events", str, "a list of event names, or None")
    check_title(title)
    chosen = [LifecycleEvent(e) for e in (events if events is not None else table.events)]
    n_t, n_s = len(table.techniques), len(table.settings)
    width = min(MAX_WIDTH_IN, 1.05 * n_s + 3.4)
    fig = notebook_figure(figsize=(width, len(chosen) * (0.36 * n_t + 1.9) + 0.9))
    settings = [_wrap(s, 13) for s in table.settings]
    for i, event in enumerate(chosen):
        ax = fig.add_subplot(len(chosen), 1, i + 1)
        for x, setting in enumerate(table.settings):
            for y, tech in enumerate(table.techniques):
                outcome = table.outcome(tech, setting, event)
                ax.add_patch(Rectangle((x - 0.48, y - 0.45), 0.96, 0.9,
                                       color=BACKDOOR_COLOURS[outcome]))
                ax.text(x, y, outcome.short, ha="center", va="center", fontsize=MIN_FONT_PT,
                        color=_INK[outcome])
        ax.set_xlim(-0.5, n_s - 0.5)
        ax.set_ylim(n_t - 0.5, -0.5)
        ax.set_xticks(range(n_s), settings, fontsize=MIN_FONT_PT)
        ax.set_yticks(range(n_t), [t.title for t in table.techniques], fontsize=MIN_FONT_PT)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_xlabel("runtime setting", fontsize=MIN_FONT_PT)
        ax.set_ylabel("technique (ATT&CK id, implant)", fontsize=MIN_FONT_PT)
        ax.set_title(f"after: {event}", fontsize=MIN_FONT_PT + 2)
    fig.legend(handles=[Patch(color=c, label=o.value) for o, c in BACKDOOR_COLOURS.items()],
               loc="lower center", ncol=2, fontsize=MIN_FONT_PT + 1, frameon=False)
    fig.suptitle(title or "Does the backdoor run again after the event?",
                 fontsize=MIN_FONT_PT + 3)
    fig.tight_layout(rect=(0, 0.5 / fig.get_size_inches()[1] + 0.02, 1, 1))
    return fig


class BackdoorViewer:
    """One event of a :class:`~rosim.BackdoorTable` at a time, chosen in a dropdown.

    ``event`` is the dropdown; changing it draws :func:`plot_backdoors` for
    that event alone (kept in :attr:`figure`) in the ``output`` widget.
    """

    def __init__(self, table: BackdoorTable, event: str | None = None) -> None:
        import ipywidgets as widgets

        check_type(table, "table", BackdoorTable, "a rosim.BackdoorTable (from backdoor_table)")
        self.table = table
        first = LifecycleEvent(event) if event is not None else table.events[0]
        self.event = widgets.Dropdown(
            options=[(e.description, e.value) for e in table.events], value=first.value,
            description="after", layout={"width": "auto", "max_width": "860px"})
        self.output = widgets.Output()
        self.figure: Figure
        self.widget = widgets.VBox([self.event, self.output])
        self.event.observe(lambda _change: self.show(), names="value")
        self.show()

    def show(self) -> Figure:
        """Draw the grid of the chosen event; return the figure."""
        from IPython.display import clear_output, display

        self.figure = plot_backdoors(self.table, events=[self.event.value])
        with self.output:
            clear_output(wait=True)
            display(self.figure)
        return self.figure

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = (f"Backdoor grid after: {self.event.value} "
                                "(run the cell to choose another event)")
        return bundle


def backdoor_viewer(table: BackdoorTable, event: str | None = None) -> BackdoorViewer:
    """A :class:`BackdoorViewer` of ``table``, showing ``event`` first (needs ipywidgets)."""
    return BackdoorViewer(table, event)


class AttackPanel:
    """An ipywidgets panel: choose a technique, a setting and an event, then Run.

    The panel only displays: :meth:`run` calls :func:`~rosim.run_attack`
    and shows the :class:`~rosim.Attack` it returns (kept in :attr:`result`).
    Its widgets are attributes (``technique``, ``setting``, ``event``,
    ``button``, ``outcome``, ``transcript``) so code can drive it as a
    learner would: set ``.value``, call ``button.click()``.
    """

    def __init__(self, image: Image | None = None) -> None:
        import ipywidgets as widgets

        if image is not None:
            check_type(image, "image", Image, "a rosim.Image or None")
        self.image = image
        self.result: Attack | None = None
        self.technique = widgets.Dropdown(
            options=[(t.title, t.key) for t in techniques()], description="technique",
            style={"description_width": "initial"}, layout={"width": "420px"})
        self.setting = widgets.Dropdown(
            options=[s.label for s in backdoor_settings()], description="setting",
            style={"description_width": "initial"}, layout={"width": "420px"})
        self.event = widgets.Dropdown(
            options=[(e.description, e.value) for e in LifecycleEvent], description="event",
            style={"description_width": "initial"}, layout={"width": "720px"})
        self.button = widgets.Button(description="Run the attack", button_style="danger")
        self.outcome = widgets.HTML(_WAITING)
        self.transcript = widgets.HTML()
        self.button.on_click(lambda _button: self.run())
        for control in (self.technique, self.setting, self.event):
            control.observe(self._clear, names="value")
        self.widget = widgets.VBox([self.technique, self.setting, self.event, self.button,
                                    self.outcome, self.transcript])

    def run(self) -> Attack:
        """Run the chosen attack and show its outcome and transcript."""
        attack = run_attack(self.technique.value, self.setting.value, self.event.value,
                            image=self.image)
        self.result = attack
        colour = BACKDOOR_COLOURS[attack.outcome]
        self.outcome.value = (
            f'<p><span style="background:{colour};color:{_INK[attack.outcome]};'
            f'padding:2px 6px">{html.escape(attack.outcome.value)}</span> '
            f"{html.escape(attack.summary)}</p>")
        self.transcript.value = ('<pre style="background:#111;color:#eee;padding:6px">'
                                 f"{html.escape(attack.transcript)}</pre>")
        return attack

    def _clear(self, change: dict[str, Any] | None = None) -> None:
        """Forget the shown attack: its verdict is stale once an input changes."""
        self.result = None
        self.outcome.value = _WAITING
        self.transcript.value = ""

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        shown = (f"{self.result.outcome.value}: {self.result.summary}" if self.result
                 else "press Run the attack")
        bundle["text/plain"] = (f"Attack panel: {self.technique.label} / {self.setting.value} / "
                                f"{self.event.value} -> {shown}")
        return bundle


_WAITING = "<p><i>Choose a technique, a setting and an event, then press Run the attack.</i></p>"

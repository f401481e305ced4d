"""Views of scenario 2: a heatmap of the backdoor table and an interactive panel.

Both only display result objects of :mod:`rosim.scenarios.backdoors`:
:func:`plot_backdoors` draws a :class:`~rosim.BackdoorTable`, and
:class:`AttackPanel` shows the :class:`~rosim.Attack` that
:func:`~rosim.run_attack` returns for the chosen technique, setting and event.
Colours come from the Okabe–Ito palette and every cell is labelled in text.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rosim.scenarios.backdoor_catalog import techniques
from rosim.scenarios.backdoors import (
    Attack,
    BackdoorOutcome,
    BackdoorTable,
    LifecycleEvent,
    backdoor_settings,
    run_attack,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from rosim.fs.layers import Image

__all__ = ["BACKDOOR_COLOURS", "AttackPanel", "plot_backdoors"]

#: Okabe–Ito colours: blocked (blue), planted but never runs (sky blue),
#: ran but gone after the event (orange), persists (vermillion).
BACKDOOR_COLOURS = {
    BackdoorOutcome.BLOCKED: "#0072B2",
    BackdoorOutcome.NEVER_RUNS: "#56B4E9",
    BackdoorOutcome.GONE: "#E69F00",
    BackdoorOutcome.PERSISTS: "#D55E00",
}
#: Text colour on each cell colour, for contrast.
_INK = {BackdoorOutcome.BLOCKED: "white", BackdoorOutcome.NEVER_RUNS: "black",
        BackdoorOutcome.GONE: "black", BackdoorOutcome.PERSISTS: "white"}


def plot_backdoors(table: BackdoorTable, events: Sequence[str | LifecycleEvent] | None = None,
                   title: str | None = None) -> Figure:
    """Draw technique × setting grids, one per event, coloured by outcome.

    ``events`` chooses the panels (all events of the table by default); rows
    are named by ATT&CK id and where the implant goes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    chosen = [LifecycleEvent(e) for e in (events if events is not None else table.events)]
    cols = 2 if len(chosen) > 1 else 1
    rows = (len(chosen) + cols - 1) // cols
    n_t, n_s = len(table.techniques), len(table.settings)
    fig = plt.figure(figsize=(cols * (1.1 * n_s + 1.0) + 2.6, rows * (0.3 * n_t + 1.6) + 0.9))
    plt.close(fig)
    settings = ["\n".join(textwrap.wrap(s, 14, break_on_hyphens=False, break_long_words=False))
                for s in table.settings]
    for i, event in enumerate(chosen):
        ax = fig.add_subplot(rows, cols, i + 1)
        for x, setting in enumerate(table.settings):
            for y, tech in enumerate(table.techniques):
                outcome = table.outcome(tech, setting, event)
                ax.add_patch(Rectangle((x - 0.48, y - 0.45), 0.96, 0.9,
                                       color=BACKDOOR_COLOURS[outcome]))
                ax.text(x, y, outcome.short, ha="center", va="center", fontsize=7,
                        color=_INK[outcome])
        ax.set_xlim(-0.5, n_s - 0.5)
        ax.set_ylim(n_t - 0.5, -0.5)
        ax.set_xticks(range(n_s), settings, fontsize=7)
        ax.set_yticks(range(n_t), [t.title for t in table.techniques] if i % cols == 0
                      else [""] * n_t, fontsize=8)
        ax.tick_params(length=0)
        for side in ax.spines.values():
            side.set_visible(False)
        ax.set_xlabel("runtime setting", fontsize=8)
        if i % cols == 0:
            ax.set_ylabel("technique (ATT&CK id, implant)", fontsize=8)
        ax.set_title(f"after: {event}", fontsize=10)
    fig.legend(handles=[Patch(color=c, label=o.value) for o, c in BACKDOOR_COLOURS.items()],
               loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title or "Does the backdoor run again after the event?")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


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
        self.outcome = widgets.HTML()
        self.transcript = widgets.HTML()
        self.button.on_click(lambda _button: self.run())
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

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

"""Figures for the labs: thin views over result objects.

Colours come from the Okabe–Ito palette, which stays distinct for the common
forms of colour blindness, and every cell is also labelled in text. One
colour means one thing in every lab (:data:`PALETTE`):

=================  =========  ==================================================
meaning            colour     used for
=================  =========  ==================================================
``refused``        blue       EROFS, read-only, a blocked backdoor
``works``          green      writable, kept, not harmed, write but ``noexec``
``danger``         vermillion lost, evicted, the attacker's code runs again
``partly``         orange     worked for a while: ENOSPC, gone after the event
``inert``          sky blue   planted but never runs
``neutral``        grey       another error, marks and guides
=================  =========  ==================================================

Who is who (a tenant, a run) is told by :data:`IDENTITY_COLOURS` (reddish
purple, yellow, greys), which carry no meaning, plus hatches and line styles.

Figures are sized for the notebook column in JupyterLab at 100 % zoom: at
most :data:`MAX_WIDTH_IN` inches wide at the inline backend's 100 dpi, and no
text under :data:`MIN_FONT_PT` points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rosim._bounds import check_type
from rosim._errors import ConfigError
from rosim.teach.probe import Capabilities, Comparison, ProbeResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CAPABILITY_COLOURS", "IDENTITY_COLOURS", "MAX_WIDTH_IN", "MIN_FONT_PT",
           "OUTCOME_COLOURS", "PALETTE", "grid_figure", "notebook_figure",
           "plot_capabilities", "plot_comparison", "plot_probe"]

#: One colour per meaning, shared by every figure and widget of the labs.
PALETTE = {"refused": "#0072B2", "works": "#009E73", "danger": "#D55E00",
           "partly": "#E69F00", "inert": "#56B4E9", "neutral": "#999999"}
#: Colours that only tell things apart (tenants, runs): they mean nothing.
IDENTITY_COLOURS = ("#CC79A7", "#F0E442", "#666666", "#BBBBBB", "#000000")
#: Text ink on each palette colour, for contrast.
INK = {PALETTE["refused"]: "white", PALETTE["works"]: "white", PALETTE["danger"]: "white",
       PALETTE["partly"]: "black", PALETTE["inert"]: "black", PALETTE["neutral"]: "black"}
#: The widest figure that fits the notebook column (inches at 100 dpi).
MAX_WIDTH_IN = 9.0
#: The smallest text in a figure (points).
MIN_FONT_PT = 9

#: Writable (works), EROFS (refused), another error (neutral).
OUTCOME_COLOURS = {"ok": PALETTE["works"], "EROFS": PALETTE["refused"],
                   "other": PALETTE["neutral"]}


#: Read-only (refused), not writable for this user (refused: the mode bits),
#: writable but noexec (works), writable and executable (danger: where a
#: dropped binary runs).
CAPABILITY_COLOURS = {"read-only": PALETTE["refused"], "no permission": PALETTE["refused"],
                      "write, noexec": PALETTE["works"], "write + exec": PALETTE["danger"]}


def grid_figure(columns: Sequence[str], rows: Sequence[str],
                cell: Callable[[str, str], tuple[str, str]], legend: dict[str, str], *,
                xlabel: str, ylabel: str, title: str,
                column_labels: Sequence[str] | None = None,
                figsize: tuple[float, float] | None = None,
                cell_height: float = 0.9, fontsize: int = MIN_FONT_PT) -> Figure:
    """A rows × columns grid of coloured, labelled cells with a legend.

    ``cell(column, row)`` returns the cell's ``(colour, text)``; ``legend``
    maps legend labels to colours. The labs' outcome grids are all drawn here:
    no wider than :data:`MAX_WIDTH_IN`, no text under :data:`MIN_FONT_PT`, the
    legend under the grid.
    """
    from matplotlib.patches import Patch, Rectangle

    fontsize = max(fontsize, MIN_FONT_PT)
    width, height = figsize or (1.25 * len(columns) + 2.4, 0.42 * len(rows) + 2.6)
    fig = notebook_figure(figsize=(min(width, MAX_WIDTH_IN), height))
    ax = fig.add_subplot()
    for x, column in enumerate(columns):
        for y, row in enumerate(rows):
            colour, text = cell(column, row)
            ax.add_patch(Rectangle((x - 0.48, y - cell_height / 2), 0.96, cell_height,
                                   color=colour))
            ax.text(x, y, text.replace(", ", ",\n").replace(" + ", "\n+ ")
                    if len(text) > 9 else text, ha="center", va="center",
                    fontsize=fontsize, color=INK.get(colour, "white"))
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xticks(range(len(columns)), column_labels if column_labels is not None else
                  [_wrap(c, 12) for c in columns], fontsize=MIN_FONT_PT)
    ax.set_yticks(range(len(rows)), rows, fontsize=MIN_FONT_PT + 1)
    ax.tick_params(length=0)
    ax.set_xlabel(xlabel, fontsize=MIN_FONT_PT + 1)
    ax.set_ylabel(ylabel, fontsize=MIN_FONT_PT + 1)
    ax.set_title(title, fontsize=MIN_FONT_PT + 3)
    fig.legend(handles=[Patch(color=c, label=k) for k, c in legend.items()],
               loc="lower center", ncol=len(legend), fontsize=MIN_FONT_PT + 1, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    text = text.replace("readOnlyRootFilesystem", "readOnlyRoot Filesystem")
    return "\n".join(textwrap.wrap(text, width, break_on_hyphens=False)) or text


def check_title(title: object) -> None:
    """Raise ConfigError unless ``title`` is None or a str without NUL bytes."""
    if title is not None and (not isinstance(title, str) or "\x00" in title):
        raise ConfigError(f"title(={title!r:.60}) must be a str without NUL bytes, or None.")


def plot_capabilities(caps: Capabilities, title: str | None = None) -> Figure:
    """Draw a path × setting grid: read-only / no permission / write, noexec / write + exec."""
    check_type(caps, "caps", Capabilities, "a rosim.Capabilities (from compare_capabilities)")
    check_title(title)
    def cell(label: str, path: str) -> tuple[str, str]:
        result = caps.outcome(label, path)
        return CAPABILITY_COLOURS[result], result

    return grid_figure(caps.labels, caps.paths, cell, CAPABILITY_COLOURS,
                       xlabel="runtime setting", ylabel="where a process drops a file",
                       title=title or "Can a process write here, and run what it wrote?")


def plot_comparison(comparison: Comparison, title: str | None = None) -> Figure:
    """Draw a path × setting grid: green where writable, blue for EROFS."""
    check_type(comparison, "comparison", Comparison, "a rosim.Comparison (from compare)")
    check_title(title)
    def cell(label: str, path: str) -> tuple[str, str]:
        result = comparison.outcome(label, path)
        colour = OUTCOME_COLOURS.get(result, OUTCOME_COLOURS["other"])
        return colour, "writable" if result == "ok" else result

    legend = {"writable": OUTCOME_COLOURS["ok"], "EROFS (read-only)": OUTCOME_COLOURS["EROFS"],
              "other error": OUTCOME_COLOURS["other"]}
    return grid_figure(comparison.labels, comparison.paths, cell, legend,
                       xlabel="runtime setting", ylabel="where the process writes",
                       title=title or "Can a process create a file here?")


def plot_probe(result: ProbeResult, title: str | None = None) -> Figure:
    """Draw one probe as a column of coloured cells, one per path."""
    check_type(result, "result", ProbeResult, "a rosim.ProbeResult (from probe_writes)")
    check_title(title)
    comparison = Comparison(tuple(r.path for r in result.rows), (result.container,),
                            {result.container: result})
    return plot_comparison(comparison, title)


def notebook_figure(**kwargs) -> Figure:
    """A figure that a notebook displays once when it is a cell's value.

    Going through pyplot activates Jupyter's inline backend (which teaches
    IPython to draw figures); closing it stops pyplot from drawing it a
    second time at the end of the cell.
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig

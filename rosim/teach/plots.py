"""Figures for the labs: thin views over result objects.

Colours come from the Okabe–Ito palette, which stays distinct for the common
forms of colour blindness; every cell is also labelled in text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rosim.teach.probe import Capabilities, Comparison, ProbeResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CAPABILITY_COLOURS", "OUTCOME_COLOURS", "grid_figure", "notebook_figure",
           "plot_capabilities", "plot_comparison", "plot_probe"]

#: Okabe–Ito colours: writable (bluish green), read-only (vermillion), other (grey).
OUTCOME_COLOURS = {"ok": "#009E73", "EROFS": "#D55E00", "other": "#999999"}


#: Okabe–Ito colours: read-only (blue), writable but noexec (bluish green),
#: writable and executable (vermillion: where a dropped binary runs).
CAPABILITY_COLOURS = {"read-only": "#0072B2", "write, noexec": "#009E73",
                      "write + exec": "#D55E00"}


def grid_figure(columns: Sequence[str], rows: Sequence[str],
                cell: Callable[[str, str], tuple[str, str]], legend: dict[str, str], *,
                xlabel: str, ylabel: str, title: str,
                column_labels: Sequence[str] | None = None,
                figsize: tuple[float, float] | None = None,
                cell_height: float = 0.9, fontsize: int = 8) -> Figure:
    """A rows × columns grid of coloured, labelled cells with a legend.

    ``cell(column, row)`` returns the cell's ``(colour, text)``; ``legend``
    maps legend labels to colours. The labs' outcome grids are all drawn here.
    """
    from matplotlib.patches import Patch, Rectangle

    fig = notebook_figure(
        figsize=figsize or (1.9 * len(columns) + 2.5, 0.45 * len(rows) + 1.8))
    ax = fig.add_subplot()
    for x, column in enumerate(columns):
        for y, row in enumerate(rows):
            colour, text = cell(column, row)
            ax.add_patch(Rectangle((x - 0.48, y - cell_height / 2), 0.96, cell_height,
                                   color=colour))
            ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, color="white")
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xticks(range(len(columns)), column_labels if column_labels is not None else
                  [c.replace(" ", "\n", 1) for c in columns], fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(handles=[Patch(color=c, label=k) for k, c in legend.items()],
              loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    return fig


def plot_capabilities(caps: Capabilities, title: str | None = None) -> Figure:
    """Draw a path × setting grid of read-only / write, noexec / write + exec."""
    def cell(label: str, path: str) -> tuple[str, str]:
        result = caps.outcome(label, path)
        return CAPABILITY_COLOURS[result], result

    return grid_figure(caps.labels, caps.paths, cell, CAPABILITY_COLOURS,
                       xlabel="runtime setting", ylabel="where a process drops a file",
                       title=title or "Can a process write here, and run what it wrote?")


def plot_comparison(comparison: Comparison, title: str | None = None) -> Figure:
    """Draw a path × setting grid: green where writable, vermillion for EROFS."""
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

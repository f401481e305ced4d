"""Figures for the labs: thin views over result objects.

Colours come from the Okabe–Ito palette, which stays distinct for the common
forms of colour blindness; every cell is also labelled in text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rosim.teach.probe import Capabilities, Comparison, ProbeResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CAPABILITY_COLOURS", "OUTCOME_COLOURS", "plot_capabilities", "plot_comparison",
           "plot_probe"]

#: Okabe–Ito colours: writable (bluish green), read-only (vermillion), other (grey).
OUTCOME_COLOURS = {"ok": "#009E73", "EROFS": "#D55E00", "other": "#999999"}


#: Okabe–Ito colours: read-only (blue), writable but noexec (bluish green),
#: writable and executable (vermillion: where a dropped binary runs).
CAPABILITY_COLOURS = {"read-only": "#0072B2", "write, noexec": "#009E73",
                      "write + exec": "#D55E00"}


def plot_capabilities(caps: Capabilities, title: str | None = None) -> Figure:
    """Draw a path × setting grid of read-only / write, noexec / write + exec."""
    from matplotlib.patches import Patch

    paths, labels = caps.paths, caps.labels
    fig = _figure(figsize=(1.9 * len(labels) + 2.5, 0.45 * len(paths) + 1.8))
    ax = fig.add_subplot()
    for x, label in enumerate(labels):
        for y, path in enumerate(paths):
            result = caps.outcome(label, path)
            ax.add_patch(_cell(x, y, CAPABILITY_COLOURS[result]))
            ax.text(x, y, result, ha="center", va="center", fontsize=8, color="white")
    ax.set_xlim(-0.5, len(labels) - 0.5)
    ax.set_ylim(len(paths) - 0.5, -0.5)
    ax.set_xticks(range(len(labels)), [lab.replace(" ", "\n", 1) for lab in labels],
                  fontsize=8)
    ax.set_yticks(range(len(paths)), paths, fontsize=9)
    ax.set_xlabel("runtime setting")
    ax.set_ylabel("where a process drops a file")
    ax.set_title(title or "Can a process write here, and run what it wrote?")
    ax.legend(handles=[Patch(color=c, label=k) for k, c in CAPABILITY_COLOURS.items()],
              loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    return fig


def _colour(result: str) -> str:
    return OUTCOME_COLOURS.get(result, OUTCOME_COLOURS["other"])


def plot_comparison(comparison: Comparison, title: str | None = None) -> Figure:
    """Draw a path × setting grid: green where writable, vermillion for EROFS."""
    from matplotlib.patches import Patch

    paths, labels = comparison.paths, comparison.labels
    fig = _figure(figsize=(1.9 * len(labels) + 2.5, 0.45 * len(paths) + 1.8))
    ax = fig.add_subplot()
    for x, label in enumerate(labels):
        for y, path in enumerate(paths):
            result = comparison.outcome(label, path)
            ax.add_patch(_cell(x, y, _colour(result)))
            ax.text(x, y, "writable" if result == "ok" else result, ha="center",
                    va="center", fontsize=8, color="white")
    ax.set_xlim(-0.5, len(labels) - 0.5)
    ax.set_ylim(len(paths) - 0.5, -0.5)
    ax.set_xticks(range(len(labels)), [lab.replace(" ", "\n", 1) for lab in labels],
                  fontsize=8)
    ax.set_yticks(range(len(paths)), paths, fontsize=9)
    ax.set_xlabel("runtime setting")
    ax.set_ylabel("where the process writes")
    ax.set_title(title or "Can a process create a file here?")
    ax.legend(handles=[Patch(color=OUTCOME_COLOURS["ok"], label="writable"),
                       Patch(color=OUTCOME_COLOURS["EROFS"], label="EROFS (read-only)"),
                       Patch(color=OUTCOME_COLOURS["other"], label="other error")],
              loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    return fig


def plot_probe(result: ProbeResult, title: str | None = None) -> Figure:
    """Draw one probe as a column of coloured cells, one per path."""
    comparison = Comparison(tuple(r.path for r in result.rows), (result.container,),
                            {result.container: result})
    return plot_comparison(comparison, title)


def _figure(**kwargs) -> Figure:
    """A figure that a notebook displays once when it is a cell's value.

    Going through pyplot activates Jupyter's inline backend (which teaches
    IPython to draw figures); closing it stops pyplot from drawing it a
    second time at the end of the cell.
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(**kwargs)
    plt.close(fig)
    return fig


def _cell(x: float, y: float, colour: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.48, y - 0.45), 0.96, 0.9, color=colour)

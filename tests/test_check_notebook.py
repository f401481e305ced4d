"""Notebook 05: committed unsolved, and its solution passes when put in place."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / \
    "05_make_your_workload_read_only.ipynb"


def _cells():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_committed_exercise_is_unsolved_and_shows_the_first_hint():
    """The stored notebook's check prints FAIL with a hint, not the answer."""
    nb = _cells()
    check = next(c for c in nb.cells if c.cell_type == "code"
                 and "check_workload_exercise(MY_MANIFEST)" in c.source)
    text = "".join(o.get("text", "") for o in check.outputs)
    assert text.startswith("FAIL: RO001")
    assert "Hint:" in text


def test_solution_in_place_passes():
    """Running the notebook with the collapsed solution in place prints PASS."""
    nb = _cells()
    solution = next(c for c in nb.cells if c.cell_type == "markdown"
                    and "<summary>Solution</summary>" in c.source)
    code = re.search(r"```python\n(.*?)```", solution.source, re.S).group(1)
    answer = next(c for c in nb.cells if c.cell_type == "code"
                  and c.source.startswith("MY_MANIFEST = "))
    answer.source = code
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    check = next(c for c in nb.cells if c.cell_type == "code"
                 and "check_workload_exercise(MY_MANIFEST)" in c.source)
    text = "".join(o.get("text", "") for o in check.outputs)
    assert text.startswith("PASS: no finding"), text


def test_code_cells_are_short():
    """Code cells stay within 15 lines (logic lives in rosim)."""
    for cell in _cells().cells:
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= 15, cell.source[:60]

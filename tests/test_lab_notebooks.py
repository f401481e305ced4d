"""The labs as teaching material: unsolved exercises, solutions that pass, no test plumbing.

Every lab ships its exercises unsolved: the cell tagged ``exercise`` holds a
placeholder (``...``) and the committed output of the cell tagged ``check``
is a FAIL line with a hint. The collapsed markdown cell tagged ``solution``
holds the answer in a ``python`` code block; here each notebook is run with
its solutions put in place of the placeholders, and every check must say
PASS. The learner's copy (``make lab``) is checked too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rosim import ConfigError
from rosim.teach.learner import learner_notebook, main, make_learner_copy

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
LABS = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
#: Cell tags the labs may use: nbval's, and the exercise's three roles.
TAGS = {"nbval-ignore-output", "nbval-raises-exception", "nbval-skip", "exercise", "check",
        "solution"}
_SOLUTION = re.compile(r"```python\n(.*?)```", re.S)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _tagged(nb: dict, tag: str) -> list[dict]:
    return [c for c in nb["cells"] if tag in c.get("metadata", {}).get("tags", [])]


def _text(cell: dict) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(_src({"source": out["text"]}))
        elif out["output_type"] == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
        else:
            parts.append(_src({"source": out.get("data", {}).get("text/plain", "")}))
    return "".join(parts)


def _with_solutions(nb: dict) -> dict:
    """The notebook with each exercise cell replaced by the code of the next solution."""
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if "exercise" not in cell.get("metadata", {}).get("tags", []):
            continue
        solution = next(c for c in cells[i + 1:]
                        if "solution" in c.get("metadata", {}).get("tags", []))
        cell["source"] = _SOLUTION.search(_src(solution)).group(1)
    return nb


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem[:2])
def test_exercises_ship_unsolved_with_a_fail_and_a_hint(path):
    """Each exercise starts unsolved: its check's committed output is FAIL + a hint."""
    nb = _load(path)
    exercises, checks = _tagged(nb, "exercise"), _tagged(nb, "check")
    solutions = _tagged(nb, "solution")
    assert exercises and len(exercises) == len(checks) == len(solutions)
    for cell in checks:
        text = _text(cell)
        assert text.startswith("FAIL: ") and "\nHint: " in text, text
    for cell in solutions:
        assert cell["cell_type"] == "markdown"
        assert _src(cell).startswith("<details><summary>Solution</summary>")
        assert _SOLUTION.search(_src(cell))


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem[:2])
def test_solutions_pass_their_checks(path):
    """Run the lab with its solutions in place: every check prints PASS, no cell fails."""
    from nbclient import NotebookClient

    nb = _with_solutions(_load(path))
    import nbformat

    node = nbformat.reads(json.dumps(nb), as_version=4)
    NotebookClient(node, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    for cell in node.cells:
        if cell.cell_type == "code":
            assert not any(o.output_type == "error" for o in cell.outputs), _src(cell)
    for cell in _tagged(node, "check"):
        assert _text(cell).startswith("PASS: "), _text(cell)


@pytest.mark.parametrize("path", LABS + [NOTEBOOKS / "index.ipynb"], ids=lambda p: p.stem[:5])
def test_notebooks_show_no_test_plumbing(path):
    """No nbval comments, no assert cells, only known tags; the test config is not there."""
    nb = _load(path)
    for cell in nb["cells"]:
        source = _src(cell)
        assert "NBVAL" not in source and not re.search(r"^assert ", source, re.M), source
        assert set(cell.get("metadata", {}).get("tags", [])) <= TAGS
    assert not (NOTEBOOKS / "sanitize.cfg").exists()


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem[:2])
def test_prerequisites_link_the_glossary(path):
    """Every lab's prerequisites table links the glossary."""
    nb = _load(path)
    prerequisites = next(_src(c) for c in nb["cells"] if _src(c).startswith("## Prerequisites"))
    assert "](glossary.md)" in prerequisites
    assert (NOTEBOOKS / "glossary.md").exists()


def test_index_links_every_lab_and_the_glossary():
    """The start-here page links each lab, the glossary and says how to reset."""
    text = "".join(_src(c) for c in _load(NOTEBOOKS / "index.ipynb")["cells"])
    for path in LABS:
        assert f"]({path.name})" in text, path.name
    assert "](glossary.md)" in text and "make reset-lab" in text


def test_learner_notebook_has_no_outputs_and_no_test_tags():
    """Outputs, counts, widget state and nbval tags go; exercise tags and sources stay."""
    for path in LABS:
        nb = _load(path)
        copy = learner_notebook(nb)
        assert "widgets" not in copy["metadata"]
        assert [_src(c) for c in copy["cells"]] == [_src(c) for c in nb["cells"]]
        for cell in copy["cells"]:
            tags = cell.get("metadata", {}).get("tags", [])
            assert not [t for t in tags if t.startswith("nbval")]
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None


def test_learner_copy_keeps_work_until_reset(tmp_path):
    """make lab copies once; a second run keeps the learner's edits; reset makes a fresh copy."""
    dest = tmp_path / "lab"
    make_learner_copy(NOTEBOOKS, dest)
    names = sorted(p.name for p in dest.iterdir())
    assert names == sorted(p.name for p in NOTEBOOKS.iterdir()
                           if p.suffix in {".ipynb", ".md"})
    assert "index.ipynb" in names and "glossary.md" in names
    first = dest / LABS[0].name
    first.write_text("my work")
    assert main([str(NOTEBOOKS), str(dest)]) == 0
    assert first.read_text() == "my work"
    assert main(["--reset", str(NOTEBOOKS), str(dest)]) == 0
    assert _load(first)["cells"]
    assert (tmp_path / "lab.previous" / LABS[0].name).read_text() == "my work"


def test_learner_copy_refuses_bad_folders(tmp_path, capsys):
    """A folder without notebooks, or a copy inside the labs, is a clear error."""
    with pytest.raises(ConfigError, match="source"):
        make_learner_copy(tmp_path, tmp_path / "lab")
    with pytest.raises(ConfigError, match="dest"):
        make_learner_copy(NOTEBOOKS, NOTEBOOKS / "lab")
    assert main([str(tmp_path), str(tmp_path / "lab")]) == 2
    assert "error: source" in capsys.readouterr().err


def test_makefile_builds_and_resets_the_learner_copy():
    """make lab builds lab/ and opens it; make reset-lab refreshes it; git ignores both."""
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab:.*\n(\t.*\n)*\t.*rosim\.teach\.learner notebooks \$\(LAB\)", makefile,
                     re.M)
    assert re.search(r"^reset-lab:.*\n\t.*rosim\.teach\.learner --reset", makefile, re.M)
    ignored = (ROOT / ".gitignore").read_text().split()
    assert "lab/" in ignored and "lab.previous/" in ignored

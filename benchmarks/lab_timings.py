"""How long each lab takes: measured figures for the trainer's guide.

Run ``make timings`` (or ``.venv/bin/python benchmarks/lab_timings.py``). For
every lab in ``notebooks/`` it

1. executes the notebook top to bottom in a fresh ``python3`` kernel, with
   the exercise solutions put in place (as a learner who finished would),
   and takes each cell's run time from the kernel's own timestamps
   (``execute_input`` to ``execute_reply``, recorded by nbclient);
2. counts, per section (a ``##`` heading; a ``### Optional:`` heading
   starts an optional part of its section, up to the next heading), the words of prose a learner
   reads (markdown, without the collapsed Solutions and the references), the
   lines of code, the lines of output, the *Predict* questions and the
   exercises;
3. turns the counts into minutes with the rates below, adds the measured
   run time, and prints one table per lab and a summary: the core path (every
   section not marked *Optional*) and the optional sections.

The rates are stated, not measured here; change them to match a group:

* prose at ``WORDS_PER_MINUTE`` words a minute (a newcomer reading technical
  text; silent reading of non-fiction is about 240 for native readers);
* code at ``SECONDS_PER_CODE_LINE`` seconds a line, output at
  ``SECONDS_PER_OUTPUT_LINE`` seconds a line (text output; a figure counts
  as ``FIGURE_OUTPUT_LINES`` lines);
* ``PREDICT_MINUTES`` to think about each *Predict* question before running;
* ``EXERCISE_MINUTES`` for each exercise: reading the hint, one or two
  attempts, opening the Solution.

Everything is printed; nothing is written. The trainer's guide quotes the
output of one run and says when it was made.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

WORDS_PER_MINUTE = 150
SECONDS_PER_CODE_LINE = 6
SECONDS_PER_OUTPUT_LINE = 1.5
FIGURE_OUTPUT_LINES = 20
PREDICT_MINUTES = 1.0
EXERCISE_MINUTES = 6.0

_SOLUTION = re.compile(r"```python\n(.*?)```", re.S)
_WORD = re.compile(r"\S+")


@dataclass
class Section:
    """The counts and timings of one ``##`` section of a lab."""

    title: str
    optional: bool = False
    words: int = 0
    code_lines: int = 0
    output_lines: int = 0
    predicts: int = 0
    exercises: int = 0
    run_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def minutes(self) -> float:
        """Minutes a learner spends on the section, from the counts and rates."""
        return (self.words / WORDS_PER_MINUTE
                + self.code_lines * SECONDS_PER_CODE_LINE / 60
                + self.output_lines * SECONDS_PER_OUTPUT_LINE / 60
                + self.predicts * PREDICT_MINUTES
                + self.exercises * EXERCISE_MINUTES
                + self.run_s / 60)


def _src(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def _output_lines(cell: dict) -> int:
    lines = 0
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            lines += _src({"source": out["text"]}).count("\n")
        elif "image/png" in out.get("data", {}):
            lines += FIGURE_OUTPUT_LINES
        elif out["output_type"] in {"execute_result", "display_data"}:
            lines += _src({"source": out["data"].get("text/plain", "")}).count("\n") + 1
    return lines


def _run_seconds(cell: dict) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def execute(path: Path) -> dict:
    """The lab executed in a fresh kernel, solutions in place, with cell timings."""
    import nbformat
    from nbclient import NotebookClient

    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        if "exercise" in _tags(cell):
            solution = next(c for c in cells[i + 1:] if "solution" in _tags(c))
            cell["source"] = _SOLUTION.search(_src(solution)).group(1)
    node = nbformat.reads(json.dumps(nb), as_version=4)
    NotebookClient(node, timeout=300, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return json.loads(nbformat.writes(node))


def sections(nb: dict) -> list[Section]:
    """Split an executed lab into its ``##`` sections and count each.

    A ``### Optional: ...`` heading starts an optional part of its section,
    which ends at the next ``##`` or ``###`` heading.
    """
    found = [Section("title and imports")]
    main = found[0]
    current = main
    for cell in nb["cells"]:
        text = _src(cell)
        if cell["cell_type"] == "markdown":
            for part in re.split(r"^(?=##+ )", text, flags=re.M):
                heading = re.match(r"(##+) (.+)", part)
                if heading and heading.group(1) == "##":
                    title = heading.group(2).strip()
                    main = current = Section(title, optional="optional" in title.lower())
                    found.append(main)
                elif heading and heading.group(2).lower().startswith("optional"):
                    current = Section(f"{main.title} / {heading.group(2).strip()}",
                                      optional=True)
                    found.append(current)
                elif heading:
                    current = main
                if "solution" in _tags(cell) or part.startswith("## Resources"):
                    continue
                current.words += len(_WORD.findall(part))
                current.predicts += len(re.findall(r"^#+ Predict", part, re.M))
        else:
            current.code_lines += len([line for line in text.splitlines() if line.strip()])
            current.output_lines += _output_lines(cell)
            current.run_s += _run_seconds(cell)
            current.exercises += "exercise" in _tags(cell)
    return found


def report(path: Path) -> tuple[float, float]:
    """Print the table of one lab; return its (core, optional) minutes."""
    started = time.perf_counter()
    parts = sections(execute(path))
    wall = time.perf_counter() - started
    print(f"\n### {path.name}  (executed in {wall:.1f} s, kernel start included)\n")
    print("| section | words | code lines | output lines | predict | exercise | run (s) "
          "| minutes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for s in parts:
        print(f"| {s.title}{' *(optional)*' if s.optional and 'Optional' not in s.title else ''}"
              f" | {s.words} | {s.code_lines} | {s.output_lines} | {s.predicts} | "
              f"{s.exercises} | {s.run_s:.1f} | {s.minutes:.1f} |")
    core = sum(s.minutes for s in parts if not s.optional)
    optional = sum(s.minutes for s in parts if s.optional)
    print(f"\ncore path: {core:.0f} min; optional sections: {optional:.0f} min")
    return core, optional


def main(argv: list[str]) -> int:
    """Print the timings of the labs named in ``argv`` (all labs by default)."""
    labs = [NOTEBOOKS / a for a in argv] if argv else sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    print(f"Rates: prose {WORDS_PER_MINUTE} words/min, code {SECONDS_PER_CODE_LINE} s/line, "
          f"output {SECONDS_PER_OUTPUT_LINE} s/line (figure = {FIGURE_OUTPUT_LINES} lines), "
          f"{PREDICT_MINUTES:g} min per Predict, {EXERCISE_MINUTES:g} min per exercise, "
          "plus measured run time.")
    totals = {path.name: report(path) for path in labs}
    print("\n| lab | core path (min) | optional (min) |\n|---|---:|---:|")
    for name, (core, optional) in totals.items():
        print(f"| {name} | {core:.0f} | {optional:.0f} |")
    core = sum(c for c, _ in totals.values())
    optional = sum(o for _, o in totals.values())
    print(f"| all labs | {core:.0f} | {optional:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

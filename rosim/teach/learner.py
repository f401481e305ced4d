"""The learner's copy of the labs: outputs cleared, solutions folded, no test plumbing.

The notebooks in ``notebooks/`` are committed with their outputs, because
the test suite compares them (nbval). A learner must not see those outputs
before running a cell: every *Predict* question would show its answer. So
learners work in a copy made by :func:`make_learner_copy` (``make lab`` and
``make reset-lab`` call it; on JupyterHub or Binder run
``python -m rosim.teach.learner notebooks lab``):

* every code cell loses its outputs and execution count;
* the notebook loses saved widget state;
* cells keep their tags, except the test suite's ``nbval-*`` tags;
* solution cells stay folded (a closed ``<details>`` block);
* only notebooks and markdown pages are copied (no test configuration).

An existing copy is never overwritten, because it holds the learner's
work; ``reset=True`` moves it aside to ``<dest>.previous`` (replacing an
older one there) and makes a fresh copy.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rosim._errors import ConfigError

__all__ = ["learner_notebook", "main", "make_learner_copy"]

#: Files of the labs' folder that learners get.
COPIED = ("*.ipynb", "*.md")
_TEST_TAG_PREFIX = "nbval-"


def learner_notebook(notebook: dict[str, Any]) -> dict[str, Any]:
    """The learner's version of one notebook (a parsed ``.ipynb``), as a new dict.

    >>> nb = {"cells": [{"cell_type": "code", "execution_count": 3, "source": "1",
    ...                  "metadata": {"tags": ["nbval-ignore-output", "exercise"]},
    ...                  "outputs": [{"output_type": "stream", "text": "1"}]}],
    ...       "metadata": {"widgets": {}}}
    >>> cell = learner_notebook(nb)["cells"][0]
    >>> cell["outputs"], cell["execution_count"], cell["metadata"]
    ([], None, {'tags': ['exercise']})
    """
    copy = json.loads(json.dumps(notebook))
    copy.get("metadata", {}).pop("widgets", None)
    for cell in copy.get("cells", []):
        metadata = cell.setdefault("metadata", {})
        tags = [t for t in metadata.get("tags", []) if not t.startswith(_TEST_TAG_PREFIX)]
        if tags:
            metadata["tags"] = tags
        else:
            metadata.pop("tags", None)
        metadata.pop("execution", None)
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return copy


def make_learner_copy(source: str | Path, dest: str | Path, *, reset: bool = False) -> Path:
    """Copy the labs in ``source`` to ``dest`` for a learner; return ``dest``.

    Leaves an existing ``dest`` alone unless ``reset``, which first moves it
    to ``<dest>.previous``. Raises :class:`~rosim.ConfigError` when
    ``source`` holds no notebook or ``dest`` is inside ``source``.
    """
    source, dest = Path(source).resolve(), Path(dest).resolve()
    notebooks = sorted(source.glob("*.ipynb")) if source.is_dir() else []
    if not notebooks:
        raise ConfigError(f"source(={str(source)!r}) must be a folder of notebooks.")
    if dest == source or source in dest.parents:
        raise ConfigError(f"dest(={str(dest)!r}) must not be inside the labs' folder "
                          f"{str(source)!r}.")
    if dest.exists():
        if not reset:
            return dest
        previous = dest.with_name(dest.name + ".previous")
        if previous.exists():
            shutil.rmtree(previous)
        dest.rename(previous)
    dest.mkdir(parents=True)
    for pattern in COPIED:
        for path in sorted(source.glob(pattern)):
            if path.suffix == ".ipynb":
                notebook = json.loads(path.read_text(encoding="utf-8"))
                text = json.dumps(learner_notebook(notebook), indent=1, ensure_ascii=False)
                (dest / path.name).write_text(text + "\n", encoding="utf-8")
            else:
                shutil.copyfile(path, dest / path.name)
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m rosim.teach.learner [--reset] SOURCE DEST``: make the learner's copy."""
    parser = argparse.ArgumentParser(
        prog="python -m rosim.teach.learner",
        description="Copy the labs for a learner: outputs cleared, solutions folded.")
    parser.add_argument("source", help="the labs' folder (notebooks/)")
    parser.add_argument("dest", help="the learner's copy (lab/)")
    parser.add_argument("--reset", action="store_true",
                        help="replace an existing copy (the old one goes to DEST.previous)")
    args = parser.parse_args(argv)
    existed = Path(args.dest).exists()
    try:
        dest = make_learner_copy(args.source, args.dest, reset=args.reset)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if existed and not args.reset:
        print(f"{dest} exists: keeping your work (make reset-lab gives a fresh copy)")
    elif existed:
        print(f"fresh copy in {dest}; your previous copy is in {dest}.previous")
    else:
        print(f"learner's copy in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

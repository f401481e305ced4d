"""End to end: typing into the terminal widget in JupyterLab.

Starts JupyterLab (localhost, token auth, its own temporary directory) on a
notebook whose one cell shows ``rosim.terminal(ctr)`` for Fedora under
``crio --read-only``; in headless Chromium the test runs it, types
``dnf install nc`` into the prompt line, presses Enter and reads
``Config error: Read-only file system: '/var/log/dnf.log'`` back from the
page; then recalls the command with ↑ and types a loop over two lines (the
prompt shows ``> `` in between).

The server and browser helpers are those of ``tests/test_lab_browser.py``;
like it, this test skips without Chromium and playwright, and fails instead
with ``ROSIM_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_lab_browser import (
    CHROMIUM_ARGS,
    WAIT_MS,
    _browser_or_skip,
    _start_session,
    running_lab,
)

pytestmark = pytest.mark.browser

NOTEBOOK = "terminal.ipynb"
CODE = ("import rosim\n"
        "ctr = rosim.run_container('fedora', runtime='cri-o', read_only=True, name='web')\n"
        "rosim.terminal(ctr)")
EROFS_LINE = "Config error: Read-only file system: '/var/log/dnf.log'"


def _write_notebook(path: Path) -> None:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "terminal",
                   "metadata": {}, "outputs": [], "source": CODE}],
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                    "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1))


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on a folder holding only the terminal notebook."""
    _browser_or_skip()
    tmp_path = tmp_path_factory.mktemp("terminal-lab")
    root = tmp_path / "notebooks"
    root.mkdir()
    _write_notebook(root / NOTEBOOK)
    yield from running_lab(tmp_path, root)


def test_typing_into_the_terminal_widget(lab: tuple[str, str], tmp_path: Path) -> None:
    """Type dnf install nc, press Enter, read the EROFS line; ↑ recalls; '> ' continues."""
    from playwright.sync_api import expect, sync_playwright

    base, token = lab
    _start_session(base, token, NOTEBOOK)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_browser_or_skip(), headless=True,
                                    args=CHROMIUM_ARGS, timeout=WAIT_MS)
        page: Any = None
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 1000})
            page.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?reset&token={token}", wait_until="load")
            expect(page.locator(".jp-NotebookPanel .jp-InputPrompt")).to_have_count(1)
            expect(page.locator("#jp-main-statusbar")).to_contain_text(re.compile(r"\| Idle"))
            page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

            terminal = page.locator(".rosim-terminal-widget")
            expect(terminal).to_be_visible()
            expect(terminal).to_contain_text("root read-only")
            line = terminal.locator(".rosim-line input[type=text]")
            prompt = terminal.locator(".rosim-prompt")
            expect(prompt).to_have_text("sh-4.4#")

            line.fill("dnf install nc")
            line.press("Enter")
            screen = terminal.locator(".rosim-terminal")
            expect(screen).to_contain_text("sh-4.4# dnf install nc")
            expect(screen).to_contain_text(EROFS_LINE)
            expect(line).to_have_value("")

            terminal.get_by_role("button", name="↑").click()
            expect(line).to_have_value("dnf install nc")

            line.fill("for i in 1 2; do")
            line.press("Enter")
            expect(prompt).to_have_text(">")
            line.fill("echo n=$i; done")
            line.press("Enter")
            expect(prompt).to_have_text("sh-4.4#")
            expect(screen).to_contain_text(re.compile(r"> echo n=\$i; done\s+n=1\s+n=2"))
        except Exception:
            if page is not None:
                page.screenshot(path=str(tmp_path / "failure.png"), full_page=True,
                                timeout=10_000)
            raise
        finally:
            browser.close()

"""End to end: the labs work in a real browser.

Starts one JupyterLab server on a learner's copy of ``notebooks/`` (made
like ``make lab`` makes it: outputs cleared; localhost, a port the OS picks,
token auth) and, in headless Chromium at a 1366 × 1000 window:

* opens **every** notebook, runs it from the Run menu and checks that every
  code cell ran, that no cell shows an error (or anything on stderr), that
  no figure is shrunk to fit or wider than the notebook column, and that
  every widget fits a 1000-px screen;
* exercises every widget the labs show: each dropdown, toggle button,
  checkbox, button and slider is operated in turn, and the widget must show
  something new after each (the attack panel must also clear its verdict
  when an input changes);
* opens a small notebook with ``rosim.data_loss_explorer()`` and checks that
  the page shows exactly what rosim computes for the chosen settings.

Screenshots of every notebook, each widget and each figure are saved under
``artifacts/screenshots/`` (git-ignored; CI keeps it as an artifact for
review): ``<notebook>--page.png`` after the run, ``<notebook>--NN-<kind>.png``
for each figure and widget.

Needs Chromium (``/usr/bin/chromium``, Debian package ``chromium``) and the
``playwright`` package (dev extra); Playwright's own browser download is not
used. Without them the test skips; with ``ROSIM_REQUIRE_BROWSER=1`` (set by
``.ci/run`` as root) it fails instead. On a failure the test's temporary
directory keeps ``jupyterlab.log``, and ``artifacts/screenshots/`` a
screenshot of the failing page.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import rosim
from rosim.teach.dataloss_views import _DEFAULT_EVENTS, loss_summary
from rosim.teach.learner import make_learner_copy

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_ENV = "ROSIM_REQUIRE_BROWSER"
SKIP_REASON = "chromium or playwright not available"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
NOTEBOOK = "browser_explorer.ipynb"
LABS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
VIEWPORT = {"width": 1366, "height": 1000}
#: The tallest a widget may be, controls and figure together, on a 1000-px screen.
MAX_WIDGET_HEIGHT = 900
#: The notebook on show (JupyterLab keeps other open notebooks in hidden panels).
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
CODE = "import rosim\nw = rosim.data_loss_explorer()\nw"
SERVER_START_S = 60
WAIT_MS = 60_000


def _browser_or_skip() -> str:
    """The Chromium executable; skips (or fails, when required) if it or playwright is missing."""
    chromium = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        chromium = None
    if chromium:
        return chromium
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{SKIP_REASON}; {REQUIRE_ENV}=1 makes the browser test mandatory",
                    pytrace=False)
    pytest.skip(SKIP_REASON)


def _expected_summary(logs: str, data: str) -> str:
    """The text the explorer's summary shows for these settings (default events)."""
    story = rosim.run_app_story(logs, data, list(_DEFAULT_EVENTS), requests=10)
    return f"{sum(story.lost.values())} records lost. {loss_summary(story)}"


def _write_notebook(path: Path) -> None:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "explorer",
                   "metadata": {}, "outputs": [], "source": CODE}],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                           "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1))


def _lab_env(tmp: Path) -> dict[str, str]:
    """Environment for the server: Jupyter config, runtime and settings kept under ``tmp``."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)
    dirs = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime", "IPYTHONDIR": "ipython",
            "JUPYTERLAB_SETTINGS_DIR": "settings", "JUPYTERLAB_WORKSPACES_DIR": "workspaces"}
    for name, sub in dirs.items():
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[name] = str(tmp / sub)
    settings = {
        # No news or update toasts over the page.
        ("apputils-extension", "notification"): {"fetchNews": "false",
                                                 "checkForUpdates": False},
        # Never ask which kernel to start: the notebook names python3. Attach
        # every cell to the page, so that every output can be checked.
        ("notebook-extension", "tracker"): {"autoStartDefaultKernel": True,
                                            "windowingMode": "none"},
    }
    for (extension, plugin), values in settings.items():
        folder = tmp / "settings" / "@jupyterlab" / extension
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))
    return env


def _log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _api(base: str, token: str, path: str, body: dict | None = None) -> dict:
    """GET (or, with ``body``, POST) a Jupyter server REST endpoint and decode its JSON."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=data, headers={
        "Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def _start_session(base: str, token: str, path: str) -> None:
    """Start the notebook's session with a python3 kernel.

    The page then connects to this session's kernel instead of starting (or
    asking for) one itself.
    """
    session = _api(base, token, "/api/sessions", {
        "path": path, "name": path, "type": "notebook", "kernel": {"name": "python3"}})
    assert session["kernel"]["name"] == "python3", session


def _wait_for_server(proc: subprocess.Popen, runtime: Path, token: str, log: Path) -> str:
    """Base URL of the server once it answers /api/status; fails after SERVER_START_S."""
    deadline = time.monotonic() + SERVER_START_S
    info = runtime / f"jpserver-{proc.pid}.json"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{_log_tail(log)}")
        try:
            base = f"http://127.0.0.1:{json.loads(info.read_text())['port']}"
            _api(base, token, "/api/status")
            return base
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n{_log_tail(log)}")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server and its kernels (its own process group)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def running_lab(tmp_path: Path, root: Path) -> Iterator[tuple[str, str]]:
    """Run JupyterLab on ``root`` (state under ``tmp_path``); yield (URL, token), then stop it."""
    env = _lab_env(tmp_path / "jupyter")
    token = secrets.token_hex(24)
    log = tmp_path / "jupyterlab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab",
             "--ServerApp.open_browser=False", "--ServerApp.ip=127.0.0.1",
             "--ServerApp.port=0", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
             f"--notebook-dir={root}",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield _wait_for_server(proc, Path(env["JUPYTER_RUNTIME_DIR"]), token, log), token
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on a learner's copy of notebooks/ plus the test notebook."""
    _browser_or_skip()
    tmp_path = tmp_path_factory.mktemp("lab")
    root = make_learner_copy(ROOT / "notebooks", tmp_path / "notebooks")
    _write_notebook(root / NOTEBOOK)
    yield from running_lab(tmp_path, root)


@pytest.fixture(scope="module")
def browser(lab: tuple[str, str]) -> Iterator[Any]:
    """Headless Chromium, shared by the tests of this module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=_browser_or_skip(), headless=True,
                                     args=CHROMIUM_ARGS, timeout=WAIT_MS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def _opened(browser: Any, lab: tuple[str, str], path: str) -> Iterator[Any]:
    """A page with notebook ``path`` open, connected to its idle kernel.

    On a failure, saves a screenshot of the page as ``<path>--failure.png``.
    """
    from playwright.sync_api import expect

    base, token = lab
    _start_session(base, token, path)
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    try:
        for _attempt in range(3):
            page.goto(f"{base}/lab/tree/{path}?reset&token={token}", wait_until="load")
            expect(page.locator(f"{PANEL} .jp-Cell").first).to_be_visible()
            # On a loaded machine the theme's stylesheet can time out: the page
            # then has no layout to measure. Load it again.
            if not page.get_by_text("Error Loading Theme").count():
                break
        # The status bar says "Idle" only once the kernel is connected; a run
        # started before that silently does nothing.
        expect(page.locator("#jp-main-statusbar")).to_contain_text(re.compile(r"\| Idle"))
        yield page
    except Exception:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(SCREENSHOTS / f"{Path(path).stem}--failure.png"),
                            timeout=10_000)
        raise
    finally:
        page.close()


def _code_cells(name: str) -> int:
    """How many non-empty code cells notebook ``name`` has."""
    path = ROOT / "notebooks" / name
    if not path.exists():
        return 1
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return sum(1 for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip())


def _run_all(page: Any, name: str) -> None:
    """Run All Cells from the Run menu; return once every code cell has run."""
    from playwright.sync_api import expect

    count = _code_cells(name)
    prompts = page.locator(f"{PANEL} .jp-CodeCell .jp-InputPrompt")
    expect(prompts).to_have_count(count)
    page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    if count:
        done = prompts.filter(has_text=re.compile(r"\[\d+\]:"))
        expect(done).to_have_count(count, timeout=4 * WAIT_MS)


#: What the page measures: code cells that did not run, stderr/error outputs,
#: images shrunk or sticking out of their output area, over-wide or too tall widgets.
_MEASURE = """
() => {
  const out = {unrun: 0, errors: [], images: [], widgets: [], column: 0};
  const panel = '.jp-NotebookPanel:not(.lm-mod-hidden)';
  const prompts = panel + ' .jp-CodeCell .jp-InputPrompt';
  for (const prompt of document.querySelectorAll(prompts)) {
    if (!/\\[\\d+\\]:/.test(prompt.textContent)) out.unrun += 1;
  }
  const stderr = '[data-mime-type="application/vnd.jupyter.stderr"]';
  for (const err of document.querySelectorAll(panel + ' .jp-OutputArea-output' + stderr)) {
    out.errors.push(err.textContent.slice(0, 300));
  }
  for (const area of document.querySelectorAll(panel + ' .jp-OutputArea-output')) {
    const box = area.getBoundingClientRect();
    out.column = Math.max(out.column, box.width);
    for (const img of area.querySelectorAll('img')) {
      const r = img.getBoundingClientRect();
      out.images.push({natural: img.naturalWidth, shown: r.width, right: r.right,
                       columnRight: box.right});
    }
    for (const w of area.querySelectorAll(':scope > .jupyter-widgets, :scope .widget-vbox')) {
      const r = w.getBoundingClientRect();
      out.widgets.push({width: w.scrollWidth, shown: r.width, height: r.height,
                        right: r.right, columnRight: box.right});
    }
  }
  return out;
}
"""


def _check_layout(page: Any, name: str) -> dict:
    """Every cell ran, no error output, figures at their natural size inside the column."""
    found = page.evaluate(_MEASURE)
    assert found["unrun"] == 0, f"{name}: {found['unrun']} code cells did not run"
    assert found["errors"] == [], f"{name}: error output: {found['errors']}"
    for img in found["images"]:
        assert img["natural"] <= img["shown"] + 1, f"{name}: figure shrunk to fit: {img}"
        assert img["right"] <= img["columnRight"] + 1, f"{name}: figure wider than column: {img}"
    for widget in found["widgets"]:
        # (A few pixels of margin overflow do not show a scroll bar.)
        assert widget["width"] <= widget["shown"] + 8, f"{name}: widget scrolls sideways: {widget}"
        assert widget["right"] <= widget["columnRight"] + 1, f"{name}: widget too wide: {widget}"
        assert widget["height"] <= MAX_WIDGET_HEIGHT, f"{name}: widget too tall: {widget}"
    return found


def _snapshot(widget: Any) -> str:
    """What a widget shows: its text and the sources of its images."""
    return widget.evaluate("""w => w.innerText + [...w.querySelectorAll('img')].map(i => {
        let h = 0;
        for (let k = 0; k < i.src.length; k++) h = (h * 31 + i.src.charCodeAt(k)) | 0;
        return h;
    }).join() + [...w.querySelectorAll('input[type=text], textarea')].map(i => i.value).join()""")


def _changes(widget: Any, before: str, what: str) -> str:
    """Wait until the widget shows something other than ``before``; return it."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        now = _snapshot(widget)
        if now != before and "updating..." not in now:  # the quota explorer's debounce
            return now
        time.sleep(0.2)
    raise AssertionError(f"the widget did not change after {what}")


def _exercise_widget(page: Any, widget: Any, name: str) -> int:
    """Operate every control of ``widget`` once; each must change what it shows."""
    operated = 0
    # A terminal: type a command and press Enter (its history then has a line
    # for the arrow buttons below).
    for line in widget.locator("input[type=text]").all():
        before = _snapshot(widget)
        line.fill("echo typed in the browser")
        line.press("Enter")
        _changes(widget, before, "a command typed and Enter")
        operated += 1
    for select in widget.locator("select").all():
        before = _snapshot(widget)
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.options[s.selectedIndex].text")
        select.select_option(label=next(o for o in reversed(options) if o != current))
        after = _changes(widget, before, "choosing in a dropdown")
        if widget.get_by_role("button", name="Run the attack").count():
            assert "press Run the attack" in after, f"{name}: stale verdict kept"
            before = after
            widget.get_by_role("button", name="Run the attack").click()
            _changes(widget, before, "Run the attack")
        operated += 1
    # The attack panel's Run button was pressed above; a toggle group's active
    # button is already in effect.
    buttons = widget.locator("button:not([disabled])").filter(has_not_text="Run the attack")
    for button in buttons.all():
        if button.evaluate("b => b.classList.contains('mod-active') && "
                           "!!b.closest('.widget-toggle-buttons')"):
            continue
        before = _snapshot(widget)
        button.click()
        _changes(widget, before, f"clicking {button.inner_text()!r}")
        operated += 1
    for box in widget.locator("input[type=checkbox]").all():
        before = _snapshot(widget)
        box.click()
        _changes(widget, before, "a checkbox")
        operated += 1
    for slider in widget.locator(".widget-slider .noUi-handle").all():
        before = _snapshot(widget)
        slider.focus()
        for _ in range(3):
            page.keyboard.press("ArrowLeft")
        _changes(widget, before, "the slider")
        operated += 1
    return operated


@pytest.mark.parametrize("name", LABS)
def test_every_notebook_runs_in_the_browser(browser: Any, lab: tuple[str, str],
                                            name: str) -> None:
    """Run the notebook in JupyterLab: no error, figures fit the column, every widget works."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = Path(name).stem
    with _opened(browser, lab, name) as page:
        _run_all(page, name)
        page.wait_for_timeout(500)
        _check_layout(page, name)
        page.screenshot(path=str(SCREENSHOTS / f"{stem}--page.png"))
        shots = 0
        for img in page.locator(f"{PANEL} .jp-RenderedImage img").all():
            shots += 1
            img.screenshot(path=str(SCREENSHOTS / f"{stem}--{shots:02d}-figure.png"))
        widgets = page.locator(f"{PANEL} .jp-OutputArea-output > .jupyter-widgets")
        for widget in widgets.all():
            widget.scroll_into_view_if_needed()
            shots += 1
            widget.screenshot(path=str(SCREENSHOTS / f"{stem}--{shots:02d}-widget.png"))
            assert _exercise_widget(page, widget, name) > 0, f"{name}: a widget with no control"
            widget.screenshot(path=str(SCREENSHOTS / f"{stem}--{shots:02d}-widget-after.png"))
        _check_layout(page, name)


def test_data_loss_explorer_in_the_browser(browser: Any, lab: tuple[str, str]) -> None:
    """Run the notebook from the Run menu, then the dropdown and the fix button update the page."""
    from playwright.sync_api import expect

    initial = _expected_summary("layer", "layer")
    logs_to_stdout = _expected_summary("stdout", "layer")
    fixed = _expected_summary("stdout", "pvc")
    assert len({initial, logs_to_stdout, fixed}) == 3
    assert fixed.startswith("0 records lost.")

    with _opened(browser, lab, NOTEBOOK) as page:
        prompt = page.locator(f"{PANEL} .jp-InputPrompt")
        _run_all(page, NOTEBOOK)
        expect(prompt).to_have_text(re.compile(r"\[1\]:"))

        summary = page.locator(".jupyter-widgets.widget-html").first
        figure = page.locator(".jupyter-widgets.widget-output img")
        expect(summary).to_have_text(initial)
        expect(figure).to_have_count(1)
        expect(figure).to_be_visible()
        first_png = figure.get_attribute("src")
        assert first_png and first_png.startswith("data:image/png")

        page.get_by_role("combobox", name="logs").select_option(label="stdout (log collector)")
        expect(summary).to_have_text(logs_to_stdout)
        expect(figure).not_to_have_attribute("src", first_png)
        second_png = figure.get_attribute("src")

        page.get_by_role("button", name="apply the fix").click()
        expect(summary).to_have_text(fixed)
        expect(figure).not_to_have_attribute("src", second_png)
        expect(figure).to_have_count(1)
        expect(page.get_by_role("combobox", name="data")).to_have_value(
            "persistentVolumeClaim (network)")

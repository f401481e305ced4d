"""End to end: the lab works in a real browser.

Starts JupyterLab on a temporary copy of ``notebooks/`` (localhost, a port
the OS picks, token auth), opens a small notebook that shows
``rosim.data_loss_explorer()`` in headless Chromium, runs it from the Run
menu and drives the widget in the page: the summary with the count of lost
records and the figure must follow the dropdown and the fix button.

Needs Chromium (``/usr/bin/chromium``, Debian package ``chromium``) and the
``playwright`` package (dev extra); Playwright's own browser download is not
used. Without them the test skips; with ``ROSIM_REQUIRE_BROWSER=1`` (set by
``.ci/run`` as root) it fails instead. On a failure the test's temporary
directory keeps ``jupyterlab.log`` and a screenshot, ``failure.png``.
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

import pytest

import rosim
from rosim.teach.dataloss_views import _DEFAULT_EVENTS, loss_summary

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


@pytest.fixture
def chromium() -> str:
    """The Chromium executable (skips or fails first when it or playwright is missing)."""
    return _browser_or_skip()


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
        # Never ask which kernel to start: the notebook names python3.
        ("notebook-extension", "tracker"): {"autoStartDefaultKernel": True},
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


@pytest.fixture
def lab(chromium: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A JupyterLab server on a copy of notebooks/ plus the test notebook: (base URL, token)."""
    root = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", root,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    _write_notebook(root / NOTEBOOK)
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


def test_data_loss_explorer_in_the_browser(chromium: str, lab: tuple[str, str],
                                           tmp_path: Path) -> None:
    """Run the notebook from the Run menu, then the dropdown and the fix button update the page."""
    from playwright.sync_api import expect, sync_playwright

    base, token = lab
    _start_session(base, token, NOTEBOOK)
    initial = _expected_summary("layer", "layer")
    logs_to_stdout = _expected_summary("stdout", "layer")
    fixed = _expected_summary("stdout", "pvc")
    assert len({initial, logs_to_stdout, fixed}) == 3
    assert fixed.startswith("0 records lost.")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True,
                                    args=CHROMIUM_ARGS, timeout=WAIT_MS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            try:
                page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}",
                          wait_until="domcontentloaded")
                # The notebook is open and connected to its idle kernel. (The
                # status bar says so only once the kernel is connected; the
                # toolbar's indicator starts out "idle" before that, and a run
                # started then silently does nothing.)
                prompt = page.locator(".jp-NotebookPanel .jp-InputPrompt")
                expect(prompt).to_have_count(1)
                expect(page.locator("#jp-main-statusbar")).to_contain_text(
                    re.compile(r"\| Idle"))

                page.locator("#jp-MainMenu").get_by_text("Run", exact=True).click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
                expect(prompt).to_have_text(re.compile(r"\[1\]:"))

                summary = page.locator(".jupyter-widgets.widget-html").first
                figure = page.locator(".jupyter-widgets.widget-output img")
                expect(summary).to_have_text(initial)
                expect(figure).to_have_count(1)
                expect(figure).to_be_visible()
                first_png = figure.get_attribute("src")
                assert first_png and first_png.startswith("data:image/png")

                page.get_by_role("combobox", name="logs").select_option(
                    label="stdout (log collector)")
                expect(summary).to_have_text(logs_to_stdout)
                expect(figure).not_to_have_attribute("src", first_png)
                second_png = figure.get_attribute("src")

                page.get_by_role("button", name="apply the fix").click()
                expect(summary).to_have_text(fixed)
                expect(figure).not_to_have_attribute("src", second_png)
                expect(figure).to_have_count(1)
                expect(page.get_by_role("combobox", name="data")).to_have_value(
                    "persistentVolumeClaim (network)")
            except Exception:
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(tmp_path / "failure.png"), full_page=True,
                                    timeout=10_000)
                raise
        finally:
            browser.close()

"""The labs' widgets as the notebooks show them: default state, stale verdicts, debouncing.

These are the assertions the notebooks used to make in cells of their own;
a learner's notebook now only shows the widget.
"""

from __future__ import annotations

import asyncio

import rosim
from rosim.teach import quota_views


def test_attack_panel_as_lab_02_sets_it_blocks_ld_preload_under_podman():
    """ld.so.preload under podman --read-only, restart: the panel shows 'blocked'."""
    panel = rosim.AttackPanel()
    panel.technique.value = "ld-preload"
    panel.setting.value = "podman --read-only"
    panel.event.value = "restart"
    panel.button.click()
    assert panel.result.outcome is rosim.BackdoorOutcome.BLOCKED
    assert "blocked" in panel.outcome.value
    text = panel._repr_mimebundle_()["text/plain"]
    assert text.startswith("Attack panel: T1574.006") and "blocked" in text


def test_attack_panel_clears_a_stale_verdict_when_an_input_changes():
    """Changing the technique, setting or event forgets the attack shown."""
    panel = rosim.AttackPanel()
    assert panel.result is None and "press Run the attack" in panel.outcome.value
    for control, value in ((panel.setting, "crio --read-only"), (panel.event, "recreate"),
                           (panel.technique, "drop-tmp")):
        panel.button.click()
        assert panel.result is not None and panel.transcript.value
        control.value = value
        assert panel.result is None and panel.transcript.value == ""
        assert "press Run the attack" in panel.outcome.value


def test_data_loss_explorer_defaults_match_run_app_story():
    """The explorer of lab 03 shows exactly what run_app_story returns for its settings."""
    explorer = rosim.data_loss_explorer()
    assert explorer.story == rosim.run_app_story(logs="layer", data="layer")
    assert explorer.chosen_events == ["crash", "reschedule", "node-failure"]
    assert explorer.lost == 60
    text = explorer._repr_mimebundle_()["text/plain"]
    assert text.startswith("Data-loss explorer: logs on layer, data on layer")
    assert "60 of" not in text and "Lost: 30 of 30 log lines" in text


def test_quota_explorer_defaults_match_quota_case():
    """The explorer of lab 04 shows exactly what quota_case returns for its settings."""
    explorer = rosim.quota_explorer()
    assert explorer.result == rosim.quota_case("20Gi", "layer", [])
    assert explorer.chosen_protections == []
    assert rosim.quota_summary(explorer.result) == (
        "Harmed: tenant-a (Evicted); tenant-b (Evicted); tenant-c (ENOSPC).")
    assert "Quota explorer: tenant-a writes 20 GiB" in explorer._repr_mimebundle_()["text/plain"]


def test_quota_explorer_debounces_slider_steps_in_a_running_loop(monkeypatch):
    """Five quick slider steps in a kernel's event loop run the case once, with the last value."""
    explorer = rosim.quota_explorer()
    calls = []
    real = quota_views.quota_case
    monkeypatch.setattr(quota_views, "quota_case",
                        lambda *args: calls.append(args) or real(*args))
    monkeypatch.setattr(quota_views, "DEBOUNCE_S", 0.05)

    async def steps():
        for value in (19, 18, 17, 16, 15):
            explorer.writes.value = value
        assert calls == [] and "updating" in explorer.summary.value
        await asyncio.sleep(0.3)

    asyncio.run(steps())
    assert calls == [("15Gi", "layer", [])]
    assert explorer.result == real("15Gi", "layer", [])


def test_backdoor_viewer_draws_one_event_at_a_time():
    """The dropdown picks the event; one grid, no wider than the column."""
    table = rosim.backdoor_table(["app-binary", "drop-tmp"],
                                 settings=["read-write", "crio --read-only"])
    viewer = rosim.backdoor_viewer(table)
    assert [ax.get_title() for ax in viewer.figure.axes] == [f"after: {table.events[0]}"]
    viewer.event.value = "recreate"
    assert [ax.get_title() for ax in viewer.figure.axes] == ["after: recreate"]
    assert viewer.figure.get_size_inches()[0] <= 9.0


def test_data_loss_explorer_plays_a_node_failure_after_the_pod_went_pending():
    """A node failure after a drain left the pod Pending hits the node it last ran on.

    The local volume pins the pod to its drained node; the summary says how the
    story ends, never a traceback.
    """
    explorer = rosim.data_loss_explorer()
    explorer.logs.value, explorer.data.value = "stdout", "pvc-local"
    for event in ("crash", "reschedule", "drain"):
        explorer.events[event].value = not explorer.events[event].value
    assert explorer.chosen_events == ["drain", "node-failure"]
    assert "cannot be played" not in explorer.summary.value
    assert explorer.summary.value.endswith("The pod ends Pending.")
    explorer.events["node-failure"].value = False
    assert explorer.summary.value.startswith("<b>")
    assert "cannot be played" not in explorer.summary.value

"""Views of Scenario 4: the usage bars, the available-space time series and the explorer."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

import rosim  # noqa: E402

GiB = 1024**3


@pytest.fixture(scope="module")
def fixes():
    """The story without protection and with each fix."""
    return rosim.compare_quota_fixes()


def test_usage_bars_one_per_case_with_quota_and_limit_marks(fixes):
    """A stacked bar per case, labelled with outcomes; quota and limit ticks in black."""
    fig = rosim.plot_quota_usage(fixes)
    ax = fig.axes[0]
    assert ax.get_title() == "The node's disk at its fullest, by tenant and storage kind"
    assert ax.get_ylabel() == "bytes on the node's disk (GiB)"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert len(labels) == 5
    assert labels[0].startswith("no protection\n\ntenant-a: Evicted\n(PVC 0B/1G)")
    assert "tenant-a: ENOSPC\n(PVC 1G/1G)" in labels[2]
    marks = {(line.get_linestyle(), round(line.get_ydata()[0], 2)) for line in ax.lines
             if line.get_color() == "black"}
    # A's segment starts on the 0.5 GiB image: its quota tick 1 GiB above that, its limit 4.
    assert ("-", 1.5) in marks and ("--", 4.5) in marks
    assert [t.get_text() for t in ax.texts] == ["10G", "1.7G", "1.7G", "6.7G", "5.7G"]
    assert fig.number not in plt.get_fignums()


def test_usage_bars_segments_follow_the_peak_sample(fixes):
    """The no-protection bar at its fullest (50 s) stacks the image, A's 9.3 GiB layer and
    C's emptyDir: B was evicted at 40 s, under DiskPressure, and has no segment."""
    fig = rosim.plot_quota_usage(fixes.run("no protection"), title="peak")
    bars = [p for p in fig.axes[0].patches if p.get_x() < 0.5]
    heights = [round(p.get_height() * 1024) for p in bars]
    assert heights == [512, 9528, 200]
    assert [p.get_hatch() or "" for p in bars] == ["xx", "", "//"]
    assert fig.axes[0].get_title() == "peak"


def test_node_space_lines_threshold_and_evictions(fixes):
    """One line per case, the threshold met first (imagefs.available<15%: 1.5 GiB of
    10 GiB), a triangle per eviction moment."""
    fig = rosim.plot_node_space(fixes)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "time (s); the kubelet checks every 10 s"
    notes = sorted(t.get_text() for t in ax.texts)
    assert notes == ["evicted: tenant-a", "evicted: tenant-a", "evicted: tenant-b"]
    first = ax.lines[0]
    assert list(first.get_xdata()[:3]) == [0.0, 10.0, 10.0]
    assert first.get_ydata()[0] == 9.5, "the image's 512 MiB are there from the start"
    assert min(first.get_ydata()) == 0.0
    threshold = [line for line in ax.lines if line.get_linestyle() == ":"
                 and line.get_color() == "#999999"]
    assert threshold[0].get_ydata()[0] == pytest.approx(1.5)
    assert fig.number not in plt.get_fignums()


def test_views_refuse_what_is_not_a_run():
    """Anything but runs is a ConfigError naming the argument."""
    with pytest.raises(rosim.ConfigError, match="runs"):
        rosim.plot_node_space([])
    with pytest.raises(rosim.ConfigError, match="runs"):
        rosim.plot_quota_usage(["no protection"])


def test_quota_summary():
    """Names the harmed tenants, or says nobody was."""
    assert rosim.quota_summary(rosim.quota_case("20Gi", "pvc", ["readOnlyRootFilesystem"])) == (
        "Harmed: tenant-a (ENOSPC).")


def test_explorer_reruns_the_case_on_every_change():
    """Setting .value reruns quota_case and redraws: the table, the figure, the result."""
    explorer = rosim.quota_explorer()
    assert [t.outcome.value for t in explorer.result.tenants] == ["Evicted", "Evicted",
                                                                   "ENOSPC"]
    assert explorer.summary.value.startswith(
        "<p><b>Harmed: tenant-a (Evicted); tenant-b (Evicted); tenant-c (ENOSPC).</b></p>")
    assert explorer.image.value[:4] == b"\x89PNG"
    explorer.protections["readOnlyRootFilesystem"].value = True
    explorer.where.value = "pvc"
    assert explorer.chosen_protections == ["readOnlyRootFilesystem"]
    assert explorer.result.label == "readOnlyRootFilesystem, cache on the PVC"
    assert explorer.result.harmed == ("tenant-a",)
    explorer.writes.value = 1
    assert explorer.result.harmed == ()
    assert "Nobody was harmed" in explorer.summary.value
    assert explorer.figure.axes[0].get_title() == (
        "The node's available space while the tenants write")


def test_explorer_starts_from_given_settings():
    """The factory's arguments become the controls' values."""
    explorer = rosim.QuotaExplorer(5, "layer", ["overlay.size"])
    assert (explorer.writes.value, explorer.where.value) == (5, "layer")
    assert explorer.protections["overlay.size"].value
    assert explorer.result.overlay_size == 4 * GiB
    assert explorer.result.tenant("tenant-a").written == 4 * GiB
    assert explorer._repr_mimebundle_()["text/plain"] == (
        "Quota explorer: tenant-a writes 5 GiB to its layer; Harmed: tenant-a (ENOSPC).")

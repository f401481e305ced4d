"""Exercise checks: right answers pass; near misses, placeholders and junk get a hint."""

from __future__ import annotations

import pytest

import rosim
from rosim.teach.exercises import (
    Verdict,
    check_app_mounts,
    check_inventory_mounts,
    check_no_loss,
    check_shop_hardening,
    check_tenant_a,
)

LOG_VOLUME = "/var/lib/kubelet/pods/redhat-test-crio/volumes/kubernetes.io~empty-dir/dnf-logs"
JUNK = [None, 3, "x", b"/var/log", {"a": 1}, [None], [3.5], object(), ["/var/log/app"]]


def app():
    """The service of lab 00: a log under /var/log/app, a cache file under /var/cache/app."""
    import logging
    import os
    os.makedirs("/var/log/app", exist_ok=True)
    os.makedirs("/var/cache/app", exist_ok=True)
    log = logging.getLogger("app")
    handler = logging.FileHandler("/var/log/app/app.log")
    log.addHandler(handler)
    log.warning("app started")
    log.removeHandler(handler)
    handler.close()
    with open("/var/cache/app/index.json", "w") as f:
        f.write('{"pages": 3}\n')


def _fails_with_hint(verdict, *words):
    """The verdict is a FAIL whose text has a hint and mentions ``words``."""
    assert isinstance(verdict, Verdict)
    text = str(verdict)
    assert not verdict.passed, text
    assert text.startswith("FAIL: ")
    assert "\nHint: " in text and verdict.hint, text
    assert "Traceback" not in text
    for word in words:
        assert word in text, (word, text)


def test_verdict_prints_pass_or_fail_and_the_first_hint():
    """str() is the status line, then the first hint only, then the notes."""
    assert str(Verdict(True, "ok", notes=("n",))) == "PASS: ok\nNote: n"
    assert str(Verdict(False, "no", ("h1", "h2"))) == "FAIL: no\nHint: h1"
    assert Verdict(True, "ok").hint == ""


def test_app_mounts_right_answer_passes():
    """A volume for the log and a tmpfs for the cache pass lab 00."""
    mounts = [rosim.Bind(rosim.Volume("app-logs"), "/var/log/app"),
              rosim.Tmpfs("/var/cache/app", size="16m")]
    verdict = check_app_mounts(mounts, app)
    assert verdict.passed, str(verdict)
    assert str(verdict).startswith("PASS: ")
    assert check_app_mounts(tuple(mounts), app).passed


@pytest.mark.parametrize(("mounts", "words"), [
    (..., ["placeholder", "rosim.Tmpfs"]),
    ([], ["Read-only file system", "/var/log/app"]),
    ([rosim.Tmpfs("/var/log/app"), rosim.Tmpfs("/var/cache/app")], ["gone after a restart",
                                                                      "volume"]),
    ([rosim.Tmpfs("/var/log/app")], ["/var/cache/app"]),
    ([rosim.Tmpfs("/var")], ["hides"]),
    ([rosim.Bind(rosim.Volume("v"), "/var/log")], ["hides"]),
    (["/var/log/app"], ["not a mount", "path alone"]),
])
def test_app_mounts_near_misses_get_hints(mounts, words):
    """Placeholder, no mounts, tmpfs only, a parent mount, a bare path: FAIL and a hint."""
    _fails_with_hint(check_app_mounts(mounts, app), *words)


@pytest.mark.parametrize("junk", JUNK)
def test_app_mounts_junk_gets_a_hint(junk):
    """Anything that is not a list of mounts gets a hint, never an exception."""
    _fails_with_hint(check_app_mounts(junk, app))


def test_app_mounts_program_that_raises_gets_a_hint():
    """A program that raises something else than OSError is reported, not raised."""
    def broken():
        raise ValueError("boom")
    _fails_with_hint(check_app_mounts([rosim.Tmpfs("/var/log/app")], broken), "boom")


def test_inventory_mounts_right_answer_passes():
    """A writable mount at /var/log passes lab 01."""
    mounts = [{"container_path": "/var/log", "host_path": LOG_VOLUME, "readonly": False}]
    assert check_inventory_mounts(mounts).passed


@pytest.mark.parametrize(("mounts", "words"), [
    (..., ["placeholder"]),
    ([], ["/var/log/dnf.log", '"readonly": False']),
    ([{"container_path": "/var", "host_path": LOG_VOLUME, "readonly": False}], ["RPM database"]),
    ([{"container_path": "/var/log", "host_path": LOG_VOLUME, "readonly": True}],
     ["readonly", "True"]),
    ([{"container_path": "/var/log"}], ["host_path"]),
    ([{"container_path": 3, "host_path": None}], ["container_path"]),
])
def test_inventory_mounts_near_misses_get_hints(mounts, words):
    """Placeholder, no mounts, a parent, a read-only mount, missing fields: FAIL and a hint."""
    _fails_with_hint(check_inventory_mounts(mounts), *words)


@pytest.mark.parametrize("junk", JUNK)
def test_inventory_mounts_junk_gets_a_hint(junk):
    """Anything that is not a list of CRI mounts gets a hint, never an exception."""
    _fails_with_hint(check_inventory_mounts(junk))


def test_no_loss_right_answer_passes():
    """Logs on stdout and data on a network PVC pass lab 03."""
    assert check_no_loss("stdout", "pvc").passed


@pytest.mark.parametrize(("logs", "data", "words"), [
    (..., ..., ["LOGS", "placeholder"]),
    ("stdout", ..., ["DATA", "placeholder"]),
    ("emptyDir", "hostPath", ["Lost", "outlives a node"]),
    ("layer", "layer", ["CrashLoopBackOff", "volumes and stdout"]),
    ("stdout", "pvc-local", ["Lost", "outlives a node"]),
    ("stdout", "stdout", ["DATA"]),
    ("StdOut", "pvc", ["not a storage kind", '"stdout"']),
])
def test_no_loss_near_misses_get_hints(logs, data, words):
    """Placeholders, storage that dies with the node, a wrong spelling: FAIL and a hint."""
    _fails_with_hint(check_no_loss(logs, data), *words)


@pytest.mark.parametrize("junk", JUNK)
def test_no_loss_junk_gets_a_hint(junk):
    """Anything that is not a storage kind gets a hint, never an exception."""
    _fails_with_hint(check_no_loss(junk, "pvc"))
    _fails_with_hint(check_no_loss("stdout", junk))


def test_shop_hardening_right_answer_passes():
    """CRI-O's noexec tmpfs and a read-only plugin directory pass lab 02."""
    hardened = rosim.BackdoorSetting(
        "hardened shop", "cri-o", read_only=True,
        mounts=(rosim.Bind(rosim.Volume("plugins"), "/app/data/plugins", read_only=True),))
    assert check_shop_hardening(hardened).passed


@pytest.mark.parametrize(("setting", "words"), [
    (..., ["placeholder"]),
    ("readOnlyRootFilesystem + emptyDir /tmp", ["T1105", "T1505"]),
    ("no such setting", []),
])
def test_shop_hardening_near_misses_get_hints(setting, words):
    """Placeholder, the team's set-up, an unknown label: FAIL and a hint."""
    _fails_with_hint(check_shop_hardening(setting), *words)


@pytest.mark.parametrize("junk", [None, 3, [1], {"a": 1}])
def test_shop_hardening_junk_gets_a_hint(junk):
    """Anything that is not a BackdoorSetting gets a hint, never an exception."""
    _fails_with_hint(check_shop_hardening(junk), "BackdoorSetting")


def test_tenant_a_right_answer_passes():
    """A read-only root and the claim at the cache directory pass lab 04."""
    tenant_a = rosim.quota_tenants()[0]
    verdict = check_tenant_a(tenant_a.replace(read_only=True, claim_path="/var/cache/app"))
    assert verdict.passed, str(verdict)


@pytest.mark.parametrize(("change", "words"), [
    ({"limit": "8Gi"}, ["tenant-b", "limit"]),
    ({}, ["tenant-b"]),
])
def test_tenant_a_near_misses_get_hints(change, words):
    """No change, a limit too big for the node: FAIL and a hint."""
    tenant_a = rosim.quota_tenants()[0]
    _fails_with_hint(check_tenant_a(tenant_a.replace(**change)), *words)


@pytest.mark.parametrize("junk", [..., None, 3, "tenant-a", [1]])
def test_tenant_a_junk_gets_a_hint(junk):
    """The placeholder or anything that is not a QuotaTenant gets a hint."""
    _fails_with_hint(check_tenant_a(junk))

"""The kubelet's per-pod /etc/hosts as an attacker's persistence path (domain.md §2)."""

from __future__ import annotations

import pytest

import rosim


def test_the_redirect_survives_a_crash_under_a_read_only_root():
    """/etc/motd is EROFS, /etc/hosts takes the line, and the new container still sees it."""
    run = rosim.run_hosts_redirect("crash")
    assert run.motd_error == "OSError: [Errno 30] Read-only file system: '/etc/motd'"
    assert (run.before, run.after, run.persists) == ("203.0.113.66", "203.0.113.66", True)
    assert "container restarts 1" in str(run)


def test_a_new_pod_gets_a_fresh_hosts_file():
    """A deleted pod's replacement starts from the kubelet's own file."""
    run = rosim.run_hosts_redirect("reschedule")
    assert run.before == "203.0.113.66" and run.after == "" and not run.persists
    assert str(run).endswith("DNS (the hosts file is new)")


def test_unknown_events_are_refused():
    """Only the pod events the scenario knows."""
    with pytest.raises(rosim.ConfigError, match=r"^event\(='rebuild'\) must be one of"):
        rosim.run_hosts_redirect("rebuild")

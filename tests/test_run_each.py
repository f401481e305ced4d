"""run_each: one function in many containers, in one patched region."""

from __future__ import annotations

import errno
import logging
import os

import pytest

import rosim


def containers(n=3, **kwargs):
    """n started busybox containers of one read-only CRI-O runtime."""
    runtime = rosim.Runtime("cri-o", read_only=True, **kwargs)
    ctrs = [runtime.create(rosim.Image.builtin("busybox")) for _ in range(n)]
    for ctr in ctrs:
        ctr.start()
    return ctrs


def write_name(name):
    """Write a file in /tmp and list /tmp."""
    with open(f"/tmp/{name}", "w") as f:
        f.write(name)
    return sorted(os.listdir("/tmp"))


def test_each_call_sees_its_own_container():
    """Files written by one call are not seen by the next container's call."""
    ctrs = containers()
    assert rosim.run_each(ctrs, write_name, "x") == [["x"], ["x"], ["x"]]
    assert [c.run(os.path.exists, "/tmp/x") for c in ctrs] == [True, True, True]


def test_results_match_run_and_errors_are_the_kernels():
    """Same result as Container.run; EROFS propagates as the OSError it is."""
    ctrs = containers(2)
    assert rosim.run_each(ctrs, os.path.exists, "/bin/sh") == [
        ctrs[0].run(os.path.exists, "/bin/sh"), ctrs[1].run(os.path.exists, "/bin/sh")]
    with pytest.raises(OSError) as info:
        rosim.run_each(ctrs, os.mkdir, "/etc/new")
    assert info.value.errno == errno.EROFS


def test_logging_and_open_files_do_not_leak_between_containers():
    """Each call is its own process: its handlers are removed after it; files get closed."""
    ctrs = containers(2)

    def log():
        logger = logging.getLogger("rosim-test-app")
        before = len(logger.handlers)
        logger.addHandler(logging.FileHandler("/tmp/app.log"))
        logger.warning("hello")
        return before, open("/tmp/app.log").read()

    assert rosim.run_each(ctrs, log) == [(0, "hello\n"), (0, "hello\n")]
    assert logging.getLogger("rosim-test-app").handlers == []


def test_every_container_must_be_running_before_any_call():
    """A stopped container in the list: ContainerStateError, nothing runs."""
    ctrs = containers(2)
    ctrs[1].stop()
    with pytest.raises(rosim.ContainerStateError):
        rosim.run_each(ctrs, write_name, "y")
    assert not ctrs[0].run(os.path.exists, "/tmp/y")
    assert rosim.run_each([], write_name, "z") == []

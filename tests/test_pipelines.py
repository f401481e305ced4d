"""Pipelines whose writer never stops.

The writer ends with SIGPIPE (141); the pipeline's status is its reader's.
"""

from __future__ import annotations

import pytest

import rosim
from rosim.shell.process import PIPE_LIMIT, SIGPIPE_STATUS
from tests.conftest import started


@pytest.fixture(scope="module")
def ro():
    """A Fedora container under CRI-O with the global --read-only flag."""
    return started("cri-o", rosim.Image.builtin("fedora"), read_only=True)


def test_head_of_dev_zero_ends(ro):
    """cat /dev/zero | head -c 5: five bytes, status 0 (head's)."""
    result = ro.sh("cat /dev/zero | head -c 5 | wc -c")
    assert (result.stdout, result.status) == ("5\n", 0)


def test_yes_into_head_ends(ro):
    """yes | head -n 3: three lines, status 0; the writer's own status is SIGPIPE's 141."""
    result = ro.sh("yes | head -n 3")
    assert (result.stdout, result.status) == ("y\ny\ny\n", 0)
    assert ro.sh("yes | head -n 1; echo $?").stdout == "y\n0\n"
    assert ro.sh("yes hello | head -n 2").stdout == "hello\nhello\n"


def test_the_writer_gets_sigpipe(ro):
    """Only the program that wrote dies of SIGPIPE (141); its shell goes on, as bash's does."""
    result = ro.sh("f() { yes; echo after $? >&2; }; f | head -n 1")
    assert (result.stdout, result.stderr, result.status) == ("y\n", f"after {SIGPIPE_STATUS}\n", 0)
    result = ro.sh("(yes; echo after $? >&2) | head -n 1")
    assert (result.stdout, result.stderr) == ("y\n", "after 141\n")
    assert ro.sh("sh -c yes | head -n 2").stdout == "y\ny\n"


def test_urandom_through_a_pipe_keeps_every_byte(ro):
    """cat /dev/urandom | head -c 16 | wc -c counts 16 bytes, not replacement characters."""
    assert ro.sh("cat /dev/urandom | head -c 16 | wc -c").stdout == "16\n"


def test_a_long_finite_pipe_is_not_cut(ro):
    """A writer that stops below the pipe limit gives its reader everything."""
    assert ro.sh("seq 1 100000 | wc -l").stdout == "100000\n"
    assert PIPE_LIMIT >= 1024 * 1024


def test_pipe_fork_bomb_ends_at_the_pids_limit(ro):
    """f() { f | f; }; f ends with fork's EAGAIN message instead of running forever."""
    result = ro.sh("f() { f | f; }; f; echo end $?")
    assert "fork: Resource temporarily unavailable" in result.stderr
    assert result.stdout.endswith("end 254\n")
    assert ro.sh("echo again | cat").stdout == "again\n"


def test_pipestatus_shows_sigpipe(ro):
    """bash's PIPESTATUS: 141 for the writer, 0 for head; $? is head's."""
    assert ro.sh("yes | head -n 1 > /dev/null; echo ${PIPESTATUS[@]} $?").stdout == "141 0 0\n"
    result = ro.sh("cat /dev/zero | head -c 5 > /dev/null; echo ${PIPESTATUS[0]} $PIPESTATUS")
    assert result.stdout == "141 141\n"
    assert ro.sh("false | true; echo ${PIPESTATUS[*]}; true; echo ${PIPESTATUS[@]}").stdout \
        == "1 0\n0\n"


def test_busybox_sh_has_no_pipestatus():
    """busybox sh has no arrays: ${PIPESTATUS[0]} is a bad substitution, status 2."""
    ctr = started("docker", rosim.Image.builtin("busybox"), read_only=True)
    result = ctr.sh("true | true; echo ${PIPESTATUS[0]}")
    assert (result.stderr, result.status) == ("sh: syntax error: bad substitution\n", 2)

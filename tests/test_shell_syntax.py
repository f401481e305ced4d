"""The shell language beyond simple commands: what rosim adds to the real shells' checks.

The behaviour the real shells can confirm is in tests/test_shell_fidelity.py;
these tests cover what only rosim can show (its limits instead of a crash,
the parser's API, the simulated clock, terminal continuation).
"""

from __future__ import annotations

import pytest

import rosim
from rosim.shell.clock import CLOCK, SimClock
from rosim.shell.interp import MAX_NESTING, MAX_PROCESSES
from rosim.shell.parser import For, If, ShellSyntaxError, While, needs_more, parse


@pytest.fixture
def fedora():
    """Fedora (bash dialect) under Podman, writable root."""
    return rosim.run_container("fedora", "podman", hosts={})


@pytest.fixture
def busybox():
    """busybox (busybox dialect) under Podman, read-only root."""
    return rosim.run_container("busybox", "podman", read_only=True, hosts={})


def test_parse_builds_compound_commands():
    """for/while/if become their own nodes; words keep their quoting."""
    script = parse("for f in a 'b c'; do :; done\nwhile false; do :; done\nif :; then :; fi")
    kinds = [type(item.first.commands[0]) for item in script.items]
    assert kinds == [For, While, If]
    assert [w.text() for w in script.items[0].first.commands[0].words] == ["a", "'b c'"]
    assert [item.line for item in script.items] == [1, 2, 3]


@pytest.mark.parametrize(("text", "more"), [
    ("for i in 1 2; do", True), ("if true; then", True), ("case x in", True),
    ("echo $(echo", True), ("cat <<EOF\nbody", False), ("{ echo a", True),
    ("echo a |", True), ("echo 'a", True), ("echo a", False), ("fi", False),
    ("echo a;; b", False), ("f() {", True),
])
def test_needs_more_knows_unfinished_commands(text, more):
    """A terminal continues (PS2) exactly when more input could complete the command."""
    assert needs_more(text) is more


def test_syntax_errors_carry_both_wordings():
    """ShellSyntaxError.message gives bash's or busybox's wording."""
    with pytest.raises(ShellSyntaxError) as info:
        parse("if true; fi")
    assert info.value.message("bash") == ("syntax error near unexpected token `fi'\n"
                                          "sh: `if true; fi'")
    assert info.value.message("busybox") == 'syntax error: unexpected "fi" (expecting "then")'
    assert not info.value.incomplete


def test_bad_substitution(fedora, busybox):
    """${X!} is refused as each shell refuses it."""
    assert fedora.sh("echo ${X!}").stderr == "sh: ${X!}: bad substitution\n"
    result = busybox.sh("echo ${X!}")
    assert (result.stderr, result.status) == ("sh: syntax error: bad substitution\n", 2)


def test_runaway_function_stops_at_the_default_limit(fedora):
    """Without FUNCNEST rosim stops at MAX_NESTING with bash's message, not a crash."""
    result = fedora.sh("f() { f; }; f; echo same line\necho next $?")
    assert result.stderr == (f"sh: f: maximum function nesting level exceeded "
                             f"({MAX_NESTING})\n")
    assert result.stdout == "next 1\n"


def test_deep_but_finite_recursion_works(fedora):
    """Recursion below the limit runs to the end (no Python RecursionError)."""
    script = "count() { if [ $1 -gt 0 ]; then count $(( $1 - 1 )); else echo bottom; fi; }"
    result = fedora.sh(f"{script}; count {MAX_NESTING - 5}")
    assert (result.stdout, result.stderr) == ("bottom\n", "")


def test_busybox_session_dies_on_runaway_recursion(busybox):
    """busybox sh has no limit: the shell dies with SIGSEGV; a session ends there."""
    session = busybox.shell()
    result = session.sh("f() { f; }; f; echo never")
    assert (result.stdout, result.stderr, result.status) == ("", "", 139)
    console = rosim.Console(busybox)
    console.feed("g() { g; }; g")
    assert console.exited


def test_scripts_starting_themselves_hit_the_pids_limit(fedora):
    """A script that runs itself ends with fork's EAGAIN message, not a Python error."""
    fedora.sh("echo 'sh /tmp/again.sh' > /tmp/again.sh")
    result = fedora.sh("sh /tmp/again.sh; echo status $?")
    assert result.stdout == "status 254\n"
    assert result.stderr == "/tmp/again.sh: fork: Resource temporarily unavailable\n"
    assert MAX_PROCESSES >= 100


def test_a_megabyte_line_runs(fedora):
    """A 1 MB word and a line of 100 000 words both run (the tokenizer is linear)."""
    assert fedora.sh("echo " + "a" * 1_000_000).stdout == "a" * 1_000_000 + "\n"
    assert fedora.sh("echo " + "ab " * 100_000).stdout == " ".join(["ab"] * 100_000) + "\n"


def test_sleep_advances_the_simulated_clock(fedora):
    """sleep returns at once; date and new files' times move on by the time slept."""
    start = CLOCK.now()
    result = fedora.sh("date +%s; sleep 90; date +%s; touch /tmp/t; ls -l /tmp/t")
    first, second, listing = result.stdout.splitlines()
    assert int(second) - int(first) == 90
    assert int(first) == int(start)
    import time

    assert time.strftime("%b %e %H:%M", time.gmtime(start + 90)) in listing


def test_sleep_infinity_and_bad_intervals(fedora):
    """sleep infinity ends at once without moving the clock; bad intervals are refused."""
    before = CLOCK.now()
    assert fedora.sh("sleep infinity").status == 0
    assert CLOCK.now() == before
    result = fedora.sh("sleep soon")
    assert (result.status, result.stderr.splitlines()[0]) == (
        1, "sleep: invalid time interval 'soon'")


def test_sim_clock_refuses_going_back():
    """advance() wants a number >= 0 and names the bad value."""
    with pytest.raises(rosim.ConfigError, match=r"seconds\(=-1\)"):
        SimClock().advance(-1)


def test_ls_l_shows_simulated_time(fedora):
    """ls -l dates image files at the image's time and new files at simulated time."""
    listing = fedora.sh("ls -l /etc/os-release").stdout
    assert " Jan  1 00:00 /etc/os-release" in listing


def test_pwd_and_oldpwd_follow_cd(fedora):
    """cd keeps $PWD and $OLDPWD; cd - goes back and prints where."""
    result = fedora.sh("cd /etc; echo $PWD; cd /tmp; cd -; echo $OLDPWD")
    assert result.stdout == "/etc\n/etc\n/tmp\n"


def test_exit_in_a_sourced_file_ends_the_shell(fedora):
    """'. file' runs in the same shell: its exit ends the whole script."""
    result = fedora.sh("echo 'echo in; exit 7' > /tmp/s.sh; . /tmp/s.sh; echo after")
    assert (result.stdout, result.status) == ("in\n", 7)


def test_return_from_a_sourced_file(fedora):
    """return ends the sourced file only."""
    result = fedora.sh("printf 'echo a\\nreturn 3\\necho b\\n' > /tmp/r.sh; . /tmp/r.sh; "
                       "echo st=$?")
    assert result.stdout == "a\nst=3\n"


def test_read_consumes_input_line_by_line(fedora):
    """read takes one line of the loop's input; cat in the body takes the rest."""
    result = fedora.sh("printf '1\\n2\\n3\\n' | while read n; do echo \"n=$n\"; cat; done")
    assert result.stdout == "n=1\n2\n3\n"


def test_console_continues_a_for_loop_over_lines(fedora):
    """Typed line by line, a loop runs once it is complete; the transcript shows '> '."""
    console = rosim.Console(fedora)
    assert console.feed("for i in 1 2; do") is None
    assert console.prompt == "> "
    assert console.feed("  echo $i") is None
    result = console.feed("done")
    assert result.stdout == "1\n2\n"
    assert result.transcript == "sh-4.4# for i in 1 2; do\n>   echo $i\n> done\n1\n2\n"

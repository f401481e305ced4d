"""The terminal widget and the console behind it, driven without a browser."""

from __future__ import annotations

import pytest

import rosim

EROFS_LINE = "Config error: Read-only file system: '/var/log/dnf.log'"


@pytest.fixture
def fedora_ro():
    """Fedora under CRI-O with the global --read-only flag, as in the demo."""
    return rosim.run_container("fedora", "cri-o", read_only=True, hosts={})


def test_typing_dnf_install_shows_the_erofs_line(fedora_ro):
    """Enter runs the prompt line; the screen shows the prompt, command and error."""
    term = rosim.terminal(fedora_ro)
    term.line.value = "dnf install nc"
    result = term.submit()
    assert result is not None and result.status == 1
    assert term.line.value == ""
    assert term.text == f"sh-4.4# dnf install nc\n{EROFS_LINE}\n"
    assert "Read-only file system: &#x27;/var/log/dnf.log&#x27;" in term.screen.value
    assert "color:#D55E00" in term.screen.value


def test_header_names_the_container(fedora_ro):
    """The header shows name, image, runtime and whether the root is read-only."""
    term = rosim.terminal(fedora_ro)
    for part in (fedora_ro.name, "fedora:28", "cri-o", "root read-only"):
        assert part in term.header.value
    rw = rosim.run_container("busybox", "docker", hosts={})
    assert "root read-write" in rosim.terminal(rw).header.value


def test_enter_from_the_browser_submits(fedora_ro):
    """The text box's 'submit' message (Enter in the page) runs the line."""
    term = rosim.terminal(fedora_ro)
    term.line.value = "echo hi"
    term.line._handle_custom_msg({"event": "submit"}, [])
    assert term.text == "sh-4.4# echo hi\nhi\n"


def test_history_up_and_down(fedora_ro):
    """↑ walks back through the commands, ↓ forward and then to an empty line."""
    term = rosim.terminal(fedora_ro)
    for line in ("echo one", "echo two"):
        term.line.value = line
        term.submit()
    term.up.click()
    assert term.line.value == "echo two"
    term.up.click()
    term.up.click()
    assert term.line.value == "echo one"
    term.down.click()
    assert term.line.value == "echo two"
    term.down.click()
    assert term.line.value == ""
    term.down.click()
    assert term.line.value == ""


def test_state_carries_over_between_commands(fedora_ro):
    """cd, variables and $? persist in the session, as in a real terminal."""
    term = rosim.terminal(fedora_ro)
    for line in ("cd /var/log", "X=1; false", "echo $X $?; pwd"):
        term.line.value = line
        term.submit()
    assert term.text.endswith("sh-4.4# echo $X $?; pwd\n1 1\n/var/log\n")


def test_continuation_prompt_for_an_unfinished_command(fedora_ro):
    """A line ending in && waits for the next one; the prompt becomes '> '."""
    term = rosim.terminal(fedora_ro)
    term.line.value = "echo a &&"
    assert term.submit() is None
    assert term.prompt.value == "> "
    assert term.text == "sh-4.4# echo a &&\n"
    term.line.value = "echo b"
    assert term.submit().stdout == "a\nb\n"
    assert term.prompt.value == "sh-4.4# "
    assert term.text == "sh-4.4# echo a &&\n> echo b\na\nb\n"


def test_scrollback_keeps_the_newest_results(fedora_ro):
    """Only the last ``scrollback`` results stay on the screen."""
    term = rosim.terminal(fedora_ro, scrollback=2)
    for i in range(4):
        term.line.value = f"echo {i}"
        term.submit()
    assert term.text == "sh-4.4# echo 2\n2\nsh-4.4# echo 3\n3\n"
    assert len(term.console.history) == 4


def test_exit_ends_the_session_and_the_next_line_opens_a_new_one(fedora_ro):
    """After exit, a note says so; variables from the old session are gone."""
    term = rosim.terminal(fedora_ro)
    for line in ("X=old", "exit 4"):
        term.line.value = line
        term.submit()
    assert "exit (status 4)" in term.screen.value
    term.line.value = "echo [$X]"
    assert term.submit().stdout == "[]\n"


@pytest.mark.parametrize("bad", [0, -1, "10", True])
def test_bad_scrollback_is_refused(fedora_ro, bad):
    """scrollback must be a positive int; the error names it."""
    with pytest.raises(rosim.ConfigError, match=r"scrollback\(="):
        rosim.terminal(fedora_ro, scrollback=bad)


def test_terminal_needs_a_running_container(fedora_ro):
    """A stopped container has no shell to open."""
    fedora_ro.stop()
    with pytest.raises(rosim.ContainerStateError):
        rosim.terminal(fedora_ro)


def test_console_refuses_what_is_not_a_container():
    """Console wants a rosim.Container."""
    with pytest.raises(rosim.ConfigError, match=r"container\(="):
        rosim.Console("web")  # type: ignore[arg-type]


def test_run_container_rejects_bad_input():
    """Unknown images and runtimes, and a non-bool read_only, are clear errors."""
    with pytest.raises(rosim.ImageError, match="nosuch"):
        rosim.run_container("nosuch", hosts={})
    with pytest.raises(rosim.UnknownProfileError, match="lxc"):
        rosim.run_container("fedora", "lxc", hosts={})
    with pytest.raises(rosim.ConfigError, match=r"read_only\(="):
        rosim.run_container("fedora", read_only="yes", hosts={})  # type: ignore[arg-type]


def test_widget_displays_as_its_panel(fedora_ro):
    """The Terminal object displays as the ipywidgets VBox it holds."""
    term = rosim.terminal(fedora_ro)
    bundle = term._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_a_stopped_container_is_reported_on_the_screen(fedora_ro):
    """Typing after the container stopped shows why nothing ran; no exception escapes."""
    term = rosim.terminal(fedora_ro)
    fedora_ro.stop()
    term.line.value = "echo hi"
    assert term.submit() is None
    assert "needs a running container" in term.screen.value

"""``rosim shell`` and ``rosim demo`` as a user runs them in a terminal.

The interactive shell is driven through a pseudo-terminal with pexpect:
the test types at the prompt, uses readline's history and line editing,
and reads the output back.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pexpect
import pytest

import rosim
from rosim.cli import main
from rosim.cli.shell import interact

TIMEOUT = 30
EROFS_LINE = "Config error: Read-only file system: '/var/log/dnf.log'"


def _spawn(*args: str) -> pexpect.spawn:
    env = dict(os.environ, TERM="xterm", INPUTRC="/dev/null", PYTHONUNBUFFERED="1")
    child = pexpect.spawn(sys.executable, ["-m", "rosim", "shell", *args], env=env,
                          encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 200))
    return child


def test_interactive_shell_in_a_read_only_fedora_container():
    """The prompt, a dnf install failing with EROFS, history recall and Ctrl-D."""
    child = _spawn("--image", "fedora", "--runtime", "cri-o", "--read-only")
    try:
        child.expect_exact("fedora:28 · cri-o · root read-only")
        child.expect_exact("sh-4.4# ")
        child.sendline("dnf install nc")
        child.expect_exact(EROFS_LINE)
        child.expect_exact("sh-4.4# ")
        child.sendline("echo status=$?")
        child.expect_exact("status=1")
        child.expect_exact("sh-4.4# ")
        # Up arrow twice recalls the dnf line from readline's history.
        child.send("\x1b[A\x1b[A\r")
        child.expect_exact(EROFS_LINE)
        child.expect_exact("sh-4.4# ")
        # Line editing: type 'cho edited', go to the start (Ctrl-A), insert 'e'.
        child.send("cho edited\x01e\r")
        child.expect(r"\r\nedited\r\n")
        child.expect_exact("sh-4.4# ")
        child.sendeof()
        child.expect_exact("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_exit_status_and_working_directory_carry_over():
    """cd and variables persist between lines; exit N ends with status N."""
    child = _spawn("--image", "busybox", "--runtime", "podman", "--read-only")
    try:
        child.expect_exact("/ # ")
        child.sendline("cd /tmp; X=kept")
        child.expect_exact("/ # ")
        child.sendline("echo $X; pwd; touch /etc/x")
        child.expect_exact("kept")
        child.expect_exact("/tmp")
        child.expect_exact("touch: cannot touch '/etc/x': Read-only file system")
        child.sendline("exit 3")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 3


def test_ctrl_c_drops_the_line_being_typed():
    """Ctrl-C at the prompt prints ^C and shows a fresh prompt; the shell goes on."""
    child = _spawn("--image", "busybox", "--runtime", "docker")
    try:
        child.expect_exact("/ # ")
        child.send("echo never")
        child.expect_exact("echo never")  # readline is reading the line
        child.sendintr()
        child.expect_exact("^C")
        child.expect_exact("/ # ")
        child.sendline("echo after")
        child.expect(r"\r\nafter\r\n")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_shell_reads_a_script_from_a_pipe_without_prompts():
    """Lines piped in run as a script: no banner, no prompts, the last status."""
    proc = subprocess.run([sys.executable, "-m", "rosim", "shell", "--read-only"],
                          input="cd /var/log\npwd\ntouch x\n", capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)
    assert proc.stdout == "/var/log\n"
    assert proc.stderr == "touch: cannot touch 'x': Read-only file system\n"
    assert proc.returncode == 1


def test_interact_reports_an_unfinished_command_at_end_of_input():
    """A script ending inside an unfinished command is a syntax error (status 2)."""
    ctr = rosim.run_container("busybox", "podman", name="unfinished",
                              hosts={})
    out, err = io.StringIO(), io.StringIO()
    status = interact(rosim.Console(ctr), io.StringIO("echo a &&\n"), out, err)
    assert (status, out.getvalue()) == (2, "")
    assert "unexpected end of file" in err.getvalue()


def test_shell_rejects_an_unknown_image(capsys):
    """A bad --image is a usage error naming the value, status 2."""
    assert main(["shell", "--image", "nosuch"]) == 2
    assert "image(='nosuch')" in capsys.readouterr().err


def test_shell_rejects_an_unknown_runtime(capsys):
    """argparse refuses a runtime it does not know."""
    with pytest.raises(SystemExit) as info:
        main(["shell", "--runtime", "lxc"])
    assert info.value.code == 2
    assert "invalid choice: 'lxc'" in capsys.readouterr().err


@pytest.mark.parametrize(("flag", "line"), [
    (["--read-only"], EROFS_LINE),
    ([], "Installed:"),
])
def test_demo_replays_the_crio_demo(capsys, flag, line):
    """rosim demo prints the crictl session; --read-only makes dnf fail on its log."""
    assert main(["demo", *flag]) == 0
    out = capsys.readouterr().out
    assert "# crictl exec -i -t $CTR sh\nsh-4.4# dnf install nc\n" in out
    assert line in out
    assert out == rosim.replay_demo(bool(flag)).transcript

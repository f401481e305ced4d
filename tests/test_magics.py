"""The IPython magics: %load_ext rosim, %rosim run/ps/stop/start/rm/terminal, %%rosim_sh."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from IPython.testing.globalipapp import get_ipython

import rosim
from rosim.teach.magics import MagicUsageError, Workbench

EROFS_LINE = "Config error: Read-only file system: '/var/log/dnf.log'"


@pytest.fixture(scope="module")
def ip():
    """An IPython shell with the rosim extension loaded (a fresh workbench)."""
    shell = get_ipython()
    shell.extension_manager.load_extension("rosim")
    shell.run_line_magic("reload_ext", "rosim")
    return shell


def test_run_ps_and_a_cell_of_shell_lines(ip, capsys):
    """%rosim run starts a container; %%rosim_sh runs lines in its session."""
    ip.run_line_magic("rosim", "run fedora --runtime cri-o --read-only --name web")
    ctr_id = capsys.readouterr().out.strip()
    assert len(ctr_id) == 64
    ip.run_line_magic("rosim", "ps")
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["CONTAINER", "ID", "IMAGE", "STATUS", "RUNTIME", "ROOT", "NAMES"]
    assert table[1].split() == [ctr_id[:12], "fedora:28", "Up", "cri-o", "read-only", "web"]
    out = ip.run_cell_magic("rosim_sh", "web", "cd /var/log\n\ndnf install nc\nX=$?\n")
    assert isinstance(out, rosim.Transcript)
    assert str(out) == (f"sh-4.4# cd /var/log\nsh-4.4# dnf install nc\n{EROFS_LINE}\n"
                        "sh-4.4# X=$?\n")
    assert "#D55E00" in out._repr_html_()
    later = ip.run_cell_magic("rosim_sh", "web", "echo $X; pwd")
    assert str(later) == "sh-4.4# echo $X; pwd\n1\n/var/log\n"
    assert later.status == 0


def test_plain_text_view_is_the_transcript(ip):
    """IPython's text/plain of a cell's result is the transcript (what nbval compares)."""
    ip.run_line_magic("rosim", "run busybox --runtime podman --name plain")
    out = ip.run_cell_magic("rosim_sh", "plain", "echo hi")
    data, _ = ip.display_formatter.format(out)
    assert data["text/plain"] == "/ # echo hi\nhi"
    assert out._repr_html_().startswith("<pre")


def test_unfinished_command_at_the_end_of_a_cell(ip):
    """A cell ending in an unfinished command gets sh's syntax error, status 2."""
    ip.run_line_magic("rosim", "run busybox --runtime podman --name unfinished")
    out = ip.run_cell_magic("rosim_sh", "unfinished", "echo a &&")
    assert out.status == 2
    assert "unexpected end of file" in str(out)


def test_stop_start_rm(ip, capsys):
    """%rosim stop / start / rm act on the named container."""
    ip.run_line_magic("rosim", "run busybox --runtime docker --name cycle")
    ip.run_line_magic("rosim", "stop cycle")
    ip.run_line_magic("rosim", "ps")
    assert "Exited (0)" in capsys.readouterr().out
    ip.run_line_magic("rosim", "start cycle")
    ip.run_line_magic("rosim", "rm cycle")
    capsys.readouterr()
    ip.run_line_magic("rosim", "ps")
    assert "cycle" not in capsys.readouterr().out
    ip.run_line_magic("rosim", "run busybox --runtime docker --name cycle")


def test_terminal_magic_returns_the_widget(ip):
    """%rosim terminal NAME returns a Terminal on that container."""
    ip.run_line_magic("rosim", "run fedora --name termctr")
    term = ip.run_line_magic("rosim", "terminal termctr")
    assert isinstance(term, rosim.Terminal)
    assert term.console.container.name == "termctr"


@pytest.mark.parametrize(("line", "message"), [
    ("run nosuch", "image(='nosuch')"),
    ("run fedora --runtime lxc", "invalid choice: 'lxc'"),
    ("run fedora --bogus", "unrecognized arguments: --bogus"),
    ("stop ghost", "name(='ghost')"),
    ("terminal ghost", "name(='ghost')"),
    ("", "usage: %rosim"),
    ("run 'fedora", "No closing quotation"),
])
def test_mistakes_are_usage_errors(ip, line, message):
    """Every mistake is an IPython UsageError (one line, no traceback) naming the value."""
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("rosim", line)
    assert message in str(info.value)


def test_cell_magic_needs_a_known_name(ip):
    """%%rosim_sh without a name, or with an unknown one, is a usage error."""
    with pytest.raises(UsageError, match="name the container"):
        ip.run_cell_magic("rosim_sh", "", "echo hi")
    with pytest.raises(UsageError, match="ghost"):
        ip.run_cell_magic("rosim_sh", "ghost", "echo hi")


def test_a_name_is_used_once():
    """Running a second container under a name in use is refused."""
    bench = Workbench()
    bench.command("run busybox --name twice")
    with pytest.raises(MagicUsageError, match="already used"):
        bench.command("run busybox --name twice")

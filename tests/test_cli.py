"""The ``rosim`` command line as a user invokes it."""

import subprocess
import sys

from rosim.cli import main


def test_version_prints_and_exits_zero(capsys):
    """``rosim --version`` prints the package version."""
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("rosim ")


def test_no_command_prints_help_and_exits_two(capsys):
    """Without a command the help goes to stderr and the status is 2."""
    assert main([]) == 2
    assert "usage: rosim" in capsys.readouterr().err


def test_python_dash_m_runs_the_same_command_line():
    """``python -m rosim --version`` is the console script's twin."""
    proc = subprocess.run([sys.executable, "-m", "rosim", "--version"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout.startswith("rosim ")

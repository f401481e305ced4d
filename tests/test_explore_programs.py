"""Programs learners reach for while exploring: find, xargs, sed, awk, env, which, ps, du,
tee, sleep, whoami, hostname, date, seq; on a read-only root they fail as GNU's do."""

from __future__ import annotations

import pytest

import rosim


@pytest.fixture
def ro():
    """Fedora under CRI-O with the global --read-only flag."""
    return rosim.run_container("fedora", "cri-o", read_only=True, name="explore", hosts={})


def run(ctr, line):
    """(stdout, stderr, status) of ``line``."""
    result = ctr.sh(line)
    return result.stdout, result.stderr, result.status


def test_sed_in_place_on_the_read_only_root(ro):
    """sed -i writes a temporary file next to the original: EROFS, status 4."""
    out, err, status = run(ro, "sed -i 's/enabled=1/enabled=0/' /etc/yum.repos.d/fedora.repo")
    assert status == 4
    assert err.startswith("sed: couldn't open temporary file /etc/yum.repos.d/sed")
    assert err.endswith(": Read-only file system\n")


def test_sed_in_place_on_a_tmpfs(ro):
    """On /tmp (a tmpfs) sed -i edits the file."""
    assert run(ro, "echo 'a=1' > /tmp/c; sed -i 's/1/2/' /tmp/c; cat /tmp/c") == ("a=2\n", "", 0)


def test_sed_errors(ro):
    """Unknown commands and unterminated s are GNU's messages, status 1."""
    assert run(ro, "echo a | sed 'k'") == ("", "sed: -e expression #1, char 1: unknown "
                                                 "command: `k'\n", 1)
    assert run(ro, "echo a | sed 's/a/b'")[2] == 1


def test_awk_conditions_and_sums(ro):
    """awk patterns, NR/NF and an END total."""
    line = ("printf 'a 1\\nb 5\\nc 3\\n' | awk '$2 > 2 {print NR, $1} "
            "{s += $2} END {print \"sum\", s}'")
    assert run(ro, line) == ("2 b\n3 c\nsum 9\n", "", 0)


def test_find_writable_shows_where_a_process_can_write(ro):
    """find / -maxdepth 1 -writable lists the writable mounts of a read-only root."""
    out, _, _ = run(ro, "find / -maxdepth 1 -type d -writable")
    assert set(out.split()) >= {"/tmp", "/run", "/var/tmp", "/dev"} - {"/var/tmp"}
    assert "/etc" not in out.split()


def test_find_exec_and_errors(ro):
    """-exec runs a command per file; a missing start path is GNU's message."""
    assert run(ro, "find /etc/dnf -name dnf.conf -exec cat {} \\; | head -1") == (
        "[main]\n", "", 0)
    assert run(ro, "find /nope") == ("", "find: '/nope': No such file or directory\n", 1)


def test_xargs_stops_on_a_missing_command(ro):
    """xargs passes 127 on when the command does not exist."""
    out, err, status = run(ro, "echo a | xargs nosuchtool")
    assert status == 127


def test_tee_on_the_read_only_root(ro):
    """tee reports the file it cannot write and still passes the data on."""
    assert run(ro, "echo hi | tee /etc/motd") == ("hi\n", "tee: /etc/motd: Read-only file "
                                                          "system\n", 1)


def test_env_which_whoami_hostname(ro):
    """env lists exported variables and runs commands; which, whoami, hostname."""
    out, _, _ = run(ro, "export K=v; env | grep '^K='; env A=1 sh -c 'echo $A'")
    assert out == "K=v\n1\n"
    assert run(ro, "which dnf ls") == ("/usr/bin/dnf\n/usr/bin/ls\n", "", 0)
    out, err, status = run(ro, "which nosuch")
    assert status == 1 and err.startswith("which: no nosuch in (")
    assert run(ro, "whoami; hostname") == ("root\nexplore\n", "", 0)


def test_ps_lists_the_session(ro):
    """ps shows the session's shell and ps itself."""
    out = ro.shell().sh("ps").stdout.splitlines()
    assert out[0].split() == ["PID", "TTY", "TIME", "CMD"]
    assert [line.split()[-1] for line in out[1:]] == ["sh", "ps"]
    full = ro.sh("sh -c 'ps -ef'").stdout.splitlines()
    assert full[0].split()[:3] == ["UID", "PID", "PPID"]
    assert full[-1].endswith("ps -ef")


def test_du_counts_blocks(ro):
    """du counts 4 KiB blocks per file and directory; -s sums; -h is human-readable."""
    ro.sh("mkdir /tmp/d; echo 12345 > /tmp/d/a; printf '%5000s' x > /tmp/d/b")
    assert run(ro, "du -s /tmp/d") == ("16\t/tmp/d\n", "", 0)
    assert run(ro, "du -sh /tmp/d") == ("16K\t/tmp/d\n", "", 0)
    assert run(ro, "du /nope")[2] == 1


def test_seq_basename_dirname_uname(ro):
    """Small helpers learners use in loops."""
    assert run(ro, "seq 3; seq 2 2 6") == ("1\n2\n3\n2\n4\n6\n", "", 0)
    assert run(ro, "basename /usr/lib/libc.so .so; dirname /usr/lib/libc.so") == (
        "libc\n/usr/lib\n", "", 0)
    assert run(ro, "uname") == ("Linux\n", "", 0)


def test_date_format(ro):
    """date prints the simulated clock in date(1)'s format."""
    out = run(ro, "date")[0]
    assert out.endswith(" UTC 2024\n") or out.endswith(" UTC 2025\n")


def test_new_programs_are_in_the_images():
    """The fedora and busybox images ship the new programs."""
    for name in ("fedora", "busybox"):
        ctr = rosim.run_container(name, "docker", hosts={})
        for tool in ("find", "xargs", "sed", "awk", "env", "which", "ps", "du", "tee",
                     "whoami", "hostname", "date"):
            assert ctr.sh(f"command -v {tool}").status == 0, (name, tool)


def test_ps_in_a_terminal_shows_the_container_process():
    """In a terminal session, PID 1 is the container's own process."""
    ctr = rosim.Runtime("cri-o", read_only=True).create(
        rosim.Image.builtin("redis"), command=["redis-server", "--appendonly", "yes"])
    ctr.start()
    console = rosim.Console(ctr)
    lines = console.feed("ps -ef").stdout.splitlines()
    assert lines[1].split()[1:3] == ["1", "0"]
    assert lines[1].endswith("redis-server --appendonly yes")
    assert lines[-1].endswith("ps -ef")
    assert console.feed("echo $$").stdout.strip() == lines[2].split()[1] != "1"
    assert console.feed("ps").stdout.splitlines()[1].split()[-1] == "redis-server"

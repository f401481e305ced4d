"""The shell inside a container: parsing, builtins, exec rules, sessions and results."""

from __future__ import annotations

import signal

import pytest

import rosim
from rosim.shell.parser import ShellSyntaxError, parse
from tests.conftest import started

ELF = b"\x7fELF\x02\x01\x01\x00"

TOOLS = {
    "/usr/local/bin/greet": rosim.File('#!/bin/sh\necho "hello $1 ($#) from $0"\nexit 4\n',
                                       mode=0o755),
    "/usr/local/bin/plain": rosim.File("echo plain $1\n", mode=0o755),
    "/usr/local/bin/showvar": rosim.File('#!/bin/sh\necho "X=$X"\n', mode=0o755),
    "/usr/local/bin/notexec": rosim.File("#!/bin/sh\necho ran\n", mode=0o644),
    "/usr/local/bin/mystery": rosim.File(ELF + b"rosim-program: frobnicate\n", mode=0o755),
    "/usr/local/bin/pyscript": rosim.File(
        '#!/usr/bin/python3\nimport sys\nprint("py", sys.argv)\n', mode=0o755),
    "/usr/local/bin/envpy": rosim.File(
        '#!/usr/bin/env python3\nimport sys\nprint("envpy", sys.argv[1:])\n', mode=0o755),
    "/usr/local/bin/perlish": rosim.File("#!/usr/bin/perl\nprint 1;\n", mode=0o755),
    "/usr/local/bin/tools/": None,
}


@pytest.fixture(scope="module")
def image() -> rosim.Image:
    """Fedora with a few scripts and odd executables in /usr/local/bin."""
    return rosim.Image.builtin("fedora").with_layer(TOOLS, name="fedora-tools")


@pytest.fixture
def ro(image):
    """A Fedora container under CRI-O with the global --read-only flag."""
    return started("cri-o", image, read_only=True)


@pytest.fixture(scope="module")
def shared(image):
    """One CRI-O --read-only container for the tests that neither write nor cd."""
    return started("cri-o", image, read_only=True)


@pytest.fixture
def rw(image):
    """A Fedora container under CRI-O without the flag (writable root)."""
    return started("cri-o", image)


def expect(actual, expected) -> None:
    """Fail showing both values (used by the xfail tests: no traceback to format)."""
    if actual != expected:
        pytest.fail(f"got {actual!r}, expected {expected!r}", pytrace=False)


def out(ctr, line: str) -> str:
    """Standard output of ``line`` run in ``ctr``, asserting it wrote no errors."""
    result = ctr.sh(line)
    assert result.stderr == "", result.transcript
    return result.stdout


# ------------------------------------------------------------------ lists
@pytest.mark.parametrize(("line", "stdout"), [
    ("echo a; echo b", "a\nb\n"),
    ("echo a\necho b", "a\nb\n"),
    ("true && echo yes", "yes\n"),
    ("false && echo yes", ""),
    ("false || echo no", "no\n"),
    ("true || echo no", ""),
    ("false && echo x || echo y", "y\n"),
    ("true && echo x || echo y", "x\n"),
    ("echo a; false; echo b", "a\nb\n"),
])
def test_lists_run_commands_by_connector(shared, line, stdout):
    """';' and newlines always run the next command; '&&' and '||' look at the status."""
    assert out(shared, line) == stdout


@pytest.mark.parametrize(("line", "status"), [
    ("echo a; false", 1),
    ("false; true", 0),
    ("true && false", 1),
    ("false || true", 0),
    ("false && true", 1),
    ("true || false", 0),
])
def test_a_list_exits_with_the_last_status(shared, line, status):
    """The status of a list is that of the last command that ran."""
    assert shared.sh(line).status == status


# ------------------------------------------------------------------ words
@pytest.mark.parametrize(("line", "stdout"), [
    ("echo 'a  b'", "a  b\n"),
    ("echo '$HOME'", "$HOME\n"),
    ('echo "a  $HOME"', "a  /root\n"),
    ('echo "\\$HOME \\"q\\" \\\\"', '$HOME "q" \\\n'),
    ("echo \\$HOME", "$HOME\n"),
    ("echo a\\ \\ b", "a  b\n"),
    ("echo 'a'\"b\"c", "abc\n"),
    ("echo \"a'b\" 'c\"d'", "a'b c\"d\n"),
    ("echo a # a comment", "a\n"),
    ("# only a comment", ""),
    ("echo a#b", "a#b\n"),
    ('echo "a # b"', "a # b\n"),
    ("echo '' x", " x\n"),
    ("echo $", "$\n"),
])
def test_quoting(shared, line, stdout):
    """Single quotes keep everything, double quotes expand $, backslash escapes one char."""
    assert out(shared, line) == stdout


@pytest.mark.parametrize(("line", "stdout"), [
    ("X=1; echo $X ${X}y \"$X\"", "1 1y 1\n"),
    ("echo [$NOPE]", "[]\n"),
    ('echo "$NOPE" x', " x\n"),
    ("echo $NOPE x", "x\n"),
    ('X="a   b"; echo $X; echo "$X"', "a b\na   b\n"),
    ("X=1 Y=2; echo $X$Y", "12\n"),
    ("X=a; X=${X}b; echo $X", "ab\n"),
    ("false; echo $?", "1\n"),
    ("true; echo $?", "0\n"),
    ("nope 2>/dev/null; echo $?", "127\n"),
    ("echo $HOME $USER", "/root root\n"),
    ("unset HOME; echo \"[$HOME]\"", "[]\n"),
])
def test_variables(shared, line, stdout):
    """$X, ${X} and $? expand; unquoted values split on blanks, quoted ones do not."""
    assert out(shared, line) == stdout


def test_path_has_the_usual_default(shared):
    """PATH is the distribution's default root PATH."""
    assert out(shared, "echo $PATH") == (
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n")


def test_prefix_assignment_is_for_that_command_only(shared):
    """X=v cmd gives cmd the value but leaves the shell's X alone."""
    assert out(shared, "X=hi; X=ho showvar; echo $X") == "X=ho\nhi\n"


def test_exported_variables_reach_scripts(shared):
    """export puts a variable into the environment of the programs the shell runs."""
    assert out(shared, "export X=exp; showvar") == "X=exp\n"


def test_unexported_variables_stay_in_the_shell(shared):
    """A plain X=1 is a shell variable; a child process does not see it."""
    expect(shared.sh("X=1; showvar").stdout, "X=\n")


def test_tilde_expands_to_home(ro):
    """An unquoted leading ~ is $HOME."""
    expect(ro.sh("echo ~; cd ~; pwd").stdout, "/root\n/root\n")


def test_globs_expand_sorted_and_stay_literal_without_a_match(ro):
    """An unquoted * expands to the sorted matches; with none it stays as written."""
    assert out(ro, "cd /etc/dnf; echo *") == "dnf.conf protected.d\n"
    assert out(ro, "echo /etc/dnf/*.conf") == "/etc/dnf/dnf.conf\n"
    assert out(ro, "echo /nope/*") == "/nope/*\n"
    assert out(ro, "echo '/etc/dnf/*'") == "/etc/dnf/*\n"


# ------------------------------------------------------------------ redirections
def test_redirect_output_creates_and_truncates(ro):
    """'>' creates the file, or empties it first."""
    assert out(ro, "echo a > /tmp/f; echo b > /tmp/f; cat /tmp/f") == "b\n"
    assert out(ro, "echo a >/tmp/g; cat /tmp/g") == "a\n"


def test_redirect_append(ro):
    """'>>' appends."""
    assert out(ro, "echo a >> /tmp/f; echo b >> /tmp/f; cat /tmp/f") == "a\nb\n"


def test_redirect_without_a_command_creates_an_empty_file(ro):
    """'> FILE' alone truncates or creates FILE."""
    assert out(ro, "> /tmp/empty; stat /tmp/empty").count("regular empty file") == 1


def test_redirect_stderr_to_a_file(ro):
    """'2>' sends only the error stream to the file."""
    result = ro.sh("ls /nope /etc/dnf 2> /tmp/err; cat /tmp/err")
    assert result.stderr == ""
    assert result.stdout == ("/etc/dnf:\ndnf.conf\nprotected.d\n"
                             "ls: cannot access '/nope': No such file or directory\n")


def test_redirect_stdin(ro):
    """'<' feeds a file to the command's standard input."""
    assert out(ro, "echo from-file > /tmp/in; cat < /tmp/in") == "from-file\n"


def test_stderr_to_stdout(ro):
    """'2>&1' sends errors where standard output goes at that point."""
    merged = ro.sh("ls /nope 2>&1")
    assert (merged.stdout, merged.stderr, merged.status) == (
        "ls: cannot access '/nope': No such file or directory\n", "", 2)
    assert out(ro, "cat /nope > /tmp/o 2>&1; cat /tmp/o") == (
        "cat: /nope: No such file or directory\n")
    # Order matters: 2>&1 first copies the terminal, then stdout goes to the file.
    result = ro.sh("cat /nope 2>&1 > /tmp/o")
    assert result.stdout == "cat: /nope: No such file or directory\n"
    assert out(ro, "cat /tmp/o") == ""


def test_stdout_to_stderr(shared):
    """'>&2' and '1>&2' write standard output to the error stream."""
    for line in ("echo x >&2", "echo x 1>&2"):
        result = shared.sh(line)
        assert (result.stdout, result.stderr, result.status) == ("", "x\n", 0)


def test_redirect_from_a_missing_file(shared):
    """A missing input file is reported by the shell; the command does not run."""
    result = shared.sh("cat < /nope; echo $?")
    assert result.stderr == "sh: /nope: No such file or directory\n"
    assert result.stdout == "1\n"


def test_failed_redirection_on_read_only_root_skips_the_command(ro):
    """sh: /etc/x: Read-only file system, status 1, and the command never runs."""
    result = ro.sh("touch /tmp/ran > /etc/x")
    assert (result.stdout, result.stderr, result.status) == (
        "", "sh: /etc/x: Read-only file system\n", 1)
    assert ro.sh("ls /tmp/ran").status == 2


def test_failed_stderr_redirection_on_read_only_root(ro):
    """A '2>' into the read-only root fails the same way; the program's error is never written."""
    result = ro.sh("ls /nope 2> /etc/err")
    assert (result.stdout, result.stderr, result.status) == (
        "", "sh: /etc/err: Read-only file system\n", 1)


def test_a_list_continues_after_a_failed_redirection(ro):
    """Only the command with the bad redirection is skipped."""
    result = ro.sh("echo hi > /etc/x; echo after $?")
    assert result.stdout == "after 1\n"
    assert result.stderr == "sh: /etc/x: Read-only file system\n"


def test_redirections_work_on_a_writable_root(rw):
    """Without the flag the same redirection writes into the container's layer."""
    assert out(rw, "echo hi > /etc/x; cat /etc/x") == "hi\n"
    assert ("A", "/etc/x") in rw.diff()


def test_redirect_to_a_directory(ro):
    """Redirecting to a directory fails with EISDIR, reported by the shell."""
    result = ro.sh("echo hi > /tmp")
    assert (result.stderr, result.status) == ("sh: /tmp: Is a directory\n", 1)


# ------------------------------------------------------------------ pipes
def test_pipes_pass_standard_output_along(ro):
    """'|' connects one command's standard output to the next one's input."""
    assert out(ro, "echo hello | cat") == "hello\n"
    assert out(ro, "cat /etc/fedora-release | cat | cat") == "Fedora release 28 (Twenty Eight)\n"


def test_pipeline_status_is_the_last_commands(shared):
    """Without pipefail a pipeline exits with its last command's status."""
    assert out(shared, "true | false; echo $?") == "1\n"
    assert out(shared, "false | true; echo $?") == "0\n"


def test_errors_inside_a_pipeline_reach_the_terminal(shared):
    """Standard error is not piped."""
    result = shared.sh("ls /nope | cat")
    assert result.stderr == "ls: cannot access '/nope': No such file or directory\n"
    assert (result.stdout, result.status) == ("", 0)


# ------------------------------------------------------------------ exit
def test_exit_stops_the_shell_with_its_status(shared):
    """exit N ends the command line at once with status N."""
    result = shared.sh("echo a; exit 3; echo no")
    assert (result.stdout, result.status) == ("a\n", 3)


def test_exit_without_argument_keeps_the_last_status(shared):
    """A bare exit uses $?."""
    assert shared.sh("false; exit").status == 1
    assert shared.sh("exit").status == 0


def test_exit_in_a_script_ends_only_the_script(shared):
    """A script's exit status becomes $? of the calling shell, which carries on."""
    assert out(shared, "greet x > /dev/null; echo after $?") == "after 4\n"


@pytest.mark.parametrize(("line", "status"), [("exit 256", 0), ("exit -1", 255)])
def test_exit_status_is_taken_modulo_256(shared, line, status):
    """A process exit status is 8 bits."""
    expect(shared.sh(line).status, status)


def test_exit_with_a_non_number(shared):
    """A non-numeric exit argument is an error message, not a crash."""
    try:
        result = shared.sh("exit abc")
    except Exception as exc:
        pytest.fail(f"Container.sh raised {exc!r}", pytrace=False)
    expect((result.stderr, result.status in (2, 255)),
           ("sh: exit: abc: numeric argument required\n", True))


# ------------------------------------------------------------------ syntax errors
@pytest.mark.parametrize(("line", "message"), [
    ("echo a &&", "syntax error: unexpected end of file"),
    ("echo a ||", "syntax error: unexpected end of file"),
    ("&& echo a", "syntax error near unexpected token `&&'"),
    ("|| echo a", "syntax error near unexpected token `||'"),
    ("; echo a", "syntax error near unexpected token `;'"),
    ("echo a;; echo b", "syntax error near unexpected token"),
    ("echo a | | cat", "syntax error near unexpected token `|'"),
    ("| cat", "syntax error near unexpected token `|'"),
    ("echo >", "syntax error near unexpected token `newline'"),
    ("cat <", "syntax error near unexpected token `newline'"),
    ("echo a 2>", "syntax error near unexpected token `newline'"),
    ("echo a > ;", "syntax error near unexpected token"),
])
def test_syntax_errors_exit_2_with_a_message(shared, line, message):
    """A malformed line prints sh's syntax error on stderr and exits 2."""
    result = shared.sh(line)
    assert result.status == 2
    assert result.stdout == ""
    assert result.stderr.startswith("sh: ")
    assert message in result.stderr


@pytest.mark.parametrize("line", ['echo "abc', "echo 'abc", "echo ${X", 'echo "$X'])
def test_unclosed_quotes_exit_2(ro, line):
    """An unclosed quote or ${ is a syntax error: status 2, nothing runs."""
    result = ro.sh("touch /tmp/ran; " + line)
    assert result.status == 2
    assert result.stdout == ""
    assert result.stderr.startswith("sh: ")
    assert ro.sh("ls /tmp/ran").status == 2


def test_syntax_error_runs_nothing_of_the_line(ro):
    """The whole line is parsed before anything runs."""
    result = ro.sh("touch /tmp/ran; echo a &&")
    assert result.status == 2
    assert ro.sh("ls /tmp/ran").status == 2


def test_status_after_a_syntax_error_is_2(ro):
    """$? is 2 after a syntax error in a session."""
    session = ro.shell()
    session.sh("echo a |||")
    assert session.sh("echo $?").stdout == "2\n"


@pytest.mark.parametrize("line", [
    'echo "abc', "echo 'abc", "echo ${X", "echo a &&", "&& echo", "; echo",
    "echo a | | cat", "echo >",
])
def test_parse_raises_shell_syntax_error(line):
    """The parser itself raises ShellSyntaxError, a ConfigError naming the command."""
    with pytest.raises(ShellSyntaxError) as info:
        parse(line)
    assert isinstance(info.value, rosim.ConfigError)
    assert isinstance(info.value, rosim.RosimError)
    assert repr(line) in str(info.value)
    assert rosim.ShellSyntaxError is ShellSyntaxError


def test_parse_rejects_a_non_string():
    """parse() wants a str."""
    with pytest.raises(ShellSyntaxError, match=r"must be a str"):
        parse(b"echo")  # type: ignore[arg-type]


def test_trailing_pipe_is_a_syntax_error(shared):
    """'echo a |' has no command after the pipe."""
    result = shared.sh("echo a |")
    expect((result.stdout, result.status, "syntax error" in result.stderr), ("", 2, True))


def test_syntax_error_message_is_intact_when_the_line_contains_a_colon(shared):
    """The message does not depend on what the command line contains."""
    expect(shared.sh('echo "a: b" &&').stderr, shared.sh("echo a &&").stderr)


@pytest.mark.parametrize("line", ['echo "abc', "echo 'abc"])
def test_unclosed_quote_message_reads_like_sh(shared, line):
    """A learner sees sh's message, not rosim's argument syntax."""
    stderr = shared.sh(line).stderr
    expect(("command(=" in stderr, "unexpected EOF while looking for matching" in stderr),
           (False, True))


class _Hung(BaseException):
    """Raised by the alarm when a command line never finishes."""


def _within(seconds: float, func, *args):
    """Call func(*args), raising _Hung if it is still running after ``seconds``."""
    def stop(signum, frame):
        raise _Hung()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return func(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("line", ["echo a & echo b", "sleep 1 &", "echo a >& /tmp/x"])
def test_ampersand_does_not_hang_the_parser(line):
    """A line with '&' is parsed, or refused with ShellSyntaxError; it never hangs."""
    try:
        _within(0.1, parse, line)
    except ShellSyntaxError:
        pass
    except _Hung:
        pytest.fail(f"parse({line!r}) never returned", pytrace=False)


# ------------------------------------------------------------------ builtins
def test_echo(shared):
    """echo joins its arguments with spaces; -n drops the newline."""
    assert out(shared, "echo a   b") == "a b\n"
    assert out(shared, "echo") == "\n"
    assert out(shared, "echo -n a; echo b") == "ab\n"


def test_true_false_and_colon(shared):
    """true and : exit 0, false exits 1."""
    assert [shared.sh(c).status for c in ("true", ":", "false")] == [0, 0, 1]


def test_cd_and_pwd(ro):
    """cd changes the directory for the rest of the line; bare cd goes to $HOME."""
    assert out(ro, "pwd") == "/\n"
    assert out(ro, "cd /etc; pwd") == "/etc\n"
    assert out(ro, "cd /usr; cd bin; pwd") == "/usr/bin\n"
    assert out(ro, "cd /usr/bin; cd ..; pwd") == "/usr\n"
    assert out(ro, "cd; pwd") == "/root\n"
    assert out(ro, "cd /tmp && touch rel && ls /tmp/rel") == "/tmp/rel\n"


@pytest.mark.parametrize(("target", "why"), [
    ("/nope", "No such file or directory"),
    ("/etc/passwd", "Not a directory"),
])
def test_cd_errors(ro, target, why):
    """cd into something that is not a directory: sh: cd: PATH: reason, status 1."""
    result = ro.sh(f"cd {target}")
    assert (result.stderr, result.status) == (f"sh: cd: {target}: {why}\n", 1)


def test_export_sets_several_variables(shared):
    """export NAME=value [NAME=value...]."""
    assert out(shared, "export P=1 Q=2; echo $P$Q") == "12\n"


@pytest.mark.parametrize(("expr", "status"), [
    ("-e /etc/passwd", 0), ("-e /nope", 1), ("-e /etc", 0),
    ("-f /etc/passwd", 0), ("-f /etc", 1), ("-f /nope", 1),
    ("-d /etc", 0), ("-d /etc/passwd", 1),
    ("-L /bin", 0), ("-h /bin", 0), ("-L /etc", 1),
    ("-s /etc/passwd", 0), ("-s /var/log/lastlog", 1),
    ("-r /etc/passwd", 0),
    ("-w /etc/passwd", 1), ("-w /tmp", 0), ("-w /var/log", 1),
    ("-x /usr/bin/ls", 0), ("-x /etc/passwd", 1),
    ("-n abc", 0), ('-n ""', 1), ('-z ""', 0), ("-z abc", 1), ("-z $UNSET", 0),
    ('-z "$UNSET"', 0), ('-n "$UNSET"', 1),
    ("abc", 0), ('""', 1), ("", 1),
    ("a = a", 0), ("a = b", 1), ("a == a", 0), ("a != b", 0), ("a != a", 1),
    ("1 -eq 1", 0), ("1 -eq 2", 1), ("1 -ne 2", 0), ("2 -ne 2", 1),
    ("1 -lt 2", 0), ("2 -lt 2", 1), ("2 -le 2", 0), ("3 -le 2", 1),
    ("3 -gt 2", 0), ("2 -gt 2", 1), ("2 -ge 2", 0), ("1 -ge 2", 1),
    ("10 -gt 9", 0), ("-1 -lt 0", 0),
    ("! -e /nope", 0), ("! -e /etc", 1), ("! a = b", 0),
])
def test_test_and_bracket(shared, expr, status):
    """test EXPR and [ EXPR ] agree and follow POSIX test."""
    assert out(shared, f"test {expr}; echo $?; [ {expr} ]; echo $?") == f"{status}\n{status}\n"


def test_write_test_follows_the_mount(rw):
    """-w follows the mount, not the mode bits: true here, false on the read-only root."""
    assert rw.sh("[ -w /etc/passwd ]").status == 0
    assert rw.sh("[ -w /var/log ]").status == 0


@pytest.mark.parametrize(("profile", "status"), [("cri-o", 1), ("podman", 0)])
def test_execute_test_on_a_noexec_tmpfs(image, profile, status):
    """access(X_OK) is refused on a noexec mount: test -x is false on CRI-O's /tmp."""
    ctr = started(profile, image, read_only=True)
    assert ctr.sh("echo x > /tmp/s; chmod 755 /tmp/s; test -x /tmp/s").status == status


@pytest.mark.parametrize(("line", "stderr"), [
    ("[ 1 -eq 1", "sh: [: missing `]'\n"),
    ("[", "sh: [: missing `]'\n"),
    ("test -q x", "sh: test: -q: unary operator expected\n"),
    ("test a b c d", "sh: test: too many arguments\n"),
    ("test a -zz b", "sh: test: -zz: binary operator expected\n"),
    ("test x -eq 1", "sh: test: x: integer expression expected\n"),
    ("[ x -lt 1 ]", "sh: [: x: integer expression expected\n"),
])
def test_test_usage_errors_exit_2(shared, line, stderr):
    """Malformed test expressions print bash's message and exit 2."""
    result = shared.sh(line)
    assert (result.stderr, result.status) == (stderr, 2)


def test_integer_error_names_the_bad_operand(shared):
    """bash reports whichever operand is not an integer."""
    expect(shared.sh("test 1 -lt x").stderr, "sh: test: x: integer expression expected\n")


# ------------------------------------------------------------------ finding programs
def test_command_not_found(shared):
    """An unknown name: sh: foo: command not found, status 127."""
    result = shared.sh("foo")
    assert (result.stdout, result.stderr, result.status) == (
        "", "sh: foo: command not found\n", 127)
    assert out(shared, "foo 2>/dev/null; echo $?") == "127\n"


def test_path_lookup_uses_the_commands_path(shared):
    """Programs are searched in $PATH; a prefix PATH=... changes the search."""
    result = shared.sh("PATH=/nowhere ls /")
    assert (result.stderr, result.status) == ("sh: ls: command not found\n", 127)
    assert shared.sh("PATH=/usr/local/bin/tools:/usr/local/bin greet z").stdout == (
        "hello z (1) from /usr/local/bin/greet\n")


def test_path_skips_directories(shared):
    """A directory named like the command in $PATH is not a match."""
    result = shared.sh("tools")
    assert (result.stderr, result.status) == ("sh: tools: command not found\n", 127)


def test_programs_run_by_absolute_and_relative_path(ro):
    """A name with a '/' is not searched in $PATH."""
    assert out(ro, "/usr/bin/id") == "uid=0(root) gid=0(root) groups=0(root)\n"
    assert out(ro, "cd /usr/local/bin; ./greet y") == "hello y (1) from ./greet\n"
    assert out(ro, "cd /usr; bin/id") == "uid=0(root) gid=0(root) groups=0(root)\n"


@pytest.mark.parametrize(("line", "stdout"), [
    ("/usr/bin/echo hi", "hi\n"),
    ("/usr/bin/pwd", "/\n"),
    ("/usr/bin/test -d /etc; echo $?", "0\n"),
    ("/usr/bin/[ -d /etc ]; echo $?", "0\n"),
])
def test_coreutils_that_are_also_builtins_run_by_path(shared, line, stdout):
    """The executable files of builtins run too (as `env echo` or `find -exec echo` need)."""
    expect(shared.sh(line).stdout, stdout)


# ------------------------------------------------------------------ exec rules
@pytest.mark.parametrize("name", ["notexec", "/usr/local/bin/notexec"])
def test_file_without_execute_bit(shared, name):
    """execve of a file without x: sh: NAME: Permission denied, status 126."""
    result = shared.sh(name)
    assert (result.stdout, result.stderr, result.status) == (
        "", f"sh: {name}: Permission denied\n", 126)


def test_a_readable_text_file_is_not_executable(shared):
    """Data files are mode 0644: running one is Permission denied."""
    result = shared.sh("/etc/passwd")
    assert (result.stderr, result.status) == ("sh: /etc/passwd: Permission denied\n", 126)


@pytest.mark.parametrize("directory", ["/tmp", "/var/tmp", "/run", "/dev/shm"])
def test_crio_tmpfs_is_noexec(ro, directory):
    """CRI-O's --read-only tmpfs are noexec: a dropped script gets Permission denied (126)."""
    result = ro.sh(f"echo 'echo dropped' > {directory}/x; chmod 755 {directory}/x; {directory}/x")
    assert (result.stdout, result.stderr, result.status) == (
        "", f"sh: {directory}/x: Permission denied\n", 126)


@pytest.mark.parametrize("directory", ["/tmp", "/var/tmp", "/run"])
def test_podman_read_only_tmpfs_allows_exec(image, directory):
    """Podman's --read-only tmpfs have no noexec: the same dropped script runs."""
    ctr = started("podman", image, read_only=True)
    result = ctr.sh(f"echo 'echo dropped' > {directory}/x; chmod 755 {directory}/x; "
                    f"{directory}/x")
    assert (result.stdout, result.stderr, result.status) == ("dropped\n", "", 0)


def test_podman_dev_shm_stays_noexec(image):
    """/dev/shm is noexec in every runtime."""
    ctr = started("podman", image, read_only=True)
    result = ctr.sh("echo 'echo dropped' > /dev/shm/x; chmod 755 /dev/shm/x; /dev/shm/x")
    assert (result.stderr, result.status) == ("sh: /dev/shm/x: Permission denied\n", 126)


@pytest.mark.parametrize(("profile", "status"), [("cri-o", 126), ("podman", 0)])
def test_a_copied_binary_in_tmp(image, profile, status):
    """A program copied to /tmp and made executable runs on Podman, not on CRI-O."""
    ctr = started(profile, image, read_only=True)
    result = ctr.sh("cp /usr/bin/id /tmp/id; chmod 755 /tmp/id; /tmp/id")
    assert result.status == status
    if status:
        assert result.stderr == "sh: /tmp/id: Permission denied\n"
    else:
        assert result.stdout == "uid=0(root) gid=0(root) groups=0(root)\n"


def test_noexec_on_a_user_docker_tmpfs(image):
    """Docker's --tmpfs defaults to noexec; exec in the mount option lifts it."""
    ctr = started("docker", image, read_only=True,
                  mounts=[rosim.Tmpfs("/tmp"), rosim.Tmpfs("/work", options=("exec",))])
    script = "echo 'echo ran' > {0}/x; chmod 755 {0}/x; {0}/x"
    assert ctr.sh(script.format("/tmp")).status == 126
    assert ctr.sh(script.format("/work")).stdout == "ran\n"


@pytest.mark.parametrize("path", ["/usr/local/bin/tools", "/etc"])
def test_executing_a_directory(shared, path):
    """A directory: sh: PATH: Is a directory, status 126."""
    result = shared.sh(path)
    assert (result.stderr, result.status) == (f"sh: {path}: Is a directory\n", 126)


@pytest.mark.parametrize("path", ["/nope/x", "/usr/bin/nope", "nope/x"])
def test_executing_a_missing_path(shared, path):
    """A path that does not exist: sh: PATH: No such file or directory, status 127."""
    result = shared.sh(path)
    assert (result.stderr, result.status) == (f"sh: {path}: No such file or directory\n", 127)


def test_shebang_script_runs_through_the_shell(ro):
    """#!/bin/sh scripts get $0, $1 and $#, and exit with their own status."""
    result = ro.sh("greet world")
    assert (result.stdout, result.status) == ("hello world (1) from /usr/local/bin/greet\n", 4)
    assert out(ro, "greet 'a b' c > /tmp/o; cat /tmp/o") == (
        "hello a b (2) from /usr/local/bin/greet\n")


def test_text_file_without_shebang_runs_as_a_script(shared):
    """A text file with x and no #! is run by the shell (ENOEXEC fallback)."""
    assert out(shared, "plain a") == "plain a\n"


def test_script_written_at_run_time(rw):
    """A script created in the container runs where exec is allowed."""
    assert out(rw, "echo 'echo made $1' > /usr/local/bin/made; chmod +x /usr/local/bin/made; "
                   "made here") == "made here\n"


@pytest.mark.parametrize(("tool", "stdout"), [
    ("pyscript", "py ['/usr/local/bin/pyscript', 'a', 'b']\n"),
    ("envpy", "envpy ['a', 'b']\n"),
])
def test_python_shebang_runs_python3(shared, tool, stdout):
    """#!/usr/bin/python3 and #!/usr/bin/env python3 run the file with python3 and argv."""
    assert out(shared, f"{tool} a b") == stdout


def test_unknown_program_is_an_exec_format_error(shared):
    """An ELF-marked file naming no implemented program: cannot execute binary file."""
    result = shared.sh("mystery")
    assert (result.stdout, result.stderr, result.status) == (
        "", "sh: mystery: cannot execute binary file: Exec format error\n", 126)


def test_missing_interpreter_is_a_bad_interpreter(shared):
    """The kernel fails execve of the script; bash names the script and the interpreter."""
    result = shared.sh("perlish")
    expect((result.stderr, result.status),
           ("sh: /usr/local/bin/perlish: /usr/bin/perl: bad interpreter: "
            "No such file or directory\n", 126))


@pytest.mark.parametrize("image_name", ["fedora", "busybox", "pyapp"])
def test_sh_dash_c_runs_a_command(image_name):
    """The image's own shell runs a command line (`sh -c`, as `crictl exec CTR sh -c`)."""
    ctr = started("cri-o", rosim.Image.builtin(image_name), read_only=True)
    assert out(ctr, "sh -c 'echo hi'") == "hi\n"


def test_sh_arguments_and_status(shared):
    """sh -c CMD NAME ARGS sets $0 and $1...; the child's exit status comes back."""
    assert out(shared, "sh -c 'echo $0 $1' a b") == "a b\n"
    assert out(shared, "bash -c 'echo $#' x y z") == "2\n"
    assert out(shared, "sh -c 'exit 3'; echo $?") == "3\n"
    assert out(shared, "echo 'echo piped' | sh") == "piped\n"
    assert shared.sh("sh -c").stderr == "sh: -c: option requires an argument\n"
    assert shared.sh("sh /nope").stderr == "sh: /nope: No such file or directory\n"


def test_sh_file_reads_a_script_on_a_noexec_mount(ro):
    """`sh FILE` reads the script, so noexec does not stop it (as on Linux)."""
    result = ro.sh("echo 'echo via sh $1' > /tmp/s; chmod +x /tmp/s; /tmp/s x; sh /tmp/s x")
    assert result.stdout == "via sh x\n"
    assert result.stderr == "sh: /tmp/s: Permission denied\n"


def test_a_child_shells_cd_does_not_move_the_parent(ro):
    """cd in a child process changes only the child's directory."""
    expect(ro.sh("sh -c 'cd /etc; pwd'; pwd").stdout, "/etc\n/\n")


def test_busybox_applets():
    """busybox APPLET runs the applet; a copy in a noexec /tmp does not run."""
    ctr = started("cri-o", rosim.Image.builtin("busybox"), read_only=True)
    assert out(ctr, "busybox echo hi") == "hi\n"
    assert "etc\n" in out(ctr, "busybox ls /")
    result = ctr.sh("cp /bin/busybox /tmp/bb; /tmp/bb ls")
    assert (result.stderr, result.status) == ("sh: /tmp/bb: Permission denied\n", 126)


# ------------------------------------------------------------------ sessions
def test_session_keeps_directory_and_variables(ro):
    """A ShellSession is one shell: cd, export, plain variables and $? carry over."""
    session = ro.shell()
    assert isinstance(session, rosim.ShellSession)
    session.sh("cd /etc")
    session.sh("export GREETING=hi")
    session.sh("X=1")
    assert session.sh("pwd; echo $GREETING $X").stdout == "/etc\nhi 1\n"
    session.sh("false")
    assert session.sh("echo $?").stdout == "1\n"
    session.sh("cd /nope")
    assert session.sh("pwd").stdout == "/etc\n"


def test_session_transcript_and_history(ro):
    """The session's transcript is every command with its output, in order."""
    session = ro.shell()
    session.sh("cd /etc/dnf")
    session.sh("ls")
    session.sh("touch x")
    assert len(session.history) == 3
    assert [r.command for r in session.history] == ["cd /etc/dnf", "ls", "touch x"]
    assert session.transcript == (
        "sh-4.4# cd /etc/dnf\n"
        "sh-4.4# ls\ndnf.conf\nprotected.d\n"
        "sh-4.4# touch x\ntouch: cannot touch 'x': Read-only file system\n")


def test_session_sees_its_own_writes(ro):
    """Files written by one command are there for the next."""
    session = ro.shell()
    session.sh("echo kept > /tmp/k")
    assert session.sh("cat /tmp/k").stdout == "kept\n"


def test_separate_sh_calls_do_not_share_variables(ro):
    """Container.sh starts a fresh shell each time: exported variables do not survive."""
    ro.sh("export Z=1")
    assert ro.sh("echo [$Z]").stdout == "[]\n"


def test_separate_sh_calls_start_in_the_root_directory(ro):
    """cd in one Container.sh or session does not move the next one."""
    ro.sh("cd /etc")
    first, second = ro.shell(), ro.shell()
    after_sh = ro.sh("pwd").stdout
    first.sh("cd /usr")
    expect((after_sh, second.sh("pwd").stdout), ("/\n", "/\n"))


def test_session_rejects_a_non_string_command(shared):
    """sh() wants a str."""
    with pytest.raises(rosim.ConfigError, match=r"command\(=5\) must be a str"):
        shared.shell().sh(5)  # type: ignore[arg-type]
    with pytest.raises(rosim.ConfigError):
        shared.sh(["ls"])  # type: ignore[arg-type]


def test_shell_needs_a_running_container(image):
    """sh, exec and shell refuse a stopped or never-started container."""
    ctr = started("cri-o", image, read_only=True)
    session = ctr.shell()
    ctr.stop()
    for call in (lambda: ctr.sh("ls"), lambda: ctr.exec(["ls"]), ctr.shell,
                 lambda: session.sh("ls")):
        with pytest.raises(rosim.ContainerStateError, match="needs a running container"):
            call()
    fresh = rosim.Runtime("podman").create(image, name="new")
    with pytest.raises(rosim.ContainerStateError):
        fresh.sh("ls")


# ------------------------------------------------------------------ results
def test_result_streams_status_and_transcript(shared):
    """stdout, stderr, status, ok, and a transcript with the prompt, in write order."""
    result = shared.sh("echo out; ls /nope; echo end")
    assert isinstance(result, rosim.ExecResult)
    assert result.command == "echo out; ls /nope; echo end"
    assert result.stdout == "out\nend\n"
    assert result.stderr == "ls: cannot access '/nope': No such file or directory\n"
    assert result.status == 0 and result.ok
    assert result.transcript == (
        "sh-4.4# echo out; ls /nope; echo end\nout\n"
        "ls: cannot access '/nope': No such file or directory\nend\n")
    assert str(result) == result.transcript
    assert not shared.sh("false").ok


def test_transcript_ends_with_a_newline(shared):
    """Output without a final newline still leaves the transcript line-terminated."""
    assert shared.sh("echo -n x").transcript == "sh-4.4# echo -n x\nx\n"
    assert shared.sh("true").transcript == "sh-4.4# true\n"


def test_transcript_shows_the_demo_failure(shared):
    """The CRI-O demo as a learner sees it."""
    assert shared.sh("dnf install nc").transcript == (
        "sh-4.4# dnf install nc\nConfig error: Read-only file system: '/var/log/dnf.log'\n")


def test_result_html(shared):
    """_repr_html_ escapes the text, shows the prompt and marks standard error."""
    html = shared.sh('echo "<b>&"; ls /nope')._repr_html_()
    assert html.startswith("<pre")
    assert html.endswith("</pre>")
    assert ('<b><span style="color:#009E73">sh-4.4# </span>'
            "echo &quot;&lt;b&gt;&amp;&quot;; ls /nope</b>") in html
    assert "\n&lt;b&gt;&amp;\n" in html
    assert html.count("<b>") == 1
    assert '<span style="color:#D55E00">ls: cannot access &#x27;/nope&#x27;' in html


@pytest.mark.parametrize(("image_name", "prompt"), [("fedora", "sh-4.4# "), ("busybox", "/ # ")])
def test_prompt_depends_on_the_image(image_name, prompt):
    """bash's sh prompt in Fedora, busybox's in busybox."""
    ctr = started("docker", rosim.Image.builtin(image_name))
    assert ctr.prompt == prompt
    assert ctr.sh("id").transcript == f"{prompt}id\nuid=0(root) gid=0(root) groups=0(root)\n"


# ------------------------------------------------------------------ Container.exec
def test_exec_runs_a_program_without_a_shell(ro):
    """exec(argv) runs the program found in PATH; its result reads like sh's."""
    result = ro.exec(["ls", "/"])
    assert result.status == 0 and result.stderr == ""
    names = result.stdout.splitlines()
    assert names == sorted(names)
    assert {"etc", "usr", "var", "tmp", "proc", "dev"} <= set(names)
    assert result.command == "ls /"
    assert result.transcript.startswith("sh-4.4# ls /\n")


def test_exec_does_not_expand_or_split(shared):
    """Arguments are passed as given: no variables, globs, quotes or operators."""
    assert shared.exec(["echo", "$HOME", "a;b", "*", "'q'"]).stdout == "$HOME a;b * 'q'\n"


def test_exec_passes_stdin(shared):
    """stdin reaches the program."""
    assert shared.exec(["cat"], stdin="piped\n").stdout == "piped\n"
    assert shared.sh("cat", stdin="abc\n").stdout == "abc\n"


def test_exec_of_a_missing_program(shared):
    """A name not in PATH: the runtime's exec error and status 127."""
    result = shared.exec(["nope", "x"])
    assert result.status == 127
    assert result.stderr == ('exec failed: unable to start container process: exec: "nope": '
                             "executable file not found in $PATH\n")


def test_exec_follows_the_exec_rules(ro):
    """exec applies the same kernel checks: missing path 127, noexec and directories 126."""
    ro.sh("echo 'echo x' > /tmp/x; chmod 755 /tmp/x")
    assert ro.exec(["/usr/bin/nope"]).status == 127
    denied = ro.exec(["/tmp/x"])
    assert denied.status == 126 and denied.stderr.endswith('"/tmp/x": permission denied\n')
    directory = ro.exec(["/etc"])
    assert directory.status == 126 and directory.stderr.endswith('"/etc": is a directory\n')


def test_exec_of_programs_scripts_and_failures(ro):
    """Programs report their own errors; scripts run; exit statuses come back."""
    touched = ro.exec(["touch", "/etc/x"])
    assert (touched.stderr, touched.status) == (
        "touch: cannot touch '/etc/x': Read-only file system\n", 1)
    assert ro.exec(["greet", "x"]).status == 4
    assert ro.exec(["dnf", "install", "nc"]).stderr == (
        "Config error: Read-only file system: '/var/log/dnf.log'\n")


def test_exec_of_a_missing_path_uses_the_runtime_wording(shared):
    """Both missing-program cases read like runc's exec error."""
    expect(shared.exec(["/usr/bin/nope"]).stderr,
           'exec failed: unable to start container process: exec: "/usr/bin/nope": '
           "stat /usr/bin/nope: no such file or directory\n")


@pytest.mark.parametrize("argv", [[], "ls", ["ls", 1], None])
def test_exec_rejects_bad_argv(shared, argv):
    """argv must be a non-empty list of str."""
    with pytest.raises(rosim.ConfigError, match="must be a non-empty list of str"):
        shared.exec(argv)

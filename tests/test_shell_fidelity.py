"""The shell's syntax against the real shells on this machine: bash and busybox sh.

Each script runs three ways and must give the same standard output, standard
error and exit status:

* rosim, in a ``fedora`` container (bash dialect) and in a ``busybox``
  container (busybox dialect), working directory ``/tmp``;
* ``bash -c SCRIPT sh`` (named ``sh``, as Fedora's ``/bin/sh`` is bash) and
  ``busybox sh -c SCRIPT`` (Debian's ``busybox-static``), each in a fresh
  temporary directory, with ``PATH=/usr/bin:/bin`` and no start-up files.

Standard error is compared after removing the one thing that differs by
version: the ``line N:`` (and bash's ``-c:``) after ``sh:``, which bash 5
prints and Fedora 28's bash 4.4, which rosim follows, does not (see
:func:`_normalize`). Scripts
marked for one shell only are compared with that shell (their messages
differ by design: bash's ``command not found`` is busybox's ``not found``).

Without busybox-static the busybox side skips (with
``ROSIM_REQUIRE_FIDELITY=1`` it fails); bash is always present.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import rosim

BUSYBOX = "/bin/busybox"
TIMEOUT = 20

#: (label, script, shells): shells is "both", "bash" or "busybox".
CASES: list[tuple[str, str, str]] = [
    ("for loop", "for i in 1 2 3; do echo \"i=$i\"; done", "both"),
    ("for over a command", "for w in $(echo a b) c; do echo \"<$w>\"; done", "both"),
    ("for without in uses the arguments",
     "set -- x 'y z'; for a; do echo \"[$a]\"; done", "both"),
    ("while with arithmetic",
     "n=0; while [ $n -lt 3 ]; do n=$((n + 1)); echo $n; done; echo done $n", "both"),
    ("until loop", "n=3; until [ $n -eq 0 ]; do echo $n; n=$((n-1)); done", "both"),
    ("nested loops, break 2 and continue",
     "for a in 1 2 3; do for b in x y; do [ $b = y ] && continue; [ $a = 2 ] && break 2; "
     "echo $a$b; done; done; echo end", "both"),
    ("if elif else",
     "for x in 1 2 3; do if [ $x = 1 ]; then echo one; elif [ $x = 2 ]; then echo two; "
     "else echo other; fi; done", "both"),
    ("if status is the last command's", "if false; then :; fi; echo $?; if false; then :; "
     "else false; fi; echo $?", "both"),
    ("case patterns",
     "for f in a.txt b.tar.gz README x; do case $f in *.txt) echo text;; *.tar.*|*.tgz) "
     "echo archive;; [A-Z]*) echo upper;; *) echo \"other $f\";; esac; done", "both"),
    ("case with quoted pattern", "x='*'; case a in \"$x\") echo star;; *) echo any;; esac",
     "both"),
    ("command substitution", "echo \"[$(echo a; echo b)]\" $(echo  x   y) `echo back`",
     "both"),
    ("nested substitution", "echo $(echo outer $(echo inner $(echo deep)))", "both"),
    ("substitution strips trailing newlines", "x=$(printf 'a\\n\\n\\n'); echo \"[$x]\"",
     "both"),
    ("status of an assignment from a substitution", "x=$(false); echo $?; y=$(true); echo $?",
     "both"),
    ("default and alternative values",
     "unset U; E=; S=set; echo ${U:-d1} ${U-d2} [${E:-d3}] [${E-d4}] ${S:+alt} [${U:+alt}]",
     "both"),
    ("assign default", "unset U; echo ${U:=given}; echo $U", "both"),
    ("length and pattern removal",
     "p=/usr/lib/libc.so.6; echo ${#p} ${p##*/} ${p#*/} ${p%/*} ${p%%.*} ${p%.*}", "both"),
    ("field splitting and quoting",
     "X='a  b'; for w in $X; do echo \"[$w]\"; done; echo \"[$X]\"; echo [$X]", "both"),
    ("empty unquoted variable vanishes", "E=; set -- $E; echo $#; set -- \"$E\"; echo $#",
     "both"),
    ("\"$@\" keeps arguments",
     "f() { echo $#; for a in \"$@\"; do echo \"<$a>\"; done; }; f 'a b' c; f", "both"),
    ("$* joins", "set -- a b c; echo \"$*\"; echo $# $1 $3", "both"),
    ("shift", "set -- a b c; shift; echo $# $1; shift 2; echo $#", "both"),
    ("functions, return and local",
     "x=global; f() { local x=inner; echo \"in $x $1\"; return 3; }; f arg; echo $? $x",
     "both"),
    ("function sees and changes globals", "g() { y=changed; }; y=before; g; echo $y", "both"),
    ("recursive function",
     "fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(( $1 - 1 ))) )); "
     "fi; }; fact 5", "both"),
    ("and-or lists", "true && echo a || echo b; false && echo c || echo d; false || false "
     "|| echo e", "both"),
    ("negation", "! false; echo $?; ! true; echo $?", "both"),
    ("brace group keeps state, subshell does not",
     "x=1; { x=2; }; echo $x; (x=3; cd /; echo in $x); echo $x", "both"),
    ("subshell exit does not end the shell", "(exit 4); echo $?", "both"),
    ("group output redirected", "{ echo a; echo b; } > out.txt; wc -l < out.txt", "both"),
    ("pipeline into while read runs in a subshell",
     "n=0; printf 'a\\nb\\n' | while read l; do n=$((n+1)); echo \"got $l\"; done; echo $n",
     "both"),
    ("read splits on IFS", "echo 'a b c d' | { read x y rest; echo \"$x|$y|$rest\"; }",
     "both"),
    ("read from a here-document in a loop",
     "while read k v; do echo \"$k=$v\"; done <<EOF\none 1\ntwo 2\nEOF", "both"),
    ("here-document expands, quoted one does not",
     "X=val\ncat <<EOF\nx is $X $(echo sub) \\$X\nEOF\ncat <<'EOF'\nx is $X\nEOF", "both"),
    ("here-document with tabs stripped", "cat <<-EOF\n\tindented\n\tEOF\necho after",
     "both"),
    ("arithmetic", "echo $((2 + 3 * 4)) $(( (2+3)*4 )) $((7 / 2)) $((7 % 3)) $((-7 / 2)) "
     "$((2 ** 10)) $((1 < 2)) $((3 == 4)) $((5 > 2 && 0 || 1)) $((0x10)) $((010))", "both"),
    ("arithmetic assignment", "i=5; echo $((i += 2)) $i $((i++)) $i $((--i))", "both"),
    ("arithmetic with variables", "a=3 b=4; echo $((a * a + b * b)) $(( $a + b ))", "both"),
    ("printf formats", "printf '%s-%d-%5s|%-3s|%x\\n' a 42 r l 255; printf '%s\\n' x y z",
     "both"),
    ("eval", "cmd='echo evaluated; x=9'; eval \"$cmd\"; echo $x", "both"),
    ("export reaches a child shell", "export E1=yes; N1=no; sh -c 'echo \"$E1 [$N1]\"'",
     "both"),
    ("prefix assignment is for one command", "V=tmp sh -c 'echo $V'; echo \"[$V]\"", "both"),
    ("quoting", "echo 'a'\"b\"\\c \"$(echo \"in  ner\")\" '$HOME' \"\\$HOME\"", "both"),
    ("glob without a match stays", "echo /nonexistent/*.none", "both"),
    ("globs expand sorted", "touch b.g a.g c.g; echo *.g; echo \"*.g\"", "both"),
    ("redirections and files",
     "echo one > f; echo two >> f; cat f; cat < f | wc -l; echo err 1>&2 2>/dev/null",
     "both"),
    ("stderr to stdout in a pipe", "sh -c 'echo oops >&2' 2>&1 | sed 's/o/0/g'", "both"),
    ("sed substitute, print, delete",
     "printf 'a1\\nb2\\nc3\\n' | sed -n '2p'; printf 'a1\\nb2\\n' | sed 's/[0-9]/#/'; "
     "printf 'x\\ny\\n' | sed '/x/d'", "both"),
    ("awk fields", "printf 'a b c\\nd e f\\n' | awk '{print $2, $1}'; "
     "echo 'k:v:w' | awk -F: '{print $3}'", "both"),
    ("xargs", "printf '1\\n2\\n3\\n' | xargs echo n:; echo a b c | xargs -n 1 echo", "both"),
    ("tee writes and passes on", "echo data | tee copy.txt | wc -c; cat copy.txt", "both"),
    ("find by name and type",
     "mkdir -p d/e; touch d/x.txt d/e/y.txt d/e/z.log; find d -name '*.txt' | sort; "
     "find d -type d | sort", "both"),
    ("set -e ends the script at a failure", "set -e; echo a; false; echo never", "both"),
    ("set -e spares tested commands",
     "set -e; false || echo or; if false; then :; fi; while false; do :; done; ! true; "
     "false && echo no; echo reached", "both"),
    ("set -e in a function and a subshell",
     "set -e; f() { echo in; false; echo not; }; (false; echo not either); echo after $?",
     "both"),
    ("set -e in a script run by sh", "printf 'set -e\\necho one\\nfalse\\necho two\\n' "
     "> s.sh; sh s.sh; echo status $?", "both"),
    ("read -r keeps backslashes", "printf 'a\\\\b c\\n' | { read -r x y; echo \"$x|$y\"; "
     "}; printf 'a\\\\b\\n' | { read x; echo \"$x\"; }", "both"),
    ("read at end of input", "printf 'last' | { read x; echo \"$? [$x]\"; }; "
     "printf '' | { read x; echo \"$? [$x]\"; }", "both"),
    ("while read from a file", "printf 'k1 v1\\nk2 v2\\n' > kv; while read k v; do "
     "echo \"$v<-$k\"; done < kv", "both"),
    ("for over a glob", "touch x1 x2 x3; for f in x*; do echo \"file $f\"; done", "both"),
    ("here-document inside a function", "f() {\ncat <<EOF\narg=$1\nEOF\n}\nf one",
     "both"),
    ("exit inside a pipeline ends only that part", "echo a | exit 3; echo \"after $?\"",
     "both"),
    ("case without a match and empty bodies", "case z in a) ;; b) echo b;; esac; echo $?; "
     "case a in a) ;; esac; echo $?", "both"),
    ("pattern removal with quotes", "v='a*b*c'; echo \"${v#*\\*}\" \"${v%\"*\"*}\"", "both"),
    ("nested quotes in substitution", "echo \"$(echo \"a  'b'  c\")\"", "both"),
    ("arithmetic comparison in a condition",
     "i=0; while [ $((i * 2)) -lt 6 ]; do i=$((i+1)); done; echo $i", "both"),
    ("unset variables and functions", "x=1; f() { :; }; unset x; unset -f f; echo \"[$x]\"; "
     "f 2>/dev/null || echo gone", "both"),
    ("printf reuses its format", "printf '%s:%s\\n' a b c", "both"),
    ("continue in a while loop", "i=0; while [ $i -lt 5 ]; do i=$((i+1)); "
     "[ $((i % 2)) -eq 0 ] && continue; echo $i; done", "both"),
    ("builtins outside their place",
     "break; echo \"break=$?\"; continue 2; echo \"continue=$?\"; shift 5; echo \"shift=$?\"",
     "both"),
    ("return and local outside a function", "local x; echo \"local=$?\"; return 1; "
     "echo \"return=$?\"", "bash"),
    ("return and local outside a function (busybox)", "return 3; echo never", "busybox"),
    ("local outside a function ends busybox", "local x; echo never", "busybox"),
    ("break more levels than loops", "for a in 1 2; do for b in 1 2; do break 5; done; "
     "echo inner; done; echo out", "both"),
    ("cd to a missing directory", "cd /nonexistent; echo \"cd=$?\"", "bash"),
    ("cd to a missing directory (busybox)", "cd /nonexistent; echo \"cd=$?\"", "busybox"),
    ("unclosed quote", "echo \"abc", "bash"),
    ("unclosed quote (busybox)", "echo \"abc", "busybox"),
    ("missing fi", "if true; then echo yes", "bash"),
    ("missing fi (busybox)", "if true; then echo yes", "busybox"),
    ("unexpected token", "echo a;; echo b", "bash"),
    ("unexpected token (busybox)", "echo a;; echo b", "busybox"),
    ("fi without if", "if true; fi", "bash"),
    ("fi without then (busybox)", "if true; fi", "busybox"),
    ("done without do (busybox)", "while true; echo; done", "busybox"),
    ("trailing and-and", "echo a &&", "both"),
    ("missing done", "for i in 1; do echo $i", "bash"),
    ("command not found", "nosuchcommand; echo $?", "bash"),
    ("command not found (busybox)", "nosuchcommand; echo $?", "busybox"),
    ("redirection into a missing directory", "echo x > /nonexistent/f; echo $?", "bash"),
    ("redirection into a missing directory (busybox)", "echo x > /nonexistent/f; echo $?",
     "busybox"),
    ("parameter error ends the shell", "echo before; echo ${NOPE:?}; echo after", "bash"),
    ("parameter error ends the shell (busybox)",
     "echo before; echo ${NOPE:?}; echo after", "busybox"),
    ("division by zero", "echo a; echo $((1/0)); echo same line\necho next line $?", "bash"),
    ("division by zero (busybox)", "echo a; echo $((1/0)); echo same line\necho next $?",
     "busybox"),
    ("runaway function recursion crashes busybox (SIGSEGV)", "f() { f; }; f; echo after",
     "busybox"),
    ("runaway sourcing crashes the shell (SIGSEGV)",
     "echo '. ./self.sh' > self.sh; . ./self.sh; echo after", "both"),
    ("function nesting limit (FUNCNEST)",
     "FUNCNEST=20; f() { f; }; f; echo same line\necho next line $?", "bash"),
]


def _normalize(stderr: str) -> str:
    """Drop bash 5's ``-c: line N:`` / ``line N:`` after the shell's name.

    busybox puts ``line N:`` after a builtin's name (``sh: cd: line 1:``); it goes too.

    bash 5.2 names a function's errors after where the function came from,
    ``environment: line 1:`` for one defined in ``-c``; that becomes ``sh:`` too.
    """
    stderr = re.sub(r"^environment: line \d+: ", "sh: ", stderr, flags=re.M)
    stderr = re.sub(r"^(sh: [a-z]+: )line \d+: ", r"\1", stderr, flags=re.M)
    return re.sub(r"^(sh: )(?:-c: )?line \d+: ", r"\1", stderr, flags=re.M)


def _busybox_or_skip() -> str:
    if os.path.isfile(BUSYBOX) and os.access(BUSYBOX, os.X_OK):
        return BUSYBOX
    if os.environ.get("ROSIM_REQUIRE_FIDELITY") == "1":
        pytest.fail("busybox-static not available; ROSIM_REQUIRE_FIDELITY=1 makes it mandatory",
                    pytrace=False)
    pytest.skip("busybox-static not available (apt-get install busybox-static)")


def _real(shell: str, script: str, tmp: Path) -> tuple[str, str, int]:
    """Run ``script`` with the real shell in ``tmp``: (stdout, stderr, status)."""
    if shell == "bash":
        argv = [shutil.which("bash") or "/bin/bash", "--norc", "--noprofile", "-c", script, "sh"]
    else:
        argv = [_busybox_or_skip(), "sh", "-c", script]
    env = {"PATH": "/usr/bin:/bin", "HOME": "/root", "LC_ALL": "C", "PWD": str(tmp)}
    proc = subprocess.run(argv, cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    # Killed by a signal: the status a parent shell reports, 128 + the signal.
    status = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
    return proc.stdout, _normalize(proc.stderr), status


def _rosim(shell: str, script: str) -> tuple[str, str, int]:
    image = rosim.Image.builtin("fedora" if shell == "bash" else "busybox")
    ctr = rosim.Runtime("podman").create(image, workdir="/tmp")
    ctr.start()
    result = ctr.sh(script)
    return result.stdout, result.stderr, result.status


def _params() -> list:
    out = []
    for label, script, shells in CASES:
        for shell in ("bash", "busybox"):
            if shells in ("both", shell):
                out.append(pytest.param(shell, script, id=f"{shell}: {label}"))
    return out


@pytest.mark.parametrize(("shell", "script"), _params())
def test_script_behaves_as_the_real_shell(shell, script, tmp_path):
    """Same stdout, stderr (line numbers aside) and exit status as the real shell."""
    real = _real(shell, script, tmp_path)
    assert _rosim(shell, script) == real


def test_every_case_runs_somewhere():
    """Each case names a shell this file knows."""
    assert {shells for _, _, shells in CASES} <= {"both", "bash", "busybox"}
    assert len({label for label, _, _ in CASES}) == len(CASES)

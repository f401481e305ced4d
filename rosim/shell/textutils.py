"""Programs that walk files and edit text: find, xargs, sed, tee (awk: :mod:`~rosim.shell.awk`).

They cover what learners reach for, with GNU's messages:

* ``find [PATH...] [-name P] [-iname P] [-type f|d|l] [-maxdepth N]
  [-mindepth N] [-newer F] [-size N] [-writable] [-print] [-exec CMD {} ;]``;
* ``xargs [-n N] [-I R] [CMD...]`` (default ``echo``);
* ``sed [-n] [-i] [-e S]... S [FILE...]`` with ``s/RE/REP/[gp]``, ``p``,
  ``d``, ``q`` and line or ``/RE/`` addresses (BRE as GNU sed reads it);
* ``tee [-a] FILE...``: a file that cannot be written gets
  ``tee: F: Read-only file system`` and status 1, the output still flows.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat

from rosim.shell.interp import Proc, program

__all__: list[str] = []


def _why(exc: OSError) -> str:
    return os.strerror(exc.errno or 0)


def _read_inputs(proc: Proc, files: list[str]) -> tuple[list[tuple[str, str]], int]:
    """(name, text) of each input file ('-' or none: standard input), and a status."""
    status = 0
    out = []
    for name in files or ["-"]:
        if name == "-":
            out.append(("-", proc.stdin))
            continue
        try:
            with open(name, errors="replace") as f:
                out.append((name, f.read()))
        except OSError as exc:
            proc.err(f"{proc.name}: {name}: {_why(exc)}\n" if proc.name != "sed" else
                     f"sed: can't read {name}: {_why(exc)}\n")
            status = 2 if proc.name == "sed" else 1
    return out, status


# ------------------------------------------------------------------ tee
@program("tee")
def _tee(proc: Proc) -> int:
    append = False
    files = []
    for arg in proc.argv[1:]:
        if arg in ("-a", "--append"):
            append = True
        else:
            files.append(arg)
    text = proc.stdin
    status = 0
    for name in files:
        try:
            with open(name, "a" if append else "w") as f:
                f.write(text)
        except OSError as exc:
            status = proc.fail(f"{name}: {_why(exc)}")
    proc.out(text)
    return status


# ------------------------------------------------------------------ find
def _size_test(spec: str, st: os.stat_result) -> bool:
    m = re.fullmatch(r"([+-]?)(\d+)([ckMG]?)", spec)
    if not m:
        return False
    sign, number, unit = m.groups()
    scale = {"c": 1, "k": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "": 512}[unit]
    size = -(-st.st_size // scale)
    n = int(number)
    return size > n if sign == "+" else size < n if sign == "-" else size == n


@program("find")
def _find(proc: Proc) -> int:
    args = proc.argv[1:]
    roots = []
    while args and not args[0].startswith("-") and args[0] not in ("!", "("):
        roots.append(args.pop(0))
    roots = roots or ["."]
    tests: list[tuple[str, object]] = []
    maxdepth, mindepth = None, 0
    exec_cmd: list[str] | None = None
    negate_next = False
    i = 0
    while i < len(args):
        arg = args[i]
        value = args[i + 1] if i + 1 < len(args) else None
        if arg == "!" or arg == "-not":
            negate_next = True
            i += 1
            continue
        if arg in ("-name", "-iname", "-type", "-newer", "-size", "-path", "-perm"):
            if value is None:
                return proc.fail(f"missing argument to `{arg}'")
            if arg == "-type" and value not in ("f", "d", "l", "c", "b", "p", "s"):
                return proc.fail(f"Unknown argument to -type: {value}")
            if arg == "-newer":
                try:
                    value = os.stat(value).st_mtime  # type: ignore[assignment]
                except OSError as exc:
                    return proc.fail(f"'{value}': {_why(exc)}")
            tests.append(("!" + arg if negate_next else arg, value))
            negate_next = False
            i += 2
            continue
        if arg in ("-maxdepth", "-mindepth"):
            if value is None or not value.isdigit():
                return proc.fail(f"Expected a positive decimal integer argument to {arg}, "
                                 f"but got `{value}'")
            if arg == "-maxdepth":
                maxdepth = int(value)
            else:
                mindepth = int(value)
            i += 2
            continue
        if arg in ("-writable", "-readable", "-executable", "-empty"):
            tests.append(("!" + arg if negate_next else arg, None))
            negate_next = False
            i += 1
            continue
        if arg in ("-print", "-xdev", "-mount"):
            i += 1
            continue
        if arg == "-exec":
            end = i + 1
            while end < len(args) and args[end] not in (";", "+"):
                end += 1
            if end >= len(args):
                return proc.fail("missing argument to `-exec'")
            exec_cmd = args[i + 1:end]
            i = end + 1
            continue
        return proc.fail(f"unknown predicate `{arg}'")
    status = 0

    def matches(path: str, st: os.stat_result) -> bool:
        for name, value in tests:
            negate = name.startswith("!")
            test = name.lstrip("!")
            base = os.path.basename(path.rstrip("/")) or path
            if test == "-name":
                ok = fnmatch.fnmatchcase(base, str(value))
            elif test == "-iname":
                ok = fnmatch.fnmatchcase(base.lower(), str(value).lower())
            elif test == "-path":
                ok = fnmatch.fnmatchcase(path, str(value))
            elif test == "-type":
                kinds = {"f": stat.S_ISREG, "d": stat.S_ISDIR, "l": stat.S_ISLNK,
                         "c": stat.S_ISCHR, "b": stat.S_ISBLK, "p": stat.S_ISFIFO,
                         "s": stat.S_ISSOCK}
                ok = kinds[str(value)](st.st_mode)
            elif test == "-newer":
                ok = st.st_mtime > float(value)  # type: ignore[arg-type]
            elif test == "-size":
                ok = _size_test(str(value), st)
            elif test == "-perm":
                ok = format(st.st_mode & 0o7777, "o") == str(value).lstrip("0") or (
                    str(value).startswith("-") and st.st_mode & int(str(value)[1:], 8)
                    == int(str(value)[1:], 8))
            elif test == "-writable":
                ok = os.access(path, os.W_OK)
            elif test == "-readable":
                ok = os.access(path, os.R_OK)
            elif test == "-executable":
                ok = os.access(path, os.X_OK)
            else:  # -empty
                ok = (st.st_size == 0 if not stat.S_ISDIR(st.st_mode)
                      else not os.listdir(path))
            if ok == negate:
                return False
        return True

    def act(path: str) -> None:
        nonlocal status
        if exec_cmd is None:
            proc.out(path + "\n")
            return
        argv = [path if a == "{}" else a.replace("{}", path) for a in exec_cmd]
        sub = Proc(argv, "", proc.stdout, proc.stderr, proc.shell, proc.env)
        if proc.shell.execute(sub) != 0:
            status = 1

    def walk(path: str, depth: int) -> None:
        nonlocal status
        try:
            st = os.lstat(path)
        except OSError as exc:
            status = proc.fail(f"'{path}': {_why(exc)}")
            return
        if depth >= mindepth and matches(path, st):
            act(path)
        if stat.S_ISDIR(st.st_mode) and (maxdepth is None or depth < maxdepth):
            try:
                names = sorted(os.listdir(path))
            except OSError as exc:
                status = proc.fail(f"'{path}': {_why(exc)}")
                return
            for name in names:
                walk(path.rstrip("/") + "/" + name if path != "/" else "/" + name, depth + 1)

    for root in roots:
        walk(root, 0)
    return status


# ------------------------------------------------------------------ xargs
@program("xargs")
def _xargs(proc: Proc) -> int:
    args = proc.argv[1:]
    per_call: int | None = None
    replace: str | None = None
    while args and args[0].startswith("-") and len(args[0]) > 1:
        flag = args.pop(0)
        if flag == "-n" and args:
            count = args.pop(0)
            if not count.isdigit() or int(count) < 1:
                return proc.fail(f"invalid number \"{count}\" for -n option", 1)
            per_call = int(count)
        elif flag.startswith("-n") and flag[2:].isdigit():
            per_call = int(flag[2:])
        elif flag == "-I" and args:
            replace = args.pop(0)
        elif flag in ("-r", "--no-run-if-empty", "-0"):
            continue
        else:
            return proc.fail(f"invalid option -- '{flag.lstrip('-')}'", 1)
    command = args or ["echo"]
    text = proc.stdin
    if replace is not None:
        batches = [[line] for line in text.splitlines() if line.strip()]
    else:
        items = text.split()
        if not items:
            batches = [] if "-r" in proc.argv else [[]]
        elif per_call is None:
            batches = [items]
        else:
            batches = [items[i:i + per_call] for i in range(0, len(items), per_call)]
    status = 0
    for batch in batches:
        if replace is not None:
            argv = [a.replace(replace, batch[0]) for a in command]
        else:
            argv = [*command, *batch]
        sub = Proc(argv, "", proc.stdout, proc.stderr, proc.shell, proc.env)
        result = proc.shell.execute(sub)
        if result == 127 or result == 126:
            return result
        if result == 255:
            proc.err(f"xargs: {argv[0]}: exited with status 255; aborting\n")
            return 124
        if result != 0:
            status = 123
    return status


# ------------------------------------------------------------------ sed
def _bre(pattern: str) -> str:
    """A POSIX basic regular expression (GNU flavour) as a Python one."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt in "(){}|+?":
                out.append(nxt)
            elif nxt == "n":
                out.append("\\n")
            elif nxt == "t":
                out.append("\\t")
            else:
                out.append("\\" + nxt)
            i += 2
            continue
        if c in "(){}|+?":
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _ere(pattern: str) -> str:
    return pattern


class _SedError(Exception):
    pass


def _split_delimited(text: str, start: int, delim: str) -> tuple[str, int]:
    """The text up to the next unescaped ``delim`` from ``start``; and the index after it."""
    out: list[str] = []
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            if text[i + 1] == delim:
                out.append(delim)
            else:
                out.append(text[i:i + 2])
            i += 2
            continue
        if c == delim:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise _SedError("unterminated `s' command")


def _sed_address(script: str, i: int, extended: bool) -> tuple[object, int]:
    if i < len(script) and script[i].isdigit():
        j = i
        while j < len(script) and script[j].isdigit():
            j += 1
        return int(script[i:j]), j
    if i < len(script) and script[i] == "$":
        return "$", i + 1
    if i < len(script) and script[i] == "/":
        body, j = _split_delimited(script, i + 1, "/")
        try:
            return re.compile(body if extended else _bre(body)), j
        except re.error as exc:
            raise _SedError(f"-e expression #1, char {j}: {exc}") from None
    return None, i


def _sed_parse(script: str, extended: bool) -> list[tuple]:
    commands = []
    i = 0
    n = len(script)
    while i < n:
        while i < n and script[i] in " \t\n;":
            i += 1
        if i >= n:
            break
        first, i = _sed_address(script, i, extended)
        second = None
        if first is not None and i < n and script[i] == ",":
            second, i = _sed_address(script, i + 1, extended)
        while i < n and script[i] in " \t":
            i += 1
        negate = False
        if i < n and script[i] == "!":
            negate = True
            i += 1
        if i >= n:
            raise _SedError(f"-e expression #1, char {i}: missing command")
        cmd = script[i]
        i += 1
        if cmd == "s":
            if i >= n:
                raise _SedError(f"-e expression #1, char {i}: unterminated `s' command")
            delim = script[i]
            pattern, i = _split_delimited(script, i + 1, delim)
            replacement, i = _split_delimited(script, i, delim)
            flags = ""
            while i < n and script[i] in "gpiI0123456789":
                flags += script[i]
                i += 1
            try:
                regex = re.compile(pattern if extended else _bre(pattern),
                                   re.IGNORECASE if "i" in flags.lower() else 0)
            except re.error as exc:
                raise _SedError(f"-e expression #1, char {i}: {exc}") from None
            commands.append((first, second, negate, "s", (regex, replacement, flags)))
        elif cmd in "pdqn=":
            commands.append((first, second, negate, cmd, None))
        elif cmd in "aic":
            text = script[i:].lstrip()
            text = text[1:] if text.startswith("\\") else text
            end = text.find("\n")
            commands.append((first, second, negate, cmd, text if end < 0 else text[:end]))
            i = n if end < 0 else n - len(text) + end
        else:
            raise _SedError(f"-e expression #1, char {i}: unknown command: `{cmd}'")
        while i < n and script[i] in " \t":
            i += 1
        if i < n and script[i] not in ";\n}":
            raise _SedError(f"-e expression #1, char {i + 1}: extra characters after command")
    return commands


def _sed_replacement(template: str, match: re.Match[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(template):
        c = template[i]
        if c == "\\" and i + 1 < len(template):
            nxt = template[i + 1]
            if nxt.isdigit():
                out.append(match.group(int(nxt)) or "")
            elif nxt == "n":
                out.append("\n")
            elif nxt == "t":
                out.append("\t")
            else:
                out.append(nxt)
            i += 2
            continue
        if c == "&":
            out.append(match.group(0))
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _sed_run(commands: list[tuple], text: str, quiet: bool) -> str:
    lines = text.split("\n")
    trailing_newline = text.endswith("\n")
    if trailing_newline:
        lines.pop()
    out: list[str] = []
    ranges: dict[int, bool] = {}
    total = len(lines)
    for number, line in enumerate(lines, 1):
        space = line
        deleted = False
        appended: list[str] = []
        for index, (first, second, negate, cmd, arg) in enumerate(commands):
            def hit(addr: object, number: int = number, space: str = space) -> bool:
                if isinstance(addr, int):
                    return number == addr
                if addr == "$":
                    return number == total
                return bool(addr.search(space))  # type: ignore[attr-defined]

            if first is None:
                selected = True
            elif second is None:
                selected = hit(first)
            else:
                active = ranges.get(index, False)
                if not active and hit(first):
                    selected = True
                    ranges[index] = not (isinstance(second, int) and second <= number)
                elif active:
                    selected = True
                    if hit(second):
                        ranges[index] = False
                else:
                    selected = False
            if selected == negate:
                continue
            if cmd == "s":
                regex, replacement, flags = arg
                count = 0 if "g" in flags else 1
                new, made = regex.subn(lambda m, r=replacement: _sed_replacement(r, m), space,
                                       count=count)
                space = new
                if made and "p" in flags:
                    out.append(space + "\n")
            elif cmd == "p":
                out.append(space + "\n")
            elif cmd == "=":
                out.append(f"{number}\n")
            elif cmd == "d":
                deleted = True
                break
            elif cmd == "a":
                appended.append(arg + "\n")
            elif cmd == "i":
                out.append(arg + "\n")
            elif cmd == "c":
                out.append(arg + "\n")
                deleted = True
                break
            elif cmd == "q":
                if not quiet:
                    out.append(space + "\n")
                out.extend(appended)
                return "".join(out)
        if not deleted and not quiet:
            out.append(space + ("\n" if number < total or trailing_newline else ""))
        out.extend(appended)
    return "".join(out)


@program("sed")
def _sed(proc: Proc) -> int:
    args = proc.argv[1:]
    quiet = in_place = extended = False
    scripts: list[str] = []
    files: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-e" and i + 1 < len(args):
            scripts.append(args[i + 1])
            i += 2
            continue
        if arg.startswith("-") and len(arg) > 1 and arg != "--":
            for flag in arg[1:]:
                if flag == "n":
                    quiet = True
                elif flag == "i":
                    in_place = True
                elif flag in "Er":
                    extended = True
                else:
                    proc.err(f"sed: invalid option -- '{flag}'\n")
                    return 1
            i += 1
            continue
        if not scripts and not files and arg != "--":
            scripts.append(arg)
        elif arg != "--":
            files.append(arg)
        i += 1
    if not scripts:
        proc.err("Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n")
        return 1
    try:
        commands = _sed_parse("\n".join(scripts), extended)
    except _SedError as exc:
        proc.err(f"sed: {exc}\n")
        return 1
    if in_place:
        if not files:
            proc.err("sed: no input files\n")
            return 1
        status = 0
        for name in files:
            try:
                with open(name, errors="replace") as f:
                    text = f.read()
            except OSError as exc:
                proc.err(f"sed: can't read {name}: {_why(exc)}\n")
                status = 2
                continue
            result = _sed_run(commands, text, quiet)
            directory = os.path.dirname(name) or "."
            temp = os.path.join(directory, f"sed{abs(hash(name)) % 10**6:06d}")
            try:
                # GNU sed writes a temporary file next to the original, then renames it.
                with open(temp, "w") as f:
                    f.write(result)
                os.rename(temp, name)
            except OSError as exc:
                proc.err(f"sed: couldn't open temporary file {temp}: {_why(exc)}\n")
                status = 4
        return status
    inputs, status = _read_inputs(proc, files)
    text = "".join(t for _, t in inputs)
    proc.out(_sed_run(commands, text, quiet))
    return status

"""Shell builtins: the commands sh runs itself, without a file in the image.

``echo``, ``true``/``false``, ``pwd``, ``printf`` and ``test``/``[`` are also
programs (as ``/usr/bin/echo`` and friends are), so they run by path too.
Control flow (``break``, ``continue``, ``return``), ``local``, ``shift``,
``read``, ``eval``, ``export``, ``unset``, ``set --``, ``type``/``command -v``
act on the shell that runs them.
"""

from __future__ import annotations

import os

from rosim.shell.interp import Proc, ShellExit, StdinStream, _Return, builtin, program

__all__: list[str] = []


def _why(exc: OSError) -> str:
    return os.strerror(exc.errno or 0)


@program("echo")
@builtin("echo")
def _echo(proc: Proc) -> int:
    args = proc.argv[1:]
    newline = True
    escapes = False
    while args and len(args[0]) > 1 and args[0][0] == "-" and set(args[0][1:]) <= set("neE"):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0] or (escapes and "E" not in args[0])
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text, stop = _backslash_escapes(text)
        if stop:
            proc.out(text)
            return 0
    proc.out(text + ("\n" if newline else ""))
    return 0


_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "r": "\r",
            "v": "\v", "e": "\x1b"}


def _backslash_escapes(text: str) -> tuple[str, bool]:
    """Interpret ``\\n``-style escapes; the flag is True after ``\\c`` (stop output)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "c":
                return "".join(out), True
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "0":
                j = i + 2
                while j < len(text) and j < i + 5 and text[j] in "01234567":
                    j += 1
                out.append(chr(int(text[i + 2:j] or "0", 8)))
                i = j
                continue
        out.append(c)
        i += 1
    return "".join(out), False


@program("true")
@builtin("true", ":")
def _true(proc: Proc) -> int:
    return 0


@program("false")
@builtin("false")
def _false(proc: Proc) -> int:
    return 1


@builtin("exit")
def _exit(proc: Proc) -> int:
    if len(proc.argv) > 1:
        try:
            status = int(proc.argv[1])
        except ValueError:
            proc.err(f"{proc.shell.name}: exit: {proc.argv[1]}: numeric argument required\n")
            raise ShellExit(2) from None
    else:
        status = proc.shell.status
    raise ShellExit(status % 256)


@program("pwd")
@builtin("pwd")
def _pwd(proc: Proc) -> int:
    proc.out(os.getcwd() + "\n")
    return 0


@builtin("cd")
def _cd(proc: Proc) -> int:
    shell = proc.shell
    target = proc.argv[1] if len(proc.argv) > 1 else shell.env.get("HOME", "/")
    if target == "-":
        target = shell.env.get("OLDPWD", "")
        if not target:
            proc.err(f"{shell.name}: cd: OLDPWD not set\n")
            return 1
        proc.out(target + "\n")
    before = os.getcwd()
    try:
        os.chdir(target)
    except OSError as exc:
        if shell.dialect == "busybox":
            why = "can't cd to " + target
            proc.err(f"{shell.name}: cd: {why}: {_why(exc)}\n")
            return 2
        proc.err(f"{shell.name}: cd: {target}: {_why(exc)}\n")
        return 1
    shell.env["OLDPWD"] = before
    shell.env["PWD"] = os.getcwd()
    return 0


def _valid_name(name: str) -> bool:
    return bool(name) and (name[0].isalpha() or name[0] == "_") and all(
        c.isalnum() or c == "_" for c in name)


@builtin("export")
def _export(proc: Proc) -> int:
    shell = proc.shell
    args = [a for a in proc.argv[1:] if a != "-p"]
    if not args:
        for name in sorted(shell.exported):
            if name in shell.env:
                value = shell.env[name].replace("\\", "\\\\").replace('"', '\\"')
                if shell.dialect == "busybox":
                    quoted = shell.env[name].replace("'", "'\\''")
                    proc.out(f"export {name}='{quoted}'\n")
                else:
                    proc.out(f'declare -x {name}="{value}"\n')
        return 0
    status = 0
    for arg in args:
        name, equals, value = arg.partition("=")
        if not _valid_name(name):
            proc.err(f"{shell.name}: export: `{arg}': not a valid identifier\n"
                     if shell.dialect == "bash" else f"{shell.name}: export: bad variable name\n")
            status = 1
            continue
        if equals:
            shell.env[name] = value
        shell.exported.add(name)
    return status


@builtin("unset")
def _unset(proc: Proc) -> int:
    shell = proc.shell
    for name in proc.argv[1:]:
        if name in ("-v", "-f"):
            continue
        if "-f" in proc.argv[1:2]:
            shell.functions.pop(name, None)
            continue
        if name in shell.env:
            shell.env.pop(name, None)
        else:
            shell.functions.pop(name, None) if "-v" not in proc.argv[1:2] else None
        shell.exported.discard(name)
    return 0


@builtin("set")
def _set(proc: Proc) -> int:
    args = proc.argv[1:]
    shell = proc.shell
    if not args:
        for name in sorted(shell.env):
            value = shell.env[name]
            plain = value and all(c.isalnum() or c in "_/.:-,+=@%" for c in value)
            quoted = value if plain else "'" + value.replace("'", "'\\''") + "'"
            proc.out(f"{name}={quoted}\n")
        return 0
    while args and args[0].startswith(("-", "+")) and args[0] != "--":
        flag = args.pop(0)
        on = flag.startswith("-")
        if flag in ("-o", "+o") and args:
            option = args.pop(0)
            flag = {"errexit": "-e", "noglob": "-f"}.get(option, "")
        if "f" in flag:
            shell.noglob = on
        if "e" in flag:
            shell.errexit = on
    if args and args[0] == "--":
        args = args[1:]
        shell.args = list(args)
    elif args:
        shell.args = list(args)
    return 0


@builtin("shift")
def _shift(proc: Proc) -> int:
    shell = proc.shell
    count = proc.argv[1] if len(proc.argv) > 1 else "1"
    if not count.isdigit():
        proc.err(f"{shell.name}: shift: {count}: numeric argument required\n")
        return 1 if shell.dialect == "bash" else 2
    n = int(count)
    if n > len(shell.args):
        return 1
    shell.args = shell.args[n:]
    return 0


def _loop_count(proc: Proc) -> int | None:
    if len(proc.argv) < 2:
        return 1
    text = proc.argv[1]
    if not text.isdigit() or int(text) < 1:
        proc.err(f"{proc.shell.name}: {proc.argv[0]}: {text}: loop count out of range\n"
                 if text.lstrip("-").isdigit() else
                 f"{proc.shell.name}: {proc.argv[0]}: {text}: numeric argument required\n")
        return None
    return int(text)


@builtin("break", "continue")
def _break(proc: Proc) -> int:
    shell = proc.shell
    levels = _loop_count(proc)
    if levels is None:
        return 1
    if not shell.loops:
        if shell.dialect == "bash":
            proc.err(f"{shell.name}: {proc.argv[0]}: only meaningful in a `for', `while', "
                     "or `until' loop\n")
        return 0
    shell.jump(proc.argv[0], min(levels, shell.loops))
    return 0


@builtin("return")
def _return(proc: Proc) -> int:
    shell = proc.shell
    status = shell.status
    if len(proc.argv) > 1:
        try:
            status = int(proc.argv[1]) % 256
        except ValueError:
            proc.err(f"{shell.name}: return: {proc.argv[1]}: numeric argument required\n")
            status = 2
    if not shell.in_function and not shell.sourcing:
        if shell.dialect == "busybox":
            raise ShellExit(status)  # busybox: return outside a function ends the shell
        proc.err(f"{shell.name}: return: can only `return' from a function or sourced script\n")
        return 2
    shell.jump("return", status)
    return status


@builtin("local")
def _local(proc: Proc) -> int:
    shell = proc.shell
    if not shell.in_function:
        if shell.dialect == "busybox":
            proc.err(f"{shell.name}: local: not in a function\n")
            raise ShellExit(2)
        proc.err(f"{shell.name}: local: can only be used in a function\n")
        return 1
    for arg in proc.argv[1:]:
        name, equals, value = arg.partition("=")
        shell.make_local(name)
        if equals:
            shell.env[name] = value
        elif name not in shell.env and shell.dialect == "busybox":
            shell.env[name] = ""
    return 0


@builtin("read")
def _read(proc: Proc) -> int:
    shell = proc.shell
    args = proc.argv[1:]
    raw = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        flag = args.pop(0)
        if flag == "-r":
            raw = True
        elif flag == "-p" and args:
            proc.err(args.pop(0))
        else:
            proc.err(f"{shell.name}: read: {flag}: invalid option\n")
            return 2
    names = args or ["REPLY"]
    source = proc.source
    assert isinstance(source, StdinStream)
    line = source.readline()
    if not raw:
        while line.endswith("\\\n"):
            line = line[:-2] + source.readline()
    at_eof = not line.endswith("\n")
    line = line.rstrip("\n")
    if not raw:
        out, i = [], 0
        while i < len(line):
            if line[i] == "\\" and i + 1 < len(line):
                out.append(line[i + 1])
                i += 2
            else:
                out.append(line[i])
                i += 1
        line = "".join(out)
    if names == ["REPLY"] and not args:
        shell.env["REPLY"] = line
    else:
        ifs = shell.get_var("IFS", " \t\n")
        white = "".join(c for c in ifs if c in " \t\n")
        rest = line.strip(white) if white else line
        for i, name in enumerate(names):
            if i == len(names) - 1:
                shell.env[name] = rest.rstrip(white) if white else rest
                break
            piece, rest = _split_one(rest, ifs)
            shell.env[name] = piece
    return 1 if at_eof and not line else (1 if at_eof else 0)


def _split_one(text: str, ifs: str) -> tuple[str, str]:
    white = "".join(c for c in ifs if c in " \t\n")
    i = 0
    while i < len(text) and text[i] not in ifs:
        i += 1
    piece = text[:i]
    rest = text[i:]
    if rest and rest[0] not in white:
        rest = rest[1:]
    return piece, rest.lstrip(white) if white else rest


@builtin("eval")
def _eval(proc: Proc) -> int:
    text = " ".join(proc.argv[1:])
    if not text.strip():
        return 0
    return proc.shell.eval(text, proc)


@builtin("wait", "umask", "trap", "ulimit", "hash")
def _accepted(proc: Proc) -> int:
    """Builtins whose effect does not show in a simulation that runs one thing at a time."""
    return 0


def _describe(proc: Proc, name: str) -> tuple[str, str] | None:
    from rosim.shell.interp import _BUILTINS

    shell = proc.shell
    if name in ("if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done",
                "case", "esac", "{", "}", "!", "in"):
        return "keyword", name
    if name in shell.functions:
        return "function", name
    if name in _BUILTINS:
        return "builtin", name
    path = name if "/" in name else shell._search(name, shell.env.get("PATH", ""))
    if path is None or not os.path.exists(path):
        return None
    return "file", path


@builtin("type")
def _type(proc: Proc) -> int:
    shell = proc.shell
    status = 0
    for name in proc.argv[1:]:
        found = _describe(proc, name)
        if found is None:
            if shell.dialect == "busybox":
                proc.out(f"{name}: not found\n")
            else:
                proc.err(f"{shell.name}: type: {name}: not found\n")
            status = 1
            continue
        kind, where = found
        text = {"keyword": f"{name} is a shell keyword",
                "function": f"{name} is a function" if shell.dialect == "busybox"
                else f"{name} is a function",
                "builtin": f"{name} is a shell builtin",
                "file": f"{name} is {where}"}[kind]
        proc.out(text + "\n")
    return status


@builtin("command")
def _command(proc: Proc) -> int:
    args = proc.argv[1:]
    if args[:1] in (["-v"], ["-V"]):
        status = 0
        for name in args[1:]:
            found = _describe(proc, name)
            if found is None:
                status = 1
                continue
            proc.out((found[1] if found[0] == "file" else name) + "\n")
        return status
    if not args:
        return 0
    sub = Proc(args, proc.source, proc.stdout, proc.stderr, proc.shell, proc.env)
    return proc.shell.execute(sub)


@builtin("exec")
def _exec(proc: Proc) -> int:
    if len(proc.argv) < 2:
        return 0
    sub = Proc(proc.argv[1:], proc.source, proc.stdout, proc.stderr, proc.shell, proc.env)
    raise ShellExit(proc.shell.execute(sub))


@builtin("source", ".")
def _source(proc: Proc) -> int:
    if len(proc.argv) < 2:
        proc.err(f"{proc.shell.name}: {proc.argv[0]}: filename argument required\n")
        return 2
    try:
        with open(proc.argv[1]) as f:
            script = f.read()
    except OSError as exc:
        proc.err(f"{proc.shell.name}: {proc.argv[1]}: {_why(exc)}\n")
        return 1
    shell = proc.shell
    saved_args = shell.args
    if len(proc.argv) > 2:
        shell.args = proc.argv[2:]
    shell.sourcing += 1
    try:
        return shell.eval(script, proc)
    except _Return as ret:
        return ret.status
    finally:
        shell.sourcing -= 1
        if len(proc.argv) > 2:
            shell.args = saved_args


@program("test")
@program("[")
@builtin("test", "[")
def _test(proc: Proc) -> int:
    args = proc.argv[1:]
    if proc.name == "[":
        if not args or args[-1] != "]":
            proc.err(f"{proc.shell.name}: [: missing `]'\n")
            return 2
        args = args[:-1]
    negate = False
    if args and args[0] == "!":
        negate, args = True, args[1:]
    try:
        result = _evaluate(args)
    except ValueError as exc:
        proc.err(f"{proc.shell.name}: {proc.argv[0]}: {exc}\n")
        return 2
    return 0 if result != negate else 1


def _evaluate(args: list[str]) -> bool:
    if not args:
        return False
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        op, path = args
        checks = {
            "-e": lambda: os.path.exists(path),
            "-f": lambda: os.path.isfile(path),
            "-d": lambda: os.path.isdir(path),
            "-L": lambda: os.path.islink(path),
            "-h": lambda: os.path.islink(path),
            "-s": lambda: os.path.exists(path) and os.path.getsize(path) > 0,
            "-r": lambda: os.access(path, os.R_OK),
            "-w": lambda: os.access(path, os.W_OK),
            "-x": lambda: os.access(path, os.X_OK),
            "-n": lambda: path != "",
            "-z": lambda: path == "",
        }
        if op not in checks:
            raise ValueError(f"{op}: unary operator expected")
        return bool(checks[op]())
    if len(args) == 3:
        left, op, right = args
        if op == "=" or op == "==":
            return left == right
        if op == "!=":
            return left != right
        numeric = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__,
                   "-gt": int.__gt__, "-le": int.__le__, "-ge": int.__ge__}
        if op in numeric:
            for operand in (left, right):
                try:
                    int(operand)
                except ValueError:
                    raise ValueError(f"{operand}: integer expression expected") from None
            return numeric[op](int(left), int(right))
        raise ValueError(f"{op}: binary operator expected")
    raise ValueError("too many arguments")

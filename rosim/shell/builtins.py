"""Shell builtins: the commands sh runs itself, without a file in the image.

``echo``, ``true``/``false``, ``pwd`` and ``test``/``[`` are also programs (as
``/usr/bin/echo`` and friends are), so they run by path too.
"""

from __future__ import annotations

import os

from rosim.shell.interp import Proc, ShellExit, builtin, program

__all__: list[str] = []


def _why(exc: OSError) -> str:
    return os.strerror(exc.errno or 0)


@program("echo")
@builtin("echo")
def _echo(proc: Proc) -> int:
    args = proc.argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    proc.out(" ".join(args) + ("\n" if newline else ""))
    return 0


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
    target = proc.argv[1] if len(proc.argv) > 1 else proc.env.get("HOME", "/")
    try:
        os.chdir(target)
    except OSError as exc:
        proc.err(f"{proc.shell.name}: cd: {target}: {_why(exc)}\n")
        return 1
    return 0


@builtin("export")
def _export(proc: Proc) -> int:
    for arg in proc.argv[1:]:
        name, equals, value = arg.partition("=")
        if equals:
            proc.shell.env[name] = value
        proc.shell.exported.add(name)
    return 0


@builtin("unset")
def _unset(proc: Proc) -> int:
    for name in proc.argv[1:]:
        proc.shell.env.pop(name, None)
        proc.shell.exported.discard(name)
    return 0


@builtin("set")
def _set(proc: Proc) -> int:
    return 0


@builtin("exec")
def _exec(proc: Proc) -> int:
    if len(proc.argv) < 2:
        return 0
    sub = Proc(proc.argv[1:], proc.stdin, proc.stdout, proc.stderr, proc.shell, proc.env)
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
    output: list[tuple[str, str]] = []
    status = proc.shell.run(script, output, proc.stdin)
    for stream, text in output:
        (proc.stderr if stream == "stderr" else proc.stdout).write(text)
    return status


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

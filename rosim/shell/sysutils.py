"""Programs about the process and its surroundings: env, which, ps, du, sleep, date...

``sleep`` and ``date`` use the simulated clock (:mod:`rosim.shell.clock`);
``ps`` lists the simulated processes of the session (its shells and ``ps``
itself); ``du`` counts 4 KiB blocks, as on ext4 or XFS under overlay;
``hostname`` reads ``/etc/hostname``, which the runtime mounts with the
container's name. Messages follow GNU coreutils and procps.
"""

from __future__ import annotations

import math
import os
import stat
import time

from rosim.shell.clock import CLOCK
from rosim.shell.interp import Proc, builtin, program

__all__: list[str] = []


def _why(exc: OSError) -> str:
    return os.strerror(exc.errno or 0)


@program("sleep")
def _sleep(proc: Proc) -> int:
    if len(proc.argv) < 2:
        proc.err("sleep: missing operand\nTry 'sleep --help' for more information.\n")
        return 1
    total = 0.0
    for arg in proc.argv[1:]:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(arg[-1:], None)
        number = arg[:-1] if unit else arg
        try:
            value = float(number)
        except ValueError:
            proc.err(f"sleep: invalid time interval '{arg}'\n"
                     "Try 'sleep --help' for more information.\n")
            return 1
        if value < 0:
            proc.err(f"sleep: invalid time interval '{arg}'\n"
                     "Try 'sleep --help' for more information.\n")
            return 1
        total += value * (unit or 1)
    if math.isfinite(total):
        # ``sleep infinity`` (a container that only waits) ends at once here.
        CLOCK.advance(total)
    return 0


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@program("date")
def _date(proc: Proc) -> int:
    args = [a for a in proc.argv[1:] if a not in ("-u", "--utc")]
    now = time.gmtime(CLOCK.now())
    if args and args[0].startswith("+"):
        proc.out(time.strftime(args[0][1:], now) + "\n")
        return 0
    if args:
        return proc.fail(f"invalid date '{args[0]}'")
    proc.out(time.strftime("%a %b %e %H:%M:%S UTC %Y", now) + "\n")
    return 0


@program("env")
def _env(proc: Proc) -> int:
    args = proc.argv[1:]
    env = dict(proc.env)
    while args:
        if args[0] in ("-i", "-"):
            env = {}
            args = args[1:]
        elif args[0] == "-u" and len(args) > 1:
            env.pop(args[1], None)
            args = args[2:]
        elif "=" in args[0] and not args[0].startswith("="):
            name, _, value = args[0].partition("=")
            env[name] = value
            args = args[1:]
        else:
            break
    if not args:
        proc.out("".join(f"{k}={v}\n" for k, v in env.items()))
        return 0
    sub = Proc(args, proc.source, proc.stdout, proc.stderr, proc.shell, env)
    shell = proc.shell
    path = args[0] if "/" in args[0] else shell._search(args[0], env.get("PATH", ""))
    if path is None or not os.path.exists(path):
        proc.err(f"env: '{args[0]}': No such file or directory\n")
        return 127
    return shell.execute(Proc([path, *args[1:]], sub.source, sub.stdout, sub.stderr, shell,
                              env))


@program("which")
def _which(proc: Proc) -> int:
    names = [a for a in proc.argv[1:] if not a.startswith("-")]
    path_var = proc.env.get("PATH", "")
    status = 0 if names else 1
    for name in names:
        found = None
        dirs = [""] if "/" in name else path_var.split(":")
        for directory in dirs:
            candidate = os.path.join(directory, name) if directory else name
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111:
                found = candidate
                break
        if found is None:
            proc.err(f"which: no {name} in ({path_var})\n")
            status = 1
        else:
            proc.out(found + "\n")
    return status


@program("whoami")
def _whoami(proc: Proc) -> int:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    try:
        with open("/etc/passwd") as f:
            for line in f:
                fields = line.split(":")
                if len(fields) > 2 and fields[2] == "0":
                    proc.out(fields[0] + "\n")
                    return 0
    except OSError:
        pass
    return proc.fail(f"cannot find name for user ID {0 if uid is not None else uid}")


@program("hostname")
def _hostname(proc: Proc) -> int:
    try:
        with open("/etc/hostname") as f:
            name = f.read().strip()
    except OSError:
        name = "localhost"
    proc.out((name or "localhost") + "\n")
    return 0


@program("ps")
def _ps(proc: Proc) -> int:
    """procps ``ps``: the container's process (when known), the session's shells, ps itself.

    ``-ef``/``aux`` add columns and full command lines.
    """
    chain = []
    shell = proc.shell
    while shell is not None:
        chain.append(shell)
        shell = shell.parent
    chain.reverse()
    rows = [(s.pid, s.ppid, os.path.basename(s.name) if s.name.startswith("/") else s.name)
            for s in chain]
    if chain[0].init:
        # The container's process: PID 1 (an exec'd shell is its sibling, parent 0).
        rows.insert(0, (1, 0, " ".join(chain[0].init)))
    ps_pid = proc.shell._nesting.next_pid
    proc.shell._nesting.next_pid += 1
    rows.append((ps_pid, chain[-1].pid, "ps"))
    args = proc.argv[1:]
    full = any(a in ("-ef", "-e", "-A", "aux", "-aux", "ax", "-f") for a in args)
    if full:
        proc.out("UID          PID    PPID  C STIME TTY          TIME CMD\n")
        for pid, ppid, cmd in rows:
            cmd_line = cmd if cmd != "ps" or pid != ps_pid else " ".join(["ps", *args])
            proc.out(f"root     {pid:>7} {ppid:>7}  0 12:00 pts/0    00:00:00 {cmd_line}\n")
        return 0
    proc.out("    PID TTY          TIME CMD\n")
    for pid, _, cmd in rows:
        proc.out(f"{pid:>7} pts/0    00:00:00 {os.path.basename(cmd.split()[0])}\n")
    return 0


def _blocks(st: os.stat_result) -> int:
    """Kibibytes a file occupies: whole 4 KiB blocks (a directory: one block)."""
    if stat.S_ISDIR(st.st_mode):
        return 4
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
        return 0
    return -(-st.st_size // 4096) * 4


def _human(kib: int) -> str:
    size = float(kib)
    for unit in ("K", "M", "G", "T"):
        if size < 1024 or unit == "T":
            if unit == "K":
                return f"{int(size)}K" if size else "0"
            return f"{size:.1f}{unit}" if size < 10 else f"{-(-size // 1):.0f}{unit}"
        size /= 1024
    return f"{size:.0f}T"


@program("du")
def _du(proc: Proc) -> int:
    flags: set[str] = set()
    paths: list[str] = []
    for arg in proc.argv[1:]:
        if arg.startswith("-") and len(arg) > 1:
            flags.update(arg[1:])
        else:
            paths.append(arg)
    paths = paths or ["."]
    status = 0
    total = 0

    def show(kib: int, path: str) -> None:
        proc.out(f"{_human(kib) if 'h' in flags else kib}\t{path}\n")

    for top in paths:
        try:
            st = os.lstat(top)
        except OSError as exc:
            status = proc.fail(f"cannot access '{top}': {_why(exc)}")
            continue
        if not stat.S_ISDIR(st.st_mode):
            show(_blocks(st), top)
            total += _blocks(st)
            continue
        sizes: dict[str, int] = {}
        for directory, dirs, files in _walk_bottom_up(top, proc):
            kib = 4
            for name in files:
                try:
                    file_kib = _blocks(os.lstat(os.path.join(directory, name)))
                except OSError:
                    continue
                kib += file_kib
                if "a" in flags:
                    show(file_kib, os.path.join(directory, name))
            kib += sum(sizes.get(os.path.join(directory, d), 0) for d in dirs)
            sizes[directory] = kib
            if "s" not in flags or directory == top:
                show(kib, directory)
        total += sizes.get(top, 4)
        status = status or getattr(proc, "_du_failed", 0)
    if "c" in flags:
        show(total, "total")
    return status


def _walk_bottom_up(top: str, proc: Proc) -> list[tuple[str, list[str], list[str]]]:
    out: list[tuple[str, list[str], list[str]]] = []

    def visit(directory: str) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError as exc:
            proc.err(f"du: cannot read directory '{directory}': {_why(exc)}\n")
            proc._du_failed = 1  # type: ignore[attr-defined]
            names = []
        dirs, files = [], []
        for name in names:
            path = os.path.join(directory, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            (dirs if stat.S_ISDIR(st.st_mode) else files).append(name)
        for name in dirs:
            visit(os.path.join(directory, name))
        out.append((directory, dirs, files))

    visit(top)
    return out


@program("seq")
def _seq(proc: Proc) -> int:
    args = proc.argv[1:]
    if not 1 <= len(args) <= 3:
        proc.err("seq: missing operand\nTry 'seq --help' for more information.\n")
        return 1
    try:
        numbers = [float(a) for a in args]
    except ValueError:
        bad = next(a for a in args if not _is_number(a))
        proc.err(f"seq: invalid floating point argument: '{bad}'\n"
                 "Try 'seq --help' for more information.\n")
        return 1
    first, step, last = (1.0, 1.0, numbers[0]) if len(numbers) == 1 else (
        (numbers[0], 1.0, numbers[1]) if len(numbers) == 2 else tuple(numbers))
    if step == 0:
        proc.err(f"seq: invalid Zero increment value: '{args[1]}'\n"
                 "Try 'seq --help' for more information.\n")
        return 1
    integral = all(float(x).is_integer() and "." not in a for x, a in zip(numbers, args,
                                                                          strict=True))
    out = []
    value = first
    while (step > 0 and value <= last) or (step < 0 and value >= last):
        out.append(f"{int(value)}\n" if integral else f"{value:g}\n")
        value += step
    proc.out("".join(out))
    return 0


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@program("basename")
def _basename(proc: Proc) -> int:
    args = proc.argv[1:]
    if not args:
        proc.err("basename: missing operand\nTry 'basename --help' for more information.\n")
        return 1
    name = args[0].rstrip("/") or "/"
    name = name if name == "/" else name.rsplit("/", 1)[-1]
    if len(args) > 1 and name.endswith(args[1]) and name != args[1]:
        name = name[:-len(args[1])]
    proc.out(name + "\n")
    return 0


@program("dirname")
def _dirname(proc: Proc) -> int:
    args = proc.argv[1:]
    if not args:
        proc.err("dirname: missing operand\nTry 'dirname --help' for more information.\n")
        return 1
    for arg in args:
        path = arg.rstrip("/")
        if "/" not in path:
            proc.out(("/" if arg.startswith("/") else ".") + "\n")
            continue
        head = path.rsplit("/", 1)[0].rstrip("/")
        proc.out((head or "/") + "\n")
    return 0


@program("uname")
def _uname(proc: Proc) -> int:
    fields = {"s": "Linux", "n": None, "r": "6.1.0", "m": "x86_64", "o": "GNU/Linux"}
    flags = "".join(a[1:] for a in proc.argv[1:] if a.startswith("-")) or "s"
    if "a" in flags:
        flags = "snrmo"
    out = []
    for flag in "snrmo":
        if flag in flags:
            if flag == "n":
                try:
                    with open("/etc/hostname") as f:
                        out.append(f.read().strip() or "localhost")
                except OSError:
                    out.append("localhost")
            else:
                out.append(str(fields[flag]))
    proc.out(" ".join(out) + "\n")
    return 0


@program("printf")
@builtin("printf")
def _printf(proc: Proc) -> int:
    from rosim.shell.builtins import _backslash_escapes

    args = proc.argv[1:]
    if not args:
        proc.err(f"{proc.shell.name}: printf: usage: printf [-v var] format [arguments]\n"
                 if proc.shell.dialect == "bash" else
                 "printf: usage: printf FORMAT [ARGUMENT...]\n")
        return 2 if proc.shell.dialect == "bash" else 1
    fmt, values = args[0], args[1:]
    status = 0
    out: list[str] = []
    first = True
    while first or values:
        first = False
        i = 0
        used = 0
        while i < len(fmt):
            c = fmt[i]
            if c == "\\":
                text, _ = _backslash_escapes(fmt[i:i + 2] if fmt[i + 1:i + 2] != "0"
                                             else fmt[i:i + 5])
                consumed = 2 if fmt[i + 1:i + 2] != "0" else 2 + len(
                    fmt[i + 2:i + 5]) - len(fmt[i + 2:i + 5].lstrip("01234567"))
                out.append(text)
                i += consumed
                continue
            if c != "%":
                out.append(c)
                i += 1
                continue
            j = i + 1
            while j < len(fmt) and fmt[j] in "-+ #0123456789.":
                j += 1
            if j >= len(fmt):
                out.append(fmt[i:])
                break
            conv = fmt[j]
            spec = fmt[i + 1:j]
            i = j + 1
            if conv == "%":
                out.append("%")
                continue
            value = values.pop(0) if values else ""
            used += 1
            if conv in "di":
                try:
                    number = int(value, 0) if value.strip() else 0
                except ValueError:
                    proc.err(f"{proc.shell.name}: printf: {value}: invalid number\n"
                             if proc.shell.dialect == "bash" else
                             f"printf: invalid number '{value}'\n")
                    status = 1
                    number = 0
                out.append(f"%{spec}d" % number)
            elif conv in "xXo":
                try:
                    number = int(value, 0) if value.strip() else 0
                except ValueError:
                    status = 1
                    number = 0
                out.append(f"%{spec}{conv}" % number)
            elif conv in "feg":
                try:
                    real = float(value) if value.strip() else 0.0
                except ValueError:
                    status = 1
                    real = 0.0
                out.append(f"%{spec}{conv}" % real)
            elif conv == "c":
                out.append(value[:1])
            elif conv == "b":
                out.append(_backslash_escapes(value)[0])
            else:
                out.append(f"%{spec}s" % value)
        if not used:
            break
    proc.out("".join(out))
    return status

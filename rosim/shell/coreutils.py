"""Shell builtins and the coreutils learners reach for, with GNU's messages.

Messages and exit codes follow GNU coreutils and bash, e.g.
``touch: cannot touch '/usr/x': Read-only file system`` with status 1.
"""

from __future__ import annotations

import os
import shutil
import stat
import time

from rosim.shell.interp import Proc, ShellExit, builtin, program

__all__: list[str] = []


def _why(exc: OSError) -> str:
    return os.strerror(exc.errno or 0)


def _flags(proc: Proc, known: str) -> tuple[set[str], list[str]]:
    flags: set[str] = set()
    args: list[str] = []
    for arg in proc.argv[1:]:
        if arg.startswith("-") and len(arg) > 1 and not args and all(c in known for c in arg[1:]):
            flags.update(arg[1:])
        else:
            args.append(arg)
    return flags, args


# ------------------------------------------------------------------ builtins
@builtin("echo")
def _echo(proc: Proc) -> int:
    args = proc.argv[1:]
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    proc.out(" ".join(args) + ("\n" if newline else ""))
    return 0


@builtin("true", ":")
def _true(proc: Proc) -> int:
    return 0


@builtin("false")
def _false(proc: Proc) -> int:
    return 1


@builtin("exit")
def _exit(proc: Proc) -> int:
    raise ShellExit(int(proc.argv[1]) if len(proc.argv) > 1 else proc.shell.status)


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
        if "=" in arg:
            name, _, value = arg.partition("=")
            proc.shell.env[name] = value
    return 0


@builtin("unset")
def _unset(proc: Proc) -> int:
    for name in proc.argv[1:]:
        proc.shell.env.pop(name, None)
    return 0


@builtin("test", "[")
def _test(proc: Proc) -> int:
    args = proc.argv[1:]
    if proc.argv[0] == "[":
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
            try:
                return numeric[op](int(left), int(right))
            except ValueError:
                raise ValueError(f"{left}: integer expression expected") from None
        raise ValueError(f"{op}: binary operator expected")
    raise ValueError("too many arguments")


# ------------------------------------------------------------------ programs
@program("cat")
def _cat(proc: Proc) -> int:
    status = 0
    for path in proc.argv[1:] or ["-"]:
        if path == "-":
            proc.out(proc.stdin)
            continue
        try:
            with open(path, errors="replace") as f:
                proc.out(f.read())
        except OSError as exc:
            status = proc.fail(f"{path}: {_why(exc)}")
    return status


def _mode_string(mode: int) -> str:
    kind = "d" if stat.S_ISDIR(mode) else "l" if stat.S_ISLNK(mode) else (
        "c" if stat.S_ISCHR(mode) else "-")
    bits = "".join(
        ch if mode & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx")
    )
    if mode & stat.S_ISVTX:
        bits = bits[:8] + ("t" if mode & 0o001 else "T")
    return kind + bits


@program("ls")
def _ls(proc: Proc) -> int:
    flags, paths = _flags(proc, "laAd1h")
    status = 0
    show_all = "a" in flags or "A" in flags
    for path in paths or ["."]:
        try:
            st = os.lstat(path)
        except OSError as exc:
            status = proc.fail(f"cannot access '{path}': {_why(exc)}", 2)
            continue
        if stat.S_ISDIR(st.st_mode) and "d" not in flags:
            names = sorted(os.listdir(path))
            if not show_all:
                names = [n for n in names if not n.startswith(".")]
            if len(paths) > 1:
                proc.out(f"{path}:\n")
            entries = [(n, os.path.join(path, n)) for n in names]
        else:
            entries = [(path, path)]
        for name, full in entries:
            if "l" in flags:
                s = os.lstat(full)
                when = time.strftime("%b %e  %Y", time.gmtime(s.st_mtime))
                link = f" -> {os.readlink(full)}" if stat.S_ISLNK(s.st_mode) else ""
                user = "root" if s.st_uid == 0 else str(s.st_uid)
                group = "root" if s.st_gid == 0 else str(s.st_gid)
                proc.out(f"{_mode_string(s.st_mode)} 1 {user} {group} {s.st_size:>6} "
                         f"{when} {name}{link}\n")
            else:
                proc.out(name + "\n")
    return status


@program("touch")
def _touch(proc: Proc) -> int:
    status = 0
    for path in proc.argv[1:]:
        try:
            with open(path, "a"):
                pass
            os.utime(path)
        except OSError as exc:
            status = proc.fail(f"cannot touch '{path}': {_why(exc)}")
    return status


@program("mkdir")
def _mkdir(proc: Proc) -> int:
    flags, paths = _flags(proc, "p")
    status = 0
    for path in paths:
        try:
            if "p" in flags:
                os.makedirs(path, exist_ok=True)
            else:
                os.mkdir(path)
        except OSError as exc:
            status = proc.fail(f"cannot create directory '{exc.filename or path}': {_why(exc)}")
    return status


@program("rm")
def _rm(proc: Proc) -> int:
    flags, paths = _flags(proc, "rRf")
    recursive = "r" in flags or "R" in flags
    status = 0
    for path in paths:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                if not recursive:
                    status = proc.fail(f"cannot remove '{path}': Is a directory")
                    continue
                shutil.rmtree(path)
            else:
                os.unlink(path)
        except OSError as exc:
            if "f" in flags and exc.errno == 2:
                continue
            status = proc.fail(f"cannot remove '{exc.filename or path}': {_why(exc)}")
    return status


def _target(src: str, dest: str) -> str:
    return os.path.join(dest, os.path.basename(src.rstrip("/"))) if os.path.isdir(dest) else dest


@program("cp")
def _cp(proc: Proc) -> int:
    flags, args = _flags(proc, "rRapf")
    if len(args) < 2:
        return proc.fail("missing destination file operand")
    *sources, dest = args
    status = 0
    for src in sources:
        target = _target(src, dest)
        if not os.path.exists(src):
            status = proc.fail(f"cannot stat '{src}': No such file or directory")
            continue
        if os.path.isdir(src):
            if not flags & {"r", "R", "a"}:
                status = proc.fail(f"-r not specified; omitting directory '{src}'")
                continue
            try:
                shutil.copytree(src, target, symlinks=True, dirs_exist_ok=True)
            except (OSError, shutil.Error) as exc:
                status = proc.fail(f"cannot create directory '{target}': "
                                   f"{_why(exc) if isinstance(exc, OSError) else exc}")
            continue
        try:
            shutil.copyfile(src, target)
        except OSError as exc:
            status = proc.fail(f"cannot create regular file '{target}': {_why(exc)}")
    return status


@program("mv")
def _mv(proc: Proc) -> int:
    _, args = _flags(proc, "f")
    if len(args) < 2:
        return proc.fail("missing destination file operand")
    *sources, dest = args
    status = 0
    for src in sources:
        target = _target(src, dest)
        try:
            os.rename(src, target)
        except OSError as exc:
            if exc.errno == 2 and not os.path.lexists(src):
                status = proc.fail(f"cannot stat '{src}': No such file or directory")
            elif exc.errno == 18 and not os.path.isdir(src):
                # Across mounts GNU mv copies, then removes the source.
                try:
                    shutil.copyfile(src, target)
                except OSError as copy_exc:
                    status = proc.fail(f"cannot create regular file '{target}': "
                                       f"{_why(copy_exc)}")
                    continue
                try:
                    os.unlink(src)
                except OSError as rm_exc:
                    status = proc.fail(f"cannot remove '{src}': {_why(rm_exc)}")
            else:
                status = proc.fail(f"cannot move '{src}' to '{target}': {_why(exc)}")
    return status


@program("ln")
def _ln(proc: Proc) -> int:
    flags, args = _flags(proc, "sf")
    if len(args) != 2:
        return proc.fail("missing file operand")
    src, link = args
    link = _target(src, link)
    try:
        if "f" in flags and os.path.lexists(link):
            os.unlink(link)
        if "s" in flags:
            os.symlink(src, link)
        else:
            os.link(src, link)
    except OSError as exc:
        if "s" in flags:
            return proc.fail(f"failed to create symbolic link '{link}': {_why(exc)}")
        return proc.fail(f"failed to create hard link '{link}' => '{src}': {_why(exc)}")
    return 0


def _parse_mode(text: str, current: int) -> int:
    if text.isdigit():
        return int(text, 8)
    mode = current
    for clause in text.split(","):
        who, op, perms = "", "", ""
        for i, ch in enumerate(clause):
            if ch in "+-=":
                who, op, perms = clause[:i] or "a", ch, clause[i + 1:]
                break
        else:
            raise ValueError(text)
        mask = 0
        for w in who:
            for p in perms:
                bit = {"r": 4, "w": 2, "x": 1}.get(p)
                if bit is None:
                    raise ValueError(text)
                for shift, letter in ((6, "u"), (3, "g"), (0, "o")):
                    if w in (letter, "a"):
                        mask |= bit << shift
        if op == "+":
            mode |= mask
        elif op == "-":
            mode &= ~mask
        else:
            mode = (mode & ~0o777) | mask
    return mode


@program("chmod")
def _chmod(proc: Proc) -> int:
    if len(proc.argv) < 3:
        return proc.fail("missing operand")
    spec, paths = proc.argv[1], proc.argv[2:]
    status = 0
    for path in paths:
        try:
            current = os.stat(path).st_mode & 0o7777
        except OSError as exc:
            status = proc.fail(f"cannot access '{path}': {_why(exc)}")
            continue
        try:
            mode = _parse_mode(spec, current)
        except ValueError:
            return proc.fail(f"invalid mode: '{spec}'")
        try:
            os.chmod(path, mode)
        except OSError as exc:
            status = proc.fail(f"changing permissions of '{path}': {_why(exc)}")
    return status


@program("id")
def _id(proc: Proc) -> int:
    proc.out("uid=0(root) gid=0(root) groups=0(root)\n")
    return 0


def _mount_lines() -> list[list[str]]:
    with open("/proc/mounts") as f:
        return [line.split() for line in f if line.strip()]


@program("mount")
def _mount(proc: Proc) -> int:
    if len(proc.argv) > 1:
        return proc.fail("only root can do that", 32)
    for source, dest, fstype, options, *_ in _mount_lines():
        proc.out(f"{source} on {dest} type {fstype} ({options})\n")
    return 0


@program("df")
def _df(proc: Proc) -> int:
    flags, paths = _flags(proc, "hT")
    lines = _mount_lines()
    if paths:
        chosen = []
        for path in paths:
            if not os.path.exists(path):
                proc.fail(f"{path}: No such file or directory")
                continue
            real = os.path.abspath(path)
            under = [m for m in lines
                     if real == m[1] or real.startswith(m[1].rstrip("/") + "/")]
            best = max(under, key=lambda m: len(m[1]))
            chosen.append(best)
        lines = chosen
    human = "h" in flags
    proc.out(f"{'Filesystem':<15}{'Size' if human else '1K-blocks':>10}{'Used':>10}"
             f"{'Avail' if human else 'Available':>11} Use% Mounted on\n")
    from rosim.fs.sizes import format_size

    for source, dest, *_ in lines:
        st = os.statvfs(dest)
        total = st.f_blocks * st.f_frsize
        free = st.f_bavail * st.f_frsize
        used = total - free
        pct = f"{-(-used * 100 // total)}%" if total else "-"
        if human:
            cols = (format_size(total), format_size(used), format_size(free))
        else:
            cols = (str(total // 1024), str(used // 1024), str(free // 1024))
        proc.out(f"{source[:14]:<15}{cols[0]:>10}{cols[1]:>10}{cols[2]:>11} {pct:>4} {dest}\n")
    return 0


@program("stat")
def _stat(proc: Proc) -> int:
    status = 0
    for path in proc.argv[1:]:
        try:
            st = os.lstat(path)
        except OSError as exc:
            status = proc.fail(f"cannot statx '{path}': {_why(exc)}")
            continue
        kind = ("directory" if stat.S_ISDIR(st.st_mode) else "symbolic link"
                if stat.S_ISLNK(st.st_mode) else "regular file" if st.st_size
                else "regular empty file")
        proc.out(f"  File: {path}\n  Size: {st.st_size:<10}\tBlocks: {-(-st.st_size // 512):<10}"
                 f" IO Block: 4096   {kind}\nDevice: {st.st_dev:x}h/{st.st_dev}d\t"
                 f"Inode: {st.st_ino:<11} Links: {st.st_nlink}\n"
                 f"Access: ({st.st_mode & 0o7777:04o}/{_mode_string(st.st_mode)})  "
                 f"Uid: ({st.st_uid:>5}/    root)   Gid: ({st.st_gid:>5}/    root)\n")
    return status

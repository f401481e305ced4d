"""The coreutils learners reach for, with GNU's messages and exit codes.

Messages and exit codes follow GNU coreutils and bash, e.g.
``touch: cannot touch '/usr/x': Read-only file system`` with status 1.
"""

from __future__ import annotations

import os
import shutil
import stat
import time

from rosim.shell.interp import Proc, program

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


# ------------------------------------------------------------------ programs
@program("cat")
def _cat(proc: Proc) -> int:
    status = 0
    for path in proc.argv[1:] or ["-"]:
        if path == "-":
            proc.out(proc.stdin)
            continue
        try:
            with open(path, errors="surrogateescape") as f:
                # In pieces: an endless device (/dev/zero) is read while the
                # reader wants it, never in one call.
                while chunk := f.read(65536):
                    proc.out(chunk)
        except OSError as exc:
            status = proc.fail(f"{path}: {_why(exc)}")
    return status


def _mode_string(mode: int) -> str:
    kind = "d" if stat.S_ISDIR(mode) else "l" if stat.S_ISLNK(mode) else (
        "c" if stat.S_ISCHR(mode) else "-")
    bits = list("".join(
        ch if mode & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx")
    ))
    for flag, index, on, off in ((stat.S_ISUID, 2, "s", "S"), (stat.S_ISGID, 5, "s", "S"),
                                 (stat.S_ISVTX, 8, "t", "T")):
        if mode & flag:
            bits[index] = on if bits[index] == "x" else off
    return kind + "".join(bits)


def _when(mtime: float) -> str:
    """GNU ls -l: the time for files under six months old, else the year."""
    from rosim.shell.clock import CLOCK

    if abs(CLOCK.now() - mtime) < 182.5 * 86400:
        return time.strftime("%b %e %H:%M", time.gmtime(mtime))
    return time.strftime("%b %e  %Y", time.gmtime(mtime))


@program("ls")
def _ls(proc: Proc) -> int:
    flags, paths = _flags(proc, "laAd1hF")
    status = 0
    show_all = "a" in flags or "A" in flags
    targets = paths or ["."]
    if len(targets) > 1:
        def is_dir(p: str) -> bool:
            return os.path.isdir(p) and "d" not in flags
        targets = sorted(t for t in targets if not is_dir(t)) + sorted(
            t for t in targets if is_dir(t))
    first = True
    for path in targets:
        try:
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode) and not flags & {"l", "d", "F"}:
                st = os.stat(path)  # GNU ls follows a symlink named on the command line
        except OSError as exc:
            status = proc.fail(f"cannot access '{path}': {_why(exc)}", 2)
            continue
        if stat.S_ISDIR(st.st_mode) and "d" not in flags:
            names = sorted(os.listdir(path))
            if not show_all:
                names = [n for n in names if not n.startswith(".")]
            elif "a" in flags:
                names = [".", "..", *names]
            if len(targets) > 1:
                proc.out(("" if first else "\n") + f"{path}:\n")
            first = False
            entries = [(n, os.path.join(path, n)) for n in names]
        else:
            entries = [(path, path)]
        if "l" not in flags:
            proc.out("".join(name + "\n" for name, _ in entries))
            continue
        rows = []
        for name, full in entries:
            s = os.lstat(full)
            link = f" -> {os.readlink(full)}" if stat.S_ISLNK(s.st_mode) else ""
            user = "root" if s.st_uid == 0 else str(s.st_uid)
            group = "root" if s.st_gid == 0 else str(s.st_gid)
            rows.append((_mode_string(s.st_mode), str(s.st_nlink), user, group, str(s.st_size),
                         _when(s.st_mtime), name + link))
        if stat.S_ISDIR(st.st_mode) and "d" not in flags:
            proc.out(f"total {sum(int(r[4]) for r in rows) // 1024}\n")
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(5)]
        for r in rows:
            proc.out(f"{r[0]} {r[1]:>{widths[1]}} {r[2]:<{widths[2]}} {r[3]:<{widths[3]}} "
                     f"{r[4]:>{widths[4]}} {r[5]} {r[6]}\n")
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
        if not os.path.lexists(path):
            # rm looks at the file first (fstatat), before it tries to remove it.
            if "f" not in flags:
                status = proc.fail(f"cannot remove '{path}': No such file or directory")
            continue
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
            _copy_file(src, target)
        except OSError as exc:
            status = proc.fail(f"cannot create regular file '{target}': {_why(exc)}")
    return status


def _copy_file(src: str, target: str, keep_mode: bool = False) -> None:
    """Copy like cp: a new file gets the source's mode less the umask (all of it for mv)."""
    existed = os.path.exists(target)
    shutil.copyfile(src, target)
    if not existed:
        mode = os.stat(src).st_mode & 0o7777
        if not keep_mode:
            umask = os.umask(0)
            os.umask(umask)
            mode &= ~umask & 0o777
        os.chmod(target, mode)


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
            elif exc.errno == 18 and os.path.isdir(src) and not os.path.islink(src):
                try:
                    shutil.copytree(src, target, symlinks=True)
                except OSError as copy_exc:
                    status = proc.fail(f"cannot create directory '{target}': "
                                       f"{_why(copy_exc)}")
                    continue
                except shutil.Error as copy_exc:
                    status = proc.fail(f"cannot move '{src}' to '{target}': {copy_exc}")
                    continue
                try:
                    shutil.rmtree(src)
                except OSError as rm_exc:
                    status = proc.fail(f"cannot remove '{src}': {_why(rm_exc)}")
            elif exc.errno == 18 and not os.path.isdir(src):
                # Across mounts GNU mv copies, then removes the source.
                try:
                    _copy_file(src, target, keep_mode=True)
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
            cleared = 0
            for shift, letter in ((6, "u"), (3, "g"), (0, "o")):
                if letter in who or "a" in who:
                    cleared |= 0o7 << shift
            mode = (mode & ~cleared) | mask
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
    status = 0
    if paths:
        chosen = []
        for path in paths:
            if not os.path.exists(path):
                status = proc.fail(f"{path}: No such file or directory")
                continue
            real = os.path.abspath(path)
            under = [m for m in lines
                     if real == m[1] or real.startswith(m[1].rstrip("/") + "/")]
            best = max(under, key=lambda m: len(m[1]))
            chosen.append(best)
        lines = chosen
    human = "h" in flags
    from rosim.fs.sizes import format_size

    rows = []
    for source, dest, *_ in lines:
        st = os.statvfs(dest)
        total = st.f_blocks * st.f_frsize
        free = st.f_bavail * st.f_frsize
        used = total - free
        pct = f"{-(-used * 100 // total)}%" if total else "-"
        if human:
            cols = [format_size(total).replace("B", ""), format_size(used).replace("B", ""),
                    format_size(free).replace("B", "")]
        else:
            cols = [str(total // 1024), str(used // 1024), str(free // 1024)]
        rows.append([source, *cols, pct, dest])
    header = ["Filesystem", "Size" if human else "1K-blocks", "Used",
              "Avail" if human else "Available", "Use%", "Mounted on"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    for r in [header, *rows]:
        proc.out(f"{r[0]:<{widths[0]}} " + " ".join(f"{r[i]:>{widths[i]}}" for i in range(1, 5))
                 + f" {r[5]}\n")
    return status


def _stat_format(fmt: str, path: str, st: os.stat_result) -> str:
    kind = ("directory" if stat.S_ISDIR(st.st_mode) else "symbolic link"
            if stat.S_ISLNK(st.st_mode) else "regular file" if st.st_size
            else "regular empty file")
    fields = {"a": f"{st.st_mode & 0o7777:o}", "A": _mode_string(st.st_mode),
              "s": str(st.st_size), "n": path, "F": kind, "i": str(st.st_ino),
              "h": str(st.st_nlink), "u": str(st.st_uid), "g": str(st.st_gid),
              "U": "root" if st.st_uid == 0 else "UNKNOWN",
              "G": "root" if st.st_gid == 0 else "UNKNOWN", "%": "%"}
    out, i = "", 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            out += fields.get(fmt[i + 1], "?")
            i += 2
        else:
            out += fmt[i]
            i += 1
    return out + "\n"


@program("stat")
def _stat(proc: Proc) -> int:
    status = 0
    args = proc.argv[1:]
    if args[:1] == ["-c"] and len(args) > 1 or args[:1] and args[0].startswith("--format="):
        fmt, paths = (args[1], args[2:]) if args[0] == "-c" else (args[0][9:], args[1:])
        for path in paths:
            try:
                proc.out(_stat_format(fmt, path, os.lstat(path)))
            except OSError as exc:
                status = proc.fail(f"cannot statx '{path}': {_why(exc)}")
        return status
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


def _lines_of(proc: Proc, files: list[str]) -> tuple[list[str], int]:
    if not files:
        return proc.stdin.splitlines(keepends=True), 0
    lines: list[str] = []
    status = 0
    for path in files:
        try:
            with open(path, errors="surrogateescape") as f:
                lines.extend(f.read().splitlines(keepends=True))
        except OSError as exc:
            status = proc.fail(f"{path}: {_why(exc)}")
    return lines, status


def _count_option(proc: Proc, default: int = 10) -> tuple[int, list[str]]:
    args = proc.argv[1:]
    count = default
    if args[:1] == ["-n"] and len(args) > 1 and args[1].lstrip("-").isdigit():
        count, args = int(args[1]), args[2:]
    elif args and args[0].startswith("-") and args[0][1:].isdigit():
        count, args = int(args[0][1:]), args[1:]
    return count, args


def _byte_count(proc: Proc) -> tuple[int | None, list[str]]:
    """``-c N`` / ``-cN`` / ``--bytes=N`` of head and tail: (N, the other args)."""
    args = proc.argv[1:]
    if args[:1] == ["-c"] and len(args) > 1 and args[1].isdigit():
        return int(args[1]), args[2:]
    if args and args[0].startswith("-c") and args[0][2:].isdigit():
        return int(args[0][2:]), args[1:]
    if args and args[0].startswith("--bytes=") and args[0][8:].isdigit():
        return int(args[0][8:]), args[1:]
    return None, args


def _head_bytes(proc: Proc, count: int, files: list[str]) -> int:
    """``head -c N``: the first N bytes of each file, read no further."""
    if not files:
        proc.out(proc.stdin.encode("utf-8", "surrogateescape")[:count]
                 .decode("utf-8", "surrogateescape"))
        return 0
    status = 0
    for path in files:
        try:
            with open(path, "rb") as f:
                proc.out(f.read(count).decode("utf-8", "surrogateescape"))
        except OSError as exc:
            status = proc.fail(f"{path}: {_why(exc)}")
    return status


@program("head")
def _head(proc: Proc) -> int:
    nbytes, files = _byte_count(proc)
    if nbytes is not None:
        return _head_bytes(proc, nbytes, files)
    count, files = _count_option(proc)
    if not files:
        # Only the first lines of the input: it may be a long pipe (yes | head).
        text, end = proc.stdin, 0
        for _ in range(count):
            found = text.find("\n", end)
            if found < 0:
                end = len(text)
                break
            end = found + 1
        proc.out(text[:end])
        return 0
    lines, status = _lines_of(proc, files)
    proc.out("".join(lines[:count]))
    return status


@program("yes")
def _yes(proc: Proc) -> int:
    """``yes [STRING]``: the line forever, until the pipe's reader is gone (SIGPIPE)."""
    line = (" ".join(proc.argv[1:]) or "y") + "\n"
    chunk = line * max(1, 8192 // len(line))
    while True:
        proc.out(chunk)


@program("tail")
def _tail(proc: Proc) -> int:
    count, files = _count_option(proc)
    lines, status = _lines_of(proc, files)
    proc.out("".join(lines[-count:] if count else []))
    return status


@program("wc")
def _wc(proc: Proc) -> int:
    flags, files = _flags(proc, "lwc")
    chosen = [k for k in "lwc" if k in flags] or list("lwc")
    status = 0
    totals = dict.fromkeys(chosen, 0)
    for label in files or [""]:
        lines, failed = _lines_of(proc, [label] if label else [])
        status = status or failed
        if failed:
            continue
        text = "".join(lines)
        size = len(text.encode("utf-8", "surrogateescape"))
        counts = {"l": len(lines), "w": len(text.split()), "c": size}
        for k in chosen:
            totals[k] += counts[k]
        proc.out(" ".join(str(counts[k]) for k in chosen) + (f" {label}" if label else "") + "\n")
    if len(files) > 1:
        proc.out(" ".join(str(totals[k]) for k in chosen) + " total\n")
    return status


@program("grep")
def _grep(proc: Proc) -> int:
    import re

    flags, args = _flags(proc, "ivcqE")
    if not args:
        proc.err("Usage: grep [OPTION]... PATTERNS [FILE]...\n")
        return 2
    try:
        pattern = re.compile(args[0], re.IGNORECASE if "i" in flags else 0)
    except re.error:
        return proc.fail(f"invalid regular expression '{args[0]}'", 2)
    lines, status = _lines_of(proc, args[1:])
    hits = [line for line in lines if bool(pattern.search(line)) != ("v" in flags)]
    if "c" in flags:
        proc.out(f"{len(hits)}\n")
    elif "q" not in flags:
        proc.out("".join(line if line.endswith("\n") else line + "\n" for line in hits))
    if status:
        return 2
    return 0 if hits else 1


@program("sort")
def _sort(proc: Proc) -> int:
    flags, files = _flags(proc, "ru")
    lines, status = _lines_of(proc, files)
    lines = [line if line.endswith("\n") else line + "\n" for line in lines]
    if "u" in flags:
        lines = list(dict.fromkeys(lines))
    proc.out("".join(sorted(lines, reverse="r" in flags)))
    return status

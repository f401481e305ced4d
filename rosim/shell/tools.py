"""Shells and small tools: ``sh``/``bash``, ``busybox``, ``sleep``, ``ncat``, redis.

``sh -c CMD``, ``sh FILE`` and ``sh`` reading standard input run a child
shell. Running a script as ``sh FILE`` reads it rather than executing it, so
it works on a ``noexec`` mount — as on Linux. ``busybox APPLET`` runs the
applet; ``redis-cli save`` writes ``/data/dump.rdb`` and fails with Redis's
own message when that directory is read-only.
"""

from __future__ import annotations

import os

from rosim.shell.interp import Proc, program

__all__: list[str] = []


def _child(proc: Proc, script: str, name: str, args: list[str], stdin: str) -> int:
    shell = proc.shell.child(name, args, proc.env)
    if shell is None:
        return proc.shell.fork_failed(proc)
    if proc.name == "bash":
        shell.dialect = "bash"
    return proc.shell.run_child(shell, script, Proc(proc.argv, stdin, proc.stdout, proc.stderr,
                                                    proc.shell, proc.env))


@program("sh")
@program("bash")
@program("dash")
def _sh(proc: Proc) -> int:
    args = proc.argv[1:]
    name = proc.name
    if args[:1] == ["-c"]:
        if len(args) < 2:
            return proc.fail("-c: option requires an argument", 2)
        return _child(proc, args[1], args[2] if len(args) > 2 else name, args[3:], proc.stdin)
    if args:
        try:
            with open(args[0]) as f:
                script = f.read()
        except OSError as exc:
            proc.err(f"{name}: {args[0]}: {os.strerror(exc.errno or 0)}\n")
            return 127
        return _child(proc, script, args[0], args[1:], proc.stdin)
    return _child(proc, proc.stdin, name, [], "")


@program("busybox")
def _busybox(proc: Proc) -> int:
    if proc.name != "busybox":
        applet = [proc.name, *proc.argv[1:]]
    elif len(proc.argv) > 1:
        applet = proc.argv[1:]
    else:
        proc.out("BusyBox v1.36.1 (2023-07-27 17:12:24 UTC) multi-call binary.\n"
                 "Usage: busybox [function [arguments]...]\n")
        return 0
    sub = Proc(applet, proc.source, proc.stdout, proc.stderr, proc.shell, proc.env)
    return proc.shell.execute(sub)


@program("ncat")
def _ncat(proc: Proc) -> int:
    if "--version" in proc.argv or "-v" in proc.argv[1:2]:
        proc.out("Ncat: Version 7.60 ( https://nmap.org/ncat )\n")
        return 0
    proc.err("Ncat: You must specify a host to connect to. QUITTING.\n")
    return 2


@program("redis-server")
def _redis_server(proc: Proc) -> int:
    proc.out("1:C 01 Jan 2024 12:00:00.000 # Redis version=3.2.3, bits=64\n"
             "1:M 01 Jan 2024 12:00:00.001 # Server started, Redis version 3.2.3\n"
             "1:M 01 Jan 2024 12:00:00.001 * The server is now ready to accept connections "
             "on port 6379\n")
    return 0


@program("redis-cli")
def _redis_cli(proc: Proc) -> int:
    command = [a.lower() for a in proc.argv[1:]]
    if command in ([], ["ping"]):
        proc.out("PONG\n")
        return 0
    if command in (["save"], ["bgsave"]):
        try:
            with open("/data/dump.rdb", "wb") as f:
                f.write(b"REDIS0007")
        except OSError as exc:
            proc.out("(error) ERR Failed opening the RDB file dump.rdb (in server root dir "
                     f"/data) for saving: {os.strerror(exc.errno or 0)}\n")
            return 1
        proc.out("OK\n")
        return 0
    proc.out(f"(error) ERR unknown command '{proc.argv[1]}'\n")
    return 1


@program("vi")
@program("curl")
@program("top")
@program("rpm")
def _stub(proc: Proc) -> int:
    """Installed tools the labs only need to exist: print a version line."""
    proc.out(f"{proc.name}: installed (not simulated further)\n")
    return 0


@program("fallocate")
def _fallocate(proc: Proc) -> int:
    """util-linux ``fallocate -l SIZE FILE``: reserve space without writing it."""
    from rosim.fs.sizes import parse_size

    args = proc.argv[1:]
    if len(args) != 3 or args[0] != "-l":
        proc.err("fallocate: usage: fallocate -l length filename\n")
        return 1
    try:
        length = parse_size(args[1].rstrip("B").replace("iB", "i"), field="length")
    except ValueError:
        return proc.fail(f"invalid length value specified: '{args[1]}'")
    try:
        fd = os.open(args[2], os.O_WRONLY | os.O_CREAT, 0o644)
    except OSError as exc:
        return proc.fail(f"cannot open {args[2]}: {os.strerror(exc.errno or 0)}")
    try:
        os.posix_fallocate(fd, 0, length)
    except OSError as exc:
        return proc.fail(f"fallocate failed: {os.strerror(exc.errno or 0)}")
    finally:
        os.close(fd)
    return 0

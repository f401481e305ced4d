"""Attacks on the notebook's own process from inside a container.

Container code runs on a thread of the notebook's process. Neither guard's
first line sees some of the ways back into that process: a descriptor
number the notebook holds open (Landlock checks rights only when a path is
opened), process-wide hooks and settings that outlive ``run()``. Each test
tries one and asserts the notebook's process is as it was. CI runs this
module with both guards (``ROSIM_HOST_GUARD=audit`` the second time).
"""

from __future__ import annotations

import builtins
import errno
import gc
import os
import posix
import sys

import pytest

import rosim
from rosim.runtime import patching
from tests.conftest import started_fedora


@pytest.fixture()
def ctr():
    with started_fedora("adv-proc") as c:
        yield c


@pytest.fixture()
def notebook_file(tmp_path):
    """A real file the notebook holds open for reading and writing, as fd."""
    path = tmp_path / "notebook-file"
    path.write_bytes(b"notebook")
    fd = os.open(path, os.O_RDWR)
    yield path, fd
    os.close(fd)
    assert patching._is_clean()


def _fileio(fd):
    import _io

    _io.FileIO(fd, "w", closefd=False).write(b"pwned")


DESCRIPTOR_ATTACKS = {
    "posix.write": lambda fd: posix.write(fd, b"pwned"),
    "posix.pwrite": lambda fd: posix.pwrite(fd, b"pwned", 0),
    "posix.ftruncate": lambda fd: posix.ftruncate(fd, 0),
    "posix.close": lambda fd: posix.close(fd),
    "posix.dup2": lambda fd: posix.dup2(posix.pipe()[0], fd),
    "posix.dup": lambda fd: posix.write(posix.dup(fd), b"pwned"),
    "posix.lseek": lambda fd: posix.lseek(fd, 4, 0),
    "posix.read": lambda fd: posix.read(fd, 100),
    "_io.FileIO": _fileio,
}


@pytest.mark.parametrize("name", sorted(DESCRIPTOR_ATTACKS))
def test_a_descriptor_the_notebook_holds_is_out_of_reach(ctr, notebook_file, name):
    """posix.write, close, dup2, FileIO(fd)... on the notebook's descriptor: EBADF."""
    path, fd = notebook_file
    attack = DESCRIPTOR_ATTACKS[name]
    with pytest.raises(OSError) as info:
        ctr.run(attack, fd)
    assert info.value.errno == errno.EBADF
    assert path.read_bytes() == b"notebook"
    assert os.lseek(fd, 0, os.SEEK_CUR) == 0
    assert os.read(fd, 100) == b"notebook"  # still open, still the same file


def test_closerange_inside_leaves_the_notebooks_descriptors_open(ctr, notebook_file):
    """posix.closerange(0, big) closes only what the code opened: the kernel lives on."""
    path, fd = notebook_file

    def attack():
        r, w = posix.pipe()
        posix.closerange(0, 1_000_000)
        try:
            posix.write(w, b"x")
        except OSError as exc:
            return exc.errno
        return None

    assert ctr.run(attack) == errno.EBADF
    assert os.read(fd, 100) == b"notebook"


def test_descriptors_the_code_opened_itself_work(ctr):
    """A real pipe made inside can be written, read, duplicated and closed."""
    def pipe_round_trip():
        r, w = posix.pipe()
        w2 = posix.dup(w)
        posix.write(w2, b"hello")
        posix.close(w2)
        posix.close(w)
        data = posix.read(r, 100)
        posix.close(r)
        return data

    assert ctr.run(pipe_round_trip) == b"hello"


def test_an_audit_hook_added_inside_is_refused(ctr):
    """sys.addaudithook would stay for good and run on every notebook thread.

    CPython drops the new hook without an error when a hook refuses it.
    """
    calls = []

    def attack():
        sys.addaudithook(lambda event, args: calls.append(event))

    ctr.run(attack)
    os.listdir(".")
    assert calls == []


@pytest.mark.parametrize("call", [
    lambda fh: fh.dump_traceback_later(0.2, exit=True),
    lambda fh: fh.register(__import__("signal").SIGUSR1),
    lambda fh: fh.disable(),
])
def test_faulthandler_is_refused_inside(ctr, call):
    """faulthandler.dump_traceback_later(exit=True) would end the kernel later."""
    import faulthandler
    import time

    enabled = faulthandler.is_enabled()
    with pytest.raises(rosim.HostAccessError):
        ctr.run(call, faulthandler)
    time.sleep(0.3)  # the kernel is still here to assert
    assert faulthandler.is_enabled() == enabled


def test_setrlimit_inside_is_refused(ctr):
    """A lowered limit on open files would starve the notebook's process."""
    import resource

    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    with pytest.raises(rosim.HostAccessError):
        ctr.run(resource.setrlimit, resource.RLIMIT_NOFILE, (16, 16))
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == before


def test_builtins_changed_inside_come_back(ctr):
    """del builtins.open, builtins.print = ..., __import__ = None: all put back."""
    before = dict(vars(builtins))

    def attack():
        builtins.print = lambda *a, **k: None
        builtins.len = None
        builtins.rosim_leak = 1
        del builtins.open
        builtins.__import__ = None

    ctr.run(attack)
    assert vars(builtins).keys() == before.keys()
    assert all(vars(builtins)[k] is v for k, v in before.items())
    assert ctr.sh("echo ok").stdout == "ok\n"


def test_gc_and_interpreter_settings_come_back(ctr):
    """gc callbacks and thresholds, switch interval, int digits, dlopen flags."""
    before = (list(gc.callbacks), gc.get_threshold(), sys.getswitchinterval(),
              sys.get_int_max_str_digits(), sys.getdlopenflags())

    def attack():
        gc.callbacks.append(lambda phase, info: None)
        gc.set_threshold(1, 1, 1)
        sys.setswitchinterval(1.0)
        sys.set_int_max_str_digits(640)
        sys.setdlopenflags(0)

    ctr.run(attack)
    assert (list(gc.callbacks), gc.get_threshold(), sys.getswitchinterval(),
            sys.get_int_max_str_digits(), sys.getdlopenflags()) == before


@pytest.mark.parametrize("call", [
    lambda: posix.setuid(posix.getuid()),
    lambda: posix.setgid(posix.getgid()),
    lambda: posix.setgroups(posix.getgroups()),
    lambda: posix.setresuid(-1, -1, -1),
    lambda: posix.chroot("/"),
], ids=["setuid", "setgid", "setgroups", "setresuid", "chroot"])
def test_process_credentials_and_root_are_refused(ctr, call):
    """glibc's setuid acts on every thread: from a container it would drop the notebook's."""
    uid, gid = os.getuid(), os.getgid()
    with pytest.raises(rosim.HostAccessError):
        ctr.run(call)
    assert (os.getuid(), os.getgid()) == (uid, gid)


def _finishes(func, seconds=20.0):
    """Run ``func`` on a helper thread; whether it finished in time (a hang fails the test)."""
    import threading

    errors = []

    def target():
        try:
            func()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if errors:
        raise errors[0]
    return not thread.is_alive()


@pytest.mark.parametrize("setter", [sys.settrace, sys.setprofile], ids=["settrace", "setprofile"])
def test_a_trace_or_profile_function_set_inside_does_not_hang(ctr, setter):
    """sys.settrace inside (a debugger, breakpoint(), coverage): run() returns, the next works."""
    before = (sys.gettrace(), sys.getprofile())

    def inside():
        setter(lambda *args: None)
        return len(os.listdir("/"))

    assert _finishes(lambda: ctr.run(inside))
    assert _finishes(lambda: ctr.sh("echo ok"))
    assert (sys.gettrace(), sys.getprofile()) == before


def test_a_profiler_on_the_notebook_survives_container_calls(ctr):
    """cProfile around a loop of ctr.run and ctr.sh (the notebook's own %prun) does not spin."""
    import cProfile

    def loop():
        profile = cProfile.Profile()
        profile.enable()
        try:
            for _ in range(5):
                ctr.run(os.listdir, "/")
                ctr.sh("echo hi")
        finally:
            profile.disable()

    assert _finishes(loop)


def test_an_interrupt_while_a_profile_function_runs_inside(ctr):
    """Ctrl-C while container code profiles itself: interrupted, and later calls work."""
    import _thread
    import threading
    import time

    def inside():
        sys.setprofile(lambda *args: None)
        time.sleep(30)

    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        ctr.run(inside)
    assert time.monotonic() - start < 10
    assert _finishes(lambda: ctr.sh("echo ok"))
    assert _finishes(lambda: ctr.run(lambda: sum(range(1000))))


def test_a_socket_of_the_notebook_is_out_of_reach(ctr):
    """socket.socket(fileno=fd) and socket.fromfd on the notebook's socket: EBADF."""
    import socket

    mine, peer = socket.socketpair()
    try:
        for attack in (lambda: socket.socket(fileno=mine.fileno()).send(b"pwned"),
                       lambda: socket.fromfd(mine.fileno(), socket.AF_UNIX,
                                             socket.SOCK_STREAM).send(b"pwned")):
            with pytest.raises(OSError) as info:
                ctr.run(attack)
            assert info.value.errno == errno.EBADF
        mine.send(b"still mine")
        assert peer.recv(100) == b"still mine"
    finally:
        mine.close()
        peer.close()


def test_sockets_made_inside_work_asyncio_included(ctr):
    """asyncio.run inside a container (its self-pipe is a socketpair) works."""
    import asyncio

    async def main():
        await asyncio.sleep(0)
        return sorted(os.listdir("/"))[:2]

    assert ctr.run(lambda: asyncio.run(main())) == ctr.run(lambda: sorted(os.listdir("/"))[:2])


def test_a_fresh_copy_of_a_wrapped_module_is_refused(ctr):
    """del sys.modules['posix'] then import posix: a copy without rosim's wrappers."""
    original = sys.modules["posix"]

    def attack():
        del sys.modules["posix"]
        import posix as fresh

        return fresh

    with pytest.raises(rosim.HostAccessError):
        ctr.run(attack)
    assert sys.modules["posix"] is original


def test_modules_removed_inside_come_back(ctr):
    """del sys.modules['builtins'] and friends: the notebook's modules are put back."""
    before = {name: sys.modules[name] for name in ("builtins", "os", "io", "signal")}

    def attack():
        for name in before:
            del sys.modules[name]

    ctr.run(attack)
    assert {name: sys.modules.get(name) for name in before} == before


def test_a_thread_started_with_the_old_alias_is_confined(ctr, tmp_path):
    """_thread.start_new (start_new_thread's old name) starts a confined thread too."""
    import threading

    target = str(tmp_path / "pwned")
    done = threading.Event()
    result = []

    def inside():
        import _thread

        def write():
            try:
                posix.close(posix.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
                result.append("wrote")
            except OSError as exc:
                result.append(exc.errno)
            done.set()

        _thread.start_new(write, ())
        done.wait(5)

    ctr.run(inside)
    assert result and result[0] in (errno.EPERM, errno.EACCES)
    assert not os.path.exists(target)


def test_a_stray_interrupt_on_the_idle_worker_loses_no_call(ctr):
    """An interrupt that reaches the idle worker as it picks up a call: the call still runs."""
    from rosim.runtime.worker import _raise_in, worker

    runner = worker()
    ctr.run(lambda: None)  # the worker now waits for the next call
    _raise_in(runner.ident, KeyboardInterrupt)
    results = []
    assert _finishes(lambda: results.append(ctr.run(lambda: 6 * 7)))
    assert results == [42]
    assert _finishes(lambda: ctr.sh("echo ok"))

"""Running code inside: results, exceptions, patch lifetime, events, host safety."""

from __future__ import annotations

import builtins
import errno
import logging
import os
import pathlib
import shutil
import sys
import tempfile
import threading
import types

import pytest

import rosim
from tests.conftest import started

REAL_OPEN = builtins.open
REAL_OS_OPEN = os.open


def workload() -> dict:
    """A mix of everyday file system code, some of which fails on a ro root."""
    out = {}
    with open("/tmp/a.txt", "w") as f:
        f.write("hello")
    out["read"] = pathlib.Path("/tmp/a.txt").read_text()
    os.makedirs("/tmp/x/y", exist_ok=True)
    shutil.copytree("/etc", "/tmp/etc-copy")
    shutil.rmtree("/tmp/etc-copy")
    fd, name = tempfile.mkstemp()
    os.write(fd, b"data")
    os.close(fd)
    os.replace(name, "/tmp/renamed")
    with open("/data/db", "ab") as f:
        f.write(b"row\n")
    logging.FileHandler("/tmp/app.log").close()
    for path in ("/etc/motd", "/usr/bin/evil", "/var/log/x"):
        try:
            open(path, "w")
        except OSError as exc:
            out[path] = exc.errno
    return out


def test_run_returns_the_result(ro_ctr):
    """run() returns what the function returns."""
    result = ro_ctr.run(workload)
    assert result["read"] == "hello"
    assert result["/etc/motd"] == errno.EROFS


def test_exceptions_propagate_unchanged(ro_ctr):
    """The very exception object raised inside reaches the caller."""
    boom = KeyError("inside")

    def fail():
        raise boom

    with pytest.raises(KeyError) as info:
        ro_ctr.run(fail)
    assert info.value is boom


def test_patching_is_undone_after_any_exception(ro_ctr, tmp_path):
    """After a failing run, open/os are the real ones and the host is reachable."""
    with pytest.raises(OSError):
        ro_ctr.run(lambda: open("/etc/motd", "w"))
    assert builtins.open is REAL_OPEN and os.open is REAL_OS_OPEN
    (tmp_path / "host.txt").write_text("real")
    assert (tmp_path / "host.txt").read_text() == "real"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    fig.savefig(tmp_path / "figure.png")
    plt.close(fig)
    assert (tmp_path / "figure.png").stat().st_size > 0


def test_nothing_is_written_to_the_host(ro_ctr):
    """An audit hook sees no real write, creation or deletion while code runs.

    It watches every thread: container code runs on rosim's worker thread.
    """
    seen: list[tuple] = []
    watching = types.SimpleNamespace(on=False)

    def hook(event, args):
        if watching.on and (
            event in ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.chmod",
                      "os.link", "os.symlink", "os.truncate", "os.utime", "shutil.copyfile")
            or (event == "open" and isinstance(args[2], int)
                and args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        ):
            seen.append((event, args))

    sys.addaudithook(hook)
    watching.on = True
    try:
        ro_ctr.run(workload)
        ro_ctr.run(os.remove, "/tmp/a.txt")
        ro_ctr.run(open, "/tmp/b.txt", "w")
    finally:
        watching.on = False
    real = [(e, a) for e, a in seen if e != "shutil.copyfile"]
    assert real == []


def test_real_host_access_is_refused(ro_ctr, tmp_path):
    """Processes and real writes from inside raise HostAccessError (EPERM)."""
    import posix
    import subprocess

    target = str(tmp_path / "escaped")
    for attempt in (lambda: posix.mkdir(target), lambda: os.system("true"),
                    lambda: subprocess.run(["true"], check=False),
                    lambda: os.pwrite(3, b"x", 0)):
        with pytest.raises(rosim.HostAccessError) as info:
            ro_ctr.run(attempt)
        assert info.value.errno == errno.EPERM
    assert not os.path.exists(target)


def test_threads_started_inside_are_guarded_but_notebook_threads_are_not(ro_ctr, tmp_path):
    """A thread container code starts is confined too; the notebook's own threads are not."""
    import posix

    target = str(tmp_path / "from-container-thread.txt")
    errors: list[BaseException] = []

    def escape():
        try:
            fd = posix.open(target, os.O_WRONLY | os.O_CREAT, 0o644)
            posix.close(fd)
        except OSError as exc:
            errors.append(exc)

    def inside():
        t = threading.Thread(target=escape)
        t.start()
        t.join()

    ro_ctr.run(inside)
    assert len(errors) == 1 and isinstance(errors[0], PermissionError)
    assert not os.path.exists(target)

    host_file = tmp_path / "notebook-thread.txt"
    started, release = threading.Event(), threading.Event()

    def notebook_thread():
        started.set()
        release.wait(5)
        fd = posix.open(str(host_file), os.O_WRONLY | os.O_CREAT, 0o644)
        posix.write(fd, b"ok")
        posix.close(fd)

    t = threading.Thread(target=notebook_thread)
    t.start()
    started.wait(5)
    ro_ctr.run(lambda: (release.set(), t.join(5)))
    assert host_file.read_bytes() == b"ok"


def test_real_functions_passed_in_act_inside(ro_ctr):
    """ctr.run(os.remove, p) removes the container's file, not the host's."""
    ro_ctr.run(open, "/tmp/victim", "w").close()
    ro_ctr.run(os.remove, "/tmp/victim")
    assert not ro_ctr.run(os.path.exists, "/tmp/victim")
    assert ro_ctr.run(pathlib.Path("/etc/passwd").read_text).startswith("root:")


def test_events_record_each_call(ro_ctr):
    """The event log holds op, path, mount and outcome of each call."""
    ro_ctr.events.clear()
    ro_ctr.run(workload)
    events = list(ro_ctr.events)
    denied = {(e.op, e.path, e.mount, e.result) for e in ro_ctr.events.writes_denied()}
    assert ("open", "/etc/motd", "/", "EROFS") in denied
    assert ("open", "/usr/bin/evil", "/", "EROFS") in denied
    ok_paths = {e.path for e in events if e.ok}
    assert {"/tmp/a.txt", "/data/db", "/tmp/app.log"} <= ok_paths
    assert any(e.op == "rename" and e.mount == "/tmp" and e.ok for e in events)
    assert any(e.op == "mkdir" and e.path == "/tmp/x" for e in events)
    assert ro_ctr.events.summary()[("/", "EROFS")] == 3
    assert events[0].seq == 0 and str(events[0]).startswith("open(")


def test_event_errno_property(ro_ctr):
    """FsEvent.errno turns the errno name back into the number."""
    with pytest.raises(OSError):
        ro_ctr.run(os.mkdir, "/etc/new")
    event = ro_ctr.events[-1]
    assert (event.op, event.result, event.errno) == ("mkdir", "EROFS", errno.EROFS)


def test_large_files_cost_no_memory(demo_image):
    """A file declared by size occupies its size without its bytes."""
    image = demo_image.with_layer({"/srv/big.img": rosim.File(size="4Gi")})
    ctr = started("podman", image)
    assert ctr.run(os.path.getsize, "/srv/big.img") == 4 * 1024**3
    assert image.tree.entry("/srv/big.img").data is None


def test_cwd_is_per_container(ro_ctr):
    """chdir inside a container does not move the host process."""
    host_cwd = os.getcwd()
    ro_ctr.run(os.chdir, "/tmp")
    assert os.getcwd() == host_cwd
    assert ro_ctr.run(os.getcwd) == "/tmp"


def test_a_module_imported_between_runs_acts_inside(ro_ctr, tmp_path, monkeypatch):
    """A module the notebook imports after a first run() is patched in the next ones."""
    assert ro_ctr.run(int, "1") == 1
    (tmp_path / "late_module_for_rosim.py").write_text(
        "import os\nfrom os.path import exists\n"
        "def listing():\n    return sorted(os.listdir('/etc'))[:1], exists('/scratch')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import late_module_for_rosim

    try:
        assert ro_ctr.run(late_module_for_rosim.listing) == (
            ro_ctr.run(lambda: sorted(os.listdir("/etc"))[:1]), True)
        assert late_module_for_rosim.os is os
    finally:
        sys.modules.pop("late_module_for_rosim", None)


def test_what_code_sets_on_the_fake_modules_does_not_reach_the_next_run(ro_ctr, rw_ctr):
    """os.getcwd replaced inside one run() is the simulated one again in the next."""
    def hijack():
        os.getcwd = lambda: "/hijacked"
        os.rosim_marker = 1
        return os.getcwd()

    assert ro_ctr.run(hijack) == "/hijacked"
    assert rw_ctr.run(os.getcwd) == "/"
    assert not rw_ctr.run(hasattr, os, "rosim_marker")
    assert not hasattr(os, "rosim_marker") and os.getcwd() != "/hijacked"


def test_sys_modules_holds_only_real_modules_after_a_run(ro_ctr):
    """The fake modules pyfakefs puts in sys.modules are all taken out again."""
    before = dict(sys.modules)
    ro_ctr.run(lambda: __import__("pathlib").Path("/etc").is_dir())
    assert all(sys.modules.get(name) is module for name, module in before.items())
    assert not any(type(m).__module__.startswith("pyfakefs") for m in sys.modules.values())


@pytest.mark.parametrize("names", [("vars", "bool", "len", "set", "list", "isinstance",
                                    "getattr", "setattr", "id", "all", "map")])
def test_builtins_rosim_itself_needs_are_put_back_before_it_needs_them(ro_ctr, names):
    """Container code that breaks the builtins rosim's tear-down uses leaves nothing patched."""
    import builtins

    from rosim.runtime import patching

    before = dict(vars(builtins))

    def attack():
        for name in names:
            setattr(builtins, name, None)

    try:
        ro_ctr.run(attack)
    except Exception:  # noqa: BLE001, S110 - an error is allowed, a leak is not
        pass
    assert vars(builtins).keys() == before.keys()
    assert all(vars(builtins)[k] is v for k, v in before.items())
    assert patching._is_clean() and builtins.open is REAL_OPEN and os.open is REAL_OS_OPEN
    assert ro_ctr.sh("echo ok").stdout == "ok\n"


def test_an_object_equal_to_everything_cannot_pass_for_the_original(ro_ctr):
    """State is compared by identity: an __eq__ that says "equal" changes nothing."""
    class Equal:
        def __eq__(self, other):
            return True

        __hash__ = object.__hash__

    before = (list(sys.meta_path), list(sys.path), sys.excepthook, dict(vars(builtins)))

    def attack():
        sys.meta_path[0] = Equal()
        sys.path[0] = Equal()
        sys.excepthook = Equal()
        builtins.print = Equal()

    ro_ctr.run(attack)
    ro_ctr.run(lambda: setattr(os, "path", Equal()))  # the container's os module
    assert ro_ctr.run(lambda: os.path.join("/a", "b")) == "/a/b"
    assert all(a is b for a, b in zip(sys.meta_path, before[0], strict=True))
    assert all(a is b for a, b in zip(sys.path, before[1], strict=True))
    assert sys.excepthook is before[2] and builtins.print is before[3]["print"]


def test_pyfakefs_used_directly_between_runs_does_not_redirect_the_container(ro_ctr):
    """A bare pyfakefs Patcher (a test's, a benchmark's) leaves rosim on the kernel."""
    from pyfakefs.fake_filesystem_unittest import Patcher

    assert ro_ctr.run(int, "1") == 1
    with Patcher() as other:
        other.fs.create_file("/only-in-the-other-fake-fs")
        os.makedirs("/tmp/other")

    def inside():
        os.mkdir("/tmp/made-inside")
        pathlib.Path("/tmp/made-inside/p.txt").write_text("x")
        with open("/tmp/made-inside/p.txt") as f:
            written = f.read()
        return (written, os.path.relpath("/tmp/p.txt", "/scratch"),
                pathlib.Path("/only-in-the-other-fake-fs").exists())

    assert ro_ctr.run(inside) == ("x", "../tmp/p.txt", False)

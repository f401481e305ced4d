"""The character devices in a container's /dev: Linux's drivers, simulated, never the host's.

The same behaviour is checked against real runc in
tests/fidelity/test_dev_fidelity.py (``test_devices_behave_as_linux_drivers``).
"""

from __future__ import annotations

import errno
import signal
import threading
import time

import pytest

import rosim
from rosim.fs import devices
from tests.conftest import started


@pytest.fixture(scope="module")
def ro():
    """A Fedora container under CRI-O with the global --read-only flag."""
    return started("cri-o", rosim.Image.builtin("fedora"), read_only=True)


def _open_each(mode: str, data: bytes | None):
    out = {}
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        try:
            with open(f"/dev/{name}", mode) as f:
                out[name] = len(f.write(data) and data) if data is not None else f.read(70000)
        except OSError as exc:
            out[name] = errno.errorcode[exc.errno]
    return out


def test_writes_to_devices_on_a_read_only_root():
    """null, zero, random and urandom take writes; full gives ENOSPC; tty ENXIO (no terminal)."""
    ctr = started("cri-o", rosim.Image.builtin("fedora"), read_only=True)
    got = ctr.run(_open_each, "wb", b"x" * 10)
    assert got == {"null": 10, "zero": 10, "full": "ENOSPC", "random": 10, "urandom": 10,
                   "tty": "ENXIO"}


def test_reads_from_devices():
    """null is empty, zero and full read zeros, random and urandom read bytes, tty ENXIO."""
    ctr = started("cri-o", rosim.Image.builtin("fedora"), read_only=True)
    got = ctr.run(_open_each, "rb", None)
    assert got["null"] == b""
    assert got["zero"] == got["full"] == bytes(70000)
    assert len(got["urandom"]) == len(got["random"]) == 70000
    assert got["urandom"] != got["random"] and len(set(got["urandom"])) > 200
    assert got["tty"] == "ENXIO"


def test_shell_redirections_to_devices(ro):
    """echo > /dev/null works on a read-only root; > /dev/full is bash's write error, status 1."""
    assert ro.sh("echo x > /dev/null; echo $?").stdout == "0\n"
    assert ro.sh("echo x > /dev/zero; echo $?").stdout == "0\n"
    full = ro.sh("echo x > /dev/full")
    assert full.status == 1 and "No space left on device" in full.stderr
    tty = ro.sh("cat /dev/tty")
    assert tty.status == 1 and "No such device or address" in tty.stderr


def test_head_reads_devices_by_bytes(ro):
    """head -c of zero and urandom: exactly that many bytes, even ones that are not UTF-8."""
    assert ro.sh("head -c 4 /dev/zero | wc -c").stdout == "4\n"
    assert ro.sh("head -c 16 /dev/urandom | wc -c").stdout == "16\n"
    assert ro.sh("head -c 16 /dev/urandom > /tmp/r; wc -c < /tmp/r").stdout.split() == ["16"]


def test_device_reads_come_in_bounded_pieces():
    """One read gives at most a pipe's worth; reading an endless device whole is MemoryError."""
    raw = devices.DeviceFile((1, 5), "/dev/zero", True, False)
    assert raw.readinto(bytearray(10 * devices.CHUNK)) == devices.CHUNK
    with pytest.raises(MemoryError):
        raw.readall()
    assert devices.DeviceFile((1, 3), "/dev/null", True, False).readall() == b""


def test_the_host_devices_are_not_opened(ro):
    """Opening /dev/zero inside gives rosim's device object, not a host file descriptor."""
    def kind():
        with open("/dev/zero", "rb", buffering=0) as f:
            return type(f).__name__

    assert ro.run(kind) == "DeviceFile"


def test_cat_dev_zero_into_dev_null_stops_at_the_stop_button():
    """An endless `cat /dev/zero > /dev/null` ends promptly when interrupted from another thread."""
    ctr = rosim.Runtime("podman").create(rosim.Image.builtin("fedora"), name="devstop")
    ctr.start()
    armed = threading.Event()

    def handler(signum, frame):
        if armed.is_set():
            armed.clear()
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)

    def press():
        armed.set()
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    timer = threading.Timer(0.5, press)
    try:
        start = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            ctr.sh("cat /dev/zero > /dev/null")
        assert time.monotonic() - start < 5
    finally:
        timer.cancel()
        armed.clear()
        signal.signal(signal.SIGINT, previous)
    assert ctr.sh("echo ok").stdout == "ok\n"
    ctr.stop()

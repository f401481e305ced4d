"""/dev in a container: rosim's listing against a real runc container's.

runc fills the ``/dev`` tmpfs itself: its default devices (``null``,
``zero``, ``full``, ``random``, ``urandom``, ``tty``), the ``fd``,
``stdin``, ``stdout``, ``stderr`` and ``ptmx`` links and the mount points of
``devpts`` (``/dev/pts``, holding ``ptmx``), ``mqueue`` and ``shm``. The
real side gets the runtimes' ``devpts`` and ``mqueue`` mounts
(``fidelity_harness.RUNTIME_DEV_MOUNTS``); each entry's name, type and
permissions and each link's target are compared.
"""

from __future__ import annotations

import pytest
from fidelity_harness import Setup

pytestmark = pytest.mark.fidelity


def dev_listing():
    """Every entry of /dev and /dev/pts: path, ``ls -l`` mode string, link target."""
    import os
    import stat

    out = []
    for directory in ("/dev", "/dev/pts"):
        for name in sorted(os.listdir(directory)):
            path = f"{directory}/{name}"
            st = os.lstat(path)
            target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else None
            out.append([path, stat.filemode(st.st_mode), target])
    return out


@pytest.mark.parametrize(("profile", "read_only"), [
    ("docker", False), ("docker", True), ("podman", True), ("cri-o", True)])
def test_dev_lists_what_runc_makes(fidelity, profile, read_only):
    """ls -la /dev: the same names, types, modes and link targets as in runc."""
    setup = Setup(f"dev-{profile}-{'ro' if read_only else 'rw'}", {"/etc/motd": "hi\n"},
                  profile=profile, read_only=read_only)
    real, sim, _ = fidelity.both(setup, dev_listing)
    fidelity.compared += len(real.result)
    names = {path for path, _, _ in real.result}
    assert {"/dev/null", "/dev/zero", "/dev/ptmx", "/dev/pts/ptmx", "/dev/mqueue"} <= names
    assert sim == real.result, f"runc:  {real.result!r}\nrosim: {sim!r}"


def device_behaviour():
    """Open, read and write each of runc's character devices; what each call gave."""
    import errno as _errno

    def attempt(path, mode, data=None, size=None):
        try:
            with open(path, mode) as f:
                if data is None:
                    got = f.read(size)
                    return ["read", len(got), sorted(set(got)) if path != "/dev/urandom" and
                            path != "/dev/random" else "random"]
                f.write(data)
                f.flush()
                return ["wrote", len(data)]
        except OSError as exc:
            return ["error", _errno.errorcode.get(exc.errno, exc.errno)]

    out = []
    for name in ("null", "zero", "full", "random", "urandom", "tty"):
        path = f"/dev/{name}"
        out.append([path, "read", attempt(path, "rb", size=70000)])
        out.append([path, "write", attempt(path, "wb", b"x" * 10)])
    return out


@pytest.mark.parametrize(("profile", "read_only"), [("docker", True), ("cri-o", True)])
def test_devices_behave_as_linux_drivers(fidelity, profile, read_only):
    """null/zero/full/random/urandom/tty read and written as in a real --read-only container."""
    setup = Setup(f"devio-{profile}-{'ro' if read_only else 'rw'}", {"/etc/motd": "hi\n"},
                  profile=profile, read_only=read_only)
    real, sim, _ = fidelity.both(setup, device_behaviour)
    fidelity.compared += len(real.result)
    assert ["/dev/null", "write", ["wrote", 10]] in real.result
    assert ["/dev/full", "write", ["error", "ENOSPC"]] in real.result
    assert sim == real.result, f"runc:  {real.result!r}\nrosim: {sim!r}"

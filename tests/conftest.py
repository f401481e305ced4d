"""Shared fixtures: small images and containers in each runtime setting."""

from __future__ import annotations

import errno
from contextlib import contextmanager

import pytest

import rosim

DEMO_FILES = {
    "/etc/passwd": "root:x:0:0::/root:/bin/sh\n",
    "/etc/emptydir/": None,
    "/etc/app/app.conf": "level=info\n",
    "/usr/bin/app": rosim.File("#!/bin/sh\necho hi\n", mode=0o755),
    "/usr/lib/libx.so": rosim.File(b"\x7fELF", mode=0o755),
    "/var/log/": None,
    "/var/cache/": None,
    "/tmp/": rosim.Dir(mode=0o1777),
    "/run/": None,
    "/run/lock/seed": "from the image\n",
    "/var/tmp/": rosim.Dir(mode=0o1777),
}


@pytest.fixture(scope="session")
def demo_image() -> rosim.Image:
    """A small image with the directories the runtimes mount over."""
    return rosim.Image.from_dict("demo", DEMO_FILES)


def started(profile: str, image: rosim.Image, *, read_only: bool = False,
            container_read_only: bool | None = None, mounts=(), **runtime_kwargs):
    """Create and start a container in a fresh runtime."""
    rt = rosim.Runtime(profile, read_only=read_only, **runtime_kwargs)
    ctr = rt.create(image, name="t", mounts=list(mounts), read_only=container_read_only)
    ctr.start()
    return ctr


@contextmanager
def started_fedora(name: str):
    """A started Podman container of the built-in fedora image, stopped after the block."""
    ctr = rosim.Runtime("podman").create(rosim.Image.builtin("fedora"), name=name)
    ctr.start()
    yield ctr
    ctr.stop()


@pytest.fixture
def ro_ctr(demo_image):
    """A CRI-O container with the global read-only flag, a sized tmpfs and volumes."""
    return started("cri-o", demo_image, read_only=True, mounts=[
        rosim.Tmpfs("/scratch", size="64k"),
        rosim.Bind(rosim.Volume("data"), "/data"),
        rosim.Bind(rosim.Volume("config"), "/config", read_only=True),
    ])


@pytest.fixture
def rw_ctr(demo_image):
    """A Podman container with a writable root."""
    return started("podman", demo_image)


def outcome(func, *args, **kwargs) -> str:
    """Call ``func`` and return 'ok' or the errno name of the OSError it raised."""
    try:
        func(*args, **kwargs)
    except OSError as exc:
        return errno.errorcode[exc.errno]
    return "ok"

"""Runtime profiles: exactly the mounts and options each runtime adds."""

from __future__ import annotations

import os
import stat

import pytest

import rosim
from rosim.runtime.profiles import DEV_NODES
from tests.conftest import started


def mounts_of(ctr):
    return {m.destination: m for m in ctr.mounts}


def tmpfs_of(ctr, origin="runtime"):
    return {m.destination: m for m in ctr.mounts
            if m.fstype == "tmpfs" and m.origin == origin
            and m.destination not in ("/dev", "/dev/shm")}


def test_crio_global_read_only_adds_three_noexec_tmpfs(demo_image):
    """crio --read-only: /run (755), /tmp and /var/tmp (1777), rw,noexec,nosuid,nodev."""
    ctr = started("cri-o", demo_image, read_only=True)
    tmpfs = tmpfs_of(ctr)
    assert sorted(tmpfs) == ["/run", "/tmp", "/var/tmp"]
    for m in tmpfs.values():
        o = m.options
        assert (o.read_only, o.noexec, o.nosuid, o.nodev, o.tmpcopyup, o.size) == (
            False, True, True, True, True, None)
    assert tmpfs["/run"].options.mode == 0o755
    assert tmpfs["/tmp"].options.mode == tmpfs["/var/tmp"].options.mode == 0o1777
    assert mounts_of(ctr)["/"].read_only


def test_crio_skips_a_tmpfs_when_a_user_mount_takes_the_path(demo_image):
    """A Kubernetes mount at /tmp replaces CRI-O's /tmp tmpfs; the others stay."""
    ctr = started("cri-o", demo_image, read_only=True,
                  mounts=[rosim.Bind(rosim.Volume("scratch"), "/tmp")])
    assert sorted(tmpfs_of(ctr)) == ["/run", "/var/tmp"]
    assert mounts_of(ctr)["/tmp"].fstype == "bind"


def test_crio_container_flag_alone_adds_no_tmpfs(demo_image):
    """readOnlyRootFilesystem without the global flag: read-only root, no tmpfs."""
    ctr = started("cri-o", demo_image, container_read_only=True)
    assert ctr.read_only and tmpfs_of(ctr) == {}


def test_crio_global_flag_cannot_be_turned_off_per_container(demo_image):
    """readOnlyRootFilesystem: false does not undo crio --read-only."""
    ctr = started("cri-o", demo_image, read_only=True, container_read_only=False)
    assert ctr.read_only


def test_crio_privileged_keeps_root_read_only_but_frees_bind_files(demo_image):
    """Privileged: / stays read-only; resolv.conf and hostname become rw."""
    rt = rosim.Runtime("cri-o", read_only=True)
    normal = rt.create(demo_image, name="normal")
    priv = rt.create(demo_image, name="priv", privileged=True)
    normal.start()
    priv.start()
    assert priv.read_only
    for dest in ("/etc/resolv.conf", "/etc/hostname", "/run/.containerenv"):
        assert mounts_of(normal)[dest].read_only
        assert not mounts_of(priv)[dest].read_only


def test_podman_read_only_tmpfs_has_no_noexec(demo_image):
    """podman --read-only: /tmp, /var/tmp, /run with rw,rprivate,nosuid,nodev,tmpcopyup."""
    ctr = started("podman", demo_image, read_only=True)
    tmpfs = tmpfs_of(ctr)
    assert sorted(tmpfs) == ["/run", "/tmp", "/var/tmp"]
    for m in tmpfs.values():
        o = m.options
        assert (o.noexec, o.nosuid, o.nodev, o.tmpcopyup, o.propagation) == (
            False, True, True, True, "rprivate")


def test_podman_read_only_tmpfs_false(demo_image):
    """--read-only-tmpfs=false: no tmpfs; Podman 4.3.1 as tested keeps /dev and
    /dev/shm writable (current Podman's docs say they become read-only)."""
    ctr = started("podman", demo_image, read_only=True, read_only_tmpfs=False)
    assert tmpfs_of(ctr) == {}
    assert not mounts_of(ctr)["/dev"].read_only and not mounts_of(ctr)["/dev/shm"].read_only
    assert mounts_of(ctr)["/dev"].options.noexec


def test_docker_read_only_adds_nothing(demo_image):
    """docker --read-only: no tmpfs at all."""
    ctr = started("docker", demo_image, read_only=True)
    assert tmpfs_of(ctr) == {}
    assert not mounts_of(ctr)["/dev/shm"].read_only


@pytest.mark.parametrize(("profile", "noexec"), [("docker", True), ("podman", False)])
def test_user_tmpfs_defaults(demo_image, profile, noexec):
    """--tmpfs defaults to nosuid,nodev, no size, and under Docker noexec ('exec'
    overrides); Podman's code adds no noexec, whatever its docs say."""
    ctr = started(profile, demo_image, read_only=True, mounts=[
        rosim.Tmpfs("/cache"), rosim.Tmpfs("/bin-cache", options=("exec",))])
    cache = mounts_of(ctr)["/cache"].options
    assert (cache.noexec, cache.nosuid, cache.nodev, cache.size) == (noexec, True, True, None)
    assert not mounts_of(ctr)["/bin-cache"].options.noexec


def test_crio_user_tmpfs_takes_options_as_given(demo_image):
    """Under CRI-O a tmpfs gets exactly the OCI options it was given."""
    ctr = started("cri-o", demo_image, mounts=[rosim.Tmpfs("/cache", options=("nosuid",))])
    o = mounts_of(ctr)["/cache"].options
    assert (o.noexec, o.nosuid, o.nodev) == (False, True, False)


def test_dev_shm_is_a_64m_noexec_tmpfs(demo_image):
    """/dev/shm is tmpfs rw,nosuid,nodev,noexec: size=65536k, Podman's size=64000k."""
    for profile, size in (("cri-o", 64 * 1024 * 1024), ("podman", 65536000),
                          ("docker", 64 * 1024 * 1024)):
        shm = mounts_of(started(profile, demo_image))["/dev/shm"]
        assert shm.options.size == size and shm.options.noexec


def test_dev_nodes_are_each_containers_own(demo_image):
    """Each container's /dev gets runc's nodes afresh: a change in one container, or
    after a restart, is not seen by the next; a user mount keeps its place."""
    first = started("docker", demo_image)
    first.run(os.chmod, "/dev/tty", 0o600)
    first.run(os.remove, "/dev/stdin")
    second = started("docker", demo_image,
                     mounts=[rosim.Bind(rosim.Volume("queues"), "/dev/mqueue")])
    mode = second.run(lambda: stat.filemode(os.lstat("/dev/tty").st_mode))
    assert mode == "crw-rw-rw-"
    assert second.run(os.readlink, "/dev/stdin") == "/proc/self/fd/0"
    names = second.run(os.listdir, "/dev")
    assert sorted(names) == sorted(
        {n.path for n in DEV_NODES if "/" not in n.path} | {"shm"})
    assert second.run(os.path.ismount, "/dev/mqueue")
    first.restart()
    assert first.run(os.readlink, "/dev/stdin") == "/proc/self/fd/0"


@pytest.mark.parametrize(("profile", "read_only", "container", "expected"), [
    ("cri-o", False, None, False), ("cri-o", True, None, True),
    ("cri-o", False, True, True), ("cri-o", True, False, True),
    ("podman", False, None, False), ("podman", True, None, True),
    ("podman", True, False, False), ("docker", False, True, True),
])
def test_who_decides_the_read_only_root(demo_image, profile, read_only, container, expected):
    """CRI-O: global OR container; Podman/Docker: the container's flag wins."""
    ctr = started(profile, demo_image, read_only=read_only, container_read_only=container)
    assert ctr.read_only is expected

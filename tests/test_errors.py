"""Bad input and wrong lifecycle steps: one RosimError tree, messages that name."""

from __future__ import annotations

import pytest

import rosim


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: rosim.Tmpfs("tmp"), rosim.InvalidPathError,
     "Tmpfs destination(='tmp') must be an absolute path"),
    (lambda: rosim.Tmpfs("/a/../b"), rosim.InvalidPathError, "must not contain '..'"),
    (lambda: rosim.Tmpfs("/a\0b"), rosim.InvalidPathError, "NUL byte"),
    (lambda: rosim.Tmpfs(""), rosim.InvalidPathError, "must not be empty"),
    (lambda: rosim.Tmpfs("/t", size="1Gx"), rosim.InvalidSizeError, "size(='1Gx')"),
    (lambda: rosim.Tmpfs("/t", size=-1), rosim.InvalidSizeError, "size(=-1) must be >= 0"),
    (lambda: rosim.Tmpfs("/t", mode="999"), rosim.MountOptionError, "mode(='999')"),
    (lambda: rosim.Tmpfs("/t", options=("noexec", "exec")), rosim.MountOptionError,
     "'noexec' and 'exec'"),
    (lambda: rosim.Tmpfs("/t", options=("fast",)), rosim.MountOptionError,
     "unknown option 'fast'"),
    (lambda: rosim.Tmpfs("/t", options="ro"), rosim.MountOptionError, "must be a tuple"),
    (lambda: rosim.Bind(rosim.Volume("v"), "/d", options=("size=1k",)),
     rosim.MountOptionError, "only tmpfs mounts take a size"),
    (lambda: rosim.Bind(rosim.Volume("v"), "/d", read_only=True, options=("rw",)),
     rosim.MountOptionError, "read_only=True"),
    (lambda: rosim.Bind(42, "/d"), rosim.ConfigError, "Bind source(=42)"),
    (lambda: rosim.Bind("relative", "/d"), rosim.InvalidPathError, "Bind source"),
    (lambda: rosim.Volume("bad name"), rosim.ConfigError, "Volume name(='bad name')"),
    (lambda: rosim.Runtime("crio"), rosim.UnknownProfileError,
     "profile(='crio') must be one of 'cri-o', 'docker', 'podman'"),
    (lambda: rosim.Runtime("cri-o", read_only="yes"), rosim.ConfigError,
     "read_only(='yes') must be a bool"),
    (lambda: rosim.Runtime("podman", memory="lots"), rosim.InvalidSizeError, "memory(='lots')"),
    (lambda: rosim.Image.from_dict("x", {"etc/passwd": "x"}), rosim.InvalidPathError,
     "files key(='etc/passwd')"),
    (lambda: rosim.Image.from_dict("x", {"/a/": "text"}), rosim.ImageError,
     "ends with '/'"),
    (lambda: rosim.Image.from_dict("x", {"/a": "f", "/a/b": "g"}), rosim.ImageError,
     "which is a file, not a directory"),
    (lambda: rosim.Image.from_dict("x", {"/a": 3}), rosim.ImageError, "files['/a'](=3)"),
    (lambda: rosim.Image.from_dict("x", {"/a": rosim.File(mode=0o20000)}), rosim.ImageError,
     "mode(=8192)"),
    (lambda: rosim.Image.from_dict("", {}), rosim.ImageError, "name(='')"),
    (lambda: rosim.Image.builtin("ubuntu"), rosim.ImageError, "name(='ubuntu')"),
])
def test_bad_input_names_the_field_and_value(make, error, message):
    """Each bad value raises its RosimError subclass with the field and value."""
    with pytest.raises(error) as info:
        make()
    assert message in str(info.value)
    assert isinstance(info.value, rosim.RosimError)


def test_config_errors_are_value_errors():
    """ConfigError is also a ValueError, for callers who catch that."""
    assert issubclass(rosim.ConfigError, ValueError)
    assert issubclass(rosim.ContainerStateError, rosim.LifecycleError)


@pytest.mark.parametrize(("mounts", "message"), [
    ([rosim.Tmpfs("/x"), rosim.Tmpfs("/x")], "mounts[1].destination(='/x') is already"),
    ([rosim.Tmpfs("/etc/passwd")], "is a file in image 'demo'"),
    ([rosim.Tmpfs("/etc/passwd/sub")], "lies below '/etc/passwd', which is a file"),
    ([rosim.Tmpfs("/proc/x")], "inside /proc or /sys"),
    (["/tmp"], "mounts[0](='/tmp') must be a rosim.Tmpfs or rosim.Bind"),
])
def test_bad_mounts(demo_image, mounts, message):
    """Duplicate destinations and mounts over files are refused at create()."""
    with pytest.raises(rosim.ConfigError) as info:
        rosim.Runtime("podman").create(demo_image, mounts=mounts)
    assert message in str(info.value)


def test_duplicate_container_name(demo_image):
    """Names are unique per runtime."""
    rt = rosim.Runtime("docker")
    rt.create(demo_image, name="web")
    with pytest.raises(rosim.ConfigError, match=r"name\(='web'\) is already used"):
        rt.create(demo_image, name="web")


def test_lifecycle_steps_in_the_wrong_state(demo_image):
    """run before start, start twice, run after stop, start after remove."""
    ctr = rosim.Runtime("podman").create(demo_image, name="life")
    with pytest.raises(rosim.ContainerStateError,
                       match=r"run\(\) needs a running container; 'life' is created"):
        ctr.run(print)
    ctr.start()
    with pytest.raises(rosim.ContainerStateError, match="start"):
        ctr.start()
    with pytest.raises(rosim.ContainerStateError, match="remove"):
        ctr.remove()
    ctr.stop()
    with pytest.raises(rosim.ContainerStateError, match="is stopped"):
        ctr.run(print)
    ctr.remove()
    with pytest.raises(rosim.ContainerStateError,
                       match=r"start\(\) needs a created or stopped container; 'life' is removed"):
        ctr.start()


def test_remove_force_and_name_reuse(demo_image):
    """remove(force=True) stops a running container; its name is free again."""
    rt = rosim.Runtime("podman")
    ctr = rt.create(demo_image, name="again")
    ctr.start()
    ctr.remove(force=True)
    assert ctr.state == "removed"
    assert rt.create(demo_image, name="again").state == "created"


def test_run_does_not_nest(demo_image):
    """A container's code cannot start another container's code."""
    rt = rosim.Runtime("podman")
    a = rt.create(demo_image, name="a")
    b = rt.create(demo_image, name="b")
    a.start()
    b.start()
    with pytest.raises(rosim.LifecycleError, match="does not nest"):
        a.run(lambda: b.run(print))

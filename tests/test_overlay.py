"""The overlay root: copy-up, whiteouts, opaque directories, diff, sharing."""

from __future__ import annotations

import dataclasses
import os
import posixpath
import shutil

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import rosim
from rosim.fs.overlay import DiffStyle, overlay_changes
from tests.conftest import DEMO_FILES, outcome, started


def write(path: str, data: str = "x") -> None:
    with open(path, "w") as f:
        f.write(data)


def test_new_container_sees_the_pristine_image(demo_image):
    """Changes in one container never reach the image or a sibling container."""
    first = started("podman", demo_image)
    first.run(write, "/etc/passwd", "changed\n")
    first.run(os.remove, "/etc/app/app.conf")
    second = started("podman", demo_image)
    assert second.run(lambda: open("/etc/passwd").read()) == DEMO_FILES["/etc/passwd"]
    assert second.run(os.path.exists, "/etc/app/app.conf")
    assert demo_image.tree.entry("/etc/passwd").data == DEMO_FILES["/etc/passwd"].encode()
    # Only the mount points of Podman's /etc files, which the image lacks.
    assert second.diff() == [("C", "/etc")]


def test_copy_up_on_write_and_metadata(rw_ctr):
    """Writing or chmod-ing an image file copies it up: diff shows C."""
    rw_ctr.run(write, "/etc/passwd", "root\n")
    rw_ctr.run(os.chmod, "/usr/bin/app", 0o700)
    assert rw_ctr.diff() == [("C", "/etc"), ("C", "/etc/passwd"), ("C", "/usr"),
                             ("C", "/usr/bin"), ("C", "/usr/bin/app")]


def test_upper_size_counts_copied_up_and_new_bytes(rw_ctr):
    """The upper layer holds a whole copied-up file plus new files; reads cost nothing."""
    assert rw_ctr.upper_size == 0
    rw_ctr.run(lambda: open("/etc/passwd").read())
    assert rw_ctr.upper_size == 0
    rw_ctr.run(lambda: open("/etc/passwd", "a").close())
    assert rw_ctr.upper_size == len(DEMO_FILES["/etc/passwd"])
    rw_ctr.run(write, "/srv.txt", "x" * 1000)
    assert rw_ctr.upper_size == len(DEMO_FILES["/etc/passwd"]) + 1000


def test_delete_leaves_a_whiteout(rw_ctr):
    """Deleting an image file shows D, its directory C; the image keeps the file."""
    rw_ctr.run(os.remove, "/etc/passwd")
    assert rw_ctr.diff() == [("C", "/etc"), ("D", "/etc/passwd")]
    assert rw_ctr.run(outcome, open, "/etc/passwd") == "ENOENT"


def test_recreated_directory_is_opaque(rw_ctr):
    """Deleting and re-creating an image directory: podman diff says D and lists
    nothing inside; docker diff says C and D for each image entry it hides."""
    rw_ctr.run(shutil.rmtree, "/etc/app")
    rw_ctr.run(os.mkdir, "/etc/app")
    assert rw_ctr.run(os.listdir, "/etc/app") == []
    rw_ctr.run(write, "/etc/app/new.conf")
    assert rw_ctr.diff() == [("C", "/etc"), ("D", "/etc/app")]
    docker = started("docker", rw_ctr.image)
    docker.run(shutil.rmtree, "/etc/app")
    docker.run(os.mkdir, "/etc/app")
    docker.run(write, "/etc/app/new.conf")
    assert docker.diff() == [("C", "/etc"), ("C", "/etc/app"), ("D", "/etc/app/app.conf"),
                             ("A", "/etc/app/new.conf")]


def test_one_upper_layer_read_by_each_tools_rules(rw_ctr):
    """One walk of the upper layer, three readings: an opaque directory is D then
    its contents (the layer itself), D alone (podman), C plus a D per hidden image
    entry (docker); a directory over an image file is D only for podman; a
    DiffRules given directly is followed, its hidden paths left out."""
    rw_ctr.run(os.remove, "/etc/passwd")
    rw_ctr.run(os.mkdir, "/etc/passwd")
    rw_ctr.run(write, "/etc/passwd/x")
    rw_ctr.run(shutil.rmtree, "/etc/app")
    rw_ctr.run(os.mkdir, "/etc/app")
    rw_ctr.run(write, "/etc/app/new.conf")
    rw_ctr.run(os.chmod, "/usr/bin", 0o700)
    root, dev = rw_ctr._root, rw_ctr._upper.dev
    assert overlay_changes(root, dev, DiffStyle.UPPER) == [
        ("C", "/etc"), ("D", "/etc/app"), ("A", "/etc/app/new.conf"),
        ("C", "/etc/passwd"), ("A", "/etc/passwd/x"), ("C", "/usr"), ("C", "/usr/bin")]
    assert overlay_changes(root, dev, DiffStyle.PODMAN) == [
        ("C", "/etc"), ("D", "/etc/app"), ("D", "/etc/passwd"), ("C", "/usr"),
        ("C", "/usr/bin")]
    assert overlay_changes(root, dev, "docker") == [
        ("C", "/etc"), ("C", "/etc/app"), ("D", "/etc/app/app.conf"),
        ("A", "/etc/app/new.conf"), ("C", "/etc/passwd"), ("A", "/etc/passwd/x"),
        ("C", "/usr"), ("C", "/usr/bin")]
    rules = dataclasses.replace(DiffStyle.PODMAN.rules, hidden=frozenset({"/usr/bin"}))
    assert overlay_changes(root, dev, rules) == [
        ("C", "/etc"), ("D", "/etc/app"), ("D", "/etc/passwd"), ("C", "/usr")]


def test_renaming_an_image_directory_is_exdev(rw_ctr):
    """Without redirect_dir, overlayfs cannot rename a lower directory."""
    assert rw_ctr.run(outcome, os.rename, "/etc/app", "/etc/app2") == "EXDEV"
    rw_ctr.run(os.mkdir, "/etc/mine")
    assert rw_ctr.run(outcome, os.rename, "/etc/mine", "/etc/mine2") == "ok"


def test_renaming_an_image_file_copies_up_and_whites_out(rw_ctr):
    """A lower file can be renamed: the old name is D, the new one A."""
    rw_ctr.run(os.rename, "/etc/passwd", "/etc/passwd.bak")
    assert rw_ctr.diff() == [("C", "/etc"), ("D", "/etc/passwd"), ("A", "/etc/passwd.bak")]
    assert rw_ctr.run(lambda: open("/etc/passwd.bak").read()).startswith("root")


def test_recreated_file_is_changed_not_added(rw_ctr):
    """Deleting then re-creating an image file is a change of that file."""
    rw_ctr.run(os.remove, "/etc/passwd")
    rw_ctr.run(write, "/etc/passwd", "new")
    assert rw_ctr.diff() == [("C", "/etc"), ("C", "/etc/passwd")]


def test_diff_leaves_out_mounts(demo_image):
    """tmpfs and volume contents are not part of the upper layer; mount points are."""
    ctr = started("cri-o", demo_image, read_only=True,
                  mounts=[rosim.Bind(rosim.Volume("v"), "/data")])
    ctr.run(write, "/tmp/a")
    ctr.run(write, "/data/b")
    ctr.run(write, "/run/c")
    assert ctr.diff() == [("A", "/data"), ("C", "/etc")]
    assert ctr.upper_size == 0


def test_restart_keeps_upper_and_empties_tmpfs(demo_image):
    """podman restart: same container, upper layer kept, tmpfs emptied, volume kept."""
    ctr = started("podman", demo_image, read_only=False,
                  mounts=[rosim.Tmpfs("/cache"), rosim.Bind(rosim.Volume("keep"), "/keep")])
    ctr.run(write, "/etc/motd")
    ctr.run(write, "/cache/item")
    ctr.run(write, "/keep/item")
    ctr.restart()
    assert ctr.run(os.path.exists, "/etc/motd")
    assert not ctr.run(os.path.exists, "/cache/item")
    assert ctr.run(os.path.exists, "/keep/item")
    assert ctr.diff() == [("A", "/cache"), ("C", "/etc"), ("A", "/etc/motd"), ("A", "/keep")]


def test_volume_is_shared_by_containers_of_a_runtime(demo_image):
    """Two containers mounting Volume('shared') see the same files."""
    rt = rosim.Runtime("docker")
    a = rt.create(demo_image, name="a", mounts=[rosim.Bind(rosim.Volume("shared"), "/data")])
    b = rt.create(demo_image, name="b", mounts=[rosim.Bind(rosim.Volume("shared"), "/srv")])
    a.start()
    b.start()
    a.run(write, "/data/hello", "from a")
    assert b.run(lambda: open("/srv/hello").read()) == "from a"
    assert rt.volume_files("shared") == ["hello"]


def test_tmpcopyup_copies_image_files_into_the_tmpfs(demo_image):
    """CRI-O's /run tmpfs starts with the image's /run contents (tmpcopyup)."""
    ctr = started("cri-o", demo_image, read_only=True)
    assert ctr.run(lambda: open("/run/lock/seed").read()) == "from the image\n"
    ctr.run(write, "/run/lock/seed", "changed")
    assert ctr.diff() == [("C", "/etc")]


def test_docker_tmpfs_has_no_copyup(demo_image):
    """A user tmpfs without tmpcopyup hides what the image had there."""
    ctr = started("docker", demo_image, mounts=[rosim.Tmpfs("/run")])
    assert ctr.run(os.listdir, "/run") == []


def test_image_layers_stack_and_delete(demo_image):
    """A layer's Whiteout hides a lower path; an opaque Dir hides a lower tree."""
    top = demo_image.with_layer({"/etc/passwd": rosim.Whiteout(),
                                 "/etc/app": rosim.Dir(opaque=True),
                                 "/etc/app/only.conf": "x"})
    ctr = started("podman", top)
    assert not ctr.run(os.path.exists, "/etc/passwd")
    assert ctr.run(os.listdir, "/etc/app") == ["only.conf"]
    assert ctr.diff() == [("C", "/etc")]


# ---------------------------------------------------------------- properties
NAMES = st.sampled_from(["etc", "app", "passwd", "app.conf", "x", "y"])
PATHS = st.lists(NAMES, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
OPS = st.lists(st.tuples(st.sampled_from(["write", "mkdir", "remove", "rmtree", "rename",
                                          "chmod"]), PATHS, PATHS), max_size=12)


def _apply(ops):
    results = []
    for op, a, b in ops:
        try:
            if op == "write":
                with open(a, "a") as f:
                    f.write("+")
            elif op == "mkdir":
                os.mkdir(a)
            elif op == "remove":
                os.remove(a)
            elif op == "rmtree":
                # Bind-mounted files in /etc cannot go (EBUSY); removing all
                # that can keeps the outcome independent of listing order.
                if not os.path.isdir(a):
                    raise FileNotFoundError(2, "No such file or directory", a)
                shutil.rmtree(a, ignore_errors=True)
            elif op == "rename":
                if os.path.isdir(a) and not os.path.islink(a):
                    # Directory renames differ on purpose (EXDEV for image dirs),
                    # tested above.
                    results.append("skipped")
                    continue
                os.rename(a, b)
            else:
                os.chmod(a, 0o600)
            results.append("ok")
        except OSError as exc:
            results.append(exc.errno)
    return results


_MOUNTS = {"/proc", "/dev", "/sys", "/tmp", "/run", "/var/tmp", "/etc/hostname",
           "/etc/hosts", "/etc/resolv.conf"}


def _snapshot():
    tree = {}
    for top, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if posixpath.join(top, d) not in _MOUNTS]
        for d in dirs:
            tree[posixpath.join(top, d)] = None
        for f in files:
            path = posixpath.join(top, f)
            if path in _MOUNTS:
                continue
            with open(path, "rb") as fh:
                tree[path] = fh.read()
    return tree


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS)
@example(ops=[("rmtree", "/etc", "/etc"), ("mkdir", "/etc/passwd", "/etc")])
def test_overlay_matches_a_plain_filesystem(demo_image, ops):
    """Any sequence of operations: the merged view equals a plain file system's,
    the image is never changed, and diff() accounts for every difference."""
    plain_image = rosim.Image.from_dict("plain", {})
    plain = started("podman", plain_image)
    # Recreate the image's files in a plain (single upper layer) container.
    def seed():
        for path in demo_image.tree.paths():
            entry = demo_image.tree.entry(path)
            if entry.kind == "directory":
                os.makedirs(path, exist_ok=True)
            elif entry.kind == "file":
                os.makedirs(posixpath.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(entry.data or b"")
    plain.run(seed)
    overlay = started("podman", demo_image)
    before = dict(demo_image.tree._entries)
    assert overlay.run(_apply, ops) == plain.run(_apply, ops)
    merged = overlay.run(_snapshot)
    assert merged == plain.run(_snapshot)
    assert demo_image.tree._entries == before
    changes = {path: kind for kind, path in overlay.diff()}
    image_paths = {p for p in demo_image.tree.paths() if not p.startswith(("/tmp", "/run",
                                                                           "/var/tmp"))}
    for path in image_paths - set(merged):
        # A vanished image path is D itself, lies below a D, or lies below a
        # directory that was replaced by a file (listed C, as podman diff does).
        assert any(changes.get(a) == "D" or (changes.get(a) == "C" and merged.get(a) is not None)
                   for a in [path, *_ancestors(path)]), path
    for path in set(merged) - image_paths:
        assert changes.get(path) in ("A", "C") or any(
            changes.get(a) == "D" for a in _ancestors(path)), path
    for path, content in merged.items():
        entry = demo_image.tree.entry(path)
        if entry is not None and entry.kind == "file" and content != entry.data:
            # podman diff lists a directory that replaced an image file as D.
            assert changes.get(path) == ("D" if content is None else "C"), path


def _ancestors(path):
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) for i in range(1, len(parts))]

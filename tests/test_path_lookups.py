"""Path lookups: the kernel's fast walk answers as pyfakefs would, after every change.

The kernel answers ``exists``, ``stat``, ``lstat``, path resolution and the
look-ups inside ``open``/``rename``/``unlink`` with one walk over the live
tree (``Kernel._walk``) and leaves symlinks, ``.``/``..`` and errors to
pyfakefs. These tests change the tree in every way a remembered answer
could go stale — rename, unlink, rmdir, mounts, whiteouts, copy-up — and
look again; and they compare the fast answers with pyfakefs' own.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyfakefs.fake_file import FakeDirectory, FakeFile
from pyfakefs.fake_filesystem import FakeFilesystem

import rosim
from rosim.fs.kernel import kernel
from rosim.fs.layers import EntryKind, LayerEntry
from rosim.fs.overlay import LowerDir, LowerFile, lower_dir, lower_node
from tests.conftest import DEMO_FILES, outcome, started


def write(path: str, data: str = "x") -> None:
    with open(path, "w") as f:
        f.write(data)


def test_rename_is_seen_by_the_next_lookup(rw_ctr):
    """After a rename the old path is gone and the new one is the same file."""
    def steps() -> list[object]:
        write("/srv-a", "one")
        before = os.stat("/srv-a").st_ino
        seen = [os.path.exists("/srv-a"), os.path.exists("/srv-b")]
        os.rename("/srv-a", "/srv-b")
        seen += [os.path.exists("/srv-a"), os.path.exists("/srv-b"),
                 os.stat("/srv-b").st_ino == before, open("/srv-b").read()]
        os.mkdir("/d1")
        write("/d1/f")
        os.rename("/d1", "/d2")
        seen += [os.path.exists("/d1/f"), os.path.exists("/d2/f"), os.path.isdir("/d2")]
        return seen

    assert rw_ctr.run(steps) == [True, False, False, True, True, "one", False, True, True]


def test_unlink_and_rmdir_are_seen_by_the_next_lookup(rw_ctr):
    """A removed file or directory is missing at once; made again, it is new."""
    def steps() -> list[object]:
        write("/f", "old")
        seen = [os.path.exists("/f")]
        os.remove("/f")
        seen += [os.path.exists("/f"), os.path.lexists("/f"), outcome(os.stat, "/f"),
                 outcome(open, "/f")]
        write("/f", "new")
        seen.append(open("/f").read())
        os.mkdir("/d")
        write("/d/inner")
        os.remove("/d/inner")
        os.rmdir("/d")
        seen += [os.path.isdir("/d"), outcome(os.listdir, "/d")]
        os.mkdir("/d")
        seen.append(os.listdir("/d"))
        return seen

    assert rw_ctr.run(steps) == [True, False, False, "ENOENT", "ENOENT", "new", False,
                                 "ENOENT", []]


def test_whiteout_and_copy_up_are_seen_by_the_next_lookup(rw_ctr, demo_image):
    """Deleting an image file hides it at once; writing it again makes a new file;
    a copied-up file reads its new bytes; a sibling container sees the image."""
    def steps() -> list[object]:
        seen = [os.path.exists("/etc/passwd"), "passwd" in os.listdir("/etc")]
        os.remove("/etc/passwd")
        seen += [os.path.exists("/etc/passwd"), "passwd" in os.listdir("/etc"),
                 outcome(os.lstat, "/etc/passwd")]
        write("/etc/passwd", "mine\n")
        seen += [os.path.isfile("/etc/passwd"), open("/etc/passwd").read()]
        write("/etc/app/app.conf", "level=debug\n")
        seen.append(open("/etc/app/app.conf").read())
        os.rmdir("/etc/emptydir")
        seen += [os.path.exists("/etc/emptydir"), outcome(os.listdir, "/etc/emptydir")]
        return seen

    assert rw_ctr.run(steps) == [True, True, False, False, "ENOENT", True, "mine\n",
                                 "level=debug\n", False, "ENOENT"]
    sibling = started("podman", demo_image)
    assert sibling.run(lambda: open("/etc/passwd").read()) == DEMO_FILES["/etc/passwd"]
    assert sibling.run(os.path.isdir, "/etc/emptydir")


def test_each_container_looks_up_in_its_own_mounts(demo_image):
    """The same path in containers with different mounts, in one patched region:
    each answer is the current container's."""
    runtime = rosim.Runtime("podman")
    volume = rosim.Volume("shared")
    with_volume = runtime.create(demo_image, mounts=[rosim.Bind(volume, "/data")])
    with_tmpfs = runtime.create(demo_image, mounts=[rosim.Tmpfs("/data")])
    bare = runtime.create(demo_image)
    also_volume = runtime.create(demo_image, mounts=[rosim.Bind(volume, "/data")])
    for ctr in (with_volume, with_tmpfs, bare, also_volume):
        ctr.start()
    with_volume.run(write, "/data/f", "shared")

    def look() -> tuple[bool, bool]:
        return os.path.exists("/data/f"), os.path.isdir("/data")

    assert rosim.run_each([with_volume, with_tmpfs, bare, also_volume, with_volume], look) \
        == [(True, True), (False, True), (False, False), (True, True), (True, True)]


def test_a_restart_empties_a_tmpfs_for_the_next_lookup(demo_image):
    """``podman restart``: a file on a tmpfs is gone, one in the layer stays."""
    ctr = started("podman", demo_image, mounts=[rosim.Tmpfs("/scratch")])
    ctr.run(write, "/scratch/f")
    ctr.run(write, "/layer-f")
    assert ctr.run(os.path.exists, "/scratch/f")
    ctr.restart()
    assert ctr.run(lambda: (os.path.exists("/scratch/f"), os.path.exists("/layer-f"))) \
        == (False, True)


def test_symlinks_and_odd_paths_resolve_as_on_linux(rw_ctr):
    """Symlinks (changed between look-ups), ``.``, ``..``, repeated and trailing
    slashes, a file used as a directory, and paths relative to the cwd."""
    def steps() -> list[object]:
        os.symlink("/etc", "/link")
        seen = [os.path.exists("/link/passwd"), os.path.islink("/link"),
                os.path.realpath("/link/passwd")]
        os.symlink("/etc/app", "/link2")
        os.replace("/link2", "/link")
        seen += [os.path.exists("/link/passwd"), os.path.exists("/link/app.conf")]
        os.symlink("/nowhere", "/dangling")
        seen += [os.path.exists("/dangling"), os.path.lexists("/dangling")]
        seen += [os.path.exists(p) for p in ("//etc//passwd", "/etc/./passwd",
                                             "/etc/../etc/passwd", "/etc/passwd/",
                                             "/etc/passwd/x", "/..", "/etc/.")]
        seen.append(outcome(open, "/etc/passwd/x"))
        os.chdir("/etc")
        seen += [os.path.exists("passwd"), os.path.exists("app/app.conf"),
                 os.path.exists("."), os.path.exists("../etc/passwd")]
        os.chdir("/")
        seen.append(os.path.exists("passwd"))
        return seen

    assert rw_ctr.run(steps) == [
        True, True, "/etc/passwd", False, True, False, True,
        True, True, True, False, False, True, True, "ENOTDIR",
        True, True, True, True, False]


def test_a_user_other_than_root_still_meets_permissions(demo_image):
    """Permission checks stay pyfakefs': a non-root process cannot look through
    a directory without its search bit."""
    ctr = started("podman", demo_image)
    ctr.run(lambda: (os.mkdir("/private", 0o700), write("/private/f")))
    ctr.user = ctr.user_group = 1000
    assert ctr.run(outcome, os.stat, "/private/f") == "EACCES"
    assert ctr.run(outcome, os.listdir, "/private") == "EACCES"
    assert ctr.run(os.path.exists, "/etc/passwd")


_NAMES = st.sampled_from(["etc", "passwd", "app", "app.conf", "link", "dlink", "loop",
                          "x", ".", "..", "", "tmp", "run", "lock", "seed"])


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paths=st.lists(st.lists(_NAMES, min_size=0, max_size=5).map("/".join)
                      .flatmap(lambda p: st.sampled_from(["/" + p, p])),
                      min_size=1, max_size=20))
def test_fast_lookups_agree_with_pyfakefs(rw_ctr, paths):
    """For any path, exists / resolve_path / lresolve / resolve give what pyfakefs'
    own code gives (the same node or the same error)."""
    def compare() -> list[str]:
        k = kernel()
        if not os.path.lexists("/link"):
            os.symlink("/etc", "/link")
            os.symlink("app", "/etc/dlink")
            os.symlink("/loop", "/loop")
            os.remove("/etc/app/app.conf")  # a whiteout on the way
        os.chdir("/etc")
        wrong = []

        def both(name, path, fast, slow, *args, **kwargs):
            answers = []
            for func in (fast, slow):
                try:
                    result = func(*args, **kwargs)
                    answers.append(("ok", id(result) if isinstance(result, FakeFile)
                                    else result))
                except OSError as exc:
                    answers.append(("err", exc.errno, exc.filename))
            if answers[0] != answers[1]:
                wrong.append(f"{name}({path!r}): {answers[0]} != {answers[1]}")

        fs = FakeFilesystem
        for path in paths:
            both("exists", path, k.exists, lambda p: fs.exists(k, p), path)
            both("lexists", path, k.exists, lambda p, check_link: fs.exists(k, p, check_link),
                 path, check_link=True)
            if path:
                both("resolve_path", path, k.resolve_path, lambda p: fs.resolve_path(k, p),
                     path)
                both("lresolve", path, k.lresolve, lambda p: fs.lresolve(k, p), path)
                abspath = fs.absnormpath(k, path)
                both("absnormpath", path, k.absnormpath, lambda p: fs.absnormpath(k, p), path)
                both("get_object", path, k.get_object_from_normpath,
                     lambda p: fs.get_object_from_normpath(k, p), abspath)
        os.chdir("/")
        return wrong

    assert rw_ctr.run(compare) == []


def test_copied_nodes_are_the_constructors_nodes():
    """Nodes made by copying a prototype (rosim.fs.nodes) equal those pyfakefs'
    and rosim's constructors make: attributes and stat fields."""
    k = kernel()

    def same(a, b) -> None:
        assert type(a) is type(b)
        mine, theirs = dict(vars(a)), dict(vars(b))
        sa, sb = vars(mine.pop("stat_result")), vars(theirs.pop("stat_result"))
        for times in ("_st_atime_ns", "_st_mtime_ns", "_st_ctime_ns"):
            assert abs(sa.pop(times) - sb.pop(times)) < 5e9
        assert sa == sb
        assert mine == theirs

    made = FakeDirectory("d", 0o750, filesystem=k)
    made.st_dev, made.st_ino = 7, k.last_ino + 1
    same(k.new_directory("d", 0o750, 7), made)
    made = FakeFile("f", 0o100640, b"abc", filesystem=k)
    made.st_dev, made.st_ino = 7, k.last_ino + 1
    same(k.new_file("f", b"abc", 0o640, 7), made)
    entry = LayerEntry(EntryKind.DIR, mode=0o711, uid=3, gid=4)
    same(lower_dir("d", entry, None, "/d", k), LowerDir("d", entry, None, "/d", k))
    image = rosim.Image.from_dict("nodes", {"/f": rosim.File(b"data", mode=0o600)})
    assert image.tree.entry("/f").kind is EntryKind.FILE
    same(lower_node("f", image.tree, "/f", k), LowerFile("f", image.tree.entry("/f"), k))

"""What a learner plausibly types in a notebook cell, tried against the host.

Generators handed back by ``run()`` and consumed in the notebook, relative
paths after ``os.chdir``, ``tempfile`` and ``shutil.rmtree("/")`` inside, bad
values given to ``run`` and ``run_each``. Each test asserts that the code
acts on the container (never on the host) or is refused with a
:class:`rosim.RosimError` naming the value. CI runs this module with both
guards.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import pytest

import rosim
from rosim.runtime import patching
from tests.conftest import started_fedora


@pytest.fixture()
def ctr():
    with started_fedora("learner") as c:
        yield c
    assert patching._is_clean()


def test_a_glob_returned_by_run_lists_the_container(ctr):
    """ctr.run(Path("/etc").glob, "*") consumed in the notebook lists the container's /etc."""
    inside = ctr.run(lambda: sorted(str(p) for p in pathlib.Path("/etc").glob("*")))
    assert sorted(str(p) for p in ctr.run(pathlib.Path("/etc").glob, "*")) == inside
    assert sorted(str(p) for p in ctr.run(pathlib.Path("/etc").iterdir)) == inside


def test_os_walk_returned_by_run_walks_the_container(ctr):
    """list(ctr.run(os.walk, "/etc")): the container's tree, not the host's."""
    walked = list(ctr.run(os.walk, "/etc"))
    assert walked[0][0] == "/etc"
    assert sorted(walked[0][2]) == ctr.run(
        lambda: sorted(n for n in os.listdir("/etc") if os.path.isfile(os.path.join("/etc", n))))


def test_a_generator_returned_by_run_writes_in_the_container(ctr, tmp_path):
    """A generator's body is container code: it writes in the container when iterated."""
    target = str(tmp_path / "from-generator")

    def make():
        def steps():
            yield 1
            with open(target, "w") as f:  # a host path, seen from inside
                f.write("x")
            yield 2

        return steps()

    gen = ctr.run(make)
    with pytest.raises(FileNotFoundError):  # no such directory in the container
        list(gen)
    assert not os.path.exists(target)


def test_chdir_inside_is_the_processes_own(ctr, tmp_path):
    """os.chdir inside moves the container process; relative paths stay inside."""
    here = os.getcwd()

    def inside():
        os.chdir("/tmp")
        with open("relative.txt", "w") as f:
            f.write("x")
        return os.path.abspath("relative.txt"), os.path.exists("/tmp/relative.txt")

    assert ctr.run(inside) == ("/tmp/relative.txt", True)
    assert os.getcwd() == here
    assert not os.path.exists(os.path.join(here, "relative.txt"))


def test_tempfile_and_rmtree_of_root_stay_inside(ctr, tmp_path):
    """tempfile inside makes container files; shutil.rmtree("/") empties only the container."""
    marker = tmp_path / "keep"
    marker.write_text("keep")
    made = ctr.run(lambda: tempfile.mkdtemp())
    assert ctr.run(os.path.isdir, made) and not os.path.isdir(made)
    ctr.run(shutil.rmtree, "/", True)
    assert marker.read_text() == "keep"
    assert os.path.isdir("/etc") and os.listdir("/usr")


@pytest.mark.parametrize("call", [
    lambda c: c.run(None),
    lambda c: c.run("ls /"),
    lambda c: rosim.run_each(c, os.listdir, "/"),
    lambda c: rosim.run_each([c, "not a container"], os.listdir, "/"),
    lambda c: rosim.run_each([c], 5),
], ids=["run-None", "run-str", "run_each-one", "run_each-str", "run_each-int"])
def test_bad_values_to_run_and_run_each_are_config_errors(ctr, call):
    """A value that is not callable or not a list of containers: ConfigError naming it."""
    with pytest.raises(rosim.ConfigError, match=r"(func|containers)\(="):
        call(ctr)


@pytest.mark.parametrize("call", [
    lambda: __import__("subprocess").run(["ls", "/"], capture_output=True),
    lambda: __import__("subprocess").check_output("echo hi", shell=True),
    lambda: os.popen("ls").read(),
], ids=["run-capture", "check_output", "os.popen"])
def test_subprocess_inside_is_refused_clearly(ctr, call):
    """subprocess with pipes inside run(): HostAccessError, not an error from its pipes."""
    with pytest.raises(rosim.HostAccessError, match="not simulated"):
        ctr.run(call)


def test_setlocale_inside_leaves_the_notebooks_locale(ctr):
    """locale.setlocale is process-wide in C: the notebook's locale comes back."""
    import locale

    before = locale.setlocale(locale.LC_ALL)
    ctr.run(locale.setlocale, locale.LC_NUMERIC, "C")
    ctr.run(locale.setlocale, locale.LC_ALL, "C")
    assert locale.setlocale(locale.LC_ALL) == before


@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
def test_a_container_cannot_be_pickled_or_copied(ctr, how):
    """pickle.dumps(ctr), copy.copy, copy.deepcopy: a LifecycleError saying why."""
    import copy
    import pickle

    call = {"pickle": pickle.dumps, "copy": copy.copy, "deepcopy": copy.deepcopy}[how]
    with pytest.raises(rosim.LifecycleError, match="cannot be pickled or copied"):
        call(ctr)
    assert ctr.sh("echo ok").stdout == "ok\n"

"""Patch Python's file system modules for the length of one call.

:func:`inside` makes ``os``, ``open``, ``io``, ``pathlib``, ``shutil`` and
``tempfile`` act on a container's :class:`~rosim.fs.namespace.Namespace`
and undoes everything when the block ends, whatever happens inside. Nothing
stays patched between calls, so a notebook kernel is left exactly as it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from pyfakefs import helpers, mox3_stubout
from pyfakefs.fake_filesystem_unittest import PATH_MODULE, Patcher

from rosim.fs.kernel import kernel
from rosim.fs.namespace import Namespace
from rosim.fs.syscalls import ContainerOsModule, install_open_hook

__all__ = ["inside"]


class _ContainerPatcher(Patcher):
    """A pyfakefs Patcher whose file system is rosim's kernel."""

    def _refresh(self) -> None:
        if self._stubs is not None:
            self._stubs.smart_unset_all()
        self._stubs = mox3_stubout.StubOutForTesting()
        self.fs = kernel()
        self.fs.patch_open_code = self.patch_open_code
        for name, factory in self._fake_module_classes.items():
            self.fake_modules[name] = factory(self.fs)
            if hasattr(self.fake_modules[name], "skip_names"):
                self.fake_modules[name].skip_names = self.skip_names | {
                    m.__name__ for m in self.SKIPMODULES if m and "." in m.__name__
                }
        self.fake_modules[PATH_MODULE] = self.fake_modules["os"].path
        for name, factory in self._unfaked_module_classes.items():
            self.unfaked_modules[name] = factory()
        self._isStale = False


@contextmanager
def inside(ns: Namespace, uid: int = 0, gid: int = 0) -> Iterator[None]:
    """Run the ``with`` block as a process of the container owning ``ns``."""
    install_open_hook()
    k = kernel()
    saved_tempdir = tempfile.tempdir
    with k.entered(ns):
        patcher = _ContainerPatcher(modules_to_patch={"os": ContainerOsModule})
        patcher.setUp()
        try:
            helpers.set_uid(uid)
            helpers.set_gid(gid)
            tempfile.tempdir = None
            yield
        finally:
            tempfile.tempdir = saved_tempdir
            patcher.tearDown()
            helpers.reset_ids()

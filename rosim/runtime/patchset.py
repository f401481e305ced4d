"""The module patches that make Python's file system calls act on the kernel.

pyfakefs' :class:`~pyfakefs.fake_filesystem_unittest.Patcher` finds, on each
``setUp``, every module that imported ``os``, ``io``, ``pathlib``, ``shutil``
(or functions of them), builds new fake modules and replaces those
references; ``tearDown`` puts them back. Done for every ``Container.run``,
that costs more than a short call itself. rosim keeps pyfakefs' rules for
*what* to replace but does the work once:

* one :class:`_ContainerPatcher` and one set of fake modules per Python
  process, bound to the simulated kernel (they hold no per-call state; what
  container code sets on them is undone after each call);
* the list of replacements (the *plan*) is found with pyfakefs' own search
  and recomputed only when ``sys.modules`` changed since the last call;
* :func:`apply` sets the fake objects and records each original;
  :func:`undo` puts the originals back, last first. Both run where no
  interrupt can land (:mod:`rosim.runtime.worker`), and :func:`force_unpatch`
  repairs whatever a failure half-way left, so the host is never left
  patched.
"""

from __future__ import annotations

import builtins
import errno
import io
import linecache
import operator
import sys
import tokenize
import warnings
from typing import Any

from pyfakefs import fake_pathlib, helpers, mox3_stubout
from pyfakefs.fake_filesystem_unittest import PATH_MODULE, DynamicPatcher, Patcher
from pyfakefs.fake_path import FakePathModule

from rosim.fs.kernel import kernel
from rosim.fs.syscalls import ContainerOsModule, HostAccessError

__all__ = ["apply", "force_unpatch", "is_clean", "undo"]


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
                # No module is skipped: a call from inside a container never
                # reaches the real file system through a fake module (and no
                # call pays for pyfakefs' stack walk to find its caller).
                self.fake_modules[name].skip_names = set()
        self.fake_modules[PATH_MODULE] = self.fake_modules["os"].path
        for name, factory in self._unfaked_module_classes.items():
            self.unfaked_modules[name] = factory()
        self._isStale = False


class _Recorder:
    """Stands in for pyfakefs' stub-out helper: records what it would set."""

    def __init__(self) -> None:
        self.stubs: list[tuple[Any, str, Any]] = []

    def smart_set(self, obj: Any, attr_name: str, new_attr: Any) -> None:
        self.stubs.append((obj, attr_name, new_attr))


class _Dynamic(DynamicPatcher):
    """pyfakefs' import hook (fake ``os`` for modules imported inside), reused."""

    def __init__(self, patcher: _ContainerPatcher) -> None:  # noqa: D107 - armed per call
        self._patcher = lambda: patcher  # type: ignore[assignment]
        self.sysmodules: dict[str, Any] = {}
        self.modules = patcher.fake_modules
        self._loaded_module_names: set[str] = set()
        self.cleanup_handlers = patcher.cleanup_handlers
        self.added: list[str] = []
        self.armed = False

    def arm(self) -> None:
        """What pyfakefs does when it creates the hook: fake modules in ``sys.modules``."""
        self.sysmodules.clear()
        self._loaded_module_names.clear()
        self.added.clear()
        self.armed = True
        modules = sys.modules
        for name, fake in self.modules.items():
            if name in modules:
                self.sysmodules[name] = modules[name]
                del modules[name]
            else:
                self.added.append(name)
            modules[name] = fake

    def disarm(self) -> None:
        """The real modules back in ``sys.modules`` (modules imported meanwhile stay)."""
        self._loaded_module_names.clear()
        self.cleanup()
        modules = sys.modules
        for name in self.added:
            if modules.get(name) is self.modules[name]:
                del modules[name]
        self.sysmodules.clear()
        self.added.clear()
        self.armed = False


class _PatchSet:
    """The patcher, its fake modules, and the plan of replacements."""

    def __init__(self) -> None:
        patcher = object.__new__(_ContainerPatcher)  # not pyfakefs' shared singleton
        patcher.__init__(modules_to_patch={"os": ContainerOsModule})  # type: ignore[misc]
        patcher._refresh()
        # What pyfakefs' setUp sets for good: source lines read from the host.
        linecache.open = patcher.original_open  # type: ignore[attr-defined]
        tokenize._builtin_open = patcher.original_open  # type: ignore[attr-defined]
        self.patcher = patcher
        self.dynamic = _Dynamic(patcher)
        self.plan: list[tuple[dict[str, Any], str, Any]] = []
        self.signature: tuple[Any, ...] = ()
        # The fake modules' own attributes: container code may set some.
        self.module_state = [(vars(m), dict(vars(m))) for m in _fake_objects(patcher)]

    def refresh(self) -> None:
        """Find the replacements again if ``sys.modules`` changed."""
        if _signature() == self.signature:
            return
        patcher = self.patcher
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore")
            patcher._find_modules()
        recorder = _Recorder()
        patcher._stubs = recorder  # type: ignore[assignment]
        try:
            patcher.patch_modules()
            patcher.patch_functions()
        finally:
            patcher._stubs = None
        plan = []
        for owner, name, fake in recorder.stubs:
            try:
                plan.append((vars(owner), name, fake))
            except TypeError:
                continue
        self.plan = plan + [(vars(module), name, fake) for module, name, fake in _extra()]
        self.signature = _signature()

    def rebind(self) -> None:
        """Point pyfakefs' class-level state at the kernel again.

        pyfakefs keeps some state on classes, shared by every user of pyfakefs
        in the process (a test's own Patcher, a benchmark's bare pyfakefs):
        the file system of ``pathlib``'s fake ``Path`` and the ``os`` that
        ``os.path``'s copied functions call. Whoever made fake modules last
        set it; before each call it is ours again.
        """
        fs = self.patcher.fs
        if fake_pathlib.FakePath.filesystem is not fs:
            fake_pathlib.init_module(fs)
        if fake_pathlib.FakePath.skip_names:
            fake_pathlib.FakePath.skip_names = []
        fake_os = self.patcher.fake_modules["os"]
        copy = FakePathModule._OS_PATH_COPY
        if getattr(copy, "os", None) is not fake_os:
            copy.os = fake_os
        if FakePathModule.sep != fs.path_separator or FakePathModule.devnull != fs.devnull:
            FakePathModule.reset(fs)

    def forget_module_changes(self) -> None:
        """Undo attributes container code set on the fake modules (as if made anew)."""
        for current, pristine in self.module_state:
            if not same_dict(current, pristine):
                current.clear()
                current.update(pristine)


def _fake_objects(patcher: _ContainerPatcher) -> list[Any]:
    seen: dict[int, Any] = {}
    for module in (*patcher.fake_modules.values(), *patcher.unfaked_modules.values()):
        if hasattr(module, "__dict__"):
            seen.setdefault(id(module), module)
    return list(seen.values())


def same(now: Any, saved: Any, _len: Any = len, _all: Any = all, _map: Any = map,
         _is: Any = operator.is_) -> bool:
    """The very same objects in the same order (``__eq__`` is never asked).

    The builtins it needs are bound here: container code may have replaced them.
    """
    return _len(now) == _len(saved) and _all(_map(_is, now, saved))


def same_dict(now: dict[Any, Any], saved: dict[Any, Any]) -> bool:
    """``now`` holds the very same keys and values as ``saved``, in the same order."""
    return same(now.keys(), saved.keys()) and same(now.values(), saved.values())


def _signature() -> tuple[Any, ...]:
    """Changes when a module is added to or replaced in ``sys.modules`` (cheap)."""
    modules = sys.modules
    last = next(reversed(modules))
    return len(modules), last, modules[last]


_SET: _PatchSet | None = None
#: (namespace, name, original) for each replacement in place, in the order set.
_APPLIED: list[tuple[dict[str, Any], str, Any]] = []


def patch_set() -> _PatchSet:
    """The process's patch set (made on first use)."""
    global _SET
    if _SET is None:
        _capture_real_modules()
        _SET = _PatchSet()
    return _SET


def apply() -> _ContainerPatcher:
    """Replace the file system modules everywhere (see the module doc)."""
    if not is_clean():
        force_unpatch()
    patches = patch_set()
    try:
        patches.refresh()
        patches.rebind()
        patcher = patches.patcher
        patcher.linecache_patcher.start_patching()
        applied = _APPLIED
        for namespace, name, fake in patches.plan:
            if name in namespace:
                applied.append((namespace, name, namespace[name]))
                namespace[name] = fake
        patcher._set_glob_os_functions()
        patcher.tempfile_patcher.start_patching()
        patches.dynamic.arm()
        sys.meta_path.insert(0, patches.dynamic)
    except BaseException:
        force_unpatch()
        raise
    return patcher


def undo() -> None:
    """Put every original back (modules first imported meanwhile stay, see :func:`repoint`)."""
    patches = patch_set()
    dynamic = patches.dynamic
    loaded = set(dynamic._loaded_module_names)
    dynamic._loaded_module_names.clear()
    try:
        _undo_applied()
        if dynamic in sys.meta_path:
            sys.meta_path.remove(dynamic)
        dynamic.disarm()
        patcher = patches.patcher
        patcher.tempfile_patcher.stop_patching()
        patcher.linecache_patcher.stop_patching()
        patcher._set_glob_os_functions()
        patches.forget_module_changes()
    finally:
        if not is_clean():
            force_unpatch()
        helpers.reset_ids()
        if loaded:
            repoint(loaded, patches.patcher)


def _undo_applied() -> None:
    applied = _APPLIED
    while applied:
        namespace, name, original = applied.pop()
        namespace[name] = original


# ------------------------------------------------------------ repairs
_REAL_MODULES: dict[str, Any] = {}


def _capture_real_modules() -> None:
    if _REAL_MODULES:
        return
    for name in ("os", "os.path", "io", "_io", "pathlib", "shutil", "fcntl", "tempfile",
                 "glob", "posixpath", "genericpath", "linecache", "tokenize"):
        module = sys.modules.get(name)
        if module is not None:
            _REAL_MODULES[name] = module
    _REAL_MODULES["builtins.open"] = builtins.open
    _REAL_MODULES["io.open"] = io.open


def force_unpatch() -> None:
    """Undo every patch, whatever state an interrupted or failed call left.

    Idempotent: each step checks before it acts.
    """
    for step in (_undo_applied, _undo_extra, _unset_dynamic, _unset_pyfakefs):
        try:
            step()
        except Exception:  # noqa: BLE001, S112 - every other step still runs
            continue
    for name, module in _REAL_MODULES.items():
        if name.startswith(("builtins.", "io.")):
            continue
        if sys.modules.get(name, module) is not module:
            sys.modules[name] = module
    if _REAL_MODULES:
        builtins.open = _REAL_MODULES["builtins.open"]
        io.open = _REAL_MODULES["io.open"]
    helpers.reset_ids()


def _unset_dynamic() -> None:
    patches = _SET
    if patches is not None:
        if patches.dynamic.armed:
            patches.dynamic.disarm()
        patches.patcher.tempfile_patcher.stop_patching()
        patches.patcher.linecache_patcher.stop_patching()
        patches.forget_module_changes()
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, DynamicPatcher)]


def _unset_pyfakefs() -> None:
    """pyfakefs' own singleton, should anything have set it up (its class counters)."""
    for cls in (_ContainerPatcher, Patcher):
        patcher = cls.PATCHER
        if patcher is not None:
            for step in (lambda p=patcher: p._stubs and p._stubs.smart_unset_all(),
                         patcher.unset_defaults, patcher.tempfile_patcher.stop_patching,
                         patcher.linecache_patcher.stop_patching):
                try:
                    step()
                except Exception:  # noqa: BLE001, S112
                    continue
            patcher._patching = False
            patcher._isStale = True
        cls.REF_COUNT = 0
        cls.PATCHER = None


def is_clean() -> bool:
    """Whether nothing is patched (cheap)."""
    return (not _APPLIED and _ContainerPatcher.PATCHER is None
            and _ContainerPatcher.REF_COUNT == 0
            and (_SET is None or not _SET.dynamic.armed)
            and (not _REAL_MODULES or builtins.open is _REAL_MODULES["builtins.open"]))


# ------------------------------------------------------------ beyond pyfakefs
_EXTRA: list[tuple[Any, str, Any, Any]] = []


def _extra() -> list[tuple[Any, str, Any]]:
    """Modules pyfakefs does not fake: ``mmap`` of a file, ``sqlite3.connect``."""
    if not _EXTRA:
        import mmap
        import sqlite3
        import sqlite3.dbapi2

        from rosim.runtime import sqlite

        real_mmap = mmap.mmap

        class ContainerMmap(real_mmap):  # type: ignore[valid-type, misc]
            """``mmap.mmap``: anonymous maps work; a container file's is refused."""

            def __new__(cls, fileno: int, *args: Any, **kwargs: Any) -> Any:
                if fileno != -1:
                    raise HostAccessError(
                        errno.ENODEV, "mmap of a file is not simulated: a rosim "
                        "container's files live in memory, not behind a real descriptor "
                        "(read or write the file instead)")
                return real_mmap.__new__(cls, fileno, *args, **kwargs)

        ContainerMmap.__name__ = ContainerMmap.__qualname__ = "mmap"
        _EXTRA.extend([(mmap, "mmap", real_mmap, ContainerMmap),
                       (sqlite3, "connect", sqlite3.connect, sqlite.connect),
                       (sqlite3.dbapi2, "connect", sqlite3.dbapi2.connect, sqlite.connect)])
    return [(module, name, fake) for module, name, _real, fake in _EXTRA]


def _undo_extra() -> None:
    for module, name, real, _fake in _EXTRA:
        if getattr(module, name, None) is not real:
            setattr(module, name, real)


def repoint(names: set[str], patcher: Patcher) -> None:
    """Modules first imported inside keep no reference to the fake modules."""
    fakes = {id(m): name for name, m in patcher.fake_modules.items()}
    for name in names:
        module = sys.modules.get(name)
        if module is None:
            continue
        try:
            items = list(vars(module).items())
        except TypeError:
            continue
        for attr, value in items:
            owner = fakes.get(id(value))
            if owner is not None:
                real = _REAL_MODULES.get(owner) or sys.modules.get(owner)
                if real is not None:
                    setattr(module, attr, real)
                continue
            bound = getattr(value, "__self__", None)
            owner = fakes.get(id(bound)) if bound is not None else None
            if owner is not None:
                real = _REAL_MODULES.get(owner) or sys.modules.get(owner)
                fn = getattr(real, getattr(value, "__name__", attr), None)
                if fn is not None:
                    setattr(module, attr, fn)


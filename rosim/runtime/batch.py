"""Run one function in many containers inside a single patched region.

:meth:`Container.run` patches Python's file system modules for each call,
and that set-up costs more than a short function itself. A simulation that
calls the same short function in hundreds of containers (a cluster checking
every pod) can use :func:`run_each` instead: the modules are patched once,
and each container in turn becomes the file system that calls see — each
call is still a process of its own container (its root and mounts, its own
``logging`` configuration, its open files closed when it returns, the host
guard on), exactly as with ``run``.

>>> from rosim import Image, Runtime
>>> runtime = Runtime("podman", read_only=True)
>>> ctrs = [runtime.create(Image.builtin("busybox")) for _ in range(3)]
>>> for ctr in ctrs:
...     ctr.start()
>>> import os
>>> run_each(ctrs, os.path.exists, "/bin/sh")
[True, True, True]
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pyfakefs import helpers

from rosim.fs.kernel import kernel
from rosim.fs.syscalls import ContainerOsModule, install_open_hook
from rosim.runtime import patching

if TYPE_CHECKING:
    from rosim.runtime.container import Container

__all__ = ["run_each"]


def run_each(containers: Sequence[Container], func: Callable[..., Any], /, *args: Any,
             **kwargs: Any) -> list[Any]:
    """Call ``func(*args, **kwargs)`` as a process in each of ``containers``, in order.

    Returns the results in the same order. Every container must be running
    (:class:`~rosim.ContainerStateError` otherwise, before any call); an
    exception from a call propagates at once, and the containers after it
    are not run.
    """
    from rosim.runtime.container import ContainerState

    for ctr in containers:
        ctr._require("run", ContainerState.RUNNING)
    if not containers:
        return []
    install_open_hook()
    patching._install_guard()
    k = kernel()
    saved_tempdir = tempfile.tempdir
    patcher = patching._ContainerPatcher(modules_to_patch={"os": ContainerOsModule})
    results: list[Any] = []
    with k.entered(containers[0]._ns):  # type: ignore[arg-type]
        patcher.setUp()
    try:
        helpers.set_uid(0)
        helpers.set_gid(0)
        call_args = tuple(patching.in_container(a, patcher) if callable(a) else a
                          for a in args)
        call_kwargs = {key: patching.in_container(v, patcher) if callable(v) else v
                       for key, v in kwargs.items()}
        target = patching.in_container(func, patcher)
        for ctr in containers:
            with k.entered(ctr._ns):  # type: ignore[arg-type]
                opened = patching.open_file_ids(k)
                result: Any = None
                tempfile.tempdir = None
                patching._guard.active = True
                try:
                    with patching.process_logging():
                        result = target(*call_args, **call_kwargs)
                finally:
                    patching._guard.active = False
                    patching.close_leftovers(k, opened, result)
            results.append(result)
    finally:
        tempfile.tempdir = saved_tempdir
        patcher.tearDown()
        helpers.reset_ids()
    return results

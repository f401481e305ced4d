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
from rosim.fs.syscalls import install_open_hook
from rosim.runtime import patching, sqlite
from rosim.runtime.process import run_as_process
from rosim.runtime.worker import on_worker, worker

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
    if on_worker():
        return _run_each(containers, func, args, kwargs)
    return worker().submit(  # type: ignore[no-any-return]
        lambda: _run_each(containers, func, args, kwargs))


def _run_each(containers: Sequence[Container], func: Callable[..., Any],
              args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
    """The body of :func:`run_each`, on the confined worker thread."""
    install_open_hook()
    k = kernel()
    saved = patching._HostState()
    saved_umask = k.umask
    runner = worker()
    results: list[Any] = []
    try:
        with k.entered(containers[0]._ns):  # type: ignore[arg-type]
            patcher = patching._set_up()
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
                    helpers.set_uid(ctr.user)  # each container's runAsUser
                    helpers.set_gid(ctr.user_group)
                    opened = patching.open_file_ids(k)
                    result: Any = None
                    tempfile.tempdir = None
                    try:
                        with patching.process_logging():
                            result = run_as_process(runner.call, target, call_args,
                                                    call_kwargs)
                    finally:
                        sqlite.finish()
                        patching.close_leftovers(k, opened, result)
                results.append(result)
        finally:
            patching._tear_down(patcher)
    finally:
        k.umask = saved_umask
        saved.restore()
    return results

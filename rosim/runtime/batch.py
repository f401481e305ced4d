"""Run one function in many containers inside a single patched region.

:meth:`Container.run` patches Python's file system modules for each call.
A simulation that calls the same short function in hundreds of containers
(a cluster checking every pod) can use :func:`run_each` instead: the modules
are patched once, and each container in turn becomes the file system that
calls see — each call is still a process of its own container (its root and
mounts, its user, its own ``logging`` configuration, its open files closed
when it returns, the host guard on), exactly as with ``run``: both are
:func:`~rosim.runtime.patching.patched` around
:func:`~rosim.runtime.patching.run_process`.

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

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rosim.runtime.patching import in_container_call, patched, run_process
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
    from rosim._errors import ConfigError
    from rosim.runtime.container import Container, ContainerState

    if not isinstance(containers, Sequence) or isinstance(containers, str) or not all(
            isinstance(c, Container) for c in containers):
        raise ConfigError(f"containers(={containers!r:.60}) must be a list of Container.")
    if not callable(func):
        raise ConfigError(f"func(={func!r:.60}) must be callable.")
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
    with patched() as patcher:
        func, args, kwargs = in_container_call(patcher, func, args, kwargs)
        return [run_process(ctr._ns, ctr.user, ctr.user_group,  # type: ignore[arg-type]
                            func, args, kwargs) for ctr in containers]

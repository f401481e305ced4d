"""The worker thread that runs all container code, and how Ctrl-C reaches it.

Every ``Container.run`` hands its work to one long-lived daemon thread,
confined at start (:mod:`rosim.runtime.hostguard`), and waits for the
answer. The notebook's threads stay unconfined.

Interrupts. A Jupyter stop button or Ctrl-C raises ``KeyboardInterrupt`` in
the *main* thread, which is waiting for the worker. The main thread then
asks the worker to stop: if the worker is inside the caller's code (the
*interruptible* part of a job), ``KeyboardInterrupt`` is raised there with
``PyThreadState_SetAsyncExc``; if it is setting up or undoing the
container's patches, the request waits until the caller's code would start
(and it never starts). Either way the main thread waits until the job has
undone everything, then raises ``KeyboardInterrupt``. So an interrupt can
never land in the middle of patching or unpatching: ``run()`` is atomic.
A second Ctrl-C while waiting is sent again; the third one gives up on a
worker stuck in a C call (``time.sleep`` inside a container is cut into short
sleeps so that it stays interruptible): the stuck thread is left behind,
still confined, and a new worker takes over.
"""

from __future__ import annotations

import contextvars
import ctypes
import queue
import threading
from collections.abc import Callable
from typing import Any

from rosim.runtime.hostguard import GuardUnavailable, confine_thread, guard_kind

__all__ = ["Worker", "abandoned", "on_worker", "worker"]

_NEW, _RUNNING, _DONE, _CANCELLED = range(4)
_GIVE_UP_AFTER = 3  # Ctrl-C presses while waiting before a stuck worker is left behind

_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = [ctypes.c_ulong, ctypes.py_object]
_set_async_exc.restype = ctypes.c_int


def _raise_in(ident: int, exc: type[BaseException]) -> None:
    _set_async_exc(ctypes.c_ulong(ident), ctypes.py_object(exc))


class _Dropped(BaseException):  # noqa: N818 - never leaves _drop_pending
    """Replaces an interrupt that was sent but not delivered, and is caught at once."""


def _noop() -> None:
    pass


def _drop_pending(ident: int) -> None:
    """Drop an interrupt sent to the calling thread but not yet delivered.

    ``PyThreadState_SetAsyncExc(ident, NULL)`` would clear it, but CPython
    3.11 then leaves the interpreter's "asynchronous exception pending" flag
    set for good: every thread checks for it at every call, and a thread with
    a trace or profile function (``sys.settrace``, ``breakpoint()``,
    ``cProfile``) spins on it forever. Replacing it with an exception of our
    own and catching that clears the flag the ordinary way.
    """
    _raise_in(ident, _Dropped)
    try:
        for _ in range(100_000):
            _noop()  # the next call checks the flag and raises _Dropped
    except _Dropped:
        return
    _set_async_exc(ctypes.c_ulong(ident), ctypes.py_object())  # never seen; clear it


class _Job:
    __slots__ = ("context", "done", "error", "func", "interrupt", "result", "state")

    def __init__(self, func: Callable[[], Any]) -> None:
        self.func = func
        self.context = contextvars.copy_context()
        self.state = _NEW
        self.interrupt = False
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Lock()
        self.done.acquire()


class Worker:
    """A confined thread that runs jobs one at a time (see the module doc)."""

    def __init__(self) -> None:
        from rosim.runtime import patching, process

        # Wrappers (time.sleep, os._exit, signal...) are in place before any
        # container code can look them up.
        patching._install_guard()
        process.install()
        self.guard = guard_kind()
        #: Why Landlock is not used, if it is not ('' if it is).
        self.reason = ""
        self.ident = 0
        self.abandoned = False
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.RLock()
        self._job: _Job | None = None
        self._interruptible = False
        self._sent = False  # a KeyboardInterrupt was sent to the worker and may be pending
        ready = threading.Event()
        self.thread = threading.Thread(target=self._main, args=(ready,),
                                       name="rosim-container", daemon=True)
        self.thread.start()
        ready.wait()

    # ------------------------------------------------------------ worker side
    def _main(self, ready: threading.Event) -> None:
        from rosim.runtime.patching import mark_guarded

        try:
            if self.guard == "landlock":
                try:
                    confine_thread()
                except (GuardUnavailable, OSError) as exc:
                    self.guard, self.reason = "audit", str(exc)
            else:
                self.reason = "asked for with ROSIM_HOST_GUARD=audit"
        finally:
            mark_guarded()
            self.ident = threading.get_ident()
            ready.set()
        while True:
            job = None
            try:
                job = self._queue.get()
                if job is None:
                    return
                self._execute(job)
            except BaseException as exc:  # noqa: BLE001 - a stray interrupt between jobs
                if job is None:
                    continue
                if job.state == _NEW:
                    # Not started: the interrupt was not meant for it; run it next.
                    self._queue.put(job)
                else:
                    # Cut short before it could record its end: its caller still
                    # waits, so end it with the interrupt.
                    self._finish(job, exc)

    def _execute(self, job: _Job) -> None:
        with self._lock:
            if job.state != _NEW:  # cancelled, or queued again and already run
                return
            job.state = _RUNNING
            self._job = job
        error: BaseException | None = None
        try:
            job.result = job.context.run(job.func)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            error = exc
        finally:
            self._finish(job, error)

    def _finish(self, job: _Job, error: BaseException | None) -> None:
        """Record the end of ``job`` (once) and wake its caller, whatever interrupts."""
        while True:
            try:
                with self._lock:
                    if job.state == _DONE or job.state == _CANCELLED:
                        return
                    job.error = error
                    self._job = None
                    job.state = _DONE
                    job.done.release()
                return
            except BaseException:  # noqa: BLE001, S112 - retried until recorded
                self._release_lock()

    def _release_lock(self) -> None:
        while self._lock._is_owned():  # type: ignore[attr-defined]
            self._lock.release()

    def call(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Call ``func`` as the interruptible part of the current job.

        Outside a job (code already on the worker calling in), just calls it.
        """
        job = self._job
        if job is None or threading.get_ident() != self.ident:
            return func(*args, **kwargs)
        try:
            with self._lock:
                if job.interrupt:
                    raise KeyboardInterrupt
                self._interruptible = True
            return func(*args, **kwargs)
        finally:
            self._leave()

    def _leave(self) -> None:
        while True:
            try:
                with self._lock:
                    self._interruptible = False
                    if self._sent:
                        self._sent = False
                        _drop_pending(self.ident)  # one not delivered yet
                return
            except KeyboardInterrupt:
                self._release_lock()

    # ------------------------------------------------------------ caller side
    def submit(self, func: Callable[[], Any]) -> Any:
        """Run ``func()`` on the worker and return its result or raise its error."""
        job = _Job(func)
        interrupted = False
        try:
            self._queue.put(job)
            # A timed wait, so that an interrupt flagged without a real signal
            # (``_thread.interrupt_main``) is seen too.
            stalled = 0
            while not job.done.acquire(timeout=0.25):
                # Taken off the queue but never started: an interrupt that reached
                # the worker as it picked the job up lost it. Queue it again.
                if job.state == _NEW and self._job is None and self._queue.empty():
                    stalled += 1
                    if stalled >= 2:
                        stalled = 0
                        self._queue.put(job)
                else:
                    stalled = 0
        except KeyboardInterrupt:
            interrupted = True
        if interrupted:
            self._stop(job)
            raise KeyboardInterrupt
        if job.error is not None:
            error, job.error = job.error, None
            raise error
        return job.result

    def _stop(self, job: _Job) -> None:
        """Interrupt ``job`` and wait until it has undone everything."""
        presses = 1
        while True:
            try:
                with self._lock:
                    if job.state == _NEW:
                        job.state = _CANCELLED
                        return
                    if job.state in (_DONE, _CANCELLED):
                        return
                    job.interrupt = True
                    if self._interruptible and self._job is job:
                        _raise_in(self.ident, KeyboardInterrupt)
                        self._sent = True
                if job.done.acquire(timeout=0.05):
                    return
                if not self.thread.is_alive():
                    return
            except KeyboardInterrupt:
                presses += 1
                if presses >= _GIVE_UP_AFTER:
                    self._abandon()
                    return

    def _abandon(self) -> None:
        """Leave a worker stuck in a C call behind; the next run() gets a new one."""
        global _worker
        from rosim.fs.kernel import kernel
        from rosim.runtime.patching import force_unpatch

        self.abandoned = True
        _abandoned.add(self.ident)
        with _worker_lock:
            if _worker is self:
                _worker = None
        force_unpatch()
        k = kernel()
        k.root, k.ns, k._by_dev = k._idle_root, None, {}


_worker: Worker | None = None
_worker_lock = threading.Lock()


def worker() -> Worker:
    """The worker thread (started on first use)."""
    global _worker
    current = _worker
    if current is not None:
        return current
    with _worker_lock:
        if _worker is None:
            _worker = Worker()
        return _worker


def abandoned() -> bool:
    """Whether the calling thread is a worker that a stuck interrupt left behind."""
    return threading.get_ident() in _abandoned


_abandoned: set[int] = set()


def on_worker() -> bool:
    """Whether the calling thread is the worker (container code calling in)."""
    current = _worker
    return current is not None and threading.get_ident() == current.ident

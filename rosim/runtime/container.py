"""Containers: an image, an overlay root, mounts, a lifecycle, code inside.

A :class:`Container` is made by :meth:`rosim.Runtime.create`. Its lifecycle
follows ``podman``: *created* → ``start()`` → *running* → ``stop()`` →
*stopped* → ``start()`` again or ``remove()`` → *removed*. ``restart()`` is
stop + start of the *same* container: the upper layer stays, every tmpfs
starts empty.

While running, ``run(func, *args)`` calls ``func`` with Python's file system
modules pointed at the container; any exception it raises reaches the
caller unchanged, and the patching is undone either way.
"""

from __future__ import annotations

import errno
import hashlib
import os
import posixpath
import types
import weakref
from collections.abc import Callable
from stat import S_ISDIR, S_ISLNK, S_ISREG
from typing import TYPE_CHECKING, Any, TypeVar

from pyfakefs import helpers
from pyfakefs.fake_file import FakeDirectory, FakeFile

from rosim._bounds import RosimEnum, check_int, check_type
from rosim._errors import ConfigError, ContainerStateError, LifecycleError, MountConflictError
from rosim.fs import devices
from rosim.fs.events import EventLog
from rosim.fs.layers import EntryKind, Image
from rosim.fs.mounts import FsType
from rosim.fs.namespace import Device, MountEntry, Namespace
from rosim.fs.overlay import (
    Change,
    ChangeKind,
    DiffStyle,
    LowerDir,
    LowerFile,
    lower_dir,
    lower_node,
    overlay_changes,
)
from rosim.runtime.patching import in_container_call, patched, run_process
from rosim.runtime.profiles import DEV_NODES, PlannedMount, Profile
from rosim.runtime.worker import on_worker, worker
from rosim.shell.result import ExecResult

if TYPE_CHECKING:
    from rosim.runtime.runtime import Runtime

__all__ = ["Container", "ContainerState"]

T = TypeVar("T")


def _check_str(value: object, field: str) -> None:
    if not isinstance(value, str) or "\x00" in value:
        raise ConfigError(f"{field}(={value!r:.60}) must be a str without NUL bytes.")


def _step(gen: Any) -> tuple[bool, Any]:
    try:
        return True, next(gen)
    except StopIteration:
        return False, None


class _InContainer:
    """A generator returned by :meth:`Container.run`; each step runs in the container."""

    __slots__ = ("_ctr", "_gen")

    def __init__(self, ctr: Container, gen: Any) -> None:
        self._ctr = ctr
        self._gen = gen

    def __iter__(self) -> _InContainer:
        return self

    def __next__(self) -> Any:
        more, value = self._ctr.run(_step, self._gen)
        if not more:
            raise StopIteration
        return value

    def close(self) -> None:
        """Close the generator (its ``finally`` blocks run in the container)."""
        if self._ctr.state is ContainerState.RUNNING:
            self._ctr.run(self._gen.close)

    def __repr__(self) -> str:
        return f"<generator {self._gen.__qualname__} in container {self._ctr.name}>"


class ContainerState(RosimEnum):
    """Lifecycle states, named as ``podman ps`` shows them."""

    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"
    REMOVED = "removed"


class SizeWriter:
    """Appends bytes declared by size to one file (see :meth:`Container.open_writer`)."""

    def __init__(self, container: Container, path: str, node: Any) -> None:
        check_type(container, "container", Container,
                   "a rosim.Container (use Container.open_writer)")
        _check_str(path, "path")
        self.container = container
        self.path = path
        self._node = node
        self._kernel = container._kernel
        self.written = 0

    def write(self, nbytes: int, step: int = 1024 * 1024) -> int:
        """Write ``nbytes`` in ``step``-sized writes; return how many fitted.

        Raises ``OSError(ENOSPC)`` when not even one step fits, as the write
        that finds the disk full does.
        """
        check_int(nbytes, "nbytes")
        check_int(step, "step", low=1)
        if self.container.state != "running":
            raise ContainerStateError(
                f"write() needs a running container; {self.container.name!r} is "
                f"{self.container.state} (its process is gone).")
        node = self._node
        device = self._kernel.devices.get(node.st_dev)
        fitting = nbytes if device is None else min(nbytes, device.free // step * step)
        if fitting <= 0:
            if nbytes > 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return 0
        self._kernel.change_disk_usage(fitting, node.name, node.st_dev)
        node._byte_contents = None
        node.st_size = (node.st_size or 0) + fitting
        self.written += fitting
        return fitting


class ShellSession:
    """A shell session in a container, like ``crictl exec -i -t CTR sh``.

    Variables set with ``export`` and the directory changed with ``cd`` carry
    over from one :meth:`sh` call to the next; :attr:`history` keeps every
    result, and :attr:`transcript` shows the whole session.
    """

    def __init__(self, container: Container, login: bool = False) -> None:
        from rosim.shell.interp import Shell

        check_type(container, "container", Container, "a rosim.Container")
        check_type(login, "login", bool, "a bool")
        self.container = container
        self._shell = Shell(env=container.env, cwd=container.workdir)
        self.history: list[ExecResult] = []
        #: What the shell's start-up files printed (login: /etc/profile.d/*.sh;
        #: an interactive bash: ~/.bashrc), before the first command.
        self.startup = self._start_up(login)

    def _start_up(self, login: bool) -> ExecResult:
        output: list[tuple[str, str]] = []

        def source_files() -> None:
            import glob
            import os

            files = sorted(glob.glob("/etc/profile.d/*.sh")) if login else []
            files.append(self._shell.env.get("HOME", "/root").rstrip("/") + "/.bashrc")
            for path in files:
                if os.path.isfile(path):
                    self._shell.run(f". {path}", output)

        self.container.run(source_files)
        return ExecResult("", 0, tuple(output), self.container.prompt)

    def sh(self, command: str, stdin: str = "") -> ExecResult:
        """Run one command line in this session."""
        if not isinstance(command, str):
            raise ConfigError(f"command(={command!r}) must be a str.")
        self.container._require("sh", ContainerState.RUNNING)
        output: list[tuple[str, str]] = []
        status = self.container.run(self._shell.run, command, output, stdin)
        result = ExecResult(command, status, tuple(output), self.container.prompt)
        self.history.append(result)
        return result

    @property
    def transcript(self) -> str:
        """Every command of the session with its output, as a terminal shows it."""
        startup = "".join(t for _, t in self.startup.output)
        return startup + "".join(r.transcript for r in self.history)


class Container:
    """A simulated container. Create one with :meth:`rosim.Runtime.create`.

    Attributes: ``name``, ``id``, ``image``, ``runtime``, ``read_only`` (is the
    root file system read-only), ``privileged``, ``state``.
    """

    def __init__(self, runtime: Runtime, image: Image, name: str, plan: list[PlannedMount],
                 read_only: bool, privileged: bool) -> None:
        from rosim.fs.kernel import kernel
        from rosim.runtime.runtime import Runtime

        check_type(runtime, "runtime", Runtime, "a rosim.Runtime (use Runtime.create)")
        check_type(image, "image", Image, "a rosim.Image")
        self.runtime = runtime
        self.image = image
        self.name = name
        self.read_only = read_only
        self.privileged = privileged
        self.id = hashlib.sha256(
            f"{runtime.profile}/{runtime.serial}/{name}/{image.digest}".encode()
        ).hexdigest()
        self._plan = plan
        self._kernel = kernel()
        # The writable layer lives on the host's disk; overlay.size caps it.
        self._upper: Device = self._kernel.new_device(FsType.OVERLAY, runtime.overlay_size,
                                                      parent=runtime.disk)
        self._root: LowerDir | None = None
        self._ns: Namespace | None = None
        self._events = EventLog()
        self._fast_os: Any = None
        self.state = ContainerState.CREATED
        self.starts = 0
        #: The process started with the container (image entrypoint + cmd).
        self.argv: list[str] = []
        #: Its extra environment variables and working directory.
        self.env: dict[str, str] = {}
        self.workdir = image.config.workdir
        #: What the process printed and returned at each start.
        self.process_runs: list[ExecResult] = []
        #: Bytes of this container's logs kept on the host's disk.
        self.log_bytes = 0
        #: The user and group its processes run as (``runAsUser``, ``--user``): 0 is root.
        self.user = 0
        self.user_group = 0
        #: Its log files, oldest first: rotated ones, then the current one
        #: (each a list of the texts written to it).
        self.log_files: list[list[str]] = [[]]

    def __repr__(self) -> str:
        mode = "ro" if self.read_only else "rw"
        return (f"<Container {self.name!r} image={self.image.name!r} "
                f"runtime={self.runtime.profile} root={mode} {self.state}>")

    # ------------------------------------------------------------ lifecycle
    def _require(self, action: str, *states: ContainerState) -> None:
        if self.state not in states:
            wanted = " or ".join(str(s) for s in states)
            raise ContainerStateError(
                f"{action}() needs a {wanted} container; {self.name!r} is {self.state}."
            )

    def start(self) -> None:
        """Start the container: mount its root, tmpfs mounts and volumes."""
        self._require("start", ContainerState.CREATED, ContainerState.STOPPED)
        if self._root is None:
            tree = self.image.tree
            root = lower_dir("/", tree.entry("/"), tree, "/", self._kernel)  # type: ignore[arg-type]
            root.st_dev = self._upper.dev
            self._kernel.last_ino += 1
            root.st_ino = self._kernel.last_ino
            self._root = root
        self._ns = Namespace(root=self._root, events=self._events)
        self._mount_all(self._ns)
        self.state = ContainerState.RUNNING
        self.starts += 1
        if self.argv:
            self.process_runs.append(self._run_process())

    def _run_process(self) -> ExecResult:
        """Run the container's process once, in its working directory."""
        from rosim.shell.interp import Shell

        workdir = self.workdir
        shell = Shell(env=self.env, name=self.runtime.profile.value)
        output: list[tuple[str, str]] = []

        def process() -> int:
            import os

            if os.getcwd() != workdir:
                try:
                    os.chdir(workdir)
                except OSError:
                    pass
            return shell.exec_argv(list(self.argv), output)

        status = self.run(process)
        result = ExecResult(" ".join(self.argv), status, tuple(output), self.prompt)
        for _, text in output:
            self.write_stdout(text)
        return result

    def write_stdout(self, text: str) -> None:
        """The container's process writes ``text`` to its stdout: it goes to the
        container's current log file, on the host's disk (/var/log/pods)."""
        if not isinstance(text, str):
            raise ConfigError(f"text(={text!r}) must be a string.")
        nbytes = len(text.encode())
        if not nbytes:
            return
        try:
            self._kernel.change_disk_usage(nbytes, "container.log", self.runtime.disk.dev)
        except OSError:
            return  # the disk is full: conmon drops the line
        self.log_bytes += nbytes
        self.log_files[-1].append(text)

    def log_file_sizes(self) -> list[int]:
        """Bytes in each log file, oldest first (the last is the current one)."""
        return [sum(len(t.encode()) for t in f) for f in self.log_files]

    def rotate_logs(self, max_files: int) -> int:
        """Start a new current log file and keep at most ``max_files`` files, as the
        kubelet's log manager does; the oldest go from the disk. Returns the bytes freed."""
        if self.log_files[-1]:
            self.log_files.append([])
        freed = 0
        while len(self.log_files) > max(max_files, 1):
            freed += sum(len(t.encode()) for t in self.log_files.pop(0))
        if freed:
            self._kernel.change_disk_usage(-freed, "container.log", self.runtime.disk.dev)
            self.log_bytes -= freed
        return freed

    @property
    def exit_code(self) -> int | None:
        """The exit status of the process at the last start (None if it has none)."""
        return self.process_runs[-1].status if self.process_runs else None

    def logs(self, current: bool = False) -> str:
        """What the container's process printed at every start, like ``podman logs``
        (what rotation left of it); ``current``: the current log file only."""
        files = self.log_files[-1:] if current else self.log_files
        return "".join("".join(f) for f in files)

    def stop(self) -> None:
        """Stop the container; its upper layer stays, its tmpfs contents go."""
        self._require("stop", ContainerState.RUNNING)
        assert self._ns is not None
        for entry in self._ns.mounts:
            shared = any(m.kind == "memory" and m.destination == entry.destination
                         for m in self._plan)
            transient = not shared and (
                entry.fstype in (FsType.TMPFS, FsType.PROC, FsType.SYSFS)
                or (entry.fstype is FsType.BIND and entry.origin == "runtime"))
            if transient:
                self._kernel.drop_device(entry.dev)
        self.state = ContainerState.STOPPED

    def restart(self) -> None:
        """``podman restart``: stop and start the same container."""
        self._require("restart", ContainerState.RUNNING)
        self.stop()
        self.start()

    def remove(self, force: bool = False) -> None:
        """Remove the container and its upper layer (``force`` stops it first)."""
        if self.state is ContainerState.RUNNING and force:
            self.stop()
        self._require("remove", ContainerState.CREATED, ContainerState.STOPPED)
        self._kernel.drop_device(self._upper.dev)
        if self.log_bytes:
            self._kernel.change_disk_usage(-self.log_bytes, "container.log",
                                           self.runtime.disk.dev)
            self.log_bytes = 0
        self._root = None
        self._ns = None
        self.state = ContainerState.REMOVED
        self.runtime._forget(self)

    # ------------------------------------------------------------ running code
    def run(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Call ``func(*args, **kwargs)`` as a process inside this container.

        Its ``open``, ``os``, ``pathlib``, ``shutil``, ``tempfile`` and
        ``logging`` calls act on the container's files; its result is
        returned and its exceptions propagate unchanged. A generator it
        returns (``ctr.run(Path("/etc").glob, "*.conf")``, ``ctr.run(os.walk,
        "/")``) runs inside the container too: each step as you iterate.
        """
        if not callable(func):
            raise ConfigError(f"func(={func!r:.60}) must be callable.")
        self._require("run", ContainerState.RUNNING)
        assert self._ns is not None
        if on_worker():
            # Container code calling in (which refuses to nest, as before).
            return self._run_here(func, args, kwargs)
        result = worker().submit(lambda: self._run_here(func, args, kwargs))
        if isinstance(result, types.GeneratorType):
            # Its body is container code: it must not run on the notebook's side.
            return _InContainer(self, result)  # type: ignore[return-value]
        return result  # type: ignore[no-any-return]

    def _run_here(self, func: Callable[..., T], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> T:
        """The body of :meth:`run`, on the worker thread."""
        assert self._ns is not None
        with patched() as patcher:
            func, args, kwargs = in_container_call(patcher, func, args, kwargs)
            return run_process(self._ns, self.user, self.user_group,  # type: ignore[no-any-return]
                               func, args, kwargs)

    def write_bytes(self, path: str, nbytes: int, step: int = 1024 * 1024) -> int:
        """Append ``nbytes`` to ``path`` in ``step``-sized writes, declared by size.

        No bytes are held in memory and no module patching happens. The
        writes stop at the first one that does not fit; the bytes written are
        returned, and ``ENOSPC`` is raised only if nothing fitted. Opening the
        file follows every rule (``EROFS`` on a read-only mount...).
        """
        return self.open_writer(path).write(nbytes, step)

    def exists(self, path: str) -> bool:
        """Whether ``path`` exists in the container, checked without running code.

        A fast path for accounting (no module patching); code that runs in
        the container should use ``os.path.exists`` through :meth:`run`.
        """
        _check_str(path, "path")
        self._require("exists", ContainerState.RUNNING)
        assert self._ns is not None
        with self._kernel.entered(self._ns):
            return bool(self._kernel.exists(path))

    def write_text(self, path: str, text: str) -> None:
        """Create or replace ``path`` with ``text``, as ``open(path, "w")`` would.

        The same rules apply (``EROFS``, ``ENOSPC``...), without patching
        modules: a fast path for scenarios that write many small files.
        """
        from rosim.fs.syscalls import ContainerOsModule

        _check_str(path, "path")
        _check_str(text, "text")
        self._require("write_text", ContainerState.RUNNING)
        assert self._ns is not None
        fake_os = self._fast_os
        if fake_os is None:
            fake_os = self._fast_os = ContainerOsModule(self._kernel)
        with self._kernel.entered(self._ns):
            fd = fake_os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                fake_os.write(fd, text.encode())
            finally:
                fake_os.close(fd)

    def open_writer(self, path: str) -> SizeWriter:
        """Open ``path`` for appending by size, as a long-running writer keeps a file open.

        Opening applies every rule (``EROFS`` on a read-only mount...); each
        :meth:`SizeWriter.write` then only charges the space, so an hour of
        writes costs microseconds.
        """
        _check_str(path, "path")
        self._require("open_writer", ContainerState.RUNNING)
        assert self._ns is not None
        with self._kernel.entered(self._ns):
            node = self._open_for_size(path)
        return SizeWriter(self, path, node)

    def _open_for_size(self, path: str) -> Any:
        from rosim.fs.syscalls import ContainerOsModule

        fake_os = self._fast_os
        if fake_os is None:
            fake_os = self._fast_os = ContainerOsModule(self._kernel)
        fd = fake_os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            return self._kernel.get_open_file(fd).get_object()
        finally:
            fake_os.close(fd)

    def __reduce_ex__(self, protocol: Any) -> Any:
        """A container is live simulation state (its kernel, mounts, open files):
        ``pickle``, ``copy.copy`` and ``copy.deepcopy`` refuse it with a LifecycleError."""
        raise LifecycleError(f"container {self.name!r} cannot be pickled or copied: it is "
                             "part of a running simulation; create another with "
                             "Runtime.create(image)")

    # ------------------------------------------------------------ commands
    @property
    def prompt(self) -> str:
        """The shell prompt a terminal shows in this container (root's)."""
        tree = self.image.tree
        has_bash = any(tree.entry(p) is not None for p in ("/usr/bin/bash", "/bin/bash"))
        return "sh-4.4# " if has_bash else "/ # "

    def sh(self, command: str, stdin: str = "") -> ExecResult:
        """Run a command line with the container's shell, like ``podman exec CTR sh -c``.

        Returns an :class:`~rosim.ExecResult` with the output, the exit status
        and a terminal-like transcript. Each call starts a fresh shell; use
        :meth:`shell` for a session that keeps variables and the directory.
        """
        from rosim.shell.interp import Shell

        if not isinstance(command, str):
            raise ConfigError(f"command(={command!r}) must be a str.")
        if not isinstance(stdin, str):
            raise ConfigError(f"stdin(={stdin!r:.60}) must be a str.")
        self._require("sh", ContainerState.RUNNING)
        # sh -c reads no start-up files (no ~/.bashrc): a fresh, non-interactive shell.
        shell = Shell(env=self.env, cwd=self.workdir)
        output: list[tuple[str, str]] = []
        status = self.run(shell.run, command, output, stdin)
        return ExecResult(command, status, tuple(output), self.prompt)

    def exec(self, argv: list[str], stdin: str = "") -> ExecResult:
        """Run a program directly (no shell), like ``crictl exec CTR ARGV...``."""
        from rosim.shell.interp import Shell

        if not isinstance(argv, list | tuple) or not argv or not all(
            isinstance(a, str) for a in argv
        ):
            raise ConfigError(f"argv(={argv!r}) must be a non-empty list of str.")
        self._require("exec", ContainerState.RUNNING)
        output: list[tuple[str, str]] = []
        shell = Shell(env=self.env, name=self.runtime.profile.value)
        status = self.run(shell.exec_argv, list(argv), output, stdin)
        return ExecResult(" ".join(argv), status, tuple(output), self.prompt)

    def shell(self, login: bool = False) -> ShellSession:
        """An interactive session (``exec -it CTR bash``): it reads ``~/.bashrc``,
        and with ``login=True`` also ``/etc/profile.d/*.sh``; then
        ``session.sh(line)`` runs commands, keeping variables and the directory.
        """
        self._require("shell", ContainerState.RUNNING)
        return ShellSession(self, login)

    # ------------------------------------------------------------ inspection
    @property
    def events(self) -> EventLog:
        """Every file system call made through :meth:`run`, in order."""
        return self._events

    @property
    def mounts(self) -> list[MountEntry]:
        """The mount table of the running container (empty when it is not running)."""
        if self._ns is not None and self.state is ContainerState.RUNNING:
            return list(self._ns.mounts)
        return []

    @property
    def proc_mounts(self) -> str:
        """The text of ``/proc/mounts`` inside the running container."""
        self._require("proc_mounts", ContainerState.RUNNING)
        assert self._ns is not None
        return self._ns.proc_mounts()

    def diff(self) -> list[Change]:
        """The changes as the runtime's ``diff`` lists them: ``[('C', '/etc'), ...]``.

        ``docker diff`` for Docker, ``podman diff`` for Podman and CRI-O (see
        :class:`~rosim.fs.overlay.DiffStyle`). Mount points that runc made in
        the writable layer for the user's volumes and tmpfs are listed, as the
        real tools list them; so, under Podman and CRI-O, are the image
        directories that received the runtime's bind-mounted files.
        """
        if self._root is None:
            return []
        style = DiffStyle.DOCKER if self.runtime.profile is Profile.DOCKER else DiffStyle.PODMAN
        changes = overlay_changes(self._root, self._upper.dev, style)
        listed = {c.path for c in changes}
        for path, kind in self._mount_point_changes().items():
            if path not in listed and path not in style.rules.hidden:
                changes.append(Change(kind, path))
        return sorted(changes, key=lambda c: c.path)

    def _mount_point_changes(self) -> dict[str, ChangeKind]:
        """What making the mount points wrote to the writable layer (runc makes
        a missing mount point, and its missing parents, before the root goes
        read-only; Docker makes its own files' mount points in a layer of their own)."""
        tree = self.image.tree
        out: dict[str, ChangeKind] = {}
        destinations = [p.destination for p in self._plan]
        for plan in self._plan:
            dest = plan.destination
            if any(dest.startswith(d.rstrip("/") + "/") for d in destinations if d != dest):
                continue  # made inside another mount, not in the root
            if tree.entry(dest) is not None:
                continue
            parts = [p for p in dest.split("/") if p]
            if plan.origin == "user":
                out[dest] = ChangeKind.ADDED
            elif plan.kind == "file" and self.runtime.profile is not Profile.DOCKER:
                pass
            else:
                continue
            for i in range(len(parts) - 1, 0, -1):
                parent = "/" + "/".join(parts[:i])
                entry = tree.entry(parent)
                if entry is None:
                    out.setdefault(parent, ChangeKind.ADDED)
                elif entry.kind is EntryKind.DIR:
                    out.setdefault(parent, ChangeKind.CHANGED)
                else:
                    break
        return out

    @property
    def upper_size(self) -> int:
        """Bytes held by the container's writable (upper) layer."""
        return self._upper.used

    # ------------------------------------------------------------ mounting
    def _overlay_source(self) -> tuple[str, str]:
        base = ("/var/lib/docker/overlay2" if self.runtime.profile is Profile.DOCKER
                else "/var/lib/containers/storage/overlay")
        lowers = ":".join(f"{base}/l/{layer.digest[:26].upper()}"
                          for layer in reversed(self.image.layers))
        upper = f"{base}/{self.id[:64]}"
        return "overlay", f"lowerdir={lowers},upperdir={upper}/diff,workdir={upper}/work"

    def _mount_all(self, ns: Namespace) -> None:
        from rosim.fs.mounts import MountOptions

        k = self._kernel
        source, extra = self._overlay_source()
        ns.mounts.append(MountEntry("/", FsType.OVERLAY, source,
                                    MountOptions(read_only=self.read_only), "image",
                                    self._upper.dev, extra))
        for plan in self._plan:
            parent = self._mount_point(ns, plan)
            mount_name = plan.destination.rpartition("/")[2]
            covered = k.child(parent, mount_name)
            node, dev = self._realize(plan)
            if plan.kind == "tmpfs" and covered is not None and S_ISDIR(covered.st_mode):
                # runc gives a tmpfs the mode of the directory it covers.
                node.st_mode = (node.st_mode & ~0o7777) | (covered.st_mode & 0o7777)
            if plan.sub_path:
                node.rosim_sub_path = True
            k.attach(parent, node, mount_name)
            ns.mount_roots[dev] = node
            ns.attachments.append((parent, node, mount_name))
            ns.mounts.append(MountEntry(plan.destination, plan.fstype, plan.source,
                                        plan.options, plan.origin, dev))
        if self._make_workdir(ns):
            ns.cwd = self.workdir
        proc = next((n for d, n in ns.mount_roots.items()
                     if k.devices[d].fstype is FsType.PROC), None)
        if proc is not None:
            text = ns.proc_mounts().encode()
            for name in ("mounts",):
                self._put_file(proc, name, text, 0o444)
            self_dir = k.new_directory("self", 0o555, proc.st_dev)
            k.attach(proc, self_dir)
            self._put_file(self_dir, "mounts", text, 0o444)

    def _make_workdir(self, ns: Namespace) -> bool:
        """runc creates a missing working directory before the root goes read-only."""
        k = self._kernel
        node: FakeFile = ns.root
        for name in [p for p in self.workdir.split("/") if p]:
            child = k.child(node, name)  # type: ignore[arg-type]
            if child is None:
                child = k.new_directory(name, 0o755, node.st_dev)
                k.attach(node, child)  # type: ignore[arg-type]
                k._copy_up_dirs(node)
            elif not S_ISDIR(child.st_mode):
                return False
            node = child
        return True

    def _put_file(self, parent: FakeDirectory, name: str, content: bytes, mode: int) -> None:
        node = self._kernel.new_file(name, content, mode, parent.st_dev)
        self._kernel.attach(parent, node)

    def _realize(self, plan: PlannedMount) -> tuple[FakeFile, int]:
        k = self._kernel
        name = plan.destination.rpartition("/")[2]
        if plan.kind in ("volume", "host", "network", "memory", "localdisk"):
            node = self.runtime._storage(plan.kind, plan.key, plan.options.size)
            for part in [p for p in plan.sub_path.split("/") if p]:
                # subPath: a directory of the volume, made if it is missing.
                child = node.entries.get(part)
                if child is None:
                    child = k.new_directory(part, 0o755, node.st_dev)
                    node.add_entry(child)
                node = child
            if not plan.sub_path:
                node.name = name
            if plan.kind == "memory" and plan.options.mode is not None:
                node.st_mode = (node.st_mode & ~0o7777) | plan.options.mode
            return node, node.st_dev
        if plan.kind == "hostfile":
            node = self.runtime._host_files[plan.key]
            return node, node.st_dev
        if plan.kind == "file":
            device = k.new_device(FsType.BIND, parent=self.runtime.disk)
            return k.new_file(name, plan.content, 0o644, device.dev), device.dev
        fstype = {"tmpfs": FsType.TMPFS, "proc": FsType.PROC, "sysfs": FsType.SYSFS}[plan.kind]
        size = plan.options.size
        if fstype is FsType.TMPFS and size is None:
            size = self.runtime.memory // 2
        device = k.new_device(fstype, size if fstype is FsType.TMPFS else None)
        if fstype is FsType.TMPFS and plan.options.nr_inodes is not None:
            device.inodes, device.inodes_used = plan.options.nr_inodes, 1  # its root
        mode = plan.options.mode if plan.options.mode is not None else (
            0o1777 if fstype is FsType.TMPFS else 0o555)
        root = k.new_directory(name, mode, device.dev)
        if plan.options.tmpcopyup:
            self._copy_up_into(plan.destination, root)
        if plan.destination == "/dev" and plan.origin == "runtime":
            self._make_dev_nodes(root)
        return root, device.dev

    def _make_dev_nodes(self, dev: FakeDirectory) -> None:
        """runc's devices, links and mount points in ``/dev`` (see ``DEV_NODES``).

        Every container start makes them, so they are copied from nodes built
        once per kernel, state and all, rather than built and linked through
        pyfakefs' constructor and ``attach`` (which cost three times as much).
        """
        k = self._kernel
        templates = k.__dict__.get("_rosim_dev_nodes")
        if templates is None:
            templates = k.__dict__["_rosim_dev_nodes"] = [
                (spec, _dev_node(k, spec)) for spec in DEV_NODES]
        taken = {p.destination for p in self._plan if p.origin == "user"}
        now = helpers.now()
        made: dict[str, FakeFile] = {"": dev}
        for spec, template in templates:
            parent_path, _, name = spec.path.rpartition("/")
            parent = made.get(parent_path)
            if parent is None or "/dev/" + spec.path in taken:
                continue
            node = object.__new__(type(template))
            state = node.__dict__
            state.update(template.__dict__)
            st = state["stat_result"] = object.__new__(type(template.stat_result))
            st.__dict__.update(template.stat_result.__dict__)
            st.st_atime = st.st_mtime = st.st_ctime = now
            k.last_ino += 1
            st.st_ino, st.st_dev, st.st_nlink = k.last_ino, dev.st_dev, st.st_nlink + 1
            state["xattr"] = {}
            if S_ISDIR(spec.mode):
                state["_entries"] = {}
            state["parent_dir"] = weakref.ref(parent)
            parent._entries[name] = node  # type: ignore[attr-defined]
            parent.stat_result.st_nlink += 1
            made[spec.path] = node

    def _copy_up_into(self, destination: str, root: FakeDirectory) -> None:
        """runc's ``tmpcopyup``: copy the image's files at the path into the tmpfs."""
        tree = self.image.tree
        entry = tree.entry(destination)
        if entry is None or entry.kind is not EntryKind.DIR:
            return
        k = self._kernel

        def copy(path: str, into: FakeDirectory) -> None:
            for name in tree.children(path):
                child_path = posixpath.join(path, name)
                node = lower_node(name, tree, child_path, k)
                if isinstance(node, LowerDir):
                    fresh: FakeFile = k.new_directory(name, node.st_mode, into.st_dev)
                    k.attach(into, fresh)
                    copy(child_path, fresh)  # type: ignore[arg-type]
                    continue
                if isinstance(node, LowerFile) and S_ISLNK(node.st_mode):
                    fresh = FakeFile(name, node.st_mode, node.contents, filesystem=k)
                else:
                    fresh = k.new_file(name, node.byte_contents or b"",
                                       node.st_mode & 0o7777, into.st_dev)
                fresh.st_dev = into.st_dev
                k.attach(into, fresh)
                k.change_disk_usage(fresh.st_size if S_ISREG(fresh.st_mode) else 0,
                                    name, into.st_dev)

        copy(destination, root)

    def _mount_point(self, ns: Namespace, plan: PlannedMount) -> FakeDirectory:
        """Find or create the directory that will hold ``plan``'s mount point."""
        k = self._kernel
        parts = [p for p in plan.destination.split("/") if p]
        node: FakeFile = ns.root
        hops = 0
        i = 0
        while i < len(parts) - 1:
            name = parts[i]
            child = k.child(node, name)  # type: ignore[arg-type]
            if child is None:
                child = k.new_directory(name, 0o755, node.st_dev)
                child.__dict__["rosim_runtime"] = True
                k.attach(node, child)  # type: ignore[arg-type]
            elif isinstance(child, FakeDirectory):
                pass
            elif S_ISLNK(child.st_mode):
                hops += 1
                if hops > 40:
                    raise MountConflictError(
                        f"destination(={plan.destination!r}) loops through symlinks."
                    )
                path = "/" + "/".join(parts[:i])
                target = posixpath.normpath(posixpath.join(path, child.contents))
                parts = [p for p in target.split("/") if p] + parts[i + 1:]
                node, i = ns.root, 0
                continue
            elif not S_ISDIR(child.st_mode):
                raise MountConflictError(
                    f"destination(={plan.destination!r}) lies below "
                    f"{'/' + '/'.join(parts[:i + 1])!r}, which is a file, not a directory."
                )
            node = child
            i += 1
        existing = k.child(node, parts[-1])  # type: ignore[arg-type]
        if existing is not None and plan.kind not in ("file", "hostfile") and \
                not S_ISDIR(existing.st_mode):
            raise MountConflictError(
                f"destination(={plan.destination!r}) is a file in the container; "
                f"a {plan.kind} mount needs a directory there."
            )
        return node  # type: ignore[return-value]


def _dev_node(k: Any, spec: Any) -> FakeFile:
    """A node of ``spec`` (a :class:`~rosim.runtime.profiles.DevNode`), unattached."""
    name = spec.path.rpartition("/")[2]
    if S_ISDIR(spec.mode):
        return k.new_directory(name, spec.mode, 0)  # type: ignore[no-any-return]
    if S_ISLNK(spec.mode):
        return FakeFile(name, spec.mode, spec.target, filesystem=k)
    node = k.new_file(name, b"", 0, 0)
    node.st_mode = spec.mode
    devices.mark(node, spec.rdev)  # opened as rosim's simulated driver, never the host's
    return node  # type: ignore[no-any-return]

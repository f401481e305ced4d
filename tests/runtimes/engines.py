"""Real Docker and Podman for tests: a private dockerd, private Podman storage.

Both engines keep everything they make in directories of their own, so a
test session leaves nothing behind and never meets another user's
containers, images or volumes:

* :class:`DockerDaemon` starts Debian's ``dockerd`` (docker.io 20.10) with
  ``--iptables=false --ip6tables=false --bridge=none`` and its own socket,
  data root, exec root and pid file under :data:`DOCKER_BASE` paths; ``stop``
  ends it (and the containerd it started) and removes those directories.
  When ``ROSIM_DOCKER_HOST`` names a running daemon (``.ci/run`` starts one
  for the whole run), that daemon is used and left alone.
* :class:`Podman` runs ``podman --root DIR --runroot DIR`` with storage of its
  own, and ``podman system reset`` plus removal of the directories at the end.

Use from Python::

    with DockerDaemon.session() as docker:
        docker.run("import", "rootfs.tar", "img:1")

or from a shell (what ``.ci/run`` does)::

    eval "$(python3 tests/runtimes/engines.py start)"   # exports ROSIM_DOCKER_HOST
    python3 tests/runtimes/engines.py stop

Another test that needs real Docker uses the ``docker_daemon`` fixture of
``tests/runtimes/conftest.py`` or :meth:`DockerDaemon.session` directly.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

#: Debian's docker.io client; /usr/local/bin/docker may be a newer CLI that
#: refuses the 20.10 engine's API version.
DOCKER_CLI = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
PODMAN = "/usr/bin/podman"
#: Environment variable naming an already running daemon (``unix://...``).
HOST_ENV = "ROSIM_DOCKER_HOST"
#: Fixed paths of the daemon ``engines.py start`` makes for a whole CI run.
DOCKER_BASE = "/run/rosim-docker"
DOCKER_DATA = "/var/lib/rosim-docker"
#: Podman's flags for this machine: runc (crun is not installed) and ulimits
#: that fit the machine's hard limits.
PODMAN_RUN_FLAGS = ("--runtime", "runc", "--ulimit", "nofile=1024:1024",
                    "--ulimit", "nproc=1024:1024")
TIMEOUT = 60.0


class EngineError(RuntimeError):
    """A real engine failed to start, or one of its commands failed."""


def _run(argv: list[str], env: dict[str, str] | None = None,
         timeout: float = TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise EngineError(f"{' '.join(argv)} timed out after {timeout:.0f} s") from exc
    if check and proc.returncode != 0:
        raise EngineError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc


def availability() -> str | None:
    """``None`` when Docker and Podman can run here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    missing = [p for p in (DOCKERD, DOCKER_CLI, PODMAN, "/usr/sbin/runc")
               if not os.path.exists(p) and not shutil.which(os.path.basename(p))]
    if missing:
        return f"{', '.join(missing)} not found (apt-get install docker.io podman runc)"
    return None


@dataclass
class DockerDaemon:
    """A ``dockerd`` of rosim's own: socket, data root, exec root, pid file."""

    base: str = DOCKER_BASE
    data_root: str = DOCKER_DATA
    host: str = ""
    process: subprocess.Popen[bytes] | None = None
    owned: bool = False

    def __post_init__(self) -> None:
        if not self.host:
            self.host = f"unix://{self.base}/docker.sock"

    @property
    def env(self) -> dict[str, str]:
        """The environment for the ``docker`` client: this daemon, API 1.41."""
        return {**os.environ, "DOCKER_HOST": self.host, "DOCKER_API_VERSION": "1.41"}

    def run(self, *args: str, timeout: float = TIMEOUT,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``docker ARGS`` against this daemon."""
        return _run([DOCKER_CLI, *args], env=self.env, timeout=timeout, check=check)

    def answers(self) -> bool:
        """Whether the daemon answers on its socket."""
        try:
            return self.run("version", "--format", "{{.Server.Version}}",
                            timeout=10, check=False).returncode == 0
        except EngineError:
            return False

    def start(self, timeout: float = 60.0) -> None:
        """Start dockerd (no iptables, no bridge) and wait until it answers."""
        if self.answers():
            return
        os.makedirs(self.base, exist_ok=True)
        os.makedirs(self.data_root, exist_ok=True)
        log = open(os.path.join(self.base, "dockerd.log"), "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [DOCKERD, "--iptables=false", "--ip6tables=false", "--bridge=none",
             "--data-root", self.data_root, "--exec-root", f"{self.base}/exec",
             "--pidfile", f"{self.base}/dockerd.pid", "-H", self.host],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.owned = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.answers():
                return
            time.sleep(0.3)
        tail = self.log_tail()
        self.stop()
        raise EngineError(f"dockerd did not start within {timeout:.0f} s: {tail}")

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of dockerd's log."""
        try:
            with open(os.path.join(self.base, "dockerd.log"), errors="replace") as f:
                return " | ".join(f.read().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the daemon this object started and remove everything it made."""
        pid = None
        if self.process is not None:
            pid = self.process.pid
        else:
            with contextlib.suppress(OSError, ValueError):
                with open(f"{self.base}/dockerd.pid") as f:
                    pid = int(f.read().strip())
        if pid is not None and self.answers():
            # Containers first, so that no mount or shim outlives the daemon.
            ids = self.run("ps", "-aq", check=False).stdout.split()
            if ids:
                self.run("rm", "-f", "-v", *ids, check=False)
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.2)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if self.process is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=10)
        _unmount_below(self.data_root)
        _unmount_below(self.base)
        for path in (self.data_root, self.base):
            shutil.rmtree(path, ignore_errors=True)
        self.process = None
        self.owned = False

    @classmethod
    @contextlib.contextmanager
    def session(cls) -> Iterator[DockerDaemon]:
        """The daemon named by ``ROSIM_DOCKER_HOST``, or a private one for the block.

        A private daemon gets paths with this process's id in them, so that
        concurrent test sessions do not share (or stop) each other's daemon.
        """
        host = os.environ.get(HOST_ENV)
        if host:
            daemon = cls(host=host)
            if not daemon.answers():
                raise EngineError(f"{HOST_ENV}={host} does not answer")
            yield daemon
            return
        pid = os.getpid()
        daemon = cls(base=f"{DOCKER_BASE}-{pid}", data_root=f"{DOCKER_DATA}-{pid}")
        daemon.start()
        try:
            yield daemon
        finally:
            daemon.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(OSError):
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split(") ")[-1].startswith("Z"):
                return False
    return True


def _unmount_below(path: str) -> None:
    """Unmount whatever an engine left mounted below ``path`` (deepest first)."""
    prefix = path.rstrip("/") + "/"
    with open("/proc/self/mounts") as f:
        points = [line.split()[1] for line in f]
    for point in sorted((p for p in points if p.startswith(prefix) or p == path),
                        key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


@dataclass
class Podman:
    """``podman`` with storage of its own (``--root``/``--runroot``)."""

    root: str
    runroot: str
    made: list[str] = field(default_factory=list)

    @classmethod
    @contextlib.contextmanager
    def session(cls) -> Iterator[Podman]:
        """Private Podman storage for the block, reset and removed afterwards."""
        pid = os.getpid()
        podman = cls(root=f"/var/lib/rosim-podman-{pid}", runroot=f"/run/rosim-podman-{pid}")
        try:
            yield podman
        finally:
            podman.cleanup()

    def run(self, *args: str, timeout: float = TIMEOUT,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``podman --root R --runroot R ARGS``."""
        return _run([PODMAN, "--root", self.root, "--runroot", self.runroot, *args],
                    timeout=timeout, check=check)

    def cleanup(self) -> None:
        """Remove every container, image and volume, then the storage directories."""
        if os.path.isdir(self.root):
            self.run("rm", "-af", "-v", check=False)
            self.run("system", "reset", "-f", check=False, timeout=120)
        _unmount_below(self.root)
        _unmount_below(self.runroot)
        for path in (self.root, self.runroot):
            shutil.rmtree(path, ignore_errors=True)


def leftovers() -> list[str]:
    """Mounts and directories of this session's private engines still there.

    Only this process's own paths are looked at (they carry its pid), so a
    concurrent session, or the shared daemon of ``ROSIM_DOCKER_HOST``, never
    counts.
    """
    pid = os.getpid()
    paths = (f"{DOCKER_BASE}-{pid}", f"{DOCKER_DATA}-{pid}", f"/var/lib/rosim-podman-{pid}",
             f"/run/rosim-podman-{pid}")
    found: list[str] = []
    with open("/proc/self/mounts") as f:
        for line in f:
            point = line.split()[1]
            if any(point == p or point.startswith(p + "/") for p in paths):
                found.append(f"mount {point}")
    found += [f"directory {p}" for p in paths if os.path.exists(p)]
    return found


def main(argv: list[str]) -> int:
    """``start``: start the shared daemon, print ``export ROSIM_DOCKER_HOST=...``;
    ``stop``: stop it and remove its directories; ``info``: print its status."""
    if len(argv) != 1 or argv[0] not in ("start", "stop", "info"):
        print("usage: engines.py start|stop|info", file=sys.stderr)
        return 2
    daemon = DockerDaemon()
    if argv[0] == "start":
        daemon.start()
        print(f"export {HOST_ENV}={daemon.host}")
    elif argv[0] == "stop":
        daemon.stop()
    else:
        print(json.dumps({"host": daemon.host, "answers": daemon.answers()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

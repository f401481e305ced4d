"""rosim against real Docker and Podman: one probe script, both sides.

For each runtime setting rosim models (:data:`SETTINGS`), one real container
and one rosim container run the same shell script (:func:`probe_script`) as
their command. The script prints, section by section:

* ``## start``: whether the markers a previous run left exist (lifecycle);
* ``## P`` for every probed path: ``touch``, ``echo >`` (through ``sh -c``,
  so the redirect's error is on the output) and ``cp /bin/sh P/sh`` followed
  by running the copy, each with its exit status;
* ``## ops``: a script of file operations whose upper layer ``docker diff``
  / ``podman diff`` then list (copy-up, whiteouts, opaque directories, a
  renamed file, a directory renamed over an empty image directory);
* ``## mounts``: ``/proc/mounts``.

The real side runs the container (``docker run --name``), takes the
engine's ``diff``, runs the same container again (``docker start -a``: a
restart in place) and takes ``diff`` again; for the writable-root settings it
also removes the container and runs a new one (``rm`` + ``run``). The rosim
side does the same with ``Container.start``, ``diff``, ``restart`` and a new
container. :func:`normalise` only removes what is the shell's wording or the
host's (see ``docs/fidelity.md``).
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from engines import PODMAN_RUN_FLAGS, DockerDaemon, EngineError, Podman

import rosim

#: Tools the script uses besides the shell's builtins (busybox applets).
TOOLS = ("sh", "cat", "touch", "cp", "chmod", "mkdir", "rm", "mv", "ls")
BUSYBOX = "/bin/busybox"

#: The image, the same on both sides except for what /bin holds.
IMAGE_FILES: dict[str, Any] = {
    "/etc/motd": "hello\n",
    "/etc/app/app.conf": "level=info\n",
    "/usr/bin/tool": rosim.File("#!/bin/sh\necho tool\n", mode=0o755),
    "/usr/share/doc/readme": "docs\n",
    "/opt/app/keep": "keep\n",
    "/opt/app/sub/f": "sub\n",
    "/opt/file": "file\n",
    "/opt/empty/": None,
    "/srv/old": "old\n",
    "/var/log/": None,
    "/tmp/": rosim.Dir(mode=0o1777),
    "/var/tmp/": rosim.Dir(mode=0o1777),
    "/run/": None,
    "/root/": rosim.Dir(mode=0o700),
    "/proc/": rosim.Dir(mode=0o555),
    "/sys/": rosim.Dir(mode=0o555),
    "/dev/": None,
}

#: Directories probed for touch / echo > / cp + run.
DIR_PATHS = ("/", "/usr", "/etc", "/var/log", "/tmp", "/var/tmp", "/run", "/dev", "/dev/shm",
             "/data", "/srv/bind", "/scratch")
#: Files the runtime binds into /etc, probed for touch and echo >>.
FILE_PATHS = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf")

#: File operations whose upper layer the engines' diff lists.
OPS = (
    "echo new > /etc/new.conf",
    "echo changed >> /etc/motd",
    "rm /usr/bin/tool",
    "rm -r /opt/app",
    "mkdir /opt/app",
    "rm /opt/file",
    "mkdir /opt/file",
    "mkdir /srv/nd",
    "touch /srv/nd/x",
    "rm -r /srv/nd",
    "mv /srv/old /srv/new",
    "mkdir -p /var/log/app",
    "touch /var/log/app/a.log",
    "rm -r /usr/share/doc",
    "mkdir /usr/share/doc",
)

#: Mounts the real runtimes make that rosim does not model; left out of the
#: mount comparison (see docs/fidelity.md, "Docker and Podman").
UNMODELLED = re.compile(r"^(/dev/pts|/dev/mqueue|/sys/fs/cgroup(/.*)?|/proc/.+|/sys/.+)$")


@dataclass(frozen=True)
class Setting:
    """A runtime setting: the real engine's flags and the same setting in rosim."""

    label: str
    engine: str  # 'docker' or 'podman'
    flags: tuple[str, ...] = ()
    read_only: bool = False
    read_only_tmpfs: bool = True
    tmpfs: tuple[str, ...] = ()
    privileged: bool = False
    user: int | None = None

    def rosim_container(self, image: rosim.Image, name: str, host_dir: str) -> rosim.Container:
        """The rosim container for this setting, created (not started)."""
        rt = rosim.Runtime(self.engine, read_only=self.read_only,
                           read_only_tmpfs=self.read_only_tmpfs)
        mounts: list[Any] = [rosim.Bind(rosim.Volume("probe-data"), "/data"),
                             rosim.Bind(host_dir, "/srv/bind")]
        mounts += [rosim.Tmpfs(dest) for dest in self.tmpfs]
        return rt.create(image, name=name, mounts=mounts, privileged=self.privileged,
                         user=self.user, command=["/bin/sh", "-c", probe_script()])


SETTINGS = (
    Setting("docker", "docker"),
    Setting("docker --read-only", "docker", ("--read-only",), read_only=True),
    Setting("docker --read-only --tmpfs /tmp", "docker", ("--read-only", "--tmpfs", "/tmp"),
            read_only=True, tmpfs=("/tmp",)),
    Setting("docker --privileged", "docker", ("--privileged",), privileged=True),
    Setting("docker --read-only --user 1000", "docker", ("--read-only", "--user", "1000:1000"),
            read_only=True, user=1000),
    Setting("podman", "podman"),
    Setting("podman --read-only", "podman", ("--read-only",), read_only=True),
    Setting("podman --read-only --read-only-tmpfs=false", "podman",
            ("--read-only", "--read-only-tmpfs=false"), read_only=True, read_only_tmpfs=False),
    Setting("podman --tmpfs /scratch", "podman", ("--tmpfs", "/scratch"), tmpfs=("/scratch",)),
)


def probe_script() -> str:
    """The shell script both containers run (see the module docstring)."""
    lines = ["echo '## start'", "ls /etc/marker /tmp/marker 2>&1"]
    for path in DIR_PATHS:
        base = path.rstrip("/")
        lines += [
            f"echo '## {path}'",
            f"touch {base}/probe-touch 2>&1; echo touch $?",
            f"sh -c 'echo x > {base}/probe-echo' 2>&1; echo echo $?",
            f"cp /bin/sh {base}/sh 2>&1 && {base}/sh -c 'echo ran' 2>&1; echo run $?",
        ]
    for path in FILE_PATHS:
        lines += [
            f"echo '## {path}'",
            f"touch {path} 2>&1; echo touch $?",
            f"sh -c 'echo \"# probe\" >> {path}' 2>&1; echo append $?",
        ]
    lines.append("echo '## ops'")
    lines += [f"sh -c '{op}' 2>&1; echo $?" for op in OPS]
    lines += ["touch /etc/marker /tmp/marker 2>&1", "echo '## mounts'", "cat /proc/mounts"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ images
def _program(name: str) -> rosim.File:
    return rosim.File(b"\x7fELF\x02\x01\x01\x00rosim-program: " + name.encode() + b"\n",
                      mode=0o755)


def rosim_image() -> rosim.Image:
    """The probe image for rosim: /bin holds rosim programs."""
    files = dict(IMAGE_FILES)
    files.update({f"/bin/{tool}": _program(tool) for tool in TOOLS})
    return rosim.Image.from_dict("rosim-probe", files)


def rootfs_tar(busybox: bytes) -> bytes:
    """The probe image as a rootfs tar for ``docker import``: /bin is busybox."""
    image = rosim.Image.from_dict("rosim-probe", dict(IMAGE_FILES))
    tree = image.tree
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add(path: str) -> None:
            entry = tree.entry(path)
            assert entry is not None
            info = tarfile.TarInfo("." + path if path != "/" else ".")
            info.mode = entry.mode & 0o7777
            info.mtime = 1_700_000_000
            if entry.kind == "directory":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                for name in sorted(tree.children(path)):
                    add(path.rstrip("/") + "/" + name)
            else:
                data = entry.data or b""
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

        add("/")
        info = tarfile.TarInfo("./bin")
        info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
        tar.addfile(info)
        info = tarfile.TarInfo("./bin/busybox")
        info.mode, info.size, info.mtime = 0o755, len(busybox), 1_700_000_000
        tar.addfile(info, io.BytesIO(busybox))
        for tool in TOOLS:
            info = tarfile.TarInfo(f"./bin/{tool}")
            info.type, info.linkname, info.mtime = tarfile.SYMTYPE, "busybox", 1_700_000_000
            tar.addfile(info)
    return buf.getvalue()


# ------------------------------------------------------------------ normalising
_ERRORS = ("Read-only file system", "Permission denied", "No such file or directory",
           "File exists", "Directory not empty", "Not a directory", "Is a directory",
           "Device or resource busy", "Invalid cross-device link", "No space left on device",
           "Operation not permitted")


def normalise_line(line: str) -> str:
    """A line of output with the tool's wording removed: ``ERR <strerror>``.

    busybox says ``touch: /usr/x: Read-only file system`` and ``sh: can't
    create /usr/x: ...`` where rosim (like GNU coreutils and bash) says
    ``touch: cannot touch '/usr/x': ...`` and ``sh: /usr/x: ...``: both are
    the same errno, which is what is compared.
    """
    if line.endswith(": nonexistent directory"):
        # busybox sh's word for ENOENT when a redirect's directory is missing.
        return "ERR No such file or directory"
    if line.startswith("rm: '") and line.endswith("' is a directory"):
        # busybox rm's wording of EISDIR.
        return "ERR Is a directory"
    for err in _ERRORS:
        if line.endswith(": " + err):
            return f"ERR {err}"
    return line


def sections(output: str) -> dict[str, list[str]]:
    """The script's output split at its ``## NAME`` lines."""
    out: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("## "):
            current = line[3:]
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def mount_table(lines: list[str]) -> dict[str, tuple[str, ...]]:
    """``/proc/mounts`` lines as ``{destination: (fstype, flags...)}``.

    Kept: the fstype (a bind mount's host file system is ``hostfs``), ``ro``/
    ``rw``, ``nosuid``, ``nodev``, ``noexec``, and tmpfs ``size=``/``mode=``.
    Dropped: sources, overlay layer paths and other fs-specific options, and
    the mounts rosim does not model (:data:`UNMODELLED`).
    """
    table: dict[str, tuple[str, ...]] = {}
    for line in lines:
        parts = line.split()
        if len(parts) < 4:
            continue
        dest, fstype, options = parts[1], parts[2], parts[3].split(",")
        if UNMODELLED.match(dest):
            continue
        if fstype not in ("overlay", "tmpfs", "proc", "sysfs"):
            fstype = "hostfs"
        kept = [o for o in options if o in ("ro", "rw", "nosuid", "nodev", "noexec")]
        if fstype == "tmpfs":
            kept += sorted(o for o in options if o.startswith(("size=", "mode=")))
        table[dest] = (fstype, *kept)
    return table


# ------------------------------------------------------------------ running
@dataclass
class SideRun:
    """What one side showed for a setting."""

    first: str = ""
    diff: list[str] = field(default_factory=list)
    second: str = ""
    second_diff: list[str] = field(default_factory=list)
    fresh: str | None = None


@dataclass
class SettingRun:
    """Both sides of one setting, or why the real one could not run here."""

    setting: Setting
    real: SideRun | None
    rosim: SideRun
    excluded: str | None = None


class Engines:
    """The real engines of one session and the image imported into both."""

    IMAGE = "rosim-probe:1"

    def __init__(self, docker: DockerDaemon, podman: Podman, busybox: bytes) -> None:
        self.docker = docker
        self.podman = podman
        self.tmp = tempfile.mkdtemp(prefix="rosim-runtimes-")
        tar = os.path.join(self.tmp, "rootfs.tar")
        with open(tar, "wb") as f:
            f.write(rootfs_tar(busybox))
        docker.run("import", tar, self.IMAGE)
        podman.run("import", "-q", tar, self.IMAGE)
        self.containers = 0
        self.seconds = 0.0

    def cli(self, engine: str, *args: str, check: bool = True) -> Any:
        start = time.perf_counter()
        tool = self.docker if engine == "docker" else self.podman
        try:
            return tool.run(*args, check=check)
        finally:
            self.seconds += time.perf_counter() - start

    def run_real(self, setting: Setting, index: int) -> SideRun:
        """Run, diff, restart, diff, and for a writable root rm + run, for real."""
        engine = setting.engine
        name = f"rosim-probe-{index}"
        host_dir = tempfile.mkdtemp(prefix="bind-", dir=self.tmp)
        volume = f"rosim-probe-{index}"
        run_flags = [*setting.flags, "-v", f"{volume}:/data", "-v", f"{host_dir}:/srv/bind"]
        if engine == "podman":
            run_flags = [*PODMAN_RUN_FLAGS, *run_flags]
        argv = [*run_flags, self.IMAGE, "/bin/sh", "-c", probe_script()]
        side = SideRun()
        try:
            first = self.cli(engine, "run", "--name", name, *argv, check=False)
            self.containers += 1
            if first.returncode != 0:
                raise EngineError(first.stderr.strip() or f"exit {first.returncode}")
            side.first = first.stdout
            side.diff = sorted(self.cli(engine, "diff", name).stdout.splitlines(),
                               key=lambda line: line[2:])
            side.second = self.cli(engine, "start", "-a", name).stdout
            self.containers += 1
            side.second_diff = sorted(self.cli(engine, "diff", name).stdout.splitlines(),
                                      key=lambda line: line[2:])
            if not setting.read_only and not setting.privileged:
                self.cli(engine, "rm", name)
                side.fresh = self.cli(engine, "run", "--name", name, *argv).stdout
                self.containers += 1
        finally:
            self.cli(engine, "rm", "-f", name, check=False)
            self.cli(engine, "volume", "rm", "-f", volume, check=False)
        return side

    def cleanup(self) -> None:
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


def run_rosim(setting: Setting, image: rosim.Image, index: int) -> SideRun:
    """The same steps in rosim."""

    def changes(ctr: rosim.Container) -> list[str]:
        return [f"{c.kind} {c.path}" for c in ctr.diff()]

    ctr = setting.rosim_container(image, f"rosim-probe-{index}", f"/host/bind-{index}")
    ctr.start()
    side = SideRun(first=ctr.logs(), diff=changes(ctr))
    before = len(ctr.logs())
    ctr.restart()
    side.second = ctr.logs()[before:]
    side.second_diff = changes(ctr)
    if not setting.read_only and not setting.privileged:
        fresh = setting.rosim_container(image, f"rosim-probe-{index}-fresh",
                                        f"/host/bind-{index}-fresh")
        fresh.start()
        side.fresh = fresh.logs()
    return side


#: What a real run that cannot happen on a machine says, and why that is
#: the machine's doing (docs/fidelity.md lists these).
MACHINE_LIMITS = {
    "unable to apply caps": "runc cannot give a privileged container every capability: this "
                            "machine's capability bounding set lacks some",
}


def run_setting(engines: Engines, setting: Setting, image: rosim.Image,
                index: int) -> SettingRun:
    """Both sides of one setting; a machine limit makes it an exclusion."""
    sim = run_rosim(setting, image, index)
    try:
        real = engines.run_real(setting, index)
    except EngineError as exc:
        for needle, reason in MACHINE_LIMITS.items():
            if needle in str(exc):
                return SettingRun(setting, None, sim, excluded=reason)
        raise
    return SettingRun(setting, real, sim)


# ------------------------------------------------------------------ tallying
@dataclass
class Tally:
    """What the session compared, for the summary line."""

    settings: set[str] = field(default_factory=set)
    checks: int = 0
    mismatches: int = 0
    excluded: list[str] = field(default_factory=list)
    containers: int = 0
    seconds: float = 0.0


#: What this session compared (printed by the conftest's summary).
TALLY = Tally()


def compare(setting: str, what: str, real: Any, sim: Any) -> None:
    """Count one check and assert both sides agree."""
    TALLY.settings.add(setting)
    TALLY.checks += 1
    if real != sim:
        TALLY.mismatches += 1
    assert sim == real, f"{setting}: {what}: rosim differs from the real runtime"

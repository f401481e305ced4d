"""Run the same Python code in a real runc container and in a rosim container.

A :class:`Setup` names an image (the dict ``rosim.Image.from_dict`` takes),
a runtime profile with its read-only settings and the user's mounts (rosim
``Tmpfs``/``Bind`` specs). :func:`run_rosim` starts that container in rosim;
:func:`run_real` builds the same container for runc:

* the image's files become an overlay lowerdir; a second, lower "base" layer
  holds only what the harness needs (``/usr`` and the ``/bin``, ``/lib``,
  ``/lib64`` links to it, and bind-mount points such as ``/etc/hostname``),
  so the image never shadows the host's ``/usr`` and runc does not copy up
  the image's ``/etc`` to make a mount point (see :func:`_scaffold`);
* the root is a real overlayfs with an upperdir and a workdir, read-only when
  rosim's root is (``root.readonly``);
* every mount in the rosim container's mount table (``/proc``, ``/dev``,
  ``/sys``, ``/dev/shm``, the profile's tmpfs, the user's tmpfs and volumes,
  the bind-mounted ``/etc/hostname``...) becomes an OCI mount with the same
  options (``ro``, ``nosuid``, ``nodev``, ``noexec``, ``size=``, ``mode=``,
  ``tmpcopyup``); volumes and host paths are empty host directories;
* the host's ``/usr`` is bound read-only so ``/usr/bin/python3`` runs inside.

A *program* is Python source (or a function, whose source is sent) that
defines ``main()`` returning a JSON-able list. The source runs under
``python3 -I -S`` in the container and with ``exec`` inside
``Container.run`` in rosim, so both sides run the same text. The
:data:`PRELUDE` gives programs :func:`outcome`, which turns a call into its
return value or ``"errno:NAME"``.

After the real run the upperdir is turned into ``podman diff``'s A/C/D list
with the rule of ``rosim.fs.overlay.overlay_changes`` (see
:func:`upper_changes`), then everything is unmounted and removed: the caller
never gets a mount or a container left behind.
"""

from __future__ import annotations

import inspect
import itertools
import json
import os
import posixpath
import shutil
import stat
import subprocess
import tempfile
import textwrap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import rosim
from rosim.fs.layers import EntryKind
from rosim.fs.mounts import FsType

#: Seconds any one subprocess (runc, mount, umount) may take.
TIMEOUT = 30.0

SKIP_REASON = "runc or root not available"
REQUIRE_ENV = "ROSIM_REQUIRE_FIDELITY"

_MARK = "@@rosim-fidelity-result@@"
_names = itertools.count(1)

#: Host directories bound read-only into every real container, so that
#: ``/usr/bin/python3`` and its libraries are there.
HOST_BINDS = ("/usr",)
#: Host top-level names that are (on usrmerge systems) links into ``/usr``.
HOST_LINKS = ("bin", "lib", "lib64", "sbin")

#: Capabilities of a Docker/Podman default container.
CAPABILITIES = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
    "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]

PRELUDE = '''
import errno as _errno


def outcome(func, *args, **kwargs):
    """``func(*args, **kwargs)`` as JSON: its value, ``errno:NAME`` or ``exc:Type``."""
    try:
        value = func(*args, **kwargs)
    except OSError as exc:
        if exc.errno is None:
            return "exc:" + type(exc).__name__
        return "errno:" + _errno.errorcode.get(exc.errno, str(exc.errno))
    except Exception as exc:
        return "exc:" + type(exc).__name__
    return plain(value)


def plain(value):
    """A JSON-able copy of ``value`` (bytes as ``b:...``, tuples as lists)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return "b:" + value.decode("latin-1")
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return "repr:" + type(value).__name__
'''


class FidelityError(AssertionError):
    """The real container could not be run: the message carries runc's stderr."""


# --------------------------------------------------------------------- setup
@dataclass(frozen=True)
class Setup:
    """One container configuration, run in rosim and in runc alike."""

    name: str
    image: Mapping[str, Any]
    profile: str = "cri-o"
    read_only: bool = False
    container_read_only: bool | None = None
    read_only_tmpfs: bool = True
    mounts: tuple[Any, ...] = ()
    hostname: str = "fidelity"

    def rosim_image(self) -> rosim.Image:
        return rosim.Image.from_dict(f"fidelity-{self.name}", dict(self.image))


def host_memory() -> int:
    """The host's MemTotal in bytes: a tmpfs without ``size=`` gets half of it."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no MemTotal in /proc/meminfo")


def start_rosim(setup: Setup) -> rosim.Container:
    """Create and start the rosim container for ``setup``."""
    rt = rosim.Runtime(setup.profile, read_only=setup.read_only,
                       read_only_tmpfs=setup.read_only_tmpfs, memory=host_memory())
    ctr = rt.create(setup.rosim_image(), name=setup.hostname, mounts=list(setup.mounts),
                    read_only=setup.container_read_only)
    ctr.start()
    return ctr


# ------------------------------------------------------------------ programs
def program_source(program: str | Callable[[], Any]) -> str:
    """The text of a program: source text as is, a function's source plus ``main``."""
    if isinstance(program, str):
        body = textwrap.dedent(program)
    else:
        body = textwrap.dedent(inspect.getsource(program))
        if program.__name__ != "main":
            body += f"\n\nmain = {program.__name__}\n"
    return PRELUDE + "\n" + body


def run_rosim(setup: Setup, program: str | Callable[[], Any]) -> tuple[Any, rosim.Container]:
    """Run ``program`` in a fresh rosim container; return ``main()``'s JSON and the container."""
    source = program_source(program)
    ctr = start_rosim(setup)

    def entry() -> Any:
        ns: dict[str, Any] = {"__name__": "__fidelity__"}
        exec(compile(source, "<fidelity>", "exec"), ns)
        return ns["main"]()

    result = ctr.run(entry)
    # Same round trip as the real side: tuples become lists, and so on.
    return json.loads(json.dumps(result)), ctr


# ------------------------------------------------------------- availability
def availability() -> str | None:
    """``None`` when real containers can run here, else why not."""
    if os.geteuid() != 0:
        return f"{SKIP_REASON}: not running as root"
    if shutil.which("runc") is None:
        return f"{SKIP_REASON}: runc not found on PATH"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return f"{SKIP_REASON}: mount/umount not found on PATH"
    if not os.path.exists("/usr/bin/python3"):
        return f"{SKIP_REASON}: /usr/bin/python3 not found"
    return None


# ----------------------------------------------------------------- real run
def _sh(args: list[str], what: str, *, input: bytes | None = None,
        timeout: float = TIMEOUT, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(args, input=input, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        stderr = (exc.stderr or b"").decode(errors="replace")
        raise FidelityError(
            f"{what}: `{' '.join(args[:3])} ...` did not finish within {timeout:g} s.\n"
            f"stderr:\n{stderr}"
        ) from None
    except FileNotFoundError as exc:
        raise FidelityError(f"{what}: {args[0]!r} is not installed ({exc}).") from None
    if check and proc.returncode != 0:
        raise FidelityError(
            f"{what}: `{' '.join(args)}` exited with {proc.returncode}.\n"
            f"stderr:\n{proc.stderr.decode(errors='replace')}\n"
            f"stdout:\n{proc.stdout.decode(errors='replace')[-4000:]}"
        )
    return proc


def _materialise(image: rosim.Image, lower: str) -> None:
    """Write the image's merged tree into ``lower`` with its modes."""
    tree = image.tree
    for path in sorted(tree.paths()):
        entry = tree.entry(path)
        assert entry is not None
        target = lower + path
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if entry.kind is EntryKind.DIR:
            os.makedirs(target, exist_ok=True)
            os.chmod(target, entry.mode)
        elif entry.kind is EntryKind.SYMLINK:
            os.symlink(entry.target, target)
        elif entry.kind is EntryKind.FILE:
            with open(target, "wb") as f:
                if entry.data is not None:
                    f.write(entry.data)
                else:
                    f.truncate(entry.size)
            os.chmod(target, entry.mode)
        os.lchown(target, entry.uid, entry.gid)


def _scaffold(base: str, mounts: list[rosim.MountEntry], image: rosim.Image
              ) -> tuple[set[str], list[str]]:
    """Make the base layer: links into /usr and the mount points runc must not make.

    runc creates a missing mount point itself, in the root (so in the upperdir).
    That is what a runtime does, so tmpfs mount points are left to runc: runc
    also chmods a tmpfs to the mode of the directory it covers, when there is
    one, and a made-up directory would change that. Bind-mount points (files
    such as ``/etc/hostname``, volume directories), ``/proc``, ``/sys`` and
    ``/usr`` go into the base layer, below the image, so that runc does not
    copy up the image's ``/etc`` to make them.

    Returns the paths that are not the image's (base-layer paths and missing
    tmpfs mount points with their missing parents) and the host directories
    to bind read-only (``/usr``, and ``/bin``, ``/lib``... where they are not
    links into ``/usr``).
    """
    made: set[str] = set()
    binds = list(HOST_BINDS)

    def mkdirs(path: str, create: bool = True) -> None:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            sub = "/" + "/".join(parts[:i])
            if image.tree.entry(sub) is None:
                made.add(sub)
            if create and not os.path.isdir(base + sub):
                os.mkdir(base + sub, 0o755)
                os.chmod(base + sub, 0o755)

    for host in HOST_BINDS:
        mkdirs(host)
    for name in HOST_LINKS:
        host = "/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), base + host)
        elif os.path.isdir(host):
            mkdirs(host)
            binds.append(host)
        else:
            continue
        made.add(host)
    destinations = [m.destination for m in mounts if m.destination != "/"]
    for entry in mounts:
        dest = entry.destination
        if dest == "/":
            continue
        # A mount point inside another mount is made there by runc, not in the root.
        if any(dest.startswith(d + "/") for d in destinations if d != dest):
            continue
        tree_entry = image.tree.entry(dest)
        if tree_entry is not None and tree_entry.kind is EntryKind.SYMLINK:
            continue
        if entry.fstype is FsType.TMPFS:
            mkdirs(dest, create=False)
        elif entry.fstype is FsType.BIND and entry.origin == "runtime":
            mkdirs(posixpath.dirname(dest))
            if tree_entry is None:
                open(base + dest, "wb").close()
                os.chmod(base + dest, 0o644)
                made.add(dest)
        else:
            mkdirs(dest)
    return made, binds


def _oci_options(opts: rosim.MountOptions, *, tmpfs: bool) -> list[str]:
    out = ["ro" if opts.read_only else "rw"]
    out += [name for name in ("nosuid", "nodev", "noexec") if getattr(opts, name)]
    if tmpfs:
        if opts.size is not None:
            out.append(f"size={opts.size}")
        if opts.nr_inodes is not None:
            out.append(f"nr_inodes={opts.nr_inodes}")
        if opts.mode is not None:
            out.append(f"mode={opts.mode:o}")
        if opts.tmpcopyup:
            out.append("tmpcopyup")
    if opts.propagation:
        out.append(opts.propagation)
    return out


#: The mounts every runtime's default spec puts in ``/dev`` besides ``/dev/shm``
#: (Docker, Podman, CRI-O and ``runc spec``), which rosim shows as directories
#: rather than mounts; without ``gid=5``, which the one-uid user namespace
#: here cannot map (runc's rootless spec drops it too).
RUNTIME_DEV_MOUNTS = (
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
)


def _oci_mounts(setup: Setup, ctr: rosim.Container, state_dir: str,
                host_binds: list[str]) -> list[dict[str, Any]]:
    """The rosim container's mount table as OCI mounts (plus the host's /usr).

    A file the runtime bind-mounts (``/etc/hostname``...) gets the content
    rosim shows there; a volume or host path is an empty host directory.
    """
    out: list[dict[str, Any]] = []
    files = os.path.join(state_dir, "files")
    volumes = os.path.join(state_dir, "volumes")
    os.makedirs(files)
    os.makedirs(volumes)
    user_binds = {m.destination: m for m in setup.mounts if isinstance(m, rosim.Bind)}
    for i, entry in enumerate(ctr.mounts):
        dest = entry.destination
        if dest == "/":
            continue
        opts = entry.options
        if entry.fstype is FsType.PROC:
            out.append({"destination": dest, "type": "proc", "source": "proc",
                        "options": _oci_options(opts, tmpfs=False)})
        elif entry.fstype is FsType.SYSFS:
            # Without a network namespace sysfs cannot be mounted afresh:
            # runc's rootless spec binds the host's /sys instead.
            out.append({"destination": dest, "type": "bind", "source": "/sys",
                        "options": ["rbind", *_oci_options(opts, tmpfs=False)]})
        elif entry.fstype is FsType.TMPFS:
            out.append({"destination": dest, "type": "tmpfs", "source": entry.source,
                        "options": _oci_options(opts, tmpfs=True)})
            if dest == "/dev" and entry.origin == "runtime":
                out += RUNTIME_DEV_MOUNTS
        elif entry.fstype is FsType.BIND:
            user = user_binds.get(dest)
            if user is None:
                source = os.path.join(files, f"{i}-{posixpath.basename(dest)}")
                with open(source, "wb") as f:
                    f.write(ctr.run(_read_bytes, dest))
                os.chmod(source, 0o644)
            else:
                key = (f"volume-{user.source.name}" if isinstance(user.source, rosim.Volume)
                       else "host-" + user.source.strip("/").replace("/", "_"))
                source = os.path.join(volumes, key)
                os.makedirs(source, mode=0o755, exist_ok=True)
            out.append({"destination": dest, "type": "bind", "source": source,
                        "options": ["rbind", *_oci_options(opts, tmpfs=False)]})
        else:  # pragma: no cover - a new fstype needs a translation here
            raise FidelityError(f"no OCI translation for {entry.fstype} at {dest}")
    for host in host_binds:
        out.append({"destination": host, "type": "bind", "source": host,
                    "options": ["rbind", "ro", "nosuid", "nodev"]})
    return out


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _spec(setup: Setup, ctr: rosim.Container, rootfs: str, state_dir: str,
          host_binds: list[str]) -> dict[str, Any]:
    caps = list(CAPABILITIES)
    return {
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": ["/usr/bin/python3", "-I", "-S", "-c",
                     "import sys; exec(compile(sys.stdin.read(), '<fidelity>', 'exec'))"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0"],
            "cwd": "/",
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": ctr.read_only},
        "hostname": ctr.name,
        "mounts": _oci_mounts(setup, ctr, state_dir, host_binds),
        "linux": {
            "uidMappings": [{"containerID": 0, "hostID": 0, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 0, "size": 1}],
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "user")],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"],
        },
    }


@dataclass
class RealRun:
    """What a real run returned: ``main()``'s JSON, the upper layer's changes."""

    result: Any
    changes: list[tuple[str, str]]
    stderr: str
    upper_listing: list[str] = field(default_factory=list)


def _mounted_under(prefix: str) -> list[str]:
    """Mount points below ``prefix`` in this (host) mount namespace, deepest first."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix.rstrip("/") + "/"):
                points.append(point)
    return sorted(points, key=len, reverse=True)


def run_real(setup: Setup, program: str | Callable[[], Any], *,
             timeout: float = TIMEOUT) -> RealRun:
    """Run ``program`` in a real runc container built like rosim's for ``setup``."""
    reason = availability()
    if reason is not None:
        raise FidelityError(reason)
    source = program_source(program)
    source += f"\nimport json as _json, sys as _sys\n_sys.stdout.write({_MARK!r} + " \
              "_json.dumps(main()) + '\\n')\n"
    ctr = start_rosim(setup)  # the mount table to reproduce
    image = ctr.image
    work = tempfile.mkdtemp(prefix=f"rosim-fidelity-{os.getpid()}-")
    name = f"rosim-fidelity-{os.getpid()}-{next(_names)}"
    lower, base = os.path.join(work, "lower"), os.path.join(work, "base")
    upper, ovl_work = os.path.join(work, "upper"), os.path.join(work, "work")
    rootfs = os.path.join(work, "rootfs")
    created = False
    try:
        for d in (lower, base, upper, ovl_work, rootfs):
            os.mkdir(d)
            os.chmod(d, 0o755)
        _materialise(image, lower)
        scaffold, host_binds = _scaffold(base, ctr.mounts, image)
        _sh(["mount", "-t", "overlay", "overlay", "-o",
             f"lowerdir={lower}:{base},upperdir={upper},workdir={ovl_work}", rootfs],
            "mounting the overlay root")
        bundle = os.path.join(work, "bundle")
        os.mkdir(bundle)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(_spec(setup, ctr, rootfs, work, host_binds), f, indent=1)
        created = True
        proc = _sh(["runc", "run", "--bundle", bundle, name], f"runc run {name}",
                   input=source.encode(), timeout=timeout, check=False)
        stdout = proc.stdout.decode(errors="replace")
        stderr = proc.stderr.decode(errors="replace")
        line = next((ln for ln in stdout.splitlines() if ln.startswith(_MARK)), None)
        if proc.returncode != 0 or line is None:
            raise FidelityError(
                f"runc run {name} exited with {proc.returncode} and "
                f"{'no' if line is None else 'a'} result.\nstderr:\n{stderr}\n"
                f"stdout:\n{stdout[-4000:]}"
            )
        result = json.loads(line[len(_MARK):])
        changes = upper_changes(upper, image, scaffold)
        listing = sorted(
            os.path.relpath(os.path.join(d, n), upper)
            for d, dirs, names in os.walk(upper) for n in dirs + names
        )
        return RealRun(result, changes, stderr, listing)
    finally:
        _cleanup(name if created else None, work)


def _quiet(args: list[str]) -> tuple[int, str]:
    """Run a clean-up command; never raise, never hang."""
    try:
        proc = subprocess.run(args, capture_output=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return -1, str(exc)
    return proc.returncode, proc.stderr.decode(errors="replace")


def _cleanup(name: str | None, work: str) -> None:
    """Delete the container, unmount everything below ``work``, remove ``work``."""
    problems = []
    if name is not None:
        code, err = _quiet(["runc", "delete", "--force", name])
        if code != 0 and "does not exist" not in err:
            problems.append(f"runc delete --force {name}: {err}")
    for point in _mounted_under(work):
        code, err = _quiet(["umount", point])
        if code != 0:
            code, err = _quiet(["umount", "-l", point])
            if code != 0:
                problems.append(f"umount {point}: {err}")
    if not _mounted_under(work):
        shutil.rmtree(work, ignore_errors=True)
    else:
        problems.append(f"{work} is still mounted; not removed")
    if problems:
        raise FidelityError("cleanup failed:\n" + "\n".join(problems))


def leftovers() -> list[str]:
    """Mounts or runc containers of this session still present on the host.

    Only this process's own runs count (their directories and container
    names carry its pid), so a concurrent session on the same host does not.
    """
    found = []
    own = f"/rosim-fidelity-{os.getpid()}-"
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if own in point:
                found.append(f"mount {point}")
    try:
        proc = subprocess.run(["runc", "list", "-q"], capture_output=True, text=True,
                              timeout=TIMEOUT)
        found += [f"container {n}" for n in proc.stdout.split()
                  if n.startswith(f"rosim-fidelity-{os.getpid()}-")]
    except (OSError, subprocess.TimeoutExpired):
        pass
    return found


# ------------------------------------------------------------------- diff
def _is_opaque(path: str) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def upper_changes(upper: str, image: rosim.Image,
                  scaffold: Iterable[str] = ()) -> list[tuple[str, str]]:
    """An overlay upperdir as ``podman diff`` lists it, by rosim's documented rule.

    A whiteout (character device 0/0) is ``D``; an opaque directory over a
    directory of the image is ``D``; any other upper entry is ``C`` if the
    image has that path and ``A`` if not. Upper entries that exist only in
    the harness's base layer (mount points, the links into ``/usr``) are
    left out, as rosim leaves out the directories a runtime creates for its
    mount points; what lies below them is listed.
    """
    tree = image.tree
    base = set(scaffold)
    changes: list[tuple[str, str]] = []

    def walk(host_dir: str, path: str) -> None:
        for name in sorted(os.listdir(host_dir)):
            host = os.path.join(host_dir, name)
            cpath = path.rstrip("/") + "/" + name
            st = os.lstat(host)
            in_image = tree.entry(cpath) is not None
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                changes.append(("D", cpath))
                continue
            if stat.S_ISDIR(st.st_mode):
                lower_dir = in_image and tree.entry(cpath).kind is EntryKind.DIR
                if _is_opaque(host) and lower_dir:
                    changes.append(("D", cpath))
                elif in_image or cpath not in base:
                    changes.append(("C" if in_image else "A", cpath))
                walk(host, cpath)
                continue
            if in_image or cpath not in base:
                changes.append(("C" if in_image else "A", cpath))

    walk(upper, "/")
    return sorted(changes, key=lambda c: c[1])


def rosim_changes(ctr: rosim.Container) -> list[tuple[str, str]]:
    """rosim's upper layer read entry by entry, as :func:`upper_changes` reads the real one.

    ``Container.diff()`` is what ``podman diff``/``docker diff`` show on top of
    that (mount points, hidden paths); ``tests/runtimes`` compares it with them.
    """
    from rosim.fs.overlay import DiffStyle, overlay_changes

    if ctr._root is None:
        return []
    changes = overlay_changes(ctr._root, ctr._upper.dev, DiffStyle.UPPER)
    return sorted(((str(c.kind), c.path) for c in changes), key=lambda c: c[1])


# ------------------------------------------------------------ /proc/mounts
#: The per-mount flags compared in /proc/mounts.
PROC_FLAGS = ("ro", "rw", "nosuid", "nodev", "noexec")


def proc_mounts_view(text: str, destinations: Iterable[str],
                     bind_destinations: Iterable[str] = ()) -> list[str]:
    """The /proc/mounts lines of ``destinations``, normalised for comparison.

    Kept: the destination, the fstype, the flags ro/rw, nosuid, nodev,
    noexec and, for tmpfs, ``size=``/``mode=``. Sources differ legitimately
    (host paths), as do overlay's lowerdir/upperdir/workdir paths, which are
    reduced to their names. A bind mount's fstype is the host file system
    holding its source, reported as ``bind``. Mounts rosim does not model
    (``/dev/pts``, ``/dev/mqueue``, the host's ``/usr``...) are dropped; where
    a destination is mounted twice the last (visible) one is kept.
    """
    wanted = set(destinations)
    binds = set(bind_destinations)
    seen: dict[str, str] = {}
    order: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        _source, dest, fstype, options = fields[:4]
        dest = dest.replace("\\040", " ")
        if dest not in wanted:
            continue
        opts = options.split(",")
        kept = [o for o in opts if o in PROC_FLAGS]
        if fstype == "tmpfs":
            kept += sorted(o for o in opts if o.startswith(("size=", "mode=")))
        if fstype == "overlay":
            kept += sorted(o.split("=")[0] + "=..." for o in opts
                           if o.startswith(("lowerdir=", "upperdir=", "workdir=")))
        if dest in binds:
            fstype = "bind"
        if dest not in seen:
            order.append(dest)
        seen[dest] = f"{dest} {fstype} {','.join(kept)}"
    return [seen[d] for d in order]

"""Mount specifications: tmpfs, bind mounts of volumes or host paths, options.

These are frozen specifications, validated on construction. Options are the
OCI runtime spec's strings (``ro``, ``rw``, ``noexec``, ``exec``, ``nosuid``,
``nodev``, ``size=``, ``mode=``, ``tmpcopyup``, ...) and are parsed into a
:class:`MountOptions` record.

>>> opts = Tmpfs("/scratch", size="64k", options=("noexec",)).parsed
>>> opts.noexec, opts.size, opts.read_only
(True, 65536, False)
>>> Bind(Volume("data"), "/data", read_only=True).parsed.read_only
True
>>> Tmpfs("/tmp", options=("ro", "rw"))
Traceback (most recent call last):
...
rosim._errors.MountOptionError: options(=('ro', 'rw')) contradict each other: 'ro' and 'rw'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from rosim._bounds import RosimEnum
from rosim._errors import ConfigError, MountOptionError
from rosim.fs.paths import container_path
from rosim.fs.sizes import parse_size

__all__ = [
    "Bind",
    "FsType",
    "MountOptions",
    "Tmpfs",
    "Volume",
    "parse_options",
]

_FLAG_PAIRS = {
    "ro": ("read_only", True),
    "rw": ("read_only", False),
    "noexec": ("noexec", True),
    "exec": ("noexec", False),
    "nosuid": ("nosuid", True),
    "suid": ("nosuid", False),
    "nodev": ("nodev", True),
    "dev": ("nodev", False),
    "tmpcopyup": ("tmpcopyup", True),
    "notmpcopyup": ("tmpcopyup", False),
}
_PROPAGATION = {"private", "rprivate", "shared", "rshared", "slave", "rslave"}
_IGNORED = {"bind", "rbind", "relatime", "norelatime", "noatime", "strictatime", "z", "Z"}
_VALUED = {"size", "mode", "uid", "gid", "nr_inodes"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class FsType(RosimEnum):
    """File system types that appear in a container's mount table."""

    OVERLAY = "overlay"
    TMPFS = "tmpfs"
    PROC = "proc"
    SYSFS = "sysfs"
    BIND = "bind"


@dataclass(frozen=True)
class MountOptions:
    """Parsed mount options: the flags the kernel enforces, plus tmpfs sizing."""

    read_only: bool = False
    noexec: bool = False
    nosuid: bool = False
    nodev: bool = False
    size: int | None = None
    mode: int | None = None
    tmpcopyup: bool = False
    propagation: str | None = None
    #: tmpfs ``nr_inodes=``: how many files, directories and links it can hold.
    nr_inodes: int | None = None

    def kernel_flags(self) -> list[str]:
        """Return the per-mount flags in the order ``/proc/mounts`` prints them."""
        flags = ["ro" if self.read_only else "rw"]
        flags += [name for name in ("nosuid", "nodev", "noexec") if getattr(self, name)]
        return flags

    def merged(self, extra: tuple[str, ...]) -> MountOptions:
        """Return these options with ``extra`` option strings applied on top."""
        return parse_options(extra, base=self)


#: The options of a mount given none (frozen, so shared).
_NO_OPTIONS = MountOptions()


def _parse_mode(value: object, field_name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        mode = value
    elif isinstance(value, str) and re.fullmatch(r"[0-7]{1,4}", value):
        mode = int(value, 8)
    else:
        raise MountOptionError(
            f"{field_name}(={value!r}) must be an octal mode such as '1777' or 0o755."
        )
    if not 0 <= mode <= 0o7777:
        raise MountOptionError(f"{field_name}(={value!r}) must be between 0 and 0o7777.")
    return mode


def parse_options(
    options: tuple[str, ...] | list[str], *, base: MountOptions | None = None,
    field_name: str = "options", allow_size: bool = True,
) -> MountOptions:
    """Parse OCI mount option strings into :class:`MountOptions`.

    Raises :class:`MountOptionError` for unknown options, malformed values
    and contradictions (``ro`` with ``rw``, ``exec`` with ``noexec``).
    """
    if isinstance(options, str) or not isinstance(options, tuple | list):
        raise MountOptionError(
            f"{field_name}(={options!r}) must be a tuple of option strings like ('ro', 'noexec')."
        )
    if not options:
        return base or _NO_OPTIONS
    values: dict[str, object] = {}
    seen: dict[str, str] = {}
    for option in options:
        if not isinstance(option, str):
            raise MountOptionError(f"{field_name} contains {option!r}, which is not a str.")
        if "=" in option:
            key, _, raw = option.partition("=")
            if key not in _VALUED:
                raise MountOptionError(
                    f"{field_name} contains unknown option {option!r}; valued options are "
                    + ", ".join(f"'{k}='" for k in sorted(_VALUED)) + "."
                )
            if key == "size":
                if not allow_size:
                    raise MountOptionError(
                        f"{field_name} contains {option!r}, but only tmpfs mounts take a size."
                    )
                values["size"] = parse_size(raw, field=f"{field_name} {option!r}")
            elif key == "mode":
                values["mode"] = _parse_mode(raw, f"{field_name} {option!r}")
            elif key == "nr_inodes":
                count = parse_size(raw, field=f"{field_name} {option!r}")
                if count < 1:
                    raise MountOptionError(
                        f"{field_name} contains {option!r}; nr_inodes must be at least 1.")
                values["nr_inodes"] = count
            continue
        if option in _PROPAGATION:
            values["propagation"] = option
            continue
        if option in _IGNORED:
            continue
        if option not in _FLAG_PAIRS:
            known = sorted(set(_FLAG_PAIRS) | _PROPAGATION | _IGNORED)
            raise MountOptionError(
                f"{field_name} contains unknown option {option!r}; known options: "
                + ", ".join(known) + ", size=, mode=."
            )
        attr, value = _FLAG_PAIRS[option]
        if attr in seen and values[attr] != value:
            raise MountOptionError(
                f"{field_name}(={tuple(options)!r}) contradict each other: "
                f"{seen[attr]!r} and {option!r}."
            )
        seen[attr] = option
        values[attr] = value
    return replace(base or MountOptions(), **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Volume:
    """Named storage that outlives containers, like ``podman volume create NAME``.

    With ``scope="node"`` (the default) the volume belongs to the
    :class:`~rosim.Runtime` (the host) that mounts it: every container of that
    runtime mounting ``Volume("data")`` sees the same files, and a container
    on another host does not. ``scope="cluster"`` is network storage (an NFS
    share, a cloud disk behind a PersistentVolume): every runtime sees the
    same files, so the data follows a pod to another node. ``scope="disk"`` is a
    disk of its own on the host (a local PersistentVolume): its bytes do not
    count against the host's main disk. ``medium="Memory"``
    keeps the files in a tmpfs of ``size`` bytes (half the host's memory if
    not given), as a Kubernetes ``emptyDir`` with ``medium: Memory``.
    """

    name: str
    scope: str = "node"
    medium: str = ""
    size: int | str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigError(
                f"Volume name(={self.name!r}) must match [A-Za-z0-9][A-Za-z0-9_.-]*."
            )
        if self.scope not in ("node", "cluster", "disk"):
            raise ConfigError(f"Volume scope(={self.scope!r}) must be 'node', 'cluster' "
                              "or 'disk'.")
        if self.medium not in ("", "Memory"):
            raise ConfigError(f"Volume medium(={self.medium!r}) must be '' or 'Memory'.")
        if self.size is not None:
            object.__setattr__(self, "size", parse_size(self.size, field="Volume size"))


@dataclass(frozen=True)
class Tmpfs:
    """A tmpfs mount at ``destination``: memory-backed, emptied on every start.

    ``size`` (``'64k'``, ``'10M'``, bytes) limits it: writes past it fail with
    ``ENOSPC``. ``mode`` is the root directory's mode (default 1777).
    ``options`` are OCI option strings such as ``('noexec', 'nosuid')``.
    """

    destination: str
    size: int | str | None = None
    mode: int | str | None = None
    options: tuple[str, ...] = ()
    parsed: MountOptions = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "destination", container_path(self.destination,
                                                               field="Tmpfs destination"))
        parsed = parse_options(self.options, field_name="options")
        if self.size is not None:
            parsed = replace(parsed, size=parse_size(self.size, field="size"))
        if self.mode is not None:
            parsed = replace(parsed, mode=_parse_mode(self.mode, "mode"))
        object.__setattr__(self, "parsed", parsed)


@dataclass(frozen=True)
class Bind:
    """A bind mount of a :class:`Volume` or a host path at ``destination``.

    A host path (a ``str`` such as ``'/srv/data'``) names a directory of the
    simulated host, kept inside the simulation — never the real machine's.
    ``sub_path`` mounts a directory inside the source (Kubernetes ``subPath``),
    created if missing.
    ``read_only=True`` or the ``'ro'`` option makes writes fail with ``EROFS``.
    """

    source: Volume | str
    destination: str
    read_only: bool = False
    options: tuple[str, ...] = ()
    sub_path: str = ""
    parsed: MountOptions = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.source, str):
            object.__setattr__(self, "source", container_path(self.source,
                                                              field="Bind source"))
        elif not isinstance(self.source, Volume):
            raise ConfigError(
                f"Bind source(={self.source!r}) must be a Volume or a host path str."
            )
        object.__setattr__(self, "destination", container_path(self.destination,
                                                               field="Bind destination"))
        if not isinstance(self.read_only, bool):
            raise ConfigError(f"Bind read_only(={self.read_only!r}) must be a bool.")
        if not isinstance(self.sub_path, str) or self.sub_path.startswith("/") or (
            ".." in self.sub_path.split("/")
        ):
            raise ConfigError(f"Bind sub_path(={self.sub_path!r}) must be a relative path "
                              "without '..'.")
        parsed = parse_options(self.options, field_name="options", allow_size=False)
        if self.read_only:
            if "rw" in self.options:
                raise MountOptionError(
                    f"options(={self.options!r}) contain 'rw' but read_only=True."
                )
            parsed = replace(parsed, read_only=True)
        object.__setattr__(self, "parsed", parsed)

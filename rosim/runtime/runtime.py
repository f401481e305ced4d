"""Runtimes: CRI-O, Podman and Docker as a learner configures them.

>>> import rosim
>>> rt = rosim.Runtime("cri-o", read_only=True)
>>> ctr = rt.create(rosim.Image.from_dict("demo", {"/etc/motd": "hi\\n"}), name="web")
>>> ctr.start()
>>> [(m.destination, m.read_only) for m in ctr.mounts if m.fstype == "tmpfs"]
[('/dev', False), ('/dev/shm', False), ('/run', False), ('/tmp', False), ('/var/tmp', False)]
"""

from __future__ import annotations

import itertools
import posixpath
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pyfakefs.fake_file import FakeDirectory

from rosim._errors import ConfigError, MountConflictError, UnknownProfileError
from rosim.fs.layers import EntryKind, Image
from rosim.fs.mounts import Bind, FsType, Tmpfs, Volume
from rosim.fs.paths import container_path
from rosim.fs.sizes import parse_size
from rosim.runtime.container import Container, ContainerState
from rosim.runtime.profiles import (
    PlannedMount,
    Profile,
    default_mounts,
    user_tmpfs_options,
    user_volume_options,
)

__all__ = ["Runtime"]

_serials = itertools.count(1)
#: Storage of the volumes with ``scope="cluster"`` for runtimes that are not
#: given a ``network`` of their own: one per name, seen by all of them.
_NETWORK_VOLUMES: dict[str, FakeDirectory] = {}


class Runtime:
    """A container runtime on one simulated host.

    ``profile`` is ``'cri-o'``, ``'podman'`` or ``'docker'``. ``read_only``
    is CRI-O's global ``--read-only`` flag, or for Podman and Docker the
    default of ``--read-only`` for the containers it creates.
    ``read_only_tmpfs`` is Podman's ``--read-only-tmpfs`` (default true).
    ``memory`` sizes the host's RAM: a tmpfs without ``size=`` may use half.
    ``disk`` is the host disk's size, shared by the writable layers, volumes
    and host paths (``ENOSPC`` for everyone when it is full); ``overlay_size``
    is containers/storage's ``overlay.size=`` quota on each writable layer.
    ``network`` is the network storage (``Volume(scope="cluster")``) this host
    shares with others: a :class:`~rosim.Cluster` gives its nodes one of their
    own; by default all standalone runtimes share one.

    The runtime owns the host's named volumes and host paths: every container
    it creates that mounts ``Volume('data')`` sees the same files.
    """

    def __init__(self, profile: str, read_only: bool = False, *,
                 read_only_tmpfs: bool = True, memory: int | str = "16Gi",
                 disk: int | str | None = None, overlay_size: int | str | None = None,
                 network: dict[str, FakeDirectory] | None = None) -> None:
        try:
            self.profile = Profile(profile)
        except ValueError:
            known = ", ".join(repr(p.value) for p in sorted(Profile, key=lambda p: p.value))
            raise UnknownProfileError(f"profile(={profile!r}) must be one of {known}.") from None
        for field, value in (("read_only", read_only), ("read_only_tmpfs", read_only_tmpfs)):
            if not isinstance(value, bool):
                raise ConfigError(f"{field}(={value!r}) must be a bool.")
        self.read_only = read_only
        self.read_only_tmpfs = read_only_tmpfs
        self.memory = parse_size(memory, field="memory")
        self.network = network if network is not None else _NETWORK_VOLUMES
        from rosim.fs.kernel import kernel

        #: The host's disk: writable layers, volumes and host paths share it.
        self.disk = kernel().new_device(
            FsType.BIND, parse_size(disk, field="disk") if disk is not None else None)
        #: containers/storage ``overlay.size``: a quota on each writable layer.
        self.overlay_size = (parse_size(overlay_size, field="overlay_size")
                             if overlay_size is not None else None)
        self.serial = next(_serials)
        self.containers: dict[str, Container] = {}
        self._volumes: dict[str, FakeDirectory] = {}
        self._host_paths: dict[str, FakeDirectory] = {}
        #: Files of the host that bind mounts can target (see :meth:`host_file`).
        self._host_files: dict[str, Any] = {}
        self._memory: dict[str, FakeDirectory] = {}
        self._names = itertools.count(1)

    def __repr__(self) -> str:
        return (f"Runtime({str(self.profile)!r}, read_only={self.read_only}, "
                f"containers={len(self.containers)})")

    def create(self, image: Image, name: str | None = None,
               mounts: Iterable[Tmpfs | Bind] = (), *, read_only: bool | None = None,
               privileged: bool = False, command: list[str] | None = None,
               args: list[str] | None = None, env: dict[str, str] | None = None,
               workdir: str | None = None, hostname: str | None = None,
               user: int | None = None, pod_shm: str | None = None) -> Container:
        """Create (not start) a container from ``image`` with extra ``mounts``.

        ``read_only`` is the container's own setting (Kubernetes
        ``readOnlyRootFilesystem``): for CRI-O it can make the root read-only
        but cannot undo the global flag; for Podman and Docker it overrides
        the runtime's default. ``command`` and ``args`` replace the image's
        entrypoint and cmd as Kubernetes' fields do; ``env`` adds variables.
        ``user`` is the uid the processes run as (``--user``, ``runAsUser``;
        its group is the same number); the default is root (0). A non-root
        user needs the mode bits: it cannot write the root-owned ``/dev``
        (0755) or a volume's root-owned directory, only ``/tmp``-like 1777
        places and what it owns. ``pod_shm`` names the CRI-O pod the
        container belongs to: the pod's containers share its ``/dev/shm``.
        Raises :class:`~rosim.ConfigError` subclasses for bad names, mounts
        and options.
        """
        if not isinstance(image, Image):
            raise ConfigError(f"image(={image!r}) must be a rosim.Image.")
        if name is None:
            name = f"{image.name.split(':')[0].split('/')[-1]}-{next(self._names)}"
        if not isinstance(name, str) or not name or "/" in name or "\0" in name:
            raise ConfigError(f"name(={name!r}) must be a non-empty str without '/'.")
        if name in self.containers:
            raise ConfigError(f"name(={name!r}) is already used by a container of this runtime.")
        if read_only is not None and not isinstance(read_only, bool):
            raise ConfigError(f"read_only(={read_only!r}) must be a bool or None.")
        if not isinstance(privileged, bool):
            raise ConfigError(f"privileged(={privileged!r}) must be a bool.")
        if self.profile is Profile.CRIO:
            root_ro = self.read_only or bool(read_only)
        else:
            root_ro = self.read_only if read_only is None else read_only
        user_mounts = self._user_mounts(image, list(mounts))
        plan = default_mounts(
            self.profile, root_read_only=root_ro, global_read_only=self.read_only,
            read_only_tmpfs=self.read_only_tmpfs, privileged=privileged,
            taken={m.destination for m in user_mounts}, hostname=hostname or name,
            pod_shm=pod_shm,
        )
        # The runtime's mounts first, the user's (parents before children)
        # next, the runtime's bind-mounted files last, as /proc/mounts shows.
        user_mounts.sort(key=lambda m: m.destination.count("/"))
        plan = ([m for m in plan if m.kind != "file"] + user_mounts
                + [m for m in plan if m.kind == "file"])
        for field_name, value in (("command", command), ("args", args)):
            if value is not None and (isinstance(value, str) or not all(
                    isinstance(v, str) for v in value)):
                raise ConfigError(f"{field_name}(={value!r}) must be a list of str.")
        if env is not None and (not isinstance(env, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
            raise ConfigError(f"env(={env!r}) must be a dict of str to str.")
        if command is not None:
            argv = [*command, *(args or [])]
        else:
            argv = [*image.config.entrypoint, *(args if args is not None else image.config.cmd)]
        if user is not None and (isinstance(user, bool) or not isinstance(user, int)
                                 or not 0 <= user < 2**32):
            raise ConfigError(f"user(={user!r}) must be a uid, an int from 0 to 4294967295.")
        ctr = Container(self, image, name, plan, root_ro, privileged)
        ctr.user = ctr.user_group = user or 0
        ctr.argv = argv
        ctr.env = {**dict(image.config.env), **(env or {})}
        ctr.workdir = (container_path(workdir, field="workdir") if workdir is not None
                       else image.config.workdir)
        self.containers[name] = ctr
        return ctr

    def _user_mounts(self, image: Image, mounts: list[Tmpfs | Bind]) -> list[PlannedMount]:
        planned: list[PlannedMount] = []
        seen: set[str] = set()
        for i, mount in enumerate(mounts):
            if not isinstance(mount, Tmpfs | Bind):
                raise ConfigError(f"mounts[{i}](={mount!r}) must be a rosim.Tmpfs or rosim.Bind.")
            dest = mount.destination
            if dest == "/":
                raise MountConflictError(f"mounts[{i}].destination(={dest!r}) cannot be '/'.")
            if dest in seen:
                raise MountConflictError(
                    f"mounts[{i}].destination(={dest!r}) is already the destination of "
                    "another mount."
                )
            if dest == "/proc" or dest.startswith(("/proc/", "/sys/")) or dest == "/sys":
                raise MountConflictError(
                    f"mounts[{i}].destination(={dest!r}) is inside /proc or /sys."
                )
            seen.add(dest)
            host_file = isinstance(mount, Bind) and isinstance(mount.source, str) \
                and mount.source in self._host_files and not mount.sub_path
            if not host_file:
                self._check_target(image, i, dest)
            if isinstance(mount, Tmpfs):
                opts = user_tmpfs_options(self.profile, mount.parsed, mount.options)
                planned.append(PlannedMount(dest, FsType.TMPFS, "tmpfs", opts, "user", "tmpfs"))
            elif isinstance(mount.source, Volume) and mount.source.medium == "Memory":
                opts = replace(mount.parsed, size=mount.source.size or self.memory // 2)
                planned.append(PlannedMount(dest, FsType.TMPFS, "tmpfs", opts, "user",
                                            "memory", key=mount.source.name,
                                            sub_path=mount.sub_path))
            elif isinstance(mount.source, Volume):
                kind = {"cluster": "network", "node": "volume",
                        "disk": "localdisk"}[mount.source.scope]
                source = "nfs:/exports" if kind == "network" else "/dev/sda1"
                opts = replace(user_volume_options(self.profile, mount.parsed, mount.options),
                               size=mount.source.size)
                planned.append(PlannedMount(dest, FsType.BIND, source, opts, "user",
                                            kind, key=mount.source.name,
                                            sub_path=mount.sub_path))
            else:
                planned.append(PlannedMount(dest, FsType.BIND, "/dev/sda1", mount.parsed, "user",
                                            "hostfile" if host_file else "host",
                                            key=mount.source, sub_path=mount.sub_path))
        return planned

    @staticmethod
    def _check_target(image: Image, i: int, dest: str) -> None:
        tree = image.tree
        path = ""
        for part in dest.strip("/").split("/"):
            path += "/" + part
            entry = tree.entry(path)
            if entry is None or entry.kind is EntryKind.SYMLINK:
                return
            if entry.kind is not EntryKind.DIR:
                where = "is" if path == dest else f"lies below {path!r}, which is"
                raise MountConflictError(
                    f"mounts[{i}].destination(={dest!r}) {where} a file in image "
                    f"{image.name!r}; a directory mount cannot go over a file."
                )

    # ------------------------------------------------------------ storage
    def _storage(self, kind: str, key: str, size: int | None = None) -> FakeDirectory:
        from rosim.fs.kernel import kernel

        store = {"volume": self._volumes, "host": self._host_paths, "localdisk": self._volumes,
                 "network": self.network, "memory": self._memory}[kind]
        node = store.get(key)
        if node is None:
            k = kernel()
            if kind == "memory":
                device = k.new_device(FsType.TMPFS, size)
            elif kind in ("network", "localdisk"):
                device = k.new_device(FsType.BIND, size)
            else:
                device = k.new_device(FsType.BIND, size, parent=self.disk)
            node = k.new_directory(key.strip("/").replace("/", "_") or "host", 0o755,
                                   device.dev)
            store[key] = node
        return node

    def host_file(self, path: str, content: bytes = b"", mode: int = 0o644) -> None:
        """Create the host's file ``path`` (once) so that a :class:`~rosim.Bind` of
        it mounts that one file, as the kubelet bind-mounts a pod's
        ``/etc/hosts``. Its bytes count on the host's disk; every container
        mounting it shares the file, which outlives them (``drop_storage("file",
        path)`` deletes it). ``mode`` is its permission bits."""
        from rosim.fs.kernel import kernel

        path = container_path(path, field="path")
        if path in self._host_files:
            return
        k = kernel()
        device = k.new_device(FsType.BIND, parent=self.disk)
        self._host_files[path] = k.new_file(posixpath.basename(path), content, mode,
                                            device.dev)

    def remove_volume(self, name: str) -> None:
        """``podman volume rm NAME``: delete a named volume (node or network) and its files."""
        if not (self.drop_storage("volume", name) or self.drop_storage("network", name)):
            raise ConfigError(f"volume name(={name!r}) does not exist on this runtime.")

    def volume_files(self, name: str) -> list[str]:
        """Paths of the files in volume ``name`` (relative to it), sorted."""
        node = self._volumes.get(name) or self.network.get(name)
        if node is None:
            raise ConfigError(f"volume name(={name!r}) has never been mounted on this runtime.")
        out: list[str] = []

        def walk(directory: FakeDirectory, prefix: str) -> None:
            for child_name, child in directory.entries.items():
                path = f"{prefix}/{child_name}"
                if isinstance(child, FakeDirectory):
                    walk(child, path)
                else:
                    out.append(path.lstrip("/"))

        walk(node, "")
        return sorted(out)

    def drop_storage(self, kind: str, key: str) -> bool:
        """Delete a volume (``'volume'``), host path (``'host'``), memory volume
        (``'memory'``), network volume (``'network'``) or host file (``'file'``)
        and its files, as deleting a pod deletes its emptyDirs. Returns whether
        it existed."""
        from rosim.fs.kernel import kernel

        store = {"volume": self._volumes, "host": self._host_paths, "memory": self._memory,
                 "network": self.network, "file": self._host_files}
        node = store[kind].pop(key, None)
        if node is None:
            return False
        kernel().drop_device(node.st_dev)
        return True

    def _forget(self, ctr: Container) -> None:
        if self.containers.get(ctr.name) is ctr and ctr.state is ContainerState.REMOVED:
            del self.containers[ctr.name]

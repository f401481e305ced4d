"""CRI configuration files: pod sandbox and container configs, and crio.conf.

The shapes are the real ones ``crictl`` reads (the CRI protobuf messages in
JSON, snake_case keys): ``metadata.name``, ``image.image``, ``command``,
``args``, ``working_dir``, ``envs``, ``mounts`` (``container_path``,
``host_path``, ``readonly``), ``linux.security_context.readonly_rootfs`` and
``privileged``. crio.conf is TOML: ``[crio.runtime] read_only = true``.

Every problem is a :class:`CriConfigError` naming the file, the field and the
value:

>>> ContainerConfig.from_source({"metadata": {}}, "container.json")
Traceback (most recent call last):
...
rosim.cri.config.CriConfigError: container.json: metadata.name is missing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rosim._errors import ConfigError, ManifestError
from rosim._yaml import load_json as safe_json
from rosim._yaml import load_toml
from rosim.fs.paths import container_path

__all__ = ["ContainerConfig", "CriConfigError", "CrioConfig", "PodSandboxConfig",
           "load_json", "samples_dir"]


class CriConfigError(ConfigError):
    """A CRI JSON or crio.conf file is missing, malformed, or has a bad field."""


def samples_dir() -> Path:
    """The directory of the sample files (``sandbox_config.json``, ...)."""
    return Path(__file__).with_name("samples")


def _read_text(source: str | os.PathLike, base: Path | None) -> tuple[bytes, str]:
    path = Path(source)
    candidates = [path] if path.is_absolute() else [
        *([base / path] if base is not None else []), Path.cwd() / path, samples_dir() / path]
    for candidate in candidates:
        if candidate.is_file():
            try:
                return candidate.read_bytes(), str(source)
            except OSError as exc:
                raise CriConfigError(f"{source}: cannot read: {exc.strerror}.") from None
    raise CriConfigError(f"{source}: no such file (looked in "
                         + ", ".join(str(c.parent) for c in candidates) + ").")


def load_json(source: Mapping[str, Any] | str | os.PathLike, *, base: Path | None = None
              ) -> tuple[dict[str, Any], str]:
    """Return (data, name) for a dict or a JSON file name; raise CriConfigError."""
    if isinstance(source, Mapping):
        return dict(source), "<dict>"
    if not isinstance(source, str | os.PathLike):
        raise CriConfigError(f"config(={source!r}) must be a dict or a JSON file path.")
    text, name = _read_text(source, base)
    try:
        data = safe_json(text, source=name)
    except ManifestError as exc:
        raise CriConfigError(str(exc)) from None
    if not isinstance(data, dict):
        raise CriConfigError(f"{name}: the top level must be a JSON object.")
    return data, name


def _get(data: Mapping[str, Any], dotted: str, kind: type | tuple[type, ...], name: str,
         default: Any = None, required: bool = False) -> Any:
    node: Any = data
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            if required:
                raise CriConfigError(f"{name}: {dotted} is missing.")
            return default
        node = node[key]
    if node is None and not required:
        return default
    if not isinstance(node, kind) or (kind is int and isinstance(node, bool)):
        wanted = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        wanted = {"bool": "a boolean", "str": "a string", "list": "a list", "dict": "an object",
                  "int": "an integer"}.get(wanted, wanted)
        raise CriConfigError(f"{name}: {dotted}(={node!r}) must be {wanted}.")
    return node


@dataclass(frozen=True)
class PodSandboxConfig:
    """``crictl runp``'s input: the pod's metadata and hostname."""

    name: str
    namespace: str = "default"
    uid: str = ""
    attempt: int = 0
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    source: str = "<dict>"

    @classmethod
    def from_source(cls, source: Mapping[str, Any] | str | os.PathLike,
                    name: str | None = None, *, base: Path | None = None) -> PodSandboxConfig:
        """Read and validate a sandbox config from a dict or a JSON file."""
        data, label = load_json(source, base=base) if name is None else (dict(source), name)
        pod_name = _get(data, "metadata.name", str, label, required=True)
        if not pod_name:
            raise CriConfigError(f"{label}: metadata.name must not be empty.")
        return cls(
            name=pod_name,
            namespace=_get(data, "metadata.namespace", str, label, "default"),
            uid=_get(data, "metadata.uid", str, label, ""),
            attempt=_get(data, "metadata.attempt", int, label, 0),
            hostname=_get(data, "hostname", str, label, "") or pod_name,
            labels=dict(_get(data, "labels", dict, label, {})),
            source=label,
        )


@dataclass(frozen=True)
class CriMount:
    """One entry of a container config's ``mounts``."""

    container_path: str
    host_path: str
    readonly: bool = False


@dataclass(frozen=True)
class ContainerConfig:
    """``crictl create``'s input: image, command and security context."""

    name: str
    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    working_dir: str = "/"
    envs: dict[str, str] = field(default_factory=dict)
    mounts: tuple[CriMount, ...] = ()
    readonly_rootfs: bool = False
    privileged: bool = False
    source: str = "<dict>"

    @classmethod
    def from_source(cls, source: Mapping[str, Any] | str | os.PathLike,
                    name: str | None = None, *, base: Path | None = None) -> ContainerConfig:
        """Read and validate a container config from a dict or a JSON file."""
        data, label = load_json(source, base=base) if name is None else (dict(source), name)
        ctr_name = _get(data, "metadata.name", str, label, required=True)
        if not ctr_name:
            raise CriConfigError(f"{label}: metadata.name must not be empty.")
        image = _get(data, "image.image", str, label, required=True)
        command = _get(data, "command", list, label, [])
        args = _get(data, "args", list, label, [])
        for key, values in (("command", command), ("args", args)):
            for i, value in enumerate(values):
                if not isinstance(value, str):
                    raise CriConfigError(f"{label}: {key}[{i}](={value!r}) must be a string.")
        envs: dict[str, str] = {}
        for i, env in enumerate(_get(data, "envs", list, label, [])):
            if not isinstance(env, Mapping) or not isinstance(env.get("key"), str) or not \
                    isinstance(env.get("value", ""), str):
                raise CriConfigError(f"{label}: envs[{i}](={env!r}) must be "
                                     '{"key": str, "value": str}.')
            envs[env["key"]] = env.get("value", "")
        mounts = []
        for i, mount in enumerate(_get(data, "mounts", list, label, [])):
            if not isinstance(mount, Mapping):
                raise CriConfigError(f"{label}: mounts[{i}](={mount!r}) must be an object.")
            where = f"mounts[{i}]"
            target = _get(mount, "container_path", str, f"{label}: {where}", required=True)
            host = _get(mount, "host_path", str, f"{label}: {where}", required=True)
            try:
                target = container_path(target, field=f"{label}: {where}.container_path")
                host = container_path(host, field=f"{label}: {where}.host_path")
            except ConfigError as exc:
                raise CriConfigError(str(exc)) from None
            readonly = _get(mount, "readonly", bool, f"{label}: {where}", False)
            for j, earlier in enumerate(mounts):
                if earlier.container_path == target:
                    raise CriConfigError(f"{label}: {where}.container_path(={target!r}) is "
                                         f"already the container_path of mounts[{j}].")
            mounts.append(CriMount(target, host, readonly))
        working_dir = _get(data, "working_dir", str, label, "") or "/"
        return cls(
            name=ctr_name, image=image, command=tuple(command), args=tuple(args),
            working_dir=working_dir, envs=envs, mounts=tuple(mounts),
            readonly_rootfs=_get(data, "linux.security_context.readonly_rootfs", bool, label,
                                 False),
            privileged=_get(data, "linux.security_context.privileged", bool, label, False),
            source=label,
        )


@dataclass(frozen=True)
class CrioConfig:
    """The part of crio.conf rosim reads: ``[crio.runtime] read_only``."""

    read_only: bool = False
    source: str = "<defaults>"

    @classmethod
    def from_toml(cls, source: str | os.PathLike, *, text: str | bytes | None = None,
                  base: Path | None = None) -> CrioConfig:
        """Read a crio.conf file (or its ``text``); raise CriConfigError if bad."""
        if text is None:
            text, name = _read_text(source, base)
        else:
            name = str(source)
        try:
            data = load_toml(text, source=name)
        except ManifestError as exc:
            raise CriConfigError(str(exc)) from None
        read_only = _get(data, "crio.runtime.read_only", bool, name, False)
        return cls(read_only=read_only, source=name)

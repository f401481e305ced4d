"""Pod specifications in Kubernetes' own shape, from dicts or YAML.

Manifests keep Kubernetes' camelCase keys; the records here are snake_case,
and :func:`PodSpec.from_manifest` is the one place that maps one to the
other. Every invalid value is a :class:`~rosim.ConfigError` naming the field
path and the value:

>>> PodSpec.from_manifest({"metadata": {"name": "web"}, "spec": {"containers": [
...     {"name": "app", "image": "pyapp",
...      "volumeMounts": [{"name": "logs", "mountPath": "/var/log"}]}]}})
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rosim._errors.ConfigError: spec.containers[0].volumeMounts[0].name(='logs') is not a volume ...
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rosim._bounds import RosimEnum
from rosim._errors import ConfigError, ManifestError
from rosim.cluster.quantity import parse_quantity
from rosim.fs.paths import container_path

__all__ = ["ContainerSpec", "PodSpec", "VolumeKind", "VolumeMountSpec", "VolumeSpec",
           "parse_pod_spec"]


class VolumeKind(RosimEnum):
    """Pod volume types, named as in the Pod spec."""

    EMPTY_DIR = "emptyDir"
    HOST_PATH = "hostPath"
    PERSISTENT_VOLUME_CLAIM = "persistentVolumeClaim"
    CONFIG_MAP = "configMap"
    SECRET = "secret"


_HOST_PATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File")


@dataclass(frozen=True)
class VolumeSpec:
    """One entry of ``spec.volumes``."""

    name: str
    kind: VolumeKind
    medium: str = ""
    size_limit: int | None = None
    size_limit_text: str = ""
    path: str = ""
    type: str = ""
    claim_name: str = ""
    read_only: bool = False
    #: The ConfigMap (``configMap.name``) or Secret (``secret.secretName``) it shows.
    source_name: str = ""


@dataclass(frozen=True)
class VolumeMountSpec:
    """One entry of a container's ``volumeMounts``."""

    name: str
    mount_path: str
    read_only: bool = False
    sub_path: str = ""


@dataclass(frozen=True)
class ContainerSpec:
    """One entry of ``spec.containers``."""

    name: str
    image: str
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None
    env: tuple[tuple[str, str], ...] = ()
    volume_mounts: tuple[VolumeMountSpec, ...] = ()
    read_only_root_filesystem: bool | None = None
    privileged: bool = False
    ephemeral_storage_limit: int | None = None
    ephemeral_storage_request: int | None = None
    ephemeral_storage_limit_text: str = ""
    #: ``resources.limits.memory`` in bytes.
    memory_limit: int | None = None
    #: ``terminationMessagePath``: the file the kubelet mounts read-write for the
    #: container's last words (read into ``lastState.terminated.message``).
    termination_message_path: str = "/dev/termination-log"
    #: ``terminationMessagePolicy``: ``File``, or ``FallbackToLogsOnError``.
    termination_message_policy: str = "File"


@dataclass(frozen=True)
class PodSpec:
    """A pod: name, containers and volumes (``metadata.name`` and ``spec``)."""

    name: str
    containers: tuple[ContainerSpec, ...]
    volumes: tuple[VolumeSpec, ...] = ()
    namespace: str = "default"
    labels: dict[str, str] = field(default_factory=dict)
    #: ``spec.priority`` as the manifest gives it (the Priority admission plugin
    #: refuses a value that differs from its ``priorityClassName``'s).
    priority: int | None = None
    priority_class_name: str = ""
    restart_policy: str = "Always"

    @classmethod
    def from_yaml(cls, text: str | bytes, *, source: str = "manifest") -> PodSpec:
        """Parse a Pod manifest written in YAML (one document).

        The text is loaded safely (:func:`rosim._yaml.load_yaml_documents`):
        bad YAML, repeated keys, alias bombs and too deep nesting raise
        :class:`~rosim.ManifestError` naming ``source`` and the line.
        """
        from rosim._yaml import load_yaml_documents

        documents = load_yaml_documents(text, source=source)
        if len(documents) != 1:
            raise ManifestError(f"{source}: holds {len(documents)} YAML documents; "
                                "a Pod manifest is exactly one.")
        return cls.from_manifest(documents[0])

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any]) -> PodSpec:
        """Parse a Pod manifest (``metadata`` + ``spec``) given as a dict.

        Unknown fields are refused with their path, as ``kubectl apply`` does.
        """
        if not isinstance(manifest, Mapping):
            raise ConfigError(f"manifest(={manifest!r}) must be a mapping with metadata and spec.")
        kind = manifest.get("kind", "Pod")
        if kind != "Pod":
            raise ConfigError(f"kind(={kind!r}) must be 'Pod'; use Cluster.apply or "
                              "pod_templates for other kinds.")
        from rosim.cluster.schema import check_fields

        check_fields(manifest, "Pod", "")
        metadata = _map(manifest.get("metadata", {}), "metadata")
        name = _str(metadata.get("name"), "metadata.name", required=True)
        return parse_pod_spec(name, metadata, manifest.get("spec"), "spec")


def parse_pod_spec(name: str, metadata: Mapping[str, Any], raw_spec: Any,
                   where: str) -> PodSpec:
    """Read a pod ``spec`` found at field path ``where`` (``spec`` for a Pod,
    ``spec.template.spec`` for a workload's pod template) for pod ``name``."""
    spec = _map(raw_spec, where, required=True)
    volumes = tuple(_volume(v, f"{where}.volumes[{i}]")
                    for i, v in enumerate(_list(spec.get("volumes", []), f"{where}.volumes")))
    names = [v.name for v in volumes]
    for i, volume in enumerate(volumes):
        if names.index(volume.name) != i:
            raise ConfigError(f"{where}.volumes[{i}].name(={volume.name!r}) is used twice.")
    raw = _list(spec.get("containers"), f"{where}.containers", required=True)
    if not raw:
        raise ConfigError(f"{where}.containers must hold at least one container.")
    containers = tuple(_container(c, f"{where}.containers[{i}]", names)
                       for i, c in enumerate(raw))
    cnames = [c.name for c in containers]
    for i, c in enumerate(containers):
        if cnames.index(c.name) != i:
            raise ConfigError(f"{where}.containers[{i}].name(={c.name!r}) is used twice.")
    priority = spec.get("priority")
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)):
        raise ConfigError(f"{where}.priority(={priority!r}) must be an integer.")
    policy = spec.get("restartPolicy", "Always")
    if policy not in ("Always", "OnFailure", "Never"):
        raise ConfigError(f"{where}.restartPolicy(={policy!r}) must be 'Always', 'OnFailure' "
                          "or 'Never'.")
    labels = _map(metadata.get("labels", {}), "metadata.labels")
    return PodSpec(name, containers, volumes,
                   namespace=_str(metadata.get("namespace", "default"), "metadata.namespace")
                   or "default",
                   labels={str(k): str(v) for k, v in labels.items()}, priority=priority,
                   priority_class_name=_str(spec.get("priorityClassName", ""),
                                            f"{where}.priorityClassName"),
                   restart_policy=policy)


def _map(value: Any, where: str, required: bool = False) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}(={value!r}) must be a mapping.")
    return value


def _list(value: Any, where: str, required: bool = False) -> list[Any]:
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{where}(={value!r}) must be a list.")
    return value


def _str(value: Any, where: str, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ConfigError(f"{where}(={value!r}) must be a non-empty string.")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where}(={value!r}) must be true or false.")
    return value


def _volume(raw: Any, where: str) -> VolumeSpec:
    data = _map(raw, where, required=True)
    name = _str(data.get("name"), f"{where}.name", required=True)
    kinds = [k for k in VolumeKind if k.value in data]
    others = [k for k in data if k != "name" and k not in {v.value for v in VolumeKind}]
    if others and not kinds:
        raise ConfigError(f"{where}.{others[0]}: rosim does not simulate this volume type; "
                          "it simulates " + ", ".join(k.value for k in VolumeKind) + ".")
    if len(kinds) != 1 or others:
        raise ConfigError(f"{where}(name={name!r}) must have exactly one of "
                          + ", ".join(k.value for k in VolumeKind) + ".")
    kind = kinds[0]
    body = _map(data[kind.value], f"{where}.{kind.value}") if data[kind.value] is not None else {}
    if kind is VolumeKind.EMPTY_DIR:
        medium = body.get("medium", "")
        if medium not in ("", "Memory"):
            raise ConfigError(f"{where}.emptyDir.medium(={medium!r}) must be '' or 'Memory'.")
        limit = body.get("sizeLimit")
        size = (parse_quantity(limit, field=f"{where}.emptyDir.sizeLimit")
                if limit is not None else None)
        return VolumeSpec(name, kind, medium=medium, size_limit=size,
                          size_limit_text=str(limit) if limit is not None else "")
    if kind is VolumeKind.HOST_PATH:
        path = container_path(body.get("path"), field=f"{where}.hostPath.path")
        host_type = body.get("type", "")
        if host_type not in _HOST_PATH_TYPES:
            raise ConfigError(f"{where}.hostPath.type(={host_type!r}) must be one of "
                              + ", ".join(repr(t) for t in _HOST_PATH_TYPES) + ".")
        return VolumeSpec(name, kind, path=path, type=host_type)
    if kind in (VolumeKind.CONFIG_MAP, VolumeKind.SECRET):
        key = "name" if kind is VolumeKind.CONFIG_MAP else "secretName"
        return VolumeSpec(name, kind, read_only=True,
                          source_name=_str(body.get(key), f"{where}.{kind.value}.{key}",
                                           required=True))
    claim = _str(body.get("claimName"), f"{where}.persistentVolumeClaim.claimName",
                 required=True)
    read_only = _bool(body.get("readOnly", False), f"{where}.persistentVolumeClaim.readOnly")
    return VolumeSpec(name, kind, claim_name=claim, read_only=read_only)


def _container(raw: Any, where: str, volumes: list[str]) -> ContainerSpec:
    data = _map(raw, where, required=True)
    name = _str(data.get("name"), f"{where}.name", required=True)
    image = _str(data.get("image"), f"{where}.image", required=True)

    def argv(key: str) -> tuple[str, ...] | None:
        value = data.get(key)
        if value is None:
            return None
        items = _list(value, f"{where}.{key}")
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise ConfigError(f"{where}.{key}[{i}](={item!r}) must be a string.")
        return tuple(items)

    env = []
    for i, item in enumerate(_list(data.get("env", []), f"{where}.env")):
        entry = _map(item, f"{where}.env[{i}]", required=True)
        key = _str(entry.get("name"), f"{where}.env[{i}].name", required=True)
        value = entry.get("value", "")
        if not isinstance(value, str):
            raise ConfigError(f"{where}.env[{i}].value(={value!r}) must be a string.")
        env.append((key, value))
    mounts = []
    seen: list[str] = []
    for i, item in enumerate(_list(data.get("volumeMounts", []), f"{where}.volumeMounts")):
        here = f"{where}.volumeMounts[{i}]"
        entry = _map(item, here, required=True)
        vname = _str(entry.get("name"), f"{here}.name", required=True)
        if vname not in volumes:
            known = ", ".join(repr(v) for v in volumes) or "none"
            raise ConfigError(f"{here}.name(={vname!r}) is not a volume of the pod; "
                              f"volumes: {known}.")
        path = container_path(entry.get("mountPath"), field=f"{here}.mountPath")
        if path in seen:
            raise ConfigError(f"{here}.mountPath(={path!r}) is mounted twice.")
        seen.append(path)
        sub = entry.get("subPath", "")
        if not isinstance(sub, str) or sub.startswith("/") or ".." in sub.split("/"):
            raise ConfigError(f"{here}.subPath(={sub!r}) must be a relative path without '..'.")
        mounts.append(VolumeMountSpec(vname, path, _bool(entry.get("readOnly", False),
                                                         f"{here}.readOnly"), sub))
    context = _map(data.get("securityContext", {}), f"{where}.securityContext")
    ro = context.get("readOnlyRootFilesystem")
    if ro is not None:
        ro = _bool(ro, f"{where}.securityContext.readOnlyRootFilesystem")
    privileged = _bool(context.get("privileged", False), f"{where}.securityContext.privileged")
    resources = _map(data.get("resources", {}), f"{where}.resources")
    limits = _map(resources.get("limits", {}), f"{where}.resources.limits")
    requests = _map(resources.get("requests", {}), f"{where}.resources.requests")
    eph = limits.get("ephemeral-storage")
    eph_req = requests.get("ephemeral-storage")
    termination_path = container_path(data.get("terminationMessagePath",
                                               "/dev/termination-log"),
                                      field=f"{where}.terminationMessagePath")
    policy = data.get("terminationMessagePolicy", "File")
    if policy not in ("File", "FallbackToLogsOnError"):
        raise ConfigError(f"{where}.terminationMessagePolicy(={policy!r}) must be 'File' or "
                          "'FallbackToLogsOnError'.")
    return ContainerSpec(
        name, image, argv("command"), argv("args"), tuple(env), tuple(mounts), ro, privileged,
        parse_quantity(eph, field=f"{where}.resources.limits.ephemeral-storage")
        if eph is not None else None,
        parse_quantity(eph_req, field=f"{where}.resources.requests.ephemeral-storage")
        if eph_req is not None else None,
        str(eph) if eph is not None else "",
        parse_quantity(limits["memory"], field=f"{where}.resources.limits.memory")
        if limits.get("memory") is not None else None,
        termination_path, policy,
    )

"""Kubernetes manifests: YAML streams, the kinds rosim runs, and their pod templates.

:func:`read_manifests` reads what ``kubectl apply -f`` reads — a dict, a list
of dicts, YAML text with several ``---`` documents, or a file — and returns
one record per object:

* workloads (:class:`WorkloadSpec`): ``Pod``, ``Deployment``,
  ``StatefulSet``, ``DaemonSet``, ``Job``;
* storage and scheduling objects: ``PersistentVolumeClaim``
  (:class:`ClaimSpec`), ``PersistentVolume`` (:class:`PersistentVolumeSpec`),
  ``StorageClass`` (:class:`StorageClassSpec`), ``PriorityClass``
  (:class:`PriorityClassSpec`), ``ConfigMap`` (:class:`ConfigMapSpec`, shown
  by ``configMap`` volumes);
* any other kind (``Service``, ``Ingress``, ``Secret``, ...) becomes an
  :class:`IgnoredObject`: accepted, listed, not simulated.

Fields are checked strictly, as the API server does (:mod:`rosim.cluster.schema`):
an unknown field is a :class:`~rosim.ConfigError` naming its path.

:func:`pod_templates` gives the pod spec of every workload of a manifest,
with the field path of that spec, for tools that inspect pods without
running them (it also reads the pod templates of ReplicaSet,
ReplicationController and CronJob, which the cluster does not run):

>>> text = '''
... apiVersion: apps/v1
... kind: Deployment
... metadata: {name: web}
... spec:
...   replicas: 2
...   selector: {matchLabels: {app: web}}
...   template:
...     metadata: {labels: {app: web}}
...     spec:
...       containers: [{name: nginx, image: nginx:1.25}]
... ---
... apiVersion: v1
... kind: Service
... metadata: {name: web}
... spec: {selector: {app: web}, ports: [{port: 80}]}
... '''
>>> [(t.kind, t.name, t.path, t.spec.containers[0].image) for t in pod_templates(text)]
[('Deployment', 'web', 'spec.template.spec', 'nginx:1.25')]
>>> [type(o).__name__ for o in read_manifests(text)]
['WorkloadSpec', 'IgnoredObject']
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rosim._bounds import RosimEnum
from rosim._errors import ConfigError
from rosim.cluster.quantity import parse_quantity
from rosim.cluster.schema import check_fields
from rosim.cluster.spec import PodSpec, VolumeKind, VolumeSpec, parse_pod_spec

__all__ = ["ClaimSpec", "ConfigMapSpec", "IgnoredObject", "ManifestSource", "PodTemplate",
           "PersistentVolumeSpec", "PriorityClassSpec", "StorageClassSpec", "WorkloadKind",
           "WorkloadSpec", "load_documents", "pod_templates", "read_manifests"]

#: What :func:`read_manifests` accepts: a dict, a list of dicts, YAML text, bytes, a file.
ManifestSource = Mapping[str, Any] | Sequence[Mapping[str, Any]] | str | bytes | os.PathLike


class WorkloadKind(RosimEnum):
    """Kinds whose objects run pods."""

    POD = "Pod"
    DEPLOYMENT = "Deployment"
    STATEFUL_SET = "StatefulSet"
    DAEMON_SET = "DaemonSet"
    JOB = "Job"


_API_VERSIONS = {
    "Pod": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
    "Job": "batch/v1", "PersistentVolumeClaim": "v1", "PersistentVolume": "v1",
    "ConfigMap": "v1", "StorageClass": "storage.k8s.io/v1",
    "PriorityClass": "scheduling.k8s.io/v1",
}
_ACCESS_MODES = ("ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod")


@dataclass(frozen=True)
class ClaimSpec:
    """A PersistentVolumeClaim (or a StatefulSet's ``volumeClaimTemplates`` entry)."""

    name: str
    storage: int
    access_modes: tuple[str, ...] = ("ReadWriteOnce",)
    storage_class: str | None = None
    volume_name: str = ""
    namespace: str = "default"


@dataclass(frozen=True)
class PersistentVolumeSpec:
    """A PersistentVolume: its capacity and where its data lives.

    ``source`` is ``local`` (a disk of the node ``node``, pinned by
    ``nodeAffinity``), ``hostPath`` (a directory of the node that mounts
    it), ``nfs`` (network storage that does not enforce capacity) or
    ``network`` (a network disk of ``capacity`` bytes, such as a CSI volume).
    """

    name: str
    capacity: int
    source: str = "network"
    node: str | None = None
    path: str = ""
    access_modes: tuple[str, ...] = ("ReadWriteOnce",)
    storage_class: str = ""
    claim: str = ""


@dataclass(frozen=True)
class StorageClassSpec:
    """A StorageClass: which provisioner makes volumes for its claims."""

    name: str
    provisioner: str
    binding_mode: str = "Immediate"
    default: bool = False


@dataclass(frozen=True)
class PriorityClassSpec:
    """A PriorityClass: the priority of pods naming it in ``priorityClassName``."""

    name: str
    value: int
    global_default: bool = False


@dataclass(frozen=True)
class ConfigMapSpec:
    """A ConfigMap: files for ``configMap`` volumes."""

    name: str
    data: dict[str, str] = field(default_factory=dict)
    namespace: str = "default"


@dataclass(frozen=True)
class IgnoredObject:
    """An object of a kind rosim does not simulate (``Service``, ``Ingress``, ...)."""

    kind: str
    api_version: str
    name: str


@dataclass(frozen=True)
class WorkloadSpec:
    """A workload: a bare Pod, or a controller with its pod template.

    ``template`` is the pod spec every pod gets (named after the workload);
    ``replicas`` counts pods for a Deployment or StatefulSet, ``completions``
    and ``parallelism`` for a Job, whose failed pods are replaced up to
    ``backoff_limit`` times. ``claim_templates`` are a StatefulSet's
    ``volumeClaimTemplates``: pod ``NAME-i`` mounts claim
    ``TEMPLATE-NAME-i``.
    """

    kind: WorkloadKind
    name: str
    template: PodSpec
    namespace: str = "default"
    replicas: int = 1
    selector: dict[str, str] = field(default_factory=dict)
    service_name: str = ""
    claim_templates: tuple[ClaimSpec, ...] = ()
    completions: int = 1
    parallelism: int = 1
    backoff_limit: int = 6
    #: A StatefulSet's ``podManagementPolicy``: ``OrderedReady`` creates
    #: ``NAME-i`` only once ``NAME-0`` … ``NAME-(i-1)`` run; ``Parallel`` at once.
    pod_management_policy: str = "OrderedReady"

    @property
    def path(self) -> str:
        """The field path of the pod spec in the manifest."""
        return "spec" if self.kind is WorkloadKind.POD else "spec.template.spec"

    def pod_spec(self, pod_name: str, ordinal: int | None = None) -> PodSpec:
        """The spec of one of its pods; a StatefulSet's ``ordinal`` picks its claims."""
        volumes = self.template.volumes
        if ordinal is not None and self.claim_templates:
            names = {t.name for t in self.claim_templates}
            volumes = tuple(replace(v, claim_name=f"{v.name}-{self.name}-{ordinal}")
                            if v.name in names else v for v in volumes)
        return replace(self.template, name=pod_name, volumes=volumes)


@dataclass(frozen=True)
class PodTemplate:
    """The pod spec of one workload of a manifest, where it is, and what owns it.

    ``kind`` and ``name`` are the workload's, ``path`` the field path of the
    pod spec (``spec`` for a Pod, ``spec.template.spec`` otherwise, so a
    container's path is ``f"{path}.containers[{i}]"``), ``document`` the
    index of its YAML document in the stream.
    """

    kind: str
    name: str
    namespace: str
    path: str
    spec: PodSpec
    document: int


ManifestObject = (WorkloadSpec | ClaimSpec | PersistentVolumeSpec | StorageClassSpec
                  | PriorityClassSpec | ConfigMapSpec | IgnoredObject)


# ----------------------------------------------------------------- reading
def load_documents(text: str | bytes, *, source: str) -> list[object]:
    """The YAML documents of ``text`` (empty ones skipped); ``source`` names it in errors.

    Loaded safely by :func:`rosim._yaml.load_yaml_documents`: repeated keys and
    alias bombs are a :class:`~rosim.ManifestError`.
    """
    from rosim._yaml import load_yaml_documents

    return load_yaml_documents(text, source=source)


def _documents(source: Any) -> list[object]:
    if isinstance(source, Mapping):
        return [source]
    if isinstance(source, os.PathLike):
        path = Path(source)
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"manifest file(={str(path)!r}) cannot be read: "
                              f"{exc.strerror}.") from None
        return load_documents(text, source=f"manifest file {str(path)!r}")
    if isinstance(source, str | bytes):
        return load_documents(source, source="manifest")
    if isinstance(source, Sequence):
        return list(source)
    raise ConfigError(f"manifest(={source!r}) must be a dict, a list of dicts, YAML text "
                      "or a file path (pathlib.Path).")


def read_manifests(source: ManifestSource) -> list[ManifestObject]:
    """Parse every object of ``source`` (see :data:`ManifestSource`), strictly.

    A ``kind: List`` contributes its ``items``. A dict with neither
    ``apiVersion`` nor ``kind`` is taken as a Pod. Raises
    :class:`~rosim.ConfigError` naming the document, the field and the value.
    """
    objects: list[ManifestObject] = []
    for index, document in enumerate(_flatten(_documents(source))):
        objects.append(_parse(document, index))
    return objects


def _flatten(documents: list[object]) -> list[object]:
    out: list[object] = []
    for doc in documents:
        if isinstance(doc, Mapping) and doc.get("kind") == "List":
            items = doc.get("items") or []
            if not isinstance(items, list):
                raise ConfigError(f"List items(={items!r}) must be a list.")
            out.extend(items)
        else:
            out.append(doc)
    return out


#: Kinds the cluster does not run whose pod templates :func:`pod_templates`
#: reads all the same: their apiVersion and the field path of the pod spec.
_TEMPLATE_ONLY = {
    "ReplicaSet": ("apps/v1", "spec.template.spec"),
    "ReplicationController": ("v1", "spec.template.spec"),
    "CronJob": ("batch/v1", "spec.jobTemplate.spec.template.spec"),
}


def pod_templates(source: ManifestSource) -> list[PodTemplate]:
    """The pod spec of every workload of ``source``, with its field path.

    The kinds the cluster runs (Pod, Deployment, StatefulSet, DaemonSet,
    Job) and three it does not run but whose pod templates are read here all
    the same, for tools that inspect pods: ReplicaSet, ReplicationController
    (``spec.template.spec``) and CronJob
    (``spec.jobTemplate.spec.template.spec``); ``Cluster.apply`` lists those
    three as ignored. Every object is checked as strictly as the API server
    would; objects without pods are then left out.
    """
    templates = []
    for index, document in enumerate(_flatten(_documents(source))):
        obj = _parse(document, index)
        if isinstance(obj, WorkloadSpec):
            templates.append(PodTemplate(obj.kind.value, obj.name, obj.namespace, obj.path,
                                         obj.template, index))
        elif isinstance(obj, IgnoredObject) and obj.kind in _TEMPLATE_ONLY:
            templates.append(_template_only(document, obj, index))  # type: ignore[arg-type]
    return templates


def _template_only(document: Mapping[str, Any], obj: IgnoredObject, index: int) -> PodTemplate:
    """The pod template of a ReplicaSet, ReplicationController or CronJob."""
    version, path = _TEMPLATE_ONLY[obj.kind]
    label = f'{obj.kind} "{obj.name}"'
    if obj.api_version != version:
        raise ConfigError(f'{label}: no matches for kind "{obj.kind}" in version '
                          f'"{obj.api_version}" (use apiVersion: {version}).')
    try:
        check_fields(document, obj.kind, "")
    except ConfigError as exc:
        raise ConfigError(f"{label}: {exc}") from None
    keys = path.split(".")
    node: Any = document
    for depth, key in enumerate(keys[:-1], 1):
        node = node.get(key)
        if not isinstance(node, Mapping):
            raise ConfigError(f"{label}: {'.'.join(keys[:depth])}: Required value.")
    meta = document.get("metadata") or {}
    namespace = meta.get("namespace") or "default"
    tmeta = node.get("metadata") or {}
    spec = parse_pod_spec(obj.name, {**tmeta, "namespace": namespace}, node.get("spec"), path)
    return PodTemplate(obj.kind, obj.name, namespace, path, spec, index)


def _parse(document: object, index: int) -> ManifestObject:
    if not isinstance(document, Mapping):
        raise ConfigError(f"document {index}(={document!r}) must be a mapping with apiVersion, "
                          "kind and metadata.")
    if "apiVersion" not in document and "kind" not in document:
        document = {"apiVersion": "v1", "kind": "Pod", **document}
    kind = document.get("kind")
    version = document.get("apiVersion")
    if not isinstance(kind, str) or not kind:
        raise ConfigError(f"document {index}: kind(={kind!r}) not set.")
    if not isinstance(version, str) or not version:
        raise ConfigError(f"document {index} ({kind}): apiVersion(={version!r}) not set.")
    meta = document.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise ConfigError(f"{kind} metadata(={meta!r}) must be a mapping.")
    name = meta.get("name")
    label = f'{kind} "{name}"' if isinstance(name, str) and name else kind
    if kind in _API_VERSIONS:
        if version != _API_VERSIONS[kind]:
            raise ConfigError(f'{label}: no matches for kind "{kind}" in version '
                              f'"{version}" (use apiVersion: {_API_VERSIONS[kind]}).')
        try:
            check_fields(document, kind, "")
        except ConfigError as exc:
            raise ConfigError(f"{label}: {exc}") from None
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{kind} metadata.name(={name!r}) must be a non-empty string.")
    if kind not in _API_VERSIONS:
        return IgnoredObject(kind, version, name)
    namespace = meta.get("namespace") or "default"
    if kind in {k.value for k in WorkloadKind}:
        return _workload(WorkloadKind(kind), name, meta, document)
    spec = document.get("spec") or {}
    if kind == "PersistentVolumeClaim":
        return _claim(name, spec, "spec", namespace, meta.get("annotations"))
    if kind == "PersistentVolume":
        return _volume(name, spec)
    if kind == "StorageClass":
        annotations = meta.get("annotations") or {}
        provisioner = document.get("provisioner")
        if not isinstance(provisioner, str) or not provisioner:
            raise ConfigError(f'StorageClass "{name}": provisioner(={provisioner!r}) '
                              "must be a non-empty string.")
        mode = document.get("volumeBindingMode", "Immediate")
        if mode not in ("Immediate", "WaitForFirstConsumer"):
            raise ConfigError(f'StorageClass "{name}": volumeBindingMode(={mode!r}) must be '
                              "'Immediate' or 'WaitForFirstConsumer'.")
        default = str(annotations.get("storageclass.kubernetes.io/is-default-class",
                                      "")).lower() == "true"
        return StorageClassSpec(name, provisioner, mode, default)
    if kind == "PriorityClass":
        value = document.get("value")
        if not isinstance(value, int) or isinstance(value, bool) or value > 1_000_000_000:
            raise ConfigError(f'PriorityClass "{name}": value(={value!r}) must be an integer '
                              "no greater than 1000000000.")
        default = document.get("globalDefault", False)
        if not isinstance(default, bool):
            raise ConfigError(f'PriorityClass "{name}": globalDefault(={default!r}) must be '
                              "true or false.")
        return PriorityClassSpec(name, value, default)
    data = document.get("data") or {}
    if not isinstance(data, Mapping) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f'ConfigMap "{name}": data(={data!r}) must map keys to strings.')
    return ConfigMapSpec(name, {str(k): v for k, v in data.items()}, namespace)


def _int(value: Any, where: str, default: int, minimum: int = 0) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{where}(={value!r}) must be an integer >= {minimum}.")
    return value


def _workload(kind: WorkloadKind, name: str, meta: Mapping[str, Any],
              document: Mapping[str, Any]) -> WorkloadSpec:
    namespace = meta.get("namespace") or "default"
    where = f'{kind.value} "{name}"'
    if kind is WorkloadKind.POD:
        template = parse_pod_spec(name, meta, document.get("spec"), "spec")
        if template.restart_policy not in ("Always", "OnFailure", "Never"):
            raise ConfigError(f"{where}: spec.restartPolicy(={template.restart_policy!r}).")
        return WorkloadSpec(kind, name, template, namespace)
    spec = document.get("spec")
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{where}: spec(={spec!r}) must be a mapping.")
    raw_template = spec.get("template")
    if not isinstance(raw_template, Mapping):
        raise ConfigError(f"{where}: spec.template: Required value.")
    tmeta = raw_template.get("metadata") or {}
    labels = {str(k): str(v) for k, v in (tmeta.get("labels") or {}).items()}
    selector_raw = spec.get("selector")
    selector: dict[str, str] = {}
    if selector_raw is None:
        if kind is not WorkloadKind.JOB:
            raise ConfigError(f"{where}: spec.selector: Required value.")
    else:
        match = (selector_raw.get("matchLabels") or {}) if isinstance(selector_raw,
                                                                       Mapping) else None
        if not isinstance(match, Mapping):
            raise ConfigError(f"{where}: spec.selector(={selector_raw!r}) must be a mapping "
                              "with matchLabels.")
        selector = {str(k): str(v) for k, v in match.items()}
        if any(labels.get(k) != v for k, v in selector.items()):
            raise ConfigError(f"{where}: spec.template.metadata.labels: Invalid value: "
                              f"{labels!r}: `selector` does not match template `labels`.")
    claims: tuple[ClaimSpec, ...] = ()
    raw_spec = raw_template.get("spec")
    if kind is WorkloadKind.STATEFUL_SET:
        claims = tuple(_claim_template(t, f"spec.volumeClaimTemplates[{i}]", namespace)
                       for i, t in enumerate(spec.get("volumeClaimTemplates") or []))
        if claims and isinstance(raw_spec, Mapping):
            # Each claim template is a volume of the pod, named after the template.
            declared = {v.get("name") for v in raw_spec.get("volumes") or []
                        if isinstance(v, Mapping)}
            extra = [{"name": c.name, "persistentVolumeClaim": {"claimName": c.name}}
                     for c in claims if c.name not in declared]
            raw_spec = {**raw_spec, "volumes": [*(raw_spec.get("volumes") or []), *extra]}
    template = parse_pod_spec(name, {**tmeta, "namespace": namespace}, raw_spec,
                              "spec.template.spec")
    template = replace(template, labels=labels)
    allowed = ("OnFailure", "Never") if kind is WorkloadKind.JOB else ("Always",)
    if template.restart_policy not in allowed or (
            kind is WorkloadKind.JOB and raw_spec.get("restartPolicy") is None):
        raise ConfigError(f"{where}: spec.template.spec.restartPolicy"
                          f"(={raw_spec.get('restartPolicy')!r}): Unsupported value: "
                          "supported values: " + ", ".join(f'"{p}"' for p in allowed) + ".")
    replicas = _int(spec.get("replicas"), f"{where}: spec.replicas", 1)
    policy = spec.get("podManagementPolicy", "OrderedReady")
    if policy not in ("OrderedReady", "Parallel"):
        raise ConfigError(f"{where}: spec.podManagementPolicy(={policy!r}): Unsupported "
                          'value: supported values: "OrderedReady", "Parallel".')
    return WorkloadSpec(
        kind, name, template, namespace, replicas, selector,
        str(spec.get("serviceName") or ""), claims,
        completions=_int(spec.get("completions"), f"{where}: spec.completions", 1, 1),
        parallelism=_int(spec.get("parallelism"), f"{where}: spec.parallelism", 1),
        backoff_limit=_int(spec.get("backoffLimit"), f"{where}: spec.backoffLimit", 6),
        pod_management_policy=policy)


def _claim_template(raw: Any, where: str, namespace: str) -> ClaimSpec:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}(={raw!r}) must be a mapping.")
    name = (raw.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.metadata.name(={name!r}) must be a non-empty string.")
    return _claim(name, raw.get("spec") or {}, f"{where}.spec", namespace,
                  (raw.get("metadata") or {}).get("annotations"))


def _modes(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}.accessModes(={value!r}): Required value: at least 1 "
                          "access mode is required.")
    for mode in value:
        if mode not in _ACCESS_MODES:
            raise ConfigError(f"{where}.accessModes(={mode!r}): Unsupported value: supported "
                              "values: " + ", ".join(f'"{m}"' for m in _ACCESS_MODES) + ".")
    return tuple(value)


#: The claim's storage class as an annotation (before ``storageClassName``
#: existed); the PV controller still reads it first.
_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"


def _claim(name: str, spec: Mapping[str, Any], where: str, namespace: str,
           annotations: Any = None) -> ClaimSpec:
    requests = ((spec.get("resources") or {}).get("requests") or {})
    storage = requests.get("storage")
    if storage is None:
        raise ConfigError(f'PersistentVolumeClaim "{name}": {where}.resources.requests.storage: '
                          "Required value.")
    size = parse_quantity(storage, field=f"{where}.resources.requests.storage")
    storage_class = spec.get("storageClassName")
    if storage_class is not None and not isinstance(storage_class, str):
        raise ConfigError(f"{where}.storageClassName(={storage_class!r}) must be a string.")
    if isinstance(annotations, Mapping) and _BETA_CLASS in annotations:
        storage_class = str(annotations[_BETA_CLASS])
    return ClaimSpec(name, size, _modes(spec.get("accessModes"), where), storage_class,
                     str(spec.get("volumeName") or ""), namespace)


def _volume(name: str, spec: Mapping[str, Any]) -> PersistentVolumeSpec:
    where = f'PersistentVolume "{name}": spec'
    capacity = (spec.get("capacity") or {}).get("storage")
    if capacity is None:
        raise ConfigError(f"{where}.capacity.storage: Required value.")
    size = parse_quantity(capacity, field=f"{where}.capacity.storage")
    modes = _modes(spec.get("accessModes"), where)
    claim_ref = spec.get("claimRef") or {}
    claim = str(claim_ref.get("name", "")) if isinstance(claim_ref, Mapping) else ""
    klass = str(spec.get("storageClassName") or "")
    if "local" in spec:
        node = _affinity_node(spec.get("nodeAffinity"))
        if node is None:
            raise ConfigError(f"{where}.nodeAffinity: Required value: Local volume requires "
                              "node affinity (a kubernetes.io/hostname In [NODE] term).")
        path = str((spec.get("local") or {}).get("path", ""))
        return PersistentVolumeSpec(name, size, "local", node, path, modes, klass, claim)
    if "hostPath" in spec:
        path = str((spec.get("hostPath") or {}).get("path", ""))
        return PersistentVolumeSpec(name, size, "hostPath", _affinity_node(
            spec.get("nodeAffinity")), path, modes, klass, claim)
    if "nfs" in spec:
        return PersistentVolumeSpec(name, size, "nfs", None, "", modes, klass, claim)
    return PersistentVolumeSpec(name, size, "network", None, "", modes, klass, claim)


def _affinity_node(affinity: Any) -> str | None:
    try:
        terms = affinity["required"]["nodeSelectorTerms"]
        for term in terms:
            for expr in term.get("matchExpressions", []):
                if expr.get("key") == "kubernetes.io/hostname" and expr.get(
                        "operator") == "In" and expr.get("values"):
                    return str(expr["values"][0])
    except (KeyError, TypeError, AttributeError):
        return None
    return None


def claim_volume_names(spec: PodSpec) -> list[VolumeSpec]:
    """The pod's ``persistentVolumeClaim`` volumes."""
    return [v for v in spec.volumes if v.kind is VolumeKind.PERSISTENT_VOLUME_CLAIM]

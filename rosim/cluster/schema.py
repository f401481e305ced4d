"""Strict field validation of Kubernetes objects, as ``kubectl apply`` does it.

The API server decodes a manifest strictly: a field its schema does not
know is refused with ``strict decoding error: unknown field "PATH"``. Here
each object type is a table of its field names (Kubernetes' own, from the
``core/v1``, ``apps/v1``, ``batch/v1``, ``storage.k8s.io/v1`` and
``scheduling.k8s.io/v1`` schemas) and what each holds: a nested type, a list
of one, or a leaf (scalars or a subtree rosim accepts without looking into,
such as a probe or an affinity, which it does not simulate).

>>> check_fields({"name": "app", "securityContekst": {}}, "Container", "spec.containers[0]")
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rosim._errors.ConfigError: strict decoding error: unknown field "...securityContekst"
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rosim._errors import ConfigError

__all__ = ["check_fields"]

#: A leaf: any value (a scalar, or a subtree rosim does not simulate).
_ANY = ""

_META = {k: _ANY for k in (
    "name", "generateName", "namespace", "labels", "annotations", "uid", "resourceVersion",
    "generation", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
    "ownerReferences", "finalizers", "managedFields", "selfLink")}

_POD_SPEC = {k: _ANY for k in (
    "restartPolicy", "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy",
    "nodeSelector", "serviceAccountName", "serviceAccount", "automountServiceAccountToken",
    "nodeName", "hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace",
    "securityContext", "imagePullSecrets", "hostname", "subdomain", "affinity",
    "schedulerName", "tolerations", "hostAliases", "priorityClassName", "priority",
    "dnsConfig", "readinessGates", "runtimeClassName", "enableServiceLinks",
    "preemptionPolicy", "overhead", "topologySpreadConstraints", "setHostnameAsFQDN", "os",
    "hostUsers", "schedulingGates", "resourceClaims", "resources", "ephemeralContainers")}
_POD_SPEC.update({"volumes": "[Volume]", "containers": "[Container]",
                  "initContainers": "[Container]"})

_CONTAINER = {k: _ANY for k in (
    "name", "image", "command", "args", "workingDir", "ports", "envFrom", "resizePolicy",
    "restartPolicy", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe",
    "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
    "stdin", "stdinOnce", "tty")}
_CONTAINER.update({"env": "[EnvVar]", "resources": "ResourceRequirements",
                   "volumeMounts": "[VolumeMount]", "securityContext": "SecurityContext"})

_VOLUME = {k: _ANY for k in (
    "name", "configMap", "secret", "projected", "downwardAPI", "nfs", "csi", "ephemeral",
    "iscsi", "cephfs", "rbd", "fc", "azureFile", "azureDisk", "gcePersistentDisk",
    "awsElasticBlockStore", "gitRepo", "glusterfs", "flexVolume", "flocker", "vsphereVolume",
    "quobyte", "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos", "cinder",
    "image")}
_VOLUME.update({"emptyDir": "EmptyDir", "hostPath": "HostPath",
                "persistentVolumeClaim": "ClaimSource"})

_TABLES: dict[str, dict[str, str]] = {
    "ObjectMeta": _META,
    "PodSpec": _POD_SPEC,
    "Container": _CONTAINER,
    "Volume": _VOLUME,
    "EmptyDir": {"medium": _ANY, "sizeLimit": _ANY},
    "HostPath": {"path": _ANY, "type": _ANY},
    "ClaimSource": {"claimName": _ANY, "readOnly": _ANY},
    "EnvVar": {"name": _ANY, "value": _ANY, "valueFrom": _ANY},
    "VolumeMount": {k: _ANY for k in ("name", "readOnly", "recursiveReadOnly", "mountPath",
                                      "subPath", "mountPropagation", "subPathExpr")},
    "ResourceRequirements": {"limits": _ANY, "requests": _ANY, "claims": _ANY},
    "SecurityContext": {k: _ANY for k in (
        "capabilities", "privileged", "seLinuxOptions", "windowsOptions", "runAsUser",
        "runAsGroup", "runAsNonRoot", "readOnlyRootFilesystem", "allowPrivilegeEscalation",
        "procMount", "seccompProfile", "appArmorProfile")},
    "PodTemplateSpec": {"metadata": "ObjectMeta", "spec": "PodSpec"},
    "DeploymentSpec": {k: _ANY for k in (
        "replicas", "selector", "strategy", "minReadySeconds", "revisionHistoryLimit",
        "paused", "progressDeadlineSeconds")} | {"template": "PodTemplateSpec"},
    "StatefulSetSpec": {k: _ANY for k in (
        "replicas", "selector", "serviceName", "podManagementPolicy", "updateStrategy",
        "revisionHistoryLimit", "minReadySeconds", "persistentVolumeClaimRetentionPolicy",
        "ordinals")} | {"template": "PodTemplateSpec",
                        "volumeClaimTemplates": "[ClaimTemplate]"},
    "DaemonSetSpec": {k: _ANY for k in (
        "selector", "updateStrategy", "minReadySeconds", "revisionHistoryLimit")}
    | {"template": "PodTemplateSpec"},
    "JobSpec": {k: _ANY for k in (
        "parallelism", "completions", "activeDeadlineSeconds", "backoffLimit",
        "backoffLimitPerIndex", "maxFailedIndexes", "selector", "manualSelector",
        "ttlSecondsAfterFinished", "completionMode", "suspend", "podFailurePolicy",
        "podReplacementPolicy", "successPolicy", "managedBy")}
    | {"template": "PodTemplateSpec"},
    "ReplicaSetSpec": {k: _ANY for k in ("replicas", "selector", "minReadySeconds")}
    | {"template": "PodTemplateSpec"},  # ReplicationControllerSpec has the same fields
    "CronJobSpec": {k: _ANY for k in (
        "schedule", "timeZone", "startingDeadlineSeconds", "concurrencyPolicy", "suspend",
        "successfulJobsHistoryLimit", "failedJobsHistoryLimit")}
    | {"jobTemplate": "JobTemplateSpec"},
    "JobTemplateSpec": {"metadata": "ObjectMeta", "spec": "JobSpec"},
    "ClaimTemplate": {"apiVersion": _ANY, "kind": _ANY, "metadata": "ObjectMeta",
                      "spec": "ClaimSpec", "status": _ANY},
    "ClaimSpec": {k: _ANY for k in (
        "accessModes", "selector", "resources", "volumeName", "storageClassName",
        "volumeMode", "dataSource", "dataSourceRef", "volumeAttributesClassName")},
    "PersistentVolumeSpec": {k: _ANY for k in (
        "capacity", "accessModes", "persistentVolumeReclaimPolicy", "storageClassName",
        "mountOptions", "volumeMode", "nodeAffinity", "claimRef", "local", "hostPath", "nfs",
        "csi", "volumeAttributesClassName", "iscsi", "cephfs", "rbd", "fc", "azureFile",
        "azureDisk", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flexVolume",
        "vsphereVolume", "cinder", "portworxVolume")},
}

#: Top-level fields of each kind (besides ``apiVersion``, ``kind``, ``metadata``, ``status``).
_TOP: dict[str, dict[str, str]] = {
    "Pod": {"spec": "PodSpec"},
    "Deployment": {"spec": "DeploymentSpec"},
    "StatefulSet": {"spec": "StatefulSetSpec"},
    "DaemonSet": {"spec": "DaemonSetSpec"},
    "Job": {"spec": "JobSpec"},
    "ReplicaSet": {"spec": "ReplicaSetSpec"},
    "ReplicationController": {"spec": "ReplicaSetSpec"},
    "CronJob": {"spec": "CronJobSpec"},
    "PersistentVolumeClaim": {"spec": "ClaimSpec"},
    "PersistentVolume": {"spec": "PersistentVolumeSpec"},
    "StorageClass": {k: _ANY for k in (
        "provisioner", "parameters", "reclaimPolicy", "volumeBindingMode",
        "allowVolumeExpansion", "mountOptions", "allowedTopologies")},
    "PriorityClass": {k: _ANY for k in (
        "value", "globalDefault", "description", "preemptionPolicy")},
    "ConfigMap": {k: _ANY for k in ("data", "binaryData", "immutable")},
}
for _kind, _fields in _TOP.items():
    _TABLES[_kind] = {"apiVersion": _ANY, "kind": _ANY, "metadata": "ObjectMeta",
                      "status": _ANY} | _fields


def check_fields(data: Any, type_name: str, where: str) -> None:
    """Refuse a field that object type ``type_name`` does not have, naming its path.

    ``where`` is the path of ``data`` itself (``""`` for a whole object).
    Values of the wrong shape where an object or a list is expected are
    refused too; leaves are left to the parsers that read them.
    """
    table = _TABLES[type_name]
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or 'manifest'}(={data!r}) must be a mapping.")
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in table:
            raise ConfigError(f'strict decoding error: unknown field "{path}"')
        sub = table[key]
        if not sub or value is None:
            continue
        if sub.startswith("["):
            if not isinstance(value, list):
                raise ConfigError(f"{path}(={value!r}) must be a list.")
            for i, item in enumerate(value):
                check_fields(item, sub[1:-1], f"{path}[{i}]")
        else:
            check_fields(value, sub, path)


def known_kinds() -> tuple[str, ...]:
    """The kinds whose fields are checked (those rosim runs or stores, and
    those whose pod templates :func:`~rosim.cluster.manifests.pod_templates` reads)."""
    return tuple(_TOP)

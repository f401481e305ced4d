"""Kubernetes manifests as ``rosim check`` reads them: workloads and their pod templates.

A manifest file holds one or more YAML documents. Each document of a
workload kind carries a pod template; the cluster's
:func:`~rosim.cluster.manifests.pod_templates`, the one table of those
kinds, says where (``spec`` for a Pod, ``spec.template.spec`` for a
Deployment, ReplicaSet, StatefulSet, DaemonSet, Job or
ReplicationController, ``spec.jobTemplate.spec.template.spec`` for a
CronJob) and checks every document as strictly as the API server would.
Every other kind (Service, ConfigMap, ...) is listed as ignored. A ``kind:
List`` document's ``items`` are read one by one.

Each document is read twice: once by the project's safe loader (size, depth
and alias limits, repeated keys refused) for the values, and once by a
round-trip loader (ruamel.yaml) that keeps comments, key order and line
numbers, so that ``--fix`` can write the user's file back with only the
fixed fields changed.

>>> wl = load_workloads("apiVersion: apps/v1\\nkind: Deployment\\nmetadata: {name: web}\\n"
...                     "spec:\\n  selector: {matchLabels: {app: web}}\\n  template:\\n"
...                     "    metadata: {labels: {app: web}}\\n    spec:\\n"
...                     "      containers: [{name: app, image: nginx}]\\n", source="web.yaml")
>>> [(w.kind, w.name, w.pod_path) for w in wl.workloads]
[('Deployment', 'web', ('spec', 'template', 'spec'))]
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rosim._errors import ManifestError
from rosim._yaml import load_yaml_documents

__all__ = ["ManifestFile", "Workload", "load_workloads", "round_trip_yaml"]

def _validated_paths(documents: list[Any], source: str) -> dict[int, tuple[str, ...]]:
    """Check every document strictly, as the API server would; pod spec paths by index.

    The index counts documents with a ``List``'s items in its place.
    """
    from rosim._errors import ConfigError
    from rosim.cluster.manifests import pod_templates

    try:
        templates = pod_templates(list(documents))
    except ConfigError as exc:
        raise ManifestError(f"{source}: {str(exc).splitlines()[0]}") from None
    return {t.document: tuple(t.path.split(".")) for t in templates}


@dataclass(frozen=True)
class Workload:
    """One workload document: its kind, name and where its pod spec is.

    ``document`` is the plain data (for analysis), ``index`` the document's
    position in its file (with ``item`` the position inside a ``List``), and
    ``line`` the 1-based line where the document starts.
    """

    source: str
    index: int
    kind: str
    name: str
    namespace: str
    pod_path: tuple[str, ...]
    document: Mapping[str, Any]
    line: int = 1
    item: int | None = None

    @property
    def label(self) -> str:
        """``Deployment/web``: how reports name the workload."""
        return f"{self.kind}/{self.name}"

    @property
    def pod(self) -> Mapping[str, Any]:
        """The pod spec (``spec``, ``spec.template.spec``, ...)."""
        node: Any = self.document
        for key in self.pod_path:
            node = node[key]
        return node  # type: ignore[no-any-return]

    def yaml_path(self, *parts: str | int) -> str:
        """A field path such as ``spec.template.spec.containers[0].image``."""
        text = ".".join(self.pod_path)
        for part in parts:
            text += f"[{part}]" if isinstance(part, int) else f".{part}"
        return text


@dataclass
class ManifestFile:
    """A manifest file: its text, round-trip documents, workloads and ignored kinds."""

    source: str
    text: str
    documents: list[Any]
    workloads: list[Workload] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def round_trip_yaml() -> Any:
    """A ruamel.yaml round-trip loader/dumper set up like ``kubectl``'s output."""
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 4096
    rt.indent(mapping=2, sequence=2, offset=0)
    return rt


def _sequence_indent(text: str) -> tuple[int, int]:
    """The file's own list style: ``- x`` under its key, or indented by two."""
    lines = text.splitlines()
    for i, line in enumerate(lines[:-1]):
        stripped = line.rstrip()
        if stripped.endswith(":") and not stripped.lstrip().startswith("#"):
            nxt = lines[i + 1]
            if nxt.lstrip().startswith("- "):
                key_indent = len(line) - len(line.lstrip())
                dash = len(nxt) - len(nxt.lstrip())
                return (4, 2) if dash > key_indent else (2, 0)
    return (2, 0)


def load_workloads(text: str | bytes, *, source: str) -> ManifestFile:
    """Read every document of a manifest text; raise ManifestError naming the source.

    Documents that are not mappings, lack ``kind`` or hold a workload whose
    pod template is not a mapping with a list of containers are refused.
    """
    plain = load_yaml_documents(text, source=source)
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")
    rt = round_trip_yaml()
    seq, offset = _sequence_indent(text)
    rt.indent(mapping=2, sequence=seq, offset=offset)
    try:
        trip = [d for d in rt.load_all(io.StringIO(text)) if d is not None]
    except Exception as exc:  # ruamel disagrees with the safe loader: report it
        raise ManifestError(f"{source}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if len(trip) != len(plain):
        raise ManifestError(f"{source}: the YAML documents could not be read consistently.")
    manifest = ManifestFile(source, text, trip)
    manifest._yaml = rt  # type: ignore[attr-defined]
    for index, (doc, rdoc) in enumerate(zip(plain, trip, strict=True)):
        if not isinstance(doc, Mapping):
            raise ManifestError(f"{source}: document {index + 1} (line {_line(rdoc)}) is a "
                                f"{type(doc).__name__}, not a Kubernetes object.")
    paths = _validated_paths(plain, source)
    flat = 0
    for index, (doc, rdoc) in enumerate(zip(plain, trip, strict=True)):
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            for i, item in enumerate(doc["items"]):
                _add(manifest, item, index, _line(rdoc["items"][i]), i, paths.get(flat))
                flat += 1
            continue
        _add(manifest, doc, index, _line(rdoc), None, paths.get(flat))
        flat += 1
    return manifest


def _line(node: Any) -> int:
    lc = getattr(node, "lc", None)
    return (lc.line + 1) if lc is not None and lc.line is not None else 1


def _add(manifest: ManifestFile, doc: Any, index: int, line: int, item: int | None,
         validated: tuple[str, ...] | None) -> None:
    source = manifest.source
    where = f"{source}: document {index + 1} (line {line})"
    if not isinstance(doc, Mapping):
        raise ManifestError(f"{where}: is not a Kubernetes object.")
    kind = doc.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ManifestError(f"{where}: kind(={kind!r}) is missing; every Kubernetes "
                            "object names its kind.")
    metadata = doc.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ManifestError(f"{where}: metadata(={metadata!r:.60}) must be a mapping.")
    name = metadata.get("name") or metadata.get("generateName") or ""
    if not isinstance(name, str):
        raise ManifestError(f"{where}: metadata.name(={name!r}) must be a string.")
    path = validated
    if path is None:
        manifest.ignored.append(f"{kind}/{name or '?'}")
        return
    if not name:
        raise ManifestError(f"{where}: {kind} has no metadata.name.")
    node: Any = doc
    walked: list[str] = []
    for key in path:
        walked.append(key)
        node = node.get(key) if isinstance(node, Mapping) else None
        if not isinstance(node, Mapping):
            raise ManifestError(f"{where}: {kind}/{name}: {'.'.join(walked)}(={node!r:.60}) "
                                "must be a mapping.")
    containers = node.get("containers")
    if not isinstance(containers, list) or not containers:
        raise ManifestError(f"{where}: {kind}/{name}: {'.'.join(path)}.containers must be a "
                            "non-empty list.")
    for key in ("containers", "initContainers"):
        for i, ctr in enumerate(node.get(key) or []):
            here = f"{'.'.join(path)}.{key}[{i}]"
            if not isinstance(ctr, Mapping):
                raise ManifestError(f"{where}: {kind}/{name}: {here} must be a mapping.")
            for fld in ("name", "image"):
                if not isinstance(ctr.get(fld), str) or not ctr.get(fld):
                    raise ManifestError(f"{where}: {kind}/{name}: {here}.{fld}"
                                        f"(={ctr.get(fld)!r}) must be a non-empty string.")
    volumes = node.get("volumes") or []
    if not isinstance(volumes, list) or not all(isinstance(v, Mapping) for v in volumes):
        raise ManifestError(f"{where}: {kind}/{name}: {'.'.join(path)}.volumes must be a "
                            "list of mappings.")
    known = [str(v.get("name")) for v in volumes]
    templates = (doc.get("spec") or {}).get("volumeClaimTemplates") or []
    known += [str((t.get("metadata") or {}).get("name")) for t in templates
              if isinstance(t, Mapping)]
    for key in ("containers", "initContainers"):
        for i, ctr in enumerate(node.get(key) or []):
            mounts = ctr.get("volumeMounts") or []
            if not isinstance(mounts, list):
                raise ManifestError(f"{where}: {kind}/{name}: {'.'.join(path)}.{key}[{i}]."
                                    "volumeMounts must be a list.")
            for j, mount in enumerate(mounts):
                here = f"{'.'.join(path)}.{key}[{i}].volumeMounts[{j}]"
                if not isinstance(mount, Mapping) or not isinstance(
                        mount.get("mountPath"), str) or not str(
                        mount.get("mountPath")).startswith("/"):
                    raise ManifestError(f"{where}: {kind}/{name}: {here} needs a name and an "
                                        "absolute mountPath.")
                if mount.get("name") not in known:
                    raise ManifestError(
                        f"{where}: {kind}/{name}: {here}.name(={mount.get('name')!r}) is not "
                        "a volume of the pod; volumes: " + (", ".join(known) or "none") + ".")
    namespace = metadata.get("namespace") or "default"
    manifest.workloads.append(Workload(source, index, kind, name, str(namespace), path, doc,
                                       line, item))

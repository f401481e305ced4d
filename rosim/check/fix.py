"""The fix ``rosim check`` proposes, and writing it into the user's manifests.

Each written path is classified (:class:`~rosim.check.catalogue.PathKind`)
and gets the volume its kind calls for (domain.md §5, §6):

======== ====================================================================
kind     fix
======== ====================================================================
temp     ``emptyDir`` with a ``sizeLimit`` (disk)
cache    ``emptyDir`` with a ``sizeLimit`` (disk)
run      ``emptyDir`` ``medium: Memory``, small ``sizeLimit`` (pid files, sockets)
log      ``emptyDir`` with a ``sizeLimit`` — better, log to stdout
data     a PersistentVolumeClaim (``volumeClaimTemplates`` in a StatefulSet)
config   ``emptyDir`` filled by an init container from the image: an emptyDir
         hides the image's files, and Kubernetes has no ``tmpcopyup``
======== ====================================================================

plus ``readOnlyRootFilesystem: true``, an ``ephemeral-storage`` limit that
covers the disk volumes, and a non-root user where the image has one.
:func:`apply_fix` writes that into the round-trip YAML documents (comments,
key order and quoting kept); :func:`strategic_merge_patch` gives the same as
patches for ``kubectl patch`` or kustomize.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rosim.check.catalogue import PathKind
from rosim.check.manifests import Workload
from rosim.check.sources import WritePath

__all__ = ["ContainerFix", "MountFix", "apply_fix", "covering_mount", "plan_fix",
           "strategic_merge_patch"]

#: The ``sizeLimit`` each kind of volume gets.
SIZE_LIMITS = {PathKind.TEMP: "64Mi", PathKind.CACHE: "256Mi", PathKind.RUN: "8Mi",
               PathKind.LOG: "256Mi", PathKind.CONFIG: "16Mi", PathKind.DATA: "1Gi"}
#: What the writable layer and the logs may use on top of the volumes.
LAYER_BUDGET_MI = 256
#: Where a group of paths of mixed kinds gets the fix of the most demanding one.
_PRECEDENCE = (PathKind.DATA, PathKind.CONFIG, PathKind.LOG, PathKind.CACHE, PathKind.TEMP,
               PathKind.RUN)
#: Where the init container mounts the volume it fills.
SEED_PATH = "/seed"


@dataclass(frozen=True)
class MountFix:
    """One volume the fix adds: where, what kind, how large, and why."""

    volume: str
    mount_path: str
    kind: PathKind
    medium: str = ""
    size_limit: str = ""
    claim: str = ""
    copy_from_image: bool = False
    paths: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """``emptyDir``, ``emptyDir (Memory)`` or ``persistentVolumeClaim NAME``."""
        if self.claim:
            return f"persistentVolumeClaim {self.claim}"
        return "emptyDir (Memory)" if self.medium == "Memory" else "emptyDir"


@dataclass(frozen=True)
class ContainerFix:
    """Everything the fix changes for one container of one workload."""

    workload: str
    container: str
    index: int
    image: str
    mounts: tuple[MountFix, ...] = ()
    run_as_user: int | None = None
    ephemeral_limit: str = ""
    set_read_only: bool = True
    notes: tuple[str, ...] = ()


def covering_mount(path: str, mounts: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The volumeMount whose mountPath holds ``path`` (the deepest), or None."""
    best = None
    for mount in mounts:
        mp = str(mount.get("mountPath", "")).rstrip("/") or "/"
        if path == mp or path.startswith(mp + "/") or mp == "/":
            if best is None or len(mp) > len(str(best.get("mountPath", ""))):
                best = mount
    return best


def _volume_name(path: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[:50] or "root"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _mebibytes(text: str) -> int:
    number = int(re.match(r"\d+", text).group())  # type: ignore[union-attr]
    return number * 1024 if text.endswith("Gi") else number


def plan_fix(workload: Workload, index: int, writes: Sequence[WritePath], *,
             image_files: Any = None, run_as_user: int | None = None,
             taken: set[str] | None = None) -> ContainerFix:
    """Plan the fix of container ``index`` of ``workload`` for its ``writes``.

    ``image_files(path)`` says whether the image has files below ``path`` (so
    a mount there would hide them); ``run_as_user`` is the non-root user the
    image can run as, if known; ``taken`` collects the volume names already
    used (pass the same set for every container of a workload).
    """
    pod = workload.pod
    container = pod["containers"][index]
    mounts = list(container.get("volumeMounts") or [])
    taken = taken if taken is not None else set()
    taken |= {str(v.get("name")) for v in pod.get("volumes") or [] if isinstance(v, Mapping)}
    taken |= {str((t.get("metadata") or {}).get("name")) for t in
              (workload.document.get("spec") or {}).get("volumeClaimTemplates") or []
              if isinstance(t, Mapping)}
    groups: dict[str, list[WritePath]] = {}
    for write in writes:
        if covering_mount(write.path, mounts) is None:
            groups.setdefault(write.mount, []).append(write)
    # A mount inside another one is folded into the outer one.
    for inner in sorted(groups, key=len, reverse=True):
        for outer in groups:
            if outer != inner and inner.startswith(outer.rstrip("/") + "/"):
                groups[outer].extend(groups.pop(inner))
                break
    fixes = []
    for mount_path in sorted(groups):
        paths = groups[mount_path]
        kinds = {w.kind for w in paths}
        kind = next(k for k in _PRECEDENCE if k in kinds)
        name = _volume_name(mount_path, taken)
        hides = bool(image_files and image_files(mount_path))
        copy = kind is PathKind.CONFIG or (hides and kind is not PathKind.RUN)
        claim = f"{name}-{workload.name}" if kind is PathKind.DATA else ""
        fixes.append(MountFix(name, mount_path, kind,
                              medium="Memory" if kind is PathKind.RUN else "",
                              size_limit=SIZE_LIMITS[kind], claim=claim, copy_from_image=copy,
                              paths=tuple(sorted({w.path for w in paths}))))
    limits = (container.get("resources") or {}).get("limits") or {}
    ephemeral = ""
    if "ephemeral-storage" not in limits:
        total = LAYER_BUDGET_MI + sum(_mebibytes(m.size_limit) for m in fixes
                                      if not m.claim and m.medium != "Memory")
        volumes = {str(v.get("name")): v for v in pod.get("volumes") or []
                   if isinstance(v, Mapping)}
        for mount in mounts:
            body = (volumes.get(str(mount.get("name"))) or {}).get("emptyDir")
            if isinstance(body, Mapping) and body.get("medium") != "Memory":
                limit = str(body.get("sizeLimit") or "256Mi")
                total += _mebibytes(limit) if re.fullmatch(r"\d+(Mi|Gi)", limit) else 256
        ephemeral = f"{total}Mi"
    notes = []
    replicas = (workload.document.get("spec") or {}).get("replicas", 1)
    claims = [m.claim for m in fixes if m.claim]
    if claims and workload.kind != "StatefulSet" and isinstance(replicas, int) and replicas > 1:
        notes.append(f"{replicas} replicas share the claim {claims[0]} (ReadWriteOnce): a "
                     "second node cannot attach it (Multi-Attach error); make the workload a "
                     "StatefulSet with volumeClaimTemplates, or use a ReadWriteMany class.")
    return ContainerFix(workload.label, str(container["name"]), index,
                        str(container["image"]), tuple(fixes), run_as_user, ephemeral,
                        notes=tuple(notes))


# ------------------------------------------------------------------ writing the fix
def _map(**items: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap()
    for key, value in items.items():
        out[key.replace("_", "-") if key == "ephemeral_storage" else key] = value
    return out


def _seq(*items: Any) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    return CommentedSeq(items)


def _child(node: Any, key: str, factory: Any) -> Any:
    value = node.get(key)
    if value is None:
        value = factory()
        node[key] = value
    return value


def _claim_spec() -> Any:
    return _map(accessModes=_seq("ReadWriteOnce"),
                resources=_map(requests=_map(storage=SIZE_LIMITS[PathKind.DATA])))


def apply_fix(document: Any, workload: Workload, fixes: Sequence[ContainerFix]) -> list[Any]:
    """Write ``fixes`` into the round-trip ``document`` in place.

    Returns new documents to add to the file (a PersistentVolumeClaim for
    each data volume of a workload that is not a StatefulSet).
    """
    node = document if workload.item is None else document["items"][workload.item]
    top = node
    for key in workload.pod_path:
        node = node[key]
    pod = node
    extra = []
    for fix in fixes:
        container = pod["containers"][fix.index]
        context = _child(container, "securityContext", _map)
        context["readOnlyRootFilesystem"] = True
        if fix.run_as_user is not None:
            context["runAsNonRoot"] = True
            context["runAsUser"] = fix.run_as_user
        if fix.ephemeral_limit:
            resources = _child(container, "resources", _map)
            limits = _child(resources, "limits", _map)
            limits["ephemeral-storage"] = fix.ephemeral_limit
        if not fix.mounts:
            continue
        mounts = _child(container, "volumeMounts", _seq)
        for mount in fix.mounts:
            mounts.append(_map(name=mount.volume, mountPath=mount.mount_path))
            if mount.claim and workload.kind == "StatefulSet":
                templates = _child(top["spec"], "volumeClaimTemplates", _seq)
                templates.append(_map(metadata=_map(name=mount.volume), spec=_claim_spec()))
            else:
                volumes = _child(pod, "volumes", _seq)
                if mount.claim:
                    volumes.append(_map(name=mount.volume, persistentVolumeClaim=_map(
                        claimName=mount.claim)))
                    extra.append(_map(apiVersion="v1", kind="PersistentVolumeClaim",
                                      metadata=_map(name=mount.claim), spec=_claim_spec()))
                else:
                    body = _map(medium="Memory", sizeLimit=mount.size_limit) \
                        if mount.medium else _map(sizeLimit=mount.size_limit)
                    volumes.append(_map(name=mount.volume, emptyDir=body))
            if mount.copy_from_image:
                inits = _child(pod, "initContainers", _seq)
                inits.append(_init_container(fix, mount))
    return extra


def _init_container(fix: ContainerFix, mount: MountFix) -> Any:
    return _map(name=f"seed-{mount.volume}"[:63], image=fix.image,
                command=_seq("sh", "-c", f"cp -a -n {mount.mount_path}/. {SEED_PATH}/"),
                securityContext=_map(readOnlyRootFilesystem=True),
                volumeMounts=_seq(_map(name=mount.volume, mountPath=SEED_PATH)))


def strategic_merge_patch(workload: Workload, fixes: Sequence[ContainerFix]) -> dict[str, Any]:
    """The fix as a strategic-merge patch (``kubectl patch --type strategic``, kustomize).

    Lists of containers, volumes and volumeMounts merge by ``name`` /
    ``mountPath``, so the patch names only what changes.
    """
    doc = workload.document
    skeleton: dict[str, Any] = {"apiVersion": doc.get("apiVersion", "v1"),
                                "kind": workload.kind,
                                "metadata": {"name": workload.name}}
    if workload.namespace != "default":
        skeleton["metadata"]["namespace"] = workload.namespace
    shadow: dict[str, Any] = {"spec": {}}
    fake = Workload(workload.source, workload.index, workload.kind, workload.name,
                    workload.namespace, workload.pod_path, shadow, workload.line)
    node: Any = shadow
    for key in workload.pod_path[:-1]:
        node = node.setdefault(key, {})
    node[workload.pod_path[-1]] = {"containers": [{"name": c["name"], "image": c["image"]}
                                                  for c in workload.pod["containers"]]}
    extra = apply_fix(shadow, fake, fixes)
    node = shadow
    for key in workload.pod_path:
        node = node[key]
    for container in node["containers"]:
        container.pop("image", None)
    if not any(len(c) > 1 for c in node["containers"]):
        node.pop("containers")
    skeleton["spec"] = _plain_value(shadow["spec"])
    return {"patch": skeleton, "claims": [_plain_value(e) for e in extra]}


def _plain_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_value(v) for v in value]
    return value


def mount_dirs(fixes: Sequence[ContainerFix]) -> list[str]:
    """Every directory the fixes mount (for reports)."""
    return sorted({posixpath.normpath(m.mount_path) for f in fixes for m in f.mounts})

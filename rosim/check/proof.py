"""The proof: the workload before and after the fix, run in a simulated cluster.

For every workload with a fix, :func:`prove` applies three pods to a
two-node :class:`~rosim.Cluster` (CRI-O) and replays every write the sources
found, through the same ``open``/``os`` calls the app makes:

1. **as written** — the user's manifest: where do the bytes land, and does
   the data survive a reschedule?
2. **linter fix only** — the same with ``readOnlyRootFilesystem: true`` and
   nothing else, as a linter suggests: each write's errno (``EROFS``);
3. **rosim's fix** — the patched manifest: each write's outcome, the data
   paths after a reschedule, and the pod's ephemeral storage against its
   limit after one pass of the kubelet's eviction manager.

Kinds of volume rosim does not model (configMap, secret, projected,
downwardAPI...) become read-only emptyDirs, as they are read-only in a real
pod; the container's process is not started (its writes are replayed
instead), so the image's entrypoint does not matter. The init container a
fix adds to seed a volume from the image is played by copying the image's
files into the volume (``cp -a -n``) before the writes.
"""

from __future__ import annotations

import copy
import errno
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rosim.check.catalogue import PathKind
from rosim.check.fix import ContainerFix, apply_fix
from rosim.check.manifests import Workload
from rosim.check.sources import WritePath
from rosim.fs.layers import EntryKind, Image, ImageConfig

__all__ = ["Proof", "WriteOutcome", "prove"]

#: Bytes each replayed write appends.
WRITE_BYTES = 4096
_MODELLED = ("emptyDir", "hostPath", "persistentVolumeClaim")


@dataclass(frozen=True)
class WriteOutcome:
    """One replayed write: its outcome under each manifest and after a reschedule.

    Outcomes are ``"OK"`` or the errno's name (``"EROFS"``). ``kept_as_written``
    and ``kept_after_fix`` say whether a data path was still there after the
    pod was rescheduled (None for paths that are not data).
    """

    container: str
    path: str
    kind: PathKind
    as_written: str
    linter_fix: str
    after_fix: str
    kept_as_written: bool | None = None
    kept_after_fix: bool | None = None


@dataclass(frozen=True)
class Proof:
    """What the simulated cluster showed for one workload.

    ``hidden`` lists image files that the fix's new mounts hide from the
    container even after seeding (a warning, not a failure).
    """

    workload: str
    outcomes: tuple[WriteOutcome, ...]
    ephemeral_used: int
    ephemeral_limit: int | None
    evicted: str = ""
    hidden: tuple[str, ...] = ()

    def to_text(self) -> str:
        """The proof as a table: each write under each manifest, then the verdict."""
        def word(kept: bool | None) -> str:
            return "-" if kept is None else ("kept" if kept else "lost")

        lines = [f"Proof for {self.workload} (simulated cluster, CRI-O, 2 nodes): each write "
                 "replayed",
                 f"  {'container path':<40} {'as written':<11} {'linter fix':<11} "
                 f"{'rosim fix':<10} data after reschedule"]
        for o in self.outcomes:
            kept = ""
            if o.kept_after_fix is not None or o.kept_as_written is not None:
                kept = (f"{word(o.kept_as_written)} as written, {word(o.kept_after_fix)} "
                        "with the fix")
            lines.append(f"  {o.container + ' ' + o.path:<40} {o.as_written:<11} "
                         f"{o.linter_fix:<11} {o.after_fix:<10} {kept}".rstrip())
        budget = "no ephemeral-storage limit" if self.ephemeral_limit is None else \
            f"the pod's limits add up to {quantity(self.ephemeral_limit)}"
        evicted = f"evicted: {self.evicted}" if self.evicted else "no eviction"
        lines.append(f"  ephemeral storage after the writes: {quantity(self.ephemeral_used)} "
                     f"({budget}); {evicted}")
        if self.hidden:
            lines.append("  image files the fix's mounts hide: " + ", ".join(self.hidden))
        lines.append("  => " + ("the fix works" if self.ok else "the fix does NOT work"))
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.to_text()

    @property
    def ok(self) -> bool:
        """Every write works after the fix, data survives, and no eviction."""
        return (all(o.after_fix == "OK" for o in self.outcomes)
                and all(o.kept_after_fix is not False for o in self.outcomes)
                and not self.evicted)


def quantity(nbytes: int) -> str:
    """A byte count as a Kubernetes quantity: ``512Mi``, ``12Ki``."""
    for unit, factor in (("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if nbytes >= factor and nbytes % factor == 0:
            return f"{nbytes // factor}{unit}"
    return f"{nbytes / 1024:.0f}Ki" if nbytes >= 1024 else str(nbytes)


def _replay(path: str, change: str) -> str:
    """The write itself, as the app makes it (runs inside the container).

    Returns the file written (a file inside ``path`` when it is a directory).
    """
    parent = os.path.dirname(path)
    if change == "D":
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        return path
    os.makedirs(parent, exist_ok=True)
    if os.path.isdir(path):
        path = os.path.join(path, ".written")
    with open(path, "a") as f:
        f.write("x" * WRITE_BYTES)
    return path


def _replay_all(items: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Every write of one container in one process: ``(outcome, file written)`` each."""
    out = []
    for path, change in items:
        try:
            out.append(("OK", _replay(path, change)))
        except OSError as exc:
            out.append((errno.errorcode.get(exc.errno or 0, str(exc.errno)), path))
    return out


def _outcomes(ctr: Any, writes: Sequence[WritePath]) -> list[tuple[str, str]]:
    if ctr is None:
        return [("not started", w.path) for w in writes]
    return ctr.run(_replay_all, [(w.path, w.change) for w in writes])  # type: ignore[no-any-return]


def _sim_pod(workload: Workload, document: Mapping[str, Any], *, read_only: bool | None
             ) -> tuple[dict[str, Any], list[str]]:
    node: Any = document if workload.item is None else document["items"][workload.item]
    top = node
    for key in workload.pod_path:
        node = node[key]
    pod = node
    volumes, read_only_volumes, claims = [], set(), []
    for volume in pod.get("volumes") or []:
        name = str(volume.get("name"))
        if "emptyDir" in volume:
            body = dict(volume.get("emptyDir") or {})
            volumes.append({"name": name, "emptyDir": {k: body[k] for k in
                                                       ("medium", "sizeLimit") if k in body}})
        elif "hostPath" in volume:
            volumes.append({"name": name, "hostPath": {"path": volume["hostPath"]["path"]}})
        elif "persistentVolumeClaim" in volume:
            claim = str(volume["persistentVolumeClaim"].get("claimName"))
            volumes.append({"name": name, "persistentVolumeClaim": {"claimName": claim}})
            claims.append(claim)
        else:
            volumes.append({"name": name, "emptyDir": {}})
            read_only_volumes.add(name)
    if workload.kind == "StatefulSet":
        for template in (top.get("spec") or {}).get("volumeClaimTemplates") or []:
            name = str((template.get("metadata") or {}).get("name"))
            claim = f"{name}-{workload.name}-0"
            volumes.append({"name": name, "persistentVolumeClaim": {"claimName": claim}})
            claims.append(claim)
    names = {v["name"] for v in volumes}
    containers = []
    for container in pod["containers"]:
        mounts = []
        for mount in container.get("volumeMounts") or []:
            if mount.get("name") not in names:
                continue
            entry = {"name": mount["name"], "mountPath": mount["mountPath"],
                     "readOnly": bool(mount.get("readOnly")) or mount["name"] in
                     read_only_volumes}
            if mount.get("subPath"):
                entry["subPath"] = mount["subPath"]
            mounts.append(entry)
        context = container.get("securityContext") or {}
        ro = context.get("readOnlyRootFilesystem") if read_only is None else read_only
        limits = (container.get("resources") or {}).get("limits") or {}
        spec: dict[str, Any] = {"name": container["name"], "image": container["image"],
                                "volumeMounts": mounts,
                                "securityContext": {"readOnlyRootFilesystem": bool(ro)}}
        if "ephemeral-storage" in limits:
            spec["resources"] = {"limits": {"ephemeral-storage":
                                            str(limits["ephemeral-storage"])}}
        containers.append(spec)
    manifest = {"metadata": {"name": workload.name}, "spec": {"containers": containers,
                                                              "volumes": volumes}}
    return manifest, claims


def _cluster(images: Mapping[str, Image], claims: Sequence[str]) -> Any:
    from rosim.cluster.cluster import Cluster

    cluster = Cluster(nodes=2, seed=0, images=dict(images))
    for claim in dict.fromkeys(claims):
        cluster.add_persistent_volume(f"pv-{claim}", "1Gi", claim=claim)
    return cluster


def _seed_files(files: Sequence[tuple[str, bytes]]) -> None:
    """What ``cp -a -n`` does, file by file (runs inside the container)."""
    for path, data in files:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(data)


def _image_files(image: Image, directory: str, limit: int = 3) -> list[str]:
    """Up to ``limit`` regular files of the image below ``directory``, sorted."""
    tree = image.tree
    found, stack = [], [directory]
    while stack and len(found) < limit:
        current = stack.pop()
        for child in tree.children(current):
            path = f"{current.rstrip('/')}/{child}"
            entry = tree.entry(path)
            if entry is not None and entry.kind is EntryKind.DIR:
                stack.append(path)
            elif entry is not None and entry.kind is EntryKind.FILE:
                found.append(path)
    return sorted(found)[:limit]


def _seed(ctr: Any, image: Image, directory: str) -> None:
    """The fix's init container: copy the image's files below ``directory`` into its volume."""
    tree = image.tree
    files, stack = [], [directory]
    while stack:
        current = stack.pop()
        for child in tree.children(current):
            path = f"{current.rstrip('/')}/{child}"
            entry = tree.entry(path)
            if entry is None:
                continue
            if entry.kind is EntryKind.DIR:
                stack.append(path)
            elif entry.kind is EntryKind.FILE and entry.data is not None:
                files.append((path, entry.data))
    if files:
        ctr.run(_seed_files, files)


def _run(workload: Workload, manifest: dict[str, Any], claims: Sequence[str],
         images: Mapping[str, Image], writes: Mapping[str, Sequence[WritePath]],
         reschedule: bool, seeds: Mapping[str, Sequence[str]] | None = None,
         mounted: Mapping[str, Sequence[str]] | None = None
         ) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], bool], Any]:
    from rosim.cluster.dataloss import deployment

    cluster = _cluster(images, claims)
    # A one-replica Deployment: a bare Pod would not come back after the reschedule.
    pod = cluster.apply(deployment(workload.name, manifest["spec"])).pod
    refs = {c["name"]: c["image"] for c in manifest["spec"]["containers"]}
    for name, directories in (seeds or {}).items():
        ctr = pod.containers.get(name)
        for directory in directories:
            if ctr is not None:
                _seed(ctr, images[refs[name]], directory)
    hidden: list[str] = []
    for name, directories in (mounted or {}).items():
        ctr = pod.containers.get(name)
        for directory in directories:
            files = _image_files(images[refs[name]], directory)
            hidden += [f"{name} {p}" for p in files if ctr is not None and not ctr.exists(p)]
    results: dict[tuple[str, str], str] = {}
    written: dict[tuple[str, str], str] = {}
    for name, paths in writes.items():
        for write, (outcome, path) in zip(paths, _outcomes(pod.containers.get(name), paths),
                                          strict=True):
            results[(name, write.path)], written[(name, write.path)] = outcome, path
    kept: dict[tuple[str, str], bool] = {}
    if reschedule:
        usage = cluster.usage(pod.name)
        evicted = cluster.kubelet_sync()
        new = cluster.reschedule(pod.name)
        for name, paths in writes.items():
            for write in paths:
                if write.kind is PathKind.DATA and write.change != "D" and \
                        results[(name, write.path)] == "OK":
                    ctr = new.containers.get(name)
                    kept[(name, write.path)] = bool(ctr and ctr.exists(
                        written[(name, write.path)]))
        return results, kept, (usage, evicted, hidden)
    return results, kept, None


def prove(workload: Workload, fixes: Sequence[ContainerFix],
          writes: Mapping[str, Sequence[WritePath]], images: Mapping[str, Image]) -> Proof:
    """Run the three pods of the module docstring and report every write's outcome.

    ``writes`` maps container names to their writes, ``images`` image
    references to the images to simulate them with.
    """
    workload = replace(workload, item=None)
    quiet = {ref: Image(image.name, image.layers, ImageConfig()) for ref, image in
             images.items()}
    original = workload.document
    as_written, claims = _sim_pod(workload, original, read_only=None)
    linter, _ = _sim_pod(workload, original, read_only=True)
    fixed_doc = copy.deepcopy(dict(original))
    apply_fix(fixed_doc, workload, fixes)
    fixed, fixed_claims = _sim_pod(workload, fixed_doc, read_only=None)
    r_written, kept_written, _ = _run(workload, as_written, claims, quiet, writes, True)
    r_linter, _, _ = _run(workload, linter, claims, quiet, writes, False)
    seeds = {f.container: [m.mount_path for m in f.mounts if m.copy_from_image]
             for f in fixes}
    mounted = {f.container: [m.mount_path for m in f.mounts] for f in fixes}
    r_fixed, kept_fixed, extra = _run(workload, fixed, fixed_claims, quiet, writes, True,
                                      seeds, mounted)
    usage, evicted, hidden = extra
    limits = [c.get("resources", {}).get("limits", {}).get("ephemeral-storage")
              for c in fixed["spec"]["containers"]]
    from rosim.cluster.quantity import parse_quantity

    declared = [parse_quantity(x, field="ephemeral-storage") for x in limits if x]
    outcomes = []
    for name, paths in writes.items():
        for write in paths:
            key = (name, write.path)
            outcomes.append(WriteOutcome(name, write.path, write.kind, r_written[key],
                                         r_linter[key], r_fixed[key], kept_written.get(key),
                                         kept_fixed.get(key)))
    return Proof(workload.label, tuple(outcomes), usage.ephemeral,
                 sum(declared) if declared else None,
                 ", ".join(evicted) if evicted else "", tuple(hidden))

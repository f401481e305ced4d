"""``check_manifests``: findings, write paths, the fix and the proof for every container.

The engine reads manifests (:mod:`rosim.check.manifests`), learns where each
container writes (:mod:`rosim.check.sources`: a diff, Python code run in
rosim, or the image catalogue), plans the fix (:mod:`rosim.check.fix`),
evaluates the rules (:mod:`rosim.check.rules`) and proves the fix in a
simulated cluster (:mod:`rosim.check.proof`). The result is a
:class:`~rosim.check.report.CheckReport`.

>>> report = check_manifests('''
... apiVersion: apps/v1
... kind: Deployment
... metadata: {name: cache}
... spec:
...   selector: {matchLabels: {app: cache}}
...   template:
...     metadata: {labels: {app: cache}}
...     spec:
...       containers:
...       - name: redis
...         image: redis:7
... ''')
>>> [f.rule for f in report.findings]
['RO001', 'RO002', 'RO003']
>>> [(m.mount_path, m.source) for m in report.containers[0].fix.mounts]
[('/data', 'persistentVolumeClaim data-cache')]
>>> [(o.path, o.linter_fix, o.after_fix, o.kept_as_written, o.kept_after_fix)
...  for o in report.proofs[0].outcomes]
[('/data', 'EROFS', 'OK', False, True)]
>>> report.exit_code
1
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from rosim._bounds import check_type
from rosim.check.catalogue import CatalogueEntry, PathKind, image_key, lookup
from rosim.check.fix import ContainerFix, covering_mount, plan_fix
from rosim.check.manifests import ManifestFile, Workload, load_workloads
from rosim.check.proof import Proof, prove
from rosim.check.report import CheckReport, ContainerReport
from rosim.check.rules import RULES, Finding
from rosim.check.sources import (
    CheckInputError,
    WritePath,
    catalogue_writes,
    parse_diff,
    python_writes,
    stand_in_image,
)
from rosim.fs.layers import EntryKind, Image

__all__ = ["check_manifests"]


def check_manifests(manifests: str | Mapping[str, str], *,
                    writes: Mapping[str, Sequence[WritePath]] | None = None,
                    diffs: Mapping[str, str] | None = None,
                    python: Mapping[str, str] | None = None,
                    images: Mapping[str, Image] | None = None,
                    lint_only: bool = False, proof: bool = True) -> CheckReport:
    """Check Kubernetes manifests for a read-only root; return a CheckReport.

    ``manifests`` is YAML text or ``{source name: text}``. Where each
    container writes comes from, in order: ``writes`` (already parsed),
    ``diffs`` (``docker diff`` text), ``python`` (``MODULE:FUNCTION`` or a
    function, run in rosim), then the image catalogue. Each of these maps a container name
    (``''`` when the manifests hold one container) to its value. ``images``
    gives images (e.g. ``Image.from_tar``) by container name, so the check
    knows what a mount would hide. ``lint_only`` skips write paths, fix and
    proof; ``proof=False`` skips only the proof.

    Raises :class:`~rosim.ConfigError` (``ManifestError``, ``CheckInputError``)
    for bad input, naming the source.
    """
    if isinstance(manifests, str):
        manifests = {"<manifest>": manifests}
    if not isinstance(manifests, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in manifests.items()):
        raise CheckInputError(f"manifests(={manifests!r:.60}) must be YAML text or a dict "
                              "of source name to YAML text.")
    for label, given in (("writes", writes), ("diffs", diffs), ("python", python),
                         ("images", images)):
        if given is not None and not isinstance(given, Mapping):
            raise CheckInputError(f"{label}(={given!r:.60}) must be a dict by container "
                                  "name, or None.")
    check_type(lint_only, "lint_only", bool, "a bool")
    check_type(proof, "proof", bool, "a bool")
    files = [load_workloads(text, source=source) for source, text in manifests.items()]
    containers = [(wl, i, c) for mf in files for wl in mf.workloads
                  for i, c in enumerate(wl.pod["containers"])]
    names = sorted({str(c["name"]) for _, _, c in containers})
    images = dict(images or {})
    if "" in images and len(names) > 1:
        # An image tar without a container name goes to the containers running it.
        image = images.pop("")
        matching = [str(c["name"]) for _, _, c in containers
                    if _repository(str(c["image"])) == _repository(image.name)]
        if not matching:
            refs = ", ".join(sorted({str(c["image"]) for _, _, c in containers}))
            raise CheckInputError(f"--image-tar: image {image.name!r} is not the image of any "
                                  f"container ({refs}); name one: CONTAINER=FILE.")
        for name in matching:
            images.setdefault(name, image)
    explicit: dict[str, list[WritePath]] = {}
    for label, given in (("writes", writes), ("--diff", diffs), ("--python", python),
                         ("--image-tar", images)):
        for key in given or {}:
            _resolve_key(label, key, names)
    for key, value in (writes or {}).items():
        explicit.setdefault(key, []).extend(value)
    for key, text in (diffs or {}).items():
        explicit.setdefault(key, []).extend(parse_diff(
            text, source=f"the diff of {key or 'the container'}", origin="the run's diff"))
    findings: list[Finding] = []
    reports: list[ContainerReport] = []
    proofs: list[Proof] = []
    for mf in files:
        for wl in mf.workloads:
            fixes, sim_images, wl_writes, taken = [], {}, {}, set()
            for index, container in enumerate(wl.pod["containers"]):
                name, ref = str(container["name"]), str(container["image"])
                entry = lookup(ref)
                image = _image_for(name, ref, images)
                found: list[WritePath] = []
                if not lint_only:
                    found = list(explicit.get(name, explicit.get("", [])))
                    target = (python or {}).get(name, (python or {}).get(""))
                    if target:
                        run_image = image or stand_in_image(ref, entry)
                        found += python_writes(target, run_image)
                    if not found and not _has_key(name, writes, diffs, python):
                        entry, found = catalogue_writes(ref)
                        if entry is None:
                            raise CheckInputError(
                                f"{mf.source}: {wl.label} container {name!r}: image {ref!r} "
                                "is not in the image catalogue; give --diff, --python or "
                                "--lint-only (rosim check --list-images shows the "
                                "catalogue).")
                sim = image or stand_in_image(ref, entry, found)
                sim_images[ref] = sim
                user = _non_root_user(sim, entry)
                fix = None
                if not lint_only:
                    fix = plan_fix(wl, index, found, image_files=_hider(sim),
                                   run_as_user=user if _runs_as_root(wl, container, sim)
                                   else None, taken=taken)
                    fixes.append(fix)
                    wl_writes[name] = found
                findings += _evaluate(mf, wl, index, container, found, sim, fix)
                reports.append(ContainerReport(mf.source, wl.label, name, ref, tuple(found),
                                               fix, entry.name if entry else "",
                                               entry.source if entry else ""))
            if proof and not lint_only and any(wl_writes.values()):
                proofs.append(prove(wl, fixes, wl_writes, sim_images))
    return CheckReport(tuple(mf.source for mf in files), tuple(findings), tuple(reports),
                       tuple(proofs), tuple(i for mf in files for i in mf.ignored), files)


def _repository(ref: str) -> str:
    """``docker.io/library/nginx:1.25`` and ``nginx`` are the same repository."""
    return image_key(ref)[0].removeprefix("library/")


def _resolve_key(label: str, key: str, names: Sequence[str]) -> None:
    if key == "":
        if len(names) > 1:
            raise CheckInputError(f"{label}: the manifests hold several containers ("
                                  + ", ".join(names) + "): name one, CONTAINER=VALUE.")
        return
    if key not in names:
        raise CheckInputError(f"{label} {key}=...: no container named {key!r}; containers: "
                              + (", ".join(names) or "none") + ".")


def _has_key(name: str, *maps: Mapping[str, Any] | None) -> bool:
    return any(m and (name in m or "" in m) for m in maps)


def _image_for(name: str, ref: str, images: Mapping[str, Image] | None) -> Image | None:
    if images:
        if name in images:
            return images[name]
        if "" in images:
            return images[""]
    from rosim._errors import ImageError
    from rosim.images.catalog import resolve_image

    try:
        return resolve_image(ref)
    except ImageError:
        return None


def _hider(image: Image) -> Any:
    tree = image.tree

    def has_files(path: str) -> bool:
        stack = [path]
        while stack:
            current = stack.pop()
            entry = tree.entry(current)
            if entry is None:
                continue
            if entry.kind in (EntryKind.FILE, EntryKind.SYMLINK) and current != path:
                return True
            if entry.kind is EntryKind.DIR:
                stack.extend(posixpath.join(current, c) for c in tree.children(current))
        return False

    return has_files


def _hidden_files(image: Image, path: str, limit: int = 3) -> list[str]:
    tree = image.tree
    out, stack = [], [path]
    while stack and len(out) < limit:
        current = stack.pop()
        for child in tree.children(current):
            full = posixpath.join(current, child)
            entry = tree.entry(full)
            if entry is None:
                continue
            if entry.kind is EntryKind.DIR:
                stack.append(full)
            else:
                out.append(full)
    return sorted(out)[:limit]


def _non_root_user(image: Image, entry: CatalogueEntry | None) -> int | None:
    user = image.config.user.split(":")[0]
    if user.isdigit():
        return int(user) or None
    if user:
        passwd = image.tree.entry("/etc/passwd")
        if passwd is not None and passwd.data:
            for line in passwd.data.decode(errors="replace").splitlines():
                fields = line.split(":")
                if len(fields) > 2 and fields[0] == user and fields[2].isdigit():
                    return int(fields[2]) or None
    return entry.user if entry else None


def _context(wl: Workload, container: Mapping[str, Any], key: str) -> Any:
    own = (container.get("securityContext") or {}).get(key)
    if own is not None:
        return own
    return (wl.pod.get("securityContext") or {}).get(key)


def _runs_as_root(wl: Workload, container: Mapping[str, Any], image: Image) -> bool:
    if _context(wl, container, "runAsNonRoot") is True:
        return False
    user = _context(wl, container, "runAsUser")
    if isinstance(user, int) and user > 0:
        return False
    if user is None:
        image_user = image.config.user.split(":")[0]
        if image_user and image_user not in ("0", "root"):
            return False
    return True


def _line(mf: ManifestFile, wl: Workload, *keys: str | int) -> int:
    node: Any = mf.documents[wl.index]
    if wl.item is not None:
        node = node["items"][wl.item]
    best = wl.line
    for key in (*wl.pod_path, *keys):
        try:
            lc = node.lc
            if isinstance(key, int):
                best = lc.item(key)[0] + 1
            else:
                best = lc.key(key)[0] + 1
            node = node[key]
        except (KeyError, IndexError, AttributeError, TypeError):
            break
    return best


def _evaluate(mf: ManifestFile, wl: Workload, index: int, container: Mapping[str, Any],
              writes: Sequence[WritePath], image: Image, fix: ContainerFix | None
              ) -> list[Finding]:
    name = str(container["name"])
    here = ("containers", index)
    findings = []

    def add(rule: str, message: str, *keys: str | int, path: str = "",
            level: Any = None) -> None:
        findings.append(Finding(rule, level or RULES[rule].severity, mf.source,
                                _line(mf, wl, *here, *keys), wl.label, name, message,
                                wl.yaml_path(*here, *keys), path))

    context = container.get("securityContext") or {}
    read_only = context.get("readOnlyRootFilesystem") is True
    if not read_only:
        add("RO001", f'container "{name}" does not have a read-only root file system '
            "(securityContext.readOnlyRootFilesystem is not true).", "securityContext")
    if _runs_as_root(wl, container, image):
        add("RO002", "may run as root (no runAsNonRoot: true, no non-root runAsUser): /dev "
            "is writable and executable for root under CRI-O and Docker.", "securityContext")
    if context.get("privileged") is True:
        add("RO008", "is privileged: every mount but / loses ro and /sys is read-write.",
            "securityContext", "privileged")
    mounts = list(container.get("volumeMounts") or [])
    volumes = {str(v.get("name")): v for v in wl.pod.get("volumes") or []
               if isinstance(v, Mapping)}
    templates = {str((t.get("metadata") or {}).get("name")) for t in
                 (wl.document.get("spec") or {}).get("volumeClaimTemplates") or []
                 if isinstance(t, Mapping)}
    for write in writes:
        mount = covering_mount(write.path, mounts)
        if mount is None:
            if read_only:
                add("RO003", f"writes {write.path} ({write.kind.value}, {write.origin}): "
                    "fails with EROFS on the read-only root.", path=write.path,
                    level=RULES["RO001"].severity)
            else:
                add("RO003", f"writes {write.path} ({write.kind.value}, {write.origin}) to "
                    "the writable layer: lost when the container is replaced, outside every "
                    "volume quota, EROFS once the root is read-only.", path=write.path)
            continue
        volume = volumes.get(str(mount.get("name")), {})
        if write.kind is PathKind.DATA and mount.get("name") not in templates and (
                "emptyDir" in volume or "hostPath" in volume):
            where = "emptyDir" if "emptyDir" in volume else "hostPath"
            add("RO004", f"keeps data {write.path} on the {where} volume "
                f"{mount.get('name')!r}: lost when the pod is rescheduled.", path=write.path)
    limits = (container.get("resources") or {}).get("limits") or {}
    seeded = {str(m.get("name")) for init in wl.pod.get("initContainers") or []
              if isinstance(init, Mapping) for m in init.get("volumeMounts") or []
              if isinstance(m, Mapping)}
    for i, mount in enumerate(mounts):
        volume = volumes.get(str(mount.get("name")), {})
        body = volume.get("emptyDir", False)
        if body is not False and "ephemeral-storage" not in limits and not (
                isinstance(body, Mapping) and body.get("sizeLimit")) and not (
                isinstance(body, Mapping) and body.get("medium") == "Memory"):
            add("RO005", f"emptyDir {mount.get('name')!r} at {mount.get('mountPath')} has no "
                "sizeLimit and the container no ephemeral-storage limit: nothing bounds what "
                "it writes to the node's disk.", "volumeMounts", i)
        if "hostPath" in volume:
            add("RO006", f"mounts hostPath {volume['hostPath'].get('path')!r} at "
                f"{mount.get('mountPath')}.", "volumeMounts", i)
        kinds = ("emptyDir", "hostPath", "persistentVolumeClaim")
        if mount.get("subPath") or str(mount.get("name")) in seeded or not any(
                k in volume for k in kinds):
            continue
        hidden = _hidden_files(image, str(mount.get("mountPath")))
        if hidden:
            add("RO007", f"volume {mount.get('name')!r} at {mount.get('mountPath')} hides the "
                "image's " + ", ".join(hidden) + ".", "volumeMounts", i)
    return findings

"""The result of ``rosim check`` and its text and JSON forms.

A :class:`CheckReport` holds the findings, each container's write paths and
fix, and the proofs. :meth:`CheckReport.to_text` is what a terminal shows
(coloured when asked), :meth:`CheckReport.to_json` a stable JSON document,
:meth:`CheckReport.to_sarif` SARIF 2.1.0 (:mod:`rosim.check.sarif`);
:meth:`CheckReport.fixed` gives each manifest with the fix written in (the
user's comments and key order kept) and :meth:`CheckReport.patch` the same
fix as strategic-merge patches.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rosim.check.fix import ContainerFix, apply_fix, strategic_merge_patch
from rosim.check.manifests import ManifestFile
from rosim.check.proof import Proof
from rosim.check.rules import RULES, Finding, Severity
from rosim.check.sources import WritePath

__all__ = ["CheckReport", "ContainerReport"]

_COLOURS = {"error": "31", "warning": "33", "note": "36", "OK": "32", "kept": "32",
            "lost": "31"}


def _paint(text: str, key: str, colour: bool) -> str:
    code = _COLOURS.get(key, "31" if text.startswith("E") and colour else "")
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


@dataclass(frozen=True)
class ContainerReport:
    """One container: where it writes (and how rosim knows), and its fix."""

    source: str
    workload: str
    container: str
    image: str
    writes: tuple[WritePath, ...]
    fix: ContainerFix | None
    catalogue: str = ""
    catalogue_source: str = ""


@dataclass(frozen=True, eq=False)
class CheckReport:
    """Findings, write paths, fixes and proofs of one ``rosim check`` run."""

    files: tuple[str, ...]
    findings: tuple[Finding, ...]
    containers: tuple[ContainerReport, ...]
    proofs: tuple[Proof, ...]
    ignored: tuple[str, ...] = ()
    manifests: Sequence[ManifestFile] = field(default=(), repr=False)

    @property
    def exit_code(self) -> int:
        """0 when there is no finding, 1 otherwise (2 is for bad input, raised earlier)."""
        return 1 if self.findings else 0

    @property
    def proven(self) -> bool:
        """Whether every proof shows the fix working."""
        return all(p.ok for p in self.proofs)

    def _fixes(self, source: str, label: str) -> list[ContainerFix]:
        return [c.fix for c in self.containers
                if c.source == source and c.workload == label and c.fix is not None]

    @cached_property
    def _fixed(self) -> dict[str, str]:
        out = {}
        for mf in self.manifests:
            extra: list[Any] = []
            for wl in mf.workloads:
                fixes = self._fixes(mf.source, wl.label)
                if fixes:
                    extra += apply_fix(mf.documents[wl.index], wl, fixes)
            rt = mf._yaml  # type: ignore[attr-defined]
            rt.explicit_start = mf.text.lstrip().startswith("---")
            for document in mf.documents:
                if _is_flow(document):
                    _block_style(document)
            stream = io.StringIO()
            rt.dump_all([*mf.documents, *extra], stream)
            out[mf.source] = stream.getvalue()
        return out

    def fixed(self) -> dict[str, str]:
        """Each manifest file with the fix written in: ``{source: YAML text}``."""
        return dict(self._fixed)

    def patch(self) -> str:
        """The fix as strategic-merge patches (and PersistentVolumeClaims), one YAML stream."""
        import yaml

        docs: list[Any] = []
        for mf in self.manifests:
            for wl in mf.workloads:
                fixes = self._fixes(mf.source, wl.label)
                if fixes:
                    result = strategic_merge_patch(wl, fixes)
                    docs += [result["patch"], *result["claims"]]
        return yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True) if docs else ""

    # ------------------------------------------------------------------ text
    def to_text(self, colour: bool = False) -> str:
        """The report as a terminal shows it (ANSI colours when ``colour``)."""
        lines = []
        for f in self.findings:
            level = _paint(f.level.value, f.level.value, colour)
            lines.append(f"{f.source}:{f.line}: {f.rule} {level}: {f.workload} container "
                         f"{f.container!r}: {f.message}")
            if f.equivalents:
                lines.append("    same as: " + ", ".join(f"{tool} {rid}" for tool, rid in
                                                         f.equivalents.items()))
        for c in self.containers:
            if not c.writes:
                continue
            known = f"catalogue {c.catalogue}: {c.catalogue_source}" if c.catalogue and any(
                w.origin.startswith("catalogue") for w in c.writes) else c.writes[0].origin
            lines += ["", f"Where {c.workload} container {c.container!r} ({c.image}) writes "
                      f"({known}):"]
            mounts = {p: m for m in (c.fix.mounts if c.fix else ()) for p in m.paths}
            for w in c.writes:
                m = mounts.get(w.path)
                to = f"-> {m.source} at {m.mount_path}" if m else "-> already on a volume"
                lines.append(f"  {w.change} {w.path:<34} {w.kind.value:<7} {to}")
        fixes = [c.fix for c in self.containers if c.fix is not None]
        if fixes:
            lines += ["", "The fix (rosim check --fix writes it, --patch prints it as a patch):"]
            for fix in fixes:
                extras = ["readOnlyRootFilesystem: true"]
                if fix.run_as_user is not None:
                    extras.append(f"runAsNonRoot: true, runAsUser: {fix.run_as_user}")
                if fix.ephemeral_limit:
                    extras.append(f"ephemeral-storage limit {fix.ephemeral_limit}")
                lines.append(f"  {fix.workload} {fix.container}: " + "; ".join(extras))
                for m in fix.mounts:
                    size = f"sizeLimit {m.size_limit}" if not m.claim else \
                        f"{m.size_limit} ReadWriteOnce"
                    seed = ", filled from the image by an init container" \
                        if m.copy_from_image else ""
                    lines.append(f"    + {m.mount_path:<26} {m.source} ({size}){seed}  "
                                 f"[{m.kind.value}]")
                lines += [f"    note: {note}" for note in fix.notes]
        for proof in self.proofs:
            text = proof.to_text().rstrip("\n").splitlines()
            if colour:
                text = [_paint_proof(line) for line in text]
            lines += ["", *text]
        if self.ignored:
            lines += ["", "Ignored (no pods): " + ", ".join(self.ignored)]
        errors = sum(f.level is Severity.ERROR for f in self.findings)
        lines += ["", f"{len(self.findings)} finding(s) ({errors} error(s)) in "
                  f"{len(self.files)} file(s); "
                  + (f"fix proven for {sum(p.ok for p in self.proofs)} of {len(self.proofs)} "
                     "workload(s)." if self.proofs else "no proof run.")]
        return "\n".join(lines).lstrip("\n") + "\n"

    def __str__(self) -> str:
        return self.to_text()

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """The report as plain data (what :meth:`to_json` prints)."""
        return {
            "files": list(self.files),
            "exitCode": self.exit_code,
            "findings": [{"rule": f.rule, "name": RULES[f.rule].name, "level": f.level.value,
                          "file": f.source, "line": f.line, "workload": f.workload,
                          "container": f.container, "field": f.field, "path": f.path,
                          "message": f.message, "equivalents": dict(f.equivalents)}
                         for f in self.findings],
            "containers": [{
                "file": c.source, "workload": c.workload, "container": c.container,
                "image": c.image, "catalogue": c.catalogue,
                "writes": [{"change": w.change, "path": w.path, "kind": w.kind.value,
                            "origin": w.origin, "mount": w.mount} for w in c.writes],
                "fix": None if c.fix is None else {
                    "readOnlyRootFilesystem": True, "runAsUser": c.fix.run_as_user,
                    "ephemeralStorageLimit": c.fix.ephemeral_limit or None,
                    "notes": list(c.fix.notes),
                    "mounts": [{"volume": m.volume, "mountPath": m.mount_path,
                                "kind": m.kind.value, "source": m.source,
                                "sizeLimit": m.size_limit, "claim": m.claim or None,
                                "copyFromImage": m.copy_from_image, "paths": list(m.paths)}
                               for m in c.fix.mounts]}}
                for c in self.containers],
            "proofs": [{"workload": p.workload, "ok": p.ok,
                        "ephemeralUsed": p.ephemeral_used, "ephemeralLimit": p.ephemeral_limit,
                        "evicted": p.evicted or None,
                        "writes": [{"container": o.container, "path": o.path,
                                    "kind": o.kind.value, "asWritten": o.as_written,
                                    "linterFix": o.linter_fix, "afterFix": o.after_fix,
                                    "keptAsWritten": o.kept_as_written,
                                    "keptAfterFix": o.kept_after_fix} for o in p.outcomes]}
                       for p in self.proofs],
            "ignored": list(self.ignored),
        }

    def to_json(self) -> str:
        """The report as indented JSON."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_sarif(self) -> dict[str, Any]:
        """The findings as a SARIF 2.1.0 log (a dict; ``json.dumps`` it)."""
        from rosim.check.sarif import to_sarif

        return to_sarif(self)


def _paint_proof(line: str) -> str:
    for word, key in (("EROFS", "lost"), ("the fix works", "OK"), ("does NOT work", "lost")):
        line = line.replace(word, _paint(word, key, True))
    return line


def _is_flow(node: Any) -> bool:
    fa = getattr(node, "fa", None)
    return fa is not None and bool(fa.flow_style())


def _block_style(node: Any) -> None:
    """Write a JSON-style (flow) document in block style: ruamel.yaml cannot keep
    its line breaks, and would put the whole document on one line."""
    if _is_flow(node):
        node.fa.set_block_style()
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        _block_style(child)

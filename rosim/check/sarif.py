"""SARIF 2.1.0 output, for code-scanning UIs (GitHub, GitLab, Azure DevOps).

One run, tool driver ``rosim`` with every rule (its linter equivalents in the
rule's property bag), one result per finding located at the manifest line
and named by the workload and container (a logical location).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from rosim.check.rules import RULES

if TYPE_CHECKING:
    from rosim.check.report import CheckReport

__all__ = ["SARIF_SCHEMA", "to_sarif"]

#: The schema a SARIF 2.1.0 log names (the OASIS standard, errata 01).
SARIF_SCHEMA = ("https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
                "sarif-schema-2.1.0.json")


def _uri(source: str) -> str:
    return "stdin" if source in ("-", "<stdin>") else quote(source.lstrip("<").rstrip(">"))


def to_sarif(report: CheckReport) -> dict[str, Any]:
    """The report's findings as a SARIF 2.1.0 log."""
    from rosim import __version__

    ids = list(RULES)
    rules = [{
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help},
        "help": {"text": rule.help},
        "defaultConfiguration": {"level": rule.severity.value},
        "properties": {"equivalents": dict(rule.equivalents),
                       "tags": ["security", "kubernetes", "read-only-root-filesystem"]},
    } for rule in RULES.values()]
    results = []
    for f in report.findings:
        results.append({
            "ruleId": f.rule,
            "ruleIndex": ids.index(f.rule),
            "level": f.level.value,
            "message": {"text": f"{f.workload} container '{f.container}': {f.message}"},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": _uri(f.source)},
                                     "region": {"startLine": max(f.line, 1)}},
                "logicalLocations": [{"fullyQualifiedName": f"{f.workload}/{f.container}",
                                      "kind": "object"}],
            }],
            "partialFingerprints": {"rosimFinding/v1": f"{f.rule}:{f.workload}:{f.container}:"
                                                       f"{f.path or f.field}"},
            "properties": {"field": f.field, "equivalents": dict(f.equivalents)},
        })
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "rosim", "version": __version__, "rules": rules}},
            "artifacts": [{"location": {"uri": _uri(s)}} for s in report.files],
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }

"""The rules of ``rosim check``, with the ids the common linters give the same finding.

Every linter flags a missing ``readOnlyRootFilesystem: true`` (domain.md §7);
rosim's rule ``RO001`` says the same, and lists the equivalent ids so a team
can map it to the policy it already runs. The other rules say what a linter
cannot tell: where the app writes, what a read-only root breaks, what is lost
on reschedule, and which storage escapes the quotas.

>>> RULES["RO001"].equivalents["Checkov"]
'CKV_K8S_22'
>>> sorted(RULES)
['RO001', 'RO002', 'RO003', 'RO004', 'RO005', 'RO006', 'RO007', 'RO008']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from rosim._bounds import RosimEnum

__all__ = ["Finding", "RULES", "Rule", "Severity"]


class Severity(RosimEnum):
    """How bad a finding is; the values are SARIF's ``level``."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True)
class Rule:
    """A rule: its id, short name, severity, what it means, and linter equivalents."""

    id: str
    name: str
    severity: Severity
    summary: str
    help: str
    equivalents: Mapping[str, str] = field(default_factory=dict)


def _rule(id: str, name: str, severity: Severity, summary: str, help: str,
          **equivalents: str) -> Rule:
    names = {"kube_linter": "kube-linter", "kube_score": "kube-score", "polaris": "Polaris",
             "kubesec": "kubesec", "checkov": "Checkov", "trivy": "Trivy"}
    return Rule(id, name, severity, summary, help,
                MappingProxyType({names[k]: v for k, v in equivalents.items()}))


_RULES = (
    _rule("RO001", "writable-root-filesystem", Severity.ERROR,
          "The container's root file system is writable.",
          "Set securityContext.readOnlyRootFilesystem: true and give each path the app "
          "writes a volume (rosim check --fix proposes them).",
          kube_linter="no-read-only-root-fs",
          kube_score="container-security-context-readonlyrootfilesystem",
          polaris="notReadOnlyRootFilesystem", kubesec="ReadOnlyRootFilesystem",
          checkov="CKV_K8S_22", trivy="KSV014"),
    _rule("RO002", "root-user-dev-writable", Severity.WARNING,
          "The container may run as root: /dev stays writable and executable.",
          "Under CRI-O and Docker /dev is a tmpfs without noexec; root can write and run a "
          "binary there even with a read-only root (the kdevtmpfsi miner did). Set "
          "runAsNonRoot: true and a non-root runAsUser.",
          kube_linter="run-as-non-root", kube_score="container-security-context-user-group-id",
          polaris="runAsRootAllowed", kubesec="RunAsNonRoot", checkov="CKV_K8S_23",
          trivy="KSV012"),
    _rule("RO003", "writes-container-layer", Severity.WARNING,
          "The app writes a path that no volume covers.",
          "With a writable root the bytes land in the container's writable layer: lost when "
          "the kubelet replaces the container, outside every volume quota. With a read-only "
          "root the write fails with EROFS. Mount a volume there."),
    _rule("RO004", "data-not-persistent", Severity.WARNING,
          "The app keeps data on an emptyDir or hostPath volume.",
          "An emptyDir is deleted with its pod and a hostPath stays on the old node: the "
          "data is gone when the pod is rescheduled. Use a PersistentVolumeClaim."),
    _rule("RO005", "emptydir-without-limit", Severity.WARNING,
          "An emptyDir has no sizeLimit and the container no ephemeral-storage limit.",
          "Nothing bounds what the pod writes to the node's disk: the quota bypass. Set "
          "emptyDir.sizeLimit or resources.limits.ephemeral-storage.",
          kube_score="container-ephemeral-storage-request-and-limit"),
    _rule("RO006", "host-path-mount", Severity.WARNING,
          "The container mounts a hostPath volume.",
          "hostPath data stays on one node, escapes the pod's storage accounting and can "
          "reach the host's files.",
          kube_linter="sensitive-host-mounts", trivy="KSV023"),
    _rule("RO007", "mount-hides-image-files", Severity.WARNING,
          "A volume mounted over a directory of the image hides the image's files.",
          "An emptyDir or claim starts empty and Kubernetes has no tmpcopyup: fill it from "
          "the image with an init container, or mount only the file that changes (subPath)."),
    _rule("RO008", "privileged", Severity.ERROR,
          "The container is privileged.",
          "CRI-O keeps / read-only for privileged containers but clears ro on every other "
          "mount and mounts /sys read-write.",
          kube_linter="privileged-container", kube_score="container-security-context-privileged",
          polaris="runAsPrivileged", kubesec="Privileged", checkov="CKV_K8S_16",
          trivy="KSV017"),
)

#: Every rule by id.
RULES: Mapping[str, Rule] = MappingProxyType({r.id: r for r in _RULES})


@dataclass(frozen=True)
class Finding:
    """One finding: a rule, where (file, line, field path), and a one-line message."""

    rule: str
    level: Severity
    source: str
    line: int
    workload: str
    container: str
    message: str
    field: str = ""
    path: str = ""

    @property
    def equivalents(self) -> Mapping[str, str]:
        """The linters' ids for the same finding (empty for rosim-only rules)."""
        return RULES[self.rule].equivalents

    def __str__(self) -> str:
        return (f"{self.source}:{self.line}: {self.rule} {self.level.value}: {self.workload} "
                f"container {self.container!r}: {self.message}")

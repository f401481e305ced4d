"""rosim — a container's read-only root file system, simulated for teaching.

A learner creates an image, a runtime (CRI-O, Podman or Docker) and a
container, then runs ordinary Python code inside it and meets the same
``OSError`` s a real container would give:

>>> import errno, rosim
>>> image = rosim.Image.from_dict("demo", {"/etc/passwd": "root:x:0:0::/root:/bin/sh\\n"})
>>> ctr = rosim.Runtime("cri-o", read_only=True).create(image, name="web")
>>> ctr.start()
>>> def write(path):
...     with open(path, "w") as f:
...         f.write("hello\\n")
>>> try:
...     ctr.run(write, "/etc/motd")
... except OSError as exc:
...     print(exc)
[Errno 30] Read-only file system: '/etc/motd'
>>> ctr.run(write, "/tmp/ok")
>>> ctr.upper_size  # /tmp is CRI-O's tmpfs: nothing reached the writable layer
0
"""

from rosim._errors import (
    ConfigError,
    ContainerStateError,
    ImageError,
    InvalidPathError,
    InvalidSizeError,
    LifecycleError,
    ManifestError,
    MountConflictError,
    MountOptionError,
    ProcessExitError,
    RosimError,
    UnknownProfileError,
)
from rosim.check.engine import check_manifests
from rosim.check.exercise import capstone_manifest, check_workload_exercise, workload_exercise
from rosim.check.report import CheckReport
from rosim.check.sources import CheckInputError
from rosim.cluster.cluster import Applied, Cluster, ClusterEvent, Node, PersistentVolume, Pod
from rosim.cluster.dataloss import (
    AppStep,
    AppStory,
    PodEvent,
    StorageKind,
    Survival,
    SurvivalTable,
    app_manifest,
    run_app_story,
    survival_table,
)
from rosim.cluster.images import ImageGCPolicy, NodeImage, image_size, node_images
from rosim.cluster.kubelet import NodeDisk, PodUsage
from rosim.cluster.manifests import (
    ClaimSpec,
    ConfigMapSpec,
    IgnoredObject,
    PersistentVolumeSpec,
    PodTemplate,
    PriorityClassSpec,
    StorageClassSpec,
    WorkloadKind,
    WorkloadSpec,
    pod_templates,
    read_manifests,
)
from rosim.cluster.objects import ContainerStatus, TerminatedState
from rosim.cluster.quantity import parse_quantity
from rosim.cluster.quota import (
    QuotaComparison,
    QuotaEvent,
    QuotaOutcome,
    QuotaProtection,
    QuotaRun,
    QuotaSample,
    QuotaTenant,
    TenantResult,
    check_quota_exercise,
    compare_quota_fixes,
    quota_case,
    quota_tenants,
    run_quota_scenario,
)
from rosim.cluster.spec import PodSpec
from rosim.cri.config import CriConfigError
from rosim.cri.server import CrioServer, HostTerminal, replay_demo
from rosim.fs.events import EventLog, FsEvent
from rosim.fs.layers import Dir, File, Image, Layer, Symlink, Whiteout
from rosim.fs.mounts import Bind, MountOptions, Tmpfs, Volume
from rosim.fs.namespace import MountEntry
from rosim.fs.overlay import Change, ChangeKind
from rosim.fs.sizes import format_size, parse_size
from rosim.fs.syscalls import HostAccessError
from rosim.images.catalog import builtin_names
from rosim.images.tarball import image_from_tar
from rosim.runtime.batch import run_each
from rosim.runtime.container import Container, ContainerState, ShellSession, SizeWriter
from rosim.runtime.hostguard import host_guard
from rosim.runtime.profiles import Profile
from rosim.runtime.runtime import Runtime
from rosim.scenarios.backdoor_catalog import Implant, Technique, Trigger, shop_image, techniques
from rosim.scenarios.backdoors import (
    Attack,
    BackdoorOutcome,
    BackdoorSetting,
    BackdoorTable,
    HardeningVerdict,
    LifecycleEvent,
    backdoor_setting,
    backdoor_settings,
    backdoor_table,
    check_hardening,
    run_attack,
)
from rosim.scenarios.hosts_redirect import HostsRedirect, run_hosts_redirect
from rosim.shell.console import Console, run_container
from rosim.shell.interp import programs
from rosim.shell.parser import ShellSyntaxError
from rosim.shell.result import ExecResult, Transcript
from rosim.teach.attack_views import AttackPanel, BackdoorViewer, backdoor_viewer, plot_backdoors
from rosim.teach.dataloss_views import (
    DataLossExplorer,
    data_loss_explorer,
    loss_summary,
    plot_story,
    plot_survival,
)
from rosim.teach.exercises import (
    Verdict,
    check_app_mounts,
    check_inventory_mounts,
    check_no_loss,
    check_shop_hardening,
    check_tenant_a,
)
from rosim.teach.plots import plot_capabilities, plot_comparison, plot_probe
from rosim.teach.probe import (
    Capabilities,
    Comparison,
    ProbeResult,
    ProbeRow,
    Setting,
    capability_settings,
    compare_capabilities,
    compare_settings,
    probe_exec,
    probe_writes,
    standard_settings,
)
from rosim.teach.quota_views import (
    QuotaExplorer,
    plot_node_space,
    plot_quota_usage,
    quota_explorer,
    quota_summary,
)
from rosim.teach.terminal import Terminal, terminal

__version__ = "0.1.0"

__all__ = [
    "AppStep",
    "AppStory",
    "Applied",
    "Attack",
    "AttackPanel",
    "BackdoorOutcome",
    "BackdoorSetting",
    "BackdoorTable",
    "BackdoorViewer",
    "Bind",
    "Capabilities",
    "Change",
    "ChangeKind",
    "CheckInputError",
    "CheckReport",
    "ClaimSpec",
    "Cluster",
    "ClusterEvent",
    "Comparison",
    "ConfigError",
    "ConfigMapSpec",
    "Console",
    "Container",
    "ContainerState",
    "ContainerStateError",
    "ContainerStatus",
    "CriConfigError",
    "CrioServer",
    "DataLossExplorer",
    "Dir",
    "EventLog",
    "ExecResult",
    "File",
    "FsEvent",
    "HardeningVerdict",
    "HostAccessError",
    "HostTerminal",
    "HostsRedirect",
    "IgnoredObject",
    "Image",
    "ImageError",
    "ImageGCPolicy",
    "Implant",
    "InvalidPathError",
    "InvalidSizeError",
    "Layer",
    "LifecycleError",
    "LifecycleEvent",
    "ManifestError",
    "MountConflictError",
    "MountEntry",
    "MountOptionError",
    "MountOptions",
    "Node",
    "NodeDisk",
    "NodeImage",
    "PersistentVolume",
    "PersistentVolumeSpec",
    "Pod",
    "PodEvent",
    "PodSpec",
    "PodTemplate",
    "PodUsage",
    "PriorityClassSpec",
    "ProbeResult",
    "ProbeRow",
    "ProcessExitError",
    "Profile",
    "QuotaComparison",
    "QuotaEvent",
    "QuotaExplorer",
    "QuotaOutcome",
    "QuotaProtection",
    "QuotaRun",
    "QuotaSample",
    "QuotaTenant",
    "RosimError",
    "Runtime",
    "Setting",
    "ShellSession",
    "ShellSyntaxError",
    "SizeWriter",
    "StorageClassSpec",
    "StorageKind",
    "Survival",
    "SurvivalTable",
    "Symlink",
    "Technique",
    "TenantResult",
    "Terminal",
    "TerminatedState",
    "Tmpfs",
    "Transcript",
    "Trigger",
    "UnknownProfileError",
    "Verdict",
    "Volume",
    "Whiteout",
    "WorkloadKind",
    "WorkloadSpec",
    "app_manifest",
    "backdoor_setting",
    "backdoor_settings",
    "backdoor_table",
    "backdoor_viewer",
    "builtin_names",
    "capability_settings",
    "capstone_manifest",
    "check_app_mounts",
    "check_hardening",
    "check_inventory_mounts",
    "check_manifests",
    "check_no_loss",
    "check_quota_exercise",
    "check_shop_hardening",
    "check_tenant_a",
    "check_workload_exercise",
    "compare_capabilities",
    "compare_quota_fixes",
    "compare_settings",
    "data_loss_explorer",
    "format_size",
    "host_guard",
    "image_from_tar",
    "image_size",
    "load_ipython_extension",
    "loss_summary",
    "node_images",
    "parse_quantity",
    "parse_size",
    "plot_backdoors",
    "plot_capabilities",
    "plot_comparison",
    "plot_node_space",
    "plot_probe",
    "plot_quota_usage",
    "plot_story",
    "plot_survival",
    "pod_templates",
    "probe_exec",
    "probe_writes",
    "programs",
    "quota_case",
    "quota_explorer",
    "quota_summary",
    "quota_tenants",
    "read_manifests",
    "replay_demo",
    "run_app_story",
    "run_attack",
    "run_container",
    "run_each",
    "run_hosts_redirect",
    "run_quota_scenario",
    "shop_image",
    "standard_settings",
    "survival_table",
    "techniques",
    "terminal",
    "workload_exercise",
]


def load_ipython_extension(ipython):  # noqa: ANN001, ANN201
    """``%load_ext rosim``: register the ``%rosim`` and ``%%rosim_sh`` magics.

    See :mod:`rosim.teach.magics`.
    """
    from rosim.teach.magics import load_ipython_extension as load

    load(ipython)

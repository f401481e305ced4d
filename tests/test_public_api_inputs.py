"""Wrong-type and out-of-range arguments to every public callable: clean errors only.

Each callable in ``rosim.__all__`` is called with bad values (None, a wrong
type, negative, huge, NaN, an empty string, a string with NUL, an unknown
enum name, bytes, a list and a dict) in each of its parameters. Each call
must either work or raise a :class:`rosim.RosimError` (or, for code run in a
container, the ``OSError`` a kernel would give) whose message names a
parameter and its value: never a stray ``AttributeError``, ``TypeError`` or
bare ``ValueError``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import matplotlib
import pytest

import rosim

matplotlib.use("Agg")

BAD: tuple[Any, ...] = (None, -1, 10**30, float("nan"), "", "x\x00y", "bogus-enum-value",
                        b"\xff", object(), [object()], {"k": object()})

#: Parameters of Enum.__call__ that are not values (the functional API).
ENUM_API = {"names", "module", "qualname", "type", "start", "boundary"}


def _callables() -> list[tuple[str, Callable[..., Any]]]:
    found = []
    for name in rosim.__all__:
        obj = getattr(rosim, name)
        if not callable(obj) or isinstance(obj, type) and issubclass(obj, BaseException):
            continue
        found.append((name, obj))
    return found


def _params(obj: Callable[..., Any]) -> list[inspect.Parameter]:
    params = inspect.signature(obj).parameters.values()
    return [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD,
                                            p.KEYWORD_ONLY) and p.name not in ENUM_API]


def _short(value: Any) -> str:
    return repr(value)[:12]


#: Where a problem is in the content of a value (a manifest, an archive), the
#: message locates it there, as kubectl and docker do, instead of repeating it.
CONTENT = re.compile(r"line \d+|offset \d+|unknown field|document \d+|strict decoding")


#: Parameters named as ``rosim check`` names the option that gives them.
CLI_NAMES = {"diffs": "--diff", "python": "--python", "images": "--image-tar"}


def _names_a_parameter(message: str, kwargs: dict[str, Any]) -> bool:
    """Does ``message`` name a parameter, or show a bad value as ``field(=value)``?"""
    for name, value in kwargs.items():
        if re.search(rf"\b{re.escape(name.rstrip('_'))}\b", message) or (
                name in CLI_NAMES and CLI_NAMES[name] in message):
            return True
        items = [value, *value] if isinstance(value, list) else [value]
        if any(f"(={_short(v)}" in message for v in items):
            return True
        if isinstance(value, str) and value and message.startswith(f"{value}: "):
            return True  # a file named by its path, as the shell names it
    return bool(CONTENT.search(message))


def _call(obj: Callable[..., Any], kwargs: dict[str, Any]) -> str | None:
    """None when the call worked or failed cleanly; else what went wrong."""
    import matplotlib.pyplot as plt

    params = {p.name: p for p in _params(obj)}
    positional = [kwargs[n] for n, p in params.items() if p.kind is p.POSITIONAL_ONLY]
    keywords = {n: kwargs[n] for n, p in params.items() if p.kind is not p.POSITIONAL_ONLY
                and n in kwargs}
    try:
        obj(*positional, **keywords)
    except rosim.RosimError as exc:
        if not _names_a_parameter(str(exc), kwargs):
            return f"{type(exc).__name__} names no parameter with its value: {exc}"
    except OSError:
        pass
    except Exception as exc:  # noqa: BLE001 - what the test looks for
        return f"stray {type(exc).__name__}: {str(exc)[:100]}"
    finally:
        plt.close("all")
    return None


def test_required_parameters_refuse_bad_values():
    """Each required parameter of each public callable, the others None: a clean error."""
    failures = []
    calls = 0
    for name, obj in _callables():
        required = [p for p in _params(obj) if p.default is p.empty]
        for param in required:
            for bad in BAD:
                kwargs = {p.name: None for p in required} | {param.name: bad}
                calls += 1
                problem = _call(obj, kwargs)
                if problem:
                    failures.append(f"{name}({param.name}={_short(bad)}): {problem}")
    assert calls > 500
    assert not failures, "\n".join(failures)


#: Records rosim builds and returns (results, events, table rows): only the
#: required-parameter sweep above calls them.
RECORDS = {"AppStep", "AppStory", "Applied", "Attack", "BackdoorTable", "Capabilities",
           "Change", "CheckReport", "ClusterEvent", "Comparison", "ContainerStatus",
           "ExecResult", "FsEvent", "HardeningVerdict", "HostsRedirect", "IgnoredObject",
           "Layer", "MountEntry", "Node", "NodeDisk", "NodeImage", "PersistentVolume", "Pod",
           "PodTemplate", "PodUsage", "ProbeResult", "ProbeRow", "QuotaComparison",
           "QuotaEvent", "QuotaRun", "QuotaSample", "SurvivalTable", "TenantResult",
           "TerminatedState", "Transcript", "Verdict",
           # made by Runtime.create and Container.open_writer, not by hand
           "Container", "SizeWriter"}


@pytest.fixture(scope="module")
def valid() -> dict[str, dict[str, Any]]:
    """Good values for the required parameters of the callables with more than one."""
    image = rosim.Image.builtin("busybox")
    ctr = rosim.Runtime("podman").create(image, name="inputs")
    ctr.start()
    cluster = rosim.Cluster(nodes=1)
    story = rosim.run_app_story(events=["crash"], requests=2)
    table = rosim.backdoor_table(["drop-tmp"], ["read-write"], ["restart"])
    run = rosim.quota_case("2Gi")
    probe = rosim.probe_writes(ctr, ["/tmp"])
    comparison = rosim.Comparison(("/tmp",), (probe.container,), {probe.container: probe})
    tenant = rosim.QuotaTenant("t", "/var/tmp/f", rate="1Mi", writes="1Mi")
    pod = rosim.PodSpec.from_manifest({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    caps = rosim.compare_capabilities(image, ["/tmp"], rosim.capability_settings()[:1])
    return {
        "BackdoorSetting": {"label": "s", "profile": "podman"},
        "BackdoorViewer": {"table": table}, "backdoor_viewer": {"table": table},
        "Bind": {"source": rosim.Volume("v"), "destination": "/data"},
        "ClaimSpec": {"name": "c", "storage": 1024},
        "ConfigMapSpec": {"name": "c"},
        "Console": {"container": ctr}, "ShellSession": {"container": ctr},
        "Terminal": {"container": ctr}, "terminal": {"container": ctr},
        "Image": {"name": "i"},
        "Implant": {"path": "/tmp/x", "content": "x"},
        "PersistentVolumeSpec": {"name": "pv", "capacity": 1024},
        "PodSpec": {"name": "p", "containers": pod.containers},
        "PriorityClassSpec": {"name": "p", "value": 1},
        "QuotaTenant": {"name": "t", "path": "/var/tmp/f", "rate": "1Mi"},
        "Runtime": {"profile": "podman"},
        "Setting": {"label": "s", "profile": "podman"},
        "StorageClassSpec": {"name": "s", "provisioner": "rancher.io/local-path"},
        "Technique": {"key": "k", "attack_id": "T1", "name": "n", "label": "l",
                      "trigger": rosim.Trigger(next(iter(rosim.Trigger)).value)},
        "Tmpfs": {"destination": "/tmp"},
        "Volume": {"name": "v"},
        "WorkloadSpec": {"kind": "Deployment", "name": "w", "template": pod},
        "check_manifests": {"manifests": "apiVersion: v1\nkind: ConfigMap\nmetadata: "
                                         "{name: c}\n"},
        "compare_capabilities": {"image": image, "paths": ["/tmp"],
                                 "settings": rosim.capability_settings()[:1]},
        "compare_settings": {"image": image, "paths": ["/tmp"],
                             "settings": rosim.standard_settings()[:1]},
        "image_from_tar": {"source": "/nonexistent.tar"},
        "node_images": {"cluster": cluster, "node_name": "node-1"},
        "parse_quantity": {"value": "1Gi"}, "parse_size": {"value": "1g"},
        "plot_backdoors": {"table": table}, "plot_capabilities": {"caps": caps},
        "plot_comparison": {"comparison": comparison}, "plot_probe": {"result": probe},
        "plot_node_space": {"runs": run}, "plot_quota_usage": {"runs": run},
        "plot_story": {"story": story}, "plot_survival": {"table": rosim.survival_table(
            ["crash"])},
        "probe_exec": {"ctr": ctr, "paths": ["/tmp"]},
        "probe_writes": {"ctr": ctr, "paths": ["/tmp"]},
        "run_attack": {"technique_key": "drop-tmp", "setting": "read-write",
                       "event": "restart"},
        "run_container": {"image": "busybox", "hosts": {}},
        "run_quota_scenario": {"tenants": [tenant], "duration": 10.0},
        "run_app_story": {"events": ["crash"], "requests": 1, "nodes": 1},
        "backdoor_table": {"techniques_": ["drop-tmp"], "settings": ["read-write"],
                           "events": ["restart"]},
        "survival_table": {"events": ["crash"]},
    }


def test_every_parameter_refuses_bad_values(valid):
    """Each parameter of each public callable bad, the others good: a clean error."""
    failures = []
    calls = 0
    for name, obj in _callables():
        if name in RECORDS:
            continue
        params = _params(obj)
        good = valid.get(name, {p.name: None for p in params if p.default is p.empty})
        for param in params:
            for bad in BAD:
                if param.default is not param.empty and bad is param.default:
                    continue  # the default is a good value
                calls += 1
                problem = _call(obj, good | {param.name: bad})
                if problem:
                    failures.append(f"{name}({param.name}={_short(bad)}): {problem}")
    assert calls > 1000
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("enum", [getattr(rosim, n) for n in rosim.__all__
                                  if isinstance(getattr(rosim, n), type)
                                  and issubclass(getattr(rosim, n), rosim.Profile.__mro__[1])])
def test_enums_refuse_unknown_values_listing_the_valid_ones(enum):
    """A public StrEnum given an unknown value raises ConfigError listing every value."""
    with pytest.raises(rosim.ConfigError) as caught:
        enum("bogus")
    assert "'bogus'" in str(caught.value) and enum.__name__ in str(caught.value)
    for member in enum:
        assert repr(member.value) in str(caught.value)
    assert enum(next(iter(enum)).value) is next(iter(enum))

"""The public API: __all__, docstrings, and the README example."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import rosim

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_sorted_and_complete():
    """__all__ lists public names sorted (classes first), each importable."""
    names = rosim.__all__
    assert names == sorted(names, key=lambda n: (n[0].islower(), n))
    for name in names:
        assert hasattr(rosim, name), name


def test_every_public_name_is_documented():
    """Every public class, function and public method has a docstring."""
    missing = []
    for name in rosim.__all__:
        obj = getattr(rosim, name)
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or not (inspect.isfunction(member)
                                                or isinstance(member, property)):
                    continue
                if not inspect.getdoc(member):
                    missing.append(f"{name}.{attr}")
    assert missing == []


def test_errors_share_one_root():
    """Every rosim exception class derives from RosimError."""
    for name in rosim.__all__:
        obj = getattr(rosim, name)
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert issubclass(obj, rosim.RosimError), name


def test_readme_example_runs():
    """The Python example in README.md runs and fails where it says it fails."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## The Python API.*?```python\n(.*?)```", text, re.S).group(1)
    lines = [line for line in block.splitlines() if "# OSError" not in line]
    namespace: dict = {}
    exec("\n".join(lines), namespace)  # noqa: S102
    failing = [line for line in block.splitlines() if "# OSError" in line]
    for line in failing:
        call = line.split("#")[0].strip()
        try:
            exec(call, namespace)  # noqa: S102
        except OSError as exc:
            assert str(exc) in line
        else:
            raise AssertionError(f"{call} did not fail")
    section = text.split("## The Python API", 1)[1].split("\n## ", 1)[0]
    for extra in re.findall(r"```python\n(.*?)```", section, re.S)[1:]:
        exec(extra, dict(namespace))  # noqa: S102


def test_builtin_images():
    """The catalogue has a realistic fedora and a Python web-app image."""
    fedora = rosim.Image.builtin("fedora")
    for path in ("/usr/bin/dnf", "/var/log", "/var/cache/dnf", "/var/lib/dnf",
                 "/etc/dnf/dnf.conf", "/usr/lib/python3.6/site-packages/dnf/__init__.py"):
        assert fedora.tree.entry(path) is not None, path
    pyapp = rosim.Image.builtin("pyapp")
    assert pyapp.tree.entry("/app/app.py") is not None
    assert len(pyapp.layers) == 2
    assert rosim.Image.builtin("fedora") is fedora
    assert sorted(rosim.builtin_names()) == ["busybox", "fedora", "logapp", "pyapp", "redis"]

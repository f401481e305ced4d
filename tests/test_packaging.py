"""Consistency checks between pyproject.toml, environment.yml, the Makefile and README."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*$")


def _normalize(requirement):
    """Return (normalized name, normalized specifier) for a pip or conda requirement string."""
    requirement = requirement.split(";", 1)[0].split("#", 1)[0]
    match = _REQ.match(requirement)
    assert match, f"cannot parse requirement {requirement!r}"
    name, spec = match.groups()
    name = re.sub(r"[-_.]+", "-", name).lower()
    parts = sorted(p.replace(" ", "") for p in spec.split(",") if p.strip())
    return name, ",".join(parts)


def _pyproject():
    """Load pyproject.toml."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _environment():
    """Load environment.yml."""
    with open(ROOT / "environment.yml") as f:
        return yaml.safe_load(f)


def _describe(pairs):
    """Map package name to specifier for an error message."""
    return {name: spec or "(any version)" for name, spec in pairs}


def test_environment_yml_matches_pyproject():
    """environment.yml lists exactly the runtime deps plus the lab extra, same bounds."""
    project = _pyproject()["project"]
    expected = {
        _normalize(r) for r in project["dependencies"] + project["optional-dependencies"]["lab"]
    }
    deps = _environment()["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    actual = {pair for pair in map(_normalize, conda) if pair[0] not in {"python", "pip"}}
    if actual != expected:
        want, have = _describe(expected), _describe(actual)
        diffs = [
            f"{name}: pyproject.toml has {want.get(name, '(missing)')}, "
            f"environment.yml has {have.get(name, '(missing)')}"
            for name in sorted(set(want) | set(have))
            if want.get(name) != have.get(name)
        ]
        raise AssertionError("environment.yml and pyproject.toml differ:\n" + "\n".join(diffs))


def test_environment_yml_pins_python_and_installs_rosim():
    """environment.yml pins python 3.11 and pip-installs the checkout with -e ."""
    deps = _environment()["dependencies"]
    assert "python=3.11" in [d.replace(" ", "") for d in deps if isinstance(d, str)]
    pip_sections = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    assert "-e ." in [p.strip() for p in pip_sections[0]]


def test_lab_extra_is_subset_of_dev():
    """Every requirement of the lab extra is also in the dev extra."""
    extras = _pyproject()["project"]["optional-dependencies"]
    lab = {_normalize(r) for r in extras["lab"]}
    dev = {_normalize(r) for r in extras["dev"]}
    missing = sorted(lab - dev)
    assert not missing, f"in lab but not in dev (or with other bounds): {missing}"


def test_readme_and_makefile_agree():
    """README shows make lab/make test and the Makefile defines lab, test and bench."""
    readme = (ROOT / "README.md").read_text()
    for command in ("make lab", "make test"):
        assert command in readme, f"README.md does not mention {command!r}"
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", makefile, flags=re.MULTILINE))
    for target in ("lab", "test", "bench"):
        assert target in targets, f"Makefile has no {target!r} target"

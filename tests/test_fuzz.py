"""Bad input to the public API and the loaders: only RosimError or OSError come out.

Hypothesis throws arbitrary values (numbers of every size, NaN, strings with
NUL and quotes, bytes, nested lists and dicts, YAML and JSON fragments) at
rosim's entry points. Each must either work or raise a :class:`rosim.RosimError`
(or, inside a container, the ``OSError`` a kernel would give): never a stray
``TypeError``, ``OverflowError``, ``RecursionError`` or ``UnicodeDecodeError``.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import rosim
from rosim._yaml import load_json, load_toml, load_yaml_documents

# No shrinking: a failure is reported as found, which keeps the run short.
FUZZ = settings(max_examples=40, deadline=None, phases=(Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.binary(max_size=20),
    st.sampled_from(["1e400", "-1", "0", "64Mi", "1Gx", "\x00", "/a/../b", "", "nan",
                     "inf", "10G", "9" * 40, "1e-6", "'", '"', "$(", "`"]),
)
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children,
                                                    max_size=4)), max_leaves=12)
manifest_keys = st.sampled_from(["apiVersion", "kind", "metadata", "spec", "name",
                                 "containers", "image", "volumes", "volumeMounts",
                                 "securityContext", "readOnlyRootFilesystem", "mountPath",
                                 "subPath", "emptyDir", "sizeLimit", "resources",
                                 "securityContekst", "replicas", "template"])
manifests = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3),
    st.dictionaries(manifest_keys, children, max_size=5)), max_leaves=15)
yaml_texts = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=100),
    st.lists(st.sampled_from(["a: 1", "a: &x [1, 2]", "b: *x", "- *x", "---", "  - [",
                              "{", "}", "a: b: c", "!!python/object:os.system x",
                              "<<: *x", "k: 'un", "\t- x", "? [a]", ": v", "&a a", "*a",
                              "[" * 20, "a:\n  a:\n    a: 1\n  a: 2"]),
             max_size=8).map("\n".join),
)


def _only_rosim_errors(call, *args, **kwargs):
    try:
        call(*args, **kwargs)
    except (rosim.RosimError, OSError):
        pass


@FUZZ
@given(yaml_texts)
def test_yaml_json_toml_loaders(text):
    """Any text or bytes: data or ManifestError."""
    for loader in (load_yaml_documents, load_json, load_toml):
        try:
            loader(text, source="fuzz")
        except rosim.ManifestError:
            pass


@FUZZ
@given(manifests)
def test_manifests_from_dicts_and_yaml(manifest):
    """Pod manifests of any shape, as dicts and as YAML: applied or refused."""
    import yaml

    _only_rosim_errors(rosim.PodSpec.from_manifest, manifest)
    try:
        text = yaml.safe_dump(manifest)
    except (yaml.YAMLError, ValueError):
        return
    _only_rosim_errors(rosim.Cluster(nodes=1).apply, text)


@FUZZ
@given(values)
def test_sizes_and_quantities(value):
    """parse_size, parse_quantity, format_size with anything."""
    _only_rosim_errors(rosim.parse_size, value)
    _only_rosim_errors(rosim.parse_quantity, value)
    _only_rosim_errors(rosim.format_size, value)


@FUZZ
@given(values, values, values)
def test_mounts_files_and_images(a, b, c):
    """Tmpfs, Bind, File, Runtime and Image.from_dict with anything."""
    _only_rosim_errors(rosim.Tmpfs, a, b, c)
    _only_rosim_errors(rosim.Bind, a, b, sub_path=c)
    _only_rosim_errors(rosim.File, content=a, size=b)
    _only_rosim_errors(rosim.Runtime, a, read_only=b)
    _only_rosim_errors(rosim.Image.from_dict, "fuzz", {"/f": a} if not isinstance(a, dict)
                       else a)


@pytest.fixture(scope="module")
def fuzz_ctr():
    ctr = rosim.Runtime("podman", read_only=True).create(rosim.Image.builtin("busybox"),
                                                         name="fuzz")
    ctr.start()
    return ctr


@FUZZ
@given(st.text(max_size=80), values, values)
def test_container_entry_points(fuzz_ctr, line, a, b):
    """sh, exec, write_bytes, open_writer and the host terminal with anything."""
    _only_rosim_errors(fuzz_ctr.sh, line)
    _only_rosim_errors(fuzz_ctr.sh, a)
    _only_rosim_errors(fuzz_ctr.exec, a)
    _only_rosim_errors(fuzz_ctr.write_bytes, "/tmp/f", a, b)
    _only_rosim_errors(fuzz_ctr.write_text, a, b)
    _only_rosim_errors(fuzz_ctr.exists, a)
    _only_rosim_errors(fuzz_ctr.open_writer, a)
    _only_rosim_errors(fuzz_ctr.sh, "cat", a)
    _only_rosim_errors(rosim.HostTerminal().run, line)
    _only_rosim_errors(rosim.HostTerminal().run, a)
    _only_rosim_errors(rosim.format_size, a)


@FUZZ
@given(values)
def test_cluster_clock(value):
    """Cluster.tick, advance and settle with any number."""
    _only_rosim_errors(rosim.Cluster, nodes=value)
    cluster = rosim.Cluster(nodes=1)
    _only_rosim_errors(cluster.tick, value)
    _only_rosim_errors(cluster.advance, value)
    _only_rosim_errors(cluster.settle, value)

"""Safe loading of YAML, JSON and TOML texts (rosim._yaml): bounded, strict, clear."""

from __future__ import annotations

import time

import pytest

import rosim
from rosim._yaml import MAX_DEPTH, load_json, load_toml, load_yaml_documents

BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]"
       for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
) + "\n"


def test_multi_document_yaml_loads_plain_data():
    """Documents separated by --- come back in order; empty documents are skipped."""
    text = "---\n# nothing\n---\na: 1\n---\nb: [x, {c: true}]\n"
    assert load_yaml_documents(text, source="m.yaml") == [{"a": 1}, {"b": ["x", {"c": True}]}]
    assert load_yaml_documents(b"a: 1\n", source="m.yaml") == [{"a": 1}]


def test_billion_laughs_is_refused_quickly():
    """A few hundred bytes of nested aliases are refused in well under a second."""
    assert len(BILLION_LAUGHS) < 400
    start = time.perf_counter()
    with pytest.raises(rosim.ManifestError, match="bomb.yaml: line .*aliases expand"):
        load_yaml_documents(BILLION_LAUGHS, source="bomb.yaml")
    assert time.perf_counter() - start < 0.5


def test_a_few_aliases_are_fine():
    """Ordinary anchors and merge keys still work."""
    text = "base: &b {image: busybox}\npod:\n  <<: *b\n  name: x\nagain: *b\n"
    (doc,) = load_yaml_documents(text, source="m.yaml")
    assert doc["pod"] == {"image": "busybox", "name": "x"}
    assert doc["again"] == {"image": "busybox"}


def test_duplicate_keys_are_refused_with_both_lines():
    """A repeated mapping key names the key, its line and the first definition."""
    with pytest.raises(rosim.ManifestError,
                       match=r"pod.yaml: line 4: mapping key 'name' already defined at line 2"):
        load_yaml_documents("spec:\n  name: a\n  image: b\n  name: c\n", source="pod.yaml")
    with pytest.raises(rosim.ManifestError, match=r"c.json: line 2: key 'a' already defined"):
        load_json('{"a": 1,\n "a": 2}', source="c.json")


def test_deep_nesting_is_refused_not_a_recursion_error():
    """Deeply nested YAML, JSON and TOML give ManifestError, never RecursionError."""
    for text in ("[" * 50_000 + "]" * 50_000, "a: " * 5_000 + "b"):
        with pytest.raises(rosim.ManifestError, match="deep"):
            load_yaml_documents(text, source="deep.yaml")
    with pytest.raises(rosim.ManifestError, match=f"more than {MAX_DEPTH} levels"):
        load_json("[" * 100_000 + "]" * 100_000, source="deep.json")
    with pytest.raises(rosim.ManifestError, match="deep.toml"):
        load_toml("a = " + "[" * 10_000, source="deep.toml")


def test_binary_input_names_the_source():
    """Undecodable bytes or NUL give an error naming the file and the byte."""
    with pytest.raises(rosim.ManifestError, match=r"bin.yaml: not UTF-8 .*0xff at offset 0"):
        load_yaml_documents(b"\xff\xfe\x00x", source="bin.yaml")
    with pytest.raises(rosim.ManifestError, match="bin.json: line 1: a NUL byte"):
        load_json("{\"a\": \"\x00\"}", source="bin.json")
    with pytest.raises(rosim.ManifestError, match="text.*must be str or bytes"):
        load_yaml_documents(123, source="n.yaml")  # type: ignore[arg-type]


def test_unsafe_tags_and_bad_syntax_are_config_errors():
    """Python object tags are not constructed; syntax errors name the line."""
    with pytest.raises(rosim.ManifestError, match="could not determine a constructor"):
        load_yaml_documents("a: !!python/object/apply:os.system [id]", source="m.yaml")
    with pytest.raises(rosim.ManifestError, match="m.yaml: line 3: not valid YAML"):
        load_yaml_documents("a: 1\nb: [\n", source="m.yaml")
    with pytest.raises(rosim.ConfigError,
                       match=r"c.json: invalid JSON: Expecting value \(line 1 column 7\)"):
        load_json('{"a": }', source="c.json")


def test_pod_manifest_loading_uses_the_safe_loader():
    """PodSpec.from_yaml refuses duplicate keys and alias bombs with ManifestError."""
    with pytest.raises(rosim.ManifestError, match="already defined"):
        rosim.PodSpec.from_yaml("metadata: {name: a}\nmetadata: {name: b}\n")
    with pytest.raises(rosim.ManifestError, match="aliases expand"):
        rosim.Cluster().apply(BILLION_LAUGHS)

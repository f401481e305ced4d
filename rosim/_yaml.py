"""Safe loading of YAML, JSON and TOML texts: manifests and configuration files.

Every loader here reads untrusted text the way ``kubectl apply`` should: it
refuses rather than hangs, crashes or guesses. The limits are:

* the text is at most :data:`MAX_TEXT_BYTES` bytes (3 MiB, the Kubernetes API
  server's request size limit) and must be UTF-8 (a binary file gives an
  error naming the file and the first bad byte);
* collections nest at most :data:`MAX_DEPTH` levels;
* YAML aliases may add at most :data:`MAX_ALIAS_NODES` nodes to a document
  once expanded, so a 300-byte "billion laughs" is refused in microseconds
  instead of expanding to 10^9 strings;
* a mapping may not repeat a key (as ``kubectl`` does since YAML 1.2 strictness:
  ``mapping key "name" already defined at line 3``).

Every problem raises :class:`~rosim.ManifestError` (a :class:`~rosim.ConfigError`)
whose message starts with the source name:

>>> load_yaml_documents("a: 1\\n---\\nb: [x, y]\\n", source="two.yaml")
[{'a': 1}, {'b': ['x', 'y']}]
>>> load_yaml_documents("name: a\\nname: b\\n", source="pod.yaml")
Traceback (most recent call last):
...
rosim._errors.ManifestError: pod.yaml: line 2: mapping key 'name' already defined at line 1.
>>> load_json('{"a": [1, 2]}', source="c.json")
{'a': [1, 2]}
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

import yaml

from ._errors import ManifestError

__all__ = ["MAX_ALIAS_NODES", "MAX_DEPTH", "MAX_TEXT_BYTES", "load_json",
           "load_toml", "load_yaml_documents"]

MAX_TEXT_BYTES = 3 * 1024 * 1024
"""Longest accepted text in bytes (the API server's 3 MiB request limit)."""

MAX_DEPTH = 100
"""Deepest accepted nesting of mappings and sequences (objects and arrays)."""

MAX_ALIAS_NODES = 100_000
"""Most nodes that YAML aliases may add to one document once expanded."""

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _decode(text: str | bytes, source: str) -> str:
    if isinstance(text, bytes | bytearray | memoryview):
        raw = bytes(text)
        if len(raw) > MAX_TEXT_BYTES:
            raise ManifestError(f"{source}: {len(raw)} bytes is too large "
                                f"(at most {MAX_TEXT_BYTES} bytes).")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ManifestError(
                f"{source}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
                f"{exc.start}); is it a binary file?") from None
    elif not isinstance(text, str):
        raise ManifestError(f"{source}: text(={text!r:.80}) must be str or bytes, "
                            f"not {type(text).__name__}.")
    elif len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8", "surrogatepass")) \
            > MAX_TEXT_BYTES:
        raise ManifestError(f"{source}: text is too large (at most {MAX_TEXT_BYTES} bytes).")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ManifestError(f"{source}: line {line}: a NUL byte; is it a binary file?")
    return text


def _mark(source: str, mark: Any) -> str:
    return f"{source}: line {mark.line + 1}" if mark is not None else source


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A safe loader that refuses duplicate mapping keys."""

    source = "<yaml>"

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:   # unhashable: the base class gives its own error
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise ManifestError(
                        f"{self.source}: line {line}: mapping key {key!r:.80} already "
                        f"defined at line {first}.")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor("tag:yaml.org,2002:map", _StrictLoader.construct_yaml_map)


def _check_events(text: str, source: str) -> None:
    """Walk the YAML event stream once: bound depth and alias expansion."""
    depth = 0
    # Per open collection: [anchor, expanded node count so far].
    stack: list[list[Any]] = []
    sizes: dict[str, int] = {}
    added = 0
    for event in yaml.parse(text, Loader=_BaseLoader):
        if isinstance(event, yaml.DocumentStartEvent):
            sizes.clear()
            added = 0
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise ManifestError(f"{_mark(source, event.start_mark)}: nested more than "
                                    f"{MAX_DEPTH} levels deep.")
            stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            anchor, count = stack.pop()
            if anchor is not None:
                sizes[anchor] = count
            if stack:
                stack[-1][1] += count
        elif isinstance(event, yaml.ScalarEvent | yaml.AliasEvent):
            if isinstance(event, yaml.AliasEvent):
                count = sizes.get(event.anchor, 1)
                added += count
                if added > MAX_ALIAS_NODES:
                    raise ManifestError(
                        f"{_mark(source, event.start_mark)}: aliases expand to more than "
                        f"{MAX_ALIAS_NODES} nodes (an alias bomb such as 'billion laughs'?).")
            else:
                count = 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            if stack:
                stack[-1][1] += count


def load_yaml_documents(text: str | bytes, *, source: str) -> list[object]:
    """Parse every document of a YAML text (``---`` separated) safely.

    ``source`` names the text in error messages (a file name or ``'<manifest>'``).
    Only plain data is built (mappings, sequences, scalars: the safe schema).
    Empty documents (a bare ``---``, comments only) are skipped, as ``kubectl``
    skips them. Raises :class:`~rosim.ManifestError` for text that is not
    UTF-8, too large, not YAML, nested too deeply, expands aliases too far or
    repeats a mapping key; the message names the source and the line.
    """
    text = _decode(text, source)
    try:
        _check_events(text, source)
        loader = _StrictLoader(text)
        loader.source = source
        try:
            documents = []
            while loader.check_data():
                data = loader.get_data()
                if data is not None:
                    documents.append(data)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        where = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed"
        raise ManifestError(f"{_mark(source, where)}: not valid YAML: {problem}.") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: not valid YAML: {exc}.") from None
    except RecursionError:
        raise ManifestError(f"{source}: nested too deeply.") from None
    return documents


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]', re.DOTALL)


def _check_json(text: str, source: str) -> None:
    """Bound the nesting and refuse repeated keys in one linear pass."""
    # Per open container: the set of keys of an object, or None for an array.
    stack: list[dict[str, int] | None] = []
    last_string: tuple[str, int] | None = None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            if len(stack) >= MAX_DEPTH:
                line = text.count("\n", 0, match.start()) + 1
                raise ManifestError(f"{source}: line {line}: nested more than "
                                    f"{MAX_DEPTH} levels deep.")
            stack.append({} if token == "{" else None)
        elif token in "]}":
            if stack:
                stack.pop()
        elif token == ":":
            keys = stack[-1] if stack else None
            if keys is not None and last_string is not None:
                raw, start = last_string
                try:
                    key = json.loads(raw) if "\\" in raw else raw[1:-1]
                except ValueError:
                    key = raw[1:-1]
                line = text.count("\n", 0, start) + 1
                if key in keys:
                    raise ManifestError(f"{source}: line {line}: key {key!r:.80} already "
                                        f"defined at line {keys[key]}.")
                keys[key] = line
        if token[0] == '"':
            last_string = (token, match.start())
        elif token != ":":
            last_string = None


def load_json(text: str | bytes, *, source: str) -> Any:
    """Parse a JSON text safely: size, depth and duplicate-key limits as for YAML.

    Raises :class:`~rosim.ManifestError` naming ``source`` (and the line, for
    syntax errors, too deep nesting and repeated keys).
    """
    text = _decode(text, source)
    _check_json(text, source)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{source}: invalid JSON: {exc.msg} (line {exc.lineno} "
                            f"column {exc.colno}).") from None
    except RecursionError:
        raise ManifestError(f"{source}: nested too deeply.") from None


def load_toml(text: str | bytes, *, source: str) -> dict[str, Any]:
    """Parse a TOML text safely (size and depth bounded); raise ManifestError."""
    text = _decode(text, source)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{source}: invalid TOML: {exc}.") from None
    except RecursionError:
        raise ManifestError(f"{source}: nested too deeply.") from None

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


def _names_a_parameter(message: str, kwargs: dict[str, Any]) -> bool:
    """Does ``message`` name a parameter, or show a bad value as ``field(=value)``?"""
    for name, value in kwargs.items():
        if re.search(rf"\b{re.escape(name.rstrip('_'))}\b", message):
            return True
        if f"(={_short(value)}" in message:
            return True
        if isinstance(value, str) and value and message.startswith(f"{value}: "):
            return True  # a file named by its path, as the shell names it
    return bool(CONTENT.search(message))


def _call(obj: Callable[..., Any], kwargs: dict[str, Any]) -> str | None:
    """None when the call worked or failed cleanly; else what went wrong."""
    import matplotlib.pyplot as plt

    positional = [kwargs[p.name] for p in _params(obj) if p.kind is not p.KEYWORD_ONLY
                  and p.name in kwargs]
    keywords = {p.name: kwargs[p.name] for p in _params(obj) if p.kind is p.KEYWORD_ONLY
                and p.name in kwargs}
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

"""Bounds and types of parameters of the public API.

A number from a learner can be anything: ``1e-6``, ``10**7``, ``float('nan')``,
``True``. Each check below raises :class:`~rosim.ConfigError` naming the
parameter and the value, instead of a stray ``OverflowError`` or a loop that
never ends:

>>> check_int(0, "step", low=1)
Traceback (most recent call last):
...
rosim._errors.ConfigError: step(=0) must be an integer from 1 to 9223372036854775807.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

from rosim._errors import ConfigError

__all__ = ["INT64_MAX", "RosimEnum", "check_int", "check_items", "check_number", "check_seq",
           "check_type"]

INT64_MAX = 2**63 - 1
"""The largest size or count a kernel (or Kubernetes' quantities) can hold."""


def check_int(value: object, field: str, *, low: int = 0, high: int = INT64_MAX) -> int:
    """``value`` if it is an int (not a bool) in ``[low, high]``; else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{field}(={value!r:.60}) must be an integer from {low} to {high}.")
    return value


def check_number(value: object, field: str, *, low: float = 0.0, high: float,
                 unit: str = "") -> float:
    """``value`` if it is a finite int or float in ``[low, high]``; else ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or (
            isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:
        unit = f" {unit}" if unit else ""
        raise ConfigError(f"{field}(={value!r:.60}) must be a number from {low:g} to "
                          f"{high:g}{unit}.")
    return float(value)


def check_type(value: object, field: str, types: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is an instance of ``types``; else ConfigError saying it must be ``what``."""
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise ConfigError(f"{field}(={value!r:.60}) must be {what}.")
    if not isinstance(value, types):
        raise ConfigError(f"{field}(={value!r:.60}) must be {what}.")
    return value


def check_items(value: object, field: str, item_type: type | tuple[type, ...],
                what: str) -> tuple[Any, ...]:
    """``value`` as a tuple if it is a list/tuple of ``item_type``; else ConfigError."""
    if not isinstance(value, list | tuple) or not all(isinstance(v, item_type) for v in value):
        raise ConfigError(f"{field}(={value!r:.60}) must be {what}.")
    return tuple(value)


def check_seq(value: object, field: str, what: str = "a list") -> list[Any]:
    """``value`` as a list if it is a list or tuple (not a str, which would be taken
    character by character); else ConfigError saying it must be ``what``."""
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{field}(={value!r:.60}) must be {what}.")
    return list(value)


class RosimEnum(StrEnum):
    """A StrEnum whose unknown values raise ConfigError listing the valid ones."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        valid = ", ".join(repr(m.value) for m in cls)
        raise ConfigError(f"value(={value!r:.60}) is not a rosim.{cls.__name__}; one of: "
                          f"{valid}.")

"""Bounds on numeric parameters of the public API.

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

from rosim._errors import ConfigError

__all__ = ["INT64_MAX", "check_int", "check_number"]

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

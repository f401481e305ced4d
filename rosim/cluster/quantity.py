"""Kubernetes resource quantities: ``1Gi``, ``500M``, ``64Mi``, ``1e3``.

Binary suffixes (``Ki``, ``Mi``, ``Gi``, ``Ti``, ``Pi``, ``Ei``) are powers of
1024; decimal ones (``k``, ``M``, ``G``, ``T``, ``P``, ``E``) powers of 1000,
as the API server reads them.

>>> parse_quantity("1Gi"), parse_quantity("500M"), parse_quantity(128)
(1073741824, 500000000, 128)
>>> parse_quantity("1Gx", field="sizeLimit")
Traceback (most recent call last):
...
rosim._errors.InvalidSizeError: sizeLimit(='1Gx') is not a Kubernetes quantity such as 64Mi or 1G.
"""

from __future__ import annotations

import math
import re

from rosim._bounds import INT64_MAX
from rosim._errors import InvalidSizeError

__all__ = ["format_quantity", "parse_quantity"]

_SUFFIX = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
           "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][0-9]+)?)\s*([kMGTPE]i?|Ki)?\s*$")


def parse_quantity(value: object, *, field: str = "quantity") -> int:
    """Return the number of bytes a Kubernetes quantity stands for."""
    if isinstance(value, bool):
        raise InvalidSizeError(f"{field}(={value!r}) is not a Kubernetes quantity.")
    if isinstance(value, int | float):
        if value < 0:
            raise InvalidSizeError(f"{field}(={value!r}) must be >= 0.")
        return _bounded(value, value, field)
    if isinstance(value, str):
        match = _QUANTITY.match(value)
        if match and (match.group(2) or "") in _SUFFIX:
            return _bounded(float(match.group(1)) * _SUFFIX[match.group(2) or ""], value,
                            field)
    raise InvalidSizeError(
        f"{field}(={value!r}) is not a Kubernetes quantity such as 64Mi or 1G."
    )


def _bounded(number: float, value: object, field: str) -> int:
    if not math.isfinite(number) or number > INT64_MAX:
        raise InvalidSizeError(f"{field}(={value!r:.60}) is too large: at most "
                               f"{INT64_MAX} bytes (8Ei).")
    return int(number)


def format_quantity(n: int) -> str:
    """The shortest exact binary form: ``1Gi``, ``64Mi``, ``1536Ki`` or bytes."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = _SUFFIX[suffix]
        if n and n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)

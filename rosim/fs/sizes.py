"""Parsing of sizes as mount options and Kubernetes quantities write them.

Accepted forms: a plain number of bytes (``65536``); a mount-option suffix
``k``, ``m``, ``g``, ``t`` in either case, read as powers of 1024 the way
``mount -o size=10M`` reads them; or a Kubernetes binary suffix ``Ki``,
``Mi``, ``Gi``, ``Ti``.

>>> parse_size("64k")
65536
>>> parse_size("10M")
10485760
>>> parse_size("1Gi")
1073741824
>>> parse_size("1Gx")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rosim._errors.InvalidSizeError: size(='1Gx') is not a size: use bytes or a number ...
"""

from __future__ import annotations

import re

from rosim._errors import ConfigError, InvalidSizeError

__all__ = ["format_size", "parse_size"]

_UNITS = {
    "": 1,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
    "t": 1024**4,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
    "ti": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+)\s*([kKmMgGtT]i?)?\s*$")


def parse_size(value: object, *, field: str = "size") -> int:
    """Return the number of bytes that ``value`` stands for.

    ``value`` is an ``int`` (bytes) or a string as described in the module
    docstring. Raises :class:`InvalidSizeError` naming ``field`` otherwise.
    """
    if isinstance(value, bool):
        raise InvalidSizeError(f"{field}(={value!r}) is not a size.")
    if isinstance(value, int):
        if value < 0:
            raise InvalidSizeError(f"{field}(={value!r}) must be >= 0.")
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            number, unit = match.groups()
            return int(number) * _UNITS[(unit or "").lower()]
    raise InvalidSizeError(
        f"{field}(={value!r}) is not a size: use bytes or a number with "
        "k, m, g, t, Ki, Mi, Gi or Ti."
    )


def format_size(n: int) -> str:
    """Format a byte count the way ``df -h`` would, e.g. ``'64K'``, ``'1.5G'``.

    >>> format_size(65536), format_size(1536 * 1024**2), format_size(512)
    ('64K', '1.5G', '512B')
    """
    if isinstance(n, bool) or not isinstance(n, int | float) or not 0 <= n < float("inf"):
        raise ConfigError(f"n(={n!r:.60}) must be a number of bytes >= 0.")
    value = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            if unit == "B":
                return f"{int(value)}B"
            text = f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
        value /= 1024
    raise AssertionError("unreachable")

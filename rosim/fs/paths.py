"""Validation and normalisation of paths inside a container.

Every path a user hands to a specification (an image file, a mount
destination) is checked here, so that mistakes surface as a
:class:`~rosim.InvalidPathError` naming the field and the value.

>>> container_path("/etc//passwd/", field="destination")
'/etc/passwd'
>>> container_path("etc/passwd", field="destination")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
rosim._errors.InvalidPathError: destination(='etc/passwd') must be an absolute path ...
"""

from __future__ import annotations

import posixpath

from rosim._errors import InvalidPathError

__all__ = ["container_path", "parent_chain", "split"]


def container_path(value: object, *, field: str = "path") -> str:
    """Return ``value`` as a normalised absolute path, or raise.

    Raises :class:`InvalidPathError` when ``value`` is not a string, is empty,
    relative, contains a NUL byte, or has a ``..`` component.
    """
    if not isinstance(value, str):
        raise InvalidPathError(
            f"{field}(={value!r}) must be a str, not {type(value).__name__}."
        )
    if not value:
        raise InvalidPathError(f"{field}(={value!r}) must not be empty.")
    if "\0" in value:
        raise InvalidPathError(f"{field}(={value!r}) must not contain a NUL byte.")
    if not value.startswith("/"):
        raise InvalidPathError(
            f"{field}(={value!r}) must be an absolute path starting with '/'."
        )
    parts = [p for p in value.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidPathError(f"{field}(={value!r}) must not contain '..'.")
    return "/" + "/".join(parts)


def split(path: str) -> tuple[str, str]:
    """Split a normalised path into (parent, name); the root splits to ('/', '')."""
    if path == "/":
        return "/", ""
    parent, name = posixpath.split(path)
    return parent or "/", name


def parent_chain(path: str) -> list[str]:
    """Return the ancestors of a normalised path, outermost first, without '/'.

    >>> parent_chain("/var/log/dnf.log")
    ['/var', '/var/log']
    """
    parts = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]

"""Errors that rosim raises for bad input and wrong lifecycle steps.

Simulated file system failures are *not* in this tree: they are ordinary
:class:`OSError` instances carrying the kernel's errno and message
(``OSError(EROFS, 'Read-only file system', '/etc/motd')``), so code running
inside a container catches them exactly as it would in production.

Everything else derives from one root::

    RosimError
    ├── ConfigError (also a ValueError)   bad input: names the field and value
    │   ├── InvalidPathError               relative, '..', NUL bytes, empty
    │   ├── InvalidSizeError               '1Gx', negative sizes
    │   ├── UnknownProfileError            Runtime('crio')
    │   ├── MountOptionError               unknown or contradictory options
    │   ├── MountConflictError             duplicate destinations, over a file
    │   └── ImageError                     bad image contents or layer stacks
    ├── LifecycleError                     a step in the wrong state
    │   └── ContainerStateError            run() on a stopped container, ...
    └── ProcessExitError                   code in run() ended its process (os._exit)

Example:

>>> from rosim import Runtime, RosimError
>>> try:
...     Runtime("crio")
... except RosimError as exc:
...     print(exc)
profile(='crio') must be one of 'cri-o', 'docker', 'podman'.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ContainerStateError",
    "ImageError",
    "InvalidPathError",
    "InvalidSizeError",
    "LifecycleError",
    "ManifestError",
    "MountConflictError",
    "MountOptionError",
    "ProcessExitError",
    "RosimError",
    "UnknownProfileError",
]


class RosimError(Exception):
    """Base class of every error rosim raises that is not a simulated OSError."""


class ConfigError(RosimError, ValueError):
    """A specification (image, mount, runtime, manifest) holds a bad value.

    The message names the field and shows the bad value, e.g.
    ``size(='1Gx') is not a size: use a number with an optional suffix ...``.
    """


class InvalidPathError(ConfigError):
    """A path is not absolute, contains '..' or a NUL byte, or is empty."""


class InvalidSizeError(ConfigError):
    """A size string such as ``'64k'`` or ``'1Gi'`` cannot be parsed."""


class UnknownProfileError(ConfigError):
    """A runtime profile name is not one of the known runtimes."""


class MountOptionError(ConfigError):
    """A mount option is unknown, malformed or contradicts another."""


class MountConflictError(ConfigError):
    """Two mounts share a destination, or a directory mount targets a file."""


class ImageError(ConfigError):
    """An image's files or layer stack are malformed."""


class ManifestError(ConfigError):
    """A YAML, JSON or TOML text cannot be loaded safely.

    It is not UTF-8, too large, not well formed, nested too deeply, repeats a
    mapping key, or expands YAML aliases too far. The message starts with the
    text's source (a file name) and, where known, the line.
    """


class LifecycleError(RosimError):
    """An operation was asked for in a state that does not allow it."""


class ContainerStateError(LifecycleError):
    """A container operation does not fit the container's current state.

    For example ``run()`` on a stopped container, or ``start()`` after
    ``remove()``. The message says the operation, the container and its state.
    """


class ProcessExitError(RosimError):
    """Code given to ``Container.run`` ended its simulated process.

    ``os._exit(n)``, ``sys.exit(n)``, ``os.abort()`` or a signal the code sent
    itself (``os.kill(os.getpid(), SIGTERM)``) end a real process; inside a
    rosim container they end the simulated one, never the notebook's kernel.
    ``status`` is the exit status a shell would show (``128 + signal`` for a
    signal, 134 for ``abort``); ``how`` says what ended it.
    """

    def __init__(self, status: int, how: str) -> None:
        super().__init__(f"the container process ended ({how}): exit status {status}.")
        self.status = status
        self.how = how

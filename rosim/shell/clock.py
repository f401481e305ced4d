"""The simulated clock: what ``date``, ``sleep`` and ``ls -l`` see in a container.

Simulated time starts at 2024-01-01 12:00:00 UTC (the images' files are
dated 2024-01-01 00:00 UTC) and moves only when a program waits
(``sleep 5`` advances it by five seconds, at once), so transcripts are the
same on every run. Files the simulation creates or changes are stamped with
simulated time: :func:`install` (done when the shell is imported) makes it
pyfakefs's clock.

>>> clock = SimClock()
>>> clock.advance(90.5)
>>> clock.now() - START
90.5
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rosim._errors import ConfigError

__all__ = ["CLOCK", "START", "SimClock", "install", "stamping"]

#: 2024-01-01 12:00:00 UTC, in seconds since the epoch.
START = 1704110400.0


class SimClock:
    """Seconds since the epoch, advanced only by :meth:`advance`."""

    def __init__(self, start: float = START) -> None:
        self._now = float(start)

    def now(self) -> float:
        """The current simulated time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` (>= 0) pass."""
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise ConfigError(f"seconds(={seconds!r}) must be a number >= 0.")
        self._now += float(seconds)


#: The clock every simulated host shares.
CLOCK = SimClock()


@contextlib.contextmanager
def stamping(clock: SimClock = CLOCK) -> Iterator[None]:
    """Within the block, files created or changed get ``clock``'s time."""
    from pyfakefs import helpers

    previous = helpers.now
    helpers.now = clock.now
    try:
        yield
    finally:
        helpers.now = previous


def install(clock: SimClock = CLOCK) -> None:
    """Make ``clock`` the time pyfakefs stamps files with (for the whole process)."""
    from pyfakefs import helpers

    helpers.now = clock.now

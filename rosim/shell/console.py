"""A terminal's side of a shell session: prompts, continuation lines, history.

A :class:`Console` is what the notebook magics, the terminal widget and
``rosim shell`` share. Lines are fed one at a time, as a terminal sends
them: a line that leaves the command unfinished (an open quote, ``do``
without ``done``, a trailing ``&&``) is kept and the prompt becomes the
continuation prompt ``> ``; the completed command then runs in the
container's shell session, whose variables, directory and ``$?`` carry
over. ``exit`` ends the session; the next line starts a fresh one, as
opening a new terminal would.

>>> import rosim
>>> ctr = run_container("fedora", runtime="cri-o", read_only=True, name="doc")
>>> con = Console(ctr)
>>> con.feed("cd /tmp; X=1").status, con.prompt
(0, 'sh-4.4# ')
>>> con.feed("echo $X; pwd &&"), con.prompt
(None, '> ')
>>> print(con.feed("touch /etc/x"), end="")
sh-4.4# echo $X; pwd &&
> touch /etc/x
1
/tmp
touch: cannot touch '/etc/x': Read-only file system
>>> con.identity
'doc · fedora:28 · cri-o · root read-only'
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rosim._errors import ConfigError
from rosim.shell.parser import needs_more
from rosim.shell.result import CONTINUATION_PROMPT, ExecResult, Transcript

if TYPE_CHECKING:
    from rosim.runtime.container import Container, ShellSession
    from rosim.runtime.runtime import Runtime

__all__ = ["Console", "run_container"]

#: The runtimes a learner can name, as ``--runtime`` takes them.
RUNTIMES = ("cri-o", "podman", "docker")

_RUNTIMES: dict[tuple[str, bool], Runtime] = {}


def run_container(image: str, runtime: str = "cri-o", read_only: bool = False,
                  name: str | None = None,
                  hosts: dict[tuple[str, bool], Runtime] | None = None) -> Container:
    """Create and start a container, as ``docker run -d`` / ``crictl run`` would.

    ``image`` is a built-in image or a reference to one
    (``registry.fedoraproject.org/fedora:28``); ``runtime`` one of
    ``cri-o``, ``podman``, ``docker``. For CRI-O ``read_only`` is the global
    ``--read-only`` flag; for Podman and Docker it is ``run --read-only``.
    Containers made here share one simulated host per runtime and setting,
    kept in ``hosts`` (by default one registry for the whole process).
    Raises :class:`~rosim.ImageError`, :class:`~rosim.UnknownProfileError` or
    :class:`~rosim.ConfigError` (a name already in use) for bad input.
    """
    from rosim.images.catalog import resolve_image
    from rosim.runtime.runtime import Runtime

    if not isinstance(read_only, bool):
        raise ConfigError(f"read_only(={read_only!r}) must be a bool.")
    if not isinstance(runtime, str):
        raise ConfigError(f"runtime(={runtime!r:.60}) must be 'cri-o', 'podman' or 'docker'.")
    if hosts is not None and not isinstance(hosts, dict):
        raise ConfigError(f"hosts(={hosts!r:.60}) must be a dict or None.")
    img = resolve_image(image)
    hosts = _RUNTIMES if hosts is None else hosts
    key = (runtime, read_only if runtime == "cri-o" else False)
    rt = hosts.get(key)
    if rt is None:
        rt = hosts[key] = Runtime(runtime, read_only=key[1])
    ctr = rt.create(img, name=name, read_only=read_only if runtime != "cri-o" else None)
    ctr.start()
    return ctr


class Console:
    """Feed a container's shell one terminal line at a time.

    ``feed(line)`` returns the :class:`~rosim.ExecResult` of the command the
    line completes, or ``None`` while more lines are needed. :attr:`prompt`
    is the prompt to show next, :attr:`history` the commands entered (for
    up/down keys), :attr:`results` every result so far.
    ``login=True`` reads ``/etc/profile.d/*.sh`` as a login shell does.
    """

    def __init__(self, container: Container, login: bool = False) -> None:
        from rosim.runtime.container import Container

        if not isinstance(container, Container):
            raise ConfigError(f"container(={container!r}) must be a rosim.Container.")
        self.container = container
        self.login = login
        self.session: ShellSession = self._open(login)
        self.pending: list[str] = []
        #: Complete commands entered, oldest first.
        self.history: list[str] = []
        #: Every result, oldest first.
        self.results: list[ExecResult] = []
        #: True after ``exit`` ended the session (the next line opens a new one).
        self.exited = False

    def _open(self, login: bool) -> ShellSession:
        """A session whose ``ps`` shows the container's process as PID 1."""
        session = self.container.shell(login)
        shell = session._shell
        if self.container.argv:
            shell.init = list(self.container.argv)
            if shell.pid == 1:
                shell.pid = shell._nesting.next_pid
                shell._nesting.next_pid += 1
        return session

    @property
    def prompt(self) -> str:
        """``PS1`` (the container's prompt) or ``PS2`` (``> ``) inside a command."""
        return CONTINUATION_PROMPT if self.pending else self.container.prompt

    @property
    def identity(self) -> str:
        """Which container this is: name, image, runtime, whether the root is read-only."""
        ctr = self.container
        root = "root read-only" if ctr.read_only else "root read-write"
        return f"{ctr.name} · {ctr.image.name} · {ctr.runtime.profile} · {root}"

    def feed(self, line: str) -> ExecResult | None:
        """Take one line; run the command once it is complete and return its result."""
        if not isinstance(line, str):
            raise ConfigError(f"line(={line!r}) must be a str.")
        text = "\n".join([*self.pending, line])
        if needs_more(text):
            self.pending.append(line)
            return None
        self.pending = []
        if self.exited:
            self.session = self._open(self.login)
            self.exited = False
        if text.strip():
            self.history.append(text)
        result = self.session.sh(text)
        self.results.append(result)
        self.exited = bool(getattr(self.session._shell, "exited", False))
        return result

    def cancel(self) -> None:
        """Drop an unfinished command (Ctrl-C at a ``> `` prompt)."""
        self.pending = []

    def run_lines(self, text: str) -> Transcript:
        """Feed every line of ``text``; return the transcript of what ran.

        An unfinished command at the end runs as it is, so the shell reports
        what is missing (``syntax error: unexpected end of file``).
        """
        results = []
        for line in text.split("\n"):
            if not line.strip() and not self.pending:
                continue
            result = self.feed(line)
            if result is not None:
                results.append(result)
        if self.pending:
            tail = "\n".join(self.pending)
            self.pending = []
            result = self.session.sh(tail)
            self.results.append(result)
            results.append(result)
        return Transcript(tuple(results))

"""Scenario 2's attack catalogue: ways to plant a backdoor in a running container.

Each :class:`Technique` is one small definition: its MITRE ATT&CK id, the
files it writes (:class:`Implant`), and what runs them (:class:`Trigger`).
Payloads announce themselves with a marker line such as
``[backdoor T1574.006] /etc/ld.so.preload ran``, so that a run of the
simulation *observes* whether a backdoor ran: the marker shows up in the
output of whatever executed it (the container's process at its next start,
a login shell, the attacker's own command).

The techniques target the lab's app, :func:`shop_image`: a small Python web
shop on the ``pyapp`` base (``python3 /app/app.py``) that keeps its data
on a volume at ``/app/data`` and, like many web apps, loads plugins from
``/app/data/plugins`` at start.

>>> t = technique("ld-preload")
>>> t.attack_id, [i.path for i in t.implants]
('T1574.006', ['/usr/local/lib/libprocesshider.so', '/etc/ld.so.preload'])
>>> t.marker
'[backdoor T1574.006] /etc/ld.so.preload ran'
>>> t.render(t.implants[1].content)
b'/usr/local/lib/libprocesshider.so\\n'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from rosim._bounds import RosimEnum, check_seq
from rosim._errors import ConfigError
from rosim.fs.layers import Image
from rosim.fs.paths import container_path
from rosim.images.catalog import program

__all__ = ["DATA_PATH", "Implant", "TECHNIQUES", "Technique", "Trigger", "shop_image",
           "technique", "techniques"]

#: Where the shop keeps its data: a PersistentVolumeClaim in every setting.
DATA_PATH = "/app/data"
#: The site-packages directory of the shop's Python (python:3.11-slim).
SITE_PACKAGES = "/usr/local/lib/python3.11/site-packages"
#: The start of a rosim executable (an ELF header); see ``rosim.shell.interp``.
ELF = b"\x7fELF\x02\x01\x01\x00"

SHOP_APP = """\
import os

PLUGINS = "/app/data/plugins"
print("shop: starting")
for name in sorted(os.listdir(PLUGINS)) if os.path.isdir(PLUGINS) else []:
    if name.endswith(".py"):
        path = os.path.join(PLUGINS, name)
        with open(path) as f:
            exec(compile(f.read(), path, "exec"), {"__name__": "plugin"})
        print("shop: loaded plugin", name)
print("shop: listening on :8080")
"""


def shop_image() -> Image:
    """Build the lab's app image, ``shop:1.0``, from its source files.

    Every call builds a new :class:`~rosim.Image` from the same files, as
    ``docker build`` does from an unchanged source tree: the content (and
    digest) is the same, no container's changes are in it.
    """
    return Image.builtin("pyapp").with_layer(
        {"/app/app.py": SHOP_APP, "/usr/bin/bash": program("bash")},
        name="shop:1.0", entrypoint=["python3", "/app/app.py"], workdir="/app",
    )


class Trigger(RosimEnum):
    """What executes an implant; the value says it in words ("run by: ...")."""

    #: The container's process, at every start (and any new process for ld.so).
    START = "each container start"
    #: A login shell (``bash -l``) reads ``/etc/profile.d/*.sh``.
    LOGIN_SHELL = "a login shell"
    #: An interactive shell (``kubectl exec -it ... bash``) reads ``~/.bashrc``.
    SHELL = "an interactive shell"
    #: A cron daemon reads ``/etc/cron.d``; it has to be running to do so.
    CRON = "a cron daemon"
    #: The attacker runs the file again (a stage-2 tool left in place).
    ATTACKER = "the attacker, again"
    #: Nothing: the code lived only in a process's memory.
    NONE = "nothing"


@dataclass(frozen=True)
class Implant:
    """A file the attacker writes: ``path``, ``content`` and ``mode``.

    ``content`` may hold ``{echo}`` (a shell command printing the
    technique's marker) or ``{print}`` (the same in Python); ``append=True``
    adds to an existing file instead of replacing it.
    """

    path: str
    content: str | bytes
    mode: int = 0o644
    append: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", container_path(self.path, field="Implant path"))
        if not isinstance(self.content, str | bytes):
            raise ConfigError(f"Implant content(={self.content!r}) must be str or bytes.")
        if not isinstance(self.mode, int) or not 0 <= self.mode <= 0o7777:
            raise ConfigError(f"Implant mode(={self.mode!r}) must be an int from 0 to 0o7777.")


@dataclass(frozen=True)
class Technique:
    """One way to plant a backdoor: an ATT&CK technique and what it writes.

    ``key`` names it in the API, ``attack_id`` and ``name`` are MITRE
    ATT&CK's, ``label`` says where the implant goes (shown in tables and
    figures). ``command`` is a shell line the attacker runs right after
    planting (a dropped binary, an in-memory payload); without it the
    attacker fires the ``trigger`` to test the implant.
    """

    key: str
    attack_id: str
    name: str
    label: str
    trigger: Trigger
    implants: tuple[Implant, ...] = ()
    command: str | None = None

    def __post_init__(self) -> None:
        for field_name in ("key", "attack_id", "name", "label"):
            value = getattr(self, field_name)
            if not isinstance(value, str) or not value or "'" in value:
                raise ConfigError(
                    f"Technique {field_name}(={value!r}) must be a non-empty str without "
                    "single quotes."
                )
        object.__setattr__(self, "trigger", Trigger(self.trigger))
        object.__setattr__(self, "implants", tuple(check_seq(
            self.implants, "Technique implants", "a list of Implant")))
        for i, implant in enumerate(self.implants):
            if not isinstance(implant, Implant):
                raise ConfigError(f"Technique implants[{i}](={implant!r}) must be an Implant.")

    @property
    def marker(self) -> str:
        """The line the payload prints when it runs."""
        return f"[backdoor {self.attack_id}] {self.label} ran"

    @property
    def title(self) -> str:
        """``attack_id label``: the row name in tables and figures."""
        return f"{self.attack_id} {self.label}"

    def render(self, content: str | bytes) -> bytes:
        """``content`` with ``{echo}`` and ``{print}`` replaced by the payload."""
        data = content.encode() if isinstance(content, str) else content
        return (data.replace(b"{echo}", f"echo '{self.marker}'".encode())
                .replace(b"{print}", f"print('{self.marker}')".encode()))


def _dropper(directory: str) -> Technique:
    """Download a binary into ``directory`` and execute it."""
    path = f"{directory}/kdevtmpfsi"
    return Technique(
        "drop" + directory.replace("/", "-"), "T1105", "Ingress Tool Transfer",
        f"binary in {directory}", Trigger.ATTACKER,
        (Implant(path, ELF + b"rosim-payload: {echo}\n", 0o755),), command=path,
    )


TECHNIQUES: tuple[Technique, ...] = (
    Technique("app-binary", "T1554", "Compromise Host Software Binary", "trojaned python3",
              Trigger.START,
              (Implant("/usr/local/bin/python3",
                       ELF + b"rosim-payload: {echo}\nrosim-program: python3\n", 0o755),)),
    Technique("ld-preload", "T1574.006", "Dynamic Linker Hijacking", "/etc/ld.so.preload",
              Trigger.START,
              (Implant("/usr/local/lib/libprocesshider.so", ELF + b"rosim-payload: {echo}\n",
                       0o755),
               Implant("/etc/ld.so.preload", "/usr/local/lib/libprocesshider.so\n"))),
    Technique("sitecustomize", "T1546.018", "Python Startup Hooks", "sitecustomize.py",
              Trigger.START, (Implant(f"{SITE_PACKAGES}/sitecustomize.py", "{print}\n"),)),
    Technique("pth", "T1546.018", "Python Startup Hooks", ".pth file", Trigger.START,
              (Implant(f"{SITE_PACKAGES}/distutils-precedence.pth", "import os; {print}\n"),)),
    Technique("profile-d", "T1546.004", "Unix Shell Configuration Modification",
              "/etc/profile.d script", Trigger.LOGIN_SHELL,
              (Implant("/etc/profile.d/locale-fix.sh", "{echo}\n"),)),
    Technique("bashrc", "T1546.004", "Unix Shell Configuration Modification", "~/.bashrc",
              Trigger.SHELL, (Implant("/root/.bashrc", "{echo}\n", append=True),)),
    Technique("cron", "T1053.003", "Scheduled Task/Job: Cron", "/etc/cron.d entry",
              Trigger.CRON, (Implant("/etc/cron.d/sys-update", "* * * * * root {echo}\n"),)),
    # /dev: a tmpfs without noexec under Docker and CRI-O, where the kdevtmpfsi
    # miner dropped itself; only a non-root user (0755 root-owned /dev) closes it.
    *(_dropper(d) for d in ("/tmp", "/var/tmp", "/dev/shm", "/dev", "/run")),
    Technique("plugin-volume", "T1505", "Server Software Component",
              "plugin on the data volume", Trigger.START,
              (Implant(f"{DATA_PATH}/plugins/analytics.py", "{print}\n"),)),
    Technique("in-memory", "T1059.006", "Command and Scripting Interpreter: Python",
              "in-memory Python", Trigger.NONE, command='python3 -c "{print}"'),
)


def techniques() -> tuple[Technique, ...]:
    """The catalogue, in the order tables and figures show it."""
    return TECHNIQUES


@cache
def _by_key() -> dict[str, Technique]:
    return {t.key: t for t in TECHNIQUES}


def technique(key: str | Technique) -> Technique:
    """The technique named ``key`` (a :class:`Technique` is returned as is)."""
    if isinstance(key, Technique):
        return key
    found = _by_key().get(key) if isinstance(key, str) else None
    if found is None:
        known = ", ".join(repr(k) for k in _by_key())
        raise ConfigError(f"technique(={key!r}) must be one of {known}.")
    return found

"""Scenario 2: an attacker plants backdoors; which ones run again after the next start?

:func:`run_attack` deploys the lab's app (:func:`~rosim.scenarios.backdoor_catalog.shop_image`)
under one :class:`BackdoorSetting`, lets the attacker plant one technique
from inside the app's container (Python writes the files, as an exploit of
the app would; shell lines run what was dropped), tests it at once, applies
one :class:`LifecycleEvent`, and looks whether the payload runs again. The
answers are *observed*: each payload prints a marker line, and the
:class:`Attack` records whether it appeared.

Lifecycle events follow Kubernetes and the runtimes (domain notes, section 5):

* ``restart`` — ``docker restart``: the same container; its writable layer
  stays, every tmpfs starts empty, volumes stay.
* ``recreate`` — the kubelet after a crash: a new container from the same
  image, in the same pod: the writable layer and tmpfs are gone, the pod's
  ``emptyDir`` volumes and the PersistentVolumeClaim stay.
* ``reschedule`` — the pod moves to another node: a new runtime; only
  network (``scope="cluster"``) volumes such as the claim follow.
* ``rebuild`` — the image is rebuilt from its source and redeployed: a new
  image with the same files, a new pod on the same node.

In a Kubernetes pod one file of ``/etc`` stays writable under every
read-only setting: the kubelet's per-pod ``/etc/hosts``, which outlives a
container crash; :mod:`rosim.scenarios.hosts_redirect` plays that path.

>>> attack = run_attack("sitecustomize", "read-write", "restart")
>>> attack.planted, attack.executed, attack.runs_after, str(attack.outcome)
(True, True, True, 'persists')
>>> str(run_attack("sitecustomize", "read-write", "recreate").outcome)
'gone after the event'
>>> str(run_attack("sitecustomize", "crio --read-only", "restart").outcome)
'blocked'
"""

from __future__ import annotations

import html
import itertools
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from rosim._bounds import RosimEnum, check_seq, check_type
from rosim._errors import ConfigError, RosimError
from rosim.fs.layers import Image
from rosim.fs.mounts import Bind, Tmpfs, Volume
from rosim.fs.paths import container_path
from rosim.runtime.container import Container
from rosim.runtime.runtime import Runtime
from rosim.scenarios.backdoor_catalog import (
    DATA_PATH,
    Technique,
    Trigger,
    shop_image,
    technique,
    techniques,
)
from rosim.shell.result import ExecResult

__all__ = ["SHOP_WRITES", "Attack", "BackdoorOutcome", "BackdoorSetting", "BackdoorTable",
           "HardeningVerdict", "LifecycleEvent", "backdoor_setting", "backdoor_settings",
           "backdoor_table", "check_hardening", "run_attack"]

_runs = itertools.count(1)
#: Names of the programs that would read /etc/cron.d if they ran.
_CRON_DAEMONS = ("cron", "crond")


class LifecycleEvent(RosimEnum):
    """What happens to the app between the attack and its next start."""

    RESTART = "restart"
    RECREATE = "recreate"
    RESCHEDULE = "reschedule"
    REBUILD = "rebuild"

    @property
    def description(self) -> str:
        """The event in words, as the transcripts show it."""
        return {
            "restart": "the same container is restarted (docker restart, podman restart)",
            "recreate": ("the kubelet recreates the container after a crash "
                         "(new container, same image, same pod volumes)"),
            "reschedule": ("the pod is rescheduled to another node "
                           "(only network volumes follow it)"),
            "rebuild": ("the image is rebuilt from source and redeployed "
                        "(new image, new pod)"),
        }[self.value]


class BackdoorOutcome(RosimEnum):
    """How far one technique got under one setting and event."""

    #: The attacker could not write the implant (nor run anything).
    BLOCKED = "blocked"
    #: The implant was written but never ran (noexec, or nothing reads it).
    NEVER_RUNS = "planted, never runs"
    #: It ran, but after the event it does not run again.
    GONE = "gone after the event"
    #: It runs again after the event.
    PERSISTS = "persists"

    @property
    def short(self) -> str:
        """One or two words for a table or figure cell."""
        return {"blocked": "blocked", "planted, never runs": "never runs",
                "gone after the event": "gone", "persists": "persists"}[self.value]


@dataclass(frozen=True)
class BackdoorSetting:
    """How the app is deployed: runtime, read-only flags and the pod's mounts.

    ``profile``, ``read_only`` and ``read_only_tmpfs`` configure the
    :class:`~rosim.Runtime` (``read_only`` is CRI-O's global flag or
    ``--read-only`` of Podman and Docker); ``container_read_only`` is the
    container's ``readOnlyRootFilesystem``. ``mounts`` are extra
    :class:`~rosim.Tmpfs` / :class:`~rosim.Bind` mounts; ``empty_dirs`` are
    paths with a Kubernetes ``emptyDir`` (kept while the pod lives). Every
    setting also gets the app's PersistentVolumeClaim at ``/app/data``.
    ``user`` is the uid the app (and so the attacker) runs as: Kubernetes'
    ``runAsUser`` with ``runAsNonRoot: true``; None is root.
    """

    label: str
    profile: str
    read_only: bool = False
    container_read_only: bool | None = None
    read_only_tmpfs: bool = True
    mounts: tuple[Tmpfs | Bind, ...] = ()
    empty_dirs: tuple[str, ...] = ()
    user: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise ConfigError(f"BackdoorSetting label(={self.label!r}) must be a non-empty str.")
        for name in ("mounts", "empty_dirs"):
            check_seq(getattr(self, name), f"BackdoorSetting {name}",
                      "a list (not a single mount or path)")
        object.__setattr__(self, "mounts", tuple(self.mounts))
        for i, mount in enumerate(self.mounts):
            if not isinstance(mount, Tmpfs | Bind):
                raise ConfigError(f"BackdoorSetting mounts[{i}](={mount!r}) must be a "
                                  "rosim.Tmpfs or rosim.Bind.")
        object.__setattr__(self, "empty_dirs", tuple(
            container_path(p, field="empty_dirs item") for p in self.empty_dirs))
        Runtime(self.profile, read_only=self.read_only, read_only_tmpfs=self.read_only_tmpfs)
        if self.user is not None and (isinstance(self.user, bool) or not isinstance(
                self.user, int) or not 0 <= self.user < 2**32):
            raise ConfigError(f"BackdoorSetting user(={self.user!r}) must be a uid (an int).")


def backdoor_settings() -> tuple[BackdoorSetting, ...]:
    """The settings scenario 2 compares: read-write and each read-only flavour."""
    return (
        BackdoorSetting("read-write", "docker"),
        BackdoorSetting("crio --read-only", "cri-o", read_only=True),
        BackdoorSetting("podman --read-only", "podman", read_only=True),
        BackdoorSetting("docker --read-only", "docker", read_only=True),
        BackdoorSetting("docker --read-only --tmpfs /tmp", "docker", read_only=True,
                        mounts=(Tmpfs("/tmp"),)),
        BackdoorSetting("readOnlyRootFilesystem + emptyDir /tmp", "cri-o",
                        container_read_only=True, empty_dirs=("/tmp",)),
        # runAsNonRoot: the only setting that closes /dev (0755, owned by root).
        BackdoorSetting("crio --read-only, runAsUser: 1000", "cri-o", read_only=True,
                        user=1000),
    )


def backdoor_setting(label: str | BackdoorSetting) -> BackdoorSetting:
    """The setting of :func:`backdoor_settings` with ``label`` (a setting is returned as is)."""
    if isinstance(label, BackdoorSetting):
        return label
    for setting in backdoor_settings():
        if setting.label == label:
            return setting
    known = ", ".join(repr(s.label) for s in backdoor_settings())
    raise ConfigError(f"setting(={label!r}) must be a BackdoorSetting or one of {known}.")


def _event(event: str | LifecycleEvent) -> LifecycleEvent:
    try:
        return LifecycleEvent(event)
    except ValueError:
        known = ", ".join(repr(e.value) for e in LifecycleEvent)
        raise ConfigError(f"event(={event!r}) must be one of {known}.") from None


# ---------------------------------------------------------------- deployment
class _Deployment:
    """The app as a pod: a runtime (node), a pod with volumes, its container."""

    def __init__(self, setting: BackdoorSetting, image: Image) -> None:
        self.setting = setting
        self.image = image
        self.run = next(_runs)
        self.pods = itertools.count(1)
        self.pod = next(self.pods)
        self.runtime = self._runtime()
        self.ctr = self._start()

    def _runtime(self) -> Runtime:
        s = self.setting
        return Runtime(s.profile, read_only=s.read_only, read_only_tmpfs=s.read_only_tmpfs)

    def _mounts(self) -> list[Tmpfs | Bind]:
        # Volume names carry the run (and the pod for an emptyDir), so that no
        # two attacks share storage: network volumes are seen cluster-wide.
        claim = Bind(Volume(f"shop-data-{self.run}", scope="cluster"), DATA_PATH)
        empty = [Bind(Volume(f"pod-{self.run}-{self.pod}{p.replace('/', '-')}"), p)
                 for p in self.setting.empty_dirs]
        user = [replace(m, source=replace(m.source, name=f"{m.source.name}-{self.run}"))
                if isinstance(m, Bind) and isinstance(m.source, Volume) else m
                for m in self.setting.mounts]
        return [claim, *empty, *user]

    def _start(self) -> Container:
        # A recreated container keeps its name, as in a pod; its id is new.
        ctr = self.runtime.create(self.image, name="shop",
                                  mounts=self._mounts(),
                                  read_only=self.setting.container_read_only,
                                  user=self.setting.user)
        ctr.start()
        return ctr

    def apply(self, event: LifecycleEvent) -> None:
        if event is LifecycleEvent.RESTART:
            self.ctr.restart()
            return
        self.ctr.stop()
        self.ctr.remove()
        if event is LifecycleEvent.RESCHEDULE:
            self.runtime = self._runtime()
            self.pod = next(self.pods)
        elif event is LifecycleEvent.REBUILD:
            self.image = Image(self.image.name, self.image.layers, self.image.config)
            self.pod = next(self.pods)
        self.ctr = self._start()

    def close(self) -> None:
        """Remove the container: its writable layer and tmpfs go back to the kernel."""
        self.ctr.remove(force=True)


# ---------------------------------------------------------------- the attack
def _write_all(implants: list[tuple[str, bytes, int, bool]]) -> tuple[int, str] | None:
    """The exploit's file writes, run inside the container; stops at the first error.

    Returns ``None`` when every write worked, else the index of the failed
    write and its error (the writes before it stay).
    """
    import os

    for i, (path, data, mode, append) in enumerate(implants):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "ab" if append else "wb") as f:
                f.write(data)
            if not append:
                os.chmod(path, mode)
        except OSError as exc:
            return i, f"OSError: {exc}"
    return None


def _plant(ctr: Container, tech: Technique, lines: list[str]) -> tuple[bool, bool]:
    """Write the implants; return (every file written, any file written)."""
    if not tech.implants:
        lines.append("# Nothing to write: the payload will live in memory only.\n")
        return False, False
    lines.append("# The attacker's exploit (Python code running in the app) writes:\n")
    error = ctr.run(_write_all, [(i.path, tech.render(i.content), i.mode, i.append)
                                 for i in tech.implants])
    failed, message = error if error is not None else (len(tech.implants), "")
    for n, implant in enumerate(tech.implants[:failed + 1]):
        what = (f"append to {implant.path}" if implant.append
                else f"write {implant.path} (mode {implant.mode:04o})")
        lines.append(f"{what}: {message if n == failed else 'ok'}\n")
    return error is None, failed > 0


def _still_there(ctr: Container, tech: Technique) -> bool:
    checks = [(i.path, tech.render(i.content)) for i in tech.implants]

    def look() -> bool:
        for path, data in checks:
            try:
                with open(path, "rb") as f:
                    if data not in f.read():
                        return False
            except OSError:
                return False
        return True

    return bool(checks) and ctr.run(look)


def _shell_start(ctr: Container, login: bool) -> ExecResult:
    session = ctr.shell(login=login)
    return ExecResult("bash -l" if login else "bash", 0, session.startup.output, ctr.prompt)


def _cron_tick(ctr: Container, lines: list[str]) -> str:
    """What a cron daemon would run now; only if the container's process is one."""
    daemon = posixpath.basename(ctr.argv[0]) if ctr.argv else ""
    if daemon not in _CRON_DAEMONS:
        lines.append(f"# No cron daemon runs in this container (its process is "
                     f"{' '.join(ctr.argv)}): nothing reads /etc/cron.d.\n")
        return ""

    def entries() -> list[str]:
        import glob

        commands = []
        for path in sorted(glob.glob("/etc/cron.d/*")):
            with open(path) as f:
                commands += [line.split(None, 6)[6] for line in f
                             if line.strip() and not line.startswith("#")
                             and len(line.split(None, 6)) == 7]
        return commands

    text = ""
    for command in ctr.run(entries):
        result = ctr.sh(command)
        lines.append(result.transcript)
        text += result.stdout
    return text


def _fire(ctr: Container, tech: Technique, lines: list[str], first: bool) -> str:
    """Run what executes the implant; return the output it produced."""
    trigger = tech.trigger
    if tech.command is not None and (first or trigger is Trigger.ATTACKER):
        who = "The attacker runs it" if first else "The attacker comes back and runs it again"
        lines.append(f"# {who}:\n")
        result = ctr.sh(tech.render(tech.command).decode())
    elif trigger is Trigger.NONE:
        lines.append("# Nothing runs it again: it lived in a process that has ended.\n")
        return ""
    elif trigger is Trigger.START:
        if first:
            lines.append("# The attacker tests it: it starts the app's command once more:\n")
            result = ctr.sh(" ".join(ctr.argv))
        else:
            lines.append(f"# {ctr.name} started; its process printed:\n")
            run = ctr.process_runs[-1]
            text = "".join(t for _, t in run.output)
            lines.append(text if not text or text.endswith("\n") else text + "\n")
            return run.stdout + run.stderr
    elif trigger in (Trigger.LOGIN_SHELL, Trigger.SHELL):
        who = "The attacker" if first else "An administrator"
        lines.append(f"# {who} opens {trigger.value} in the container:\n")
        result = _shell_start(ctr, login=trigger is Trigger.LOGIN_SHELL)
    else:
        return _cron_tick(ctr, lines)
    lines.append(result.transcript)
    return result.stdout + result.stderr


@dataclass(frozen=True)
class Attack:
    """One technique under one setting and one event, as the simulation saw it.

    ``planted``: every file was written. ``executed``: the payload ran when
    the attacker tested it. ``survived``: the implant's files are still there
    after the event. ``runs_after``: the payload ran again after the event.
    ``transcript`` is what happened, step by step.
    """

    technique: Technique
    setting: str
    event: LifecycleEvent
    planted: bool
    executed: bool
    survived: bool
    runs_after: bool
    transcript: str

    @property
    def outcome(self) -> BackdoorOutcome:
        """Blocked, planted but never runs, gone after the event, or persists."""
        if self.runs_after:
            return BackdoorOutcome.PERSISTS
        if self.executed:
            return BackdoorOutcome.GONE
        if self.planted:
            return BackdoorOutcome.NEVER_RUNS
        return BackdoorOutcome.BLOCKED

    @property
    def summary(self) -> str:
        """The four observations and the outcome on one line."""
        def yes(flag: bool) -> str:
            return "yes" if flag else "no"

        return (f"planted: {yes(self.planted)}; ran at once: {yes(self.executed)}; "
                f"still there after the {self.event}: {yes(self.survived)}; "
                f"runs after the {self.event}: {yes(self.runs_after)} => {self.outcome}")

    def __str__(self) -> str:
        return f"{self.transcript}\n{self.summary}\n"

    def _repr_html_(self) -> str:
        marker = html.escape(self.technique.marker)
        body = html.escape(self.transcript).replace(
            marker, f'<b style="color:#D55E00">{marker}</b>')
        return (f'<pre style="background:#111;color:#eee;padding:6px">{body}</pre>'
                f"<p><b>{html.escape(self.outcome.value)}</b> — "
                f"{html.escape(self.summary)}</p>")


def run_attack(technique_key: str | Technique, setting: str | BackdoorSetting = "read-write",
               event: str | LifecycleEvent = "restart", *, image: Image | None = None) -> Attack:
    """Deploy the app, plant ``technique_key`` from inside it, apply ``event``, look again.

    ``setting`` is a :class:`BackdoorSetting` or the label of one of
    :func:`backdoor_settings`; ``event`` a :class:`LifecycleEvent` or its
    value. ``image`` defaults to a fresh :func:`shop_image`. Raises
    :class:`~rosim.ConfigError` for an unknown technique, setting or event.
    """
    ev = _event(event)
    return _attacks(technique(technique_key), backdoor_setting(setting), (ev,),
                    image if image is not None else shop_image())[ev]


#: The order in which one deployment goes through several events. Each event
#: leaves the state the next one starts from as it was right after the
#: attack: a restart keeps what a recreation discards anyway; a rebuild
#: redeploys on the same node (its other volumes stay) before the pod moves.
_CHAIN = (LifecycleEvent.RESTART, LifecycleEvent.RECREATE, LifecycleEvent.REBUILD,
          LifecycleEvent.RESCHEDULE)


def _attacks(tech: Technique, setting: BackdoorSetting, events: Sequence[LifecycleEvent],
             image: Image) -> dict[LifecycleEvent, Attack]:
    """Plant ``tech`` once, then observe it after each of ``events`` in turn."""
    deployment = _Deployment(setting, image)
    lines: list[str] = []
    planted, wrote = _plant(deployment.ctr, tech, lines)
    # An exploit that wrote nothing left the container as a clean deployment
    # is: there is nothing to test now and nothing that an event could keep.
    blocked = bool(tech.implants) and not wrote
    if blocked:
        lines.append("# The exploit wrote nothing: there is nothing to test.\n")
        executed = False
    else:
        executed = tech.marker in _fire(deployment.ctr, tech, lines, first=True)
    attacks = {}
    for ev in sorted(set(events), key=_CHAIN.index):
        after = [f"# Event: {ev.description}.\n"]
        survived = runs_after = False
        if blocked:
            after.append("# Nothing was planted, so nothing can run after it.\n")
        else:
            deployment.apply(ev)
            survived = planted and _still_there(deployment.ctr, tech)
            if planted:
                after.append(f"# The implant's files are "
                             f"{'still there' if survived else 'gone'}.\n")
            runs_after = tech.marker in _fire(deployment.ctr, tech, after, first=False)
        head = [f"# {tech.attack_id} {tech.name}: {tech.label}\n",
                f"# setting: {setting.label}; event: {ev}\n"]
        attacks[ev] = Attack(tech, setting.label, ev, planted, executed, survived, runs_after,
                             "".join(head + lines + after))
    deployment.close()
    return attacks


# ---------------------------------------------------------------- the table
def _grid(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    table = [list(header)] + [list(r) for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in table)


@dataclass(frozen=True)
class BackdoorTable:
    """Every technique × setting × event: the :class:`Attack` of each."""

    techniques: tuple[Technique, ...]
    settings: tuple[str, ...]
    events: tuple[LifecycleEvent, ...]
    attacks: tuple[Attack, ...]

    @cached_property
    def _index(self) -> dict[tuple[str, str, str], Attack]:
        return {(a.technique.key, a.setting, a.event.value): a for a in self.attacks}

    def attack(self, technique_key: str | Technique, setting: str | BackdoorSetting,
               event: str | LifecycleEvent) -> Attack:
        """The attack of one technique (or its key), setting (or its label) and event."""
        label = setting.label if isinstance(setting, BackdoorSetting) else setting
        tech = technique_key.key if isinstance(technique_key, Technique) else technique_key
        key = (tech, label, _event(event).value)
        try:
            return self._index[key]
        except KeyError:
            raise ConfigError(f"(technique, setting, event)(={key!r}) is not in this "
                              "table.") from None

    def outcome(self, technique_key: str | Technique, setting: str | BackdoorSetting,
                event: str | LifecycleEvent) -> BackdoorOutcome:
        """The outcome of one technique, setting and event."""
        return self.attack(technique_key, setting, event).outcome

    def persisting(self, event: str | LifecycleEvent | None = None) -> list[Attack]:
        """The attacks whose backdoor runs again after the event (any event if None)."""
        wanted = None if event is None else _event(event)
        return [a for a in self.attacks
                if a.outcome is BackdoorOutcome.PERSISTS and wanted in (None, a.event)]

    def text(self, event: str | LifecycleEvent) -> str:
        """The technique × setting grid for one event, in short words."""
        ev = _event(event)
        return _grid(("technique", *self.settings),
                     ((t.title, *(self.outcome(t, s, ev).short for s in self.settings))
                      for t in self.techniques))

    def __str__(self) -> str:
        return "\n\n".join(f"after: {ev.description}\n{self.text(ev)}" for ev in self.events)

    def _repr_html_(self) -> str:
        parts = []
        for ev in self.events:
            head = "".join(f"<th>{html.escape(h)}</th>" for h in ("technique", *self.settings))
            body = "".join(
                f"<tr><td>{html.escape(t.title)}</td>" + "".join(
                    f"<td>{html.escape(self.outcome(t, s, ev).short)}</td>"
                    for s in self.settings) + "</tr>"
                for t in self.techniques)
            parts.append(f"<p><b>After: {html.escape(ev.description)}</b></p>"
                         f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        return "".join(parts)


def backdoor_table(techniques_: Sequence[str | Technique] | None = None,
                   settings: Sequence[str | BackdoorSetting] | None = None,
                   events: Sequence[str | LifecycleEvent] | None = None, *,
                   image: Image | None = None) -> BackdoorTable:
    """Run every technique under every setting and event (all of each by default)."""
    techs = tuple(technique(t) for t in (check_seq(techniques_, "techniques_")
                                         if techniques_ is not None else techniques()))
    chosen = tuple(backdoor_setting(s) for s in (check_seq(settings, "settings")
                                                 if settings is not None
                                                 else backdoor_settings()))
    labels = [s.label for s in chosen]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"settings labels(={labels!r}) must be unique.")
    evs = tuple(_event(e) for e in (check_seq(events, "events") if events is not None
                                    else LifecycleEvent))
    if image is not None:
        check_type(image, "image", Image, "a rosim.Image or None")
    image = image if image is not None else shop_image()
    runs = {(t.key, s.label): _attacks(t, s, evs, image) for t in techs for s in chosen}
    attacks = tuple(runs[t.key, s.label][e] for t in techs for s in chosen for e in evs)
    return BackdoorTable(techs, tuple(labels), evs, attacks)


# ---------------------------------------------------------------- exercise
#: Where the shop writes while it runs: uploads in progress, and its data.
SHOP_WRITES = ("/tmp", DATA_PATH)


def _hint(setting: BackdoorSetting, tech: Technique) -> str:
    """Why ``tech`` persists under ``setting``, from where its implant lives."""
    path = tech.implants[0].path if tech.implants else ""

    def under(directory: str) -> bool:
        return path.startswith(directory.rstrip("/") + "/")

    if under(DATA_PATH):
        return (f"the app loads code from {posixpath.dirname(path)} on its writable volume: "
                "mount that directory read-only (a ConfigMap, or a volume with "
                "read_only=True).")
    for directory in setting.empty_dirs:
        if under(directory):
            return (f"{directory} is an emptyDir: writable and executable (Kubernetes "
                    "volumes have no noexec), and it outlives the container.")
    for mount in setting.mounts:
        if isinstance(mount, Bind) and not mount.read_only and under(mount.destination):
            return (f"{mount.destination} is a writable volume: executable, and it outlives "
                    "the container.")
    return ("the root file system is writable: implants in /usr, /etc, /root and /tmp stay "
            "in the container's writable layer; make the root read-only.")


def _probe_write(directory: str) -> str:
    """Create and remove a file in ``directory``; '' or the error, inside the container."""
    import os

    path = os.path.join(directory, ".shop-write-check")
    try:
        with open(path, "w") as f:
            f.write("x")
        os.remove(path)
    except OSError as exc:
        return str(exc)
    return ""


def _app_problems(setting: BackdoorSetting) -> list[str]:
    """What keeps the shop from working under ``setting`` (empty when it works)."""
    try:
        deployment = _Deployment(setting, shop_image())
    except RosimError as exc:
        return [f"the container cannot be created: {exc}"]
    ctr = deployment.ctr
    problems = []
    if ctr.exit_code != 0 or "listening" not in ctr.logs():
        problems.append("the shop does not start; its process printed:\n" + ctr.logs().rstrip())
    else:
        for directory in SHOP_WRITES:
            error = ctr.run(_probe_write, directory)
            if error:
                problems.append(f"the shop cannot write to {directory}: {error}")
    deployment.close()
    return problems


@dataclass(frozen=True)
class HardeningVerdict:
    """The exercise's check: does the shop still work, and does any backdoor persist?"""

    setting: str
    problems: tuple[str, ...]
    persisting: tuple[Attack, ...]
    hints: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when the shop works and no technique runs again after any event."""
        return not self.problems and not self.persisting

    def __str__(self) -> str:
        if self.problems:
            return ("FAIL: " + "\nFAIL: ".join(self.problems)
                    + "\nHint: the shop writes uploads to /tmp and its data to /app/data (its "
                    "PersistentVolumeClaim, always mounted); keep both writable.")
        if self.persisting:
            by_tech: dict[str, list[str]] = {}
            for a in self.persisting:
                by_tech.setdefault(a.technique.title, []).append(a.event.value)
            lines = [f"  {title}: after {', '.join(evs)}" for title, evs in by_tech.items()]
            return ("FAIL: these backdoors run again after an event:\n" + "\n".join(lines)
                    + "\n" + "\n".join(f"Hint: {h}" for h in self.hints))
        return (f"PASS: under {self.setting!r} the shop works, and no backdoor runs again "
                "after a restart, a recreation, a rebuild or a reschedule.")

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(str(self))}</pre>"


def check_hardening(setting: BackdoorSetting) -> HardeningVerdict:
    """The exercise's automatic check: the shop must work and no backdoor persist.

    The shop works when it starts and can write to ``/tmp`` and ``/app/data``.
    Then every technique is run against ``setting`` with every event.
    """
    if not isinstance(setting, BackdoorSetting):
        raise ConfigError(f"setting(={setting!r}) must be a rosim.BackdoorSetting.")
    problems = tuple(_app_problems(setting))
    if problems:
        return HardeningVerdict(setting.label, problems, (), ())
    persisting = tuple(backdoor_table(settings=[setting]).persisting())
    hints = tuple(dict.fromkeys(_hint(setting, a.technique) for a in persisting))
    return HardeningVerdict(setting.label, (), persisting, hints)

"""The labs' exercise checks: a PASS or a FAIL with a hint for any answer.

Each lab ends with an exercise: the learner replaces a placeholder (``...``)
with an answer, and a check cell prints the verdict. A check here never
raises, whatever it is given: a placeholder, a near miss, the wrong type
or junk each get a :class:`Verdict` whose first line says ``FAIL: ...``
and whose next line is a hint that moves the learner on.

=======================  ============  =================================================
check                    lab           the learner's answer
=======================  ============  =================================================
:func:`check_app_mounts`        00     the mounts ``app()`` needs under ``crio --read-only``
:func:`check_inventory_mounts`  01     CRI mounts that let ``dnf list installed`` log
:func:`check_shop_hardening`    02     a :class:`~rosim.BackdoorSetting` for the shop
:func:`check_no_loss`           03     where the app keeps its logs and its data
:func:`check_tenant_a`          04     tenant A's pod (a :class:`~rosim.QuotaTenant`)
=======================  ============  =================================================

>>> print(check_no_loss(..., ...))
FAIL: LOGS is still the placeholder `...`.
Hint: set LOGS to one of the storage kinds, for example "emptyDir", then run the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rosim._errors import RosimError

__all__ = ["Verdict", "check_app_mounts", "check_inventory_mounts", "check_no_loss",
           "check_shop_hardening", "check_tenant_a"]


@dataclass(frozen=True)
class Verdict:
    """The outcome of an exercise check.

    ``passed`` says whether the answer is right, ``message`` what the check
    saw, ``hints`` what to try next (first the most useful), ``notes``
    anything worth knowing about a right answer. ``str()`` gives the lines a
    check cell prints: ``PASS: ...`` or ``FAIL: ...`` and the first hint.
    """

    passed: bool
    message: str
    hints: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def hint(self) -> str:
        """The first hint ('' for none)."""
        return self.hints[0] if self.hints else ""

    def __str__(self) -> str:
        head = ("PASS: " if self.passed else "FAIL: ") + self.message
        tail = [f"Hint: {h}" for h in self.hints[:1]] + [f"Note: {n}" for n in self.notes]
        return "\n".join([head, *tail])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def _fail(message: str, *hints: str) -> Verdict:
    return Verdict(False, message, tuple(hints))


def _placeholder(name: str, hint: str) -> Verdict:
    return _fail(f"{name} is still the placeholder `...`.", hint)


def _short(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def _unexpected(exc: BaseException, hint: str) -> Verdict:
    return _fail(f"the check could not run your answer: {type(exc).__name__}: {exc}", hint)


# ----------------------------------------------------------------- lab 00
APP_DIRS = ("/var/log/app", "/var/cache/app")
_MOUNT_HINT = ('each mount is rosim.Tmpfs("/path", size="16m") or '
               'rosim.Bind(rosim.Volume("name"), "/path").')


def check_app_mounts(mounts: Any, program: Callable[[], Any]) -> Verdict:
    """Lab 00: do ``mounts`` let ``program`` run under ``crio --read-only``, log kept?

    Starts a fresh ``crio --read-only`` container of the built-in ``fedora``
    image with ``mounts``, runs ``program`` in it (it writes its log to
    ``/var/log/app/app.log`` and a cache file to ``/var/cache/app``),
    restarts the container and checks the log is still there. A mount over a
    parent directory (``/var``, ``/var/log``) is refused: it would hide the
    image's files there.
    """
    from rosim.fs.layers import Image
    from rosim.fs.mounts import Bind, Tmpfs
    from rosim.runtime.runtime import Runtime

    if mounts is Ellipsis:
        return _placeholder("APP_MOUNTS", 'start with a tmpfs for each of the app\'s '
                            'directories: [rosim.Tmpfs("/var/log/app"), '
                            'rosim.Tmpfs("/var/cache/app")].')
    if not isinstance(mounts, list | tuple):
        return _fail(f"APP_MOUNTS must be a list of mounts, not {_short(mounts)}.",
                     "write it as [mount, mount]; " + _MOUNT_HINT)
    for mount in mounts:
        if not isinstance(mount, Tmpfs | Bind):
            hint = _MOUNT_HINT
            if isinstance(mount, str):
                hint = f"a path alone is not a mount: {_MOUNT_HINT}"
            return _fail(f"{_short(mount)} in APP_MOUNTS is not a mount.", hint)
    hidden = [m.destination for m in mounts
              if any(d.startswith(m.destination.rstrip("/") + "/") for d in APP_DIRS)]
    if hidden:
        return _fail(f"a mount at {hidden[0]} hides the image's files there.",
                     f"mount only the app's own directories, {' and '.join(APP_DIRS)}.")
    try:
        ctr = Runtime("cri-o", read_only=True).create(Image.builtin("fedora"), name="app",
                                                      mounts=list(mounts))
        ctr.start()
        ctr.run(program)
        ctr.restart()
        kept = ctr.run(_exists, "/var/log/app/app.log")
    except OSError as exc:
        return _fail(f"{type(exc).__name__}: {exc}",
                     "give that directory a writable mount: " + _MOUNT_HINT)
    except RosimError as exc:
        return _fail(f"{type(exc).__name__}: {exc}", "fix the mount list as the message says.")
    except Exception as exc:  # noqa: BLE001 - a learner's answer may break anything
        return _unexpected(exc, _MOUNT_HINT)
    if not kept:
        return _fail("the app ran, but /var/log/app/app.log was gone after a restart.",
                     "a tmpfs is emptied on every restart; keep logs on a volume: "
                     'rosim.Bind(rosim.Volume("app-logs"), "/var/log/app").')
    return Verdict(True, "app() runs on a read-only root, and its log survives a restart.")


def _exists(path: str) -> bool:
    import os

    return os.path.exists(path)


# ----------------------------------------------------------------- lab 01
_CRI_MOUNT_HINT = ('write each mount as {"container_path": "/dir", "host_path": "/host/dir", '
                   '"readonly": False}.')


def _inventory_config(mounts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"metadata": {"name": "inventory"},
            "image": {"image": "registry.fedoraproject.org/fedora:28"},
            "command": ["/bin/sleep"], "args": ["6000"],
            "mounts": mounts,
            "linux": {"security_context": {"readonly_rootfs": True}}}


def check_inventory_mounts(mounts: Any) -> Verdict:
    """Lab 01: can ``dnf list installed`` run under ``crio --read-only`` with ``mounts``?

    ``mounts`` are CRI mounts of the container's configuration (dicts with
    ``container_path``, ``host_path`` and ``readonly``). The check starts the
    sample pod and a Fedora container with them in a ``crio --read-only``
    server, runs ``dnf list installed`` and refuses a mount that hides the
    RPM database the job is meant to read.
    """
    from rosim.cri.server import CrioServer

    if mounts is Ellipsis:
        return _placeholder("INVENTORY_MOUNTS", "which directory did dnf fail to write to "
                            "in section 1? Give it a mount: " + _CRI_MOUNT_HINT)
    if not isinstance(mounts, list | tuple):
        return _fail(f"INVENTORY_MOUNTS must be a list of mounts, not {_short(mounts)}.",
                     _CRI_MOUNT_HINT)
    for mount in mounts:
        if not isinstance(mount, dict):
            return _fail(f"{_short(mount)} in INVENTORY_MOUNTS is not a mount.",
                         _CRI_MOUNT_HINT)
    try:
        crio = CrioServer(read_only=True)
        pod = crio.runp("sandbox_config.json")
        ctr = crio.create(pod, _inventory_config(list(mounts)), "sandbox_config.json")
        crio.start(ctr)
        job = crio.exec(ctr, "dnf list installed")
        rpmdb = crio.exec(ctr, "test -f /var/lib/rpm/Packages").ok
    except RosimError as exc:
        return _fail(str(exc), _CRI_MOUNT_HINT)
    except Exception as exc:  # noqa: BLE001 - a learner's answer may break anything
        return _unexpected(exc, _CRI_MOUNT_HINT)
    if not rpmdb:
        return _fail("a mount hides the image's RPM database /var/lib/rpm/Packages.",
                     "mount the directory dnf writes to, not one of its parents.")
    if not job.ok:
        read_only = any(m.get("readonly") for m in mounts)
        return _fail(job.stderr.strip() or f"dnf exited with {job.status}",
                     'a mount with "readonly": True is as read-only as the root; set it '
                     'to False.' if read_only else
                     'give the directory of that file a mount with "readonly": False.')
    return Verdict(True, "dnf list installed works under crio --read-only, logging to "
                   "the mount.")


# ----------------------------------------------------------------- lab 02
def check_shop_hardening(setting: Any) -> Verdict:
    """Lab 02: does the shop work under ``setting``, with no backdoor that persists?

    ``setting`` is a :class:`~rosim.BackdoorSetting` (or the label of a
    standard one, see :func:`~rosim.backdoor_settings`); the verdict is that
    of :func:`~rosim.check_hardening`.
    """
    from rosim.scenarios.backdoors import BackdoorSetting, backdoor_setting, check_hardening

    hint = ('build it as rosim.BackdoorSetting("my shop", "cri-o", read_only=True, '
            "mounts=(...)), or start from rosim.backdoor_setting(label).")
    if setting is Ellipsis:
        return _placeholder("HARDENED", "start from the team's set-up, "
                            'rosim.backdoor_setting("readOnlyRootFilesystem + emptyDir /tmp"), '
                            "run the check and read which backdoors persist.")
    try:
        if isinstance(setting, str):
            setting = backdoor_setting(setting)
        if not isinstance(setting, BackdoorSetting):
            return _fail(f"HARDENED must be a rosim.BackdoorSetting, not {_short(setting)}.",
                         hint)
        verdict = check_hardening(setting)
    except RosimError as exc:
        return _fail(str(exc), hint)
    except Exception as exc:  # noqa: BLE001 - a learner's answer may break anything
        return _unexpected(exc, hint)
    lines = str(verdict).splitlines()
    hints = tuple(line[len("Hint: "):] for line in lines if line.startswith("Hint: "))
    body = [line for line in lines if not line.startswith("Hint: ")]
    message = "\n".join(body)
    for prefix in ("PASS: ", "FAIL: "):
        message = message.removeprefix(prefix)
    return Verdict(verdict.passed, message, hints)


# ----------------------------------------------------------------- lab 03
def check_no_loss(logs: Any, data: Any) -> Verdict:
    """Lab 03: with ``readOnlyRootFilesystem``, does nothing get lost?

    ``logs`` and ``data`` are :class:`~rosim.StorageKind` values (``"layer"``,
    ``"emptyDir"``, ``"hostPath"``, ``"pvc"``, ``"pvc-local"``, ``"stdout"``
    for the logs). The app handles 10 requests, then its container crashes
    and its node fails; every log line and record must still be readable.
    """
    from rosim.cluster.dataloss import StorageKind, run_app_story
    from rosim.teach.dataloss_views import loss_summary

    allowed = {"LOGS": [k.value for k in StorageKind if k is not StorageKind.TMPFS],
               "DATA": [k.value for k in StorageKind
                        if k not in (StorageKind.TMPFS, StorageKind.STDOUT)]}
    kinds = ", ".join(f'"{k}"' for k in allowed["LOGS"])
    for name, value in (("LOGS", logs), ("DATA", data)):
        if value is Ellipsis:
            return _placeholder(name, f'set {name} to one of the storage kinds, for example '
                                '"emptyDir", then run the check.')
        if not isinstance(value, str) or value not in allowed[name]:
            what = ("is not a place for data records: they are files the app reads back"
                    if value == StorageKind.STDOUT.value else "is not a storage kind")
            return _fail(f"{name} = {_short(value)} {what}.", "choose one of "
                         + ", ".join(f'"{k}"' for k in allowed[name]) + ".")
    try:
        story = run_app_story(logs=logs, data=data, read_only=True,
                              events=["crash", "node-failure"], requests=10)
    except RosimError as exc:
        return _fail(str(exc), f"choose one of {kinds}.")
    except Exception as exc:  # noqa: BLE001 - a learner's answer may break anything
        return _unexpected(exc, f"choose one of {kinds}.")
    end = story.steps[-1]
    lost = any(count > 0 for count in end.lost.values())
    if lost:
        return _fail(loss_summary(story), "which storage outlives a node? See the last "
                     "column of the table in section 4.")
    if not all(end.written.values()):
        return _fail(loss_summary(story), "on a read-only root the app can write only to "
                     "volumes and stdout.")
    return Verdict(True, "every log line and record survived the crash and the node failure.")


# ----------------------------------------------------------------- lab 04
def check_tenant_a(tenant: Any) -> Verdict:
    """Lab 04: configured this way, does tenant A leave the other tenants unharmed?

    ``tenant`` is tenant A's :class:`~rosim.QuotaTenant`, made with
    ``rosim.quota_tenants()[0].replace(...)``; the verdict is that of
    :func:`~rosim.check_quota_exercise`.
    """
    from rosim.cluster.quota import QuotaTenant, check_quota_exercise

    hint = ("start from tenant_a = rosim.quota_tenants()[0] and change its pod with "
            "tenant_a.replace(read_only=..., limit=..., claim_path=...).")
    if tenant is Ellipsis:
        return _placeholder("TENANT_A", "try tenant_a.replace(limit=\"8Gi\") first, run the "
                            "check and read what it says.")
    if not isinstance(tenant, QuotaTenant):
        return _fail(f"TENANT_A must be a QuotaTenant, not {_short(tenant)}.", hint)
    try:
        text = check_quota_exercise(tenant)
    except RosimError as exc:
        return _fail(str(exc), hint)
    except Exception as exc:  # noqa: BLE001 - a learner's answer may break anything
        return _unexpected(exc, hint)
    lines = text.splitlines()
    passed = lines[0].startswith("PASS: ")
    hints = tuple(line[len("Hint: "):] for line in lines if line.startswith("Hint: "))
    notes = tuple(line[len("Note: "):] for line in lines if line.startswith("Note: "))
    body = [line for line in lines if not line.startswith(("Hint: ", "Note: "))]
    message = "\n".join(body)
    for prefix in ("PASS: ", "FAIL: "):
        message = message.replace(prefix, "", 1) if message.startswith(prefix) else message
    if not passed and not hints:
        hints = (hint,)
    return Verdict(passed, message, hints, notes)


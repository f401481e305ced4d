"""Scenario 2, in a pod: the kubelet's ``/etc/hosts`` as a persistence path.

A pod with a read-only root still has one writable file in ``/etc``: the
kubelet bind-mounts its per-pod hosts file
(``/var/lib/kubelet/pods/<uid>/etc-hosts``) read-write at ``/etc/hosts`` in
every container of the pod (domain.md §2). It belongs to the pod, not to
the container, so it outlives a container crash: an attacker who points a
name the app uses at a server of theirs keeps that redirection when the
kubelet replaces the crashed container. Only a new pod (a deletion, a
rollout, a move to another node) starts from a fresh file.

:func:`run_hosts_redirect` plays it in a :class:`~rosim.Cluster` with CRI-O's
``--read-only``: the shop runs as a Deployment; from inside the app the
attacker fails to write ``/etc/motd`` (``EROFS``) and appends a line to
``/etc/hosts``; then the event happens and the app's container looks the
name up again. The addresses are read from the file the container sees.

>>> run_hosts_redirect("crash").persists
True
>>> run_hosts_redirect("reschedule").persists
False
"""

from __future__ import annotations

from dataclasses import dataclass

from rosim._errors import ConfigError

__all__ = ["ATTACKER_ADDRESS", "HOSTS_EVENTS", "REDIRECTED_HOST", "HostsRedirect",
           "run_hosts_redirect"]

#: The attacker's server (a documentation address, RFC 5737).
ATTACKER_ADDRESS = "203.0.113.66"
#: The name the shop talks to, which the attacker redirects.
REDIRECTED_HOST = "payments.example.com"
#: Events and what they do to the pod.
HOSTS_EVENTS = {
    "crash": "the app crashes; the kubelet starts a new container in the same pod",
    "reschedule": "the pod is deleted; the Deployment's new pod runs on another node",
}


@dataclass(frozen=True)
class HostsRedirect:
    """What the attacker's ``/etc/hosts`` line did, before and after ``event``.

    ``before`` and ``after`` are the addresses the app's container finds for
    :data:`REDIRECTED_HOST` in its ``/etc/hosts`` (``""``: not there, DNS
    answers); ``transcript`` is what the attacker and the app saw.
    """

    event: str
    motd_error: str
    before: str
    after: str
    transcript: tuple[str, ...]

    @property
    def persists(self) -> bool:
        """Whether the redirection is still there after the event."""
        return self.after == ATTACKER_ADDRESS

    def __str__(self) -> str:
        return "\n".join(self.transcript)


def _lookup(name: str) -> str:
    """Inside a container: the address /etc/hosts gives ``name`` ("" if none)."""
    with open("/etc/hosts") as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if len(fields) > 1 and name in fields[1:]:
                return fields[0]
    return ""


def run_hosts_redirect(event: str = "crash") -> HostsRedirect:
    """Plant the redirection in the shop's pod, apply ``event``, look again.

    ``event`` is a key of :data:`HOSTS_EVENTS`; another value is a
    :class:`~rosim.ConfigError` naming it.
    """
    from rosim.cluster.cluster import Cluster
    from rosim.cluster.dataloss import deployment
    from rosim.scenarios.backdoor_catalog import shop_image

    if not isinstance(event, str) or event not in HOSTS_EVENTS:
        raise ConfigError(f"event(={event!r}) must be one of "
                          + ", ".join(repr(e) for e in HOSTS_EVENTS) + ".")
    cluster = Cluster(nodes=2, read_only=True, images={"shop:1.0": shop_image()})
    pod = cluster.apply(deployment("shop", {"containers": [
        {"name": "shop", "image": "shop:1.0"}]})).pod
    lines = [f"pod {pod.name} on {pod.node}, crio --read-only"]
    motd = cluster.exec(pod.name, ["python3", "-c", "open('/etc/motd', 'a')"])
    motd_error = (motd.stderr.strip().splitlines() or [""])[-1]
    lines.append(f"attacker: open('/etc/motd', 'a') -> {motd_error}")
    append = (f"open('/etc/hosts', 'a').write('{ATTACKER_ADDRESS} {REDIRECTED_HOST}\\n')")
    planted = cluster.exec(pod.name, ["python3", "-c", append])
    lines.append(f"attacker: {append} -> {'ok' if planted.ok else planted.stderr.strip()}")
    before = pod.container().run(_lookup, REDIRECTED_HOST)
    lines.append(f"app: {REDIRECTED_HOST} -> {before or 'DNS'}")
    lines.append(f"--- {event}: {HOSTS_EVENTS[event]}")
    if event == "crash":
        cluster.crash(pod.name)
    else:
        cluster.reschedule(pod.name)
    now = cluster.pod("deployment/shop")
    after = now.container().run(_lookup, REDIRECTED_HOST)
    lines.append(f"pod {now.name} on {now.node}, container restarts "
                 f"{now.restarts.get('shop', 0)}")
    lines.append(f"app: {REDIRECTED_HOST} -> {after or 'DNS (the hosts file is new)'}")
    return HostsRedirect(event, motd_error, before, after, tuple(lines))

"""The kubelet's container lifecycle: start, crash, back-off, dead containers, logs.

What the kubelet does (domain.md §5):

* it never restarts a container in place: after a crash it asks the runtime
  for a **new** container (new id, new writable layer) in the same pod;
* it keeps **one dead container** per container
  (``maximum-dead-containers-per-container=1``): its writable layer and logs
  stay on the node's disk until garbage collection, disk pressure or the
  pod's deletion removes them, and ``kubectl logs --previous`` reads it;
* ``restartCount`` and ``lastState`` are in the container's status; the
  event after a crash is ``BackOff``, ``Back-off restarting failed container
  NAME in pod POD_NAMESPACE(UID)``, without the exit code (that is in
  ``lastState``);
* the back-off doubles from 10 s to 5 minutes, on the cluster clock, and
  starts again from 10 s after 10 minutes without a crash.

A Job's pods (``restartPolicy: Never`` or ``OnFailure``) end ``Completed``
when their process exits 0. Under ``restartPolicy: Always`` a process that
returns 0 stands for a server that started: the container keeps running.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rosim._errors import ConfigError, LifecycleError
from rosim.cluster.objects import TerminatedState
from rosim.cluster.spec import VolumeKind

if TYPE_CHECKING:
    from rosim.cluster.cluster import Cluster
    from rosim.cluster.objects import Node, Pod
    from rosim.runtime.container import Container

__all__ = ["BACK_OFF_MAX", "BACK_OFF_RESET", "BACK_OFF_START", "OOM_EXIT_CODE",
           "back_off_delay", "crash", "logs", "oom_check", "start_container", "stop_pod",
           "update_status"]

#: The first back-off delay after a crash, in seconds.
BACK_OFF_START = 10.0
#: The longest back-off delay (5 minutes).
BACK_OFF_MAX = 300.0
#: A container that ran this long since its last crash starts its back-off anew.
BACK_OFF_RESET = 600.0


def back_off_delay(crashes: int) -> float:
    """The delay before the restart after the ``crashes``-th crash (1, 2, ...).

    >>> [back_off_delay(n) for n in range(1, 8)]
    [10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0]
    """
    return min(BACK_OFF_START * 2 ** (crashes - 1), BACK_OFF_MAX)


def start_container(cluster: Cluster, pod: Pod, node: Node, index: int) -> Container:
    """Create and start container ``index`` of ``pod`` on ``node`` (a new one every time)."""
    from rosim.cluster.images import pull

    spec = pod.spec.containers[index]
    pull(cluster, node, spec.image)
    attempt = pod.restarts.get(spec.name, 0)
    name = f"k8s_{spec.name}_{pod.name}_{pod.spec.namespace}_{pod.uid[:8]}_{attempt}"
    ctr = node.runtime.create(
        cluster.image(spec.image), name=name, mounts=cluster._mounts(pod, node, index),
        read_only=spec.read_only_root_filesystem, privileged=spec.privileged,
        command=list(spec.command) if spec.command is not None else None,
        args=list(spec.args) if spec.args is not None else None,
        env=dict(spec.env), hostname=pod.name)
    cluster._record("Created", pod.name, node.name, f"Created container {spec.name}")
    ctr.start()
    pod.containers[spec.name] = ctr
    pod.waiting.pop(spec.name, None)
    pod.memory_base[spec.name] = _memory_volumes(cluster, pod, spec.name)
    cluster._record("Started", pod.name, node.name, f"Started container {spec.name}")
    cluster._ship_logs(pod, ctr.process_runs[-1] if ctr.process_runs else None)
    code = ctr.exit_code
    if code or (code == 0 and pod.spec.restart_policy != "Always"):
        terminated(cluster, pod, spec.name, code)
    return ctr


#: The exit code of a process the kernel's OOM killer ended (128 + SIGKILL).
OOM_EXIT_CODE = 137


def _memory_volumes(cluster: Cluster, pod: Pod, name: str) -> dict[str, int]:
    """Bytes in each ``medium: Memory`` emptyDir container ``name`` mounts."""
    from rosim.cluster.kubelet import pod_usage

    spec = pod.spec.containers[[c.name for c in pod.spec.containers].index(name)]
    mounted = {m.name for m in spec.volume_mounts}
    if not any(v.medium == "Memory" and v.name in mounted for v in pod.spec.volumes):
        return {}
    memory = pod_usage(cluster, pod.name).memory
    return {v: used for v, used in memory.items() if v in mounted}


def oom_check(cluster: Cluster, pod: Pod) -> list[str]:
    """The kernel's OOM killer: a container whose ``medium: Memory`` emptyDir pages
    (those written since it started, charged to its memory cgroup) exceed its
    ``limits.memory`` is killed, exit code 137, reason ``OOMKilled``; the kubelet
    then restarts it as after any crash. Returns the containers killed."""
    killed = []
    for spec in pod.spec.containers:
        if spec.memory_limit is None or spec.name not in pod.containers:
            continue
        base = pod.memory_base.get(spec.name, {})
        charged = sum(max(used - base.get(v, 0), 0)
                      for v, used in _memory_volumes(cluster, pod, spec.name).items())
        if charged > spec.memory_limit:
            terminated(cluster, pod, spec.name, OOM_EXIT_CODE, reason="OOMKilled")
            killed.append(spec.name)
    return killed


def update_status(cluster: Cluster, pod: Pod) -> None:
    """The STATUS column of ``kubectl get pods`` from the containers' states.

    A StatefulSet's pod that starts running wakes its controller (the next
    ordinal may be created now, ``OrderedReady``): through the controllers'
    work queue (:func:`rosim.cluster.workloads.run_queue`), never by a nested call."""
    if pod.terminating or pod.status in ("Evicted",):
        return
    before = pod.status
    _set_status(pod)
    if pod.status == "Running" and before != "Running" and \
            pod.workload.startswith("StatefulSet/"):
        from rosim.cluster.workloads import pod_running

        pod_running(cluster, pod)


def _set_status(pod: Pod) -> None:
    if pod.waiting:
        pod.status = "CrashLoopBackOff"
    elif pod.containers:
        pod.status = "Running"
    elif pod.last_state and len(pod.last_state) == len(pod.spec.containers) and all(
            s.exit_code == 0 for s in pod.last_state.values()):
        pod.status = "Completed"
    elif pod.last_state:
        pod.status = "Error"


def _keep_dead(cluster: Cluster, pod: Pod, name: str, ctr: Container) -> None:
    """The dead container stays, one per container; an older one is collected."""
    older = pod.dead.pop(name, None)
    if older is not None and older.state != "removed":
        older.remove(force=True)
    if ctr.state == "running":
        ctr.stop()
    pod.dead[name] = ctr


#: The kubelet reads at most this many bytes of a termination-message file.
MAX_TERMINATION_MESSAGE = 4096
#: ``FallbackToLogsOnError``: the last lines of the log, at most 80 and 2048 bytes.
FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES = 80, 2048


def termination_message(cluster: Cluster, pod: Pod, name: str, ctr: Container,
                        exit_code: int) -> str:
    """What the kubelet puts in ``lastState.terminated.message``."""
    from rosim.cluster.cluster import termination_file

    node = cluster.nodes.get(pod.node or "")
    text = ""
    if node is not None:
        entry = node.runtime._host_files.get(termination_file(pod, name))
        if entry is not None:
            text = (entry.byte_contents or b"")[:MAX_TERMINATION_MESSAGE].decode(
                errors="replace")
    spec = pod.spec.containers[[c.name for c in pod.spec.containers].index(name)]
    if not text and exit_code and spec.termination_message_policy == "FallbackToLogsOnError":
        lines = ctr.logs(current=True).splitlines(keepends=True)[-FALLBACK_LOG_LINES:]
        text = "".join(lines)[-FALLBACK_LOG_BYTES:]
    return text


def terminated(cluster: Cluster, pod: Pod, name: str, exit_code: int | None,
               reason: str | None = None) -> None:
    """Container ``name`` of ``pod`` exited: keep it dead, then restart it or not."""
    ctr = pod.containers.pop(name)
    code = exit_code or 0
    pod.last_state[name] = TerminatedState(code, reason or ("Completed" if code == 0
                                                            else "Error"),
                                           f"cri-o://{ctr.id}",
                                           termination_message(cluster, pod, name, ctr, code))
    _keep_dead(cluster, pod, name, ctr)
    policy = pod.spec.restart_policy
    if policy == "Never" or (policy == "OnFailure" and code == 0):
        update_status(cluster, pod)
        if pod.workload:
            from rosim.cluster.workloads import reconcile_workload

            cluster.at(0.0, lambda: reconcile_workload(cluster, pod.workload))
        return
    last = pod.crashed_at.get(name)
    if last is not None and cluster.clock - last >= BACK_OFF_RESET:
        pod.crashes[name] = 0
    pod.crashes[name] = pod.crashes.get(name, 0) + 1
    pod.crashed_at[name] = cluster.clock
    delay = back_off_delay(pod.crashes[name])
    pod.waiting[name] = cluster.clock + delay
    cluster._record("BackOff", pod.name, pod.node or "",
                    f"Back-off restarting failed container {name} in pod "
                    f"{pod.name}_{pod.spec.namespace}({pod.uid})")
    update_status(cluster, pod)
    uid = pod.uid
    cluster.at(delay, lambda: _restart(cluster, pod.name, uid, name))


def _restart(cluster: Cluster, pod_name: str, uid: str, name: str) -> None:
    """The back-off is over: the kubelet creates the container again."""
    pod = cluster.pods.get(pod_name)
    if pod is None or pod.uid != uid or name not in pod.waiting or pod.terminating:
        return
    node = cluster.nodes.get(pod.node or "")
    if node is None or not node.up:
        return
    pod.restarts[name] = pod.restarts.get(name, 0) + 1
    index = [c.name for c in pod.spec.containers].index(name)
    start_container(cluster, pod, node, index)
    update_status(cluster, pod)


def crash(cluster: Cluster, pod_name: str, container: str | None = None, *,
          exit_code: int = 1, wait: bool = True) -> Pod:
    """A container's process dies with ``exit_code`` (see :meth:`Cluster.crash`)."""
    if not isinstance(exit_code, int) or isinstance(exit_code, bool) or not 1 <= exit_code <= 255:
        raise ConfigError(f"exit_code(={exit_code!r}) must be an integer from 1 to 255.")
    pod = cluster._running(pod_name)
    names = [container] if container else list(pod.containers)
    for name in names:
        pod.container(name)
    delays = []
    for name in names:
        terminated(cluster, pod, name, exit_code)
        if name in pod.waiting:
            delays.append(pod.waiting[name] - cluster.clock)
    if wait and delays:
        cluster.advance(max(delays))
    return pod


def logs(cluster: Cluster, pod_name: str, container: str | None = None, *,
         previous: bool = False) -> str:
    """``kubectl logs [--previous] POD [-c CONTAINER]``."""
    pod = cluster.pod(pod_name)
    names = [c.name for c in pod.spec.containers]
    if container is None:
        if len(names) > 1:
            raise ConfigError(f"a container name must be specified for pod {pod.name}, "
                              f"choose one of: [{' '.join(names)}]")
        container = names[0]
    elif container not in names:
        raise ConfigError(f"container {container} is not valid for pod {pod.name}")
    if previous:
        dead = pod.dead.get(container)
        if dead is None or dead.state == "removed":
            raise LifecycleError(f'previous terminated container "{container}" in pod '
                                 f'"{pod.name}" not found')
        return dead.logs(current=True)
    ctr = pod.containers.get(container) or pod.dead.get(container)
    if ctr is None or ctr.state == "removed":
        raise LifecycleError(f'container "{container}" in pod "{pod.name}" is waiting to '
                             f"start: {pod.status}")
    return ctr.logs(current=True)


def stop_pod(cluster: Cluster, pod: Pod, delete_storage: bool) -> None:
    """The kubelet kills the pod's containers and removes them, dead ones too."""
    node = cluster.nodes.get(pod.node) if pod.node else None
    for name, ctr in pod.containers.items():
        if ctr.state != "removed":
            if node is not None and node.up:
                cluster._record("Killing", pod.name, node.name, f"Stopping container {name}")
            ctr.remove(force=True)
    for ctr in pod.dead.values():
        if ctr.state != "removed":
            ctr.remove(force=True)
    pod.containers, pod.dead, pod.waiting = {}, {}, {}
    if node is None:
        return
    node.pods.discard(pod.name)
    if delete_storage:
        # The kubelet deletes a pod's emptyDir volumes (and its directory) with the pod.
        for volume in pod.spec.volumes:
            if volume.kind is VolumeKind.EMPTY_DIR and volume.medium == "Memory":
                node.runtime.drop_storage("memory", f"{pod.uid}-{volume.name}")
        prefix = f"/var/lib/kubelet/pods/{pod.uid}/"
        for key in [k for k in node.runtime._host_paths if k.startswith(prefix)]:
            node.runtime.drop_storage("host", key)
        for key in [k for k in node.runtime._host_files if k.startswith(prefix)]:
            node.runtime.drop_storage("file", key)

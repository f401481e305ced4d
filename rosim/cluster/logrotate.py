"""The kubelet's container log manager: rotation at a size, a number of files kept.

A container's stdout and stderr go to its current log file on the node
(``/var/log/pods/NAMESPACE_POD_UID/CONTAINER/0.log``). Every
:data:`LOG_MONITOR_INTERVAL` (``containerLogMonitorInterval``, 10 s) the
kubelet looks at each running container's current file: once it holds
:data:`CONTAINER_LOG_MAX_SIZE` (``containerLogMaxSize``, 10Mi) or more, it
is rotated and a new one started; of the rotated files only the newest
:data:`CONTAINER_LOG_MAX_FILES` − 1 stay (``containerLogMaxFiles``, 5
files in all). The oldest lines are gone with no event. Every file kept
counts toward the pod's ephemeral storage and the node's disk; ``kubectl
logs`` reads only the current file (domain.md §5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rosim.cluster.cluster import Cluster

__all__ = ["CONTAINER_LOG_MAX_FILES", "CONTAINER_LOG_MAX_SIZE", "LOG_MONITOR_INTERVAL",
           "rotate_logs"]

#: ``containerLogMaxSize``: a log file this big (or bigger) is rotated.
CONTAINER_LOG_MAX_SIZE = 10 * 1024 * 1024
#: ``containerLogMaxFiles``: log files kept per container, the current one included.
CONTAINER_LOG_MAX_FILES = 5
#: ``containerLogMonitorInterval``: seconds between two looks at the log files.
LOG_MONITOR_INTERVAL = 10.0


def rotate_logs(cluster: Cluster) -> list[tuple[str, str, int]]:
    """One pass of every node's log manager.

    Returns ``(pod, container, bytes freed)`` for each container whose log
    was rotated.
    """
    rotated = []
    for node in cluster.nodes.values():
        if not node.up:
            continue
        for pod_name in sorted(node.pods):
            pod = cluster.pods[pod_name]
            for name, ctr in pod.containers.items():
                if ctr.state != "running":
                    continue
                if ctr.log_file_sizes()[-1] >= cluster.container_log_max_size:
                    freed = ctr.rotate_logs(cluster.container_log_max_files)
                    rotated.append((pod.name, name, freed))
    return rotated

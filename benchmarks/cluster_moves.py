"""Benchmark: pods moving around a cluster, with their volumes and survival accounting.

Scenario: a cluster of ``NODES`` nodes runs a StatefulSet of ``pods`` pods
(``app-0`` ...), applied as a manifest. Each pod has an ``emptyDir`` mounted
at ``/scratch`` and its own claim from ``volumeClaimTemplates`` (network
storage) mounted at ``/data``, and writes a marker file to its writable
layer (``/var/marker``), its emptyDir and its PVC. Then, for each of
``rounds`` rounds:

1. ``DRAIN_NODES_PER_ROUND`` nodes, drawn from a seeded generator, are
   drained (``kubectl drain --delete-emptydir-data``: their pods are
   evicted and the StatefulSet recreates them, same names, elsewhere) and
   uncordoned again;
2. ``RESCHEDULE_SHARE`` of the pods, drawn the same way, are deleted
   (``kubectl delete pod``) and recreated on another node;
3. survival accounting: every pod checks, from inside its container, which
   of its three markers it still sees, and writes again the ones it lost,
   so the next round counts that round's losses.

The accounting is checked against Kubernetes' rules (domain.md §5): a pod
that moved this round has lost its layer and emptyDir markers and kept its
PVC marker; a pod that stayed sees all three. Any mismatch is reported and
fails the benchmark.

Pods are ``busybox`` containers without a start-up process (the image has
no command and the manifest gives none), so the figures are the cost of the
cluster, its storage and the container file system, not of a program.

The timed figure is everything after the imports: creating the cluster,
applying the StatefulSet (its claims are provisioned), writing the first
markers, and the rounds, in CPU seconds (``time.process_time``), which other
processes on a busy machine disturb much less than the wall clock (printed
too). It runs at two sizes; the cost of the rounds per pod-round, and of the
set-up per pod, should be the same at both (linear growth).
"""

from __future__ import annotations

import gc
import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from time import perf_counter, process_time

import rosim

NODES = 50  # nodes of the cluster
DRAIN_NODES_PER_ROUND = 3  # nodes drained (then uncordoned) each round
RESCHEDULE_SHARE = 0.10  # share of the pods deleted and rescheduled each round
MARKERS = {  # storage kind -> marker path inside the pod
    "layer": "/var/marker",
    "emptyDir": "/scratch/marker",
    "pvc": "/data/marker",
}
#: What a pod still sees after a round (domain.md §5), moved or not.
EXPECTED = {True: {"layer": False, "emptyDir": False, "pvc": True},
            False: {"layer": True, "emptyDir": True, "pvc": True}}

SETUP_PHASES = ("create cluster", "apply pods", "first markers")
ROUND_PHASES = ("drain + uncordon", "reschedule", "accounting")


@dataclass
class Round:
    """One round: what moved and how many pods still saw each marker."""

    drained: list[str]
    moved: int
    seen: dict[str, int]
    mismatches: int


@dataclass
class Result:
    """One run at one size: seconds per phase, rounds and accounting errors."""

    pods: int
    rounds: int
    phases: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    history: list[Round] = field(default_factory=list)
    gc_seconds: float = 0.0  # time spent in the garbage collector during the run

    @property
    def total(self) -> float:
        """Wall-clock seconds from creating the cluster to the end of the last round."""
        return sum(self.phases.values())

    @property
    def cpu_total(self) -> float:
        """CPU seconds of the whole run."""
        return sum(self.cpu.values())

    @property
    def setup(self) -> float:
        """CPU seconds to create the cluster, apply the pods and write the first markers."""
        return sum(self.cpu[k] for k in SETUP_PHASES)

    @property
    def rounds_time(self) -> float:
        """CPU seconds of the rounds: events plus accounting."""
        return sum(self.cpu[k] for k in ROUND_PHASES)

    @property
    def mismatches(self) -> int:
        """Pods whose markers disagreed with domain.md §5, over all rounds."""
        return sum(r.mismatches for r in self.history)

    @property
    def moves(self) -> int:
        """Pod moves over all rounds."""
        return sum(r.moved for r in self.history)


def statefulset(replicas: int) -> dict[str, object]:
    """busybox pods with an emptyDir at /scratch and a claim per pod at /data."""
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "app"},
            "spec": {"replicas": replicas, "serviceName": "app",
                     "selector": {"matchLabels": {"app": "app"}},
                     "template": {"metadata": {"labels": {"app": "app"}}, "spec": {
                         "volumes": [{"name": "scratch", "emptyDir": {}}],
                         "containers": [{"name": "app", "image": "busybox", "volumeMounts": [
                             {"name": "scratch", "mountPath": "/scratch"},
                             {"name": "data", "mountPath": "/data"}]}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}}]}}


def check_and_mark() -> tuple[bool, ...]:
    """Inside a pod: which markers are still there; write again those that are not."""
    seen = []
    for path in MARKERS.values():
        if os.path.exists(path):
            seen.append(True)
        else:
            with open(path, "w") as f:
                f.write("marker")
            seen.append(False)
    return tuple(seen)


class GcTimer:
    """Adds up the time the garbage collector runs while it is installed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = perf_counter()
        else:
            self.seconds += perf_counter() - self._start

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def run(pods: int, rounds: int, seed: int) -> Result:
    """Run the scenario once at one size."""
    gc.collect()
    with GcTimer() as timer:
        result = _run(pods, rounds, seed)
    result.gc_seconds = timer.seconds
    return result


def _run(pods: int, rounds: int, seed: int) -> Result:
    rng = random.Random(seed)
    result = Result(pods, rounds)

    @contextmanager
    def timed(phase: str) -> Iterator[None]:
        t0, c0 = perf_counter(), process_time()
        yield
        result.phases[phase] = result.phases.get(phase, 0.0) + perf_counter() - t0
        result.cpu[phase] = result.cpu.get(phase, 0.0) + process_time() - c0

    names = [f"app-{i}" for i in range(pods)]
    with timed("create cluster"):
        cluster = rosim.Cluster(nodes=NODES, seed=seed)
    with timed("apply pods"):
        cluster.apply(statefulset(pods))
    assert all(p.status == "Running" for p in cluster.pods.values())

    def account() -> tuple[dict[str, int], dict[str, str], list[dict[str, bool]]]:
        """Every pod checks its markers: counts seen per kind, uids, each pod's view."""
        seen = dict.fromkeys(MARKERS, 0)
        uids, found = {}, {}
        # One patched region per node: every pod of the node checks in turn.
        for node in cluster.nodes.values():
            pods = sorted(node.pods)
            flags = rosim.run_each([cluster.pods[p].container() for p in pods],
                                   check_and_mark)
            found.update(zip(pods, flags, strict=True))
        views = []
        for name in names:
            flags = dict(zip(MARKERS, found[name], strict=True))
            for kind, ok in flags.items():
                seen[kind] += ok
            uids[name] = cluster.pods[name].uid
            views.append(flags)
        return seen, uids, views

    with timed("first markers"):
        _, uids, _ = account()
    node_names = list(cluster.nodes)
    share = round(RESCHEDULE_SHARE * pods)
    for _ in range(rounds):
        drained = rng.sample(node_names, DRAIN_NODES_PER_ROUND)
        chosen = rng.sample(names, share)
        with timed("drain + uncordon"):
            for node in drained:
                cluster.drain(node, delete_emptydir_data=True)
            for node in drained:
                cluster.uncordon(node)
        with timed("reschedule"):
            for name in chosen:
                cluster.reschedule(name)
        with timed("accounting"):
            seen, new_uids, views = account()
        moved = {n for n in names if new_uids[n] != uids[n]}
        mismatches = sum(view != EXPECTED[name in moved]
                         for name, view in zip(names, views, strict=True))
        result.history.append(Round(drained, len(moved), seen, mismatches))
        uids = new_uids
    return result


def report(results: list[Result], max_seconds: float, max_ratio: float
           ) -> list[tuple[bool, str]]:
    """Print the figures; return (ok, line) per target."""
    big, small = results
    print(f"4. Cluster: {NODES} nodes; each round drains {DRAIN_NODES_PER_ROUND} nodes (then "
          f"uncordons them) and reschedules {RESCHEDULE_SHARE:.0%} of the pods;")
    print("   every busybox pod of a StatefulSet (no start-up process) has an emptyDir and a")
    print("   network PVC from volumeClaimTemplates, and")
    print("   after each round checks, and writes again, a marker in its layer, emptyDir, PVC")
    print(f"   {'round':>7}{'drained':>26}{'moved':>7}"
          + "".join(f"{k + ' seen':>15}" for k in MARKERS) + f"{'wrong':>7}")
    for i, r in enumerate(big.history, 1):
        print(f"   {i:>7}{', '.join(r.drained):>26}{r.moved:>7}"
              + "".join(f"{r.seen[k]:>15}" for k in MARKERS) + f"{r.mismatches:>7}")
    print(f"   {'size':<22}{'wall s':>8}{'CPU s':>7}{'set-up CPU':>12}{'rounds CPU':>12}"
          f"{'ms/pod':>8}{'ms/pod-round':>14}{'moves':>7}")
    for r in results:
        print(f"   {f'{r.pods} pods x {r.rounds} rounds':<22}{r.total:>8.2f}{r.cpu_total:>7.2f}"
              f"{r.setup:>12.2f}{r.rounds_time:>12.2f}{r.setup / r.pods * 1e3:>8.3f}"
              f"{r.rounds_time / (r.pods * r.rounds) * 1e3:>14.3f}{r.moves:>7}")
    print(f"   wall-clock phases at {big.pods} x {big.rounds}:")
    print("   " + ", ".join(f"{k} {v:.2f} s" for k, v in big.phases.items()))
    print("   info: garbage collection " + ", ".join(
        f"{r.gc_seconds:.2f} s at {r.pods} x {r.rounds}" for r in results))
    per_round = [r.rounds_time / (r.pods * r.rounds) for r in results]
    per_pod = [r.setup / r.pods for r in results]
    round_ratio = per_round[0] / per_round[1]
    setup_ratio = per_pod[0] / per_pod[1]
    print(f"   CPU ratios {big.pods}x{big.rounds} / {small.pods}x{small.rounds}: rounds per "
          f"pod-round {round_ratio:.2f}×, set-up per pod {setup_ratio:.2f}×")
    print("   (ms/pod: set-up CPU per pod; ms/pod-round: rounds CPU per pod and round; the")
    print("   set-up is paid once per pod, the rounds once per pod and round)\n")
    wrong = sum(r.mismatches for r in results)
    lo, hi = 1 / max_ratio, max_ratio
    return [
        (big.cpu_total < max_seconds,
         f"{big.pods} pods on {NODES} nodes x {big.rounds} rounds of drains and reschedules "
         f"with volumes and survival accounting = {big.cpu_total:.2f} s CPU "
         f"({big.total:.2f} s wall; target < {max_seconds:.0f} s CPU)"),
        (lo <= round_ratio <= hi and lo <= setup_ratio <= hi,
         f"linear in pods x rounds: CPU per pod-round {per_round[0] * 1e3:.3f} vs "
         f"{per_round[1] * 1e3:.3f} ms ({round_ratio:.2f}×), per pod for set-up "
         f"{per_pod[0] * 1e3:.3f} vs {per_pod[1] * 1e3:.3f} ms ({setup_ratio:.2f}×) "
         f"(target {lo:.2f}-{hi:.2f}×)"),
        (wrong == 0,
         f"survival accounting agrees with domain.md §5 for every pod and round "
         f"({wrong} mismatches over {sum(r.pods * r.rounds for r in results)} pod-rounds)"),
    ]

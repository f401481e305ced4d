"""Performance benchmarks for rosim's simulated container file system.

Scenario: a learner's notebook runs ordinary Python file code inside rosim
containers. Three costs matter to them, and each has a target:

1. **File operations inside a container.** One Podman read-write container
   from an image of ``OPS_IMAGE_FILES`` files runs an op mix under ``/work``
   (a directory that is not in the image, so everything lands in the upper
   layer): open/write/close of new files, read back, ``os.stat``,
   ``os.listdir``, ``os.mkdir``, ``os.rename`` within a directory,
   ``os.remove``, ``pathlib`` ``write_text``/``read_text`` and appending to a
   log file. The same op mix (same names, payloads and order, drawn from a
   seeded generator) runs on a bare pyfakefs file system inside a plain
   ``pyfakefs.fake_filesystem_unittest.Patcher()``. Both are timed *inside*
   the patched region (one ``ctr.run(...)`` call / one ``with Patcher():``
   block per repetition), so the cost of patching is excluded and reported
   separately. Each repetition runs both sides back to back, alternating
   which goes first; the figure is the median over repetitions of the ratio
   of their mean costs per operation. Target: at most ``MAX_OP_RATIO``. The
   same mix on a named volume mounted in the container is printed for
   information, and so is the number of pyfakefs path normalisations per
   operation on each side: a count, unaffected by machine load, of how often
   a call walks its path. (A bare ``Patcher``'s file system checks on each
   ``os`` call whether it comes from a module pyfakefs skips; rosim's kernel
   has no patcher and skips that check, which is why ``os.stat`` and
   ``os.listdir`` can come out cheaper in rosim.)
2. **Create and start.** ``runtime.create(image)`` + ``ctr.start()`` for an
   image of ``LARGE_IMAGE_FILES`` files against one of ``SMALL_IMAGE_FILES``
   files, both images warmed (their merged tree is built once per image and
   shared, so it is built before timing; the build time is printed for
   information). Target: the ratio of the medians is at most
   ``MAX_START_RATIO``. For information, the large image with
   ``WIDE_ETC_EXTRA_FILES`` more files directly in ``/etc`` is timed too.
3. **Memory per container.** ``MEM_CONTAINERS`` containers from the large
   image are created and started, writing nothing; the growth of traced
   memory (``tracemalloc``) divided by their number must stay below
   ``MAX_MEM_PER_CONTAINER_BYTES``.

Synthetic images have a bounded fan-out (at most ``DIR_FANOUT`` files and
``DIR_FANOUT`` subdirectories per directory), so the image directories a
container lists when it starts (``/``, and ``/etc`` for the bind-mounted
``/etc/hosts``, ``/etc/hostname`` and ``/etc/resolv.conf``) keep a size of
tens of entries whatever the number of files; start-up cost follows the
size of those directories.

4. **Pods moving around a cluster** (``cluster_moves.py``).
   A StatefulSet of ``CLUSTER_PODS`` busybox pods on 50 nodes, each with an
   ``emptyDir`` and a network PVC, goes through ``CLUSTER_ROUNDS`` rounds of
   node drains and pod deletions; after each round every pod checks, from
   inside (one ``run_each`` per node), which of the markers it wrote to its
   writable layer, emptyDir and PVC it still sees. Targets: the whole run
   under ``MAX_CLUSTER_SECONDS`` CPU seconds; the same
   scenario at ``SMALL_CLUSTER_PODS`` x ``SMALL_CLUSTER_ROUNDS`` costs the
   same per pod-round (rounds) and per pod (set-up), within
   ``MAX_LINEAR_RATIO``; and the markers seen agree with domain.md §5.
5. **Shell command lines** (``shell_lines.py``). ``ctr.sh(LINE)``
   for lines of builtins (``echo``, ``test``, ``cd``, ``pwd``, ``true``, and
   ``for``/``while``/``case``/functions/``$(...)`` made of them);
   target: the slowest median under ``MAX_SH_MS``. And the tokenizer:
   ``parse()`` of one-megabyte lines, each under ``MAX_PARSE_MB_SECONDS``.
6. **Storage accounting** (``quota_bench.py``): a 100 GiB node with 200 pods
   writing in 1 MiB steps for a simulated hour at 1 s resolution, event-driven;
   target under 3 CPU seconds, and the same cost per pod with 100 pods.
7. **Image tars and rosim check** (``check_bench.py``): ``Image.from_tar``
   of a 100 MB ``docker save`` archive, and ``rosim check`` on 50 manifests.
8. **The host guard's cost** (``host_guard_bench.py``): a ``ctr.run`` round trip
   and a ``ctr.sh("echo hi")`` on the confined worker thread, printed next to
   the same calls of rosim before the worker thread (its tree from git
   history), measured in the same run, taking turns; target within 1.5×.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/run.py``). Prints a
table and one PASS/FAIL line per target; the exit status is 1 when a target
is missed. Takes under a minute on a 2-core machine.
"""

from __future__ import annotations

import gc
import os
import pathlib
import random
import statistics
import string
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from time import perf_counter

import check_bench
import cluster_moves
import host_guard_bench
import quota_bench
import shell_lines
from pyfakefs.fake_filesystem import FakeFilesystem
from pyfakefs.fake_filesystem_unittest import Patcher

import rosim

# --------------------------------------------------------------- parameters
SEED = 20240101  # seed of every random choice (names, sizes, orders, images)

# 1. op mix
OPS_IMAGE_FILES = 300  # files in the image of the op-mix container
OPS_FILES = 100  # new files per repetition (create, read, stat, rename, remove)
OPS_LISTDIR_CALLS = 10  # os.listdir calls per repetition (directory of ~OPS_FILES entries)
OPS_MKDIRS = 25  # os.mkdir calls per repetition
OPS_PATHLIB_FILES = 50  # pathlib write_text + read_text pairs per repetition
OPS_LOG_LINES = 100  # open(log, "a") / write / close per repetition
PAYLOAD_MIN_BYTES = 64  # smallest payload written to a new file, bytes
PAYLOAD_MAX_BYTES = 4096  # largest payload written to a new file, bytes
OPS_WARMUP_REPS = 2  # unmeasured repetitions per side
OPS_REPS = 15  # measured repetitions per side (median taken)
OPS_ROOT = "/work"  # where the op mix runs in the container (not in the image)
VOLUME_ROOT = "/data"  # mount point of the named volume (information only)
MAX_OP_RATIO = 1.5  # target: rosim per-op cost / bare pyfakefs per-op cost

# 2. create + start
SMALL_IMAGE_FILES = 50  # files in the small image
LARGE_IMAGE_FILES = 50_000  # files in the large image
DIR_FANOUT = 40  # at most this many files, and as many subdirectories, per image directory
IMAGE_FILE_MIN_BYTES = 16  # smallest image file, bytes
IMAGE_FILE_MAX_BYTES = 512  # largest image file, bytes
START_WARMUP_REPS = 3  # unmeasured create+start pairs
START_REPS = 41  # measured create+start per image (median taken)
MAX_START_RATIO = 3.0  # target: large-image / small-image create+start time
WIDE_ETC_EXTRA_FILES = 200  # information only: files added directly in the large image's /etc

# 3. memory
MEM_CONTAINERS = 50  # containers created and started from the large image
MAX_MEM_PER_CONTAINER_BYTES = 1024 * 1024  # target: traced growth per container, bytes

# 4. pods moving around a cluster
CLUSTER_PODS = 1000  # pods in the timed run
CLUSTER_ROUNDS = 10  # rounds of drains and reschedules in the timed run
SMALL_CLUSTER_PODS = 500  # pods in the second run (linearity)
SMALL_CLUSTER_ROUNDS = 5  # rounds in the second run (linearity)
MAX_CLUSTER_SECONDS = 5.0  # target: the whole timed run, CPU seconds
MAX_LINEAR_RATIO = 1.5  # target: cost per pod-round (and per pod) at both sizes within this

# 5. shell command lines
MAX_SH_MS = 5.0  # target: median ms per ctr.sh call of builtins
MAX_PARSE_MB_SECONDS = 1.0  # target: parse() of a one-megabyte line, seconds

US = 1e6  # microseconds per second
MS = 1e3  # milliseconds per second
KIB = 1024  # bytes per KiB


# --------------------------------------------------------------- images
def synthetic_files(n: int, rng: random.Random) -> dict[str, bytes]:
    """``n`` files in a tree like a distribution image's, bounded fan-out."""
    # Share of the files below each top-level directory.
    tops = [("usr/lib", 40), ("usr/share", 30), ("usr/bin", 5), ("etc", 5),
            ("var/lib", 10), ("opt/app", 10)]
    weights = [w for _, w in tops]
    counts = dict.fromkeys((t for t, _ in tops), 0)
    files: dict[str, bytes] = {
        "/etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n",
        "/etc/group": b"root:x:0:\n",
        "/etc/os-release": b"NAME=Synthetic\nID=synthetic\n",
    }
    while len(files) < n:
        top = rng.choices(tops, weights)[0][0]
        i = counts[top]
        counts[top] += 1
        # Digits of i in base DIR_FANOUT give the directory chain.
        parts = []
        rest = i // DIR_FANOUT
        while rest:
            parts.append(f"d{rest % DIR_FANOUT:02d}")
            rest //= DIR_FANOUT
        directory = "/".join([top, *reversed(parts)])
        size = rng.randint(IMAGE_FILE_MIN_BYTES, IMAGE_FILE_MAX_BYTES)
        files[f"/{directory}/f{i % DIR_FANOUT:02d}_{rng.getrandbits(24):06x}"] = (
            rng.randbytes(size))
    return files


def build_image(name: str, n: int, rng: random.Random) -> tuple[rosim.Image, float, float]:
    """Return (image, seconds to make its layer, seconds to build its tree)."""
    files = synthetic_files(n, rng)
    t0 = perf_counter()
    image = rosim.Image.from_dict(name, files)
    t1 = perf_counter()
    tree = image.tree  # built once per image, shared by its containers
    t2 = perf_counter()
    assert sum(1 for _ in tree.files()) == n
    return image, t1 - t0, t2 - t1


# --------------------------------------------------------------- op mix
@dataclass(frozen=True)
class Plan:
    """Everything one repetition of the op mix does, decided in advance."""

    root: str
    files: list[str]
    payloads: list[str]
    read_order: list[str]
    stat_order: list[str]
    dirs: list[str]
    renames: list[tuple[str, str]]
    remove_order: list[str]
    pathlib_files: list[str]
    pathlib_texts: list[str]
    pathlib_read_order: list[str]
    log: str
    log_lines: list[str]


PHASES = [  # (name, operations per repetition)
    ("open/write/close new file", OPS_FILES),
    ("open/read/close", OPS_FILES),
    ("os.stat", OPS_FILES),
    ("os.listdir", OPS_LISTDIR_CALLS),
    ("os.mkdir", OPS_MKDIRS),
    ("os.rename (same dir)", OPS_FILES),
    ("Path.write_text", OPS_PATHLIB_FILES),
    ("Path.read_text", OPS_PATHLIB_FILES),
    ("append to log", OPS_LOG_LINES),
    ("os.remove", OPS_FILES),
]
TOTAL_OPS = sum(n for _, n in PHASES)


def make_plan(root: str, rng: random.Random) -> Plan:
    """A random but reproducible op mix rooted at ``root``."""
    text = "".join(rng.choices(string.ascii_letters + string.digits + " \n",
                               k=2 * PAYLOAD_MAX_BYTES))

    def token() -> str:
        return f"{rng.getrandbits(40):010x}"

    def payload(lo: int, hi: int) -> str:
        size = rng.randint(lo, hi)
        start = rng.randrange(len(text) - size)
        return text[start:start + size]

    files = [f"{root}/f_{token()}.dat" for _ in range(OPS_FILES)]
    targets = [f"{root}/g_{token()}.dat" for _ in range(OPS_FILES)]
    pathlib_files = [f"{root}/p_{token()}.txt" for _ in range(OPS_PATHLIB_FILES)]
    return Plan(
        root=root,
        files=files,
        payloads=[payload(PAYLOAD_MIN_BYTES, PAYLOAD_MAX_BYTES) for _ in files],
        read_order=rng.sample(files, len(files)),
        stat_order=rng.sample(files, len(files)),
        dirs=[f"{root}/d_{token()}" for _ in range(OPS_MKDIRS)],
        renames=list(zip(rng.sample(files, len(files)), targets, strict=True)),
        remove_order=rng.sample(targets, len(targets)),
        pathlib_files=pathlib_files,
        pathlib_texts=[payload(PAYLOAD_MIN_BYTES, PAYLOAD_MAX_BYTES) for _ in pathlib_files],
        pathlib_read_order=rng.sample(pathlib_files, len(pathlib_files)),
        log=f"{root}/app.log",
        log_lines=[f"{i:05d} INFO request {token()} done\n" for i in range(OPS_LOG_LINES)],
    )


def op_mix(plan: Plan) -> list[float]:
    """Run the op mix in the (existing, empty) ``plan.root``; seconds per phase."""
    laps = [perf_counter()]
    for path, data in zip(plan.files, plan.payloads, strict=True):
        with open(path, "w") as f:
            f.write(data)
    laps.append(perf_counter())
    for path in plan.read_order:
        with open(path) as f:
            f.read()
    laps.append(perf_counter())
    for path in plan.stat_order:
        os.stat(path)
    laps.append(perf_counter())
    for _ in range(OPS_LISTDIR_CALLS):
        os.listdir(plan.root)
    laps.append(perf_counter())
    for path in plan.dirs:
        os.mkdir(path)
    laps.append(perf_counter())
    for old, new in plan.renames:
        os.rename(old, new)
    laps.append(perf_counter())
    for path, data in zip(plan.pathlib_files, plan.pathlib_texts, strict=True):
        pathlib.Path(path).write_text(data)
    laps.append(perf_counter())
    for path in plan.pathlib_read_order:
        pathlib.Path(path).read_text()
    laps.append(perf_counter())
    for line in plan.log_lines:
        with open(plan.log, "a") as f:
            f.write(line)
    laps.append(perf_counter())
    for path in plan.remove_order:
        os.remove(path)
    laps.append(perf_counter())
    return [b - a for a, b in zip(laps, laps[1:], strict=False)]


def clean_up(plan: Plan) -> None:
    """Remove what the op mix left, so every repetition starts alike (untimed)."""
    for path in plan.pathlib_files:
        os.remove(path)
    os.remove(plan.log)
    for path in plan.dirs:
        os.rmdir(path)
    os.rmdir(plan.root)


@dataclass
class Sample:
    """One repetition: seconds per phase, and the patching cost around it."""

    phases: list[float]
    enter: float
    exit: float

    @property
    def per_op(self) -> float:
        return sum(self.phases) / TOTAL_OPS


def run_bare(plan: Plan) -> Sample:
    """The op mix inside one plain pyfakefs ``Patcher`` block."""
    t0 = perf_counter()
    with Patcher():
        t_in = perf_counter()
        os.makedirs(plan.root)
        phases = op_mix(plan)
        clean_up(plan)
        t_out = perf_counter()
    t1 = perf_counter()
    return Sample(phases, t_in - t0, t1 - t_out)


def run_rosim(ctr: rosim.Container, plan: Plan) -> Sample:
    """The op mix inside one ``ctr.run`` call."""
    def process() -> tuple[float, list[float], float]:
        t_in = perf_counter()
        os.mkdir(plan.root)
        phases = op_mix(plan)
        clean_up(plan)
        return t_in, phases, perf_counter()

    t0 = perf_counter()
    t_in, phases, t_out = ctr.run(process)
    t1 = perf_counter()
    return Sample(phases, t_in - t0, t1 - t_out)


class PathWalkCounter:
    """Counts pyfakefs path normalisations (``FakeFilesystem.absnormpath``).

    Every path a call hands to pyfakefs is normalised before it is walked,
    so the count per operation shows how often a call resolves its path; it
    does not depend on machine load, unlike the timings.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.active = False

    def __enter__(self) -> PathWalkCounter:
        original = FakeFilesystem.absnormpath

        def counting(fs: FakeFilesystem, path: str) -> str:
            if self.active:
                self.calls += 1
            return original(fs, path)

        self._original = original
        FakeFilesystem.absnormpath = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        FakeFilesystem.absnormpath = self._original  # type: ignore[method-assign]

    def op_mix(self, plan: Plan) -> None:
        self.active = True
        try:
            op_mix(plan)
        finally:
            self.active = False


def path_walks_per_op(ctr: rosim.Container, rng: random.Random) -> dict[str, float]:
    """Path normalisations per operation of one untimed op mix on each side."""
    seed = rng.getrandbits(64)
    counts: dict[str, float] = {}
    with PathWalkCounter() as counter:
        plan = make_plan(f"{OPS_ROOT}/count", random.Random(seed))
        with Patcher():
            os.makedirs(plan.root)
            counter.op_mix(plan)
        counts["bare"] = counter.calls / TOTAL_OPS
        counter.calls = 0

        def process() -> None:
            os.mkdir(plan.root)
            counter.op_mix(plan)
            clean_up(plan)

        ctr.run(process)
        counts["rosim"] = counter.calls / TOTAL_OPS
    return counts


def bench_ops(rng: random.Random) -> tuple[dict[str, list[Sample]], dict[str, float]]:
    """Run the op mix OPS_REPS times on each side: samples per side, path walks per op."""
    image, _, _ = build_image("ops", OPS_IMAGE_FILES, rng)
    runtime = rosim.Runtime("podman")
    ctr = runtime.create(image, name="ops",
                         mounts=[rosim.Bind(rosim.Volume("bench"), VOLUME_ROOT)])
    ctr.start()
    ctr.run(os.mkdir, OPS_ROOT)
    assert image.tree.entry(OPS_ROOT) is None, "the op-mix root must not be in the image"

    sides: dict[str, Callable[[Plan], Sample]] = {
        "bare": run_bare,
        "rosim": lambda plan: run_rosim(ctr, plan),
        "volume": lambda plan: run_rosim(ctr, plan),
    }
    samples: dict[str, list[Sample]] = {name: [] for name in sides}
    order = list(sides)
    for rep in range(OPS_WARMUP_REPS + OPS_REPS):
        # The same names, payloads and orders on the volume as under OPS_ROOT.
        rep_seed = rng.getrandbits(64)
        plan = make_plan(f"{OPS_ROOT}/r{rep:03d}", random.Random(rep_seed))
        volume_plan = make_plan(f"{VOLUME_ROOT}/r{rep:03d}", random.Random(rep_seed))
        # Alternate which side goes first, so drift does not favour one.
        for name in (order if rep % 2 == 0 else order[::-1]):
            gc.collect()
            sample = sides[name](volume_plan if name == "volume" else plan)
            if rep >= OPS_WARMUP_REPS:
                samples[name].append(sample)
    walks = path_walks_per_op(ctr, rng)
    left = [c for c in ctr.diff() if c.path.startswith(OPS_ROOT + "/")]
    assert not left, f"the op mix left files behind: {left}"
    return samples, walks


# --------------------------------------------------------------- create + start
def time_create_start(runtime: rosim.Runtime, image: rosim.Image) -> float:
    """Seconds for ``create`` + ``start`` of one container (removed afterwards)."""
    t0 = perf_counter()
    ctr = runtime.create(image)
    ctr.start()
    t1 = perf_counter()
    ctr.remove(force=True)
    return t1 - t0


def bench_start(images: dict[str, rosim.Image]) -> dict[str, list[float]]:
    """Create+start times per image, the images taken in turn (order rotating)."""
    runtime = rosim.Runtime("podman")
    times: dict[str, list[float]] = {name: [] for name in images}
    names = list(images)
    for rep in range(START_WARMUP_REPS + START_REPS):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            seconds = time_create_start(runtime, images[name])
            if rep >= START_WARMUP_REPS:
                times[name].append(seconds)
    return times


# --------------------------------------------------------------- memory
def bench_memory(large: rosim.Image) -> int:
    """Traced bytes still allocated per started container (nothing written)."""
    runtime = rosim.Runtime("podman")
    warm = runtime.create(large, name="warm-up")  # first-use caches are not per container
    warm.start()
    keep = []
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(MEM_CONTAINERS):
        ctr = runtime.create(large)
        ctr.start()
        keep.append(ctr)
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert all(c.diff() == warm.diff() for c in keep), "a container wrote at start"
    return (after - before) // MEM_CONTAINERS


# --------------------------------------------------------------- report
def median(values: list[float]) -> float:
    return statistics.median(values)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> int:
    started = perf_counter()
    rng = random.Random(SEED)
    print(f"rosim {rosim.__version__} benchmarks (seed {SEED}, Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f})\n")

    # 1 ------------------------------------------------------------------
    samples, walks = bench_ops(rng)
    bare, ctr, vol = samples["bare"], samples["rosim"], samples["volume"]
    print(f"1. File operations: {TOTAL_OPS} ops x {OPS_REPS} repetitions; rosim: podman rw "
          f"container, {OPS_IMAGE_FILES}-file image,")
    print(f"   ops under {OPS_ROOT} (upper layer). µs/op: medians; ratio: median of the "
          "per-repetition rosim/bare ratios")
    print(f"   {'operation':<27}{'ops':>5}{'bare µs/op':>12}{'rosim µs/op':>13}"
          f"{'ratio':>7}{'volume µs/op':>14}")

    def paired(values: Callable[[Sample], float], side: list[Sample]) -> float:
        return median([values(s) / values(b) for b, s in zip(bare, side, strict=True)])

    for i, (phase, n) in enumerate(PHASES):
        b, r, v = (median([s.phases[i] for s in side]) / n * US for side in (bare, ctr, vol))
        ratio = paired(lambda s, i=i: s.phases[i], ctr)
        print(f"   {phase:<27}{n:>5}{b:>12.1f}{r:>13.1f}{ratio:>6.2f}×{v:>14.1f}")
    bare_op, ctr_op, vol_op = (median([s.per_op for s in side]) for side in (bare, ctr, vol))
    ratios = [s.per_op / b.per_op for b, s in zip(bare, ctr, strict=True)]
    op_ratio = median(ratios)
    vol_ratio = paired(lambda s: s.per_op, vol)
    print(f"   {'all ops (mean per op)':<27}{TOTAL_OPS:>5}{bare_op * US:>12.1f}"
          f"{ctr_op * US:>13.1f}{op_ratio:>6.2f}×{vol_op * US:>14.1f}")
    print(f"   info: patch set-up + tear-down per call: bare Patcher "
          f"{median([s.enter for s in bare]) * MS:.2f} + "
          f"{median([s.exit for s in bare]) * MS:.2f} ms, ctr.run "
          f"{median([s.enter for s in ctr]) * MS:.2f} + "
          f"{median([s.exit for s in ctr]) * MS:.2f} ms")
    print(f"   info: rosim/bare per-repetition ratios range {min(ratios):.2f}-"
          f"{max(ratios):.2f}×; volume/bare {vol_ratio:.2f}×")
    print(f"   info: pyfakefs path normalisations per op (load-independent): bare "
          f"{walks['bare']:.1f}, rosim {walks['rosim']:.1f} ({walks['rosim'] / walks['bare']:.2f}×)"
          "\n")

    # 2 ------------------------------------------------------------------
    small, small_layer, small_tree = build_image("small", SMALL_IMAGE_FILES, rng)
    large, large_layer, large_tree = build_image("large", LARGE_IMAGE_FILES, rng)
    wide = large.with_layer({f"/etc/extra{i:03d}.conf": f"key{i} = {rng.random()}\n"
                             for i in range(WIDE_ETC_EXTRA_FILES)}, name="large-wide-etc")
    t0 = perf_counter()
    wide_tree = len(wide.tree)
    wide_tree_s = perf_counter() - t0
    assert wide_tree == len(large.tree) + WIDE_ETC_EXTRA_FILES
    starts = bench_start({"small": small, "large": large, "wide": wide})
    start_small, start_large, start_wide = (median(starts[k]) for k in ("small", "large", "wide"))
    start_ratio = start_large / start_small
    print(f"2. Create + start (podman rw), median of {START_REPS} repetitions")
    print(f"   {'image':<26}{'files':>7}{'/etc':>6}{'layer ms':>10}{'tree ms':>9}"
          f"{'create+start ms':>17}{'vs small':>10}")
    rows = [("small", small, f"{small_layer * MS:.1f}", small_tree, start_small),
            ("large", large, f"{large_layer * MS:.1f}", large_tree, start_large),
            (f"large+{WIDE_ETC_EXTRA_FILES} in /etc (info)", wide, "+1 layer", wide_tree_s,
             start_wide)]
    for label, image, layer_ms, tree_s, start_s in rows:
        files = sum(1 for _ in image.tree.files())
        etc = len(image.tree.children("/etc"))
        print(f"   {label:<26}{files:>7}{etc:>6}{layer_ms:>10}{tree_s * MS:>9.1f}"
              f"{start_s * MS:>17.3f}{start_s / start_small:>9.2f}×")
    print("   info: layer = Image.from_dict, tree = first image.tree (once per image);")
    print("   start materialises the image directories on mount paths (/, /etc), so its")
    print("   cost follows their size, not the image's file count\n")

    # 3 ------------------------------------------------------------------
    per_ctr = bench_memory(large)
    print(f"3. Memory: {MEM_CONTAINERS} started containers from the {LARGE_IMAGE_FILES}-file "
          f"image, nothing written")
    print(f"   traced growth per container: {per_ctr / KIB:.1f} KiB\n")

    # 4 ------------------------------------------------------------------
    cluster_moves.run(50, 1, SEED)  # warm-up: images, first-use caches
    small_run = cluster_moves.run(SMALL_CLUSTER_PODS, SMALL_CLUSTER_ROUNDS, SEED)
    big_run = cluster_moves.run(CLUSTER_PODS, CLUSTER_ROUNDS, SEED)
    cluster_checks = cluster_moves.report([big_run, small_run], MAX_CLUSTER_SECONDS,
                                          MAX_LINEAR_RATIO)

    # 5 ------------------------------------------------------------------
    gc.collect()
    shell_checks = shell_lines.report(MAX_SH_MS)
    gc.collect()
    shell_checks += shell_lines.tokenizer_report(MAX_PARSE_MB_SECONDS)

    # 6 ------------------------------------------------------------------
    gc.collect()
    print()
    quota_small = quota_bench.run(quota_bench.SMALL_PODS)
    quota_checks = quota_bench.report(quota_bench.run(), small=quota_small)

    # 7 ------------------------------------------------------------------
    gc.collect()
    print()
    check_checks = check_bench.report(check_bench.run())

    # 8 ------------------------------------------------------------------
    gc.collect()
    guard_checks = host_guard_bench.checks()

    # targets -------------------------------------------------------------
    checks = [
        (op_ratio <= MAX_OP_RATIO,
         f"rosim per-op cost / bare pyfakefs = {op_ratio:.2f}× ({ctr_op * US:.1f} vs "
         f"{bare_op * US:.1f} µs/op; target ≤ {MAX_OP_RATIO}×)"),
        (start_ratio <= MAX_START_RATIO,
         f"create+start {LARGE_IMAGE_FILES}-file / {SMALL_IMAGE_FILES}-file image = "
         f"{start_ratio:.2f}× ({start_large * MS:.3f} vs {start_small * MS:.3f} ms; "
         f"target ≤ {MAX_START_RATIO}×)"),
        (per_ctr < MAX_MEM_PER_CONTAINER_BYTES,
         f"memory per container = {per_ctr / KIB:.1f} KiB "
         f"(target < {MAX_MEM_PER_CONTAINER_BYTES / KIB:.0f} KiB)"),
        *cluster_checks,
        *shell_checks,
        *quota_checks,
        *check_checks,
        *guard_checks,
    ]
    for ok, line in checks:
        print(f"{verdict(ok)}  {line}")
    print(f"\nTotal time {perf_counter() - started:.1f} s, load average "
          f"{os.getloadavg()[0]:.2f} (figures are noisier when it exceeds the CPU count)")
    return 0 if all(ok for ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())

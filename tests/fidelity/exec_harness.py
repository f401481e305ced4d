"""Executing files: rosim's ``ctr.sh`` against busybox ``sh`` in runc.

A case copies a file into a directory of the container (a tmpfs of the
runtime, ``/dev/shm``, a volume), changes its mode and executes it, then
prints ``status=$?``::

    cp /opt/tool.sh /tmp/tool; chmod +x /tmp/tool; /tmp/tool; echo status=$?

* **rosim**: the command line runs with ``ctr.sh`` in a rosim container whose
  image (:func:`rosim_image`) holds rosim programs: ``/bin/sh``, ``/bin/cp``...
  are files reading ``\\x7fELF...rosim-program: NAME``.
* **runc**: the same command line runs with ``/bin/sh -c`` in a real
  container built by ``fidelity_harness.run_real`` from the rosim container's
  mount table. Its image (:func:`real_image`) has the same paths, but
  ``/bin/sh`` is the host's statically linked ``/bin/busybox`` (Debian
  ``busybox-static``) and ``/bin/cp``, ``/bin/chmod``, ``/bin/mkdir`` link to
  it. The container's process is the harness's Python, which starts one
  ``sh -c`` per command line and returns its exit status, stdout and stderr.

The "busybox" cases copy the shell itself (``/bin/sh``, busybox on the real
side) and run the copy as ``.../sh -c 'echo ran'``; it keeps the name ``sh``
because busybox picks its applet from the name it is called by.

Outcomes are compared after :func:`outcome`: the exit status printed by
``echo status=$?`` exactly, the other stdout lines exactly, and stderr with
one wording difference of the shells removed (busybox ``sh`` says
``not found`` where bash says ``No such file or directory`` for a path, and
``command not found`` for a name; both exit 127).
"""

from __future__ import annotations

import os
import re
import struct
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from fidelity_harness import REQUIRE_ENV, Setup, run_real, start_rosim

import rosim

#: Where Debian's ``busybox-static`` puts the binary.
BUSYBOX = "/bin/busybox"
BUSYBOX_SKIP_REASON = "busybox-static not available"

#: Seconds one ``sh -c`` command line may take inside the real container.
COMMAND_TIMEOUT = 10.0

#: The shell script the "script" cases copy and run.
SCRIPT = b"#!/bin/sh\necho script ran\n"
SCRIPT_PATH = "/opt/tool.sh"
SHELL_PATH = "/bin/sh"

#: Tools the command lines use besides the shell's builtins.
TOOLS = ("cp", "chmod", "mkdir")


def program(name: str) -> rosim.File:
    """A rosim executable: an ELF-looking file naming the program rosim runs."""
    return rosim.File(b"\x7fELF\x02\x01\x01\x00rosim-program: " + name.encode() + b"\n",
                      mode=0o755)


def _common() -> dict[str, Any]:
    return {
        SCRIPT_PATH: rosim.File(SCRIPT, mode=0o755),
        "/tmp/": rosim.Dir(mode=0o1777),
        "/var/tmp/": rosim.Dir(mode=0o1777),
        "/run/": rosim.Dir(mode=0o755),
    }


def rosim_image() -> dict[str, Any]:
    """The image rosim runs: ``/bin/sh`` and the tools are rosim programs."""
    image = _common()
    image[SHELL_PATH] = program("sh")
    for tool in TOOLS:
        image[f"/bin/{tool}"] = program(tool)
    return image


def real_image(busybox: bytes) -> dict[str, Any]:
    """The image runc runs: ``/bin/sh`` is busybox, the tools link to it."""
    image = _common()
    image[SHELL_PATH] = rosim.File(busybox, mode=0o755)
    for tool in TOOLS:
        image[f"/bin/{tool}"] = rosim.Symlink("sh")
    return image


# ------------------------------------------------------------ availability
def is_static_elf(path: str) -> bool:
    """Whether ``path`` is an ELF executable without a program interpreter."""
    with open(path, "rb") as f:
        header = f.read(64)
        if len(header) < 52 or header[:4] != b"\x7fELF":
            return False
        wide = header[4] == 2
        order = "<" if header[5] == 1 else ">"
        if wide:
            (phoff,) = struct.unpack_from(order + "Q", header, 32)
            phentsize, phnum = struct.unpack_from(order + "HH", header, 54)
        else:
            (phoff,) = struct.unpack_from(order + "I", header, 28)
            phentsize, phnum = struct.unpack_from(order + "HH", header, 42)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    pt_interp = 3
    return all(struct.unpack_from(order + "I", table, i * phentsize)[0] != pt_interp
               for i in range(phnum))


def busybox_reason() -> str | None:
    """``None`` when a static busybox is at :data:`BUSYBOX`, else why not."""
    if not os.path.isfile(BUSYBOX):
        return f"{BUSYBOX_SKIP_REASON}: {BUSYBOX} not found (apt-get install busybox-static)"
    if not is_static_elf(BUSYBOX):
        return (f"{BUSYBOX_SKIP_REASON}: {BUSYBOX} is not statically linked "
                "(apt-get install busybox-static)")
    return None


def busybox_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


# -------------------------------------------------------------------- cases
@dataclass(frozen=True)
class ExecCase:
    """Copy a file to ``target``, set its mode, execute it, print ``status=$?``.

    ``kind`` is ``script`` (copy :data:`SCRIPT_PATH`), ``busybox`` (copy
    ``/bin/sh`` and run it with ``-c 'echo ran'``) or ``missing`` (execute
    ``target`` without creating it: a path, or a bare name looked up in
    ``PATH``). ``chmod`` is the mode argument (``+x``, ``-x``) or ``None`` to
    leave the mode ``cp`` gave. ``expect`` is the exit status the kernel
    gives; ``xfail`` says how rosim differs, when it does.
    """

    label: str
    kind: str
    target: str
    chmod: str | None = "+x"
    expect: int = 0
    xfail: str | None = None

    def command(self) -> str:
        parts: list[str] = []
        run = self.target
        if self.kind in ("script", "busybox"):
            directory = os.path.dirname(self.target)
            if os.path.basename(self.target) == "sh" and directory not in MOUNT_ROOTS:
                parts.append(f"mkdir -p {directory}")
            source = SCRIPT_PATH if self.kind == "script" else SHELL_PATH
            parts.append(f"cp {source} {self.target}")
            if self.chmod is not None:
                parts.append(f"chmod {self.chmod} {self.target}")
            if self.kind == "busybox":
                run += " -c 'echo ran'"
        elif self.kind != "missing":
            raise ValueError(f"unknown case kind {self.kind!r}")
        parts += [run, "echo status=$?"]
        return "; ".join(parts)


#: Directories that are mount roots in some case (no ``mkdir -p`` needed).
MOUNT_ROOTS = frozenset({"/tmp", "/var/tmp", "/run", "/dev/shm", "/data"})


@dataclass(frozen=True)
class ExecSetup:
    """One container configuration and the cases run in it, in order."""

    name: str
    title: str
    profile: str
    read_only: bool = True
    mounts: tuple[Any, ...] = ()
    cases: tuple[ExecCase, ...] = ()

    def setup(self, image: dict[str, Any], suffix: str) -> Setup:
        return Setup(f"exec-{self.name}-{suffix}", image, profile=self.profile,
                     read_only=self.read_only, mounts=self.mounts)


# ---------------------------------------------------------------- outcomes
@dataclass(frozen=True)
class Outcome:
    """What a command line did, in the terms compared."""

    status: int | None
    stdout: tuple[str, ...]
    errors: tuple[str, ...]


_STATUS = re.compile(r"^status=(\d+)$")
_NOT_FOUND = re.compile(r"^(?P<shell>[^:]+): (?P<name>.+): not found$")


def essential_error(line: str) -> str:
    """A stderr line with busybox's ``not found`` in bash's words."""
    match = _NOT_FOUND.match(line)
    if match is None:
        return line
    name = match["name"]
    why = "No such file or directory" if "/" in name else "command not found"
    return f"{match['shell']}: {name}: {why}"


def outcome(stdout: str, stderr: str) -> Outcome:
    """Split ``... ; echo status=$?`` output into status, other stdout, errors."""
    lines = stdout.splitlines()
    status = None
    if lines:
        match = _STATUS.match(lines[-1])
        if match is not None:
            status = int(match.group(1))
            lines = lines[:-1]
    return Outcome(status, tuple(lines),
                   tuple(essential_error(ln) for ln in stderr.splitlines()))


@dataclass
class Ran:
    """One command line's raw result on one side: shell exit status and output."""

    shell_status: int | str
    stdout: str
    stderr: str

    @property
    def outcome(self) -> Outcome:
        return outcome(self.stdout, self.stderr)


@dataclass
class SetupRun:
    """Both sides of one :class:`ExecSetup`, by case label."""

    real: dict[str, Ran]
    rosim: dict[str, Ran]
    mounts: list[str]
    seconds: float = 0.0


# ---------------------------------------------------------------- running
_DRIVER = '''
import subprocess

COMMANDS = {commands!r}


def main():
    results = []
    for command in COMMANDS:
        try:
            proc = subprocess.run(["sh", "-c", command], executable="/bin/sh",
                                  stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout={timeout!r})
        except subprocess.TimeoutExpired:
            results.append(["timeout", "", ""])
            continue
        results.append([proc.returncode, proc.stdout.decode("utf-8", "replace"),
                        proc.stderr.decode("utf-8", "replace")])
    return results
'''


def mount_table(ctr: rosim.Container) -> list[str]:
    """The container's mounts as ``destination fstype options`` lines."""
    return [f"{m.destination} {m.fstype} {m.options}" for m in ctr.mounts]


def run_real_commands(setup: Setup, commands: Sequence[str]) -> list[Ran]:
    """Run each command line with busybox ``sh -c`` in one real container."""
    # The container lives for every command line: give it their time too.
    timeout = 30.0 + COMMAND_TIMEOUT * len(commands)
    source = _DRIVER.format(commands=list(commands), timeout=COMMAND_TIMEOUT)
    real = run_real(setup, source, timeout=timeout)
    return [Ran(*row) for row in real.result]


def run_rosim_commands(setup: Setup, commands: Iterable[str]
                       ) -> tuple[list[Ran], list[str]]:
    """Run each command line with ``ctr.sh`` in one rosim container.

    Returns the results and the container's mount table.
    """
    ctr = start_rosim(setup)
    try:
        results = []
        for command in commands:
            result = ctr.sh(command)
            results.append(Ran(result.status, result.stdout, result.stderr))
        return results, mount_table(ctr)
    finally:
        ctr.stop()


def bundle_mount_table(setup: Setup) -> list[str]:
    """The mount table ``run_real`` builds the bundle of ``setup`` from."""
    ctr = start_rosim(setup)
    try:
        return mount_table(ctr)
    finally:
        ctr.stop()


def run_setup(spec: ExecSetup, busybox: bytes) -> SetupRun:
    """Run every case of ``spec`` on both sides and check the mounts agree."""
    commands = [case.command() for case in spec.cases]
    real_setup = spec.setup(real_image(busybox), "runc")
    sim_setup = spec.setup(rosim_image(), "rosim")
    start = time.perf_counter()
    real = run_real_commands(real_setup, commands)
    seconds = time.perf_counter() - start
    sim, mounts = run_rosim_commands(sim_setup, commands)
    # The bundle was built from the real-side image's rosim container: its
    # mount table must be the one of the container compared here.
    real_mounts = bundle_mount_table(real_setup)
    if real_mounts != mounts:
        raise AssertionError(
            f"{spec.name}: the two images give different mount tables\n"
            f"  runc bundle: {real_mounts}\n  rosim:       {mounts}"
        )
    labels = [case.label for case in spec.cases]
    return SetupRun(dict(zip(labels, real, strict=True)), dict(zip(labels, sim, strict=True)),
                    mounts, seconds)

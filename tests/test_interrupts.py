"""Ctrl-C in a real Jupyter kernel never breaks or un-contains rosim.

A kernel runs a loop of ``ctr.sh`` (and ``ctr.run``) calls; the test presses
the stop button (``interrupt_kernel``, SIGINT) at random moments, several
times per kernel, for several seeds. After every interrupt the kernel must
answer; at the end a fresh container must work, be contained (its writes stay
in the simulation, the notebook's writes reach the disk) and nothing may be
left patched.
"""

from __future__ import annotations

import queue
import random
import time

import pytest

jupyter_client = pytest.importorskip("jupyter_client")

SEEDS = (1, 2, 3)
PRESSES = 6  # interrupts per kernel

SETUP = """
import os, rosim
ctr = rosim.Runtime("cri-o", read_only=True).create(rosim.Image.builtin("fedora"), name="k")
ctr.start()
"""

LOOP = """
for i in range(10**6):
    ctr.sh("echo hi > /tmp/x; cat /tmp/x; ls / > /dev/null")
    ctr.run(os.listdir, "/etc")
"""

CHECK = """
from rosim.runtime import patching
assert patching._is_clean(), "left patched"
import builtins, io
assert builtins.open is io.open is patching._REAL_MODULES["builtins.open"], "open patched"
fresh = rosim.Runtime("podman").create(rosim.Image.builtin("fedora"), name="fresh{n}")
fresh.start()
assert fresh.sh("echo ok").stdout == "ok\\n"
host = {host!r}
with open(os.path.join(host, "from-notebook.txt"), "w") as f:
    f.write("notebook")
def inside():
    os.makedirs(host, exist_ok=True)
    with open(os.path.join(host, "from-container.txt"), "w") as f:
        f.write("container")
    return sorted(os.listdir(host))
print("inside", fresh.run(inside))
print("host", sorted(os.listdir(host)))
print("old", ctr.sh("echo still").stdout.strip())
"""


def _wait_idle(client, msg_id: str, timeout: float = 30) -> dict:
    out = {"stdout": "", "ename": None, "evalue": None}
    deadline = time.monotonic() + timeout
    while True:
        try:
            msg = client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.1))
        except queue.Empty:
            raise AssertionError("the kernel stopped answering") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            out["stdout"] += content["text"]
        elif kind == "error":
            out["ename"], out["evalue"] = content["ename"], content["evalue"]
        elif kind == "status" and content["execution_state"] == "idle":
            return out


@pytest.mark.parametrize("seed", SEEDS)
def test_interrupts_at_random_moments_leave_rosim_working_and_contained(seed, tmp_path):
    """Stop-button presses during a ctr.sh loop: every later container still works."""
    rng = random.Random(seed)
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="python3",
                                                              startup_timeout=120)
    try:
        assert _wait_idle(client, client.execute(SETUP))["ename"] is None
        for _ in range(PRESSES):
            msg_id = client.execute(LOOP)
            time.sleep(rng.uniform(0.02, 0.4))
            manager.interrupt_kernel()
            result = _wait_idle(client, msg_id)
            assert result["ename"] == "KeyboardInterrupt", result
        host = tmp_path / "host"
        host.mkdir()
        result = _wait_idle(client, client.execute(CHECK.format(n=seed, host=str(host))))
        assert result["ename"] is None, result
        assert "inside ['from-container.txt']" in result["stdout"]
        assert "host ['from-notebook.txt']" in result["stdout"]
        assert "old still" in result["stdout"]
        assert sorted(p.name for p in host.iterdir()) == ["from-notebook.txt"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

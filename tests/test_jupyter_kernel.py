"""A real Jupyter kernel stays healthy after simulated failures."""

from __future__ import annotations

import queue

import pytest

jupyter_client = pytest.importorskip("jupyter_client")

CODE = [
    """
import errno, rosim
ctr = rosim.Runtime("cri-o", read_only=True).create(rosim.Image.builtin("fedora"), name="k")
ctr.start()
def write(path):
    with open(path, "w") as f:
        f.write("x")
""",
    'ctr.run(write, "/var/log/dnf.log")',
    """
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.plot(np.arange(5), np.arange(5) ** 2)
fig.canvas.draw()
print("drawn", fig.canvas.get_width_height())
""",
    'ctr.run(write, "/tmp/ok"); print("tmp ok", ctr.events[-1].result)',
]


def _execute(client, code: str, timeout: float = 60) -> dict:
    msg_id = client.execute(code)
    result = {"status": None, "stdout": "", "ename": None, "evalue": None}
    while True:
        try:
            msg = client.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no reply from the kernel for {code!r}") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            result["stdout"] += content["text"]
        elif kind == "error":
            result["ename"], result["evalue"] = content["ename"], content["evalue"]
        elif kind == "status" and content["execution_state"] == "idle":
            break
    # The shell channel may still hold the kernel_info reply of the start-up
    # handshake: take the reply to this request.
    while True:
        reply = client.get_shell_msg(timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    result["status"] = reply["content"]["status"]
    return result


def test_kernel_survives_erofs_and_still_draws():
    """EROFS raised inside a container, then numpy and matplotlib work normally."""
    manager, client = jupyter_client.manager.start_new_kernel(kernel_name="python3",
                                                              startup_timeout=180)
    try:
        setup, failing, plotting, after = (_execute(client, code) for code in CODE)
        assert setup["status"] == "ok", setup
        assert failing["ename"] == "OSError"
        assert failing["evalue"] == "[Errno 30] Read-only file system: '/var/log/dnf.log'"
        assert plotting["status"] == "ok", plotting
        assert "drawn (640, 480)" in plotting["stdout"]
        assert after["stdout"].strip() == "tmp ok ok"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)

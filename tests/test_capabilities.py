"""Runtimes side by side: where a process can write, and run what it wrote."""

from __future__ import annotations

import os

import pytest

import rosim

CRIO = "crio --read-only"
CRIO_CTR = "crio, readOnlyRootFilesystem only"
CRIO_PRIV = "crio --read-only, privileged"
PODMAN = "podman --read-only"
PODMAN_NO_TMPFS = "podman --read-only --read-only-tmpfs=false"
DOCKER = "docker --read-only"
DOCKER_TMPFS = "docker --read-only --tmpfs /tmp"
NON_ROOT = "crio --read-only, runAsUser: 1000"
PATHS = ["/", "/usr", "/etc", "/var/log", "/tmp", "/var/tmp", "/run", "/dev", "/dev/shm",
         "/data"]
OUTCOMES = ["read-only", "no permission", "write, noexec", "write + exec"]
RO, DENIED, NOEXEC, EXEC = OUTCOMES


@pytest.fixture(scope="module")
def fedora() -> rosim.Image:
    return rosim.Image.builtin("fedora")


@pytest.fixture(scope="module")
def caps(fedora) -> rosim.Capabilities:
    """The default comparison for the Fedora image, computed once."""
    return rosim.compare_capabilities(fedora)


def column(caps: rosim.Capabilities, label: str) -> dict[str, str]:
    return {path: caps.outcome(label, path) for path in caps.paths}


def test_every_setting_and_path_is_compared(caps):
    """The default table covers the eight settings and ten paths, four outcomes."""
    assert list(caps.labels) == [CRIO, CRIO_CTR, CRIO_PRIV, PODMAN, PODMAN_NO_TMPFS, DOCKER,
                                 DOCKER_TMPFS, NON_ROOT]
    assert list(caps.labels) == [s.label for s in rosim.capability_settings()]
    assert list(caps.paths) == PATHS
    assert {caps.outcome(label, path) for label in caps.labels for path in caps.paths} == set(
        OUTCOMES)


def test_crio_global_flag_gives_noexec_scratch_space(caps):
    """crio --read-only: /tmp, /var/tmp and /run are writable but noexec."""
    col = column(caps, CRIO)
    assert [col[p] for p in ("/tmp", "/var/tmp", "/run")] == [NOEXEC] * 3
    assert col["/dev/shm"] == NOEXEC


def test_crio_container_flag_alone_gives_no_scratch_space(caps):
    """Only readOnlyRootFilesystem: /tmp, /var/tmp and /run are read-only too."""
    col = column(caps, CRIO_CTR)
    assert [col[p] for p in ("/tmp", "/var/tmp", "/run")] == [RO] * 3
    assert col["/dev/shm"] == NOEXEC


def test_privileged_crio_keeps_the_root_read_only(caps):
    """A privileged container under crio --read-only still has a read-only /."""
    assert column(caps, CRIO_PRIV) == column(caps, CRIO)
    assert caps.outcome(CRIO_PRIV, "/") == RO


def test_podman_read_only_tmpfs_allow_exec(caps):
    """podman --read-only: /tmp, /var/tmp, /run accept a dropped binary and run it."""
    col = column(caps, PODMAN)
    assert [col[p] for p in ("/tmp", "/var/tmp", "/run")] == [EXEC] * 3
    assert col["/dev/shm"] == NOEXEC


def test_podman_without_read_only_tmpfs(caps):
    """--read-only-tmpfs=false: /tmp is read-only; Podman 4.3.1 keeps /dev/shm writable."""
    col = column(caps, PODMAN_NO_TMPFS)
    assert col["/tmp"] == RO
    assert [p for p, outcome in col.items() if outcome != RO] == ["/dev", "/dev/shm", "/data"]


def test_docker_read_only_and_its_tmpfs(caps):
    """docker --read-only: /tmp read-only; --tmpfs /tmp makes it write, noexec."""
    assert caps.outcome(DOCKER, "/tmp") == RO
    assert caps.outcome(DOCKER_TMPFS, "/tmp") == NOEXEC
    assert caps.outcome(DOCKER_TMPFS, "/var/tmp") == RO
    assert caps.outcome(DOCKER, "/dev/shm") == NOEXEC


def test_the_volume_is_write_and_exec_everywhere(caps):
    """For root a volume is writable and executable whatever the root is; a
    non-root user cannot write its root-owned directory."""
    root = [label for label in caps.labels if label != NON_ROOT]
    assert {label: caps.outcome(label, "/data") for label in root} == dict.fromkeys(root, EXEC)
    assert caps.outcome(NON_ROOT, "/data") == DENIED


def test_dev_is_write_and_exec_for_root_except_under_podman(caps):
    """/dev: a tmpfs without noexec under CRI-O and Docker, noexec under Podman;
    only a non-root user is kept out (0755, owned by root)."""
    col = {label: caps.outcome(label, "/dev") for label in caps.labels}
    assert col == {CRIO: EXEC, CRIO_CTR: EXEC, CRIO_PRIV: EXEC, PODMAN: NOEXEC,
                   PODMAN_NO_TMPFS: NOEXEC, DOCKER: EXEC, DOCKER_TMPFS: EXEC,
                   NON_ROOT: DENIED}
    assert column(caps, NON_ROOT)["/tmp"] == NOEXEC  # 1777: anyone may write there


def test_image_directories_are_read_only_everywhere(caps):
    """/, /usr, /etc and /var/log are read-only under every setting."""
    for label in caps.labels:
        for path in ("/", "/usr", "/etc", "/var/log"):
            assert caps.outcome(label, path) == RO, (label, path)


def test_the_table_renders_as_text_and_html(caps):
    """str() is a path × setting table; the HTML form is a <table>."""
    lines = str(caps).splitlines()
    assert lines[0].split()[0] == "path" and CRIO_CTR in lines[0]
    assert [line.split()[0] for line in lines[1:]] == PATHS
    assert lines[5].startswith("/tmp") and "write + exec" in lines[5]
    html = caps._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == len(PATHS) + 1


def test_probes_leave_nothing_behind(fedora):
    """After probing, the upper layer, the tmpfs mounts and the volume are unchanged."""
    for i, setting in enumerate(rosim.capability_settings()):
        ctr = setting.create(fedora, f"p{i}",
                             mounts=(rosim.Bind(rosim.Volume("v"), "/data"),))
        before = ctr.run(lambda: {p: sorted(os.listdir(p)) for p in PATHS})
        rosim.probe_exec(ctr, PATHS)
        assert ctr.run(lambda: {p: sorted(os.listdir(p)) for p in PATHS}) == before
        assert [c for c in ctr.diff() if c.path not in ("/data", "/etc")] == []
        assert ctr.runtime.volume_files("v") == []


def test_probe_exec_on_a_read_write_container(fedora):
    """A writable root is write + exec; the probe leaves only changed directories."""
    ctr = rosim.Setting("crio", "cri-o").create(fedora, "rw")
    result = rosim.probe_exec(ctr, ["/", "/usr/bin", "/tmp", "/dev/shm"])
    assert result == {"/": EXEC, "/usr/bin": EXEC, "/tmp": EXEC, "/dev/shm": NOEXEC}
    changes = ctr.diff()
    assert changes and {str(c.kind) for c in changes} == {"C"}
    assert ctr.sh("ls -a / /tmp").stdout.count(".rosim") == 0


def test_probe_exec_agrees_with_running_a_script(fedora):
    """Where the probe says noexec, the shell refuses a dropped script with status 126."""
    ctr = rosim.Setting(CRIO, "cri-o", read_only=True).create(fedora, "ro")
    assert rosim.probe_exec(ctr, ["/tmp"]) == {"/tmp": NOEXEC}
    result = ctr.sh("echo 'echo pwned' > /tmp/x; chmod +x /tmp/x; /tmp/x")
    assert (result.status, result.stderr) == (126, "sh: /tmp/x: Permission denied\n")
    podman = rosim.Setting(PODMAN, "podman", read_only=True).create(fedora, "ro")
    assert rosim.probe_exec(podman, ["/tmp"]) == {"/tmp": EXEC}
    result = podman.sh("echo 'echo pwned' > /tmp/x; chmod +x /tmp/x; /tmp/x")
    assert (result.status, result.stdout) == (0, "pwned\n")


def test_probe_exec_normalises_and_checks_paths(fedora):
    """Paths are normalised; a relative path is a ConfigError naming it."""
    ctr = rosim.Setting(CRIO, "cri-o", read_only=True).create(fedora, "paths")
    assert rosim.probe_exec(ctr, ["/var/./tmp/", "/etc"]) == {"/var/tmp": NOEXEC, "/etc": RO}
    with pytest.raises(rosim.ConfigError, match=r"paths item\(='tmp'\)"):
        rosim.probe_exec(ctr, ["tmp"])


def test_compare_capabilities_with_chosen_paths_settings_and_volume(fedora):
    """paths, settings and the volume's mount point can be chosen."""
    settings = [rosim.Setting("rw", "cri-o"), rosim.Setting("ro", "docker", read_only=True)]
    caps = rosim.compare_capabilities(fedora, paths=["/etc", "/cache"], settings=settings,
                                      volume="/cache")
    assert caps.labels == ("rw", "ro") and caps.paths == ("/etc", "/cache")
    assert caps.results == {"rw": {"/etc": EXEC, "/cache": EXEC},
                            "ro": {"/etc": RO, "/cache": EXEC}}


def test_plot_capabilities_draws_every_cell_with_labels_and_legend(caps):
    """One axes with a title, axis labels, a tick per path and setting, three legend entries."""
    fig = rosim.plot_capabilities(caps)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert "write" in ax.get_title() and "run" in ax.get_title()
    assert ax.get_xlabel() == "runtime setting"
    assert ax.get_ylabel() == "where a process drops a file"
    assert [t.get_text() for t in ax.get_yticklabels()] == PATHS
    # Labels are wrapped to fit the column: compare them without the breaks.
    assert ["".join(t.get_text().split()) for t in ax.get_xticklabels()] == [
        "".join(label.split()) for label in caps.labels]
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == OUTCOMES
    cells = {(round(t.get_position()[0]), round(t.get_position()[1])): " ".join(
        t.get_text().split()) for t in ax.texts}
    assert len(cells) == len(caps.labels) * len(caps.paths)
    for x, label in enumerate(caps.labels):
        for y, path in enumerate(caps.paths):
            assert cells[x, y] == caps.outcome(label, path)

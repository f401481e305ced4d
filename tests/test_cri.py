"""CRI-O and crictl with real configuration files, and the replayed demo."""

from __future__ import annotations

import json
import re

import pytest

import rosim
from rosim.cri.config import samples_dir
from tests.conftest import outcome

SANDBOX = "sandbox_config.json"
FEDORA = "container_fedora.json"
REDIS = "container_redis.json"
DNF_ERROR = "Config error: Read-only file system: '/var/log/dnf.log'\n"


def app_config(name: str = "app", **fields) -> dict:
    """A minimal container config for the built-in Fedora image."""
    return {"metadata": {"name": name}, "image": {"image": "fedora"}, **fields}


def fedora(crio: rosim.CrioServer) -> tuple[str, str]:
    """Run the sample pod and start the sample Fedora container in it."""
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod, FEDORA, SANDBOX)
    crio.start(ctr)
    return pod, ctr


def root_writable(crio: rosim.CrioServer) -> bool:
    """Start a fresh container on ``crio`` and try to write below /etc."""
    pod = crio.runp({"metadata": {"name": "probe-pod"}})
    ctr = crio.create(pod, app_config("probe"), SANDBOX)
    crio.start(ctr)
    return crio.exec(ctr, "touch /etc/probe").ok


def write_toml(tmp_path, text: str):
    path = tmp_path / "crio.conf"
    path.write_text(text)
    return path


# ---------------------------------------------------------------- read_only setting


def test_read_only_from_the_argument():
    """crio --read-only makes roots read-only; without it they are writable."""
    assert rosim.CrioServer(read_only=True).read_only
    assert not rosim.CrioServer().read_only
    assert not root_writable(rosim.CrioServer(read_only=True))
    assert root_writable(rosim.CrioServer(read_only=False))


def test_read_only_from_the_sample_crio_conf():
    """The shipped crio.conf sets [crio.runtime] read_only = true."""
    for config in ("crio.conf", samples_dir() / "crio.conf"):
        crio = rosim.CrioServer(config=config)
        assert crio.read_only
        assert not root_writable(crio)


def test_read_only_false_in_a_crio_conf_file(tmp_path):
    """A crio.conf with read_only = false gives writable roots."""
    path = write_toml(tmp_path, "[crio.runtime]\nread_only = false\n")
    crio = rosim.CrioServer(config=path)
    assert not crio.read_only
    assert root_writable(crio)


def test_crio_conf_found_through_base(tmp_path):
    """A relative crio.conf name is looked up in ``base`` before the samples."""
    write_toml(tmp_path, '[crio]\nroot = "/var/lib/containers"\n[crio.runtime]\n'
               'read_only = false\n')
    assert not rosim.CrioServer(config="crio.conf", base=tmp_path).read_only


def test_crio_conf_without_read_only_means_read_write(tmp_path):
    """A crio.conf that does not mention read_only keeps the default (false)."""
    path = write_toml(tmp_path, '[crio.runtime]\ndefault_runtime = "runc"\n')
    assert not rosim.CrioServer(config=path).read_only


def test_read_only_from_the_environment():
    """CONTAINER_READ_ONLY=true acts like the flag; false overrides crio.conf."""
    assert rosim.CrioServer(env={"CONTAINER_READ_ONLY": "true"}).read_only
    assert not rosim.CrioServer(env={"CONTAINER_READ_ONLY": "false"}).read_only
    assert not rosim.CrioServer(config="crio.conf",
                                env={"CONTAINER_READ_ONLY": "false"}).read_only
    assert not rosim.CrioServer(env={"PATH": "/usr/bin"}).read_only


def test_the_flag_wins_over_config_and_environment(tmp_path):
    """An explicit read_only argument beats crio.conf and CONTAINER_READ_ONLY."""
    rw_conf = write_toml(tmp_path, "[crio.runtime]\nread_only = false\n")
    assert not rosim.CrioServer(False, config="crio.conf").read_only
    assert rosim.CrioServer(True, config=rw_conf).read_only
    assert not rosim.CrioServer(False, env={"CONTAINER_READ_ONLY": "true"}).read_only
    assert not root_writable(rosim.CrioServer(True, config=rw_conf))


def test_bad_read_only_values_are_rejected():
    """A non-boolean flag or environment value names the setting and the value."""
    with pytest.raises(rosim.ConfigError, match=r"read_only\(='yes'\) must be a bool"):
        rosim.CrioServer("yes")  # type: ignore[arg-type]
    with pytest.raises(rosim.CriConfigError,
                       match=r"CONTAINER_READ_ONLY\(='yes'\) must be true or false"):
        rosim.CrioServer(env={"CONTAINER_READ_ONLY": "yes"})


def test_invalid_toml_names_the_file(tmp_path):
    """A crio.conf that is not TOML gives a CriConfigError naming the file."""
    path = write_toml(tmp_path, "[crio.runtime\nread_only = true\n")
    with pytest.raises(rosim.CriConfigError) as info:
        rosim.CrioServer(config=path)
    assert isinstance(info.value, rosim.RosimError)
    assert str(info.value).startswith(f"{path}: invalid TOML: ")


def test_read_only_of_the_wrong_type_in_crio_conf(tmp_path):
    """read_only = "yes" names the file, the dotted key and the value."""
    path = write_toml(tmp_path, '[crio.runtime]\nread_only = "yes"\n')
    with pytest.raises(rosim.CriConfigError) as info:
        rosim.CrioServer(config=path)
    assert str(info.value) == f"{path}: crio.runtime.read_only(='yes') must be a boolean."


def test_missing_crio_conf_says_where_it_looked(tmp_path):
    """A crio.conf that does not exist is a CriConfigError listing the places tried."""
    with pytest.raises(rosim.CriConfigError, match=r"^nope\.conf: no such file \(looked in "):
        rosim.CrioServer(config="nope.conf", base=tmp_path)


# ---------------------------------------------------------------- crictl verbs


def test_runp_returns_a_pod_id_that_pods_lists():
    """crictl runp prints a 64-hex id; crictl pods shows it abbreviated and Ready."""
    crio = rosim.CrioServer()
    pod = crio.runp(SANDBOX)
    assert re.fullmatch(r"[0-9a-f]{64}", pod)
    assert crio.pods() == [{"POD ID": pod[:13], "CREATED": "Less than a second ago",
                            "STATE": "Ready", "NAME": "podsandbox1",
                            "NAMESPACE": "redhat.test.crio", "ATTEMPT": "1"}]


def test_a_pod_name_can_be_used_once():
    """A second runp with the same name and namespace is refused."""
    crio = rosim.CrioServer()
    crio.runp(SANDBOX)
    with pytest.raises(rosim.LifecycleError,
                       match="sandbox_config.json: pod sandbox with name 'podsandbox1' already"):
        crio.runp(SANDBOX)
    assert len(crio.pods()) == 1


def test_create_start_stop_as_ps_shows_them():
    """ps hides created and exited containers; ps(all=True) shows every state."""
    crio = rosim.CrioServer(read_only=True)
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod, FEDORA, SANDBOX)
    assert re.fullmatch(r"[0-9a-f]{64}", ctr) and ctr != pod
    assert crio.ps() == []
    assert crio.ps(all=True) == [{
        "CONTAINER": ctr[:13], "IMAGE": "registry.fedoraproject.org/fedora:28",
        "CREATED": "Less than a second ago", "STATE": "Created", "NAME": "fedora",
        "ATTEMPT": "0", "POD ID": pod[:13]}]
    crio.start(ctr)
    assert [(r["CONTAINER"], r["STATE"]) for r in crio.ps()] == [(ctr[:13], "Running")]
    crio.stop(ctr)
    assert crio.ps() == []
    assert [r["STATE"] for r in crio.ps(all=True)] == ["Exited"]


def test_start_refuses_a_container_that_is_not_in_created_state():
    """CRI-O starts a container once: running or stopped, start is refused with its message."""
    crio = rosim.CrioServer(read_only=True)
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod, FEDORA, SANDBOX)
    crio.start(ctr)
    with pytest.raises(rosim.LifecycleError) as info:
        crio.start(ctr)
    assert str(info.value) == f"container {ctr} is not in created state: running"
    crio.stop(ctr)
    with pytest.raises(rosim.LifecycleError, match=f"^container {ctr} is not in created "
                                                   "state: stopped$"):
        crio.start(ctr)


def test_exec_a_string_runs_a_shell_with_the_config_envs():
    """exec(ctr, 'cmd; cmd') runs sh -c with the container's envs and cwd."""
    crio = rosim.CrioServer(read_only=True)
    _, ctr = fedora(crio)
    result = crio.exec(ctr, "echo $TERM; pwd")
    assert (result.status, result.stdout, result.stderr) == (0, "xterm\n/\n", "")
    failed = crio.exec(ctr, "touch /etc/x")
    assert failed.status == 1
    assert failed.stderr == "touch: cannot touch '/etc/x': Read-only file system\n"


def test_exec_a_list_runs_the_program_directly():
    """exec(ctr, [argv]) runs a program without a shell; errors keep the tools' wording."""
    crio = rosim.CrioServer(read_only=True)
    _, ctr = fedora(crio)
    assert crio.exec(ctr, ["cat", "/etc/os-release"]).stdout.startswith("NAME=Fedora")
    touch = crio.exec(ctr, ["touch", "/usr/x"])
    assert (touch.status, touch.stderr) == (
        1, "touch: cannot touch '/usr/x': Read-only file system\n")
    dnf = crio.exec(ctr, ["dnf", "install", "nc"])
    assert (dnf.status, dnf.stderr) == (1, DNF_ERROR)
    missing = crio.exec(ctr, ["nope"])
    assert missing.status == 127 and '"nope": executable file not found' in missing.stderr


def test_exec_a_list_can_run_sh_c():
    """crictl exec CTR sh -c 'echo hi' runs the image's shell."""
    crio = rosim.CrioServer()
    _, ctr = fedora(crio)
    result = crio.exec(ctr, ["sh", "-c", "echo hi"])
    assert (result.status, result.stdout) == (0, "hi\n")


def test_exec_a_list_sees_the_config_envs():
    """A program run by exec(ctr, [argv]) sees the envs of the container config."""
    tools = rosim.Image.from_dict("tools", {
        "/bin/sh": rosim.File(b"\x7fELF\x02\x01\x01\x00rosim-program: sh\n", mode=0o755),
        "/usr/local/bin/greet": rosim.File('#!/bin/sh\necho "GREETING=$GREETING"\n',
                                           mode=0o755)})
    crio = rosim.CrioServer(images={"tools": tools})
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod, {"metadata": {"name": "greet"}, "image": {"image": "tools"},
                            "envs": [{"key": "GREETING", "value": "hello"}]}, SANDBOX)
    crio.start(ctr)
    assert crio.exec(ctr, "/usr/local/bin/greet").stdout == "GREETING=hello\n"
    assert crio.exec(ctr, ["/usr/local/bin/greet"]).stdout == "GREETING=hello\n"


def test_the_container_gets_the_sandbox_hostname():
    """/etc/hostname in a pod's container is the sandbox config's hostname."""
    crio = rosim.CrioServer()
    _, ctr = fedora(crio)
    assert crio.exec(ctr, ["cat", "/etc/hostname"]).stdout == "crictl_host\n"


def test_rm_needs_a_stopped_container():
    """rm of a running container fails; after stop it disappears from ps -a."""
    crio = rosim.CrioServer()
    _, ctr = fedora(crio)
    with pytest.raises(rosim.LifecycleError, match="running"):
        crio.rm(ctr)
    crio.stop(ctr)
    crio.rm(ctr)
    assert crio.ps(all=True) == []
    assert crio.runtime.containers == {}
    with pytest.raises(rosim.LifecycleError, match="no container matches it"):
        crio.start(ctr)


def test_stopp_then_rmp_removes_the_pod_and_its_containers():
    """rmp refuses a Ready pod; stopp stops its containers and rmp removes everything."""
    crio = rosim.CrioServer(read_only=True)
    pod, _ = fedora(crio)
    crio.create(pod, REDIS, SANDBOX)
    with pytest.raises(rosim.LifecycleError, match="stop it with stopp first"):
        crio.rmp(pod)
    crio.stopp(pod)
    assert [p["STATE"] for p in crio.pods()] == ["NotReady"]
    assert sorted(r["STATE"] for r in crio.ps(all=True)) == ["Created", "Exited"]
    crio.rmp(pod)
    assert crio.pods() == [] and crio.ps(all=True) == []
    assert crio.runtime.containers == {}
    crio.runp(SANDBOX)  # the name is free again
    assert len(crio.pods()) == 1


def test_create_in_a_stopped_pod_is_refused():
    """After stopp, creating a container in the pod is a LifecycleError."""
    crio = rosim.CrioServer()
    pod = crio.runp(SANDBOX)
    crio.stopp(pod)
    with pytest.raises(rosim.LifecycleError):
        crio.create(pod, FEDORA, SANDBOX)


def test_ids_can_be_abbreviated():
    """Every verb takes a unique prefix of a pod or container id, as crictl does."""
    crio = rosim.CrioServer()
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod[:6], FEDORA, SANDBOX)
    crio.start(ctr[:5])
    assert crio.container(ctr[:13]) is crio.container(ctr)
    assert crio.exec(ctr[:13], "echo $TERM").stdout == "xterm\n"
    crio.stop(ctr[:7])
    crio.stopp(pod[:4])
    crio.rmp(pod[:13])
    assert crio.pods() == []


def test_unknown_ids_are_lifecycle_errors():
    """An id that matches nothing (or is empty) names the id and the kind."""
    crio = rosim.CrioServer()
    pod = crio.runp(SANDBOX)
    with pytest.raises(rosim.LifecycleError,
                       match=r"^container id\(='nope'\): no container matches it\.$"):
        crio.start("nope")
    with pytest.raises(rosim.LifecycleError, match=r"^pod id\(=''\): no pod matches it\.$"):
        crio.create("", FEDORA, SANDBOX)
    with pytest.raises(rosim.LifecycleError, match="no container matches it"):
        crio.exec(pod, "true")  # a pod id is not a container id
    for verb in (crio.stop, crio.rm, crio.session, crio.container):
        with pytest.raises(rosim.LifecycleError):
            verb("ffff")


def test_ambiguous_id_prefixes_are_lifecycle_errors():
    """A prefix shared by two pods (or containers) matches more than one."""
    crio = rosim.CrioServer()
    pods: dict[str, str] = {}
    for i in range(17):  # 17 ids: two must share their first hex digit
        pod = crio.runp({"metadata": {"name": f"pod{i}"}})
        if pod[0] in pods:
            break
        pods[pod[0]] = pod
    with pytest.raises(rosim.LifecycleError,
                       match=rf"^pod id\(='{pod[0]}'\): more than one pod matches it\.$"):
        crio.stopp(pod[0])
    ctrs: dict[str, str] = {}
    for i in range(17):
        ctr = crio.create(pod, app_config(f"c{i}"), SANDBOX)
        if ctr[0] in ctrs:
            break
        ctrs[ctr[0]] = ctr
    with pytest.raises(rosim.LifecycleError, match="more than one container matches it"):
        crio.start(ctr[0])
    crio.start(ctr)  # the full id still works
    assert len(crio.ps()) == 1


def test_dict_configs_work_like_files(tmp_path):
    """Configs may be dicts, names found through ``base``, or absolute paths."""
    sandbox = json.loads((samples_dir() / SANDBOX).read_text())
    container = json.loads((samples_dir() / FEDORA).read_text())
    crio = rosim.CrioServer(read_only=True, base=tmp_path)
    pod = crio.runp(sandbox)
    ctr = crio.create(pod, container, sandbox)
    crio.start(ctr)
    assert crio.exec(ctr, "dnf install nc").stderr == DNF_ERROR
    (tmp_path / "web.json").write_text(json.dumps(app_config("web")))
    (tmp_path / "pod2.json").write_text(json.dumps({"metadata": {"name": "pod2"}}))
    pod2 = crio.runp("pod2.json")
    web = crio.create(pod2, "web.json", tmp_path / "pod2.json")
    assert [r["NAME"] for r in crio.pods()] == ["podsandbox1", "pod2"]
    assert {r["NAME"]: r["IMAGE"] for r in crio.ps(all=True)} == {
        "fedora": "registry.fedoraproject.org/fedora:28", "web": "fedora"}
    assert crio.container(web).read_only


def test_an_image_reference_resolves_to_a_builtin_image():
    """Registry, tag and digest are stripped to find fedora/redis/busybox."""
    crio = rosim.CrioServer()
    assert crio.image("registry.fedoraproject.org/fedora:28") is rosim.Image.builtin("fedora")
    assert crio.image("quay.io/crio/redis:alpine") is rosim.Image.builtin("redis")
    assert crio.image("docker.io/library/busybox@sha256:abc") is rosim.Image.builtin("busybox")


# ---------------------------------------------------------------- the demo


def test_replay_demo_read_only_fails_on_the_dnf_log():
    """The replayed demo shows crio --read-only and dnf's log error."""
    term = rosim.replay_demo(True)
    text = term.transcript
    assert text.startswith("# crio --read-only\n")
    assert "# crictl exec -i -t $CTR sh\n" in text
    assert "sh-4.4# dnf install nc\n" + DNF_ERROR in text
    assert "Complete!" not in text
    assert text.endswith("sh-4.4# exit\n")
    assert str(term) == text
    html = term._repr_html_()
    assert html.startswith("<pre") and "/var/log/dnf.log&#x27;" in html


def test_replay_demo_read_write_installs_nmap_ncat():
    """Without the flag dnf resolves and installs nmap-ncat and says Complete!."""
    term = rosim.replay_demo(False)
    assert term.transcript.startswith("# crio\n")
    prompt, line, output = term.lines[-2]
    assert (prompt, line) == ("sh-4.4# ", "dnf install nc")
    assert "nmap-ncat" in output and "2:7.60-12.fc28" in output
    assert output.endswith("Complete!\n")
    assert "Read-only file system" not in term.transcript


def test_host_terminal_keeps_variables_and_runs_a_session():
    """NAME=$(crictl ...) stores ids; crictl exec -i -t $CTR sh runs lines until exit."""
    term = rosim.HostTerminal()
    assert term.run("crio --read-only") == ""
    assert term.run("POD=$(crictl runp sandbox_config.json)") == ""
    term.run("CTR=$(crictl create $POD container_fedora.json sandbox_config.json)")
    assert re.fullmatch(r"[0-9a-f]{64}", term.vars["POD"])
    assert re.fullmatch(r"[0-9a-f]{64}", term.vars["CTR"])
    assert term.run("crictl start $CTR") == term.vars["CTR"] + "\n"
    assert "Running" in term.run("crictl ps")
    assert "podsandbox1" in term.run("crictl pods")
    assert term.run("crictl exec $CTR touch /etc/x") == (
        "touch: cannot touch '/etc/x': Read-only file system\n")
    assert term.run("crictl exec -i -t $CTR sh") == ""
    assert term.session is not None
    assert term.run("cd /tmp") == ""
    assert term.run("touch f; ls; pwd") == "f\n/tmp\n"
    assert term.run("echo $TERM") == "xterm\n"
    assert term.run("exit") == ""
    assert term.session is None
    assert term.run("ls") == "bash: ls: command not found\n"
    text = term.transcript
    assert "sh-4.4# cd /tmp\nsh-4.4# touch f; ls; pwd\nf\n/tmp\n" in text
    assert "sh-4.4# exit\n# ls\n" in text


def test_host_terminal_reads_crio_config_and_lists_tables():
    """crio --config FILE reads crio.conf; crictl ps -a prints crictl's columns."""
    term = rosim.HostTerminal()
    term.run("crio --config crio.conf")
    assert term.server is not None and term.server.read_only
    term.run("POD=$(crictl runp sandbox_config.json)")
    term.run("CTR=$(crictl create $POD container_redis.json sandbox_config.json)")
    assert term.run("crictl ps") == (
        "CONTAINER   IMAGE   CREATED   STATE   NAME   ATTEMPT   POD ID\n")
    table = term.run("crictl ps -a").splitlines()
    assert table[0].split() == ["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME",
                                "ATTEMPT", "POD", "ID"]
    assert table[1].split()[:2] == [term.vars["CTR"][:13], "quay.io/crio/redis:alpine"]
    assert "Created" in table[1] and "podsandbox1-redis" in table[1]
    ctr = term.vars["CTR"]
    assert term.run(f"crictl rm {ctr[:8]}") == ctr[:8] + "\n"
    assert term.run("crictl stopp $POD") == term.vars["POD"] + "\n"
    term.run("crictl rmp $POD")
    assert term.run("crictl pods") == (
        "POD ID   CREATED   STATE   NAME   NAMESPACE   ATTEMPT\n")


def test_host_terminal_prints_errors_as_crictl_fatals():
    """rosim errors become FATA[0000] lines in the transcript, not exceptions."""
    term = rosim.HostTerminal()
    assert term.run("crictl ps") == (
        "FATA[0000] crictl: connect: no CRI-O server running (start crio first).\n")
    term.run("crio")
    assert term.run("crictl start nope") == (
        "FATA[0000] container id(='nope'): no container matches it.\n")
    term.run("POD=$(crictl runp sandbox_config.json)")
    out = term.run("crictl create $POD nope.json sandbox_config.json")
    assert out.startswith("FATA[0000] nope.json: no such file")
    out = term.run("crictl rmp $POD")
    assert out.startswith("FATA[0000] pod id(=") and "stop it with stopp first" in out
    assert term.run("crictl frob") == "crictl: unknown command 'frob'\n"
    assert "# crictl start nope\nFATA[0000] " in term.transcript


def test_host_terminal_missing_argument_is_a_fatal_line():
    """A crictl verb without its argument prints FATA[0000], as crictl does."""
    term = rosim.HostTerminal()
    term.run("crio")
    assert term.run("crictl start").startswith("FATA[0000] ")


# ---------------------------------------------------------------- security context


def test_readonly_rootfs_alone_makes_the_root_read_only_without_tmpfs():
    """readonly_rootfs: true without the global flag: ro root and no CRI-O tmpfs."""
    crio = rosim.CrioServer()
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod, app_config(linux={"security_context": {"readonly_rootfs": True}}),
                      SANDBOX)
    rw = crio.create(pod, app_config("rw"), SANDBOX)
    crio.start(ctr)
    crio.start(rw)
    assert crio.container(ctr).read_only and not crio.container(rw).read_only
    tmpfs = {m.destination for m in crio.container(ctr).mounts if m.fstype == "tmpfs"}
    assert tmpfs == {"/dev", "/dev/shm"}
    assert crio.exec(ctr, "touch /tmp/x").stderr == (
        "touch: cannot touch '/tmp/x': Read-only file system\n")
    assert crio.exec(ctr, "touch /dev/shm/x").ok
    assert crio.exec(rw, "touch /etc/x /tmp/x").ok


def test_privileged_keeps_the_root_read_only_but_frees_resolv_conf():
    """privileged under crio --read-only: / stays ro, /etc/resolv.conf becomes rw."""
    crio = rosim.CrioServer(read_only=True)
    pod = crio.runp(SANDBOX)
    priv = crio.create(pod, app_config(linux={"security_context": {"privileged": True}}),
                       SANDBOX)
    normal = crio.create(pod, app_config("normal"), SANDBOX)
    crio.start(priv)
    crio.start(normal)
    assert crio.container(priv).read_only
    assert crio.exec(priv, "touch /etc/x").stderr == (
        "touch: cannot touch '/etc/x': Read-only file system\n")
    assert crio.exec(priv, "echo nameserver 1.1.1.1 > /etc/resolv.conf").ok
    assert crio.exec(priv, "cat /etc/resolv.conf").stdout == "nameserver 1.1.1.1\n"
    denied = crio.exec(normal, "echo nameserver 1.1.1.1 > /etc/resolv.conf")
    assert (denied.status, denied.stderr) == (
        1, "sh: /etc/resolv.conf: Read-only file system\n")


def test_cri_mounts_are_writable_or_read_only_and_shared_by_host_path():
    """host_path → container_path; readonly gives EROFS; containers share a host path."""
    crio = rosim.CrioServer(read_only=True)
    pod = crio.runp(SANDBOX)
    writer = crio.create(pod, app_config("writer", mounts=[
        {"container_path": "/data", "host_path": "/srv/shared"}]), SANDBOX)
    reader = crio.create(pod, app_config("reader", mounts=[
        {"container_path": "/in", "host_path": "/srv/shared", "readonly": True},
        {"container_path": "/scratch", "host_path": "/srv/scratch", "readonly": False}]),
        SANDBOX)
    crio.start(writer)
    crio.start(reader)
    assert crio.exec(writer, "echo hello > /data/msg").ok
    assert crio.exec(reader, "cat /in/msg").stdout == "hello\n"
    denied = crio.exec(reader, "touch /in/other")
    assert denied.stderr == "touch: cannot touch '/in/other': Read-only file system\n"
    assert crio.exec(reader, "touch /scratch/ok").ok
    assert crio.exec(writer, "ls /data").stdout == "msg\n"
    # Only the mount points runc made for the host paths.
    assert [str(c) for c in crio.container(reader).diff()] == ["A /in", "A /scratch"]


def test_the_redis_sample_runs_in_data_which_is_read_only():
    """container_redis.json starts in /data; under the global flag /data is ro."""
    crio = rosim.CrioServer(read_only=True)
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod, REDIS, SANDBOX)
    crio.start(ctr)
    assert crio.ps()[0]["IMAGE"] == "quay.io/crio/redis:alpine"
    result = crio.exec(ctr, "pwd; echo $REDIS_VERSION; touch dump.rdb")
    assert result.stdout == "/data\n3.2.3\n"
    assert result.stderr == "touch: cannot touch 'dump.rdb': Read-only file system\n"
    assert result.status == 1


def test_the_redis_sample_writes_data_without_the_flag():
    """Without crio --read-only the same container can write its /data."""
    crio = rosim.CrioServer()
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod, REDIS, SANDBOX)
    crio.start(ctr)
    assert crio.exec(ctr, "touch dump.rdb").ok
    assert [str(c) for c in crio.container(ctr).diff()] == ["C /data", "A /data/dump.rdb",
                                                            "C /etc"]


def test_a_missing_working_dir_is_created_on_a_read_only_root():
    """start() creates working_dir before the root turns read-only, as runc does."""
    crio = rosim.CrioServer(read_only=True)
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod, app_config(working_dir="/srv/app"), SANDBOX)
    assert outcome(crio.start, ctr) == "ok"
    assert crio.exec(ctr, "pwd").stdout == "/srv/app\n"


def test_a_missing_working_dir_is_created_on_a_writable_root():
    """On a writable root start() creates working_dir in the upper layer."""
    crio = rosim.CrioServer()
    pod = crio.runp(SANDBOX)
    ctr = crio.create(pod, app_config(working_dir="/srv/app"), SANDBOX)
    crio.start(ctr)
    assert crio.exec(ctr, "pwd").stdout == "/srv/app\n"


# ---------------------------------------------------------------- malformed configs

BAD_CONTAINERS = [
    ({"image": {"image": "fedora"}}, "container.json: metadata.name is missing."),
    ({"metadata": {"name": ""}, "image": {"image": "fedora"}},
     "container.json: metadata.name must not be empty."),
    ({"metadata": {"name": "x"}}, "container.json: image.image is missing."),
    ({"metadata": {"name": "x"}, "image": {"image": "nope"}},
     "container.json: image.image(='nope') is not a known image; known: "),
    (app_config(linux={"security_context": {"readonly_rootfs": "yes"}}),
     "container.json: linux.security_context.readonly_rootfs(='yes') must be a boolean."),
    (app_config(linux={"security_context": {"privileged": 1}}),
     "container.json: linux.security_context.privileged(=1) must be a boolean."),
    (app_config(command=["/bin/sleep", 5]), "container.json: command[1](=5) must be a string."),
    (app_config(command=[1]), "container.json: command[0](=1) must be a string."),
    (app_config(args="6000"), "container.json: args(='6000') must be a list."),
    (app_config(envs=["TERM=xterm"]), "container.json: envs[0](='TERM=xterm') must be "
                                      '{"key": str, "value": str}.'),
    (app_config(working_dir=7), "container.json: working_dir(=7) must be a string."),
    (app_config(mounts=[{"container_path": "data", "host_path": "/srv"}]),
     "container.json: mounts[0].container_path(='data') must be an absolute path"),
    (app_config(mounts=[{"host_path": "/srv"}]),
     "container.json: mounts[0]: container_path is missing."),
    (app_config(mounts=[{"container_path": "/d", "host_path": "/srv", "readonly": "no"}]),
     "container.json: mounts[0]: readonly(='no') must be a boolean."),
    (["not", "an", "object"], "container.json: the top level must be a JSON object."),
]


@pytest.mark.parametrize(("config", "message"), BAD_CONTAINERS)
def test_a_malformed_container_config_names_file_field_and_value(tmp_path, config, message):
    """Each bad container config is a CriConfigError; nothing is created."""
    (tmp_path / "container.json").write_text(json.dumps(config))
    crio = rosim.CrioServer(read_only=True, base=tmp_path)
    pod, ctr = fedora(crio)
    before = (crio.ps(all=True), crio.pods(), dict(crio.runtime.containers))
    with pytest.raises(rosim.CriConfigError) as info:
        crio.create(pod, "container.json", SANDBOX)
    assert isinstance(info.value, rosim.RosimError)
    assert str(info.value).startswith(message)
    assert (crio.ps(all=True), crio.pods(), dict(crio.runtime.containers)) == before


def test_invalid_json_gives_line_and_column(tmp_path):
    """A JSON syntax error names the file, the problem, the line and the column."""
    (tmp_path / "container.json").write_text('{"metadata": {"name": "x"},\n  "image": }\n')
    crio = rosim.CrioServer(base=tmp_path)
    pod = crio.runp(SANDBOX)
    with pytest.raises(rosim.CriConfigError) as info:
        crio.create(pod, "container.json", SANDBOX)
    assert str(info.value) == (
        "container.json: invalid JSON: Expecting value (line 2 column 12).")
    assert crio.ps(all=True) == [] and crio.runtime.containers == {}


def test_a_dict_config_is_named_dict_in_errors():
    """Errors in dict configs say <dict> where a file name would be."""
    crio = rosim.CrioServer()
    pod = crio.runp(SANDBOX)
    with pytest.raises(rosim.CriConfigError, match=r"^<dict>: metadata\.name is missing\.$"):
        crio.create(pod, {"image": {"image": "fedora"}}, SANDBOX)
    with pytest.raises(rosim.CriConfigError, match=r"must be a dict or a JSON file path"):
        crio.create(pod, 42, SANDBOX)  # type: ignore[arg-type]


def test_a_malformed_sandbox_config_creates_no_pod(tmp_path):
    """runp with a bad sandbox config raises and leaves pods unchanged."""
    crio = rosim.CrioServer(base=tmp_path)
    crio.runp(SANDBOX)
    before = crio.pods()
    (tmp_path / "pod.json").write_text('{"metadata": {"uid": "u"}}')
    (tmp_path / "broken.json").write_text('{"metadata": ')
    (tmp_path / "attempt.json").write_text('{"metadata": {"name": "p", "attempt": true}}')
    cases = [("pod.json", "pod.json: metadata.name is missing."),
             ("broken.json", "broken.json: invalid JSON: Expecting value (line 1 column 14)."),
             ("attempt.json", "attempt.json: metadata.attempt(=True) must be an integer."),
             ("missing.json", "missing.json: no such file")]
    for source, message in cases:
        with pytest.raises(rosim.CriConfigError) as info:
            crio.runp(source)
        assert str(info.value).startswith(message)
    assert crio.pods() == before


def test_a_bad_sandbox_config_at_create_creates_no_container(tmp_path):
    """create checks the sandbox config too, before anything is created."""
    (tmp_path / "pod.json").write_text("[]")
    crio = rosim.CrioServer(base=tmp_path)
    pod = crio.runp(SANDBOX)
    with pytest.raises(rosim.CriConfigError,
                       match=r"^pod\.json: the top level must be a JSON object\.$"):
        crio.create(pod, FEDORA, "pod.json")
    assert crio.ps(all=True) == [] and crio.runtime.containers == {}
    crio.create(pod, FEDORA, SANDBOX)  # the name was not taken by the failed attempt
    assert len(crio.ps(all=True)) == 1


def test_a_mount_the_runtime_refuses_leaves_nothing_behind():
    """A mount over an image file fails in the runtime; no container is left."""
    crio = rosim.CrioServer()
    pod = crio.runp(SANDBOX)
    config = app_config(mounts=[{"container_path": "/etc/os-release", "host_path": "/srv"}])
    with pytest.raises(rosim.RosimError, match="a directory mount cannot go over a file"):
        crio.create(pod, config, SANDBOX)
    assert crio.ps(all=True) == [] and crio.runtime.containers == {}


def test_duplicate_container_paths_name_the_file_and_field(tmp_path):
    """A duplicate container_path is a CriConfigError naming file and field."""
    (tmp_path / "container.json").write_text(json.dumps(app_config(mounts=[
        {"container_path": "/d", "host_path": "/a"},
        {"container_path": "/d", "host_path": "/b"}])))
    crio = rosim.CrioServer(base=tmp_path)
    pod = crio.runp(SANDBOX)
    with pytest.raises(rosim.RosimError) as info:
        crio.create(pod, "container.json", SANDBOX)
    assert isinstance(info.value, rosim.CriConfigError)
    assert str(info.value).startswith("container.json: mounts[1].container_path(='/d')")


def test_a_pods_containers_share_its_dev_shm_until_the_pod_goes():
    """CRI-O gives each pod one /dev/shm (64 MiB, noexec, 1777): its containers
    share it, a recreated container finds it, removing the pod removes it."""
    crio = rosim.CrioServer(read_only=True)
    pod = crio.runp(SANDBOX)
    first = crio.create(pod, app_config("first"), SANDBOX)
    second = crio.create(pod, app_config("second"), SANDBOX)
    crio.start(first)
    crio.start(second)
    assert crio.exec(first, "echo hi > /dev/shm/note").ok
    assert crio.exec(second, "cat /dev/shm/note").stdout == "hi\n"
    assert crio.exec(second, "stat -c %a /dev/shm").stdout == "1777\n"
    crio.stop(first)
    crio.rm(first)
    again = crio.create(pod, app_config("again"), SANDBOX)
    crio.start(again)
    assert crio.exec(again, "cat /dev/shm/note").stdout == "hi\n"
    crio.stopp(pod)
    crio.rmp(pod)
    other = crio.runp(SANDBOX)
    fresh = crio.create(other, app_config("fresh"), SANDBOX)
    crio.start(fresh)
    assert not crio.exec(fresh, "cat /dev/shm/note").ok

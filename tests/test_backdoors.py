"""Scenario 2: backdoors planted from inside the app, and what survives which event.

The expected outcomes follow from the runtimes' mounts and the lifecycle
rules (domain notes, sections 2, 5 and 7), not from what the code printed:
a read-only root refuses writes to ``/usr`` and ``/etc``; CRI-O's tmpfs are
``noexec``, Podman's are not; a restart keeps the writable layer and empties
every tmpfs; a kubelet recreation keeps only the pod's volumes; a reschedule
keeps only network volumes.
"""

from __future__ import annotations

import pytest

import rosim
from rosim.scenarios.backdoor_catalog import DATA_PATH, Implant, Technique, Trigger, technique
from rosim.scenarios.backdoors import (
    Attack,
    BackdoorOutcome,
    BackdoorSetting,
    LifecycleEvent,
    backdoor_setting,
    backdoor_settings,
    backdoor_table,
    check_hardening,
    run_attack,
)
from rosim.teach.attack_views import BACKDOOR_COLOURS, AttackPanel, plot_backdoors

BLOCKED = BackdoorOutcome.BLOCKED
NEVER_RUNS = BackdoorOutcome.NEVER_RUNS
GONE = BackdoorOutcome.GONE
PERSISTS = BackdoorOutcome.PERSISTS

RW = "read-write"
CRIO = "crio --read-only"
PODMAN = "podman --read-only"
DOCKER = "docker --read-only"
DOCKER_TMPFS = "docker --read-only --tmpfs /tmp"
K8S = "readOnlyRootFilesystem + emptyDir /tmp"
READ_ONLY = (CRIO, PODMAN, DOCKER, DOCKER_TMPFS, K8S)
EVENTS = tuple(LifecycleEvent)
AFTER_RESTART = (LifecycleEvent.RECREATE, LifecycleEvent.RESCHEDULE, LifecycleEvent.REBUILD)

#: Techniques whose implant lives in the image's own directories.
ROOT_IMPLANTS = ("app-binary", "ld-preload", "sitecustomize", "pth", "profile-d", "bashrc")


@pytest.fixture(scope="module")
def table() -> rosim.BackdoorTable:
    """Every technique × setting × event, computed once for the module."""
    return backdoor_table()


def test_catalogue_covers_the_issue_with_attack_ids():
    """The catalogue has each technique of the issue, with its ATT&CK id and paths."""
    by_key = {t.key: t for t in rosim.techniques()}
    expected = {
        "app-binary": ("T1554", "/usr/local/bin/python3"),
        "ld-preload": ("T1574.006", "/etc/ld.so.preload"),
        "sitecustomize": ("T1546.018", "/usr/local/lib/python3.11/site-packages/sitecustomize.py"),
        "pth": ("T1546.018", "/usr/local/lib/python3.11/site-packages/distutils-precedence.pth"),
        "profile-d": ("T1546.004", "/etc/profile.d/locale-fix.sh"),
        "bashrc": ("T1546.004", "/root/.bashrc"),
        "cron": ("T1053.003", "/etc/cron.d/sys-update"),
        "drop-tmp": ("T1105", "/tmp/kdevtmpfsi"),
        "drop-var-tmp": ("T1105", "/var/tmp/kdevtmpfsi"),
        "drop-dev-shm": ("T1105", "/dev/shm/kdevtmpfsi"),
        "drop-run": ("T1105", "/run/kdevtmpfsi"),
        "plugin-volume": ("T1505", f"{DATA_PATH}/plugins/analytics.py"),
    }
    for key, (attack_id, path) in expected.items():
        tech = by_key[key]
        assert tech.attack_id == attack_id, key
        assert path in [i.path for i in tech.implants], key
    assert by_key["in-memory"].implants == ()
    assert all(t.marker.startswith(f"[backdoor {t.attack_id}] ") for t in by_key.values())
    assert len({t.marker for t in by_key.values()}) == len(by_key)


def test_shop_starts_cleanly_under_every_setting():
    """The app starts under each setting: a blocked backdoor is not a crashed app."""
    for setting in backdoor_settings():
        rt = rosim.Runtime(setting.profile, read_only=setting.read_only)
        mounts = [*setting.mounts, rosim.Bind(rosim.Volume("clean-data"), DATA_PATH),
                  *(rosim.Bind(rosim.Volume("clean-empty"), p) for p in setting.empty_dirs)]
        ctr = rt.create(rosim.shop_image(), name="shop", mounts=mounts,
                        read_only=setting.container_read_only)
        ctr.start()
        assert ctr.exit_code == 0, (setting.label, ctr.logs())
        assert ctr.logs() == "shop: starting\nshop: listening on :8080\n"


def test_read_only_roots_block_usr_etc_and_home_implants(table):
    """EROFS on the root: nothing is written to /usr, /etc or /root, nothing runs."""
    for key in ROOT_IMPLANTS + ("cron",):
        for setting in READ_ONLY:
            for event in EVENTS:
                attack = table.attack(key, setting, event)
                assert attack.outcome is BLOCKED, (key, setting, event)
                assert "Read-only file system" in attack.transcript
                assert not attack.executed and not attack.survived


def test_read_write_restart_keeps_implants_recreation_discards_them(table):
    """docker restart keeps the writable layer; the kubelet's new container does not."""
    for key in ROOT_IMPLANTS + ("drop-tmp", "drop-var-tmp", "drop-run"):
        restart = table.attack(key, RW, "restart")
        assert restart.executed and restart.survived and restart.outcome is PERSISTS, key
        for event in AFTER_RESTART:
            attack = table.attack(key, RW, event)
            assert attack.executed, (key, event)
            assert not attack.survived and attack.outcome is GONE, (key, event)


def test_implants_run_at_the_next_start(table):
    """Start-time implants show up in the container's own output after a restart."""
    for key in ("app-binary", "ld-preload", "sitecustomize", "pth", "plugin-volume"):
        attack = table.attack(key, RW, "restart")
        after = attack.transcript.split("# Event:")[1]
        assert "shop started; its process printed:" in after
        assert technique(key).marker in after
        assert "shop: listening on :8080" in after, key


def test_trojaned_binary_still_behaves_like_the_program():
    """T1554: the replaced python3 runs the payload and then the app as before."""
    attack = run_attack("app-binary", RW, "restart")
    after = attack.transcript.split("# Event:")[1]
    assert after.index("[backdoor T1554]") < after.index("shop: starting")
    assert "shop: listening on :8080" in after


def test_shell_start_files_run_for_shells_only(table):
    """profile.d runs in a login shell, ~/.bashrc in an interactive one."""
    profile = table.attack("profile-d", RW, "restart")
    assert "bash -l\n[backdoor T1546.004] /etc/profile.d script ran" in profile.transcript
    bashrc = table.attack("bashrc", RW, "restart")
    assert "bash\n[backdoor T1546.004] ~/.bashrc ran" in bashrc.transcript
    assert profile.outcome is PERSISTS and bashrc.outcome is PERSISTS


def test_cron_entry_is_planted_but_never_runs(table):
    """No cron daemon runs in the container: the entry stays, nothing reads it."""
    for event in EVENTS:
        attack = table.attack("cron", RW, event)
        assert attack.planted and not attack.executed and not attack.runs_after
        assert attack.outcome is NEVER_RUNS
        assert "No cron daemon runs in this container" in attack.transcript
    assert table.attack("cron", RW, "restart").survived
    assert not table.attack("cron", RW, "recreate").survived


def test_cron_entry_runs_when_the_process_is_a_cron_daemon():
    """The rule is observed, not assumed: with crond as the process, entries run."""
    image = rosim.shop_image().with_layer({"/usr/sbin/crond": rosim.File(
        b"\x7fELF\x02\x01\x01\x00rosim-program: sleep\n", mode=0o755)},
        entrypoint=["/usr/sbin/crond", "-f"])
    attack = run_attack("cron", RW, "restart", image=image)
    assert attack.executed and attack.runs_after and attack.outcome is PERSISTS


def test_crio_tmpfs_is_noexec_podman_tmpfs_is_not(table):
    """A dropped binary is written to CRI-O's tmpfs but refused; Podman's runs it."""
    for key in ("drop-tmp", "drop-var-tmp", "drop-run"):
        for event in EVENTS:
            crio = table.attack(key, CRIO, event)
            assert crio.planted and not crio.executed and crio.outcome is NEVER_RUNS
            assert "Permission denied" in crio.transcript
            podman = table.attack(key, PODMAN, event)
            assert podman.planted and podman.executed
            # Every start mounts a new, empty tmpfs: the binary is gone even after a restart.
            assert not podman.survived and podman.outcome is GONE


def test_docker_read_only_has_no_tmpfs_and_its_tmpfs_is_noexec(table):
    """docker --read-only adds no tmpfs; a --tmpfs /tmp defaults to noexec."""
    for key in ("drop-tmp", "drop-var-tmp", "drop-run"):
        assert table.outcome(key, DOCKER, "restart") is BLOCKED
    assert table.outcome("drop-tmp", DOCKER_TMPFS, "restart") is NEVER_RUNS
    assert table.outcome("drop-var-tmp", DOCKER_TMPFS, "restart") is BLOCKED


def test_dev_shm_is_noexec_everywhere(table):
    """Every runtime mounts /dev/shm noexec: written, never run."""
    for setting in (RW, *READ_ONLY):
        assert table.outcome("drop-dev-shm", setting, "restart") is NEVER_RUNS, setting


def test_empty_dir_is_executable_and_lives_with_the_pod(table):
    """An emptyDir at /tmp: exec allowed, kept on recreation, lost with the pod."""
    assert table.outcome("drop-tmp", K8S, "restart") is PERSISTS
    assert table.outcome("drop-tmp", K8S, "recreate") is PERSISTS
    assert table.outcome("drop-tmp", K8S, "reschedule") is GONE
    assert table.outcome("drop-tmp", K8S, "rebuild") is GONE
    # readOnlyRootFilesystem alone adds no tmpfs under CRI-O.
    assert table.outcome("drop-var-tmp", K8S, "restart") is BLOCKED
    assert table.outcome("drop-run", K8S, "restart") is BLOCKED


def test_writable_code_volume_defeats_every_read_only_root(table):
    """The app's claim follows the pod: a plugin on it runs after every event."""
    for setting in (RW, *READ_ONLY):
        for event in EVENTS:
            attack = table.attack("plugin-volume", setting, event)
            assert attack.survived and attack.outcome is PERSISTS, (setting, event)


def test_memory_only_payload_runs_everywhere_and_persists_nowhere(table):
    """A read-only root does not stop code running in memory; nothing keeps it."""
    for setting in (RW, *READ_ONLY):
        for event in EVENTS:
            attack = table.attack("in-memory", setting, event)
            assert not attack.planted and attack.executed and attack.outcome is GONE


def test_outcomes_are_observed_markers(table):
    """executed / runs_after are exactly "the marker was printed" before / after the event."""
    for attack in table.attacks:
        before, after = attack.transcript.split("# Event:")
        marker = attack.technique.marker
        assert attack.executed == (marker + "\n" in before.replace(f"'{marker}'", "")), attack
        assert attack.runs_after == (marker in after), attack


def test_chained_events_match_independent_runs(table):
    """The table plants once per technique and setting; a fresh run agrees."""
    for key, setting in (("drop-tmp", K8S), ("ld-preload", RW), ("plugin-volume", CRIO)):
        for event in EVENTS:
            alone = run_attack(key, setting, event)
            chained = table.attack(key, setting, event)
            assert (alone.planted, alone.executed, alone.survived, alone.runs_after,
                    alone.transcript) == (chained.planted, chained.executed, chained.survived,
                                          chained.runs_after, chained.transcript)


def test_outcome_rules():
    """persists > gone (it ran) > never runs (it was planted) > blocked."""
    tech = technique("cron")

    def attack(planted, executed, runs_after):
        return Attack(tech, RW, LifecycleEvent.RESTART, planted, executed, False, runs_after, "")

    assert attack(True, True, True).outcome is PERSISTS
    assert attack(True, False, True).outcome is PERSISTS
    assert attack(True, True, False).outcome is GONE
    assert attack(False, True, False).outcome is GONE
    assert attack(True, False, False).outcome is NEVER_RUNS
    assert attack(False, False, False).outcome is BLOCKED


def test_adding_a_technique_is_one_definition():
    """A new technique is a Technique value; run_attack takes it as is."""
    web_shell = Technique(
        "uploads-shell", "T1505.003", "Server Software Component: Web Shell",
        "shell in /app/uploads", Trigger.ATTACKER,
        (Implant("/app/uploads/shell.sh", "#!/bin/sh\n{echo}\n", 0o755),),
        command="/app/uploads/shell.sh")
    assert run_attack(web_shell, RW, "restart").outcome is PERSISTS
    assert run_attack(web_shell, RW, "recreate").outcome is GONE
    assert run_attack(web_shell, CRIO, "restart").outcome is BLOCKED
    table = backdoor_table([web_shell], [RW], ["restart"])
    assert table.outcome("uploads-shell", RW, "restart") is PERSISTS


def test_preloaded_library_follows_the_loader_rules():
    """ld.so refuses a library on a noexec mount; a half-written implant is not planted."""
    from rosim.scenarios.backdoor_catalog import ELF

    shm = Technique(
        "preload-shm", "T1574.006", "Dynamic Linker Hijacking", "preload from /dev/shm",
        Trigger.START,
        (Implant("/dev/shm/libx.so", ELF + b"rosim-payload: {echo}\n", 0o755),
         Implant("/etc/ld.so.preload", "/dev/shm/libx.so\n")))
    rw = run_attack(shm, RW, "restart")
    assert rw.planted and not rw.executed and rw.outcome is NEVER_RUNS
    assert ("ERROR: ld.so: object '/dev/shm/libx.so' from /etc/ld.so.preload cannot be "
            "preloaded (failed to map segment from shared object): ignored.") in rw.transcript
    crio = run_attack(shm, CRIO, "restart")
    assert "write /dev/shm/libx.so (mode 0755): ok" in crio.transcript
    assert "write /etc/ld.so.preload (mode 0644): OSError: [Errno 30]" in crio.transcript
    assert not crio.planted and crio.outcome is BLOCKED


def test_rebuild_builds_a_new_image_with_the_same_content():
    """The rebuilt image is a new object from the same files."""
    a, b = rosim.shop_image(), rosim.shop_image()
    assert a is not b and a.digest == b.digest
    assert a.config.entrypoint == ("python3", "/app/app.py")


def test_results_render_as_text_and_html(table):
    """Attack and table render for a terminal and for a notebook."""
    attack = table.attack("ld-preload", CRIO, "restart")
    text = str(attack)
    assert text.startswith("# T1574.006 Dynamic Linker Hijacking: /etc/ld.so.preload\n")
    assert ("write /usr/local/lib/libprocesshider.so (mode 0755): OSError: [Errno 30] "
            "Read-only file system: '/usr/local/lib/libprocesshider.so'") in text
    assert text.rstrip().endswith("=> blocked")
    assert "<pre" in attack._repr_html_()
    grid = table.text("recreate").splitlines()
    assert grid[0].split()[0] == "technique" and K8S in grid[0]
    assert grid[1].startswith("T1554 trojaned python3") and "gone" in grid[1]
    assert str(table).count("after: ") == 4
    assert table._repr_html_().count("<table>") == 4
    assert {a.technique.key for a in table.persisting("reschedule")} == {"plugin-volume"}


def test_bad_inputs_name_the_value():
    """Unknown names and malformed definitions raise ConfigError showing the value."""
    with pytest.raises(rosim.ConfigError, match=r"technique\(='nope'\)"):
        run_attack("nope")
    with pytest.raises(rosim.ConfigError, match=r"setting\(='crio'\)"):
        run_attack("cron", "crio")
    with pytest.raises(rosim.ConfigError, match=r"event\(='reboot'\)"):
        run_attack("cron", RW, "reboot")
    with pytest.raises(rosim.ConfigError, match="single mount"):
        BackdoorSetting("x", "docker", mounts=rosim.Tmpfs("/tmp"))
    with pytest.raises(rosim.UnknownProfileError):
        BackdoorSetting("x", "crio")
    with pytest.raises(rosim.InvalidPathError):
        Implant("tmp/x", "")
    with pytest.raises(rosim.ConfigError, match="single quotes"):
        Technique("k", "T1", "n", "it's", Trigger.START)
    with pytest.raises(rosim.ConfigError, match="unique"):
        backdoor_table(["cron"], [RW, RW], ["restart"])
    with pytest.raises(rosim.ConfigError, match="not in this table"):
        backdoor_table(["cron"], [RW], ["restart"]).attack("cron", RW, "rebuild")
    assert backdoor_setting(CRIO).read_only is True


def test_heatmap(table):
    """One panel per event, a cell per technique × setting in Okabe–Ito colours."""
    from matplotlib.colors import to_hex

    techs, settings = table.techniques[:3], (RW, CRIO)
    part = rosim.BackdoorTable(techs, settings, table.events, tuple(
        a for a in table.attacks if a.technique in techs and a.setting in settings))
    fig = plot_backdoors(part)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [f"after: {e}" for e in EVENTS]
    assert fig._suptitle.get_text() == "Does the backdoor run again after the event?"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [o.value for o in BackdoorOutcome]
    first = axes[0]
    assert [t.get_text() for t in first.get_yticklabels()] == [
        "T1554 trojaned python3", "T1574.006 /etc/ld.so.preload", "T1546.018 sitecustomize.py"]
    assert [t.get_text() for t in first.get_xticklabels()] == ["read-write",
                                                               "crio\n--read-only"]
    assert first.get_xlabel() == "runtime setting"
    cells = [(to_hex(p.get_facecolor()), t.get_text())
             for p, t in zip(first.patches, first.texts, strict=True)]
    # Column by column: read-write persists after a restart, CRI-O --read-only blocks.
    persists, blocked = BACKDOOR_COLOURS[PERSISTS].lower(), BACKDOOR_COLOURS[BLOCKED].lower()
    assert cells == [(persists, "persists")] * 3 + [(blocked, "blocked")] * 3
    assert {t.get_text() for t in axes[1].texts} == {"gone", "blocked"}
    one = plot_backdoors(part, events=["rebuild"], title="after a rebuild")
    assert len(one.axes) == 1 and one._suptitle.get_text() == "after a rebuild"


def test_panel_runs_the_chosen_attack():
    """Setting the dropdowns and clicking Run shows that attack's transcript and outcome."""
    panel = AttackPanel()
    assert [o[1] for o in panel.technique.options] == [t.key for t in rosim.techniques()]
    assert list(panel.setting.options) == [s.label for s in backdoor_settings()]
    assert [o[1] for o in panel.event.options] == [e.value for e in EVENTS]
    assert panel.result is None and panel.transcript.value == ""
    panel.technique.value = "drop-tmp"
    panel.setting.value = CRIO
    panel.event.value = "restart"
    panel.button.click()
    assert panel.result.technique.key == "drop-tmp" and panel.result.setting == CRIO
    assert panel.result.outcome is NEVER_RUNS
    assert "sh: /tmp/kdevtmpfsi: Permission denied" in panel.transcript.value
    assert "planted, never runs" in panel.outcome.value
    panel.setting.value = PODMAN
    panel.button.click()
    assert panel.result.outcome is GONE
    assert "[backdoor T1105] binary in /tmp ran" in panel.transcript.value
    assert "application/vnd.jupyter.widget-view+json" in panel._repr_mimebundle_()


def test_hardening_check():
    """The exercise: the shop must work and no backdoor may run after any event."""
    k8s = check_hardening(backdoor_setting(K8S))
    assert not k8s.passed
    assert {a.technique.key for a in k8s.persisting} == {"drop-tmp", "plugin-volume"}
    assert "Hint: /tmp is an emptyDir" in str(k8s)
    assert "mount that directory read-only" in str(k8s)
    hardened = BackdoorSetting(
        "hardened", "cri-o", read_only=True,
        mounts=(rosim.Bind(rosim.Volume("plugins"), f"{DATA_PATH}/plugins", read_only=True),))
    verdict = check_hardening(hardened)
    assert verdict.passed and str(verdict).startswith("PASS")
    no_tmp = BackdoorSetting("no tmp", "docker", read_only=True)
    assert "FAIL: the shop cannot write to /tmp: [Errno 30]" in str(check_hardening(no_tmp))
    clash = BackdoorSetting("clash", "cri-o", read_only=True,
                            mounts=(rosim.Bind(rosim.Volume("x"), DATA_PATH, read_only=True),))
    assert "FAIL: the container cannot be created" in str(check_hardening(clash))
    with pytest.raises(rosim.ConfigError):
        check_hardening(K8S)

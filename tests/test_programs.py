"""Programs inside containers: coreutils, package managers and python3, read-only and not."""

from __future__ import annotations

import pytest

import rosim
from tests.conftest import started

DEMO_ERROR = "Config error: Read-only file system: '/var/log/dnf.log'\n"
SITE = "/usr/local/lib/python3.11/site-packages"


def expect(actual, expected) -> None:
    """Fail showing both values (used by the xfail tests: no traceback to format)."""
    if actual != expected:
        pytest.fail(f"got {actual!r}, expected {expected!r}", pytrace=False)


@pytest.fixture(scope="module")
def fedora() -> rosim.Image:
    """The Fedora 28 image of the CRI-O demo."""
    return rosim.Image.builtin("fedora")


@pytest.fixture(scope="module")
def pyapp() -> rosim.Image:
    """The Debian-based Python app image."""
    return rosim.Image.builtin("pyapp")


@pytest.fixture
def ro(fedora):
    """Fedora under CRI-O with the global --read-only flag."""
    return started("cri-o", fedora, read_only=True)


@pytest.fixture
def rw(fedora):
    """Fedora under CRI-O without the flag."""
    return started("cri-o", fedora)


@pytest.fixture(scope="module")
def shared(fedora):
    """One read-only Fedora container for tests that only read."""
    return started("cri-o", fedora, read_only=True)


@pytest.fixture
def app_ro(pyapp):
    """pyapp under CRI-O with the global --read-only flag."""
    return started("cri-o", pyapp, read_only=True)


@pytest.fixture
def app_rw(pyapp):
    """pyapp under CRI-O without the flag."""
    return started("cri-o", pyapp)


def run(ctr, line: str, stdin: str = "") -> tuple[str, str, int]:
    """(stdout, stderr, status) of a command line."""
    result = ctr.sh(line, stdin)
    return result.stdout, result.stderr, result.status


def exists(ctr, path: str) -> bool:
    """Does ``path`` exist in the container (as `test -e` sees it)?"""
    return ctr.sh(f"test -e {path}").status == 0


# ------------------------------------------------------------------ touch
def test_touch_on_a_read_only_root(ro):
    """touch: cannot touch '/usr/x': Read-only file system, status 1."""
    assert run(ro, "touch /usr/x") == (
        "", "touch: cannot touch '/usr/x': Read-only file system\n", 1)
    assert run(ro, "touch /etc/passwd") == (
        "", "touch: cannot touch '/etc/passwd': Read-only file system\n", 1)
    assert not exists(ro, "/usr/x")


def test_touch_reports_each_file_and_goes_on(ro):
    """Every operand is tried; the status is 1 if any failed."""
    stdout, stderr, status = run(ro, "touch /usr/x /tmp/x /var/y")
    assert status == 1
    assert stderr == ("touch: cannot touch '/usr/x': Read-only file system\n"
                      "touch: cannot touch '/var/y': Read-only file system\n")
    assert exists(ro, "/tmp/x")


def test_touch_on_a_writable_root(rw):
    """Without the flag the file lands in the container's layer."""
    assert run(rw, "touch /usr/x") == ("", "", 0)
    assert ("A", "/usr/x") in rw.diff()


def test_touch_in_a_missing_directory(ro):
    """A missing parent directory is ENOENT, on a read-only root too."""
    assert run(ro, "touch /nope/x") == (
        "", "touch: cannot touch '/nope/x': No such file or directory\n", 1)


# ------------------------------------------------------------------ mkdir
@pytest.mark.parametrize(("line", "stderr"), [
    ("mkdir /etc/d", "mkdir: cannot create directory '/etc/d': Read-only file system\n"),
    ("mkdir /etc", "mkdir: cannot create directory '/etc': File exists\n"),
    ("mkdir -p /etc/a/b", "mkdir: cannot create directory '/etc/a': Read-only file system\n"),
    ("mkdir /nope/x", "mkdir: cannot create directory '/nope/x': No such file or directory\n"),
])
def test_mkdir_errors_on_a_read_only_root(shared, line, stderr):
    """EEXIST is checked before EROFS; -p names the first directory it cannot make."""
    assert run(shared, line) == ("", stderr, 1)


def test_mkdir_p_of_an_existing_directory_is_fine(shared):
    """mkdir -p succeeds when the directory is already there, even read-only."""
    assert run(shared, "mkdir -p /etc /usr/bin") == ("", "", 0)


def test_mkdir_where_writes_are_allowed(ro, rw):
    """tmpfs on the read-only container, anywhere on the writable one."""
    assert run(ro, "mkdir -p /tmp/q/r/s && mkdir /tmp/t && ls /tmp/q/r; ls /tmp") == (
        "s\nq\nt\n", "", 0)
    assert run(rw, "mkdir -p /etc/a/b") == ("", "", 0)
    assert ("A", "/etc/a/b") in rw.diff()
    assert run(rw, "mkdir /etc/a") == (
        "", "mkdir: cannot create directory '/etc/a': File exists\n", 1)


# ------------------------------------------------------------------ rm
def test_rm_on_a_read_only_root(ro):
    """rm: cannot remove '/etc/passwd': Read-only file system; the file stays."""
    assert run(ro, "rm /etc/passwd") == (
        "", "rm: cannot remove '/etc/passwd': Read-only file system\n", 1)
    assert exists(ro, "/etc/passwd")


def test_rm_f_does_not_hide_read_only_errors(ro):
    """-f silences missing files, not a read-only file system."""
    assert run(ro, "rm -f /etc/passwd") == (
        "", "rm: cannot remove '/etc/passwd': Read-only file system\n", 1)


def test_rm_on_a_writable_root_leaves_a_whiteout(rw):
    """The file disappears from the container; diff shows D."""
    assert run(rw, "rm /etc/passwd; cat /etc/passwd") == (
        "", "cat: /etc/passwd: No such file or directory\n", 1)
    assert ("D", "/etc/passwd") in rw.diff()


def test_rm_of_a_missing_file(ro):
    """Missing: No such file or directory (1); with -f nothing is said and status is 0."""
    assert run(ro, "rm /tmp/missing") == (
        "", "rm: cannot remove '/tmp/missing': No such file or directory\n", 1)
    assert run(ro, "rm -f /tmp/missing") == ("", "", 0)
    assert run(ro, "rm /nope/x") == (
        "", "rm: cannot remove '/nope/x': No such file or directory\n", 1)


@pytest.mark.parametrize(("line", "expected"), [
    ("rm /etc/missing",
     ("", "rm: cannot remove '/etc/missing': No such file or directory\n", 1)),
    ("rm -f /etc/missing", ("", "", 0)),
])
def test_rm_of_a_missing_file_on_a_read_only_root(shared, line, expected):
    """GNU rm reports ENOENT, not EROFS, when the file is not there; -f stays silent."""
    assert run(shared, line) == expected


def test_rm_of_a_directory(ro, rw):
    """Without -r a directory is refused; -r removes it where writes are allowed."""
    assert run(ro, "rm /tmp") == ("", "rm: cannot remove '/tmp': Is a directory\n", 1)
    assert run(ro, "mkdir /tmp/d; touch /tmp/d/f; rm -r /tmp/d; ls /tmp") == ("", "", 0)
    assert run(rw, "rm -rf /etc/dnf") == ("", "", 0)
    assert not exists(rw, "/etc/dnf")
    assert ("D", "/etc/dnf") in rw.diff()


def test_rm_r_on_a_read_only_root(ro):
    """rm -r of an image directory fails with EROFS and removes nothing."""
    stdout, stderr, status = run(ro, "rm -rf /etc/dnf")
    assert status == 1
    assert stderr.startswith("rm: cannot remove '/etc/dnf/")
    assert stderr.endswith("': Read-only file system\n")
    assert exists(ro, "/etc/dnf/dnf.conf")


# ------------------------------------------------------------------ cp
def test_cp_into_a_read_only_root(shared):
    """cp: cannot create regular file '/etc/p2': Read-only file system."""
    assert run(shared, "cp /etc/passwd /etc/p2") == (
        "", "cp: cannot create regular file '/etc/p2': Read-only file system\n", 1)
    assert run(shared, "cp -r /etc/dnf /etc/dnf2") == (
        "", "cp: cannot create directory '/etc/dnf2': Read-only file system\n", 1)


def test_cp_to_tmp_and_into_directories(ro):
    """Copies to the tmpfs work; a directory target keeps the source's name."""
    assert run(ro, "cp /etc/fedora-release /tmp/r && cat /tmp/r") == (
        "Fedora release 28 (Twenty Eight)\n", "", 0)
    assert run(ro, "cp /etc/os-release /tmp/ && ls /tmp/os-release") == (
        "/tmp/os-release\n", "", 0)
    assert run(ro, "cp -r /etc/dnf /tmp/ && ls /tmp/dnf; ls /tmp/dnf/protected.d") == (
        "dnf.conf\nprotected.d\ndnf.conf\n", "", 0)


@pytest.mark.parametrize(("line", "stderr"), [
    ("cp /nope /tmp/", "cp: cannot stat '/nope': No such file or directory\n"),
    ("cp /etc/dnf /tmp/", "cp: -r not specified; omitting directory '/etc/dnf'\n"),
    ("cp /etc/passwd", "cp: missing destination file operand\n"),
])
def test_cp_usage_errors(shared, line, stderr):
    """GNU cp's messages for a missing source, a directory without -r, one operand."""
    assert run(shared, line) == ("", stderr, 1)


def test_cp_on_a_writable_root(rw):
    """The copy is added to the container's layer."""
    assert run(rw, "cp /etc/passwd /etc/p2") == ("", "", 0)
    assert run(rw, "cat /etc/p2") == run(rw, "cat /etc/passwd")
    assert ("A", "/etc/p2") in rw.diff()


@pytest.mark.parametrize(("profile", "expected"), [
    ("podman", ("uid=0(root) gid=0(root) groups=0(root)\n", "", 0)),
    ("cri-o", ("", "sh: /tmp/id: Permission denied\n", 126)),
])
def test_cp_keeps_the_execute_bits(fedora, profile, expected):
    """A copied program stays executable: it runs from Podman's /tmp, not from CRI-O's."""
    ctr = started(profile, fedora, read_only=True)
    assert run(ctr, "cp /usr/bin/id /tmp/id && /tmp/id") == expected
    assert run(ctr, "ls -l /tmp/id")[0].startswith("-rwxr-xr-x ")


# ------------------------------------------------------------------ mv
def test_mv_within_a_mount(ro):
    """rename(2) inside the /tmp tmpfs."""
    assert run(ro, "echo hi > /tmp/m; mv /tmp/m /tmp/n; ls /tmp; cat /tmp/n") == (
        "n\nhi\n", "", 0)


def test_mv_across_mounts_into_the_read_only_root(ro):
    """EXDEV makes mv copy; creating the copy is what fails, and the source stays."""
    assert run(ro, "echo hi > /tmp/x; mv /tmp/x /etc/x") == (
        "", "mv: cannot create regular file '/etc/x': Read-only file system\n", 1)
    assert run(ro, "cat /tmp/x") == ("hi\n", "", 0)


def test_mv_across_two_writable_mounts(ro):
    """/tmp and /run are different tmpfs: mv copies, then removes the source."""
    assert run(ro, "echo hi > /tmp/x; mv /tmp/x /run/x; cat /run/x; ls /tmp") == (
        "hi\n", "", 0)


def test_mv_across_mounts_on_a_writable_root(rw):
    """From /dev/shm (a tmpfs) into the writable root."""
    assert run(rw, "echo hi > /dev/shm/x; mv /dev/shm/x /etc/x; cat /etc/x; ls /dev/shm") == (
        "hi\n", "", 0)
    assert ("A", "/etc/x") in rw.diff()


def test_mv_inside_the_root(ro, rw):
    """Renaming an image file: EROFS read-only, a whiteout plus a new file otherwise."""
    assert run(ro, "mv /etc/passwd /etc/pw") == (
        "", "mv: cannot move '/etc/passwd' to '/etc/pw': Read-only file system\n", 1)
    assert run(rw, "mv /etc/passwd /etc/pw") == ("", "", 0)
    assert {("D", "/etc/passwd"), ("A", "/etc/pw")} <= set(rw.diff())


def test_mv_of_a_missing_file(shared):
    """mv: cannot stat."""
    assert run(shared, "mv /tmp/none /tmp/x") == (
        "", "mv: cannot stat '/tmp/none': No such file or directory\n", 1)


@pytest.mark.parametrize(("read_only", "line", "expected"), [
    (False, "mv /etc/dnf /etc/dnf2; ls /etc/dnf2", ("dnf.conf\nprotected.d\n", "", 0)),
    (True, "mkdir /tmp/d; mv /tmp/d /etc/d",
     ("", "mv: cannot create directory '/etc/d': Read-only file system\n", 1)),
])
def test_mv_of_a_directory_falls_back_to_copying(fedora, read_only, line, expected):
    """EXDEV is never shown to the user by GNU mv."""
    ctr = started("cri-o", fedora, read_only=read_only)
    expect(run(ctr, line), expected)


# ------------------------------------------------------------------ ln
def test_ln_on_a_read_only_root(shared):
    """Symbolic and hard links into the read-only root fail with EROFS."""
    assert run(shared, "ln -s /etc/passwd /etc/l") == (
        "", "ln: failed to create symbolic link '/etc/l': Read-only file system\n", 1)
    assert run(shared, "ln /etc/passwd /etc/h") == (
        "", "ln: failed to create hard link '/etc/h' => '/etc/passwd': Read-only file system\n",
        1)


def test_ln_s_where_writes_are_allowed(ro, rw):
    """A symlink in /tmp reads through; on a writable root it is added to the layer."""
    stdout, stderr, status = run(ro, "ln -s /etc/fedora-release /tmp/l; ls -l /tmp/l; cat /tmp/l")
    assert status == 0 and stderr == ""
    first, second = stdout.splitlines()
    assert first.startswith("lrwxrwxrwx ") and first.endswith(" /tmp/l -> /etc/fedora-release")
    assert second == "Fedora release 28 (Twenty Eight)"
    assert run(ro, "ln -s /etc/passwd /tmp/l") == (
        "", "ln: failed to create symbolic link '/tmp/l': File exists\n", 1)
    assert run(ro, "ln -sf /etc/passwd /tmp/l; cat /tmp/l")[0].count("root:x:0:0") == 1
    assert run(rw, "ln -s /etc/passwd /etc/l") == ("", "", 0)
    assert ("A", "/etc/l") in rw.diff()


# ------------------------------------------------------------------ chmod
def test_chmod_on_a_read_only_root(shared):
    """chmod: changing permissions of '/etc/passwd': Read-only file system."""
    assert run(shared, "chmod 600 /etc/passwd") == (
        "", "chmod: changing permissions of '/etc/passwd': Read-only file system\n", 1)
    assert run(shared, "chmod +x /etc/passwd") == (
        "", "chmod: changing permissions of '/etc/passwd': Read-only file system\n", 1)


def test_chmod_octal_on_a_writable_root(rw):
    """A metadata change copies the file up: diff shows C."""
    assert run(rw, "chmod 600 /etc/passwd") == ("", "", 0)
    assert "Access: (0600/-rw-------)" in rw.sh("stat /etc/passwd").stdout
    assert ("C", "/etc/passwd") in rw.diff()


@pytest.mark.parametrize(("spec", "mode"), [
    ("755", "-rwxr-xr-x"),
    ("+x", "-rwxr-xr-x"),
    ("u+x", "-rwxr--r--"),
    ("u+x,g-r", "-rwx---r--"),
    ("a-r", "--w-------"),
    ("go+w", "-rw-rw-rw-"),
    ("o-r", "-rw-r-----"),
])
def test_chmod_modes(ro, spec, mode):
    """Octal and symbolic modes, starting from a 0644 file."""
    assert run(ro, f"touch /tmp/f; chmod {spec} /tmp/f; ls -l /tmp/f")[0].startswith(mode + " ")


@pytest.mark.parametrize(("spec", "mode"), [("o=r", "-rw-r--r--"), ("u=rwx", "-rwxr--r--")])
def test_chmod_equals_sets_only_the_named_class(ro, spec, mode):
    """'=' replaces the bits of the classes it names and keeps the others."""
    expect(run(ro, f"touch /tmp/f; chmod {spec} /tmp/f; ls -l /tmp/f")[0][:10], mode)


@pytest.mark.parametrize(("line", "stderr"), [
    ("chmod zz /tmp", "chmod: invalid mode: 'zz'\n"),
    ("chmod 600 /nope", "chmod: cannot access '/nope': No such file or directory\n"),
    ("chmod", "chmod: missing operand\n"),
])
def test_chmod_usage_errors(shared, line, stderr):
    """Bad modes, missing files, no operands."""
    assert run(shared, line) == ("", stderr, 1)


# ------------------------------------------------------------------ cat
def test_cat(shared):
    """cat prints files in order, reports a missing one and carries on."""
    assert run(shared, "cat /etc/fedora-release") == ("Fedora release 28 (Twenty Eight)\n", "", 0)
    assert run(shared, "cat /nope /etc/fedora-release") == (
        "Fedora release 28 (Twenty Eight)\n", "cat: /nope: No such file or directory\n", 1)
    assert run(shared, "cat /etc") == ("", "cat: /etc: Is a directory\n", 1)
    assert run(shared, "cat - /etc/fedora-release", stdin="in\n") == (
        "in\nFedora release 28 (Twenty Eight)\n", "", 0)


def test_root_reads_a_mode_000_file(shared):
    """Root is not stopped by permission bits when reading (/etc/shadow is 0000)."""
    assert run(shared, "cat /etc/shadow") == ("root:!locked::0:99999:7:::\n", "", 0)


# ------------------------------------------------------------------ ls
def test_ls_lists_sorted_names_without_dotfiles(shared):
    """Plain ls: one name a line, sorted, hidden files left out."""
    assert run(shared, "ls /etc/dnf") == ("dnf.conf\nprotected.d\n", "", 0)
    assert run(shared, "ls /root") == ("", "", 0)
    assert run(shared, "ls /etc/hostname") == ("/etc/hostname\n", "", 0)


def test_ls_a_shows_dotfiles(shared):
    """-a and -A include names starting with a dot."""
    assert run(shared, "ls -A /root") == (".bash_profile\n.bashrc\n", "", 0)
    assert {".bash_profile", ".bashrc"} <= set(run(shared, "ls -a /root")[0].split())


def test_ls_a_shows_dot_and_dot_dot(shared):
    """GNU ls -a lists . and .. first."""
    expect(run(shared, "ls -a /root")[0], ".\n..\n.bash_profile\n.bashrc\n")


def test_ls_l_shows_modes_and_links(shared):
    """-l: the mode string, owner, size and name; symlinks show their target."""
    total, *lines = run(shared, "ls -l /etc/dnf")[0].splitlines()
    assert total.startswith("total ")
    assert [line.split()[0] for line in lines] == ["-rw-r--r--", "drwxr-xr-x"]
    assert [line.split()[-1] for line in lines] == ["dnf.conf", "protected.d"]
    assert all(line.split()[2:4] == ["root", "root"] for line in lines)
    assert run(shared, "ls -l /bin")[0].endswith(" /bin -> usr/bin\n")
    assert run(shared, "ls -ld /tmp")[0].startswith("drwxrwxrwt ")


def test_ls_l_shows_setuid(ro):
    """The s in the owner's execute column."""
    expect(run(ro, "touch /tmp/s; chmod 4755 /tmp/s; ls -l /tmp/s")[0][:10], "-rwsr-xr-x")


def test_ls_of_a_missing_path_is_status_2(shared):
    """ls: cannot access '/nope': No such file or directory, status 2."""
    assert run(shared, "ls /nope") == (
        "", "ls: cannot access '/nope': No such file or directory\n", 2)
    assert run(shared, "ls /nope /etc/dnf") == (
        "/etc/dnf:\ndnf.conf\nprotected.d\n",
        "ls: cannot access '/nope': No such file or directory\n", 2)


def test_ls_of_several_directories(shared):
    """`ls /etc/dnf/protected.d /etc/dnf` shows /etc/dnf first, then a blank line."""
    expect(run(shared, "ls /etc/dnf/protected.d /etc/dnf")[0],
           "/etc/dnf:\ndnf.conf\nprotected.d\n\n/etc/dnf/protected.d:\ndnf.conf\n")


def test_ls_root_of_the_image(shared):
    """The merged view of / contains the image's directories and the mount points."""
    names = run(shared, "ls /")[0].split()
    assert {"bin", "dev", "etc", "proc", "sys", "tmp", "usr", "var"} <= set(names)
    assert names == sorted(names)


# ------------------------------------------------------------------ id, df, mount, stat
def test_id(shared):
    """Containers run as root here."""
    assert run(shared, "id") == ("uid=0(root) gid=0(root) groups=0(root)\n", "", 0)


def test_df_lists_the_root_and_the_tmpfs_mounts(shared):
    """df shows the overlay root and CRI-O's tmpfs."""
    stdout, stderr, status = run(shared, "df")
    assert (stderr, status) == ("", 0)
    lines = stdout.splitlines()
    assert lines[0].split() == ["Filesystem", "1K-blocks", "Used", "Available", "Use%",
                                "Mounted", "on"]
    mounted = {line.split()[-1]: line.split()[0] for line in lines[1:]}
    assert mounted["/"] == "overlay"
    for path in ("/run", "/tmp", "/var/tmp", "/dev"):
        assert mounted[path] == "tmpfs"
    assert mounted["/dev/shm"] == "shm"


def test_df_of_a_path_shows_its_mount(shared, rw):
    """df PATH names the file system that holds PATH."""
    assert run(shared, "df /tmp/")[0].splitlines()[1].split()[::5] == ["tmpfs", "/tmp"]
    assert run(shared, "df /etc/dnf")[0].splitlines()[1].split()[::5] == ["overlay", "/"]
    assert run(rw, "df /tmp")[0].splitlines()[1].split()[::5] == ["overlay", "/"]
    assert run(shared, "df -h /")[0].splitlines()[0].split()[:4] == [
        "Filesystem", "Size", "Used", "Avail"]


def test_df_of_a_missing_path_reports_it(shared):
    """The error names the path."""
    assert run(shared, "df /nope")[1] == "df: /nope: No such file or directory\n"


def test_df_of_a_missing_path_fails(shared):
    """The status tells a script that df found nothing."""
    expect(run(shared, "df /nope")[2], 1)


def test_mount_shows_the_read_only_overlay_root(shared, rw):
    """The first line is the overlay root: ro under --read-only, rw without it."""
    assert run(shared, "mount")[0].startswith("overlay on / type overlay (ro,relatime,lowerdir=")
    assert run(rw, "mount")[0].startswith("overlay on / type overlay (rw,relatime,lowerdir=")


def test_mount_shows_the_runtime_tmpfs_options(shared, fedora):
    """CRI-O's tmpfs are noexec; Podman's read-only tmpfs are not."""
    lines = run(shared, "mount")[0].splitlines()
    assert "tmpfs on /tmp type tmpfs (rw,nosuid,nodev,noexec,relatime)" in lines
    assert "tmpfs on /run type tmpfs (rw,nosuid,nodev,noexec,relatime,mode=755)" in lines
    podman = started("podman", fedora, read_only=True)
    assert "tmpfs on /tmp type tmpfs (rw,nosuid,nodev,relatime)" in run(
        podman, "mount")[0].splitlines()


def test_mount_agrees_with_proc_mounts(shared):
    """mount reads /proc/mounts."""
    table = run(shared, "cat /proc/mounts")[0].splitlines()
    shown = run(shared, "mount")[0].splitlines()
    assert len(table) == len(shown)
    for row, line in zip(table, shown, strict=True):
        source, target, fstype, options = row.split()[:4]
        assert line == f"{source} on {target} type {fstype} ({options})"


def test_stat(shared):
    """stat shows the name, the kind and the access bits."""
    stdout, stderr, status = run(shared, "stat /etc/passwd")
    assert (stderr, status) == ("", 0)
    assert stdout.startswith("  File: /etc/passwd\n")
    assert "regular file" in stdout
    assert "Access: (0644/-rw-r--r--)" in stdout
    assert "directory" in run(shared, "stat /etc")[0]
    assert "Access: (1777/drwxrwxrwt)" in run(shared, "stat /tmp")[0]
    assert "symbolic link" in run(shared, "stat /bin")[0]
    assert run(shared, "stat /nope") == (
        "", "stat: cannot statx '/nope': No such file or directory\n", 1)


# ------------------------------------------------------------------ dnf
def test_dnf_install_on_a_read_only_root_is_the_demo(ro):
    """The CRI-O demo: exactly one line, status 1, and nothing changes."""
    assert run(ro, "dnf install nc") == ("", DEMO_ERROR, 1)
    assert run(ro, "dnf install -y nc") == ("", DEMO_ERROR, 1)
    assert ro.diff() == []
    assert run(ro, "ls /var/log; ls /run") == ("lastlog\n", "", 0)
    assert not exists(ro, "/usr/bin/nc")


@pytest.mark.parametrize("line", ["dnf list installed", "dnf remove nc", "dnf"])
def test_every_dnf_command_opens_its_log_first(shared, line):
    """dnf configures logging before it looks at the command."""
    assert run(shared, line) == ("", DEMO_ERROR, 1)


def test_dnf_install_on_a_writable_root(rw):
    """Without the flag dnf resolves nmap-ncat 2:7.60-12.fc28 and installs it."""
    result = rw.sh("dnf install nc")
    assert (result.stderr, result.status) == ("", 0)
    lines = result.stdout.splitlines()
    assert "Dependencies resolved." in lines
    assert "Installing:" in lines
    row = next(line for line in lines if line.startswith(" nmap-ncat "))
    assert row.split() == ["nmap-ncat", "x86_64", "2:7.60-12.fc28", "fedora", "235", "k"]
    assert "Is this ok [y/N]: y" in lines
    assert any(line.split()[:3] == ["Installing", ":", "nmap-ncat-2:7.60-12.fc28.x86_64"]
               for line in lines)
    assert lines[-4:] == ["Installed:", "  nmap-ncat.x86_64 2:7.60-12.fc28", "", "Complete!"]
    assert result.transcript.startswith("sh-4.4# dnf install nc\n")


def test_dnf_install_changes_the_image_layer(rw):
    """diff() shows dnf's log and the package's files as added."""
    rw.sh("dnf install -y nc")
    changes = set(rw.diff())
    for path in ("/var/log/dnf.log", "/usr/bin/ncat", "/usr/bin/nc"):
        assert ("A", path) in changes
    assert ("C", "/var/lib/rpm/Packages") in changes
    assert ("C", "/usr/bin") in changes
    assert "INFO" in run(rw, "cat /var/log/dnf.log")[0]


def test_installed_nc_is_a_symlink_to_an_executable(rw):
    """/usr/bin/nc -> ncat, and ncat has its execute bits."""
    rw.sh("dnf install -y nc")
    assert run(rw, "ls -l /usr/bin/nc")[0].endswith(" /usr/bin/nc -> ncat\n")
    assert run(rw, "test -x /usr/bin/nc && test -f /usr/bin/ncat; echo $?") == ("0\n", "", 0)


def test_installed_nc_runs(rw):
    """After a successful install nc runs (and is absent before)."""
    assert run(rw, "nc --version")[1:] == ("sh: nc: command not found\n", 127)
    rw.sh("dnf install -y nc")
    assert run(rw, "nc --version") == ("Ncat: Version 7.60 ( https://nmap.org/ncat )\n", "", 0)


def test_dnf_install_twice_says_already_installed(rw):
    """The second install finds the package and does nothing."""
    rw.sh("dnf install -y nc")
    stdout, stderr, status = run(rw, "dnf install -y nc")
    assert (stderr, status) == ("", 0)
    assert "Package nmap-ncat-2:7.60-12.fc28.x86_64 is already installed, skipping.\n" in stdout
    assert stdout.endswith("Nothing to do.\nComplete!\n")


def test_dnf_list_installed(rw):
    """The base packages, then nmap-ncat once it is installed."""
    before = run(rw, "dnf list installed")
    assert before[1:] == ("", 0)
    assert before[0].startswith("Installed Packages\n")
    assert "bash-4.4.23-1.fc28.x86_64\n" in before[0]
    assert "nmap-ncat" not in before[0]
    rw.sh("dnf install -y nc")
    assert "nmap-ncat.x86_64 2:7.60-12.fc28 @fedora\n" in run(rw, "dnf list installed")[0]


def test_dnf_remove(rw):
    """remove erases the package's files; a second remove finds nothing."""
    rw.sh("dnf install -y nc")
    stdout, stderr, status = run(rw, "dnf remove nc")
    assert (stderr, status) == ("", 0)
    assert "Removed:\n  nmap-ncat.x86_64 2:7.60-12.fc28\n" in stdout
    assert stdout.endswith("Complete!\n")
    assert not exists(rw, "/usr/bin/ncat") and not exists(rw, "/usr/bin/nc")
    assert "nmap-ncat" not in run(rw, "dnf list installed")[0]
    again = run(rw, "dnf remove nc")
    assert again[2] == 0 and "No match for argument: nc" in again[0]


def test_dnf_install_of_an_unknown_package(rw):
    """No match for argument, Error: Unable to find a match, status 1."""
    stdout, stderr, status = run(rw, "dnf install -y frobnicate")
    assert (stderr, status) == ("Error: Unable to find a match\n", 1)
    assert stdout.endswith("No match for argument: frobnicate\n")


def test_dnf_usage_errors(rw):
    """An unknown command and no command at all."""
    assert run(rw, "dnf frob") == (
        "", "No such command: frob. Please use /usr/bin/dnf --help\n", 1)
    assert run(rw, "dnf")[1:] == ("dnf: No command given. Use dnf help for a list.\n", 1)


def test_dnf_install_answered_no(rw):
    """Answering N aborts before anything is downloaded or installed."""
    stdout, stderr, status = run(rw, "dnf install nc", stdin="n\n")
    assert status == 1
    assert stdout.endswith("Is this ok [y/N]: n\nOperation aborted.\n")
    assert not exists(rw, "/usr/bin/nc")


def test_dnf_with_only_var_log_writable_fails_on_its_cache(fedora):
    """A volume for the log moves the failure to the metadata cache under /var/cache."""
    ctr = started("cri-o", fedora, read_only=True,
                  mounts=[rosim.Bind(rosim.Volume("log"), "/var/log")])
    stdout, stderr, status = run(ctr, "dnf install -y nc")
    assert (stdout, status) == ("", 1)
    assert stderr.startswith("Error: Failed to synchronize cache for repo 'updates': "
                             "Read-only file system: '/var/cache/dnf/")
    assert "dnf.log" in ctr.runtime.volume_files("log")


def test_dnf_with_writable_log_and_cache_fails_unpacking_into_usr(fedora):
    """With /var/log and /var/cache/dnf on volumes, rpm fails writing /usr."""
    ctr = started("cri-o", fedora, read_only=True, mounts=[
        rosim.Bind(rosim.Volume("log"), "/var/log"),
        rosim.Bind(rosim.Volume("cache"), "/var/cache/dnf"),
    ])
    stdout, stderr, status = run(ctr, "dnf install -y nc")
    assert status == 1
    assert stderr == ("error: unpacking of archive failed on file /usr/bin/ncat: "
                      "cpio: open failed - Read-only file system\n"
                      "error: nmap-ncat-2:7.60-12.fc28.x86_64 failed: cpio: open failed\n"
                      "Error: Transaction failed\n")
    assert "Running transaction\n" in stdout
    assert "Installed:" not in stdout and "Complete!" not in stdout
    assert not exists(ctr, "/usr/bin/nc")
    assert ctr.diff() == []
    assert any(f.endswith("nmap-ncat-7.60-12.fc28.x86_64.rpm")
               for f in ctr.runtime.volume_files("cache"))


# ------------------------------------------------------------------ apt-get, dpkg
def test_apt_get_install_on_a_read_only_root(app_ro):
    """apt-get takes the dpkg frontend lock first: E: ... (30: Read-only file system), 100."""
    assert run(app_ro, "apt-get install curl") == (
        "",
        "E: Could not open lock file /var/lib/dpkg/lock-frontend - open "
        "(30: Read-only file system)\n"
        "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), "
        "are you root?\n",
        100)
    assert app_ro.diff() == [("C", "/etc")]  # only the runtime's /etc mount points


def test_apt_get_update_on_a_read_only_root(app_ro):
    """apt-get update locks the lists directory first."""
    assert run(app_ro, "apt-get update") == (
        "",
        "E: Could not open lock file /var/lib/apt/lists/lock - open "
        "(30: Read-only file system)\n"
        "E: Unable to lock directory /var/lib/apt/lists/\n",
        100)


def test_apt_get_on_a_writable_root(app_rw):
    """update and install succeed; dpkg -l lists the new package."""
    stdout, stderr, status = run(app_rw, "apt-get update")
    assert (stderr, status) == ("", 0)
    assert stdout.endswith("Reading package lists... Done\n")
    stdout, stderr, status = run(app_rw, "apt-get install -y curl")
    assert (stderr, status) == ("", 0)
    assert "The following NEW packages will be installed:\n  curl\n" in stdout
    assert stdout.endswith("Setting up curl (7.88.1-10+deb12u5) ...\n")
    assert exists(app_rw, "/usr/bin/curl")
    listed = run(app_rw, "dpkg -l")
    assert listed[1:] == ("", 0)
    assert [line.split()[:2] for line in listed[0].splitlines() if line.startswith("ii ")] == [
        ["ii", "base-files"], ["ii", "curl"]]
    changes = set(app_rw.diff())
    assert {("A", "/usr/bin/curl"), ("A", "/var/lib/dpkg/lock-frontend"),
            ("C", "/var/lib/dpkg/status"), ("A", "/var/log/apt/history.log")} <= changes


def test_apt_get_unknown_package(app_rw):
    """E: Unable to locate package NAME, status 100."""
    stdout, stderr, status = run(app_rw, "apt-get install frobnicate")
    assert (stderr, status) == ("E: Unable to locate package frobnicate\n", 100)


def test_dpkg_l_works_read_only(app_ro):
    """Listing packages is a read."""
    stdout, stderr, status = run(app_ro, "dpkg -l")
    expect((status, stderr, "ii  base-files" in stdout), (0, "", True))


# ------------------------------------------------------------------ pip
def test_pip_install_on_a_read_only_root(app_ro):
    """pip fails writing site-packages with the OSError it got."""
    stdout, stderr, status = run(app_ro, "pip install requests")
    assert status == 1
    assert stderr == ("ERROR: Could not install packages due to an OSError: [Errno 30] "
                      f"Read-only file system: '{SITE}/requests'\n\n")
    assert stdout.startswith("Collecting requests\n")
    assert app_ro.diff() == [("C", "/etc")]  # only the runtime's /etc mount points


def test_pip_install_on_a_writable_root(app_rw):
    """pip writes the package and its dist-info into site-packages."""
    stdout, stderr, status = run(app_rw, "pip install requests")
    assert (stderr, status) == ("", 0)
    assert stdout.endswith("Successfully installed requests-2.31.0\n")
    assert run(app_rw, f"cat {SITE}/requests/__init__.py") == (
        '__version__ = "2.31.0"\n', "", 0)
    assert ("A", f"{SITE}/requests-2.31.0.dist-info/RECORD") in app_rw.diff()


def test_pip_install_of_an_unknown_package(app_rw):
    """No matching distribution."""
    assert run(app_rw, "pip install frobnicate") == (
        "",
        "ERROR: Could not find a version that satisfies the requirement frobnicate "
        "(from versions: none)\nERROR: No matching distribution found for frobnicate\n",
        1)


def test_pip_install_twice(app_rw):
    """pip notices the package is there."""
    app_rw.sh("pip install requests")
    expect(run(app_rw, "pip install requests")[0].startswith(
        "Requirement already satisfied: requests"), True)


# ------------------------------------------------------------------ python3
def test_python3_c_prints(app_ro):
    """print() goes to the command's standard output, errors to standard error."""
    assert run(app_ro, "python3 -c 'print(1 + 1)'") == ("2\n", "", 0)
    assert run(app_ro, "python3 -c 'import sys; print(1); print(2, file=sys.stderr)'") == (
        "1\n", "2\n", 0)
    assert run(app_ro, "python3 -c 'print(\"x\")' | cat") == ("x\n", "", 0)


@pytest.mark.parametrize(("code", "expected"), [
    ("import sys; sys.exit(3)", ("", "", 3)),
    ("import sys; sys.exit(0)", ("", "", 0)),
    ("import sys; sys.exit(None)", ("", "", 0)),
    ("raise SystemExit('bye')", ("", "bye\n", 1)),
])
def test_python3_exit_codes(app_ro, code, expected):
    """sys.exit(N) is the status; a string goes to stderr with status 1."""
    assert run(app_ro, f'python3 -c "{code}"') == expected


def test_python3_erofs_traceback(app_ro):
    """An uncaught OSError prints CPython's traceback and exits 1."""
    assert run(app_ro, "python3 -c \"open('/etc/x', 'w')\"") == (
        "",
        "Traceback (most recent call last):\n"
        '  File "<string>", line 1, in <module>\n'
        "OSError: [Errno 30] Read-only file system: '/etc/x'\n",
        1)


def write(path: str, text: str) -> None:
    """Write a file (run inside a container)."""
    with open(path, "w") as f:
        f.write(text)


def test_python3_traceback_shows_the_calls(app_ro):
    """Frames of the user's code are listed, innermost last."""
    app_ro.run(write, "/tmp/t.py", "def f():\n    open('/usr/y', 'w')\nf()\n")
    assert run(app_ro, "python3 /tmp/t.py") == (
        "",
        "Traceback (most recent call last):\n"
        '  File "/tmp/t.py", line 3, in <module>\n'
        '  File "/tmp/t.py", line 2, in f\n'
        "OSError: [Errno 30] Read-only file system: '/usr/y'\n",
        1)


def test_python3_traceback_never_reads_the_hosts_file_of_that_name(app_ro, tmp_path):
    """A host file at the program's path stays unread: no source line of it shows."""
    host = tmp_path / "prog.py"
    host.write_text("HOST LINE 1\nHOST LINE 2\nHOST LINE 3\n")
    app_ro.run(lambda p: __import__("os").makedirs(p, exist_ok=True), str(tmp_path))
    app_ro.run(write, str(host), "def f():\n    1 / 0\nf()\n")
    result = app_ro.sh(f"python3 {host}")
    assert result.status == 1 and "HOST LINE" not in result.stderr
    assert result.stderr.endswith(
        f'  File "{host}", line 2, in f\nZeroDivisionError: division by zero\n')


def test_python3_file_with_arguments(app_ro):
    """python3 FILE ARGS sets sys.argv to [FILE, ARGS...]; -c sets it to ['-c', ARGS...]."""
    app_ro.sh("echo 'import sys; print(sys.argv)' > /tmp/s.py")
    assert run(app_ro, "python3 /tmp/s.py a 'b c'") == ("['/tmp/s.py', 'a', 'b c']\n", "", 0)
    assert run(app_ro, "cd /tmp; python3 s.py x") == ("['s.py', 'x']\n", "", 0)
    assert run(app_ro, "python3 -c 'import sys; print(sys.argv)' a b") == (
        "['-c', 'a', 'b']\n", "", 0)


def test_python3_sees_the_container_files(app_ro):
    """Code run by python3 uses the container's file system, both ways."""
    assert run(app_ro, "python3 -c 'import os; print(sorted(os.listdir(\"/app\")))'") == (
        "['app.py', 'data', 'requirements.txt', 'static', 'uploads']\n", "", 0)
    assert run(app_ro, "python3 -c 'with open(\"/tmp/p\", \"w\") as f: f.write(\"hi\")' "
                       "&& cat /tmp/p") == ("hi", "", 0)


def test_python3_unclosed_file_is_written(app_ro):
    """The one-liner idiom open(...).write(...) leaves the data in the file."""
    expect(run(app_ro, "python3 -c 'open(\"/tmp/p\", \"w\").write(\"hi\")' && cat /tmp/p"),
           ("hi", "", 0))


def test_python3_errors(app_ro):
    """A missing script is status 2; a syntax error prints SyntaxError, status 1."""
    assert run(app_ro, "python3 /nope.py") == (
        "", "python3: can't open file '/nope.py': [Errno 2] No such file or directory\n", 2)
    stdout, stderr, status = run(app_ro, "python3 -c '1/'")
    assert (stdout, status) == ("", 1)
    assert stderr.endswith("SyntaxError: invalid syntax\n")
    assert run(app_ro, "python3")[1:] == ("usage: python3 [-c cmd | file] [arg] ...\n", 2)


def test_python3_on_fedora_runs_too(shared):
    """Fedora's /usr/bin/python3 is a symlink to python3.6, the same program."""
    assert run(shared, "python3 -c 'print(\"ok\")'") == ("ok\n", "", 0)


def test_python3_version_matches_the_image(shared):
    """The interpreter reports the image's Python version."""
    expect(run(shared, "python3 --version")[0], "Python 3.6.6\n")


def test_python3_keyboard_interrupt_ends_the_command(app_ro):
    """The interrupt stays inside the container's process."""
    try:
        result = app_ro.sh("python3 -c 'raise KeyboardInterrupt'")
    except KeyboardInterrupt:
        pytest.fail("KeyboardInterrupt escaped Container.sh", pytrace=False)
    expect((result.status, result.stderr.endswith("KeyboardInterrupt\n")), (130, True))


def test_python3_output_redirected_into_the_read_only_root(app_ro):
    """The shell refuses the redirection; python3 does not run."""
    assert run(app_ro, "python3 -c 'print(1)' > /etc/out") == (
        "", "sh: /etc/out: Read-only file system\n", 1)


def test_head_c_reads_only_the_bytes_it_prints():
    """``head -c N`` prints N bytes and reads no further, so ``/dev/zero`` ends.

    GNU head and busybox head both take ``-c N``, ``-cN`` and ``--bytes=N``.
    """
    ctr = rosim.Runtime("podman").create(rosim.Image.builtin("fedora"))
    ctr.start()
    assert ctr.sh("head -c 5000 /dev/zero | wc -c").stdout.strip() == "5000"
    assert ctr.sh("head -c 3 /etc/os-release").stdout == "NAM"
    assert ctr.sh("head -c4 /etc/os-release").stdout == "NAME"
    assert ctr.sh("echo hello | head --bytes=2").stdout == "he"
    missing = ctr.sh("head -c 3 /nope")
    assert missing.status == 1
    assert "/nope: No such file or directory" in missing.stderr

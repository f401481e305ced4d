"""Package managers that write where the real ones write (dnf, apt, pip).

Each tool touches the file system in the real tool's order, so a read-only
root stops it where the real one stops (``domain.md`` §8):

* ``dnf`` opens ``/var/log/dnf.log`` first — hence the CRI-O demo's
  ``Config error: Read-only file system: '/var/log/dnf.log'`` — then its
  other logs, ``/var/run/dnf.pid``, the metadata cache, the history
  database, and finally the package's files under ``/usr``;
* ``apt-get`` and ``dpkg`` take their lock files first;
* ``pip`` writes into site-packages.

Package payloads are tiny stand-ins; versions and sizes are those of the
real packages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from rosim.shell.interp import Proc, program

__all__ = ["DNF_PACKAGES", "Package"]

_DATE = "Mon 14 May 2018 12:00:00 PM UTC"


@dataclass(frozen=True)
class Package:
    """A package in the simulated repositories."""

    name: str
    version: str
    release: str
    epoch: int = 0
    arch: str = "x86_64"
    repo: str = "fedora"
    size: str = "100 k"
    installed_size: str = "200 k"
    provides: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)

    @property
    def evr(self) -> str:
        """epoch:version-release as dnf prints it."""
        return (f"{self.epoch}:" if self.epoch else "") + f"{self.version}-{self.release}"

    @property
    def nevra(self) -> str:
        """name-epoch:version-release.arch."""
        return f"{self.name}-{self.evr}.{self.arch}"


def _elf(name: str) -> str:
    return f"\x7fELF\x02\x01\x01\x00rosim-program: {name}\n"


DNF_PACKAGES = {
    p.name: p for p in (
        Package("nmap-ncat", "7.60", "12.fc28", epoch=2, size="235 k", installed_size="512 k",
                provides=("nc", "ncat"),
                files={"/usr/bin/ncat": _elf("ncat"), "/usr/bin/nc": "->ncat",
                       "/usr/share/man/man1/ncat.1.gz": "ncat(1)\n"}),
        Package("vim-minimal", "8.1.328", "1.fc28", epoch=2, repo="updates", size="549 k",
                installed_size="1.1 M", provides=("vi",),
                files={"/usr/bin/vi": _elf("vi")}),
        Package("curl", "7.59.0", "6.fc28", repo="updates", size="296 k",
                installed_size="273 k", files={"/usr/bin/curl": _elf("curl")}),
        Package("procps-ng", "3.3.12", "2.fc28", size="369 k", installed_size="922 k",
                provides=("ps", "top"),
                files={"/usr/bin/ps": _elf("ps"), "/usr/bin/top": _elf("top")}),
    )
}
_BASE = ("bash-4.4.23-1.fc28.x86_64", "coreutils-8.29-7.fc28.x86_64",
         "dnf-2.7.5-12.fc28.noarch", "fedora-release-28-2.noarch",
         "glibc-2.27-32.fc28.x86_64", "python3-3.6.6-1.fc28.x86_64", "rpm-4.14.1-9.fc28.x86_64")


def _find(name: str) -> Package | None:
    for package in DNF_PACKAGES.values():
        if name == package.name or name in package.provides:
            return package
    return None


def _installed(package: Package) -> bool:
    return all(os.path.lexists(path) for path in package.files)


def _append(path: str, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


def _write_payload(package: Package) -> None:
    for path, content in package.files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if content.startswith("->"):
            if os.path.lexists(path):
                os.unlink(path)
            os.symlink(content[2:], path)
            continue
        with open(path, "w") as f:
            f.write(content)
        if "rosim-program" in content:
            os.chmod(path, 0o755)


def _table_row(package: Package) -> str:
    return (f" {package.name:<17} {package.arch:<13} {package.evr:<24} "
            f"{package.repo:<16} {package.size:>5}\n")


def _dnf_option(name: str, argv: list[str]) -> str | None:
    """An option from ``--setopt=NAME=VALUE``, else from /etc/dnf/dnf.conf [main]."""
    for arg in argv:
        if arg.startswith(f"--setopt={name}="):
            return arg.split("=", 2)[2]
    try:
        with open("/etc/dnf/dnf.conf") as f:
            for line in f:
                key, _, value = line.partition("=")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return None


@program("dnf")
def _dnf(proc: Proc) -> int:
    args = [a for a in proc.argv[1:] if not a.startswith("-")]
    assume_yes = any(a in ("-y", "--assumeyes") for a in proc.argv[1:])
    logdir = _dnf_option("logdir", proc.argv[1:]) or "/var/log"
    # dnf configures its logging before anything else.
    try:
        for log in ("dnf.log", "dnf.librepo.log", "dnf.rpm.log", "hawkey.log"):
            _append(f"{logdir.rstrip('/')}/{log}", f"{_DATE} INFO --- logging initialized ---\n")
    except OSError as exc:
        proc.err(f"Config error: {os.strerror(exc.errno or 0)}: '{exc.filename}'\n")
        return 1
    if not args:
        return proc.fail("No command given. Use dnf help for a list.", 1)
    command, names = args[0], args[1:]
    try:
        _append("/var/run/dnf.pid", "1\n")
    except OSError as exc:
        proc.err(f"Error: {os.strerror(exc.errno or 0)}: '{exc.filename}'\n")
        return 1
    try:
        if command == "install":
            return _dnf_install(proc, names, assume_yes)
        if command == "remove":
            return _dnf_remove(proc, names)
        if command == "list" and names[:1] == ["installed"]:
            proc.out("Installed Packages\n")
            for nevra in _BASE:
                proc.out(f"{nevra}\n")
            for package in DNF_PACKAGES.values():
                if _installed(package):
                    proc.out(f"{package.name}.{package.arch} {package.evr} @{package.repo}\n")
            return 0
        proc.err(f"No such command: {command}. Please use /usr/bin/dnf --help\n")
        return 1
    finally:
        try:
            os.unlink("/var/run/dnf.pid")
        except OSError:
            pass


def _dnf_install(proc: Proc, names: list[str], assume_yes: bool) -> int:
    for repo, label, size, took in (("updates", "Fedora 28 - x86_64 - Updates", "21 MB", "00:09"),
                                    ("fedora", "Fedora 28 - x86_64", "60 MB", "00:26")):
        cache = f"/var/cache/dnf/{repo}-b4ee2d8e5d4b3e2a/repodata"
        try:
            os.makedirs(cache, exist_ok=True)
            _append(f"{cache}/repomd.xml", f"<repomd><revision>{repo}</revision></repomd>\n")
        except OSError as exc:
            proc.err(f"Error: Failed to synchronize cache for repo '{repo}': "
                     f"{os.strerror(exc.errno or 0)}: '{exc.filename}'\n")
            return 1
        proc.out(f"{label:<48}2.3 MB/s | {size:>6}     {took}\n")
    proc.out(f"Last metadata expiration check: 0:00:00 ago on {_DATE}.\n")
    wanted: list[Package] = []
    for name in names:
        package = _find(name)
        if package is None:
            proc.out(f"No match for argument: {name}\n")
            proc.err("Error: Unable to find a match\n")
            return 1
        if _installed(package):
            proc.out(f"Package {package.nevra} is already installed, skipping.\n")
            continue
        wanted.append(package)
    proc.out("Dependencies resolved.\n")
    if not wanted:
        proc.out("Nothing to do.\nComplete!\n")
        return 0
    rule = "=" * 80 + "\n"
    proc.out(rule + f" {'Package':<17} {'Arch':<13} {'Version':<24} {'Repository':<16} "
             f"{'Size':>5}\n" + rule + "Installing:\n")
    for package in wanted:
        proc.out(_table_row(package))
    proc.out(f"\nTransaction Summary\n{rule}Install  {len(wanted)} Package"
             f"{'s' if len(wanted) > 1 else ''}\n\n"
             f"Total download size: {wanted[0].size}\nInstalled size: {wanted[0].installed_size}\n")
    if not assume_yes:
        answer = proc.stdin.strip().lower() or "y"
        proc.out(f"Is this ok [y/N]: {answer}\n")
        if answer not in ("y", "yes"):
            proc.out("Operation aborted.\n")
            return 1
    proc.out("Downloading Packages:\n")
    for package in wanted:
        rpm = f"{package.name}-{package.version}-{package.release}.{package.arch}.rpm"
        try:
            os.makedirs(f"/var/cache/dnf/{package.repo}-b4ee2d8e5d4b3e2a/packages",
                        exist_ok=True)
            _append(f"/var/cache/dnf/{package.repo}-b4ee2d8e5d4b3e2a/packages/{rpm}", "rpm\n")
        except OSError as exc:
            proc.err(f"Error: {os.strerror(exc.errno or 0)}: '{exc.filename}'\n")
            return 1
        proc.out(f"{rpm:<48}1.1 MB/s | {package.size.replace(' k', ' kB'):>6}     00:00\n")
    proc.out("-" * 80 + "\n"
             "Running transaction check\nTransaction check succeeded.\n"
             "Running transaction test\nTransaction test succeeded.\nRunning transaction\n")
    total = len(wanted)
    proc.out(f"  Preparing        : {'':<50}1/1\n")
    for i, package in enumerate(wanted, 1):
        label = f"{package.name}-{package.evr}.{package.arch}"
        try:
            _write_payload(package)
            os.utime("/var/lib/rpm/Packages")
            _append("/var/lib/dnf/history.sqlite", f"install {package.nevra}\n")
        except OSError as exc:
            proc.err(f"error: unpacking of archive failed on file {exc.filename}: "
                     f"cpio: open failed - {os.strerror(exc.errno or 0)}\n"
                     f"error: {label} failed: cpio: open failed\nError: Transaction failed\n")
            return 1
        proc.out(f"  Installing       : {label:<50}{i}/{total}\n"
                 f"  Running scriptlet: {label:<50}{i}/{total}\n")
    for i, package in enumerate(wanted, 1):
        label = f"{package.name}-{package.evr}.{package.arch}"
        proc.out(f"  Verifying        : {label:<50}{i}/{total}\n")
    proc.out("\nInstalled:\n" + "".join(f"  {p.name}.{p.arch} {p.evr}\n" for p in wanted)
             + "\nComplete!\n")
    return 0


def _dnf_remove(proc: Proc, names: list[str]) -> int:
    packages = [p for p in (_find(n) for n in names) if p is not None and _installed(p)]
    if not packages:
        proc.out("No match for argument: " + " ".join(names) + "\nNo packages marked for removal.\n"
                 "Dependencies resolved.\nNothing to do.\nComplete!\n")
        return 0
    proc.out("Dependencies resolved.\n")
    for package in packages:
        label = f"{package.name}-{package.evr}.{package.arch}"
        try:
            for path in package.files:
                os.unlink(path)
            _append("/var/lib/dnf/history.sqlite", f"remove {package.nevra}\n")
        except OSError as exc:
            proc.err(f"error: {label}: erase failed: {os.strerror(exc.errno or 0)}: "
                     f"'{exc.filename}'\nError: Transaction failed\n")
            return 1
        proc.out(f"  Erasing          : {label:<50}1/1\n")
    proc.out("\nRemoved:\n" + "".join(f"  {p.name}.{p.arch} {p.evr}\n" for p in packages)
             + "\nComplete!\n")
    return 0


@program("microdnf")
def _microdnf(proc: Proc) -> int:
    args = [a for a in proc.argv[1:] if not a.startswith("-")]
    try:
        os.makedirs("/var/cache/yum/metadata", exist_ok=True)
    except OSError as exc:
        proc.err(f"error: Failed to create directory {exc.filename}: "
                 f"{os.strerror(exc.errno or 0)}\n")
        return 1
    if args[:1] != ["install"]:
        proc.err("error: unsupported command\n")
        return 1
    proc.out("Downloading metadata...\n")
    packages = [_find(n) for n in args[1:]]
    if any(p is None for p in packages):
        proc.err(f"error: No package matches '{args[1 + packages.index(None)]}'\n")
        return 1
    proc.out("Package" + " " * 60 + "Repository     Size\nInstalling:\n")
    for package in packages:
        assert package is not None
        proc.out(f" {package.nevra:<66}{package.repo:<11}{package.size}\n")
        try:
            _write_payload(package)
        except OSError as exc:
            proc.err(f"error: Error running transaction: {os.strerror(exc.errno or 0)}: "
                     f"'{exc.filename}'\n")
            return 1
    proc.out("Complete.\n")
    return 0


_APT = {"netcat-openbsd": ("1.219-1", {"/usr/bin/nc.openbsd": _elf("nc"),
                                       "/usr/bin/nc": "->nc.openbsd"}),
        "curl": ("7.88.1-10+deb12u5", {"/usr/bin/curl": _elf("curl")}),
        "vim-tiny": ("2:9.0.1378-2", {"/usr/bin/vim.tiny": _elf("vi")})}


def _lock(proc: Proc, path: str, what: str) -> int:
    try:
        with open(path, "a"):
            pass
    except OSError as exc:
        proc.err(f"E: Could not open lock file {path} - open ({exc.errno}: "
                 f"{os.strerror(exc.errno or 0)})\nE: {what}\n")
        return 100
    return 0


@program("apt-get")
def _apt_get(proc: Proc) -> int:
    args = [a for a in proc.argv[1:] if not a.startswith("-")]
    if not args:
        return proc.fail("E: Invalid operation", 100)
    if args[0] == "update":
        status = _lock(proc, "/var/lib/apt/lists/lock",
                       "Unable to lock directory /var/lib/apt/lists/")
        if status:
            return status
        for suite in ("bookworm", "bookworm-updates"):
            proc.out(f"Get:1 http://deb.debian.org/debian {suite} InRelease [151 kB]\n")
            _append(f"/var/lib/apt/lists/deb.debian.org_debian_dists_{suite}_InRelease", "x\n")
        proc.out("Reading package lists... Done\n")
        return 0
    if args[0] != "install":
        proc.err(f"E: Invalid operation {args[0]}\n")
        return 100
    status = _lock(proc, "/var/lib/dpkg/lock-frontend",
                   "Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), "
                   "are you root?")
    if status:
        return status
    proc.out("Reading package lists... Done\nBuilding dependency tree... Done\n"
             "Reading state information... Done\n")
    names = args[1:]
    for name in names:
        if name not in _APT:
            proc.err(f"E: Unable to locate package {name}\n")
            return 100
    proc.out("The following NEW packages will be installed:\n  " + " ".join(names) + "\n"
             f"0 upgraded, {len(names)} newly installed, 0 to remove and 0 not upgraded.\n")
    try:
        os.makedirs("/var/cache/apt/archives", exist_ok=True)
        os.makedirs("/var/log/apt", exist_ok=True)
        for name in names:
            version, files = _APT[name]
            proc.out(f"Get:1 http://deb.debian.org/debian bookworm/main amd64 {name} "
                     f"amd64 {version} [39.3 kB]\n")
            _append(f"/var/cache/apt/archives/{name}_{version.split(':')[-1]}_amd64.deb", "deb\n")
            proc.out(f"Selecting previously unselected package {name}.\n"
                     f"Unpacking {name} ({version}) ...\n")
            _write_payload(Package(name, version, "", files=files))
            _append("/var/lib/dpkg/status", f"\nPackage: {name}\nStatus: install ok installed\n"
                    f"Version: {version}\n")
            proc.out(f"Setting up {name} ({version}) ...\n")
        _append("/var/log/apt/term.log", f"Log started: 2024-01-01  12:00:00\n{names}\n")
        _append("/var/log/apt/history.log", f"Install: {', '.join(names)}\n")
    except OSError as exc:
        proc.err(f"dpkg: error processing archive: unable to create '{exc.filename}': "
                 f"{os.strerror(exc.errno or 0)}\nE: Sub-process /usr/bin/dpkg returned an "
                 "error code (1)\n")
        return 100
    return 0


@program("dpkg")
def _dpkg(proc: Proc) -> int:
    if "-l" in proc.argv or "--list" in proc.argv:
        # Listing only reads the status database: no lock.
        with open("/var/lib/dpkg/status") as f:
            for line in f:
                if line.startswith("Package: "):
                    proc.out(f"ii  {line.split(': ', 1)[1].strip()}\n")
        return 0
    try:
        with open("/var/lib/dpkg/lock", "a"):
            pass
    except OSError as exc:
        proc.err(f"dpkg: error: unable to access the dpkg database directory /var/lib/dpkg: "
                 f"{os.strerror(exc.errno or 0)}\n")
        return 2
    return proc.fail("error: need an action option", 2)


_PIP = {"requests": "2.31.0", "flask": "3.0.0", "rich": "13.7.0", "pyyaml": "6.0.1"}


@program("pip")
def _pip(proc: Proc) -> int:
    args = [a for a in proc.argv[1:] if not a.startswith("-")]
    if args[:1] != ["install"] or len(args) < 2:
        proc.err("ERROR: You must give at least one requirement to install\n")
        return 1
    site = next((d for d in ("/usr/local/lib/python3.11/site-packages",
                             "/usr/lib/python3.6/site-packages") if os.path.isdir(d)), None)
    if site is None:
        proc.err("ERROR: no site-packages directory\n")
        return 1
    fresh = []
    for name in args[1:]:
        version = _PIP.get(name.lower())
        if version is not None and os.path.isdir(f"{site}/{name}-{version}.dist-info"):
            proc.out(f"Requirement already satisfied: {name} in {site} ({version})\n")
            continue
        fresh.append(name)
        if version is None:
            proc.err(f"ERROR: Could not find a version that satisfies the requirement {name} "
                     "(from versions: none)\nERROR: No matching distribution found for "
                     f"{name}\n")
            return 1
        proc.out(f"Collecting {name}\n  Downloading {name}-{version}-py3-none-any.whl (62 kB)\n")
    if not fresh:
        return 0
    proc.out("Installing collected packages: " + ", ".join(fresh) + "\n")
    try:
        for name in fresh:
            version = _PIP[name.lower()]
            os.makedirs(f"{site}/{name}", exist_ok=True)
            with open(f"{site}/{name}/__init__.py", "w") as f:
                f.write(f'__version__ = "{version}"\n')
            os.makedirs(f"{site}/{name}-{version}.dist-info", exist_ok=True)
            with open(f"{site}/{name}-{version}.dist-info/RECORD", "w") as f:
                f.write(f"{name}/__init__.py,,\n")
    except OSError as exc:
        proc.err(f"ERROR: Could not install packages due to an OSError: {exc}\n\n")
        return 1
    proc.out("Successfully installed " + " ".join(
        f"{n}-{_PIP[n.lower()]}" for n in fresh) + "\n")
    return 0

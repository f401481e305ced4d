"""Built-in images with realistic trees, for the labs.

* ``fedora`` — Fedora 28 as in the CRI-O read-only demo: dnf and its
  configuration, ``/var/log``, ``/var/cache/dnf``, ``/var/lib/dnf``, an RPM
  database, Python 3.6 site-packages, a shell and coreutils.
* ``pyapp`` — a small Python web app on a slim Debian base: the app in
  ``/app``, Python 3.11 with site-packages, ``/var/log``, an app data dir.
* ``busybox`` — a minimal image: ``/bin/sh`` and friends.
* ``redis`` — Redis on Alpine, as in CRI-O's ``container_redis.json``.
* ``logapp`` — a web app that logs to ``/var/log/myapp.log`` (or stdout with
  ``LOG_FILE=-``) and appends records under ``/data``; ``python3 /app/app.py
  handle N`` handles N requests.

Executables are files whose content names the program rosim implements
(``rosim-program: NAME`` after an ELF-like header), so later chapters can run
them; to Python code they are ordinary files with mode 0755.

>>> from rosim import Image
>>> fedora = Image.builtin("fedora")
>>> fedora.tree.entry("/etc/dnf/dnf.conf").kind
<EntryKind.FILE: 'file'>
>>> sorted(builtin_names())
['busybox', 'fedora', 'logapp', 'pyapp', 'redis']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from rosim._errors import ImageError
from rosim.fs.layers import Dir, File, Image, Symlink

__all__ = ["builtin_image", "builtin_names", "program", "resolve_image"]


def program(name: str) -> File:
    """An executable file that stands for the program ``name``."""
    return File(b"\x7fELF\x02\x01\x01\x00rosim-program: " + name.encode() + b"\n", mode=0o755)


_PASSWD = ("root:x:0:0:root:/root:/bin/bash\n"
           "bin:x:1:1:bin:/bin:/sbin/nologin\n"
           "daemon:x:2:2:daemon:/sbin:/sbin/nologin\n"
           "nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin\n")
_GROUP = "root:x:0:\nbin:x:1:\ndaemon:x:2:\nnobody:x:65534:\n"
_COREUTILS = ("cat", "chmod", "cp", "df", "echo", "fallocate", "grep", "head", "id", "ln", "ls",
              "mkdir",
              "mount", "mv", "pwd", "rm", "sleep", "sort", "stat", "tail", "test", "touch", "wc",
              "[", "awk", "basename", "date", "dirname", "du", "env", "find", "hostname",
              "printf", "ps", "sed", "seq", "tee", "uname", "which", "whoami", "xargs", "yes")


def _fedora() -> Image:
    files: dict[str, object] = {
        "/bin": Symlink("usr/bin"),
        "/sbin": Symlink("usr/sbin"),
        "/lib": Symlink("usr/lib"),
        "/lib64": Symlink("usr/lib64"),
        "/etc/os-release": ('NAME=Fedora\nVERSION="28 (Container Image)"\nID=fedora\n'
                            'VERSION_ID=28\nPRETTY_NAME="Fedora 28 (Container Image)"\n'),
        "/etc/fedora-release": "Fedora release 28 (Twenty Eight)\n",
        "/etc/passwd": _PASSWD,
        "/etc/group": _GROUP,
        "/etc/shadow": File("root:!locked::0:99999:7:::\n", mode=0o000),
        "/etc/hosts": "127.0.0.1   localhost localhost.localdomain\n::1 localhost\n",
        "/etc/hostname": "localhost.localdomain\n",
        "/etc/resolv.conf": "",
        "/etc/profile": "# /etc/profile\nfor i in /etc/profile.d/*.sh; do . \"$i\"; done\n",
        "/etc/profile.d/lang.sh": "export LANG=C.UTF-8\n",
        "/etc/bashrc": "# /etc/bashrc\n",
        "/etc/ld.so.conf": "include ld.so.conf.d/*.conf\n",
        "/etc/ld.so.conf.d/": None,
        "/etc/dnf/dnf.conf": ("[main]\ngpgcheck=1\ninstallonly_limit=3\n"
                              "clean_requirements_on_remove=True\n"),
        "/etc/dnf/protected.d/dnf.conf": "dnf\n",
        "/etc/yum.repos.d/fedora.repo": (
            "[fedora]\nname=Fedora $releasever - $basearch\n"
            "metalink=https://mirrors.fedoraproject.org/metalink?repo=fedora-$releasever"
            "&arch=$basearch\nenabled=1\ngpgcheck=1\n"),
        "/etc/yum.repos.d/fedora-updates.repo": (
            "[updates]\nname=Fedora $releasever - $basearch - Updates\nenabled=1\n"),
        "/etc/pki/rpm-gpg/RPM-GPG-KEY-fedora-28-x86_64": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n",
        "/root/.bashrc": "# .bashrc\n",
        "/root/.bash_profile": "# .bash_profile\n",
        "/home/": None,
        "/tmp/": Dir(mode=0o1777),
        "/run/": None,
        "/var/run": Symlink("../run"),
        "/var/tmp/": Dir(mode=0o1777),
        "/var/log/": None,
        "/var/log/lastlog": "",
        "/var/cache/dnf/": None,
        "/var/lib/dnf/history.sqlite": b"SQLite format 3\x00" + bytes(4080),
        "/var/lib/dnf/yumdb/": None,
        "/var/lib/rpm/Packages": File(size=12 * 1024**2),
        "/var/lib/rpm/Name": File(size=16384),
        "/usr/bin/bash": program("bash"),
        "/usr/bin/sh": Symlink("bash"),
        "/usr/bin/dnf": program("dnf"),
        "/usr/bin/dnf-3": program("dnf"),
        "/usr/bin/rpm": program("rpm"),
        "/usr/bin/python3": Symlink("python3.6"),
        "/usr/bin/python3.6": program("python3"),
        "/usr/lib64/libc.so.6": File(size=2 * 1024**2, mode=0o755),
        "/usr/lib64/ld-linux-x86-64.so.2": File(size=180000, mode=0o755),
        "/usr/lib64/libpython3.6m.so.1.0": File(size=3 * 1024**2, mode=0o755),
        "/usr/lib/python3.6/site-packages/dnf/__init__.py": '"""dnf"""\n',
        "/usr/lib/python3.6/site-packages/dnf/cli/main.py": "def main():\n    pass\n",
        "/usr/lib/python3.6/site-packages/rpm/__init__.py": '"""rpm"""\n',
        "/usr/lib/python3.6/site-packages/hawkey/__init__.py": '"""hawkey"""\n',
        "/usr/lib64/python3.6/os.py": "# os\n",
        "/usr/lib64/python3.6/site-packages/": None,
        "/usr/share/doc/": None,
        "/usr/share/licenses/fedora-release/LICENSE": "MIT\n",
        "/usr/local/bin/": None,
        "/srv/": None,
        "/opt/": None,
        "/mnt/": None,
    }
    for tool in _COREUTILS:
        files[f"/usr/bin/{tool}"] = program(tool)
    return Image.from_dict("fedora:28", files)


def _pyapp() -> Image:
    base: dict[str, object] = {
        "/bin": Symlink("usr/bin"),
        "/lib": Symlink("usr/lib"),
        "/etc/os-release": 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n',
        "/etc/passwd": _PASSWD + "app:x:1000:1000::/app:/bin/sh\n",
        "/etc/group": _GROUP + "app:x:1000:\n",
        "/etc/hosts": "127.0.0.1 localhost\n",
        "/etc/profile": "# /etc/profile\n",
        "/etc/ld.so.conf": "include /etc/ld.so.conf.d/*.conf\n",
        "/etc/cron.d/": None,
        "/etc/profile.d/": None,
        "/root/.bashrc": "# ~/.bashrc\n",
        "/tmp/": Dir(mode=0o1777),
        "/run/": None,
        "/var/tmp/": Dir(mode=0o1777),
        "/var/log/": None,
        "/var/lib/dpkg/status": "Package: base-files\nStatus: install ok installed\n",
        "/var/lib/apt/lists/": None,
        "/var/cache/apt/": None,
        "/usr/bin/sh": program("sh"),
        "/usr/bin/dash": program("sh"),
        "/usr/bin/apt-get": program("apt-get"),
        "/usr/bin/dpkg": program("dpkg"),
        "/usr/local/bin/python3": program("python3"),
        "/usr/local/bin/pip": program("pip"),
        "/usr/local/lib/python3.11/os.py": "# os\n",
        "/usr/local/lib/python3.11/site-packages/flask/__init__.py": '"""flask"""\n',
        "/usr/local/lib/python3.11/site-packages/werkzeug/__init__.py": '"""werkzeug"""\n',
        "/usr/local/lib/libpython3.11.so.1.0": File(size=4 * 1024**2, mode=0o755),
    }
    for tool in _COREUTILS:
        base[f"/usr/bin/{tool}"] = program(tool)
    image = Image.from_dict("python:3.11-slim", base)
    return image.with_layer({
        "/app/app.py": (
            "import logging, os\n"
            "logging.basicConfig(filename='/var/log/myapp.log', level=logging.INFO)\n"
            "DATA = os.environ.get('DATA_DIR', '/app/data')\n"
            "def handle(request):\n"
            "    logging.info('request %s', request)\n"
            "    with open(os.path.join(DATA, 'records.txt'), 'a') as f:\n"
            "        f.write(request + '\\n')\n"),
        "/app/requirements.txt": "flask==3.0.0\n",
        "/app/static/index.html": "<h1>pyapp</h1>\n",
        "/app/data/": None,
        "/app/uploads/": None,
    }, name="pyapp:1.0", entrypoint=["python3", "/app/app.py"], workdir="/app")


_LOGAPP = """\
import logging
import os
import sys

LOG_FILE = os.environ.get("LOG_FILE", "/var/log/myapp.log")
DATA_DIR = os.environ.get("DATA_DIR", "/data")


def setup():
    if LOG_FILE == "-":
        handler = logging.StreamHandler(sys.stdout)
    else:
        handler = logging.FileHandler(LOG_FILE)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("myapp")
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    os.makedirs(DATA_DIR, exist_ok=True)
    return log


def main(argv):
    log = setup()
    if argv[:1] == ["handle"]:
        count = int(argv[1]) if len(argv) > 1 else 1
        with open(os.path.join(DATA_DIR, "records.txt"), "a") as records:
            for _ in range(count):
                records.write("record\\n")
                log.info("handled a request")
        return
    log.info("myapp started")
    print("myapp listening on :8080")


main(sys.argv[1:])
"""


def _logapp() -> Image:
    """A web app that logs to /var/log/myapp.log and keeps records in /data."""
    return _pyapp().with_layer({
        "/app/app.py": _LOGAPP,
        "/data/": None,
    }, name="logapp:1.0", entrypoint=["python3", "/app/app.py"],
        env={"LOG_FILE": "/var/log/myapp.log", "DATA_DIR": "/data"})


def _busybox() -> Image:
    files: dict[str, object] = {
        "/bin/busybox": program("busybox"),
        "/bin/sh": program("sh"),
        "/etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
        "/etc/group": "root:x:0:\n",
        "/tmp/": Dir(mode=0o1777),
        "/var/": None,
        "/root/": Dir(mode=0o700),
    }
    for tool in _COREUTILS:
        files[f"/bin/{tool}"] = program(tool)
    return Image.from_dict("busybox:1.36", files)


def _redis() -> Image:
    files: dict[str, object] = {
        "/bin/busybox": program("busybox"),
        "/bin/sh": program("sh"),
        "/etc/passwd": ("root:x:0:0:root:/root:/bin/sh\n"
                        "redis:x:999:1000:Linux User,,,:/home/redis:\n"),
        "/etc/group": "root:x:0:\nredis:x:1000:redis\n",
        "/etc/os-release": 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.4.6\n',
        "/usr/local/bin/redis-server": program("redis-server"),
        "/usr/local/bin/redis-cli": program("redis-cli"),
        "/usr/local/bin/docker-entrypoint.sh": File(
            "#!/bin/sh\nset -e\nexec \"$@\"\n", mode=0o755),
        "/data/": Dir(mode=0o755, uid=999, gid=1000),
        "/tmp/": Dir(mode=0o1777),
        "/var/run/": None,
        "/root/": Dir(mode=0o700),
    }
    for tool in _COREUTILS:
        files[f"/bin/{tool}"] = program(tool)
    return Image.from_dict("redis:alpine", files)


_CATALOGUE: dict[str, Callable[[], Image]] = {
    "fedora": _fedora,
    "pyapp": _pyapp,
    "busybox": _busybox,
    "redis": _redis,
    "logapp": _logapp,
}


def builtin_names() -> list[str]:
    """Names accepted by :func:`builtin_image`."""
    return list(_CATALOGUE)


@cache
def builtin_image(name: str) -> Image:
    """Return the built-in image ``name`` (the same object on every call)."""
    try:
        factory = _CATALOGUE[name]
    except (KeyError, TypeError):
        raise ImageError(
            f"name(={name!r}) is not a built-in image; choose one of "
            + ", ".join(repr(n) for n in _CATALOGUE) + "."
        ) from None
    return factory()


def resolve_image(ref: str, extra: Mapping[str, Image] | None = None,
                  field: str = "image") -> Image:
    """Resolve ``registry/name:tag`` to an image of ``extra`` or of the catalogue.

    ``quay.io/crio/redis:alpine`` and ``registry.fedoraproject.org/fedora:28``
    resolve to the built-in ``redis`` and ``fedora``.
    """
    if not isinstance(ref, str) or not ref or "\x00" in ref:
        raise ImageError(f"{field}(={ref!r:.60}) must be an image reference, a non-empty str.")
    extra = extra or {}
    if ref in extra:
        return extra[ref]
    base = ref.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    if base in extra:
        return extra[base]
    if base in _CATALOGUE:
        return builtin_image(base)
    known = ", ".join(sorted(set(extra) | set(_CATALOGUE)))
    raise ImageError(f"{field}(={ref!r}) is not a known image; known: {known}.")

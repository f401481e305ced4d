"""The fidelity cases: container set-ups and the operations run in each.

Each :class:`Scenario` is one container start on each side. Its operations
run in order in one process and share a namespace, so later ones see what
earlier ones did (a file written by one is read by the next). An operation
is a few lines of Python; the value of its last expression is its outcome,
an ``OSError`` its errno name.

An operation where rosim is known to differ from the kernel carries
``xfail=`` with what the kernel does and what rosim does; the test is a
strict xfail, so it fails as soon as rosim is fixed and the mark can go.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from fidelity_harness import Setup

import rosim

#: Helpers every operation can use; sent to both sides with the operations.
OPS_PRELUDE = '''
import errno, io, logging, os, pathlib, shutil, stat, tempfile


def write(path, data="x", mode="w"):
    with open(path, mode) as f:
        return f.write(data)


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def fd_open(path, flags, mode=0o644):
    fd = os.open(path, flags, mode)
    os.close(fd)
    return "opened"


def perms(path):
    return oct(os.stat(path).st_mode & 0o7777)


def vfs_flags(path):
    flag = os.statvfs(path).f_flag
    names = (("ST_RDONLY", "ro"), ("ST_NOSUID", "nosuid"), ("ST_NODEV", "nodev"),
             ("ST_NOEXEC", "noexec"))
    return [name for attr, name in names if flag & getattr(os, attr)]


def listdir(path):
    return sorted(os.listdir(path))


def run_op(code, ns):
    import ast

    def call():
        tree = ast.parse(code)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, "<op>", "exec"), ns)
        return eval(compile(last, "<op>", "eval"), ns) if last is not None else None

    return outcome(call)
'''

_MAIN = '''

def main():
    ns = dict(globals())
    return [[label, run_op(code, ns)] for label, code in OPS]
'''


@dataclass(frozen=True)
class Op:
    """One operation: a label, Python code, and an optional known mismatch."""

    label: str
    code: str
    xfail: str | None = None
    compare: str = "value"  # or 'proc_mounts'


def op(label: str, code: str, xfail: str | None = None) -> Op:
    return Op(label, code, xfail)


@dataclass(frozen=True)
class Scenario:
    """A set-up and the operations to run in it, in order."""

    setup: Setup
    ops: tuple[Op, ...]
    diff_xfail: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.setup.name

    def program(self) -> str:
        pairs = [[o.label, o.code] for o in self.ops]
        labels = [o.label for o in self.ops]
        assert len(set(labels)) == len(labels), f"duplicate labels in {self.name}"
        return OPS_PRELUDE + f"\nOPS = {json.dumps(pairs)}\n" + _MAIN


# ---------------------------------------------------------------- the image
# Paths only under /etc, /var, /srv, /app, /opt, /tmp, /run: nothing that
# would shadow the host's /usr, which the real container needs for python3.
IMAGE = {
    "/etc/motd": "welcome\n",
    "/etc/app.conf": "level=info\n",
    "/etc/conf.d/a.conf": "a=1\n",
    "/etc/conf.d/b.conf": "b=2\n",
    "/var/log/": None,
    "/var/cache/": None,
    "/var/tmp/": rosim.Dir(mode=0o1777),
    "/var/lib/app/state.db": "state\n",
    "/var/lib/app/cache/c1": "c1\n",
    "/srv/readme": "srv\n",
    "/srv/www/index.html": "<h1>hi</h1>\n",
    "/app/main.py": "print('hi')\n",
    "/app/run.sh": rosim.File("#!/bin/sh\necho hi\n", mode=0o755),
    "/app/data/": None,
    "/opt/tool/bin/tool": rosim.File("#!/bin/sh\n", mode=0o755),
    "/opt/tool/share/doc": "doc\n",
    "/tmp/seed.txt": "seed\n",
    "/run/app/pid": "1\n",
    "/app/config": rosim.Symlink("/etc/app.conf"),
    "/app/current": rosim.Symlink("data"),
    "/app/dangling": rosim.Symlink("/app/nowhere"),
}



def proc_mounts_op(label: str = "/proc/mounts lines of the modelled mounts",
                   xfail: str | None = None) -> Op:
    return Op(label, 'read("/proc/mounts")', xfail, "proc_mounts")


# ======================================================= CRI-O --read-only
CRIO_RO = Scenario(
    Setup("crio-ro", IMAGE, profile="cri-o", read_only=True),
    (
        # open() in every mode on the read-only root
        op("open w on image file", 'write("/etc/motd", "x", "w")'),
        op("open a on image file", 'write("/etc/motd", "x", "a")'),
        op("open r+ on image file", 'read("/etc/motd", "r+")'),
        op("open x new file", 'write("/etc/new.conf", "x", "x")'),
        op("open wb new file", 'write("/etc/new.bin", b"x", "wb")'),
        op("open w in missing dir", 'write("/etc/nodir/x", "x")'),
        op("open w on directory", 'write("/etc", "x")'),
        op("open r image file", 'read("/etc/motd")'),
        op("open r missing file", 'read("/etc/missing")'),
        # os.open flags
        op("os.open O_WRONLY", 'fd_open("/etc/motd", os.O_WRONLY)'),
        op("os.open O_RDWR", 'fd_open("/etc/motd", os.O_RDWR)'),
        op("os.open O_RDONLY|O_TRUNC", 'fd_open("/etc/motd", os.O_RDONLY | os.O_TRUNC)'),
        op("os.open O_WRONLY|O_APPEND", 'fd_open("/etc/motd", os.O_WRONLY | os.O_APPEND)'),
        op("os.open O_RDONLY|O_CREAT existing", 'fd_open("/etc/motd", os.O_RDONLY | os.O_CREAT)'),
        op("os.open O_CREAT|O_EXCL existing",
           'fd_open("/etc/motd", os.O_WRONLY | os.O_CREAT | os.O_EXCL)'),
        op("os.open O_RDONLY|O_CREAT new", 'fd_open("/etc/new", os.O_RDONLY | os.O_CREAT)'),
        op("os.open O_RDONLY", 'fd_open("/etc/motd", os.O_RDONLY)'),
        # truncate
        op("truncate image file", 'os.truncate("/etc/motd", 0)'),
        op("truncate directory", 'os.truncate("/etc", 0)'),
        op("truncate missing", 'os.truncate("/etc/missing", 0)'),
        # unlink / rmdir
        op("unlink image file", 'os.unlink("/etc/motd")'),
        op("unlink missing file", 'os.unlink("/etc/missing")'),
        op("unlink in missing dir", 'os.unlink("/nodir/x")'),
        op("unlink directory", 'os.unlink("/etc/conf.d")'),
        op("rmdir non-empty", 'os.rmdir("/etc/conf.d")'),
        op("rmdir missing", 'os.rmdir("/etc/missing")'),
        op("rmdir a file", 'os.rmdir("/etc/motd")'),
        # mkdir / makedirs
        op("mkdir new", 'os.mkdir("/etc/newdir")'),
        op("mkdir existing dir", 'os.mkdir("/etc")'),
        op("mkdir over a file", 'os.mkdir("/etc/motd")'),
        op("mkdir in missing parent", 'os.mkdir("/nodir/sub")'),
        op("makedirs new tree", 'os.makedirs("/srv/a/b/c")'),
        op("makedirs existing exist_ok", 'os.makedirs("/etc/conf.d", exist_ok=True)'),
        op("makedirs existing", 'os.makedirs("/etc/conf.d")'),
        # rename / replace, across mounts too
        op("rename image file", 'os.rename("/etc/motd", "/etc/motd.old")'),
        op("rename missing", 'os.rename("/etc/missing", "/etc/missing2")'),
        op("rename image dir", 'os.rename("/etc/conf.d", "/etc/conf.old")'),
        op("replace onto existing", 'os.replace("/etc/app.conf", "/etc/motd")'),
        op("make /tmp/f", 'write("/tmp/f", "tmp data\\n")'),
        op("rename root -> /tmp (EXDEV)", 'os.rename("/etc/motd", "/tmp/motd")'),
        op("rename /tmp -> root (EXDEV)", 'os.rename("/tmp/f", "/etc/f")'),
        op("rename /tmp -> /run (EXDEV)", 'os.rename("/tmp/f", "/run/f")'),
        op("rename missing /tmp file -> root (EXDEV first)",
           'os.rename("/tmp/missing", "/etc/x")'),
        op("rename missing root file -> /tmp (EXDEV first)",
           'os.rename("/etc/missing", "/tmp/x")'),
        op("link missing root file -> /tmp", 'os.link("/etc/missing", "/tmp/x")'),
        op("rename within /tmp", 'os.rename("/tmp/f", "/tmp/g"); read("/tmp/g")'),
        # symlink / link / mknod
        op("symlink new", 'os.symlink("/etc/motd", "/etc/motd.link")'),
        op("symlink over existing", 'os.symlink("x", "/etc/motd")'),
        op("link new", 'os.link("/etc/motd", "/etc/motd.hard")'),
        op("link over existing", 'os.link("/etc/motd", "/etc/app.conf")'),
        op("link /tmp file into root", 'os.link("/tmp/g", "/etc/g")'),
        op("link within /tmp", 'os.link("/tmp/g", "/tmp/g2"); os.stat("/tmp/g").st_nlink'),
        op("mknod regular", 'os.mknod("/etc/node", 0o600 | stat.S_IFREG)'),
        op("mknod existing", 'os.mknod("/etc/motd", 0o600 | stat.S_IFREG)'),
        # symlinks of the image
        op("readlink image symlink", 'os.readlink("/app/config")'),
        op("read through image symlink", 'read("/app/config")'),
        op("write through image symlink", 'write("/app/config", "x")'),
        op("unlink image symlink", 'os.unlink("/app/config")'),
        op("listdir through dir symlink", 'listdir("/app/current")'),
        # metadata
        op("chmod image file", 'os.chmod("/etc/motd", 0o600)'),
        op("chmod image dir", 'os.chmod("/etc", 0o700)'),
        op("chmod missing", 'os.chmod("/etc/missing", 0o600)'),
        op("chown image file", 'os.chown("/etc/motd", 0, 0)'),
        op("chown missing", 'os.chown("/etc/missing", 0, 0)'),
        op("utime image file", 'os.utime("/etc/motd")'),
        op("utime missing", 'os.utime("/etc/missing")'),
        op("setxattr image file", 'os.setxattr("/etc/motd", "user.k", b"v")'),
        op("removexattr image file", 'os.removexattr("/etc/motd", "user.k")'),
        op("getxattr missing attribute", 'os.getxattr("/etc/motd", "user.k")'),
        op("setxattr on /tmp",
           'os.setxattr("/tmp/g", "user.k", b"v"); os.getxattr("/tmp/g", "user.k")'),
        # pathlib
        op("Path.write_text", 'pathlib.Path("/etc/motd").write_text("x")'),
        op("Path.write_bytes new", 'pathlib.Path("/app/new.bin").write_bytes(b"x")'),
        op("Path.touch new", 'pathlib.Path("/app/new.txt").touch()'),
        op("Path.touch existing", 'pathlib.Path("/app/main.py").touch()'),
        op("Path.mkdir", 'pathlib.Path("/app/newdir").mkdir()'),
        op("Path.mkdir parents exist_ok existing",
           'pathlib.Path("/app/data").mkdir(parents=True, exist_ok=True)'),
        op("Path.unlink", 'pathlib.Path("/app/main.py").unlink()'),
        op("Path.unlink missing_ok on missing",
           'pathlib.Path("/app/nope").unlink(missing_ok=True)'),
        op("Path.rename", 'pathlib.Path("/app/main.py").rename("/app/main2.py")'),
        op("Path.rmdir", 'pathlib.Path("/app/data").rmdir()'),
        op("Path.chmod", 'pathlib.Path("/app/run.sh").chmod(0o700)'),
        op("Path.read_text", 'pathlib.Path("/app/main.py").read_text()'),
        op("Path.write_text on /run", 'pathlib.Path("/run/app.pid").write_text("42\\n")'),
        # shutil
        op("shutil.copy into root", 'shutil.copy("/etc/motd", "/etc/motd.bak")'),
        op("shutil.copy into /tmp", 'shutil.copy("/etc/motd", "/tmp/motd.bak")'),
        op("shutil.copy2 into /var/tmp", 'shutil.copy2("/etc/app.conf", "/var/tmp/app.conf")'),
        op("shutil.copyfile into root", 'shutil.copyfile("/etc/motd", "/srv/motd")'),
        op("shutil.copytree into root", 'shutil.copytree("/etc/conf.d", "/srv/conf")'),
        op("shutil.copytree into /tmp",
           'shutil.copytree("/etc/conf.d", "/tmp/conf"); listdir("/tmp/conf")'),
        op("shutil.rmtree image dir", 'shutil.rmtree("/etc/conf.d")'),
        op("shutil.rmtree ignore_errors", 'shutil.rmtree("/etc/conf.d", ignore_errors=True)'),
        op("shutil.rmtree in /tmp", 'shutil.rmtree("/tmp/conf"); os.path.exists("/tmp/conf")'),
        op("shutil.disk_usage of /dev/shm", 'list(shutil.disk_usage("/dev/shm"))'),
        op("shutil.move /tmp -> root", 'shutil.move("/tmp/motd.bak", "/etc/motd.bak")'),
        op("shutil.move /tmp -> /run", 'shutil.move("/tmp/motd.bak", "/run/motd.bak")'),
        op("after move", '[os.path.exists("/tmp/motd.bak"), read("/run/motd.bak")]'),
        # tempfile
        op("tempfile.gettempdir", "tempfile.gettempdir()"),
        op("tempfile.mkstemp in /etc", 'tempfile.mkstemp(dir="/etc")'),
        op("tempfile.mkdtemp in /var/log", 'tempfile.mkdtemp(dir="/var/log")'),
        op("tempfile.NamedTemporaryFile in /var/log",
           'tempfile.NamedTemporaryFile(dir="/var/log")'),
        op("tempfile.mkstemp default",
           'fd, p = tempfile.mkstemp(); os.close(fd); os.path.dirname(p)'),
        op("tempfile.TemporaryFile",
           'f = tempfile.TemporaryFile(); f.write(b"abc"); f.seek(0); r = f.read(); f.close(); r'),
        op("tempfile.TemporaryDirectory",
           'd = tempfile.TemporaryDirectory(); r = os.path.isdir(d.name); d.cleanup(); r'),
        # logging
        op("logging.FileHandler on root", 'logging.FileHandler("/var/log/app.log")'),
        op("logging.FileHandler delay=True",
           'h = logging.FileHandler("/var/log/app.log", delay=True); h.stream is None'),
        op("logger.warning through delayed handler",
           'lg = logging.getLogger("fidelity.delay"); lg.propagate = False; lg.addHandler(h)\n'
           'try:\n    lg.warning("hello")\nfinally:\n    lg.removeHandler(h)'),
        op("logging.FileHandler on /tmp",
           'h2 = logging.FileHandler("/tmp/app.log")\n'
           'h2.setFormatter(logging.Formatter("%(levelname)s %(message)s"))\n'
           'lg2 = logging.getLogger("fidelity.tmp"); lg2.propagate = False; lg2.addHandler(h2)\n'
           'try:\n    lg2.warning("ok")\nfinally:\n    lg2.removeHandler(h2); h2.close()\n'
           'read("/tmp/app.log")'),
        # os.access
        op("access W_OK image file", 'os.access("/etc/motd", os.W_OK)'),
        op("access R_OK image file", 'os.access("/etc/motd", os.R_OK)'),
        op("access W_OK image dir", 'os.access("/etc", os.W_OK)'),
        op("access X_OK executable on root", 'os.access("/app/run.sh", os.X_OK)'),
        op("access W_OK /tmp", 'os.access("/tmp", os.W_OK)'),
        op("access X_OK script on noexec /tmp",
           'write("/tmp/run.sh", "#!/bin/sh\\n"); os.chmod("/tmp/run.sh", 0o755); '
           'os.access("/tmp/run.sh", os.X_OK)'),
        op("access W_OK /etc/hostname (ro bind)", 'os.access("/etc/hostname", os.W_OK)'),
        op("access F_OK missing", 'os.access("/etc/missing", os.F_OK)'),
        # statvfs flags
        op("statvfs flags /", 'vfs_flags("/")'),
        op("statvfs flags /tmp", 'vfs_flags("/tmp")'),
        op("statvfs flags /run", 'vfs_flags("/run")'),
        op("statvfs flags /var/tmp", 'vfs_flags("/var/tmp")'),
        op("statvfs flags /dev", 'vfs_flags("/dev")'),
        op("statvfs flags /dev/shm", 'vfs_flags("/dev/shm")'),
        op("statvfs flags /proc", 'vfs_flags("/proc")'),
        op("statvfs flags /sys", 'vfs_flags("/sys")'),
        op("statvfs flags /etc/hostname", 'vfs_flags("/etc/hostname")'),
        op("statvfs blocks of /dev (size=64M)", 'os.statvfs("/dev").f_blocks'),
        op("statvfs blocks of /tmp (half of RAM)", 'os.statvfs("/tmp").f_blocks'),
        # the runtime's mounts: contents, tmpcopyup, modes, EBUSY
        op("tmpcopyup /tmp keeps image file", 'read("/tmp/seed.txt")'),
        op("tmpcopyup /run keeps image dir", 'read("/run/app/pid")'),
        op("/run lists copy-up and .containerenv", 'listdir("/run")[:3]'),
        op("write to /etc/resolv.conf (ro bind)", 'write("/etc/resolv.conf", "x", "a")'),
        op("read /etc/hostname", 'read("/etc/hostname")'),
        op("mode of /run (mode=755)", 'perms("/run")'),
        op("mode of /var/tmp (image 1777)", 'perms("/var/tmp")'),
        op("mode of /tmp (image dir 755, mode=1777)", 'perms("/tmp")'),
        op("mode of /dev/shm", 'perms("/dev/shm")'),
        op("rmdir /tmp (mount point on ro root)", 'os.rmdir("/tmp")'),
        op("rename /tmp (mount point on ro root)", 'os.rename("/tmp", "/tmp2")'),
        op("unlink /etc/hostname (bind file on ro root)", 'os.unlink("/etc/hostname")'),
        op("write /dev/shm", 'write("/dev/shm/seg", "shm")'),
        proc_mounts_op(),
        Op("/proc/self/mounts lines", 'read("/proc/self/mounts")', None, "proc_mounts"),
    ),
)

# ======================================== CRI-O, only readOnlyRootFilesystem
CRIO_CTR_RO = Scenario(
    Setup("crio-container-ro", IMAGE, profile="cri-o", read_only=False,
          container_read_only=True),
    (
        op("write /tmp (no tmpfs: root is ro)", 'write("/tmp/x", "x")'),
        op("write /var/tmp", 'write("/var/tmp/x", "x")'),
        op("mkdir /run/lock", 'os.mkdir("/run/lock")'),
        op("read image /tmp/seed.txt", 'read("/tmp/seed.txt")'),
        op("statvfs flags /tmp", 'vfs_flags("/tmp")'),
        op("write /dev/shm", 'write("/dev/shm/x", "x")'),
        op("access W_OK /tmp", 'os.access("/tmp", os.W_OK)'),
        op("tempfile.mkstemp default", "tempfile.mkstemp()"),
        op("logging.FileHandler /tmp", 'logging.FileHandler("/tmp/app.log")'),
        proc_mounts_op(),
    ),
)

# ============================================================ Podman --read-only
PODMAN_RO = Scenario(
    Setup("podman-ro", IMAGE, profile="podman", read_only=True),
    (
        op("write image file", 'write("/etc/motd", "x")'),
        op("write /tmp", 'write("/tmp/x", "x")'),
        op("write /run", 'write("/run/x.pid", "1")'),
        op("write /var/tmp", 'write("/var/tmp/x", "x")'),
        op("statvfs flags /tmp (no noexec)", 'vfs_flags("/tmp")'),
        op("statvfs flags /run", 'vfs_flags("/run")'),
        op("statvfs flags /etc/hosts", 'vfs_flags("/etc/hosts")'),
        op("access X_OK script on /tmp (exec allowed)",
           'write("/tmp/run.sh", "#!/bin/sh\\n"); os.chmod("/tmp/run.sh", 0o755); '
           'os.access("/tmp/run.sh", os.X_OK)'),
        op("tmpcopyup /tmp", 'read("/tmp/seed.txt")'),
        op("tmpcopyup /run", 'listdir("/run")'),
        op("write /etc/hosts (rw bind file)", 'write("/etc/hosts", "10.0.0.1 db\\n", "a")'),
        op("read /etc/hosts", 'read("/etc/hosts").splitlines()[-1]'),
        op("write /etc/hostname (rw bind file)", 'write("/etc/hostname", "other\\n")'),
        op("unlink /etc/hosts (bind on ro root)", 'os.unlink("/etc/hosts")'),
        op("rename /tmp -> /var/tmp", 'os.rename("/tmp/x", "/var/tmp/y")'),
        op("rename /tmp -> /etc", 'os.rename("/tmp/x", "/etc/x")'),
        op("mode of /var/tmp", 'perms("/var/tmp")'),
        op("mode of /run (image dir 755, no mode=)", 'perms("/run")'),
        op("access W_OK /run", 'os.access("/run", os.W_OK)'),
        proc_mounts_op(),
    ),
)

PODMAN_RO_NOTMPFS = Scenario(
    Setup("podman-ro-notmpfs", IMAGE, profile="podman", read_only=True,
          read_only_tmpfs=False),
    (
        op("write /tmp (no tmpfs)", 'write("/tmp/x", "x")'),
        op("write /dev/shm (ro)", 'write("/dev/shm/x", "x")'),
        op("mkdir in /dev (ro)", 'os.mkdir("/dev/foo")'),
        op("statvfs flags /dev", 'vfs_flags("/dev")'),
        op("statvfs flags /dev/shm", 'vfs_flags("/dev/shm")'),
        op("access W_OK /dev/shm", 'os.access("/dev/shm", os.W_OK)'),
        op("write /etc/hosts (rw bind file)", 'write("/etc/hosts", "x\\n", "a")'),
        op("tempfile.TemporaryFile (no writable tmp)", "tempfile.TemporaryFile()"),
        proc_mounts_op(),
    ),
)

# ================================== Docker --read-only with tmpfs and volumes
DOCKER_RO = Scenario(
    Setup("docker-ro-volumes", IMAGE, profile="docker", read_only=True, mounts=(
        rosim.Tmpfs("/scratch", size="64k"),
        rosim.Tmpfs("/var/cache", mode="700", options=("exec",)),
        rosim.Bind(rosim.Volume("data"), "/data"),
        rosim.Bind(rosim.Volume("cfg"), "/srv/cfg", read_only=True),
    )),
    (
        # sized tmpfs
        op("statvfs blocks of 64k tmpfs", 'os.statvfs("/scratch").f_blocks'),
        op("os.write 60k into 64k tmpfs",
           'fd = os.open("/scratch/a", os.O_WRONLY | os.O_CREAT, 0o644); '
           'n = os.write(fd, b"x" * 61440); os.close(fd); n'),
        op("os.write 8k more (only 4k left)",
           'fd = os.open("/scratch/b", os.O_WRONLY | os.O_CREAT, 0o644)\n'
           'try:\n    n = os.write(fd, b"y" * 8192)\nfinally:\n    os.close(fd)\nn'),
        op("size of the partly written file", 'os.path.getsize("/scratch/b")'),
        op("unlink it, free blocks", 'os.unlink("/scratch/b"); os.statvfs("/scratch").f_bfree'),
        op("os.write exactly what is left",
           'fd = os.open("/scratch/b", os.O_WRONLY | os.O_CREAT, 0o644)\n'
           'try:\n    n = os.write(fd, b"y" * 4096)\nfinally:\n    os.close(fd)\nn'),
        op("os.write once full", 'fd = os.open("/scratch/b", os.O_WRONLY | os.O_APPEND)\n'
           'try:\n    n = os.write(fd, b"z")\nfinally:\n    os.close(fd)\nn'),
        op("statvfs free blocks when full", 'os.statvfs("/scratch").f_bfree'),
        op("open(...).write when full", 'write("/scratch/c", "z" * 10000)'),
        op("mkdir in full tmpfs", 'os.mkdir("/scratch/d"); "made"'),
        op("free blocks after unlink", 'os.unlink("/scratch/a"); os.unlink("/scratch/b"); '
           'os.statvfs("/scratch").f_bfree'),
        op("write 100k into empty 64k tmpfs", 'write("/scratch/big", b"q" * 100000, "wb")'),
        op("size after ENOSPC on a buffered write", 'os.path.getsize("/scratch/big")'),
        op("unlink it, free blocks again",
           'os.unlink("/scratch/big"); os.statvfs("/scratch").f_bfree'),
        op("statvfs flags /scratch (docker --tmpfs defaults)", 'vfs_flags("/scratch")'),
        op("statvfs flags /var/cache (exec)", 'vfs_flags("/var/cache")'),
        op("mode of /var/cache (image dir 755, mode=700)", 'perms("/var/cache")'),
        op("mode of /scratch (new mount point)", 'perms("/scratch")'),
        op("access X_OK on exec tmpfs",
           'write("/var/cache/run.sh", "#!/bin/sh\\n"); os.chmod("/var/cache/run.sh", 0o755); '
           'os.access("/var/cache/run.sh", os.X_OK)'),
        op("rename between two tmpfs (EXDEV)",
           'os.rename("/var/cache/run.sh", "/scratch/run.sh")'),
        op("access X_OK on noexec tmpfs after copy",
           'shutil.copy("/var/cache/run.sh", "/scratch/run.sh"); '
           'os.access("/scratch/run.sh", os.X_OK)'),
        # volumes
        op("write rw volume", 'write("/data/x", "data\\n")'),
        op("mkdir rw volume", 'os.makedirs("/data/sub/dir")'),
        op("rename within volume", 'os.rename("/data/x", "/data/sub/x"); listdir("/data/sub")'),
        op("statvfs flags rw volume", 'vfs_flags("/data")'),
        op("write ro volume", 'write("/srv/cfg/x", "x")'),
        op("mkdir ro volume", 'os.mkdir("/srv/cfg/d")'),
        op("unlink missing on ro volume", 'os.unlink("/srv/cfg/missing")'),
        op("statvfs flags ro volume", 'vfs_flags("/srv/cfg")'),
        op("access W_OK ro volume", 'os.access("/srv/cfg", os.W_OK)'),
        op("access W_OK rw volume", 'os.access("/data", os.W_OK)'),
        op("rename rw volume -> ro volume", 'os.rename("/data/sub/x", "/srv/cfg/x")'),
        op("rename rw volume -> tmpfs", 'os.rename("/data/sub/x", "/scratch/x")'),
        op("rename rw volume -> root", 'os.rename("/data/sub/x", "/etc/x")'),
        op("link rw volume -> tmpfs", 'os.link("/data/sub/x", "/scratch/x")'),
        op("shutil.move volume -> tmpfs", 'shutil.move("/data/sub/x", "/scratch/x")'),
        op("rmdir the volume mount point", 'os.rmdir("/data")'),
        op("rmdir the ro volume mount point", 'os.rmdir("/srv/cfg")'),
        op("logging into volume",
           'h = logging.FileHandler("/data/app.log"); h.close(); os.path.exists("/data/app.log")'),
        op("tempfile in volume", 'fd, p = tempfile.mkstemp(dir="/data"); os.close(fd); '
           'os.path.dirname(p)'),
        op("tempfile in ro volume", 'tempfile.mkstemp(dir="/srv/cfg")'),
        op("write /etc/hosts (docker: rw)", 'write("/etc/hosts", "x\\n", "a")'),
        op("write root", 'write("/srv/new", "x")'),
        proc_mounts_op(),
    ),
)

# ======================================= a writable root: overlayfs at work
PODMAN_RW = Scenario(
    Setup("podman-rw-overlay", IMAGE, profile="podman", read_only=False),
    (
        op("statvfs flags / (rw)", 'vfs_flags("/")'),
        op("access W_OK image file", 'os.access("/etc/motd", os.W_OK)'),
        # copy-up of data and metadata
        op("append to image file (copy-up)", 'write("/etc/motd", "more\\n", "a")'),
        op("read copied-up file", 'read("/etc/motd")'),
        op("chmod image file (metadata copy-up)",
           'os.chmod("/etc/app.conf", 0o600); perms("/etc/app.conf")'),
        op("truncate image file", 'os.truncate("/app/main.py", 3); read("/app/main.py")'),
        op("setxattr image file", 'os.setxattr("/opt/tool/share/doc", "user.k", b"v"); '
           'os.getxattr("/opt/tool/share/doc", "user.k")'),
        op("utime image file", 'os.utime("/srv/readme", (0, 0)); os.stat("/srv/readme").st_mtime'),
        # whiteouts
        op("unlink image file (whiteout)", 'os.unlink("/etc/conf.d/a.conf")'),
        op("listdir after whiteout", 'listdir("/etc/conf.d")'),
        op("unlink whited-out file", 'os.unlink("/etc/conf.d/a.conf")'),
        op("re-create whited-out file", 'write("/etc/conf.d/a.conf", "new\\n")'),
        op("unlink it again", 'os.unlink("/etc/conf.d/a.conf")'),
        # opaque directories
        op("rmtree image dir", 'shutil.rmtree("/var/lib/app")'),
        op("mkdir where image dir was (opaque)", 'os.mkdir("/var/lib/app")'),
        op("opaque dir shows nothing below", 'listdir("/var/lib/app")'),
        op("write into opaque dir", 'write("/var/lib/app/state.db", "fresh\\n")'),
        op("chmod image dir (metadata copy-up)", 'os.chmod("/srv/www", 0o750); perms("/srv/www")'),
        op("perms of image executable", 'perms("/opt/tool/bin/tool")'),
        op("write through image symlink (copies up the target)",
           'write("/app/config", "level=debug\\n"); read("/etc/app.conf")'),
        # renames on overlayfs (redirect_dir off)
        op("rename image dir (EXDEV)", 'os.rename("/opt/tool", "/opt/tool2")'),
        op("rename image dir into other dir (EXDEV)",
           'os.rename("/srv/www", "/app/www")'),
        op("rename copied-up image dir (EXDEV)", 'os.rename("/etc/conf.d", "/etc/conf2")'),
        op("rmdir image dir emptied by whiteouts",
           'os.unlink("/etc/conf.d/b.conf"); os.rmdir("/etc/conf.d"); '
           'os.path.exists("/etc/conf.d")'),
        op("re-create it (opaque)", 'os.mkdir("/etc/conf.d"); listdir("/etc/conf.d")'),
        op("rename image file", 'os.rename("/etc/app.conf", "/etc/app.conf.old")'),
        op("read renamed image file", 'read("/etc/app.conf.old")'),
        op("rename new dir", 'os.makedirs("/srv/new/sub"); os.rename("/srv/new", "/srv/new2"); '
           'listdir("/srv/new2")'),
        op("shutil.move image dir (copy fallback)",
           'shutil.move("/opt/tool", "/opt/tool2"); listdir("/opt")'),
        op("os.replace over image file", 'write("/app/tmp.py", "x = 1\\n"); '
           'os.replace("/app/tmp.py", "/app/main.py"); read("/app/main.py")'),
        # creation
        op("new file", 'write("/app/new.txt", "new\\n")'),
        op("new nested dirs", 'os.makedirs("/var/log/app/archive"); "made"'),
        op("symlink", 'os.symlink("/etc/motd", "/app/motd.link"); os.readlink("/app/motd.link")'),
        op("hard link to image file", 'os.link("/srv/readme", "/srv/readme.hard"); '
           'os.stat("/srv/readme").st_nlink'),
        op("mknod regular", 'os.mknod("/app/node", 0o600 | stat.S_IFREG)'),
        # mount points on a writable root
        op("unlink /etc/hostname (mount point)", 'os.unlink("/etc/hostname")'),
        op("rename onto /etc/hosts (mount point)", 'os.rename("/etc/motd", "/etc/hosts")'),
        op("rename /etc/hosts (mount point)", 'os.rename("/etc/hosts", "/etc/hosts2")'),
        op("rmdir /dev/shm (mount point)", 'os.rmdir("/dev/shm")'),
        op("rename /dev -> root (EXDEV first)", 'os.rename("/dev/shm", "/shm")'),
        op("write /etc/hosts (rw bind file)", 'write("/etc/hosts", "x\\n", "a")'),
        op("logging.FileHandler on root",
           'h = logging.FileHandler("/var/log/app/app.log"); h.close(); '
           'os.path.getsize("/var/log/app/app.log")'),
        proc_mounts_op(),
    ),
)

# ============================ writable root: the kernel's ordinary errors
PODMAN_RW_ERRORS = Scenario(
    Setup("podman-rw-errors", IMAGE, profile="podman", read_only=False),
    (
        op("mode of a file made by open()", 'write("/srv/f", "x"); perms("/srv/f")'),
        op("mode of a dir made by mkdir()", 'os.mkdir("/srv/d"); perms("/srv/d")'),
        op("mode of os.open(..., 0o600)", 'fd_open("/srv/p", os.O_WRONLY | os.O_CREAT, 0o600); '
           'perms("/srv/p")'),
        op("unlink a directory", 'os.unlink("/srv/www")'),
        op("rmdir a file", 'os.rmdir("/srv/readme")'),
        op("rmdir non-empty image dir", 'os.rmdir("/srv/www")'),
        op("rmdir missing", 'os.rmdir("/srv/missing")'),
        op("mkdir over a symlink", 'os.mkdir("/app/config")'),
        op("mkdir below a file", 'os.mkdir("/srv/readme/sub")'),
        op("open below a file", 'read("/srv/readme/sub")'),
        op("chmod through dangling symlink", 'os.chmod("/app/dangling", 0o600)'),
        op("open O_EXCL on dangling symlink", 'write("/app/dangling", "x", "x")'),
        op("open w through dangling symlink", 'write("/app/dangling", "x", "w")'),
        op("os.open O_DIRECTORY on a file", 'fd_open("/srv/readme", os.O_RDONLY | os.O_DIRECTORY)'),
        op("open w on a directory", 'write("/srv/www", "x")'),
        op("rename directory onto file", 'os.rename("/srv/d", "/srv/f")'),
        op("rename directory onto non-empty directory",
           'os.makedirs("/srv/e/x"); os.rename("/srv/d", "/srv/e")'),
        op("rename directory onto empty directory",
           'os.mkdir("/srv/g"); os.rename("/srv/d", "/srv/g"); listdir("/srv")'),
        op("rename directory into itself", 'os.rename("/srv/e", "/srv/e/x/y")'),
        op("rename missing", 'os.rename("/srv/missing", "/srv/other")'),
        op("link a directory", 'os.link("/srv/e", "/srv/e2")'),
        op("symlink over existing", 'os.symlink("/x", "/srv/f")'),
        op("truncate a directory", 'os.truncate("/srv/e", 0)'),
        op("removexattr missing attribute", 'os.removexattr("/srv/f", "user.none")'),
        op("makedirs through a file", 'os.makedirs("/srv/readme/a/b")'),
        op("Path.mkdir parents", 'pathlib.Path("/srv/h/i/j").mkdir(parents=True); '
           'os.path.isdir("/srv/h/i/j")'),
        op("shutil.rmtree a file", 'shutil.rmtree("/srv/f")'),
        op("shutil.copytree onto existing", 'shutil.copytree("/etc/conf.d", "/srv/h")'),
        op("shutil.copytree dirs_exist_ok",
           'shutil.copytree("/etc/conf.d", "/srv/h", dirs_exist_ok=True); listdir("/srv/h")'),
        op("tempfile.mkdtemp and rmtree",
           'd = tempfile.mkdtemp(dir="/srv"); shutil.rmtree(d); os.path.exists(d)'),
        op("listdir a file", 'listdir("/srv/readme")'),
        op("stat size of image file", 'os.stat("/etc/conf.d/a.conf").st_size'),
    ),
)

# ============================== Docker, writable root with a --tmpfs /tmp
DOCKER_RW_TMP = Scenario(
    Setup("docker-rw-tmpfs", IMAGE, profile="docker", read_only=False, mounts=(
        rosim.Tmpfs("/tmp", size="1m"),
        rosim.Bind(rosim.Volume("data"), "/data"),
    )),
    (
        op("tmpfs hides the image's /tmp", 'listdir("/tmp")'),
        op("write /tmp", 'write("/tmp/x", "x")'),
        op("rename /tmp -> root (EXDEV)", 'os.rename("/tmp/x", "/srv/x")'),
        op("rename root -> /tmp (EXDEV)", 'os.rename("/srv/readme", "/tmp/readme")'),
        op("rename dir /tmp -> root (EXDEV)", 'os.mkdir("/tmp/d"); os.rename("/tmp/d", "/srv/d")'),
        op("shutil.disk_usage of /dev/shm", 'list(shutil.disk_usage("/dev/shm"))'),
        op("shutil.move /tmp -> root", 'shutil.move("/tmp/x", "/srv/x"); read("/srv/x")'),
        op("shutil.move root -> volume", 'shutil.move("/srv/readme", "/data/readme"); '
           'listdir("/data")'),
        op("rmdir /tmp (mount point)", 'os.rmdir("/tmp")'),
        op("rename /tmp (mount point)", 'os.rename("/tmp", "/tmp2")'),
        op("rmdir /data (mount point)", 'os.rmdir("/data")'),
        op("rename root file onto /data (mount point)", 'os.rename("/srv/x", "/data")'),
        op("statvfs blocks /tmp (size=1m)", 'os.statvfs("/tmp").f_blocks'),
        op("statvfs flags /tmp", 'vfs_flags("/tmp")'),
        op("mode of /tmp (image dir 755, docker --tmpfs)", 'perms("/tmp")'),
        op("write /etc/hostname", 'write("/etc/hostname", "x\\n")'),
        op("write root", 'write("/etc/motd", "changed\\n")'),
        proc_mounts_op(),
    ),
)

# ================ writable root: image directories copied up, then emptied
PODMAN_RW_TRANSIENT = Scenario(
    Setup("podman-rw-transient", IMAGE, profile="podman", read_only=False),
    (
        op("create and remove a file in an image dir",
           'write("/app/data/tmp", "t"); os.unlink("/app/data/tmp"); listdir("/app/data")'),
        op("mkdir then rmdir under an image dir",
           'os.mkdir("/srv/www/t"); os.rmdir("/srv/www/t"); listdir("/srv/www")'),
        op("tempfile.mkstemp default (no /tmp tmpfs)",
           'fd, p = tempfile.mkstemp(); os.close(fd); os.unlink(p); os.path.dirname(p)'),
        op("failed rename of an image dir", 'os.rename("/opt/tool", "/opt/tool2")'),
    ),
)

# ================ small set-ups that isolate a mismatch in the diff
DANGLING = (
    "open(O_CREAT) through a dangling symlink creates the symlink's target, so on a "
    "read-only root it fails with EROFS; rosim creates the target (/app/nowhere) on "
    "the read-only root"
)
CRIO_RO_DANGLING = Scenario(
    Setup("crio-ro-dangling-symlink", IMAGE, profile="cri-o", read_only=True),
    (
        op("open w through dangling symlink on ro root", 'write("/app/dangling", "x")'),
        op("what the dangling symlink points to now", 'os.path.exists("/app/nowhere")'),
    ),
)

PODMAN_RW_OPAQUE_RENAME = Scenario(
    Setup("podman-rw-opaque-rename", IMAGE, profile="podman", read_only=False),
    (
        op("rmtree image dir", 'shutil.rmtree("/var/lib/app")'),
        op("re-create it (opaque)", 'os.mkdir("/var/lib/app"); write("/var/lib/app/n", "n")'),
        op("rename the opaque dir (upper only: allowed)",
           'os.rename("/var/lib/app", "/var/lib/app2"); listdir("/var/lib/app2")'),
    ),
)

FAILED_RENAME = (
    "a rename that the VFS refuses (file onto a directory: EISDIR) never reaches "
    "overlayfs, so nothing is copied up; rosim copies /srv/readme up before the rename "
    "fails and diff() lists C /srv, C /srv/readme"
)
PODMAN_RW_FAILED_RENAME = Scenario(
    Setup("podman-rw-failed-rename", IMAGE, profile="podman", read_only=False),
    (
        op("rename image file onto empty dir", 'os.mkdir("/app/empty"); '
           'os.rename("/srv/readme", "/app/empty")'),
        op("rename image file onto non-empty dir", 'os.rename("/srv/readme", "/srv/www")'),
    ),
)

# ================ the kernel's edges: name limits, O_TMPFILE, O_TRUNC, pages, inodes
LONG_NAME = "n" * 256
LONG_PATH = "/" + "p/" * 2100  # over PATH_MAX (4096)
FILL = (
    'n = 0\n'
    'try:\n'
    '    while n < 100:\n'
    '        write(f"{DIR}/f{n}", "x" * 100); n += 1\n'
    '    r = [n, "no error"]\n'
    'except OSError as e:\n'
    '    r = [n, errno.errorcode[e.errno]]\n'
    'r'
)
DOCKER_RO_EDGES = Scenario(
    Setup("docker-ro-kernel-edges", IMAGE, profile="docker", read_only=True, mounts=(
        rosim.Tmpfs("/tmp", size="1m", options=("exec",)),
        rosim.Tmpfs("/scratch", size="64k"),
        rosim.Tmpfs("/few", options=("nr_inodes=4",)),
        rosim.Bind(rosim.Volume("data"), "/data"),
    )),
    (
        # NAME_MAX and PATH_MAX come before EROFS and ENOENT
        op("open w a 256-byte name on the ro root", f'write("/etc/{LONG_NAME}")'),
        op("stat a 256-byte name", f'os.stat("/etc/{LONG_NAME}")'),
        op("mkdir a 256-byte name on the ro root", f'os.mkdir("/srv/{LONG_NAME}")'),
        op("mkdir a 256-byte name on tmpfs", f'os.mkdir("/tmp/{LONG_NAME}")'),
        op("open w a 255-byte name on the ro root", f'write("/etc/{LONG_NAME[:255]}")'),
        op("stat a 256-byte name below a missing dir", f'os.stat("/nowhere/{LONG_NAME}")'),
        op("stat a path over PATH_MAX", f'os.stat("{LONG_PATH}")'),
        op("open w a path over PATH_MAX on tmpfs", f'write("/tmp{LONG_PATH}f")'),
        op("mkdir a path over PATH_MAX", f'os.mkdir("/srv{LONG_PATH}d")'),
        # O_TMPFILE
        op("O_TMPFILE on the ro root", 'fd_open("/etc", os.O_TMPFILE | os.O_WRONLY, 0o600)'),
        op("O_TMPFILE on tmpfs: unnamed, nlink 0, the given mode",
           'fd = os.open("/tmp", os.O_TMPFILE | os.O_RDWR, 0o600); os.write(fd, b"abc")\n'
           'st = os.fstat(fd); os.close(fd)\n'
           '[st.st_nlink, oct(st.st_mode & 0o7777), st.st_size, listdir("/tmp")]'),
        op("tempfile.TemporaryFile in /tmp",
           'f = tempfile.TemporaryFile(dir="/tmp"); f.write(b"xyz"); f.seek(0)\n'
           'r = f.read(); f.close(); [r.decode(), listdir("/tmp")]'),
        op("tempfile.TemporaryFile on the ro root", 'tempfile.TemporaryFile(dir="/etc")'),
        # O_RDONLY | O_TRUNC truncates
        op("O_RDONLY|O_TRUNC truncates on tmpfs",
           'write("/tmp/t", "hello"); fd_open("/tmp/t", os.O_RDONLY | os.O_TRUNC)\n'
           'os.path.getsize("/tmp/t")'),
        op("O_RDONLY|O_TRUNC on the ro root", 'fd_open("/etc/motd", os.O_RDONLY | os.O_TRUNC)'),
        # tmpfs counts whole pages
        op("100 bytes take a page: statvfs and disk_usage",
           'write("/scratch/s", "x" * 100); st = os.statvfs("/scratch")\n'
           '[st.f_blocks, st.f_bfree, list(shutil.disk_usage("/scratch"))]'),
        op("100-byte files until the 64k tmpfs is full", FILL.replace("{DIR}", "/scratch")),
        op("free again after removing them",
           'for name in os.listdir("/scratch"):\n    os.unlink("/scratch/" + name)\n'
           'os.statvfs("/scratch").f_bfree'),
        op("truncate up to 1m is sparse",
           'f = open("/scratch/sparse", "w"); f.truncate(1 << 20); f.close()\n'
           '[os.path.getsize("/scratch/sparse"), os.statvfs("/scratch").f_bfree]'),
        op("a write into the sparse file's hole takes its page",
           'f = open("/scratch/sparse", "r+"); f.seek(8192); f.write("x"); f.close()\n'
           'os.statvfs("/scratch").f_bfree'),
        # nr_inodes
        op("statvfs files of nr_inodes=4", 'st = os.statvfs("/few"); [st.f_files, st.f_ffree]'),
        op("files until nr_inodes=4 is used up", FILL.replace("{DIR}", "/few")),
        op("mkdir once the inodes are used up", 'os.mkdir("/few/d")'),
        # mount points, FIFOs, unclosed files
        op("os.path.ismount",
           '[os.path.ismount(p) for p in ("/", "/tmp", "/scratch", "/etc", "/etc/hostname",\n'
           '                               "/proc", "/dev", "/dev/shm", "/data", "/srv")]'),
        op("mkfifo on tmpfs", 'os.mkfifo("/tmp/fifo", 0o640)\n'
           '[stat.S_ISFIFO(os.stat("/tmp/fifo").st_mode), perms("/tmp/fifo")]'),
        op("mkfifo on the ro root", 'os.mkfifo("/srv/fifo")'),
        op("mkfifo over an existing file", 'os.mkfifo("/tmp/t")'),
        op("an unclosed file is flushed when collected",
           'open("/tmp/gc", "w").write("data")\nimport gc\ngc.collect()\nread("/tmp/gc")'),
    ),
)

PODMAN_RW_OPAQUE_REPLACE = Scenario(
    Setup("podman-rw-opaque-replace", IMAGE, profile="podman", read_only=False),
    (
        op("unlink an image file and mkdir there", 'os.unlink("/srv/readme"); '
           'os.mkdir("/srv/readme"); listdir("/srv")'),
        op("unlink an image dir's file, rmdir, mkdir", 'shutil.rmtree("/opt/tool/share"); '
           'os.mkdir("/opt/tool/share"); listdir("/opt/tool/share")'),
        op("os.replace a new dir over an empty image dir",
           'os.mkdir("/srv/nd"); write("/srv/nd/x"); os.replace("/srv/nd", "/var/cache")\n'
           'listdir("/var/cache")'),
    ),
)

SCENARIOS = [CRIO_RO, CRIO_CTR_RO, PODMAN_RO, PODMAN_RO_NOTMPFS, DOCKER_RO, PODMAN_RW,
             PODMAN_RW_TRANSIENT, PODMAN_RW_ERRORS, DOCKER_RW_TMP, CRIO_RO_DANGLING,
             PODMAN_RW_OPAQUE_RENAME, PODMAN_RW_FAILED_RENAME, DOCKER_RO_EDGES,
             PODMAN_RW_OPAQUE_REPLACE]
BY_NAME = {s.name: s for s in SCENARIOS}

"""Where common images write at run time, each entry with its source.

``rosim check`` needs to know where a container writes before it can say
what ``readOnlyRootFilesystem: true`` breaks. When there is no ``docker
diff`` of a real run, this catalogue answers for common images, matched by
image name (``docker.io/library/nginx:1.25`` → ``nginx``). Each entry lists
the paths the image's program writes (with their kind: temporary files,
caches, pid files and sockets, logs, data, configuration generated at
start), the files the image ships where a mount would hide them, the
non-root user the image can run as, and where the facts come from: the
image's own documentation or code (``domain.md`` §8).

>>> entry = lookup("docker.io/library/nginx:1.25-alpine")
>>> entry.name, [w.path for w in entry.writes]
('nginx', ['/var/cache/nginx', '/var/run'])
>>> lookup("example.com/team/unknown:1") is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

from rosim._bounds import RosimEnum

__all__ = ["CATALOGUE", "CatalogueEntry", "KnownWrite", "PathKind", "catalogue", "image_key",
           "lookup"]


class PathKind(RosimEnum):
    """What a written path holds; it decides the fix (``rosim.check.fix``)."""

    TEMP = "temp"
    CACHE = "cache"
    RUN = "run"
    LOG = "log"
    DATA = "data"
    CONFIG = "config"


@dataclass(frozen=True)
class KnownWrite:
    """A path an image's program writes (a directory, or a file when ``file``)."""

    path: str
    kind: PathKind
    note: str = ""
    file: bool = False


@dataclass(frozen=True)
class CatalogueEntry:
    """One image of the catalogue: names it matches, writes, shipped files, source."""

    name: str
    matches: tuple[str, ...]
    writes: tuple[KnownWrite, ...]
    source: str
    image_files: tuple[str, ...] = ()
    user: int | None = None
    note: str = ""


def _w(path: str, kind: PathKind, note: str = "", file: bool = False) -> KnownWrite:
    return KnownWrite(path, kind, note, file)


T, C, R, L, D, G = (PathKind.TEMP, PathKind.CACHE, PathKind.RUN, PathKind.LOG,
                    PathKind.DATA, PathKind.CONFIG)

#: The catalogue, in the order ``docs/check.md`` lists it.
CATALOGUE: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        "nginx", ("nginx", "library/nginx"),
        (_w("/var/cache/nginx", C, "client_temp, proxy_temp, fastcgi_temp, uwsgi_temp, "
            "scgi_temp: nginx exits if it cannot create them"),
         _w("/var/run", R, "nginx.pid")),
        "https://hub.docker.com/_/nginx (\"Running nginx in read-only mode\": mount "
        "/var/cache/nginx and /var/run); the entrypoint's 10-listen-on-ipv6-by-default.sh "
        "only warns when /etc/nginx/conf.d is read-only",
        image_files=("/etc/nginx/nginx.conf", "/etc/nginx/conf.d/default.conf",
                     "/usr/share/nginx/html/index.html"),
        note="/var/log/nginx/*.log are symbolic links to /dev/stdout and /dev/stderr"),
    CatalogueEntry(
        "nginx-unprivileged", ("nginxinc/nginx-unprivileged", "nginx-unprivileged"),
        (_w("/tmp", T, "nginx.pid and the *_temp directories"),),
        "https://github.com/nginxinc/docker-nginx-unprivileged (README: pid and temporary "
        "paths moved to /tmp)",
        image_files=("/etc/nginx/nginx.conf", "/etc/nginx/conf.d/default.conf"), user=101),
    CatalogueEntry(
        "bitnami-nginx", ("bitnami/nginx",),
        (_w("/opt/bitnami/nginx/tmp", T), _w("/opt/bitnami/nginx/logs", L),
         _w("/opt/bitnami/nginx/conf/server_blocks", G, "generated at start"),
         _w("/tmp", T, "bash here-documents need a writable TMPDIR")),
        "https://github.com/bitnami/charts/issues/24041 and the bitnami/nginx README "
        "(readOnlyRootFilesystem section)",
        image_files=("/opt/bitnami/nginx/conf/nginx.conf",), user=1001),
    CatalogueEntry(
        "httpd", ("httpd", "library/httpd"),
        (_w("/usr/local/apache2/logs", R, "httpd.pid (logs go to stdout/stderr)"),),
        "https://hub.docker.com/_/httpd and the image's httpd.conf (PidFile logs/httpd.pid)",
        image_files=("/usr/local/apache2/conf/httpd.conf",)),
    CatalogueEntry(
        "redis", ("redis", "library/redis", "crio/redis", "bitnami/redis"),
        (_w("/data", D, "dump.rdb and appendonly files: its working directory"),),
        "https://hub.docker.com/_/redis (\"start with persistent storage\": /data)",
        user=999),
    CatalogueEntry(
        "postgres", ("postgres", "library/postgres"),
        (_w("/var/lib/postgresql/data", D, "PGDATA"),
         _w("/var/run/postgresql", R, "the socket and its lock file")),
        "https://hub.docker.com/_/postgres (PGDATA; \"Arbitrary --user Notes\")", user=999),
    CatalogueEntry(
        "mysql", ("mysql", "library/mysql", "mariadb", "library/mariadb"),
        (_w("/var/lib/mysql", D), _w("/var/run/mysqld", R, "socket and pid file"),
         _w("/tmp", T)),
        "https://hub.docker.com/_/mysql and https://hub.docker.com/_/mariadb (\"Where to "
        "Store Data\": /var/lib/mysql)", user=999),
    CatalogueEntry(
        "tomcat", ("tomcat", "library/tomcat"),
        (_w("/usr/local/tomcat/logs", L), _w("/usr/local/tomcat/temp", T),
         _w("/usr/local/tomcat/work", C, "compiled JSPs")),
        "https://tomcat.apache.org/tomcat-10.1-doc/RUNNING.txt (CATALINA_BASE: logs, temp, "
        "work)",
        image_files=("/usr/local/tomcat/temp/safeToDelete.tmp",)),
    CatalogueEntry(
        "node", ("node", "library/node"),
        (_w("/tmp", T, "os.tmpdir()"), _w("/root/.npm", C, "npm's cache and _logs")),
        "https://nodejs.org/api/os.html#ostmpdir and https://docs.npmjs.com/cli/using-npm/"
        "config#cache", user=1000),
    CatalogueEntry(
        "python", ("python", "library/python", "pyapp"),
        (_w("/tmp", T, "tempfile tries $TMPDIR, /tmp, /var/tmp, /usr/tmp, then the cwd"),),
        "https://docs.python.org/3/library/tempfile.html#tempfile.gettempdir (__pycache__ "
        "writes fail silently)"),
    CatalogueEntry(
        "grafana", ("grafana/grafana", "grafana", "grafana/grafana-oss"),
        (_w("/var/lib/grafana", D, "grafana.db (SQLite), plugins"), _w("/var/log/grafana", L),
         _w("/tmp", T)),
        "https://grafana.com/docs/grafana/latest/setup-grafana/installation/docker/ "
        "(persistent storage at /var/lib/grafana; GF_PATHS_DATA, GF_PATHS_LOGS)", user=472),
    CatalogueEntry(
        "prometheus", ("prom/prometheus", "prometheus"),
        (_w("/prometheus", D, "the TSDB (--storage.tsdb.path=/prometheus)"),),
        "https://prometheus.io/docs/prometheus/latest/installation/ (\"save your Prometheus "
        "data\" at /prometheus)", user=65534),
    CatalogueEntry(
        "cassandra", ("cassandra", "library/cassandra"),
        (_w("/var/lib/cassandra", D, "data, commitlog, saved_caches, hints"),
         _w("/var/log/cassandra", L), _w("/tmp", T, "the JVM's hsperfdata_USER")),
        "https://hub.docker.com/_/cassandra (\"Where to Store Data\": /var/lib/cassandra)",
        user=999),
    CatalogueEntry(
        "cassandra-k8s-example", ("google-samples/cassandra",),
        (_w("/cassandra_data", D, "data, commitlog, saved_caches"),
         _w("/tmp", T, "the JVM's hsperfdata_USER")),
        "https://kubernetes.io/docs/tutorials/stateful-application/cassandra/ (the "
        "StatefulSet mounts its claim cassandra-data at /cassandra_data)"),
    CatalogueEntry(
        "logapp", ("logapp",),
        (_w("/var/log/myapp.log", L, "LOG_FILE (\"-\" logs to stdout)", file=True),
         _w("/data", D, "DATA_DIR: one record per request")),
        "rosim's built-in logapp image (rosim/images/catalog.py, /app/app.py)"),
    CatalogueEntry(
        "fedora", ("fedora",),
        (_w("/var/log/dnf.log", L, file=True), _w("/var/cache/dnf", C), _w("/var/lib/dnf", D),
         _w("/var/run", R, "dnf.pid")),
        "dnf's configuration reference, https://dnf.readthedocs.io/en/latest/conf_ref.html "
        "(logdir, cachedir, persistdir); CRI-O's --read-only demo fails on /var/log/dnf.log"),
)


def image_key(ref: str) -> tuple[str, str]:
    """``(repository path, last component)`` of an image reference, without tag or digest.

    >>> image_key("docker.io/library/nginx:1.25@sha256:abc")
    ('library/nginx', 'nginx')
    >>> image_key("localhost:5000/team/app")
    ('team/app', 'app')
    """
    name = ref.split("@", 1)[0]
    parts = name.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    last = parts[-1].split(":", 1)[0]
    parts[-1] = last
    return "/".join(parts), last


def lookup(ref: str) -> CatalogueEntry | None:
    """The catalogue entry for an image reference, or None if the image is not known."""
    path, last = image_key(ref)
    for entry in CATALOGUE:
        if path in entry.matches:
            return entry
    for entry in CATALOGUE:
        if last in entry.matches:
            return entry
    return None


def catalogue() -> tuple[CatalogueEntry, ...]:
    """Every catalogue entry (``rosim.check_catalogue()``)."""
    return CATALOGUE

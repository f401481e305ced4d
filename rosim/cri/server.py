"""A simulated CRI-O server with crictl's verbs, and a terminal to replay demos.

>>> from rosim.cri.server import CrioServer
>>> crio = CrioServer(read_only=True)
>>> pod = crio.runp("sandbox_config.json")
>>> ctr = crio.create(pod, "container_fedora.json", "sandbox_config.json")
>>> crio.start(ctr)
>>> print(crio.exec(ctr, "dnf install nc").stderr, end="")
Config error: Read-only file system: '/var/log/dnf.log'
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rosim._errors import ConfigError, LifecycleError, RosimError
from rosim.cri.config import ContainerConfig, CriConfigError, CrioConfig, PodSandboxConfig
from rosim.fs.layers import Image
from rosim.fs.mounts import Bind
from rosim.images.catalog import resolve_image
from rosim.runtime.container import Container, ShellSession
from rosim.runtime.profiles import pod_shm_key
from rosim.runtime.runtime import Runtime
from rosim.shell.result import ExecResult

__all__ = ["CrioServer", "HostTerminal", "replay_demo"]

ConfigSource = Mapping[str, Any] | str | os.PathLike


@dataclass
class _Pod:
    id: str
    config: PodSandboxConfig
    state: str = "Ready"
    containers: list[str] = field(default_factory=list)


@dataclass
class _Ctr:
    id: str
    pod_id: str
    config: ContainerConfig
    container: Container
    image_ref: str


class CrioServer:
    """CRI-O as configured by ``crio [--read-only]`` or a crio.conf file.

    ``read_only`` is the ``--read-only`` flag; ``config`` a crio.conf path
    whose ``[crio.runtime] read_only`` is used when the flag is not given;
    ``env`` may hold ``CONTAINER_READ_ONLY`` as CRI-O's environment does.
    ``base`` is where relative config file names are looked for first (then
    the current directory, then rosim's sample files).
    """

    def __init__(self, read_only: bool | None = None, *, config: str | os.PathLike | None = None,
                 env: Mapping[str, str] | None = None, base: str | os.PathLike | None = None,
                 images: Mapping[str, Image] | None = None) -> None:
        for name, value in (("config", config), ("base", base)):
            if value is not None and (not isinstance(value, str | os.PathLike)
                                      or not str(value) or "\x00" in str(value)):
                raise ConfigError(f"{name}(={value!r:.60}) must be a path or None.")
        for name, value in (("env", env), ("images", images)):
            if value is not None and not isinstance(value, Mapping):
                raise ConfigError(f"{name}(={value!r:.60}) must be a dict or None.")
        self.base = Path(base) if base is not None else None
        settings = CrioConfig()
        if config is not None:
            settings = CrioConfig.from_toml(config, base=self.base)
        flag = settings.read_only
        env_value = (env or {}).get("CONTAINER_READ_ONLY")
        if env_value is not None:
            if not isinstance(env_value, str) or env_value.lower() not in (
                    "true", "false", "1", "0"):
                raise CriConfigError(f"CONTAINER_READ_ONLY(={env_value!r}) must be true or false.")
            flag = env_value.lower() in ("true", "1")
        if read_only is not None:
            if not isinstance(read_only, bool):
                raise ConfigError(f"read_only(={read_only!r}) must be a bool.")
            flag = read_only
        self.read_only = flag
        self.runtime = Runtime("cri-o", read_only=flag)
        self.images: dict[str, Image] = dict(images or {})
        self._pods: dict[str, _Pod] = {}
        self._ctrs: dict[str, _Ctr] = {}
        self._serial = itertools.count(1)

    def __repr__(self) -> str:
        return f"CrioServer(read_only={self.read_only}, pods={len(self._pods)})"

    # ------------------------------------------------------------ helpers
    def _new_id(self, kind: str, name: str) -> str:
        return hashlib.sha256(f"{kind}/{name}/{next(self._serial)}".encode()).hexdigest()

    def image(self, ref: str) -> Image:
        """Resolve an image reference such as ``registry.fedoraproject.org/fedora:28``."""
        return resolve_image(ref, self.images, field="image.image")

    def _find(self, table: Mapping[str, Any], ident: str, what: str) -> Any:
        matches = [v for k, v in table.items() if k.startswith(ident)] if ident else []
        if len(matches) != 1:
            state = "no" if not matches else "more than one"
            raise LifecycleError(f"{what} id(={ident!r}): {state} {what} matches it.")
        return matches[0]

    # ------------------------------------------------------------ crictl verbs
    def runp(self, sandbox_config: ConfigSource) -> str:
        """``crictl runp``: create and start a pod sandbox; return its id."""
        config = PodSandboxConfig.from_source(sandbox_config, base=self.base)
        for pod in self._pods.values():
            if (pod.config.name, pod.config.namespace) == (config.name, config.namespace):
                raise LifecycleError(f"{config.source}: pod sandbox with name "
                                     f"{config.name!r} already exists.")
        pod_id = self._new_id("pod", config.name)
        self._pods[pod_id] = _Pod(pod_id, config)
        return pod_id

    def create(self, pod_id: str, container_config: ConfigSource,
               sandbox_config: ConfigSource) -> str:
        """``crictl create POD CONTAINER_CONFIG SANDBOX_CONFIG``; return the id."""
        pod: _Pod = self._find(self._pods, pod_id, "pod")
        if pod.state != "Ready":
            raise LifecycleError(f"pod id(={pod.id[:13]!r}): CreateContainer failed as the "
                                 "sandbox was stopped.")
        config = ContainerConfig.from_source(container_config, base=self.base)
        PodSandboxConfig.from_source(sandbox_config, base=self.base)
        try:
            image = self.image(config.image)
        except ConfigError as exc:
            raise CriConfigError(f"{config.source}: {exc}") from None
        name = (f"k8s_{config.name}_{pod.config.name}_{pod.config.namespace}_"
                f"{pod.config.uid or 'uid'}_{pod.config.attempt}")
        mounts = [Bind(m.host_path, m.container_path, read_only=m.readonly)
                  for m in config.mounts]
        try:
            container = self._create(image, name, mounts, config, pod)
        except CriConfigError:
            raise
        except ConfigError as exc:
            raise CriConfigError(f"{config.source}: {exc}") from None
        ctr_id = self._new_id("ctr", name)
        self._ctrs[ctr_id] = _Ctr(ctr_id, pod.id, config, container, config.image)
        pod.containers.append(ctr_id)
        return ctr_id

    def _create(self, image: Image, name: str, mounts: list[Bind], config: ContainerConfig,
                pod: _Pod) -> Container:
        return self.runtime.create(image, name=name, mounts=mounts,
                                   read_only=config.readonly_rootfs,
                                   privileged=config.privileged,
                                   command=list(config.command) or None,
                                   args=list(config.args) if config.args else None,
                                   env=dict(config.envs),
                                   workdir=config.working_dir,
                                   hostname=pod.config.hostname, pod_shm=pod.id)

    def start(self, ctr_id: str) -> None:
        """``crictl start``: only a container in the created state starts.

        CRI-O refuses any other (``container ID is not in created state:
        stopped``): a container that ran is never started again; the kubelet
        creates a new one instead.
        """
        entry: _Ctr = self._find(self._ctrs, ctr_id, "container")
        if self._pods[entry.pod_id].state != "Ready":
            raise LifecycleError(f"container id(={entry.id[:13]!r}): its sandbox is stopped.")
        state = str(entry.container.state)
        if state != "created":
            raise LifecycleError(f"container {entry.id} is not in created state: {state}")
        entry.container.start()

    def container(self, ctr_id: str) -> Container:
        """The :class:`~rosim.Container` behind a CRI container id (or prefix)."""
        entry: _Ctr = self._find(self._ctrs, ctr_id, "container")
        return entry.container

    def exec(self, ctr_id: str, cmd: str | list[str], stdin: str = "") -> ExecResult:
        """``crictl exec CTR CMD``: a string runs through ``sh -c``, a list directly."""
        entry: _Ctr = self._find(self._ctrs, ctr_id, "container")
        if isinstance(cmd, str):
            return entry.container.shell().sh(cmd, stdin)
        return entry.container.exec(list(cmd), stdin)

    def session(self, ctr_id: str) -> ShellSession:
        """``crictl exec -i -t CTR sh``: an interactive shell session."""
        entry: _Ctr = self._find(self._ctrs, ctr_id, "container")
        return entry.container.shell()

    def stop(self, ctr_id: str) -> None:
        """``crictl stop``."""
        entry: _Ctr = self._find(self._ctrs, ctr_id, "container")
        entry.container.stop()

    def rm(self, ctr_id: str) -> None:
        """``crictl rm`` (the container must not be running)."""
        entry: _Ctr = self._find(self._ctrs, ctr_id, "container")
        entry.container.remove()
        del self._ctrs[entry.id]
        self._pods[entry.pod_id].containers.remove(entry.id)

    def stopp(self, pod_id: str) -> None:
        """``crictl stopp``: stop every container of the pod."""
        pod: _Pod = self._find(self._pods, pod_id, "pod")
        for ctr_id in pod.containers:
            ctr = self._ctrs[ctr_id].container
            if ctr.state == "running":
                ctr.stop()
        pod.state = "NotReady"

    def rmp(self, pod_id: str) -> None:
        """``crictl rmp``: remove a stopped pod and its containers."""
        pod: _Pod = self._find(self._pods, pod_id, "pod")
        if pod.state == "Ready":
            raise LifecycleError(f"pod id(={pod.id[:13]!r}) is running; stop it with stopp first.")
        for ctr_id in list(pod.containers):
            self.rm(ctr_id)
        self.runtime.drop_storage("memory", pod_shm_key(pod.id))  # the pod's /dev/shm
        del self._pods[pod.id]

    def ps(self, all: bool = False) -> list[dict[str, str]]:  # noqa: A002 - crictl's flag
        """``crictl ps [-a]``: rows with container, image, state, name, pod id."""
        rows = []
        for entry in self._ctrs.values():
            state = {"created": "Created", "running": "Running", "stopped": "Exited"}[
                str(entry.container.state)]
            if all or state == "Running":
                rows.append({"CONTAINER": entry.id[:13], "IMAGE": entry.image_ref,
                             "CREATED": "Less than a second ago", "STATE": state,
                             "NAME": entry.config.name, "ATTEMPT": "0",
                             "POD ID": entry.pod_id[:13]})
        return rows

    def pods(self) -> list[dict[str, str]]:
        """``crictl pods``: rows with pod id, state, name, namespace, attempt."""
        return [{"POD ID": p.id[:13], "CREATED": "Less than a second ago", "STATE": p.state,
                 "NAME": p.config.name, "NAMESPACE": p.config.namespace,
                 "ATTEMPT": str(p.config.attempt)} for p in self._pods.values()]


def _table(rows: list[dict[str, str]], columns: list[str]) -> str:
    widths = {c: max([len(c), *(len(r[c]) for r in rows)]) + 3 for c in columns}
    lines = ["".join(f"{c:<{widths[c]}}" for c in columns).rstrip()]
    lines += ["".join(f"{r[c]:<{widths[c]}}" for c in columns).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


class HostTerminal:
    """A host terminal for replaying the CRI-O demo's command lines.

    Understands ``crio [--read-only] [--config FILE]``, ``crictl`` verbs,
    ``NAME=$(command)`` and ``$NAME``. ``crictl exec -i -t CTR sh`` enters the
    container's shell; lines then go to it until ``exit``. :attr:`transcript`
    holds everything as a terminal would show it.
    """

    def __init__(self, base: str | os.PathLike | None = None) -> None:
        self.base = base
        self.server: CrioServer | None = None
        self.vars: dict[str, str] = {}
        self.session: ShellSession | None = None
        self.lines: list[tuple[str, str, str]] = []

    def run(self, line: str, stdin: str = "") -> str:
        """Run one line; return its output and add it to the transcript."""
        if not isinstance(line, str) or not isinstance(stdin, str):
            raise ConfigError(f"line(={line!r:.60}) and stdin(={stdin!r:.60}) must be str.")
        if self.session is not None:
            if line.strip() == "exit":
                prompt = self.session.container.prompt
                self.session = None
                self.lines.append((prompt, line, ""))
                return ""
            result = self.session.sh(line, stdin)
            text = "".join(t for _, t in result.output)
            self.lines.append((result.prompt, line, text))
            return text
        try:
            text = self._host(line)
        except RosimError as exc:
            text = f"FATA[0000] {exc}\n"
        except IndexError:
            text = f"FATA[0000] {line.strip()}: missing argument\n"
        self.lines.append(("# ", line, text))
        return text

    def _expand(self, line: str) -> str:
        return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?",
                      lambda m: self.vars.get(m.group(1), ""), line)

    def _host(self, line: str) -> str:
        assign = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*)=\$\((.*)\)\s*", line)
        if assign:
            value = self._host(assign.group(2))
            self.vars[assign.group(1)] = value.strip()
            return ""
        try:
            words = shlex.split(self._expand(line))
        except ValueError:
            quote = '"' if line.count('"') % 2 else "'"
            return f"bash: -c: line 1: unexpected EOF while looking for matching `{quote}'\n"
        if not words:
            return ""
        if words[0] == "crio":
            config = words[words.index("--config") + 1] if "--config" in words else None
            read_only = True if "--read-only" in words else None
            self.server = CrioServer(read_only, config=config, base=self.base)
            return ""
        if words[0] != "crictl":
            return f"bash: {words[0]}: command not found\n"
        if self.server is None:
            raise LifecycleError("crictl: connect: no CRI-O server running (start crio first).")
        verb, args = (words[1], words[2:]) if len(words) > 1 else ("", [])
        server = self.server
        if verb == "runp":
            return server.runp(args[0]) + "\n"
        if verb == "create":
            return server.create(args[0], args[1], args[2]) + "\n"
        if verb == "start":
            server.start(args[0])
            return args[0] + "\n"
        if verb == "exec":
            flags = [a for a in args if a in ("-i", "-t", "-it", "-ti")]
            rest = [a for a in args if a not in flags]
            ctr_id, cmd = rest[0], rest[1:]
            if flags and cmd in (["sh"], ["bash"], ["/bin/sh"], ["/bin/bash"]):
                self.session = server.session(ctr_id)
                return ""
            result = server.exec(ctr_id, cmd)
            return "".join(t for _, t in result.output)
        if verb == "ps":
            return _table(server.ps(all="-a" in args),
                          ["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT",
                           "POD ID"])
        if verb == "pods":
            return _table(server.pods(), ["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE",
                                          "ATTEMPT"])
        simple = {"stop": server.stop, "rm": server.rm, "stopp": server.stopp,
                  "rmp": server.rmp}
        if verb in simple:
            simple[verb](args[0])
            return args[0] + "\n"
        return f"crictl: unknown command {verb!r}\n"

    @property
    def transcript(self) -> str:
        """Every line with its prompt and output, as a terminal shows them."""
        return "".join(f"{prompt}{line}\n{text}" for prompt, line, text in self.lines)

    def __str__(self) -> str:
        return self.transcript

    def _repr_html_(self) -> str:
        import html

        return ('<pre style="background:#111;color:#eee;padding:6px">'
                + "".join(f"<b>{html.escape(p + line)}</b>\n{html.escape(t)}"
                          for p, line, t in self.lines) + "</pre>")


def replay_demo(read_only: bool = True, command: str = "dnf install nc") -> HostTerminal:
    """Replay the CRI-O ``--read-only`` blog demo and return the terminal.

    Starts ``crio`` (with ``--read-only`` if asked), runs the sample pod and
    the Fedora container with crictl, opens a shell in it and runs
    ``command``.
    """
    if not isinstance(read_only, bool):
        raise ConfigError(f"read_only(={read_only!r:.60}) must be a bool.")
    if not isinstance(command, str) or "\x00" in command:
        raise ConfigError(f"command(={command!r:.60}) must be a str without NUL bytes.")
    term = HostTerminal()
    term.run("crio --read-only" if read_only else "crio")
    term.run("POD=$(crictl runp sandbox_config.json)")
    term.run("CTR=$(crictl create $POD container_fedora.json sandbox_config.json)")
    term.run("crictl start $CTR")
    term.run("crictl exec -i -t $CTR sh")
    term.run(command)
    term.run("exit")
    return term

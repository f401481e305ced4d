"""Images read from real tar formats: docker save, OCI image layouts, rootfs tars."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile

import pytest

import rosim
from rosim.fs.layers import EntryKind


def _tar(members, *, gz=False) -> bytes:
    """A tar of ``(name, value)``: bytes → file, None → dir, ('sym', t), ('lnk', t), ('chr',)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, value in members:
            info = tarfile.TarInfo(name)
            if value is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(value, tuple):
                kind = value[0]
                info.type = {"sym": tarfile.SYMTYPE, "lnk": tarfile.LNKTYPE,
                             "chr": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]
                if kind in ("sym", "lnk"):
                    info.linkname = value[1]
                tar.addfile(info)
            else:
                info.size, info.mode = len(value), 0o644
                tar.addfile(info, io.BytesIO(value))
    data = buf.getvalue()
    return gzip.compress(data, mtime=0) if gz else data


def _docker_save(layers, config, tags=("web:1.0",)) -> bytes:
    members = []
    names = []
    for i, layer in enumerate(layers):
        names.append(f"layer{i}/layer.tar")
        members.append((f"layer{i}/layer.tar", layer))
    members.append(("cfg.json", json.dumps(config).encode()))
    members.append(("manifest.json", json.dumps(
        [{"Config": "cfg.json", "RepoTags": list(tags), "Layers": names}]).encode()))
    return _tar(members)


def _oci(layers, config, ref="web:2.0") -> bytes:
    blobs = {}

    def blob(data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        blobs[f"blobs/sha256/{digest}"] = data
        return f"sha256:{digest}"

    cfg = blob(json.dumps(config).encode())
    manifest = {"schemaVersion": 2, "config": {"digest": cfg},
                "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": blob(layer)} for layer in layers]}
    mdigest = blob(json.dumps(manifest).encode())
    index = {"schemaVersion": 2, "manifests": [
        {"digest": mdigest, "annotations": {"org.opencontainers.image.ref.name": ref}}]}
    members = [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
               ("index.json", json.dumps(index).encode())]
    members += list(blobs.items())
    return _tar(members)


BASE = _tar([("etc/", None), ("etc/nginx/conf.d/default.conf", b"server {}\n"),
             ("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"), ("etc/shadow", b"root:!::\n"),
             ("var/cache/nginx/", None), ("var/cache/nginx/old", b"x"),
             ("bin/sh", b"\x7fELF"), ("usr/bin/python3", b"\x7fELF")])
TOP = _tar([("etc/.wh.shadow", b""), ("var/cache/nginx/.wh..wh..opq", b""),
            ("var/cache/nginx/new", b"y"), ("app/main.py", b"print('hi')\n")])
CONFIG = {"config": {"Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["nginx", "-g", "x"],
                     "Env": ["PATH=/usr/bin:/bin", "NGINX_VERSION=1.25"],
                     "WorkingDir": "/app", "User": "101"}}


def test_docker_save_applies_layers_whiteouts_and_config(tmp_path):
    """A docker save archive: layers bottom first, .wh. files and opaque dirs, config."""
    path = tmp_path / "web.tar"
    path.write_bytes(_docker_save([BASE, TOP], CONFIG))
    image = rosim.Image.from_tar(path)
    assert image.name == "web:1.0"
    assert len(image.layers) == 2
    tree = image.tree
    assert tree.entry("/etc/shadow") is None
    assert tree.entry("/etc/passwd").data.startswith(b"root:")
    assert tree.children("/var/cache/nginx") == ("new",)
    assert tree.entry("/app/main.py").data == b"print('hi')\n"
    assert image.config.entrypoint == ("/docker-entrypoint.sh",)
    assert image.config.cmd == ("nginx", "-g", "x")
    assert dict(image.config.env)["NGINX_VERSION"] == "1.25"
    assert image.config.workdir == "/app"
    assert image.config.user == "101"


def test_oci_layout_with_gzip_layers(tmp_path):
    """An OCI image layout tar: index.json → manifest → gzip layer blobs."""
    path = tmp_path / "web-oci.tar"
    path.write_bytes(_oci([gzip.compress(BASE), gzip.compress(TOP)], CONFIG))
    image = rosim.Image.from_tar(path)
    assert image.name == "web:2.0"
    assert image.tree.entry("/etc/shadow") is None
    assert image.tree.children("/var/cache/nginx") == ("new",)
    assert image.config.user == "101"


def test_plain_rootfs_tar_is_one_layer(tmp_path):
    """A plain rootfs tar (docker export, tar -C rootfs -c .) is a one-layer image."""
    path = tmp_path / "rootfs.tar.gz"
    path.write_bytes(_tar([("./", None), ("./etc/hostname", b"box\n"),
                           ("./bin/sh", ("sym", "busybox")), ("./bin/busybox", b"\x7fELF")],
                          gz=True))
    image = rosim.Image.from_tar(path, name="box")
    assert image.name == "box"
    assert image.tree.entry("/bin/sh").kind is EntryKind.SYMLINK
    assert image.tree.entry("/etc/hostname").data == b"box\n"


def test_image_from_tar_runs_in_a_container(tmp_path):
    """An imported image runs: its files are readable, the root is read-only under CRI-O."""
    path = tmp_path / "web.tar"
    path.write_bytes(_docker_save([BASE, TOP], CONFIG))
    ctr = rosim.Runtime("cri-o", read_only=True).create(rosim.Image.from_tar(path))
    ctr.start()
    assert ctr.run(lambda: open("/etc/nginx/conf.d/default.conf").read()) == "server {}\n"
    with pytest.raises(OSError) as info:
        ctr.run(lambda: open("/etc/nginx/conf.d/x.conf", "w"))
    assert info.value.errno == 30


def test_large_files_are_declared_by_size_not_held(tmp_path):
    """Files above the inline limit keep their size but not their bytes."""
    path = tmp_path / "big.tar"
    path.write_bytes(_tar([("usr/lib/libbig.so", b"\0" * 5000), ("etc/small", b"x")]))
    image = rosim.image_from_tar(path, inline_limit=1000)
    assert image.tree.entry("/usr/lib/libbig.so").data is None
    assert image.tree.entry("/usr/lib/libbig.so").size == 5000
    assert image.tree.entry("/etc/small").data == b"x"


def test_hard_links_share_the_file():
    """A hard link names an earlier file of the same layer."""
    data = _tar([("bin/busybox", b"\x7fELF"), ("bin/ls", ("lnk", "bin/busybox"))])
    image = rosim.image_from_tar(io.BytesIO(data), name="bb")
    assert image.tree.entry("/bin/ls").data == b"\x7fELF"


@pytest.mark.parametrize("members, message", [
    ([("../evil", b"x")], "contains '..'"),
    ([("etc/../../evil", b"x")], "contains '..'"),
    ([("/etc/passwd", b"x")], "absolute path"),
    ([("etc/link", ("sym", "../../../../etc/shadow"))], "points outside the root"),
    ([("lnk", ("sym", "/")), ("lnk/etc/cron.d/x", b"x")], "below the symbolic link"),
    ([("dev/sda", ("chr",))], "device file"),
    ([("run/fifo", ("fifo",))], "FIFO"),
    ([("bin/ls", ("lnk", "bin/nothing"))], "hard link"),
])
def test_unsafe_members_are_refused_with_one_line(tmp_path, members, message):
    """Tar-slip and link tricks give one ImageError line naming the tar and member."""
    path = tmp_path / "evil.tar"
    path.write_bytes(_tar(members))
    with pytest.raises(rosim.ImageError) as info:
        rosim.Image.from_tar(path)
    text = str(info.value)
    assert message in text
    assert text.startswith(str(path))
    assert "\n" not in text


def test_huge_members_and_bad_archives_are_refused(tmp_path):
    """Members over max_member, non-tars, directories and broken manifests are refused."""
    path = tmp_path / "big.tar"
    path.write_bytes(_tar([("blob", b"\0" * 2048)]))
    with pytest.raises(rosim.ImageError, match="2048 bytes"):
        rosim.image_from_tar(path, max_member=1024)
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(rosim.ImageError, match="not a tar archive"):
        rosim.Image.from_tar(junk)
    with pytest.raises(rosim.ImageError, match="is a directory"):
        rosim.Image.from_tar(tmp_path)
    with pytest.raises(rosim.ImageError, match="cannot open"):
        rosim.Image.from_tar(tmp_path / "missing.tar")
    broken = tmp_path / "broken.tar"
    broken.write_bytes(_tar([("manifest.json", b"{not json")]))
    with pytest.raises(rosim.ImageError, match="manifest.json is not valid JSON"):
        rosim.Image.from_tar(broken)
    missing = tmp_path / "missing-layer.tar"
    missing.write_bytes(_tar([("manifest.json", json.dumps(
        [{"Config": "", "Layers": ["nope/layer.tar"]}]).encode())]))
    with pytest.raises(rosim.ImageError, match="nope/layer.tar is missing"):
        rosim.Image.from_tar(missing)


def test_docker_save_ref_picks_a_tag(tmp_path):
    """``ref`` chooses an image of a multi-image archive; an unknown ref lists the tags."""
    path = tmp_path / "web.tar"
    path.write_bytes(_docker_save([BASE], CONFIG, tags=("web:1.0",)))
    assert rosim.Image.from_tar(path, ref="web:1.0").name == "web:1.0"
    with pytest.raises(rosim.ImageError, match="tags: web:1.0"):
        rosim.Image.from_tar(path, ref="web:9")

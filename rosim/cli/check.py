"""``rosim check FILE...``: findings, write paths, the fix and its proof for manifests.

Exit status, like the linters: 0 no finding, 1 findings, 2 bad input (one
line on stderr naming the file and what is wrong). With ``--fix`` the status
is that of the patched manifests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]

FORMATS = ("text", "json", "sarif")


def register(subparsers: Any) -> None:
    """Add the ``check`` sub-parser."""
    parser = subparsers.add_parser(
        "check", help="check Kubernetes manifests for a read-only root file system",
        description="Report, per container, the linters' findings and what they cannot "
                    "tell (where the app writes, what a read-only root breaks, what is "
                    "lost on reschedule), propose the mounts, and prove the fix in a "
                    "simulated cluster.")
    parser.add_argument("files", nargs="*", metavar="FILE",
                        help="manifest files (multi-document YAML); '-' reads stdin")
    parser.add_argument("--diff", action="append", default=[], metavar="[CONTAINER=]FILE",
                        help="`docker diff` / `podman diff` output of a real run")
    parser.add_argument("--python", action="append", default=[],
                        metavar="[CONTAINER=]MODULE:FUNCTION",
                        help="run the app's Python function inside rosim to see its writes")
    parser.add_argument("--image-tar", action="append", default=[],
                        metavar="[CONTAINER=]FILE",
                        help="the image as a docker save / OCI layout / rootfs tar")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="report format (default: text)")
    parser.add_argument("--fix", action="store_true",
                        help="write the fix into the manifests (comments and order kept)")
    parser.add_argument("--patch", action="store_true",
                        help="print the fix as strategic-merge patches instead")
    parser.add_argument("-o", "--output", metavar="PATH",
                        help="with --fix or --patch: write there instead of in place / stdout")
    parser.add_argument("--lint-only", action="store_true",
                        help="only the manifest rules: no write paths, fix or proof")
    parser.add_argument("--no-proof", action="store_true", help="skip the simulated proof")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                        help="colour the text report (default: on a terminal)")
    parser.add_argument("--list-images", action="store_true",
                        help="list the image catalogue and its sources, then exit")
    parser.set_defaults(func=run)

    def one_line(message: str) -> None:
        # argparse's own errors, on one line like every other bad input.
        print(f"rosim check: error: {message}", file=sys.stderr)
        sys.exit(2)

    parser.error = one_line  # type: ignore[method-assign]


def _fail(message: str) -> int:
    print(f"rosim check: error: {message}", file=sys.stderr)
    return 2


def _split(value: str, flag: str) -> tuple[str, str]:
    head, sep, tail = value.partition("=")
    if sep and head and "/" not in head and ":" not in head:
        return head, tail
    return "", value


def _read(path: str, what: str) -> str:
    from rosim.check.sources import CheckInputError

    if path == "-":
        return sys.stdin.read()
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise CheckInputError(f"{path}: is a directory, not {what}.") from None
    except OSError as exc:
        raise CheckInputError(f"{path}: cannot read {what}: {exc.strerror}.") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CheckInputError(f"{path}: {what} is not UTF-8 text (byte {exc.start}).") from None


def _list_images() -> int:
    from rosim.check.catalogue import catalogue

    for entry in catalogue():
        writes = ", ".join(f"{w.path} ({w.kind.value})" for w in entry.writes)
        print(f"{entry.name:<20} matches {', '.join(entry.matches)}\n"
              f"{'':<20} writes  {writes}\n{'':<20} source  {entry.source}")
    return 0


def _write_atomic(path: str, text: str) -> None:
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    """Run ``rosim check`` with parsed arguments; return the exit status."""
    from rosim._errors import RosimError

    if args.list_images:
        return _list_images()
    try:
        return _run(args)
    except RosimError as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _run(args: argparse.Namespace) -> int:
    from rosim.check.engine import check_manifests
    from rosim.check.sources import CheckInputError, parse_diff
    from rosim.images.tarball import image_from_tar

    if not args.files:
        raise CheckInputError("no manifest given: rosim check FILE... ('-' reads stdin).")
    if args.fix and args.patch:
        raise CheckInputError("--fix and --patch exclude each other: choose one.")
    if args.lint_only and (args.fix or args.patch):
        raise CheckInputError("--lint-only has no fix: drop --fix/--patch.")
    if args.output and not (args.fix or args.patch):
        raise CheckInputError("--output needs --fix or --patch.")
    if args.fix and "-" in args.files and not args.output:
        raise CheckInputError("--fix with stdin ('-') needs --output FILE.")
    if args.files.count("-") > 1:
        raise CheckInputError("'-' (stdin) can be given once.")
    manifests = {("<stdin>" if f == "-" else f): _read(f, "a manifest") for f in args.files}
    writes: dict[str, list[Any]] = {}
    for value in args.diff:
        key, path = _split(value, "--diff")
        writes.setdefault(key, []).extend(parse_diff(_read(path, "a diff"), source=path))
    python = dict(_split(v, "--python") for v in args.python)
    images = {}
    for value in args.image_tar:
        key, path = _split(value, "--image-tar")
        images[key] = image_from_tar(path)
    report = check_manifests(manifests, writes=writes, python=python, images=images,
                             lint_only=args.lint_only, proof=not args.no_proof)
    colour = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                        and os.environ.get("NO_COLOR") is None)
    out = sys.stdout
    if args.patch:
        patch = report.patch()
        if args.output:
            _write_atomic(args.output, patch)
        else:
            out.write(patch)
            out = sys.stderr
    status = report.exit_code
    if args.fix:
        fixed = report.fixed()
        if args.output:
            _write_atomic(args.output, "".join(fixed.values()))
        else:
            for source, text in fixed.items():
                _write_atomic(source, text)
        again = check_manifests(fixed, writes=writes, python=python, images=images,
                                proof=False)
        status = again.exit_code
    if args.format == "json":
        out.write(report.to_json())
    elif args.format == "sarif":
        out.write(json.dumps(report.to_sarif(), indent=2) + "\n")
    else:
        out.write(report.to_text(colour=colour and out is sys.stdout))
        if args.fix:
            where = args.output or ", ".join(report.files)
            out.write(f"Fixed: {where}; "
                      + ("no finding is left.\n" if status == 0 else
                         f"{len(again.findings)} finding(s) left: "
                         + ", ".join(sorted({f.rule for f in again.findings})) + ".\n"))
    return status

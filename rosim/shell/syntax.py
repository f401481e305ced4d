"""The shell's syntax tree: words, redirections, commands, and syntax errors.

:mod:`rosim.shell.parser` builds these from text; :mod:`rosim.shell.interp`
runs them. Nodes are frozen dataclasses; a :class:`Word` is an immutable
tuple of parts (one is made per token, so it must be cheap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from rosim._errors import ConfigError

__all__ = ["AndOr", "Case", "Command", "For", "FunctionDef", "Group", "HereDoc", "If",
           "Pipeline", "Redirect", "Script", "ShellSyntaxError", "While", "Word"]


class ShellSyntaxError(ConfigError):
    """A command line cannot be parsed (unclosed quote, missing word...).

    ``shell_message`` is what bash prints, e.g. ``syntax error near
    unexpected token `&&'``; :meth:`message` gives busybox's wording too.
    ``incomplete`` is true when more input could complete the command.
    """

    def __init__(self, line: str, shell_message: str, incomplete: bool = False,
                 busybox: str | None = None, context: str | None = None) -> None:
        super().__init__(f"command(={line[:200]!r}): {shell_message}")
        self.shell_message = shell_message
        #: True when more input could complete the command (an open quote,
        #: a trailing ``&&``, ``do`` without ``done``): a terminal then asks
        #: for another line.
        self.incomplete = incomplete
        self.busybox = busybox if busybox is not None else shell_message
        #: The line bash quotes after "near unexpected token" (None: none).
        self.context = context

    def message(self, dialect: str = "bash", name: str = "sh") -> str:
        """The message as ``bash`` or ``busybox`` sh named ``name`` prints it.

        Without the leading ``sh: ``; bash's quoted line follows on a line of
        its own.
        """
        if dialect == "busybox":
            return self.busybox
        if self.context is None:
            return self.shell_message
        return f"{self.shell_message}\n{name}: `{self.context}'"


# ------------------------------------------------------------------ the tree
class Word(NamedTuple):
    """A shell word as parts (an immutable tuple: cheap to make, one per token).

    Parts are tuples: ``('lit', text)`` unquoted text, ``('sq', text)``
    single-quoted, ``('dq', parts)`` double-quoted (its parts are
    ``('lit', text)`` and expansions), ``('param', name, op, arg)`` a
    parameter expansion (``arg`` a Word or None), ``('cmd', Script, source)``
    a command substitution, ``('arith', text)`` an arithmetic expansion.
    """

    parts: tuple[tuple, ...]

    def text(self) -> str:
        """The word as written (for messages and tests)."""
        return "".join(_part_text(p) for p in self.parts)

    def literal(self) -> str | None:
        """The word's text if it is one unquoted literal (a reserved word candidate)."""
        if len(self.parts) == 1 and self.parts[0][0] == "lit":
            return str(self.parts[0][1])
        return None


def _part_text(part: tuple) -> str:
    kind = part[0]
    if kind == "lit":
        return str(part[1])
    if kind == "sq":
        return f"'{part[1]}'"
    if kind == "dq":
        return '"' + "".join(_part_text(p) for p in part[1]) + '"'
    if kind == "param":
        name, op, arg = part[1], part[2], part[3]
        if op == "" and arg is None:
            return "$" + name if len(name) == 1 or name.isalnum() else "${" + name + "}"
        if op == "len":
            return "${#" + name + "}"
        return "${" + name + op + (arg.text() if arg is not None else "") + "}"
    if kind == "cmd":
        return f"$({part[2]})"
    if kind == "arith":
        return f"$(({part[1]}))"
    return ""


class HereDoc:
    """The body of a here-document, filled in once the lexer reaches it."""

    def __init__(self, delimiter: str, quoted: bool, strip_tabs: bool) -> None:
        self.delimiter = delimiter
        self.quoted = quoted
        self.strip_tabs = strip_tabs
        self.body = ""
        #: The body as a Word (expansions inside) unless the delimiter was quoted.
        self.word: Word | None = None

    def __repr__(self) -> str:
        return f"HereDoc({self.delimiter!r})"


@dataclass(frozen=True)
class Redirect:
    """``fd`` ``op`` ``target``: op is one of ``> >> < >| <> >& <& <<``.

    For ``>&``/``<&`` the target is an fd number (or ``-``); for ``<<`` it is
    a :class:`HereDoc`.
    """

    fd: int
    op: str
    target: Word | HereDoc


@dataclass(frozen=True)
class Command:
    """One simple command: assignments, words and redirections in order."""

    assignments: tuple[tuple[str, Word], ...] = ()
    words: tuple[Word, ...] = ()
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class Pipeline:
    """Commands joined by ``|``; ``negate`` for a leading ``!``."""

    commands: tuple[object, ...]
    negate: bool = False


@dataclass(frozen=True)
class AndOr:
    """A pipeline followed by ``&&``/``||`` pipelines; ``line`` is where it starts."""

    first: Pipeline
    rest: tuple[tuple[str, Pipeline], ...] = ()
    line: int = 1


@dataclass(frozen=True)
class Script:
    """A list of and-or lists, each run in turn (``&`` ones too: nothing runs concurrently)."""

    items: tuple[AndOr, ...] = ()


@dataclass(frozen=True)
class Group:
    """``{ ...; }`` (``subshell`` false) or ``( ... )`` (``subshell`` true)."""

    body: Script
    subshell: bool
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class If:
    """``if C; then B; elif C; then B; else B; fi``."""

    clauses: tuple[tuple[Script, Script], ...]
    otherwise: Script | None = None
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class For:
    """``for NAME [in WORDS]; do BODY; done`` (no ``in``: the positional parameters)."""

    name: str
    words: tuple[Word, ...] | None
    body: Script
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class While:
    """``while``/``until`` COND; do BODY; done."""

    condition: Script
    body: Script
    until: bool = False
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class Case:
    """``case WORD in PATTERN|PATTERN) BODY;; ... esac``."""

    word: Word
    items: tuple[tuple[tuple[Word, ...], Script], ...] = ()
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class FunctionDef:
    """``NAME() COMPOUND``: defines a function when it runs."""

    name: str
    body: object
    redirects: tuple[Redirect, ...] = field(default=())

"""Parsing shell scripts: the POSIX ``sh`` grammar learners type.

The grammar (as POSIX and bash/busybox ``sh`` read it)::

    script    := and_or ( ( ';' | '&' | newline ) and_or )*
    and_or    := pipeline ( ( '&&' | '||' ) newline* pipeline )*
    pipeline  := [ '!' ] command ( '|' newline* command )*
    command   := simple | compound redirection* | NAME '(' ')' compound
    compound  := '{' script '}' | '(' script ')' | if | for | while | until | case
    simple    := ( NAME=value | word | redirection )+

Words keep their quoting and expansions (``$X``, ``${X:-default}``,
``$(...)``, backticks, ``$((...))``) so that they are expanded when the
command runs. Here-documents (``<<EOF``, ``<<-EOF``, ``<<'EOF'``) are read
after the line that names them.

The tokenizer reads each character once: a one-megabyte line parses in
well under a second. A :class:`ShellSyntaxError` knows how both shells word
the problem (:meth:`ShellSyntaxError.message`): bash's ``syntax error near
unexpected token `fi'`` or busybox's ``syntax error: unexpected "fi"``.

>>> script = parse('for f in a b; do echo "$f" | wc -c; done && echo ${X:-none}')
>>> type(script.items[0].first.commands[0]).__name__
'For'
>>> [w.text() for w in script.items[0].first.commands[0].words]
['a', 'b']
"""

from __future__ import annotations

import gc
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from rosim._errors import ConfigError

__all__ = ["AndOr", "Case", "Command", "For", "FunctionDef", "Group", "HereDoc", "If",
           "Pipeline", "Redirect", "Script", "ShellSyntaxError", "While", "Word", "needs_more",
           "parse"]


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


# ------------------------------------------------------------------ tokens
_OPS = ("&&", "||", ";;", "<<-", "<<", ">>", ">&", "<&", ">|", "<>", "&>", ";", "&", "|",
        "(", ")", "<", ">", "\n")
_REDIR_OPS = {"<<-", "<<", ">>", ">&", "<&", ">|", "<>", "&>", "<", ">"}
_OP_RE = re.compile("|".join(re.escape(op) for op in _OPS))
_PLAIN = re.compile(r"[^\s;&|<>()'\"\\$`]+")
_PLAIN_DQ = re.compile(r'[^"\\$`]+')
_BLANKS = re.compile(r"[ \t]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while",
             "until", "for", "in", "{", "}", "!"}
_CLOSERS = {"then", "else", "elif", "fi", "do", "done", "esac", "}"}


#: A token: (kind, value, line); kind is 'word', 'op', 'io' (an fd number
#: before a redirection) or 'eof'. Plain tuples: a million tokens stay cheap.
_Tok = tuple


#: Blanks, a whole plain word (followed by a blank, an operator or the end) or an
#: operator: the tokenizer's fast path, one regular expression match per token.
_FAST = re.compile(
    r"(?P<blank>[ \t]+)"
    r"|(?P<word>[^\s;&|<>()'\"\\$`#][^\s;&|<>()'\"\\$`]*(?=[ \t\n;&|<>()]|$))"
    r"|(?P<dqvar>\"\$(?P<dqname>[A-Za-z_][A-Za-z0-9_]*)\"(?=[ \t\n;&|<>()]|$))"
    r"|(?P<var>\$(?P<varname>[A-Za-z_][A-Za-z0-9_]*)(?=[ \t\n;&|<>()]|$))"
    r"|(?P<op>" + "|".join(re.escape(op) for op in _OPS) + ")")
_VAR = r"\$(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})"
#: One piece of a common word: plain text, '...', "..." holding only text and
#: $NAME / ${NAME}, or a bare $NAME.
_SEGMENT = re.compile(r"[^\s;&|<>()'\"\\$`]+|'[^']*'|\"(?:[^\"\\$`]|" + _VAR + r")*\"|"
                      + _VAR)
#: A whole word made of such pieces: the second fast path (no character loop).
_FAST_WORD = re.compile(r"(?!#)(?:" + _SEGMENT.pattern + r")+(?=[ \t\n;&|<>()]|$)")
_DQ_VAR = re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")


def _fast_parts(value: str) -> tuple[tuple, ...]:
    """The parts of a word that matched :data:`_FAST_WORD`."""
    parts: list[tuple] = []
    for seg in _SEGMENT.findall(value):
        first = seg[0]
        if first == "'":
            parts.append(("sq", seg[1:-1]))
        elif first == '"':
            inner: list[tuple] = []
            pos = 0
            body = seg[1:-1]
            for m in _DQ_VAR.finditer(body):
                if m.start() > pos:
                    inner.append(("lit", body[pos:m.start()]))
                inner.append(("param", m.group(1) or m.group(2), "", None))
                pos = m.end()
            if pos < len(body):
                inner.append(("lit", body[pos:]))
            parts.append(("dq", tuple(inner)))
        elif first == "$":
            m = _DQ_VAR.match(seg)
            assert m is not None
            parts.append(("param", m.group(1) or m.group(2), "", None))
        else:
            parts.append(("lit", seg))
    return tuple(_merge(parts))


class _Lexer:
    """Turns text into tokens in one pass; ``$(...)`` bodies are parsed on the way."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source  # the whole command line, for messages
        self.pos = 0
        self.line = 1
        self.pending: list[HereDoc] = []

    def error(self, bash: str, incomplete: bool = False, busybox: str | None = None) -> None:
        raise ShellSyntaxError(self.source, bash, incomplete, busybox)

    def tokens(self, stop_at_paren: bool = False) -> list[_Tok]:
        """Tokens up to the end, or (``stop_at_paren``) up to an unmatched ``)``."""
        text, n = self.text, len(self.text)
        out: list[_Tok] = []
        append = out.append
        words: dict[str, Word] = {}
        depth = 0
        fast = _FAST.match
        pos = self.pos
        while pos < n:
            m = fast(text, pos)
            if m is not None:
                kind = m.lastgroup
                if kind == "blank":
                    pos = m.end()
                    continue
                if kind == "word":
                    end = m.end()
                    value = m.group()
                    if end < n and text[end] in "<>" and value.isdigit():
                        append(("io", int(value), self.line))
                    else:
                        word = words.get(value)
                        if word is None:
                            word = words[value] = Word((("lit", value),))
                        append(("word", word, self.line))
                    pos = end
                    continue
                if kind == "dqvar" or kind == "var":
                    value = m.group()
                    word = words.get(value)
                    if word is None:
                        param = ("param", m.group("dqname" if kind == "dqvar" else "varname"),
                                 "", None)
                        word = words[value] = Word(
                            (("dq", (param,)),) if kind == "dqvar" else (param,))
                    append(("word", word, self.line))
                    pos = m.end()
                    continue
                op = m.group()
                pos = m.end()
                if op == ")" and stop_at_paren and depth == 0:
                    self.pos = pos
                    append(("eof", None, self.line))
                    return out
                depth += op == "("
                depth -= op == ")"
                append(("op", op, self.line))
                if op in ("<<", "<<-"):
                    self.pos = pos
                    self._here_doc_word(out, op == "<<-")
                    pos = self.pos
                elif op == "\n":
                    self.line += 1
                    if self.pending:
                        self.pos = pos
                        self._read_bodies()
                        pos = self.pos
                continue
            c = text[pos]
            if c == "\\" and text.startswith("\\\n", pos):
                pos += 2
                self.line += 1
                continue
            if c == "#":
                end = text.find("\n", pos)
                pos = n if end < 0 else end
                continue
            m = _FAST_WORD.match(text, pos)
            if m is not None:
                pos = m.end()
                value = m.group()
                word = words.get(value)
                if word is None:
                    word = words[value] = Word(_fast_parts(value))
                append(("word", word, self.line))
                continue
            self.pos = pos
            word = self._word()
            pos = self.pos
            if (pos < n and text[pos] in "<>" and len(word.parts) == 1
                    and word.parts[0][0] == "lit" and str(word.parts[0][1]).isdigit()):
                append(("io", int(word.parts[0][1]), self.line))
            else:
                append(("word", word, self.line))
        self.pos = pos
        if stop_at_paren:
            self.error("unexpected EOF while looking for matching `)'", True,
                       'syntax error: unexpected end of file (expecting ")")')
        if self.pending:
            # bash warns and takes what there is; the body ends at end of input.
            for doc in self.pending:
                self._finish(doc, "")
            self.pending = []
        out.append(("eof", None, self.line))
        return out

    def _here_doc_word(self, out: list[_Tok], strip: bool) -> None:
        m = _BLANKS.match(self.text, self.pos)
        if m:
            self.pos = m.end()
        if self.pos >= len(self.text) or self.text[self.pos] in "\n;&|<>()":
            return  # the parser reports the missing word
        word = self._word()
        quoted = any(p[0] != "lit" or "\\" in str(p[1]) for p in word.parts)
        delimiter = "".join(str(p[1]) if p[0] in ("lit", "sq") else
                            "".join(str(q[1]) for q in p[1]) if p[0] == "dq" else ""
                            for p in word.parts)
        doc = HereDoc(delimiter, quoted, strip)
        self.pending.append(doc)
        out.append(("word", doc, self.line))

    def _read_bodies(self) -> None:
        text = self.text
        for doc in self.pending:
            lines: list[str] = []
            while self.pos < len(text):
                end = text.find("\n", self.pos)
                raw = text[self.pos:] if end < 0 else text[self.pos:end]
                self.pos = len(text) if end < 0 else end + 1
                self.line += 1
                check = raw.lstrip("\t") if doc.strip_tabs else raw
                if check == doc.delimiter:
                    break
                lines.append(check + "\n")
            self._finish(doc, "".join(lines))
        self.pending = []

    def _finish(self, doc: HereDoc, body: str) -> None:
        doc.body = body
        if not doc.quoted:
            sub = _Lexer(body, self.source)
            doc.word = Word(tuple(sub._dq_parts(heredoc=True)))

    # -------------------------------------------------------------- words
    def _word(self) -> Word:
        text, n = self.text, len(self.text)
        parts: list[tuple] = []
        while self.pos < n:
            c = text[self.pos]
            m = _PLAIN.match(text, self.pos)
            if m:
                parts.append(("lit", m.group()))
                self.pos = m.end()
                continue
            if c in " \t\n;&|<>()":
                break
            if c == "\\":
                if self.pos + 1 < n:
                    if text[self.pos + 1] == "\n":
                        self.pos += 2
                        self.line += 1
                        continue
                    parts.append(("sq", text[self.pos + 1]))
                self.pos += 2
            elif c == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    self.error("unexpected EOF while looking for matching `''", True,
                               "syntax error: unterminated quoted string")
                parts.append(("sq", text[self.pos + 1:end]))
                self.line += text.count("\n", self.pos, end)
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                inner = self._dq_parts()
                parts.append(("dq", tuple(inner)))
            elif c == "$":
                parts.append(self._dollar())
            elif c == "`":
                parts.append(self._backtick())
        return Word(tuple(_merge(parts)))

    def _dq_parts(self, heredoc: bool = False) -> list[tuple]:
        """Parts of a double-quoted string (or a here-document body) up to the closing quote."""
        text, n = self.text, len(self.text)
        parts: list[tuple] = []
        plain = re.compile(r"[^\\$`]+") if heredoc else _PLAIN_DQ
        while True:
            if self.pos >= n:
                if heredoc:
                    return _merge(parts)
                self.error("unexpected EOF while looking for matching `\"'", True,
                           "syntax error: unterminated quoted string")
            c = text[self.pos]
            m = plain.match(text, self.pos)
            if m:
                parts.append(("lit", m.group()))
                self.line += m.group().count("\n")
                self.pos = m.end()
                continue
            if c == '"':
                self.pos += 1
                return _merge(parts)
            if c == "\\":
                nxt = text[self.pos + 1:self.pos + 2]
                if nxt == "\n":
                    self.pos += 2
                    continue
                if nxt in ("$", "`", "\\") or (nxt == '"' and not heredoc):
                    parts.append(("lit", nxt))
                else:
                    parts.append(("lit", "\\" + nxt))
                self.pos += 2
            elif c == "$":
                part = self._dollar()
                parts.append(("lit", "$") if part == ("lit", "$") else part)
            elif c == "`":
                parts.append(self._backtick())

    def _dollar(self) -> tuple:
        text = self.text
        i = self.pos + 1
        nxt = text[i:i + 1]
        if text.startswith("((", i):
            end = self._arith_end(i + 2)
            self.pos = end + 2
            return ("arith", text[i + 2:end])
        if nxt == "(":
            sub = _Lexer(text, self.source)
            sub.pos, sub.line = i + 1, self.line
            start = i + 1
            toks = sub.tokens(stop_at_paren=True)
            script = _Parser(toks, self.source).script_until_eof()
            self.pos, self.line = sub.pos, sub.line
            return ("cmd", script, text[start:sub.pos - 1])
        if nxt == "{":
            return self._brace_param(i + 1)
        if nxt and nxt in "?$#!@*-0123456789":
            self.pos = i + 1
            return ("param", nxt, "", None)
        m = _NAME.match(text, i)
        if m:
            self.pos = m.end()
            return ("param", m.group(), "", None)
        self.pos = i
        return ("lit", "$")

    def _arith_end(self, start: int) -> int:
        text, depth, i = self.text, 0, start
        while i < len(text):
            c = text[i]
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    if text.startswith("))", i):
                        return i
                    self.error("syntax error near unexpected token `)'",
                               busybox='syntax error: unexpected ")"')
                depth -= 1
            i += 1
        self.error("unexpected EOF while looking for matching `)'", True,
                   'syntax error: unexpected end of file (expecting ")")')
        raise AssertionError  # unreachable

    def _brace_param(self, i: int) -> tuple:
        text, n = self.text, len(self.text)
        if text.startswith("#", i) and i + 1 < n and text[i + 1] != "}":
            m = _NAME.match(text, i + 1) or re.compile(r"[0-9?#$!@*-]").match(text, i + 1)
            if m and text.startswith("}", m.end()):
                self.pos = m.end() + 1
                return ("param", m.group(), "len", None)
        m = _NAME.match(text, i) or re.compile(r"[0-9]+|[?#$!@*-]").match(text, i)
        if not m:
            self._bad_substitution(i)
        name = m.group()  # type: ignore[union-attr]
        j = m.end()  # type: ignore[union-attr]
        if j >= n:
            self.error("unexpected EOF while looking for matching `}'", True,
                       "syntax error: missing '}'")
        if text[j] == "}":
            self.pos = j + 1
            return ("param", name, "", None)
        op_m = re.compile(r":[-=?+]|[-=?+]|%%|%|##|#").match(text, j)
        if not op_m:
            self._bad_substitution(i)
        op = op_m.group()  # type: ignore[union-attr]
        self.pos = op_m.end()  # type: ignore[union-attr]
        arg = self._param_word()
        return ("param", name, op, arg)

    def _bad_substitution(self, i: int) -> None:
        end = self.text.find("}", i)
        if end < 0:
            self.error("unexpected EOF while looking for matching `}'", True,
                       "syntax error: missing '}'")
        raise ShellSyntaxError(self.source, f"${{{self.text[i:end]}}}: bad substitution",
                               busybox="syntax error: bad substitution")

    def _param_word(self) -> Word:
        """The word after ``${NAME op``, up to the matching ``}``."""
        text, n = self.text, len(self.text)
        parts: list[tuple] = []
        plain = re.compile(r"[^}'\"\\$`]+")
        while True:
            if self.pos >= n:
                self.error("unexpected EOF while looking for matching `}'", True,
                           "syntax error: missing '}'")
            c = text[self.pos]
            m = plain.match(text, self.pos)
            if m:
                parts.append(("lit", m.group()))
                self.pos = m.end()
                continue
            if c == "}":
                self.pos += 1
                return Word(tuple(_merge(parts)))
            if c == "\\":
                parts.append(("sq", text[self.pos + 1:self.pos + 2]))
                self.pos += 2
            elif c == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:
                    self.error("unexpected EOF while looking for matching `''", True,
                               "syntax error: unterminated quoted string")
                parts.append(("sq", text[self.pos + 1:end]))
                self.pos = end + 1
            elif c == '"':
                self.pos += 1
                parts.append(("dq", tuple(self._dq_parts())))
            elif c == "$":
                parts.append(self._dollar())
            else:
                parts.append(self._backtick())

    def _backtick(self) -> tuple:
        text, n = self.text, len(self.text)
        i = self.pos + 1
        body: list[str] = []
        while i < n and text[i] != "`":
            if text[i] == "\\" and i + 1 < n and text[i + 1] in "`\\$":
                body.append(text[i + 1])
                i += 2
            else:
                body.append(text[i])
                i += 1
        if i >= n:
            self.error("unexpected EOF while looking for matching ``'", True,
                       "syntax error: unterminated quoted string")
        source = "".join(body)
        self.line += source.count("\n")
        self.pos = i + 1
        sub = _Lexer(source, self.source)
        script = _Parser(sub.tokens(), self.source).script_until_eof()
        return ("cmd", script, source)


def _merge(parts: list[tuple]) -> list[tuple]:
    """Join neighbouring literal parts (once, at the end: linear time)."""
    out: list[tuple] = []
    run: list[str] = []
    for part in parts:
        if part[0] == "lit":
            run.append(part[1])
            continue
        if run:
            out.append(("lit", "".join(run)))
            run = []
        out.append(part)
    if run:
        out.append(("lit", "".join(run)))
    return out


# ------------------------------------------------------------------ parser
class _Parser:
    def __init__(self, tokens: list[_Tok], source: str) -> None:
        self.toks = tokens
        self.i = 0
        self.source = source

    # helpers
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def next(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def is_op(self, *ops: str) -> bool:
        tok = self.toks[self.i]
        return tok[0] == "op" and tok[1] in ops

    def is_word(self, *words: str) -> bool:
        tok = self.toks[self.i]
        return tok[0] == "word" and isinstance(tok[1], Word) and (
            tok[1].literal() in words)

    def skip_newlines(self) -> None:
        while self.is_op("\n"):
            self.i += 1

    def unexpected(self, expecting: str | None = None) -> None:
        tok = self.peek()
        if tok[0] == "eof":
            suffix = f' (expecting "{expecting}")' if expecting else ""
            raise ShellSyntaxError(self.source, "syntax error: unexpected end of file", True,
                                   f"syntax error: unexpected end of file{suffix}")
        if tok[0] == "op":
            shown = "newline" if tok[1] == "\n" else str(tok[1])
        elif tok[0] == "io":
            shown = str(tok[1])
        else:
            shown = tok[1].text() if isinstance(tok[1], Word) else "<<"
        bb_shown = "newline" if shown == "newline" else shown
        suffix = f' (expecting "{expecting}")' if expecting else ""
        # bash shows the line it was reading on a second line.
        lines = self.source.split("\n")
        context = lines[tok[2] - 1] if 0 < tok[2] <= len(lines) else ""
        raise ShellSyntaxError(self.source, f"syntax error near unexpected token `{shown}'",
                               False, f'syntax error: unexpected "{bb_shown}"{suffix}'
                               if shown != "newline" else
                               f"syntax error: unexpected newline{suffix}", context)

    def expect_word(self, word: str) -> None:
        if not self.is_word(word):
            self.unexpected(word)
        self.i += 1

    # grammar
    def script_until_eof(self) -> Script:
        script = self.compound_list(())
        if self.peek()[0] != "eof":
            self.unexpected()
        return script

    def compound_list(self, closers: tuple[str, ...]) -> Script:
        """and-or lists until one of ``closers`` (reserved words) or ')' / eof."""
        items: list[AndOr] = []
        self.skip_newlines()
        while True:
            tok = self.peek()
            if tok[0] == "eof" or self.is_op(")", ";;"):
                break
            if tok[0] == "word" and isinstance(tok[1], Word) and (
                    tok[1].literal() in closers):
                break
            if tok[0] == "word" and isinstance(tok[1], Word) and (
                    tok[1].literal() in _CLOSERS):
                self.unexpected(closers[-1] if closers else None)
            items.append(self.and_or())
            if self.is_op(";", "&", "\n"):
                self.i += 1
                self.skip_newlines()
                continue
            break
        return Script(tuple(items))

    def and_or(self) -> AndOr:
        line = self.peek()[2]
        first = self.pipeline()
        rest: list[tuple[str, Pipeline]] = []
        while self.is_op("&&", "||"):
            op = str(self.next()[1])
            self.skip_newlines()
            rest.append((op, self.pipeline()))
        return AndOr(first, tuple(rest), line)

    def pipeline(self) -> Pipeline:
        negate = False
        if self.is_word("!"):
            negate = True
            self.i += 1
        commands = [self.command()]
        while self.is_op("|"):
            self.i += 1
            self.skip_newlines()
            commands.append(self.command())
        return Pipeline(tuple(commands), negate)

    def command(self) -> object:
        tok = self.peek()
        if tok[0] == "op" and tok[1] == "(":
            self.i += 1
            body = self.compound_list(())
            if not self.is_op(")"):
                self.unexpected(")")
            self.i += 1
            if not body.items:
                self.i -= 1
                self.unexpected()
            return Group(body, True, self.redirects())
        if tok[0] == "word" and isinstance(tok[1], Word):
            word = tok[1].literal()
            if word == "{":
                self.i += 1
                body = self.compound_list(("}",))
                if not body.items:
                    self.unexpected()
                self.expect_word("}")
                return Group(body, False, self.redirects())
            if word == "if":
                return self.if_clause()
            if word in ("while", "until"):
                self.i += 1
                cond = self.compound_list(("do",))
                self.expect_word("do")
                body = self.compound_list(("done",))
                self.expect_word("done")
                return While(cond, body, word == "until", self.redirects())
            if word == "for":
                return self.for_clause()
            if word == "case":
                return self.case_clause()
            if word in _CLOSERS or word == "in":
                if word != "in":
                    self.unexpected()
            nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
            if (word is not None and _NAME.fullmatch(word) and nxt is not None
                    and nxt[0] == "op" and nxt[1] == "("):
                after = self.toks[self.i + 2]
                if after[0] == "op" and after[1] == ")":
                    self.i += 3
                    self.skip_newlines()
                    body = self.command()
                    if not isinstance(body, Group | If | While | For | Case):
                        self.i -= 1
                        self.unexpected()
                    return FunctionDef(word, body)
        return self.simple()

    def if_clause(self) -> If:
        self.i += 1
        clauses = []
        cond = self.compound_list(("then",))
        self.expect_word("then")
        body = self.compound_list(("elif", "else", "fi"))
        clauses.append((cond, body))
        otherwise = None
        while True:
            if self.is_word("elif"):
                self.i += 1
                cond = self.compound_list(("then",))
                self.expect_word("then")
                body = self.compound_list(("elif", "else", "fi"))
                clauses.append((cond, body))
                continue
            if self.is_word("else"):
                self.i += 1
                otherwise = self.compound_list(("fi",))
            self.expect_word("fi")
            break
        return If(tuple(clauses), otherwise, self.redirects())

    def for_clause(self) -> For:
        self.i += 1
        tok = self.peek()
        name = tok[1].literal() if tok[0] == "word" and isinstance(tok[1], Word) else None
        if name is None or not _NAME.fullmatch(name):
            self.unexpected()
        self.i += 1
        words: tuple[Word, ...] | None = None
        self.skip_newlines()
        if self.is_word("in"):
            self.i += 1
            collected = []
            while self.peek()[0] == "word":
                collected.append(self.next()[1])
            words = tuple(w for w in collected if isinstance(w, Word))
            if not self.is_op(";", "\n"):
                self.unexpected("do")
            self.i += 1
        elif self.is_op(";"):
            self.i += 1
        self.skip_newlines()
        self.expect_word("do")
        body = self.compound_list(("done",))
        self.expect_word("done")
        return For(str(name), words, body, self.redirects())

    def case_clause(self) -> Case:
        self.i += 1
        tok = self.next()
        if tok[0] != "word" or not isinstance(tok[1], Word):
            self.i -= 1
            self.unexpected()
        subject = tok[1]
        self.skip_newlines()
        self.expect_word("in")
        self.skip_newlines()
        items = []
        while not self.is_word("esac"):
            if self.is_op("("):
                self.i += 1
            patterns = []
            while True:
                tok = self.next()
                if tok[0] != "word" or not isinstance(tok[1], Word):
                    self.i -= 1
                    self.unexpected(")")
                patterns.append(tok[1])
                if self.is_op("|"):
                    self.i += 1
                    continue
                break
            if not self.is_op(")"):
                self.unexpected(")")
            self.i += 1
            body = self.compound_list(("esac",))
            items.append((tuple(patterns), body))
            if self.is_op(";;"):
                self.i += 1
                self.skip_newlines()
                continue
            if not self.is_word("esac"):
                self.unexpected("esac")
        self.i += 1
        return Case(subject, tuple(items), self.redirects())  # type: ignore[arg-type]

    def redirects(self) -> tuple[Redirect, ...]:
        out = []
        while True:
            redirect = self.redirect()
            if redirect is None:
                return tuple(out)
            out.extend(redirect)

    def redirect(self) -> list[Redirect] | None:
        tok = self.peek()
        fd = None
        if tok[0] == "io":
            fd = int(tok[1])  # type: ignore[arg-type]
            self.i += 1
            tok = self.peek()
        if not (tok[0] == "op" and tok[1] in _REDIR_OPS):
            if fd is not None:
                self.unexpected()
            return None
        op = str(tok[1])
        self.i += 1
        target_tok = self.peek()
        if target_tok[0] == "eof" or (target_tok[0] == "op" and target_tok[1] == "\n"):
            raise ShellSyntaxError(self.source, "syntax error near unexpected token `newline'",
                                   False, "syntax error: unexpected newline")
        if target_tok[0] != "word":
            self.unexpected()
        self.i += 1
        target = target_tok[1]
        if op in ("<<", "<<-"):
            assert isinstance(target, HereDoc)
            return [Redirect(0 if fd is None else fd, "<<", target)]
        assert isinstance(target, Word)
        if op == "&>":
            return [Redirect(1, ">", target), Redirect(2, ">&", Word((("lit", "1"),)))]
        if op == ">&" and fd is None and not (target.literal() or "").isdigit() and (
                target.literal() != "-"):
            return [Redirect(1, ">", target), Redirect(2, ">&", Word((("lit", "1"),)))]
        default = 0 if op in ("<", "<&", "<>") else 1
        return [Redirect(default if fd is None else fd, op, target)]

    def simple(self) -> Command:
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            tok = self.peek()
            if tok[0] == "word" and isinstance(tok[1], Word):
                pair = _assignment(tok[1]) if not words else None
                if pair is not None:
                    assigns.append(pair)
                else:
                    words.append(tok[1])
                self.i += 1
                continue
            redirect = self.redirect()
            if redirect is not None:
                redirects.extend(redirect)
                continue
            break
        if not (assigns or words or redirects):
            self.unexpected()
        if words and self.is_op("(") and len(words) == 1:
            self.unexpected()
        return Command(tuple(assigns), tuple(words), tuple(redirects))


def _assignment(word: Word) -> tuple[str, Word] | None:
    first = word.parts[0] if word.parts else None
    if not first or first[0] != "lit" or "=" not in first[1]:
        return None
    name, _, rest = first[1].partition("=")
    if not _NAME.fullmatch(name):
        return None
    value_parts = ((("lit", rest),) if rest else ()) + word.parts[1:]
    return name, Word(value_parts)


#: Scripts at least this long are parsed with the cyclic garbage collector paused.
_GC_PAUSE_CHARS = 65536


def parse(text: str) -> Script:
    """Parse a script (one line or many); raise ShellSyntaxError when it is malformed."""
    if not isinstance(text, str):
        raise ShellSyntaxError(repr(text), "the command must be a str")
    if len(text) < _GC_PAUSE_CHARS:
        return _Parser(_Lexer(text, text).tokens(), text).script_until_eof()
    # A long script makes hundreds of thousands of small tuples and no cycles:
    # the cyclic garbage collector would scan them again and again.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Parser(_Lexer(text, text).tokens(), text).script_until_eof()
    finally:
        if was_enabled:
            gc.enable()


def needs_more(text: str) -> bool:
    """Whether ``text`` is an unfinished command a terminal would continue (``PS2``).

    >>> needs_more("echo 'abc"), needs_more("for i in 1; do"), needs_more("echo a")
    (True, True, False)
    """
    try:
        parse(text)
    except ShellSyntaxError as exc:
        return exc.incomplete
    return False

"""Parsing shell command lines: words, quoting, variables, redirections, lists.

The grammar is the part of POSIX ``sh`` a learner types in a lab::

    list     := pipeline (( ';' | '&&' | '||' | newline ) pipeline)*
    pipeline := command ( '|' command )*
    command  := ( NAME=value )* ( word | redirection )*

Words keep their quoting so that variables are expanded when the command
runs, not when it is parsed.

>>> cmds = parse("X=1 echo \\"$X\\" > /tmp/out && cat /tmp/out || echo failed")
>>> [(c.connector, [w.text() for w in c.pipeline[0].words]) for c in cmds]
[(None, ['echo', '"$X"']), ('&&', ['cat', '/tmp/out']), ('||', ['echo', 'failed'])]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rosim._errors import ConfigError

__all__ = ["Command", "ListItem", "Redirect", "ShellSyntaxError", "Word", "needs_more",
           "parse"]


class ShellSyntaxError(ConfigError):
    """A command line cannot be parsed (unclosed quote, missing word...).

    ``shell_message`` is what sh itself prints, e.g. ``syntax error near
    unexpected token `&&'``.
    """

    def __init__(self, line: str, shell_message: str, incomplete: bool = False) -> None:
        super().__init__(f"command(={line!r}): {shell_message}")
        self.shell_message = shell_message
        #: True when more input could complete the command (an open quote,
        #: a trailing ``&&``...): a terminal then asks for another line.
        self.incomplete = incomplete


@dataclass(frozen=True)
class Word:
    """A shell word as segments: ``('lit'|'sq'|'dq', text)`` or ``('var', name, quoted)``."""

    parts: tuple[tuple, ...]

    def text(self) -> str:
        """The word as written (for messages and tests)."""
        out = []
        for part in self.parts:
            if part[0] == "lit":
                out.append(part[1])
            elif part[0] == "sq":
                out.append(f"'{part[1]}'")
            elif part[0] == "dq":
                out.append(f'"{part[1]}"')
            else:
                out.append("${" + part[1] + "}" if not part[2] else f'"${part[1]}"')
        text = "".join(out)
        return text.replace('""', "")


@dataclass(frozen=True)
class Redirect:
    """``fd`` ``op`` ``target``: op is '>', '>>', '<' or '>&' (target an fd)."""

    fd: int
    op: str
    target: Word


@dataclass(frozen=True)
class Command:
    """One simple command: assignments, words and redirections in order."""

    assignments: tuple[tuple[str, Word], ...] = ()
    words: tuple[Word, ...] = ()
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class ListItem:
    """A pipeline and how it joins the previous one (None, ';', '&&', '||')."""

    connector: str | None
    pipeline: tuple[Command, ...] = field(default_factory=tuple)


_OPERATORS = ("&&", "||", ">>", "2>>", "2>&1", ">&2", "1>&2", "&>", ">&", "2>", ">", "<", "|",
              ";", "&",
              "\n")
_SPECIAL = set(" \t\n;&|<>")


def _tokens(line: str) -> list[tuple[str, object]]:
    tokens: list[tuple[str, object]] = []
    i, n = 0, len(line)
    parts: list[tuple] = []
    in_word = False

    def flush() -> None:
        nonlocal parts, in_word
        if in_word:
            tokens.append(("word", Word(tuple(parts))))
        parts, in_word = [], False

    def add_lit(text: str) -> None:
        if parts and parts[-1][0] == "lit":
            parts[-1] = ("lit", parts[-1][1] + text)
        else:
            parts.append(("lit", text))

    while i < n:
        c = line[i]
        if not in_word and c == "#":
            while i < n and line[i] != "\n":
                i += 1
            continue
        if not in_word:
            matched = next((op for op in _OPERATORS if line.startswith(op, i)), None)
            if matched and not (matched[0] == "2" and i > 0 and line[i - 1] not in " \t;|&"):
                tokens.append(("op", matched))
                i += len(matched)
                continue
        if c in " \t":
            flush()
            i += 1
            continue
        if c in _SPECIAL:
            flush()
            continue
        in_word = True
        if c == "\\":
            if i + 1 < n:
                add_lit(line[i + 1])
            i += 2
        elif c == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError(line, "unexpected EOF while looking for matching `''",
                                       incomplete=True)
            parts.append(("sq", line[i + 1:end]))
            i = end + 1
        elif c == '"':
            i += 1
            buf = ""
            while i < n and line[i] != '"':
                if line[i] == "\\" and i + 1 < n and line[i + 1] in '"\\$`':
                    buf += line[i + 1]
                    i += 2
                elif line[i] == "$":
                    name, i = _var_name(line, i)
                    if name is None:
                        buf += "$"
                        continue
                    if buf:
                        parts.append(("dq", buf))
                        buf = ""
                    parts.append(("var", name, True))
                else:
                    buf += line[i]
                    i += 1
            if i >= n:
                raise ShellSyntaxError(line, "unexpected EOF while looking for matching `\"'",
                                       incomplete=True)
            parts.append(("dq", buf))
            i += 1
        elif c == "$":
            name, i = _var_name(line, i)
            if name is None:
                add_lit("$")
            else:
                parts.append(("var", name, False))
        else:
            add_lit(c)
            i += 1
    flush()
    return tokens


def _var_name(line: str, i: int) -> tuple[str | None, int]:
    """Read ``$NAME``, ``${NAME}`` or ``$?`` at ``line[i]``; return name and next index."""
    j = i + 1
    if j < len(line) and line[j] == "{":
        end = line.find("}", j)
        if end < 0:
            raise ShellSyntaxError(line, "bad substitution")
        return line[j + 1:end], end + 1
    if j < len(line) and line[j] in "?$#0123456789":
        return line[j], j + 1
    k = j
    while k < len(line) and (line[k].isalnum() or line[k] == "_"):
        k += 1
    if k == j:
        return None, i + 1
    return line[j:k], k


def _assignment(word: Word) -> tuple[str, Word] | None:
    first = word.parts[0] if word.parts else None
    if not first or first[0] != "lit" or "=" not in first[1]:
        return None
    name, _, rest = first[1].partition("=")
    if not name or not (name[0].isalpha() or name[0] == "_") or not all(
        ch.isalnum() or ch == "_" for ch in name
    ):
        return None
    value_parts = ((("lit", rest),) if rest else ()) + word.parts[1:]
    return name, Word(value_parts)


def parse(line: str) -> list[ListItem]:
    """Parse a command line into list items; raise ShellSyntaxError when malformed."""
    if not isinstance(line, str):
        raise ShellSyntaxError(repr(line), "the command must be a str")
    items: list[ListItem] = []
    pipeline: list[Command] = []
    words: list[Word] = []
    assigns: list[tuple[str, Word]] = []
    redirects: list[Redirect] = []
    connector: str | None = None
    tokens = _tokens(line)
    i = 0

    def end_command(required: bool, op: str) -> None:
        nonlocal words, assigns, redirects
        if not words and not assigns and not redirects:
            if required:
                raise ShellSyntaxError(line, f"syntax error near unexpected token `{op}'")
            return
        pipeline.append(Command(tuple(assigns), tuple(words), tuple(redirects)))
        words, assigns, redirects = [], [], []

    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "word":
            assert isinstance(value, Word)
            pair = _assignment(value) if not words else None
            if pair is not None:
                assigns.append(pair)
            else:
                words.append(value)
            i += 1
            continue
        op = value
        if op in ("2>&1", ">&2", "1>&2"):
            fd, target = (2, "1") if op == "2>&1" else (1, "2")
            redirects.append(Redirect(fd, ">&", Word((("lit", target),))))
            i += 1
            continue
        if op in (">", ">>", "<", "2>", "2>>", "&>", ">&"):
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "word":
                after = str(tokens[i + 1][1]) if i + 1 < len(tokens) else "newline"
                after = "newline" if after == "\n" else after
                raise ShellSyntaxError(line, f"syntax error near unexpected token `{after}'")
            target = tokens[i + 1][1]
            if op in ("&>", ">&"):
                # Both streams to the file: > FILE 2>&1.
                redirects.append(Redirect(1, ">", target))  # type: ignore[arg-type]
                redirects.append(Redirect(2, ">&", Word((("lit", "1"),))))
            else:
                fd = 2 if op.startswith("2") else (0 if op == "<" else 1)
                redirects.append(Redirect(fd, op.lstrip("2") or ">", target))  # type: ignore[arg-type]
            i += 2
            continue
        if op == "|":
            end_command(True, "|")
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "word":
                if i + 1 >= len(tokens):
                    raise ShellSyntaxError(line, "syntax error: unexpected end of file",
                                           incomplete=True)
                raise ShellSyntaxError(line, "syntax error: unexpected end of file"
                                       if i + 1 >= len(tokens)
                                       else f"syntax error near unexpected token "
                                            f"`{tokens[i + 1][1]}'")
            i += 1
            continue
        if op == "&":
            # A background job runs to completion here: nothing runs concurrently.
            op = ";"
        # ';', '&&', '||', newline end a pipeline
        had = bool(words or assigns or redirects)
        end_command(op in ("&&", "||") or (op == ";" and not pipeline and not had), str(op))
        if pipeline:
            items.append(ListItem(connector, tuple(pipeline)))
            pipeline = []
        elif op in ("&&", "||"):
            raise ShellSyntaxError(line, f"syntax error near unexpected token `{op}'")
        connector = None if op == "\n" else str(op)
        if op == ";":
            connector = ";"
        i += 1
    end_command(False, "newline")
    if pipeline:
        items.append(ListItem(connector, tuple(pipeline)))
    elif connector in ("&&", "||"):
        raise ShellSyntaxError(line, "syntax error: unexpected end of file", incomplete=True)
    return items


def needs_more(text: str) -> bool:
    """Whether ``text`` is an unfinished command a terminal would continue (``PS2``).

    >>> needs_more("echo 'abc"), needs_more("echo a &&"), needs_more("echo a")
    (True, True, False)
    """
    try:
        parse(text)
    except ShellSyntaxError as exc:
        return exc.incomplete
    return False

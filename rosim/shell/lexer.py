"""The shell's tokenizer: text to tokens in one pass, each character read once.

Common tokens (blanks, plain words, operators, ``"$NAME"``, words of plain
text, quotes and ``$NAME``) are matched by regular expressions; the rest
(backslashes, ``${...}``, ``$(...)``, backticks, ``$((...))``) by a
character loop. ``$(...)`` and backtick bodies are parsed on the way, and
here-document bodies are read after the line that names them.
"""

from __future__ import annotations

import re

from rosim.shell.syntax import HereDoc, ShellSyntaxError, Word

__all__: list[str] = []

_OPS = ("&&", "||", ";;", "<<-", "<<", ">>", ">&", "<&", ">|", "<>", "&>", ";", "&", "|",
        "(", ")", "<", ">", "\n")
_REDIR_OPS = {"<<-", "<<", ">>", ">&", "<&", ">|", "<>", "&>", "<", ">"}
_OP_RE = re.compile("|".join(re.escape(op) for op in _OPS))
_PLAIN = re.compile(r"[^ \t\n;&|<>()'\"\\$`]+")
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

    def _unterminated(self, quote: str) -> None:
        """The input ended inside a ``quote`` (bash's and busybox's messages)."""
        self.error(f"unexpected EOF while looking for matching `{quote}'", True,
                   "syntax error: unterminated quoted string")

    def _single_quoted(self) -> str:
        """The text of the single-quoted string at ``pos``; ``pos`` moves past it."""
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            self._unterminated("'")
        quoted = self.text[self.pos + 1:end]
        self.pos = end + 1
        return quoted

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
                quoted = self._single_quoted()
                parts.append(("sq", quoted))
                self.line += quoted.count("\n")
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
                self._unterminated('"')
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
            from rosim.shell.parser import _Parser

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
        sub = re.compile(r"\[([0-9]+|@|\*)\]\}").match(text, j)
        if sub and name == "PIPESTATUS":
            # bash's one array rosim keeps: ${PIPESTATUS[i]}, ${PIPESTATUS[@]}.
            self.pos = sub.end()
            return ("param", name, "index", sub.group(1))
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
                parts.append(("sq", self._single_quoted()))
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
            self._unterminated("`")
        source = "".join(body)
        self.line += source.count("\n")
        self.pos = i + 1
        sub = _Lexer(source, self.source)
        from rosim.shell.parser import _Parser

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

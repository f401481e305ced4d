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

The tokenizer (:mod:`rosim.shell.lexer`) reads each character once: a
one-megabyte line parses in well under a second; the tree's nodes are in
:mod:`rosim.shell.syntax`. A :class:`ShellSyntaxError` knows how both shells word
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

from rosim.shell.lexer import _CLOSERS, _NAME, _REDIR_OPS, _Lexer, _Tok
from rosim.shell.syntax import (
    AndOr,
    Case,
    Command,
    For,
    FunctionDef,
    Group,
    HereDoc,
    If,
    Pipeline,
    Redirect,
    Script,
    ShellSyntaxError,
    While,
    Word,
)

__all__ = ["AndOr", "Case", "Command", "For", "FunctionDef", "Group", "HereDoc", "If",
           "Pipeline", "Redirect", "Script", "ShellSyntaxError", "While", "Word", "needs_more",
           "parse"]


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

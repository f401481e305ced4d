"""Word expansion as sh does it: parameters, commands, arithmetic, splitting, globs.

Order (POSIX 2.6): tilde, parameter and command substitution and
arithmetic, then field splitting of the unquoted results on ``IFS``, then
pathname expansion (globs) of unquoted ``*``, ``?`` and ``[``. Quoted text
is never split or globbed; ``"$@"`` gives one field per argument.

>>> from rosim.shell.parser import parse
>>> arith("2 + 3 * (4 - 1)", {}.get, lambda n, v: None)
11
"""

from __future__ import annotations

import fnmatch
import glob
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from rosim.shell.parser import Word

if TYPE_CHECKING:
    from rosim.shell.interp import Shell

__all__ = ["ArithmeticError_", "arith", "expand_fields", "expand_pattern", "expand_text",
           "strip_pattern"]

_GLOB_CHARS = re.compile(r"[*?\[]")
#: What makes a pattern match files: * or ?, or a [ with a ] after it (a lone
#: "[" is an ordinary character, as in "[ -w /usr ]").
_GLOB = re.compile(r"[*?]|\[.*\]")


class ArithmeticError_(Exception):  # noqa: N801 - not the builtin ArithmeticError
    """An arithmetic expansion the shell refuses; ``token`` is the part it names."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.message = message
        self.token = token


# ------------------------------------------------------------------ fields
class _Fields:
    """Fields under construction: each a list of (text, quoted) and whether it must exist."""

    def __init__(self) -> None:
        self.fields: list[list[tuple[str, bool]]] = [[]]
        self.forced: list[bool] = [False]

    def add(self, text: str, quoted: bool) -> None:
        if text or quoted:
            self.fields[-1].append((text, quoted))
        if quoted:
            self.forced[-1] = True

    def split_add(self, value: str, ifs: str) -> None:
        """Add an unquoted expansion's value, split on IFS."""
        if not value:
            return
        white = "".join(c for c in ifs if c in " \t\n")
        other = "".join(c for c in ifs if c not in " \t\n")
        if not ifs:
            self.fields[-1].append((value, False))
            return
        pattern = (f"[{re.escape(white)}]*[{re.escape(other)}][{re.escape(white)}]*|"
                   f"[{re.escape(white)}]+") if other and white else (
            f"[{re.escape(other)}]" if other else f"[{re.escape(white)}]+")
        pieces = re.split(pattern, value)
        for i, piece in enumerate(pieces):
            if i > 0:
                self.new()
            if piece:
                self.fields[-1].append((piece, False))

    def new(self) -> None:
        if self.fields[-1] or self.forced[-1]:
            self.fields.append([])
            self.forced.append(False)

    def result(self, do_glob: bool) -> list[str]:
        out: list[str] = []
        for segs, forced in zip(self.fields, self.forced, strict=True):
            if not segs and not forced:
                continue
            text = "".join(t for t, _ in segs)
            if do_glob and any(not q and _GLOB.search(t) for t, q in segs):
                pattern = "".join(t if not q else glob.escape(t) for t, q in segs)
                matches = sorted(glob.glob(pattern))
                if matches:
                    out.extend(matches)
                    continue
            if segs or forced:
                out.append(text)
        return out


def expand_fields(word: Word, shell: Shell) -> list[str]:
    """Expand ``word`` into fields (split and globbed), as for a command's arguments."""
    parts = word.parts
    if len(parts) == 1 and parts[0][0] == "lit":
        text = parts[0][1]
        if not _GLOB.search(text) and not text.startswith("~"):
            return [text]
    fields = _Fields()
    ifs = shell.get_var("IFS", " \t\n")
    for index, part in enumerate(parts):
        kind = part[0]
        if kind == "lit":
            text = part[1]
            if index == 0 and (text == "~" or text.startswith("~/")):
                text = shell.get_var("HOME", "/root") + text[1:]
                fields.add(text, True)
                continue
            fields.add(text, False)
        elif kind == "sq":
            fields.add(part[1], True)
        elif kind == "dq":
            _dq(part[1], shell, fields)
        elif kind == "param" and part[1] in ("@", "*") and part[2] == "":
            for i, arg in enumerate(shell.args):
                if i:
                    fields.new()
                fields.split_add(arg, ifs)
        else:
            fields.split_add(_value(part, shell), ifs)
    return fields.result(do_glob=not shell.noglob)


def _dq(parts: tuple, shell: Shell, fields: _Fields) -> None:
    fields.forced[-1] = True
    for part in parts:
        if part[0] == "lit":
            fields.add(part[1], True)
        elif part[0] == "param" and part[1] == "@" and part[2] == "":
            args = shell.args
            if not args:
                if len(parts) == 1 and not fields.fields[-1]:
                    fields.forced[-1] = False
                continue
            for i, arg in enumerate(args):
                if i:
                    fields.new()
                    fields.forced[-1] = True
                fields.add(arg, True)
        else:
            fields.add(_value(part, shell, quoted=True), True)


def expand_text(word: Word | tuple, shell: Shell) -> str:
    """Expand ``word`` to one string: no splitting, no globbing (assignments, ``case``)."""
    parts = word.parts if isinstance(word, Word) else word
    out: list[str] = []
    for index, part in enumerate(parts):
        kind = part[0]
        if kind in ("lit", "sq"):
            text = part[1]
            if kind == "lit" and index == 0 and (text == "~" or text.startswith("~/")):
                text = shell.get_var("HOME", "/root") + text[1:]
            out.append(text)
        elif kind == "dq":
            out.append(expand_text(part[1], shell))
        else:
            out.append(_value(part, shell, quoted=True))
    return "".join(out)


def expand_pattern(word: Word, shell: Shell) -> str:
    """Expand ``word`` as a ``case`` pattern: quoted characters match themselves."""
    out: list[str] = []
    for part in word.parts:
        kind = part[0]
        if kind == "lit":
            out.append(part[1])
        elif kind == "sq":
            out.append(_escape(part[1]))
        elif kind == "dq":
            out.append(_escape(expand_text(part[1], shell)))
        else:
            out.append(_value(part, shell))
    return "".join(out)


def _escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


# ------------------------------------------------------------------ values
def _value(part: tuple, shell: Shell, quoted: bool = False) -> str:
    kind = part[0]
    if kind == "cmd":
        return shell.substitute(part[1])
    if kind == "arith":
        text = expand_text(_arith_word(part[1]), shell)
        try:
            return str(arith(text, shell.get_var_or_none, shell.set_var))
        except ArithmeticError_ as exc:
            shell.arith_error(text, exc)
            return ""
    if kind == "param":
        return _param(part, shell)
    return ""


def _arith_word(text: str) -> tuple:
    """The ``$((...))`` text parsed as a double-quoted string, for ``$X`` and ``$(...)``."""
    from rosim.shell.lexer import _Lexer

    lexer = _Lexer(text, text)
    return tuple(lexer._dq_parts(heredoc=True))


def _param(part: tuple, shell: Shell) -> str:
    name, op, arg = part[1], part[2], part[3]
    value = shell.get_var_or_none(name)
    if op == "":
        if value is None:
            shell.unset_reference(name)
        return value or ""
    if op == "len":
        return str(len(value or ""))
    if op == "index":
        if shell.dialect != "bash":  # busybox sh has no arrays
            shell.parameter_error("syntax error", "bad substitution")
        statuses = [str(s) for s in shell.pipestatus]
        if arg in ("@", "*"):
            return " ".join(statuses)
        index = int(arg)
        return statuses[index] if index < len(statuses) else ""
    if op in (":-", "-"):
        use_default = value is None or (op == ":-" and value == "")
        return expand_text(arg, shell) if use_default else str(value)
    if op in (":=", "="):
        if value is None or (op == ":=" and value == ""):
            value = expand_text(arg, shell)
            shell.set_var(name, value)
        return str(value)
    if op in (":+", "+"):
        use_alt = value is not None and (op == "+" or value != "")
        return expand_text(arg, shell) if use_alt else ""
    if op in (":?", "?"):
        if value is None or (op == ":?" and value == ""):
            message = expand_text(arg, shell) if arg is not None and arg.parts else ""
            shell.parameter_error(name, message)
        return str(value)
    pattern = expand_pattern(arg, shell) if arg is not None else ""
    return strip_pattern(value or "", pattern, op)


def strip_pattern(value: str, pattern: str, op: str) -> str:
    """``${X#p}``, ``${X##p}``, ``${X%p}``, ``${X%%p}``: remove a matching prefix or suffix.

    >>> strip_pattern("/usr/lib/libc.so", "*/", "##"), strip_pattern("a.tar.gz", ".*", "%")
    ('libc.so', 'a.tar')
    """
    n = len(value)
    if op in ("#", "##"):
        ends = range(0, n + 1) if op == "#" else range(n, -1, -1)
        for end in ends:
            if fnmatch.fnmatchcase(value[:end], pattern):
                return value[end:]
        return value
    starts = range(n, -1, -1) if op == "%" else range(0, n + 1)
    for start in starts:
        if fnmatch.fnmatchcase(value[start:], pattern):
            return value[:start]
    return value


# ------------------------------------------------------------------ arithmetic
_ARITH_TOKEN = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F]+|[0-9]+)|([A-Za-z_][A-Za-z0-9_]*)|"
    r"(\*\*=|<<=|>>=|\+\+|--|\*\*|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[-+*/%<>&|^!~?:=(),]))")

_BINARY = {  # operator: (precedence, right associative)
    ",": (1, False), "=": (2, True), "+=": (2, True), "-=": (2, True), "*=": (2, True),
    "/=": (2, True), "%=": (2, True), "<<=": (2, True), ">>=": (2, True), "&=": (2, True),
    "|=": (2, True), "^=": (2, True), "?": (3, True), "||": (4, False), "&&": (5, False),
    "|": (6, False), "^": (7, False), "&": (8, False), "==": (9, False), "!=": (9, False),
    "<": (10, False), ">": (10, False), "<=": (10, False), ">=": (10, False),
    "<<": (11, False), ">>": (11, False), "+": (12, False), "-": (12, False),
    "*": (13, False), "/": (13, False), "%": (13, False), "**": (14, True),
}


def _c_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _apply(op: str, a: int, b: int, text: str) -> int:
    if op in ("/", "%") and b == 0:
        raise ArithmeticError_("division by 0", str(b))
    result = {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
        "/": lambda: _c_div(a, b), "%": lambda: a - _c_div(a, b) * b,
        "**": lambda: a ** b if b >= 0 else 0, "<<": lambda: a << b, ">>": lambda: a >> b,
        "&": lambda: a & b, "|": lambda: a | b, "^": lambda: a ^ b,
        "<": lambda: int(a < b), ">": lambda: int(a > b), "<=": lambda: int(a <= b),
        ">=": lambda: int(a >= b), "==": lambda: int(a == b), "!=": lambda: int(a != b),
    }[op]()
    # Wrap like a 64-bit signed integer.
    result &= (1 << 64) - 1
    return result - (1 << 64) if result >= 1 << 63 else result


def arith(text: str, get: Callable[[str], str | None],
          assign: Callable[[str, str], None]) -> int:
    """Evaluate a shell arithmetic expression with 64-bit integers.

    ``get(name)`` reads a variable (unset or empty counts as 0), ``assign``
    sets one (``i += 1``). Raises :class:`ArithmeticError_` with bash's
    wording for a syntax error or a division by zero.
    """
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _ARITH_TOKEN.match(stripped, pos)
        if not m or m.end() == pos:
            rest = stripped[pos:].strip()
            raise ArithmeticError_("syntax error: invalid arithmetic operator", rest)
        pos = m.end()
        if m.group(1):
            tokens.append(("num", m.group(1)))
        elif m.group(2):
            tokens.append(("name", m.group(2)))
        else:
            tokens.append(("op", m.group(3)))
    if not tokens:
        return 0
    index = 0

    def peek() -> tuple[str, str] | None:
        return tokens[index] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        tok = peek()
        if tok is None:
            raise ArithmeticError_("syntax error: operand expected", "")
        index += 1
        return tok

    def rest_text() -> str:
        return " ".join(t[1] for t in tokens[index:])

    def number(value: str | None, name: str = "") -> int:
        if value is None or value.strip() == "":
            return 0
        value = value.strip()
        try:
            if value.lower().startswith("0x"):
                return int(value, 16)
            if len(value) > 1 and value.startswith("0") and value.isdigit():
                return int(value, 8)
            return int(value)
        except ValueError:
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
                return number(get(value), value)
            raise ArithmeticError_("syntax error: invalid arithmetic operator",
                                   value) from None

    def unary() -> tuple[int, str | None]:
        tok = take()
        kind, value = tok
        if kind == "op" and value in ("+", "-", "!", "~"):
            operand, _ = unary()
            return {"+": operand, "-": -operand, "!": int(not operand),
                    "~": ~operand}[value], None
        if kind == "op" and value in ("++", "--"):
            name_tok = take()
            if name_tok[0] != "name":
                raise ArithmeticError_("syntax error: operand expected", name_tok[1])
            new = number(get(name_tok[1])) + (1 if value == "++" else -1)
            assign(name_tok[1], str(new))
            return new, None
        if kind == "op" and value == "(":
            result = expression(0)
            closing = take()
            if closing != ("op", ")"):
                raise ArithmeticError_("missing `)'", closing[1])
            return result, None
        if kind == "num":
            return number(value), None
        if kind == "name":
            nxt = peek()
            if nxt is not None and nxt[0] == "op" and nxt[1] in ("++", "--"):
                take()
                old = number(get(value))
                assign(value, str(old + (1 if nxt[1] == "++" else -1)))
                return old, None
            return number(get(value), value), value
        raise ArithmeticError_("syntax error: operand expected (error token is "
                               f"\"{value} {rest_text()}\".strip())", value)

    def expression(min_prec: int) -> int:
        left, name = unary()
        while True:
            tok = peek()
            if tok is None or tok[0] != "op" or tok[1] not in _BINARY:
                return left
            op = tok[1]
            prec, right_assoc = _BINARY[op]
            if prec < min_prec:
                return left
            take()
            if op == "?":
                yes = expression(0)
                colon = take()
                if colon != ("op", ":"):
                    raise ArithmeticError_("syntax error: expected `:'", colon[1])
                no = expression(prec)
                left, name = (yes if left else no), None
                continue
            if op.endswith("=") and op not in ("==", "!=", "<=", ">="):
                if name is None:
                    raise ArithmeticError_("attempted assignment to non-variable", op)
                value = expression(prec)
                if op != "=":
                    value = _apply(op[:-1], left, value, text)
                assign(name, str(value))
                left, name = value, None
                continue
            if op == "&&" and not left:
                expression(prec + 1)
                left = 0
                continue
            if op == "||" and left:
                expression(prec + 1)
                left = 1
                continue
            right = expression(prec + (0 if right_assoc else 1))
            if op in ("&&", "||"):
                left = int(bool(right))
            elif op == ",":
                left = right
            else:
                left = _apply(op, left, right, text)
            name = None

    result = expression(0)
    if index < len(tokens):
        raise ArithmeticError_("syntax error in expression", rest_text())
    return result

"""``awk``: the part learners use, fields and simple patterns.

``awk [-F SEP] 'PROGRAM' [FILE...]`` with rules ``PATTERN { ACTION }``:
``BEGIN``/``END``, ``/RE/`` and comparisons (``$2 > 2``, ``$1 == "x"``,
``$3 ~ /re/``) as patterns; ``print`` of fields and strings, ``printf``,
``x = ...``, ``x += ...``, ``x++`` as actions; ``$0``, ``$N``, ``$NF``,
``NR`` and ``NF``.

>>> _Awk("{print $2, NR}", None).run("a b\\nc d\\n")
'b 1\\nd 2\\n'
"""

from __future__ import annotations

import re

from rosim.shell.interp import Proc, program
from rosim.shell.textutils import _read_inputs

__all__: list[str] = []

_AWK_RULE = re.compile(r"\s*(BEGIN|END|/(?:[^/\\]|\\.)*/|[^{]*?)\s*\{(.*?)\}\s*;?", re.S)


def _awk_split(line: str, separator: str | None) -> list[str]:
    if separator is None or separator == " ":
        return line.split()
    if len(separator) == 1 and separator != "\\":
        return line.split(separator)
    return re.split(separator, line)


class _Awk:
    """A tiny awk: rules with patterns, print/printf of fields, NR/NF, simple conditions."""

    def __init__(self, program_text: str, separator: str | None) -> None:
        self.separator = separator
        self.rules: list[tuple[str, str]] = []
        text = program_text.strip()
        pos = 0
        while pos < len(text):
            m = _AWK_RULE.match(text, pos)
            if not m:
                rest = text[pos:].strip()
                if rest:
                    self.rules.append((rest, "print"))
                break
            self.rules.append((m.group(1).strip(), m.group(2)))
            pos = m.end()
        self.nr = 0
        self.vars: dict[str, str] = {}

    def value(self, expr: str, fields: list[str], line: str) -> str:
        expr = expr.strip()
        if expr.startswith('"') and expr.endswith('"') and len(expr) >= 2:
            return expr[1:-1].replace("\\n", "\n").replace("\\t", "\t")
        if expr.startswith("$"):
            index_text = expr[1:].strip("()")
            if index_text == "NF":
                index = len(fields)
            else:
                try:
                    index = int(self.value(index_text, fields, line) or 0)
                except ValueError:
                    index = 0
            if index == 0:
                return line
            return fields[index - 1] if 0 < index <= len(fields) else ""
        if expr == "NR":
            return str(self.nr)
        if expr == "NF":
            return str(len(fields))
        if re.fullmatch(r"-?\d+(\.\d+)?", expr):
            return expr
        return self.vars.get(expr, "")

    def concat(self, expr: str, fields: list[str], line: str) -> str:
        tokens = re.findall(r'"(?:[^"\\]|\\.)*"|\$\(?[A-Za-z0-9_]+\)?|[A-Za-z_][A-Za-z0-9_]*|'
                            r"-?\d+(?:\.\d+)?", expr)
        return "".join(self.value(t, fields, line) for t in tokens)

    def condition(self, pattern: str, fields: list[str], line: str) -> bool:
        if not pattern:
            return True
        if pattern.startswith("/") and pattern.endswith("/"):
            return re.search(pattern[1:-1], line) is not None
        m = re.fullmatch(r"(.+?)\s*(==|!=|>=|<=|>|<|~|!~)\s*(.+)", pattern)
        if not m:
            return bool(self.value(pattern, fields, line))
        left, op, right = m.groups()
        lv = self.value(left, fields, line)
        if op in ("~", "!~"):
            found = re.search(right.strip().strip("/"), lv) is not None
            return found if op == "~" else not found
        rv = self.value(right, fields, line)
        try:
            a, b = float(lv), float(rv)
            pair: tuple[object, object] = (a, b)
        except ValueError:
            pair = (lv, rv)
        x, y = pair
        return {"==": x == y, "!=": x != y, ">=": x >= y, "<=": x <= y,  # type: ignore[operator]
                ">": x > y, "<": x < y}[op]  # type: ignore[operator]

    def action(self, action: str, fields: list[str], line: str, out: list[str]) -> None:
        for statement in re.split(r";|\n", action):
            statement = statement.strip()
            if not statement:
                continue
            if statement == "print" or statement.startswith("print "):
                items = statement[5:].strip()
                if not items:
                    out.append(line + "\n")
                    continue
                parts = _split_commas(items)
                out.append(" ".join(self.concat(p, fields, line) for p in parts) + "\n")
            elif statement.startswith("printf"):
                parts = _split_commas(statement[6:].strip().strip("()"))
                fmt = self.value(parts[0], fields, line)
                values = [self.concat(p, fields, line) for p in parts[1:]]
                out.append(_c_format(fmt, values))
            else:
                m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*(\+?=|\+\+)\s*(.*)", statement)
                if m:
                    name, op, expr = m.groups()
                    if op == "++":
                        self.vars[name] = _num(float(self.vars.get(name) or 0) + 1)
                    elif op == "+=":
                        self.vars[name] = _num(float(self.vars.get(name) or 0)
                                               + float(self.concat(expr, fields, line) or 0))
                    else:
                        self.vars[name] = self.concat(expr, fields, line)

    def run(self, text: str) -> str:
        out: list[str] = []
        for pattern, action in self.rules:
            if pattern == "BEGIN":
                self.action(action, [], "", out)
        lines = text.split("\n")
        if text.endswith("\n"):
            lines.pop()
        for line in lines if text else []:
            self.nr += 1
            fields = _awk_split(line, self.separator)
            for pattern, action in self.rules:
                if pattern in ("BEGIN", "END"):
                    continue
                if self.condition(pattern, fields, line):
                    self.action(action, fields, line, out)
        for pattern, action in self.rules:
            if pattern == "END":
                self.action(action, [], "", out)
        return "".join(out)


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _split_commas(text: str) -> list[str]:
    parts, depth, quote, current = [], 0, False, []
    for c in text:
        if c == '"':
            quote = not quote
        elif not quote and c == "(":
            depth += 1
        elif not quote and c == ")":
            depth -= 1
        if c == "," and not quote and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(c)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _c_format(fmt: str, values: list[str]) -> str:
    def convert(m: re.Match[str]) -> str:
        spec, conv = m.group(1), m.group(2)
        if conv == "%":
            return "%"
        value = values.pop(0) if values else ""
        try:
            if conv in "di":
                return f"%{spec}d" % int(float(value or 0))
            if conv in "feg":
                return f"%{spec}{conv}" % float(value or 0)
        except ValueError:
            return f"%{spec}d" % 0
        return f"%{spec}s" % value

    return re.sub(r"%([-+ #0-9.]*)([sdifeg%c])", convert, fmt)


@program("awk")
def _awk(proc: Proc) -> int:
    args = proc.argv[1:]
    separator = None
    while args and args[0].startswith("-F"):
        flag = args.pop(0)
        if flag == "-F":
            if not args:
                proc.err("awk: option requires an argument -- F\n")
                return 2
            separator = args.pop(0)
        else:
            separator = flag[2:]
        separator = "\t" if separator == "\\t" else separator
    if not args:
        proc.err("usage: awk [-F fs] 'program' [file ...]\n")
        return 2
    program_text, files = args[0], args[1:]
    awk = _Awk(program_text, separator)
    inputs, status = _read_inputs(proc, files)
    proc.out(awk.run("".join(t for _, t in inputs)))
    return 2 if status else 0

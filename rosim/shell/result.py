"""The outcome of a command: output streams, exit status and a transcript."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CONTINUATION_PROMPT", "ExecResult", "Transcript", "html_transcript"]

#: The prompt before the second and later lines of one command (``PS2``).
CONTINUATION_PROMPT = "> "
#: Colours of the terminal rendering (Okabe–Ito): the prompt and errors.
PROMPT_COLOUR = "#009E73"
ERROR_COLOUR = "#D55E00"


@dataclass(frozen=True)
class ExecResult:
    """What ``Container.sh`` / ``Container.exec`` returns.

    ``stdout`` and ``stderr`` are the two streams; ``output`` keeps them
    interleaved as ``(stream, text)`` pairs in the order they were written, so
    that :attr:`transcript` reads like a terminal.
    """

    command: str
    status: int
    output: tuple[tuple[str, str], ...]
    prompt: str = "sh-4.4# "

    @property
    def stdout(self) -> str:
        """Everything written to standard output."""
        return "".join(text for stream, text in self.output if stream == "stdout")

    @property
    def stderr(self) -> str:
        """Everything written to standard error."""
        return "".join(text for stream, text in self.output if stream == "stderr")

    @property
    def ok(self) -> bool:
        """True when the exit status is 0."""
        return self.status == 0

    @property
    def transcript(self) -> str:
        """The prompt, the command and its output, as a terminal shows them.

        A command typed over several lines shows the continuation prompt
        (``> ``, bash's ``PS2``) before each line after the first.
        """
        text = "".join(t for _, t in self.output)
        if text and not text.endswith("\n"):
            text += "\n"
        command = self.command.replace("\n", "\n" + CONTINUATION_PROMPT)
        return f"{self.prompt}{command}\n{text}"

    def __str__(self) -> str:
        return self.transcript

    def html_lines(self) -> str:
        """The transcript as HTML (no enclosing ``<pre>``): prompt bold, errors coloured."""
        command = html.escape(self.command).replace(
            "\n", "\n" + html.escape(CONTINUATION_PROMPT))
        body = "".join(
            f'<span style="color:{ERROR_COLOUR}">{html.escape(t)}</span>' if s == "stderr"
            else html.escape(t)
            for s, t in self.output
        )
        if body and not self.output[-1][1].endswith("\n"):
            body += "\n"
        return (f'<b><span style="color:{PROMPT_COLOUR}">{html.escape(self.prompt)}</span>'
                f"{command}</b>\n{body}")

    def _repr_html_(self) -> str:
        return html_transcript([self])


def html_transcript(results: Sequence[ExecResult], before: str = "") -> str:
    """Results as one terminal-like ``<pre>`` block; ``before`` is plain text shown first."""
    return ('<pre class="rosim-terminal" style="background:#111;color:#eee;padding:6px;'
            'white-space:pre-wrap">' + html.escape(before)
            + "".join(r.html_lines() for r in results) + "</pre>")


@dataclass(frozen=True)
class Transcript:
    """Several command lines of one session, shown as a terminal shows them.

    ``str()`` (and IPython's plain-text view) is the plain transcript; in
    JupyterLab the HTML view colours the prompt and the error output.

    >>> r = ExecResult("echo hi", 0, (("stdout", "hi\\n"),), "/ # ")
    >>> print(Transcript((r, r)), end="")
    / # echo hi
    hi
    / # echo hi
    hi
    """

    results: tuple[ExecResult, ...]
    #: Text printed before the first prompt (start-up files, notices).
    before: str = ""

    @property
    def text(self) -> str:
        """The plain-text transcript."""
        return self.before + "".join(r.transcript for r in self.results)

    @property
    def status(self) -> int:
        """The exit status of the last command (0 when there was none)."""
        return self.results[-1].status if self.results else 0

    def __str__(self) -> str:
        return self.text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.text.rstrip("\n"))

    def _repr_html_(self) -> str:
        return html_transcript(self.results, self.before)

"""The outcome of a command: output streams, exit status and a transcript."""

from __future__ import annotations

import html
from dataclasses import dataclass

__all__ = ["ExecResult"]


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
        """The prompt, the command and its output, as a terminal shows them."""
        text = "".join(t for _, t in self.output)
        if text and not text.endswith("\n"):
            text += "\n"
        return f"{self.prompt}{self.command}\n{text}"

    def __str__(self) -> str:
        return self.transcript

    def _repr_html_(self) -> str:
        body = "".join(
            f'<span style="color:#D55E00">{html.escape(t)}</span>' if s == "stderr"
            else html.escape(t)
            for s, t in self.output
        )
        return (f'<pre style="background:#111;color:#eee;padding:6px">'
                f"<b>{html.escape(self.prompt)}{html.escape(self.command)}</b>\n{body}</pre>")

"""A terminal into a simulated container, as an ipywidgets panel.

:func:`terminal` returns a :class:`Terminal`: a header naming the
container (image, runtime, whether the root is read-only), a scrollback of
the session as a terminal shows it (errors in colour), and a prompt line.
Enter runs the line in the container's shell session (a
:class:`~rosim.shell.console.Console`); the ↑ and ↓ buttons walk the
command history. The panel only displays what the console returns, so
code and tests can drive it without a browser::

    term = rosim.terminal(ctr)
    term.line.value = "dnf install nc"
    term.submit()
    term.text   # ... Config error: Read-only file system: '/var/log/dnf.log'
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from rosim._errors import ConfigError, RosimError
from rosim.shell.console import Console
from rosim.shell.result import ERROR_COLOUR, ExecResult, html_transcript

if TYPE_CHECKING:
    from rosim.runtime.container import Container

__all__ = ["Terminal", "terminal"]

#: Hint shown in the empty prompt line.
PLACEHOLDER = "type a command and press Enter"


class Terminal:
    """An ipywidgets terminal on one container's shell session.

    Widgets, as attributes: ``header`` (HTML: the container's identity),
    ``screen`` (HTML: the scrollback), ``prompt`` (Label: ``PS1`` or
    ``PS2``), ``line`` (Text: the command being typed), ``up``/``down``
    (Buttons: history). ``widget`` is the whole panel. ``scrollback`` is how
    many results the screen keeps (older ones scroll away).
    """

    def __init__(self, container: Container, login: bool = False,
                 scrollback: int = 200) -> None:
        import ipywidgets as w

        if not isinstance(scrollback, int) or isinstance(scrollback, bool) or scrollback < 1:
            raise ConfigError(f"scrollback(={scrollback!r}) must be an int >= 1.")
        self.console = Console(container, login)
        self.scrollback = scrollback
        self._shown: list[ExecResult] = []
        self._notes: list[str] = []
        self._cursor: int | None = None
        self.header = w.HTML(self._header_html())
        self.screen = w.HTML(layout=w.Layout(width="100%"))
        self.prompt = w.Label(self.console.prompt,
                              layout=w.Layout(width="auto", margin="0 4px 0 0"))
        self.line = w.Text(placeholder=PLACEHOLDER, continuous_update=True,
                           layout=w.Layout(flex="1 1 auto", width="auto"))
        self.up = w.Button(description="↑", tooltip="previous command",
                           layout=w.Layout(width="36px"))
        self.down = w.Button(description="↓", tooltip="next command",
                             layout=w.Layout(width="36px"))
        self.prompt.add_class("rosim-prompt")
        self.line.add_class("rosim-line")
        self.line.on_msg(self._message)
        self.up.on_click(lambda _: self.history_up())
        self.down.on_click(lambda _: self.history_down())
        self.widget = w.VBox([self.header, self.screen,
                              w.HBox([self.prompt, self.line, self.up, self.down])],
                             layout=w.Layout(width="100%", max_width="900px"))
        self.widget.add_class("rosim-terminal-widget")
        self._render()

    # ------------------------------------------------------------ actions
    def submit(self) -> ExecResult | None:
        """Run what the prompt line holds (as Enter does); return its result if it ran."""
        line = self.line.value
        self.line.value = ""
        self._cursor = None
        try:
            result = self.console.feed(line)
        except RosimError as exc:
            # A stopped or removed container: say so on the screen, as a
            # terminal whose connection closed would.
            self._notes.append(str(exc))
            self._render()
            return None
        if result is not None:
            self._shown.append(result)
            del self._shown[:-self.scrollback]
            if self.console.exited:
                self._notes.append(f"exit (status {result.status}); the next command opens "
                                   "a new shell")
        self._render()
        return result

    def history_up(self) -> None:
        """Put the previous command of the history in the prompt line (↑)."""
        history = self.console.history
        if not history:
            return
        self._cursor = len(history) - 1 if self._cursor is None else max(0, self._cursor - 1)
        self.line.value = history[self._cursor]

    def history_down(self) -> None:
        """Put the next command in the prompt line, or empty it past the newest (↓)."""
        history = self.console.history
        if self._cursor is None:
            return
        self._cursor += 1
        if self._cursor >= len(history):
            self._cursor = None
            self.line.value = ""
        else:
            self.line.value = history[self._cursor]

    # ------------------------------------------------------------ views
    @property
    def text(self) -> str:
        """The scrollback as plain text (what the screen shows, without colour)."""
        pending = "".join(
            (self.console.container.prompt if i == 0 else "> ") + line + "\n"
            for i, line in enumerate(self.console.pending))
        return "".join(r.transcript for r in self._shown) + pending

    def _header_html(self) -> str:
        ctr = self.console.container
        ro = ctr.read_only
        badge = (f'<span style="color:white;background:{"#0072B2" if ro else ERROR_COLOUR};'
                 f'padding:0 4px">root {"read-only" if ro else "read-write"}</span>')
        return (f"<b>{html.escape(ctr.name)}</b> · image <code>{html.escape(ctr.image.name)}"
                f"</code> · runtime <code>{html.escape(str(ctr.runtime.profile))}</code> · "
                f"{badge}")

    def _render(self) -> None:
        before = "".join(t for _, t in self.console.session.startup.output)
        body = html_transcript(self._shown, before)
        pending = "".join(
            html.escape((self.console.container.prompt if i == 0 else "> ") + line) + "\n"
            for i, line in enumerate(self.console.pending))
        notes = "".join(f"<i>[{html.escape(n)}]</i>\n" for n in self._notes[-1:])
        self._notes = self._notes[-1:]
        if pending or notes:
            body = body[:-len("</pre>")] + pending + notes + "</pre>"
        # column-reverse keeps the newest lines in view, as a terminal scrolls.
        self.screen.value = ('<div style="max-height:22em;overflow-y:auto;display:flex;'
                             f'flex-direction:column-reverse">{body}</div>')
        self.prompt.value = self.console.prompt

    def _message(self, widget: Any, content: dict[str, Any], buffers: Any) -> None:
        if content.get("event") == "submit":
            self.submit()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def terminal(container: Container, login: bool = False, scrollback: int = 200) -> Terminal:
    """A :class:`Terminal` widget on ``container`` (running; needs ipywidgets).

    Display it in a notebook cell and type commands; ``login=True`` starts a
    login shell (reads ``/etc/profile.d/*.sh``).
    """
    return Terminal(container, login, scrollback)

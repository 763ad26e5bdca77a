"""A one-line tab strip for narrow terminals: which pane is shown, and its number key.

Textual's Tabs takes two lines and hides the keys; over SSH at 80x24 a line is worth keeping
and the digits are how a person without a mouse switches panes.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from polyb0t_tui.keymap import PANES as PANES  # with the bindings: the number keys pick them


class PaneTabs(Widget):
    class Picked(Message):
        def __init__(self, pane: str) -> None:
            super().__init__()
            self.pane = pane

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active = PANES[0][0]
        self._spans: list[tuple[int, int, str]] = []

    def activate(self, pane: str) -> None:
        if pane != self.active:
            self.active = pane
            self.refresh()

    def render(self) -> Text:
        out = Text()
        self._spans = []
        for n, (key, title) in enumerate(PANES, 1):
            label = f" {n} {title} "
            start = out.cell_len
            out.append(label, style="reverse bold" if key == self.active else "dim")
            self._spans.append((start, out.cell_len, key))
            out.append(" ")
        return out

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.post_message(self.Picked(key))

"""Engine log lines and the console's own messages, newest at the bottom, bounded.

RichLog keeps at most `max_lines`; the view store upstream is bounded too, so a chatty engine
can never grow the console's memory.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from engine.feed.view import LogLine
from polyb0t_tui import formatting as fmt

LEVEL_STYLE = {"ERROR": "bold red", "CRITICAL": "bold red", "WARNING": "yellow", "DEBUG": "dim"}
MAX_LINES = 500


class LogPane(RichLog):
    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            max_lines=MAX_LINES, wrap=False, highlight=False, markup=False, id=id, classes=classes
        )

    def add_lines(self, lines: tuple[LogLine, ...]) -> None:
        for ln in lines:
            self.add(ln.ts, ln.level, ln.message)

    def add(self, ts: float, level: str, message: str) -> None:
        text = Text(fmt.clock_time(ts) + " ", style="dim")
        text.append(f"{level[:4]:<4} ", style=LEVEL_STYLE.get(level, ""))
        text.append(message)
        self.write(text)

"""One line that says what the engine is doing and with whose money.

The mode badge comes first and is never cut: PAPER, LIVE DRY-RUN and LIVE each have their own
colour, so nobody mistakes a live console for a paper one. The rest is added in order of
importance while it fits the width; a kill-switch reason is shortened before money figures
are dropped.
"""

from __future__ import annotations

from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from engine.feed.view import StatusView
from polyb0t_tui import formatting as fmt
from polyb0t_tui.columns import cell

MODE_CLASS = {"PAPER": "paper", "LIVE DRY-RUN": "dryrun", "LIVE": "live"}
STATE_CLASS = {
    "running": "ok",
    "paused": "warn",
    "halted": "bad",
    "stopped": "warn",
    "starting": "muted",
}


class StatusBar(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "status-bar--paper",
        "status-bar--dryrun",
        "status-bar--live",
        "status-bar--ok",
        "status-bar--warn",
        "status-bar--bad",
        "status-bar--muted",
    }

    def __init__(
        self, *, stale_seconds: float = 120.0, link_label: str = "", id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.status: StatusView | None = None
        self.stale_seconds = stale_seconds
        self.link_label = link_label
        self.state_override: str | None = None  # e.g. "stopped" once the engine worker ended

    def show(self, status: StatusView | None) -> None:
        if status is not None and status != self.status:
            self.status = status
            self.refresh()

    def set_state_override(self, state: str | None) -> None:
        self.state_override = state
        self.refresh()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"status-bar--{name}", partial=True)

    def render(self) -> Text:
        s = self.status
        width = self.size.width
        if s is None:
            return Text(" waiting for the engine…", style=self._style("muted"))
        badge = f" {s.mode} "
        state = self.state_override or s.state
        age_style = (
            "ok"
            if s.data_age < self.stale_seconds / 4
            else ("warn" if s.data_age < self.stale_seconds else "bad")
        )
        pnl_style = "ok" if s.pnl_today > 0 else ("bad" if s.pnl_today < 0 else "muted")
        # (text, short text, style, priority): lower priorities survive narrower terminals;
        # short labels are tried before anything at priority 1 or 2 is dropped
        parts: list[tuple[str, str, str | None, int]] = [
            (s.source, s.source, None, 2),
            (state.upper(), state.upper(), STATE_CLASS.get(state, "warn"), 0),
            # when halted the reason matters more than data freshness
            (
                f"data {fmt.age(s.data_age)}",
                f"data {fmt.age(s.data_age)}",
                age_style,
                2 if s.reason else 1,
            ),
            (f"cash {fmt.money(s.cash)}", f"cash {fmt.money(s.cash)}", None, 1),
            (f"equity {fmt.money(s.equity)}", f"eq {fmt.money(s.equity)}", None, 1),
            (
                f"today {fmt.signed_money(s.pnl_today)}",
                f"day {fmt.signed_money(s.pnl_today)}",
                pnl_style,
                1,
            ),
            (f"cycle {s.cycle}", "", "muted", 3),
            (f"{fmt.utc(s.ts)} UTC", "", "muted", 4),
        ]
        if self.link_label:
            parts.insert(1, (self.link_label, self.link_label, "muted", 3))
        reason = s.reason if state in ("halted", "paused") and s.reason else ""
        want = min(cell_len(reason) + 2, 16) if reason else 0  # room a reason needs at least
        shown: list[tuple[str, str | None]] = []
        used = 0
        tries = [(c, False) for c in (4, 3)] + [(c, short) for c in (2, 1, 0) for short in (0, 1)]
        for cutoff, short in tries:
            shown = [(p[1] if short else p[0], p[2]) for p in parts if p[3] <= cutoff]
            used = cell_len(badge) + sum(cell_len(t) + 2 for t, _ in shown) + 1
            if used + want <= width:
                break
        out = Text(no_wrap=True, overflow="ellipsis")
        out.append(badge, style=self._style(MODE_CLASS.get(s.mode, "live")))
        for text, style in shown:
            out.append("  ")
            out.append(text, style=self._style(style) if style else None)
            if text == state.upper() and reason:
                room = max(width - used - 2, 8)
                out.append(": " + cell(reason, room, False).rstrip(), style=self._style("bad"))
        return out

"""Latest signals, newest first: what the strategy wanted and what risk decided.

A rejected signal shows its reason in the last column, which is the first thing a trader asks
when the engine is not trading. Enter opens the market.
"""

from __future__ import annotations

from typing import ClassVar

from textual.binding import BindingType

from engine.feed.view import SignalView
from polyb0t_tui import formatting as fmt
from polyb0t_tui.columns import Column
from polyb0t_tui.keymap import SIGNALS, textual_bindings
from polyb0t_tui.messages import OpenMarket
from polyb0t_tui.widgets.pane_table import PaneRow, PaneTable

DECISION_STYLE = {"order": "ok", "intent": "strong", "rejected": "dim"}


class SignalPane(PaneTable):
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("time", "Time", 8, drop=3),
        Column("market", "Market", 14, flex=2),
        Column("side", "Side", 7),
        Column("p_model", "P", 5, right=True),
        Column("p_market", "Mkt", 5, right=True),
        Column("edge", "Edge", 5, right=True),
        Column("size", "Size", 7, right=True),
        Column("decision", "Decision", 8),
        Column("reason", "Reason", 16, flex=1, drop=1),
    )
    EMPTY = "no signals yet"
    BINDINGS: ClassVar[list[BindingType]] = textual_bindings(SIGNALS)  # polyb0t_tui.keymap

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._signals: tuple[SignalView, ...] = ()

    def show(self, signals: tuple[SignalView, ...]) -> None:
        if signals == self._signals:
            return
        self._signals = signals
        self.set_rows([_row(n, s) for n, s in enumerate(signals)])

    def action_open(self) -> None:
        if 0 <= self.cursor < len(self._signals):
            s = self._signals[self.cursor]
            self.post_message(OpenMarket(s.market_id, s.question))


def _row(n: int, s: SignalView) -> PaneRow:
    return PaneRow(
        key=f"{s.ts}:{s.market_id}:{s.outcome}:{s.side}:{n}",
        cells=(
            (fmt.clock_time(s.ts), "dim"),
            (s.question, None),
            (fmt.side_label(s.side, s.outcome), None),
            (fmt.cents(s.p_model), None),
            (fmt.cents(s.p_market), None),
            (fmt.signed_cents(s.edge), "strong" if s.edge > 0 else None),
            (f"{s.size:,.2f}", None),
            (s.decision, DECISION_STYLE.get(s.decision)),
            (s.reason or "", "dim"),
        ),
    )


class MarketSignals(SignalPane):
    """Our signals on one market (the detail screen): the market column would repeat."""

    HIDDEN = frozenset({"market"})
    EMPTY = "no signals on this market yet"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "open"

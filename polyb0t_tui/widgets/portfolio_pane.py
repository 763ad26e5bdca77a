"""Money at a glance: cash, equity, PnL, exposure by event group, positions, equity curve.

Exposure is grouped by event because outcomes of one event move together: five positions in
one election are one bet, and the risk limits count them that way too.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Sparkline, Static

from engine.feed.view import PortfolioView, PositionView
from polyb0t_tui import formatting as fmt
from polyb0t_tui.columns import Column
from polyb0t_tui.widgets.pane_table import PaneRow, PaneTable

EVENTS_SHOWN = 3


class PositionTable(PaneTable):
    COLUMNS: ClassVar[tuple[Column, ...]] = (
        Column("market", "Position", 12, flex=1),
        Column("outcome", "Out", 3),
        Column("size", "Shares", 8, right=True, drop=1),
        Column("avg", "Avg", 5, right=True, drop=3),
        Column("mark", "Mark", 5, right=True, drop=2),
        Column("unrealized", "Unreal.", 8, right=True),
        Column("realized", "Real.", 8, right=True, drop=4),
    )
    EMPTY = "no positions"


class PortfolioPane(Horizontal):
    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: PortfolioView | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="pf-summary")
        with Vertical(id="pf-right"):
            yield Sparkline([], id="pf-equity")
            yield PositionTable(id="pf-positions")

    def show(self, pf: PortfolioView | None) -> None:
        if pf is None or pf == self._shown:
            return
        self._shown = pf
        self.query_one("#pf-summary", Static).update(_summary(pf), layout=False)
        self.query_one("#pf-equity", Sparkline).data = list(pf.equity_curve)
        self.query_one(PositionTable).set_rows([_row(p) for p in pf.positions])


def _summary(pf: PortfolioView) -> Text:
    out = Text(no_wrap=True, overflow="ellipsis")

    def add(label: str, value: str, style: str = "", label_style: str = "") -> None:
        if out:
            out.append("\n")
        out.append(f"{label:<11}", style=label_style)
        out.append(f"{value:>12}", style=style)

    def pnl(v: float) -> str:
        return "green" if v > 0.005 else ("red" if v < -0.005 else "")

    add("cash", fmt.money(pf.cash))
    add("equity", fmt.money(pf.equity))
    add("realised", fmt.signed_money(pf.realized), pnl(pf.realized))
    add("unrealised", fmt.signed_money(pf.unrealized), pnl(pf.unrealized))
    add("exposure", fmt.money(pf.exposure))
    for event, value in pf.exposure_by_event[:EVENTS_SHOWN]:
        add(f" ev {event}"[:11], fmt.money(value), label_style="dim")
    more = len(pf.exposure_by_event) - EVENTS_SHOWN
    if more > 0:
        add(f" +{more} more", "", label_style="dim")
    return out


def _row(p: PositionView) -> PaneRow:
    return PaneRow(
        key=f"{p.market_id}:{p.outcome}",
        cells=(
            (p.question, None),
            (p.outcome, None),
            (f"{p.size:,.2f}", None),
            (fmt.cents(p.avg_price), None),
            (fmt.cents(p.mark), None),
            (fmt.signed_money(p.unrealized), "up" if p.unrealized > 0 else "down"),
            (fmt.signed_money(p.realized), None),
        ),
    )

"""One market up close: price history, depth ladder, our signals on it, end date and rules.

The detail is fetched through the link (a thread in-process, a request when attached), never
on the UI thread, and fetched again only when the bridge reports that this market's row
changed, so an open detail screen costs nothing while its market is quiet.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from engine.feed.link import EngineLink
from engine.feed.view import MarketDetail, StatusView, ViewDelta
from polyb0t_tui import formatting as fmt
from polyb0t_tui.keymap import MARKET_DETAIL, textual_bindings
from polyb0t_tui.widgets.depth_ladder import DepthLadder
from polyb0t_tui.widgets.price_chart import PriceChart
from polyb0t_tui.widgets.signal_pane import MarketSignals
from polyb0t_tui.widgets.status_bar import StatusBar


class MarketDetailScreen(Screen[None]):
    VERTICAL_BREAKPOINTS = [(0, "-short"), (40, "-tall")]  # noqa: RUF012 (see dashboard)
    BINDINGS: ClassVar[list[BindingType]] = textual_bindings(MARKET_DETAIL)  # polyb0t_tui.keymap

    def __init__(
        self,
        market_id: str,
        question: str,
        link: EngineLink,
        *,
        status: StatusView | None = None,
        stale_seconds: float = 120.0,
        link_label: str = "",
    ) -> None:
        super().__init__()
        self.market_id = market_id
        self.question = question
        self.link = link
        self.detail: MarketDetail | None = None
        self.now = float("nan")
        self._status_bar = StatusBar(stale_seconds=stale_seconds, link_label=link_label)
        self._status_bar.status = status

    def compose(self) -> ComposeResult:
        yield self._status_bar
        yield Static(Text(self.question, style="bold"), id="detail-title")
        yield Static("loading…", id="detail-meta", markup=False)
        with Horizontal(id="detail-top"):
            yield PriceChart(id="detail-chart")
            yield DepthLadder(id="detail-ladder")
        yield MarketSignals(id="detail-signals")
        with VerticalScroll(id="detail-rules"):
            yield Static("", id="detail-rules-text", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#detail-chart").border_title = "mid, ¢"
        self.query_one("#detail-ladder").border_title = "book (YES)"
        self.query_one("#detail-signals").border_title = "our signals"
        self.query_one("#detail-rules").border_title = "rules"
        self.load()

    def apply_view(self, delta: ViewDelta, now: float) -> None:
        self._status_bar.show(delta.status)
        self.now = now
        if any(r.market_id == self.market_id for r in delta.rows):
            self.load()
        elif self.detail is not None:
            self._show_meta(self.detail)

    @work(exclusive=True, group="detail")
    async def load(self) -> None:
        detail = await self.link.detail(self.market_id)
        if detail is None:
            self.query_one("#detail-meta", Static).update(
                "this market is unknown to the engine (delisted, or not loaded yet)"
            )
            return
        self.detail = detail
        self._show(detail)

    def _show(self, d: MarketDetail) -> None:
        self._show_meta(d)
        self.query_one(PriceChart).show(d.history)
        self.query_one(DepthLadder).show(d.bids, d.asks)
        self.query_one(MarketSignals).show(d.signals)
        self.query_one("#detail-rules-text", Static).update(d.description or "(no rules text)")

    def _show_meta(self, d: MarketDetail) -> None:
        left = d.end_ts - self.now
        ends = fmt.utc(d.end_ts) + " UTC" + (f" (in {fmt.time_left(left)})" if left > 0 else "")
        self.query_one("#detail-meta", Static).update(
            f"{d.category or 'uncategorised'} · ends {ends} · tick {d.tick_size:g} · "
            f"fee rate {d.fee_rate:g}"
        )

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.load()

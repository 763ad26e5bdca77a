"""Paper trading: orders fill against the live book as a taker would, after a latency.

Fills are priced by `engine.state.book.walk` (the same arithmetic the strategy and risk manager
used to decide), against the book as it is when the order becomes due rather than when it
was submitted: an idea that was good at decision time can miss or fill worse, as it would
live. Orders are marketable limits, fill-and-kill: what the book does not offer within the
limit is cancelled, never left resting.

Long-only is enforced twice: a SELL is clipped to the shares held at fill time, and the
portfolio refuses any fill that would still open a short. A BUY never spends more than the
cash not promised to other open orders (the exchange would answer "not enough balance").
"""

from __future__ import annotations

import heapq
from typing import Protocol

from engine.execution.portfolio import Portfolio
from engine.fees import NO_FEE, FeeSchedule
from engine.models import ExecutionReport, Fill, Market, OrderRequest, Outcome, Side
from engine.risk.sizing import floor_shares, order_max_cost
from engine.state.book import Walk, shares_for_budget, walk

_EPS = 1e-9


class BookSource(Protocol):
    """What the executor reads: satisfied by `engine.state.market_state.MarketState`."""

    def ladder(
        self, market_id: str, outcome: Outcome, side: Side
    ) -> tuple[list[float], list[float]]: ...

    def market(self, market_id: str) -> Market | None: ...


class PaperExecutor:
    """Implements `engine.execution.base.Executor` against a `BookSource`."""

    def __init__(self, portfolio: Portfolio, books: BookSource, latency_seconds: float) -> None:
        if not latency_seconds >= 0:
            raise ValueError(f"latency must be >= 0, got {latency_seconds}")
        self.portfolio = portfolio
        self.books = books
        self.latency = float(latency_seconds)
        self._queue: list[tuple[float, int, str]] = []  # (due, seq, order_id): FIFO on ties
        self._open: dict[str, OrderRequest] = {}
        self._seq = 0

    def submit(self, order: OrderRequest, now: float) -> None:
        if order.order_id in self._open:
            raise ValueError(f"order {order.order_id} already submitted")
        if not (order.size > 0 and 0.0 < order.limit_price < 1.0):
            raise ValueError(
                f"order {order.order_id}: size {order.size} / limit {order.limit_price} invalid"
            )
        market = self.books.market(order.market_id)
        fees = market.fees if market is not None else NO_FEE
        self.portfolio.reserve(order.order_id, order_max_cost(order, fees))
        self._open[order.order_id] = order
        self._seq += 1
        heapq.heappush(self._queue, (now + self.latency, self._seq, order.order_id))

    def process_due(self, now: float) -> list[ExecutionReport]:
        reports: list[ExecutionReport] = []
        queue = self._queue
        while queue and queue[0][0] <= now:
            _, _, order_id = heapq.heappop(queue)
            order = self._open.pop(order_id)
            self.portfolio.release(order_id)
            reports.append(self._execute(order, now))
        return reports

    def next_due(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def open_orders(self) -> list[OrderRequest]:
        return list(self._open.values())

    # --- filling ---------------------------------------------------------------------------

    def _execute(self, order: OrderRequest, now: float) -> ExecutionReport:
        market = self.books.market(order.market_id)
        if market is None:
            return _unfilled(order, "unknown market")
        if market.resolved:
            return _unfilled(order, "market resolved")
        if not market.accepting_orders:
            return _unfilled(order, "market not accepting orders")
        prices, sizes = self.books.ladder(order.market_id, order.outcome, order.side)
        fees = market.fees
        if order.side is Side.BUY:
            w, short_reason = self._walk_buy(order, prices, sizes, fees)
        else:
            w, short_reason = self._walk_sell(order, prices, sizes, fees)
        if w.filled <= _EPS:
            return _unfilled(order, short_reason or "no liquidity within limit")
        fill = Fill(
            order_id=order.order_id,
            ts=now,
            market_id=order.market_id,
            outcome=order.outcome,
            side=order.side,
            price=w.notional / w.filled,
            size=w.filled,
            fee=w.fee,
            intent_id=order.intent_id,
        )
        self.portfolio.apply_fill(fill, market.event_id)
        if w.filled >= order.size - _EPS:
            return ExecutionReport(order, [fill], "filled", None)
        rest = order.size - w.filled
        why = short_reason or f"depth exhausted within limit {order.limit_price:g}"
        return ExecutionReport(order, [fill], "partial", f"{why}; {rest:.2f} shares cancelled")

    def _walk_buy(
        self, order: OrderRequest, prices: list[float], sizes: list[float], fees: FeeSchedule
    ) -> tuple[Walk, str | None]:
        w = walk(prices, sizes, order.size, Side.BUY, fees, order.limit_price)
        budget = self.portfolio.cash_available
        if w.notional + w.fee <= budget + _EPS:
            return w, None
        affordable = floor_shares(shares_for_budget(prices, sizes, budget, fees, order.limit_price))
        w = walk(prices, sizes, affordable, Side.BUY, fees, order.limit_price)
        return w, "not enough balance"

    def _walk_sell(
        self, order: OrderRequest, prices: list[float], sizes: list[float], fees: FeeSchedule
    ) -> tuple[Walk, str | None]:
        held = self.portfolio.held(order.market_id, order.outcome)
        if held <= _EPS:
            return Walk(filled=0.0, notional=0.0, fee=0.0, levels=0), "no shares held"
        target = min(order.size, held)
        w = walk(prices, sizes, target, Side.SELL, fees, order.limit_price)
        return w, (f"clipped to {held:.2f} shares held" if target < order.size else None)


def _unfilled(order: OrderRequest, reason: str) -> ExecutionReport:
    return ExecutionReport(order, [], "unfilled", reason)

"""What the risk manager sees of the account, and the ideas it is asked to judge.

`AccountView` is rebuilt every cycle and then updated by `commit` for every order approved in
that cycle, so the fifth candidate of a cycle is sized against the cash, exposure and cooldowns
the first four already took. An earlier implementation sized each idea against the full
balance and ended with thousands of live orders failing on "not enough balance".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.clock import day_start
from engine.fees import NO_FEE, FeeSchedule
from engine.models import Market, OrderRequest, Outcome, Side
from engine.risk.sizing import order_max_cost


@dataclass(slots=True)
class AccountView:
    now: float
    equity: float  # cash + positions marked at mid
    cash: float
    reserved: float  # USDC committed to open orders and pending/approved BUY intents
    day_start_equity: float
    peak_equity: float
    exposure_by_market: dict[str, float] = field(default_factory=dict)  # USDC at cost
    exposure_by_event: dict[str, float] = field(default_factory=dict)
    total_exposure: float = 0.0
    deployed_last_hour: float = 0.0  # USDC committed to BUY orders in the last hour
    held: dict[tuple[str, Outcome], float] = field(default_factory=dict)  # shares
    last_action_ts: dict[str, float] = field(default_factory=dict)  # per market (cooldown)
    open_keys: set[tuple[str, Outcome, Side]] = field(default_factory=set)  # in flight (dedup)

    @property
    def cash_available(self) -> float:
        return max(self.cash - self.reserved, 0.0)

    def commit(self, order: OrderRequest, event_id: str | None, fees: FeeSchedule = NO_FEE) -> None:
        """Count an approved order as in flight for the rest of this cycle.

        A BUY reserves its worst-case cost (limit price plus taker fee; pass the market's
        `fees`, which the order does not carry) and adds it to exposure. A SELL reserves
        nothing but takes its shares out of `held`, so a second exit cannot sell them again.
        """
        self.last_action_ts[order.market_id] = max(
            order.ts, self.last_action_ts.get(order.market_id, order.ts)
        )
        self.open_keys.add((order.market_id, order.outcome, order.side))
        if order.side is Side.SELL:
            key = (order.market_id, order.outcome)
            self.held[key] = max(self.held.get(key, 0.0) - order.size, 0.0)
            return
        usdc = order_max_cost(order, fees)
        self.reserved += usdc
        self.exposure_by_market[order.market_id] = (
            self.exposure_by_market.get(order.market_id, 0.0) + usdc
        )
        if event_id is not None:
            self.exposure_by_event[event_id] = self.exposure_by_event.get(event_id, 0.0) + usdc
        self.total_exposure += usdc
        self.deployed_last_hour += usdc


@dataclass(slots=True)
class Candidate:
    """One market-side idea from the strategy, priced for the traded token."""

    ts: float
    market: Market
    outcome: Outcome
    side: Side  # BUY to open/add; SELL only to close held shares
    p_model: float  # model probability of the traded token
    p_market: float  # mid of the traded token
    prices: list[float]  # ladder to walk, best first (asks for BUY, bids for SELL)
    sizes: list[float]
    book_age: float  # seconds since this market's book last updated


@dataclass(slots=True)
class EquityMarks:
    """Start-of-day and peak equity for the daily-loss and drawdown kill switches."""

    day: float = float("nan")
    day_start_equity: float = 0.0
    peak_equity: float = 0.0

    def shift(self, amount: float) -> None:
        """Equity that arrived without being earned (holdings taken in from the exchange):
        moved into both marks, so it reads as neither a gain today nor a new peak."""
        if self.day == self.day:  # marks exist (day is NaN until the first update)
            self.day_start_equity += amount
            self.peak_equity += amount

    def update(self, now: float, equity: float) -> None:
        d = day_start(now)
        if d != self.day:
            self.day = d
            self.day_start_equity = equity
        self.peak_equity = max(self.peak_equity, equity)

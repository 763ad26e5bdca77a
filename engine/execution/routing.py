"""Where an accepted order goes: straight to the paper executor, or to a person as an intent.

Both routes sit behind one small interface so the cycle has a single execution path; the
risk manager has already run on every order either route receives. Each route also reports
what it holds in flight (open paper orders, pending intents), because sizing must count
cash already promised there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.execution.base import Executor
from engine.execution.intents import IntentStore
from engine.fees import FeeSchedule
from engine.models import IntentState, Market, OrderRequest, Outcome, Side, TradeIntent


@dataclass(slots=True, frozen=True)
class InFlight:
    """An order or intent whose cash is promised but not yet spent: the one definition of
    reserved cash (`max_cost`), which sizing subtracts from the cash available."""

    market_id: str
    outcome: Outcome
    side: Side
    size: float
    limit_price: float

    def max_cost(self, fees: FeeSchedule) -> float:
        """Cash promised if it fills at its limit, taker fee included (0 for a SELL)."""
        if self.side is not Side.BUY:
            return 0.0
        return self.size * fees.unit_cost(self.limit_price)


class Route(Protocol):
    kind: str  # "order" | "intent"

    def send(self, orders: list[OrderRequest], markets: dict[str, Market], now: float) -> None: ...

    def in_flight(self) -> list[InFlight]: ...


class PaperRoute:
    kind = "order"

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def send(self, orders: list[OrderRequest], markets: dict[str, Market], now: float) -> None:
        for o in orders:
            self.executor.submit(o, now)

    def in_flight(self) -> list[InFlight]:
        return [
            InFlight(o.market_id, o.outcome, o.side, o.size, o.limit_price)
            for o in self.executor.open_orders()
        ]


class IntentRoute:
    """Live mode: every accepted order becomes a PENDING intent with a human-sized expiry."""

    kind = "intent"

    def __init__(self, store: IntentStore, run_id: str, expiry_seconds: float) -> None:
        self.store = store
        self.run_id = run_id
        self.expiry = expiry_seconds

    def send(self, orders: list[OrderRequest], markets: dict[str, Market], now: float) -> None:
        intents = []
        for o in orders:
            m = markets.get(o.market_id)
            intents.append(
                TradeIntent(
                    intent_id=o.order_id,
                    created_ts=now,
                    expires_ts=now + self.expiry,
                    market_id=o.market_id,
                    token_id=o.token_id,
                    outcome=o.outcome,
                    side=o.side,
                    size=o.size,
                    limit_price=o.limit_price,
                    p_model=o.p_model,
                    edge=o.edge,
                    state=IntentState.PENDING,
                    question=m.question if m else "",
                    updated_ts=now,
                )
            )
        if intents:
            self.store.create(intents, self.run_id)

    def in_flight(self) -> list[InFlight]:
        """PENDING, APPROVED and SUBMITTED intents (of every run sharing the database: a
        SUBMITTED one's cash is spent only when its fills are booked)."""
        return [
            InFlight(i.market_id, i.outcome, i.side, i.size, i.limit_price)
            for i in self.store.open_intents()
        ]

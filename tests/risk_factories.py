"""Builders shared by the risk, portfolio and paper tests: small, explicit, no hidden state."""

from __future__ import annotations

from engine.config import RiskSettings
from engine.models import Fill, Market, OrderRequest, Outcome, Side
from engine.risk.account import AccountView, Candidate

NOW = 1_800_000_000.0


def market(market_id: str = "m1", /, **kw: object) -> Market:
    fields: dict[str, object] = {
        "market_id": market_id,
        "question": f"Will {market_id} happen?",
        "category": "politics",
        "yes_token": f"{market_id}-yes",
        "no_token": f"{market_id}-no",
        "created_ts": NOW - 86_400.0,
        "end_ts": NOW + 30 * 86_400.0,
    }
    fields.update(kw)
    return Market(**fields)  # type: ignore[arg-type]


def account(equity: float = 1_000.0, **kw: object) -> AccountView:
    fields: dict[str, object] = {
        "now": NOW,
        "equity": equity,
        "cash": equity,
        "reserved": 0.0,
        "day_start_equity": equity,
        "peak_equity": equity,
    }
    fields.update(kw)
    return AccountView(**fields)  # type: ignore[arg-type]


def candidate(
    m: Market | None = None,
    *,
    p_model: float = 0.60,
    prices: list[float] | None = None,
    sizes: list[float] | None = None,
    side: Side = Side.BUY,
    outcome: Outcome = Outcome.YES,
    book_age: float = 1.0,
) -> Candidate:
    """A BUY YES idea at a 0.50 ask with deep levels unless told otherwise."""
    return Candidate(
        ts=NOW,
        market=m or market(),
        outcome=outcome,
        side=side,
        p_model=p_model,
        p_market=0.50,
        prices=prices if prices is not None else [0.50, 0.51, 0.52, 0.53],
        sizes=sizes if sizes is not None else [1_000.0, 1_000.0, 1_000.0, 1_000.0],
        book_age=book_age,
    )


def risk(**kw: object) -> RiskSettings:
    return RiskSettings.model_validate(kw)


def fill(
    side: Side,
    size: float,
    price: float,
    *,
    fee: float = 0.0,
    market_id: str = "m1",
    outcome: Outcome = Outcome.YES,
    order_id: str = "o1",
) -> Fill:
    return Fill(order_id, NOW, market_id, outcome, side, price, size, fee)


def order(
    side: Side = Side.BUY,
    size: float = 10.0,
    limit: float = 0.55,
    *,
    order_id: str = "o1",
    market_id: str = "m1",
    outcome: Outcome = Outcome.YES,
) -> OrderRequest:
    return OrderRequest(
        order_id=order_id,
        ts=NOW,
        market_id=market_id,
        token_id=f"{market_id}-{outcome.name.lower()}",
        outcome=outcome,
        side=side,
        size=size,
        limit_price=limit,
        p_model=0.6,
        edge=0.05,
    )


class Books:
    """A settable `BookSource`: ladders per (market, outcome, side), best level first."""

    def __init__(self, *markets: Market) -> None:
        self.markets = {m.market_id: m for m in markets}
        self.ladders: dict[tuple[str, Outcome, Side], tuple[list[float], list[float]]] = {}

    def set(
        self,
        market_id: str,
        side: Side,
        prices: list[float],
        sizes: list[float],
        outcome: Outcome = Outcome.YES,
    ) -> None:
        self.ladders[(market_id, outcome, side)] = (list(prices), list(sizes))

    def ladder(
        self, market_id: str, outcome: Outcome, side: Side
    ) -> tuple[list[float], list[float]]:
        return self.ladders.get((market_id, outcome, side), ([], []))

    def market(self, market_id: str) -> Market | None:
        return self.markets.get(market_id)

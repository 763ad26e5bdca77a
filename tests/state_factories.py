"""Small hand-built market states for unit tests of the vectorised parts."""

from __future__ import annotations

import numpy as np

from engine.events import BookSnapshot
from engine.models import Market
from engine.state.market_state import MarketState

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC
DAY = 86400.0


def market(i: int, **kw: object) -> Market:
    base: dict[str, object] = dict(
        market_id=f"0x{i:064x}",
        question=f"Question {i}?",
        category="politics",
        yes_token=f"{i}1",
        no_token=f"{i}2",
        created_ts=T0 - 30 * DAY,
        end_ts=T0 + 30 * DAY,
        tick_size=0.01,
        fee_rate=0.04,
        volume=50_000.0,
    )
    base.update(kw)
    return Market(**base)  # type: ignore[arg-type]


def book(
    m: Market,
    bid: float,
    ask: float,
    size: float = 1000.0,
    levels: int = 3,
    ts: float = T0,
    tick: float = 0.01,
    bid_size: float | None = None,
    ask_size: float | None = None,
) -> BookSnapshot:
    bids = np.array([bid - i * tick for i in range(levels)])
    asks = np.array([ask + i * tick for i in range(levels)])
    return BookSnapshot(
        asset_id=m.yes_token,
        ts=ts,
        bid_px=bids,
        bid_sz=np.full(levels, bid_size if bid_size is not None else size),
        ask_px=asks,
        ask_sz=np.full(levels, ask_size if ask_size is not None else size),
    )


def state_with(markets: list[Market], books: list[BookSnapshot], depth: int = 8) -> MarketState:
    st = MarketState(depth=depth, history=50)
    for m in markets:
        st.add_market(m)
    res = st.apply(list(books))
    assert not res.errors, res.errors
    return st

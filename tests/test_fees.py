"""Taker fees: Polymarket's formula, and that every cost the engine measures includes it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.book import shares_for_budget, taker_fee, walk
from engine.execution.paper import PaperExecutor
from engine.execution.portfolio import Portfolio
from engine.ids import IdGen
from engine.models import Side
from engine.risk.manager import RiskManager
from engine.risk.sizing import unit_cost, unit_proceeds
from tests.risk_factories import Books, account, candidate, market, order, risk

prices = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
rates = st.floats(min_value=0.0, max_value=0.1, allow_nan=False)
shares = st.floats(min_value=0.0, max_value=1e6, allow_nan=False)


@pytest.mark.parametrize(
    ("n", "price", "rate", "expected"),
    [
        (100.0, 0.50, 0.04, 1.00),  # 100 x 0.04 x 0.25
        (100.0, 0.20, 0.05, 0.80),  # 100 x 0.05 x 0.16
        (250.0, 0.90, 0.072, 1.62),  # crypto rate, 250 x 0.072 x 0.09
        (100.0, 0.50, 0.0, 0.0),  # fee-free category (geopolitics)
    ],
)
def test_taker_fee_is_shares_times_rate_times_p_times_one_minus_p(
    n: float, price: float, rate: float, expected: float
) -> None:
    assert taker_fee(n, price, rate) == pytest.approx(expected)


@given(shares, prices, rates)
def test_taker_fee_is_symmetric_in_price(n: float, p: float, rate: float) -> None:
    assert taker_fee(n, p, rate) == pytest.approx(taker_fee(n, 1.0 - p, rate), abs=1e-9)


@given(shares, rates)
def test_taker_fee_is_zero_at_certainty(n: float, rate: float) -> None:
    assert taker_fee(n, 0.0, rate) == 0.0
    assert taker_fee(n, 1.0, rate) == 0.0


@given(prices, rates)
def test_taker_fee_peaks_at_even_odds(p: float, rate: float) -> None:
    assert taker_fee(1.0, p, rate) <= taker_fee(1.0, 0.5, rate) + 1e-15


def test_book_walk_charges_the_fee_at_each_level_price() -> None:
    w = walk([0.40, 0.60], [10.0, 10.0], 20.0, Side.BUY, fee_rate=0.05)
    assert w.fee == pytest.approx(10 * 0.05 * 0.24 + 10 * 0.05 * 0.24)
    assert w.cost_per_share == pytest.approx((4.0 + 6.0 + w.fee) / 20.0)


ladder_px = st.lists(
    st.one_of(st.floats(min_value=0.001, max_value=1.0), st.just(float("nan"))),
    min_size=1,
    max_size=6,
)


@given(
    ladder_px,
    st.lists(st.floats(min_value=-5.0, max_value=500.0), min_size=6, max_size=6),
    st.floats(min_value=0.0, max_value=2_000.0),
    rates,
    st.one_of(st.none(), prices),
)
def test_shares_for_a_budget_cost_the_budget_or_the_whole_ladder(
    px: list[float], sz: list[float], budget: float, rate: float, limit: float | None
) -> None:
    """The shares a budget buys, walked back with fees, cost that budget, unless the ladder
    (padding, empty and free levels skipped, stopping at the limit) runs out first."""
    asks = sorted(px, key=lambda p: (p != p, p))  # best first, NaN padding last
    n = shares_for_budget(asks, sz, budget, rate, limit)
    w = walk(asks, sz, n, Side.BUY, fee_rate=rate, limit=limit)
    assert w.filled == pytest.approx(n, rel=1e-9, abs=1e-9)
    ladder = sum(s for s in sz if s > 0) + 1.0
    everything = walk(asks, sz, ladder, Side.BUY, fee_rate=rate, limit=limit)
    spent = w.notional + w.fee
    assert spent <= budget + 1e-6
    if spent < budget - 1e-6:  # budget left over: every share on offer was taken
        assert n == pytest.approx(everything.filled, rel=1e-9, abs=1e-9)


def test_unit_cost_adds_and_unit_proceeds_deducts_the_fee() -> None:
    assert unit_cost(0.5, 0.04) == pytest.approx(0.51)
    assert unit_proceeds(0.5, 0.04) == pytest.approx(0.49)


def test_raw_edge_above_threshold_is_rejected_when_the_fee_eats_it() -> None:
    # 0.56 - 0.50 = 0.06 raw; the 0.072 rate costs 0.018/share at 0.50, leaving 0.042 < 0.05.
    rm = RiskManager(risk(), 0.05, IdGen("t"))
    c = candidate(market(fee_rate=0.072), p_model=0.56)
    d = rm.evaluate(c, account())
    assert d.order is None
    assert d.signal.reason is not None
    assert d.signal.reason.startswith("edge_below_threshold: 0.042 < 0.050")


def test_paper_fill_charges_the_market_fee_in_usdc() -> None:
    m = market(fee_rate=0.04)
    books = Books(m)
    books.set("m1", Side.BUY, [0.50], [100.0])
    pf = Portfolio(100.0)
    ex = PaperExecutor(pf, books, 0.0)
    ex.submit(order(Side.BUY, 10.0, 0.50), 0.0)
    (report,) = ex.process_due(0.0)
    assert report.fills[0].fee == pytest.approx(0.10)
    assert pf.cash == pytest.approx(100.0 - 5.0 - 0.10)
    assert pf.fees_paid == pytest.approx(0.10)

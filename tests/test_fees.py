"""Taker fees: Polymarket's formula, and that every cost the engine measures includes it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.execution.paper import PaperExecutor
from engine.execution.portfolio import Portfolio
from engine.fees import FeeSchedule, taker_fee
from engine.ids import IdGen
from engine.models import Side
from engine.risk.manager import RiskManager
from engine.state.book import shares_for_budget, walk
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
    assert taker_fee(n, price, rate, 1.0) == pytest.approx(expected)


@given(shares, prices, rates)
def test_taker_fee_is_symmetric_in_price(n: float, p: float, rate: float) -> None:
    assert taker_fee(n, p, rate, 1.0) == pytest.approx(taker_fee(n, 1.0 - p, rate, 1.0), abs=1e-9)


@given(shares, rates)
def test_taker_fee_is_zero_at_certainty(n: float, rate: float) -> None:
    assert taker_fee(n, 0.0, rate, 1.0) == 0.0
    assert taker_fee(n, 1.0, rate, 2.0) == 0.0


@given(prices, rates)
def test_taker_fee_peaks_at_even_odds(p: float, rate: float) -> None:
    assert taker_fee(1.0, p, rate, 1.0) <= taker_fee(1.0, 0.5, rate, 1.0) + 1e-15


def test_book_walk_charges_the_fee_at_each_level_price() -> None:
    w = walk([0.40, 0.60], [10.0, 10.0], 20.0, Side.BUY, FeeSchedule(0.05))
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
    n = shares_for_budget(asks, sz, budget, FeeSchedule(rate), limit)
    w = walk(asks, sz, n, Side.BUY, FeeSchedule(rate), limit=limit)
    assert w.filled == pytest.approx(n, rel=1e-9, abs=1e-9)
    ladder = sum(s for s in sz if s > 0) + 1.0
    everything = walk(asks, sz, ladder, Side.BUY, FeeSchedule(rate), limit=limit)
    spent = w.notional + w.fee
    assert spent <= budget + 1e-6
    if spent < budget - 1e-6:  # budget left over: every share on offer was taken
        assert n == pytest.approx(everything.filled, rel=1e-9, abs=1e-9)


def test_unit_cost_adds_and_unit_proceeds_deducts_the_fee() -> None:
    assert FeeSchedule(0.04).unit_cost(0.5) == pytest.approx(0.51)
    assert FeeSchedule(0.04).unit_proceeds(0.5) == pytest.approx(0.49)
    curved = FeeSchedule(0.04, 2.0)  # 0.04 x (0.25)^2 = 0.0025 per share at even odds
    assert curved.unit_cost(0.5) == pytest.approx(0.5025)


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


# --- the market's own exponent, everywhere ---------------------------------------------------

exponents = st.sampled_from([1.0, 2.0, 3.0])


@given(shares, st.floats(min_value=0.001, max_value=0.999), rates, exponents)
def test_the_float_vector_and_exact_forms_of_the_fee_agree(
    n: float, p: float, rate: float, e: float
) -> None:
    from decimal import Decimal

    import numpy as np

    from engine.fees import taker_fee_exact, taker_fee_per_share

    one = taker_fee(n, p, rate, e)
    assert one == pytest.approx(n * rate * (p * (1 - p)) ** e, rel=1e-12, abs=1e-12)
    vec = taker_fee_per_share(np.array([p]), np.array([rate]), np.array([e]))
    assert float(vec[0]) * n == pytest.approx(one, rel=1e-9, abs=1e-12)
    exact = taker_fee_exact(Decimal(repr(n)), Decimal(repr(p)), Decimal(repr(rate)), Decimal(e))
    assert float(exact) == pytest.approx(one, rel=1e-9, abs=1e-12)


@given(st.floats(min_value=0.05, max_value=0.95), st.floats(min_value=5.0, max_value=80.0))
def test_screen_risk_paper_and_recheck_price_an_exponent_2_market_alike(
    ask: float, size: float
) -> None:
    """One BUY on a market whose fee exponent is 2: the screen's first-share cost, the risk
    manager's reserve, the paper fill and the approval re-check all charge the same fee, and
    it is the exponent-2 fee, not the exponent-1 one."""
    import numpy as np

    from engine.execution.recheck import recheck_intent
    from engine.models import IntentState, Outcome, TradeIntent
    from engine.risk.sizing import order_max_cost
    from engine.state.book import top_cost_per_share
    from tests.state_factories import book as snapshot
    from tests.state_factories import state_with

    ask = round(ask, 2)
    m = market(fee_rate=0.072, fee_exponent=2.0)
    expected = size * 0.072 * (ask * (1 - ask)) ** 2
    linear = size * 0.072 * ask * (1 - ask)
    assert abs(expected - linear) > 1e-9  # the exponent matters here
    screened = top_cost_per_share(np.array([ask]), np.array([0.072]), np.array([2.0]))
    assert float(screened[0]) * size == pytest.approx(size * ask + expected)
    o = order(Side.BUY, size, ask)
    assert order_max_cost(o, m.fees) == pytest.approx(size * ask + expected)
    books = Books(m)
    books.set(m.market_id, Side.BUY, [ask], [size * 2])
    pf = Portfolio(10_000.0)
    ex = PaperExecutor(pf, books, 0.0)
    ex.submit(o, 0.0)
    (report,) = ex.process_due(0.0)
    assert report.fills[0].fee == pytest.approx(expected)
    st_ = state_with([m], [snapshot(m, max(ask - 0.02, 0.01), ask, size=size * 2, levels=1)])
    intent = TradeIntent(
        "i", 0.0, 300.0, m.market_id, m.yes_token, Outcome.YES, Side.BUY, size, ask,
        p_model=0.999, edge=0.1, state=IntentState.APPROVED,
    )  # fmt: skip
    check = recheck_intent(intent, st_, threshold=0.0, tolerance=0.0)
    assert check.ok
    assert check.edge == pytest.approx(0.999 - ask - expected / size)


def test_the_sim_gives_some_markets_another_exponent_and_the_fake_serves_it() -> None:
    """Most fee-bearing sim markets keep exponent 1, some get 2; the fake serves each
    market's exponent on Gamma (`feeSchedule.exponent`) and the CLOB (`fd.e`), and our
    Gamma reader brings it back."""
    import httpx

    from engine.sources.polymarket.parse_gamma import parse_gamma_market
    from engine.sources.sim import SimExchange
    from fake_polymarket import ThreadedFakePolymarket
    from tests.fake_exchange_fixture import START_TS, frozen_config, sim_settings

    settings = sim_settings(markets=300, seed=5)
    markets = SimExchange(settings, START_TS).discover()
    curved = [m for m in markets if m.fee_exponent != 1.0]
    assert curved and all(m.fee_rate > 0 for m in curved)
    assert len(curved) < len([m for m in markets if m.fee_rate > 0])  # most keep 1
    assert all(m.fee_exponent == 1.0 for m in markets if m.fee_rate == 0)
    m = curved[0]
    with ThreadedFakePolymarket(settings, frozen_config()) as fake:
        gamma = httpx.get(f"{fake.urls.gamma}/markets", params={"condition_ids": m.market_id})
        clob = httpx.get(f"{fake.urls.clob}/clob-markets/{m.market_id}")
    (obj,) = gamma.json()
    assert parse_gamma_market(obj).fee_exponent == m.fee_exponent == 2.0
    assert clob.json()["fd"]["e"] == 2

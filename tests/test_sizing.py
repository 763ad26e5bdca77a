"""Kelly sizing, share rounding, tick snapping and the edge limit of a book walk."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.fees import FeeSchedule
from engine.ids import IdGen
from engine.models import OrderRequest, Outcome, Side
from engine.risk.manager import RiskManager
from engine.risk.sizing import (
    edge_limit,
    floor_shares,
    kelly_fraction_binary,
    kelly_shares,
    nth_level_price,
    order_max_cost,
    snap_limit,
)
from tests.risk_factories import account, candidate, market, risk

probs = st.floats(min_value=0.01, max_value=0.99, allow_nan=False)


# --- Kelly ---------------------------------------------------------------------------------


@given(p=probs, c=probs)
def test_kelly_never_bets_without_edge(p: float, c: float) -> None:
    if p <= c:
        assert kelly_fraction_binary(p, c) == 0.0
        assert kelly_shares(p, c, 1_000.0, 0.25) == 0.0


def test_kelly_fraction_matches_the_binary_formula() -> None:
    # f* = (p - c) / (1 - c): 60% to win at 0.50 bets 20% of the bankroll.
    assert kelly_fraction_binary(0.60, 0.50) == pytest.approx(0.20)
    assert kelly_fraction_binary(0.30, 0.20) == pytest.approx(0.125)


@given(c=probs, p1=probs, p2=probs)
def test_kelly_grows_with_edge(c: float, p1: float, p2: float) -> None:
    lo, hi = sorted((p1, p2))
    assert kelly_fraction_binary(lo, c) <= kelly_fraction_binary(hi, c)


def test_kelly_shares_apply_the_fraction_and_scale_with_equity() -> None:
    full = kelly_shares(0.60, 0.50, 1_000.0, 1.0)
    assert full == pytest.approx(0.20 * 1_000.0 / 0.50)  # 400 shares
    assert kelly_shares(0.60, 0.50, 1_000.0, 0.25) == pytest.approx(full / 4)
    assert kelly_shares(0.60, 0.50, 2_000.0, 0.25) == pytest.approx(full / 2)


def test_kelly_shares_are_zero_without_equity() -> None:
    assert kelly_shares(0.9, 0.5, 0.0, 0.25) == 0.0


def test_manager_sizes_a_buy_by_fractional_kelly_at_top_of_book_cost() -> None:
    # p 0.56 at 0.50: f* = 0.12; 0.25 x 0.12 x 1000 / 0.50 = 60 shares (under every cap).
    rm = RiskManager(risk(), 0.05, IdGen("t"))
    d = rm.evaluate(candidate(p_model=0.56), account())
    assert d.order is not None
    assert d.order.size == pytest.approx(60.0)


def test_kelly_cost_includes_the_fee() -> None:
    # Cost with fee 0.50 + 0.04 x 0.25 = 0.51: f* = 0.09 / 0.49; shares = 0.25 f* 1000 / 0.51.
    rm = RiskManager(risk(), 0.05, IdGen("t"))
    d = rm.evaluate(candidate(market(fee_rate=0.04), p_model=0.60), account())
    assert d.order is not None
    expected = 0.25 * (0.09 / 0.49) * 1_000.0 / 0.51
    assert d.order.size == pytest.approx(math.floor(expected * 100) / 100)


def test_position_cap_limits_a_large_edge() -> None:
    # p 0.90: Kelly wants 400 shares ($200) but 5% of 1000 equity is $50: 100 shares.
    rm = RiskManager(risk(max_deploy_per_hour_pct=1.0), 0.05, IdGen("t"))  # no pacing
    d = rm.evaluate(candidate(p_model=0.90), account())
    assert d.order is not None
    assert d.order.size == pytest.approx(100.0)
    assert d.signal.reason == "max_position: 400.00 -> 100.00 shares (market room 50.00)"


# --- rounding and ticks ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [(1.239, 1.23), (0.29, 0.29), (57.0, 57.0), (4.999, 4.99), (-1, 0)]
)
def test_share_sizes_floor_to_two_decimals(raw: float, expected: float) -> None:
    assert floor_shares(raw) == expected


@pytest.mark.parametrize(
    ("price", "tick", "side", "expected"),
    [
        (0.634, 0.01, Side.BUY, 0.63),  # a BUY limit never rounds up
        (0.634, 0.01, Side.SELL, 0.64),  # a SELL limit never rounds down
        (1 - 0.37, 0.01, Side.BUY, 0.63),  # mirrored NO price with float dust stays put
        (0.6300000001, 0.01, Side.SELL, 0.63),
        (0.1234, 0.001, Side.BUY, 0.123),
        (0.55, 0.1, Side.SELL, 0.6),
    ],
)
def test_limit_prices_snap_to_the_tick_grid_on_the_cautious_side(
    price: float, tick: float, side: Side, expected: float
) -> None:
    assert snap_limit(price, tick, side) == expected


def test_order_limit_price_is_the_worst_level_walked_on_the_tick_grid() -> None:
    rm = RiskManager(risk(), 0.05, IdGen("t"))
    c = candidate(p_model=0.62, prices=[0.50, 0.51, 0.52], sizes=[20.0, 20.0, 1_000.0])
    d = rm.evaluate(c, account())
    assert d.order is not None
    assert d.order.limit_price == 0.52


# --- the edge limit ------------------------------------------------------------------------


def test_edge_limit_is_the_worst_level_still_clearing_the_threshold() -> None:
    prices, sizes = [0.50, 0.53, 0.55, 0.56], [10.0] * 4
    assert edge_limit(prices, sizes, Side.BUY, 0.60, FeeSchedule(0.0), 0.05) == 0.55
    # With a fee, 0.55 costs 0.55 + 0.04 x 0.2475 = 0.5599: edge 0.0401 falls short.
    assert edge_limit(prices, sizes, Side.BUY, 0.60, FeeSchedule(0.04), 0.05) == 0.53


def test_edge_limit_is_none_when_the_best_level_falls_short() -> None:
    assert edge_limit([0.58], [10.0], Side.BUY, 0.60, FeeSchedule(0.0), 0.05) is None


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_edge_limit_is_none_for_a_missing_model_probability(side: Side) -> None:
    assert edge_limit([0.50], [10.0], side, math.nan, FeeSchedule(0.0), 0.05) is None


def test_edge_limit_for_a_sell_is_the_lowest_bid_above_model_plus_threshold() -> None:
    bids = [0.70, 0.66, 0.64, 0.60]
    assert edge_limit(bids, [10.0] * 4, Side.SELL, 0.60, FeeSchedule(0.0), 0.05) == 0.66


def test_edge_limit_and_level_lookup_skip_empty_padding() -> None:
    prices, sizes = [math.nan, 0.50, 0.51, math.nan], [0.0, 10.0, 10.0, 0.0]
    assert edge_limit(prices, sizes, Side.BUY, 0.60, FeeSchedule(0.0), 0.05) == 0.51
    assert nth_level_price(prices, sizes, 2) == 0.51
    assert math.isnan(nth_level_price(prices, sizes, 3))


def test_order_max_cost_counts_every_share_at_the_limit_plus_fee_and_zero_for_sells() -> None:
    buy = OrderRequest("o", 0.0, "m", "t", Outcome.YES, Side.BUY, 10.0, 0.5, 0.6, 0.1)
    assert order_max_cost(buy, FeeSchedule(0.04)) == pytest.approx(5.0 + 0.1)
    sell = OrderRequest("o", 0.0, "m", "t", Outcome.YES, Side.SELL, 10.0, 0.5, 0.4, 0.1)
    assert order_max_cost(sell, FeeSchedule(0.04)) == 0.0

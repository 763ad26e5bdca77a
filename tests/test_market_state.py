"""MarketState folds source events into column arrays; the NO book mirrors the YES book."""

from __future__ import annotations

import numpy as np

from engine.events import LevelChange, MarketResolved, PriceChange, TickSizeChange, TradePrint
from engine.models import Outcome, Side
from tests.state_factories import T0, book, market, state_with


def test_book_snapshot_sets_best_levels_and_no_book_is_the_mirror() -> None:
    m = market(1)
    st = state_with([m], [book(m, 0.40, 0.42)])
    prices, sizes = st.ladder(m.market_id, Outcome.YES, Side.BUY)
    np.testing.assert_allclose(prices[:3], [0.42, 0.43, 0.44])
    no_prices, no_sizes = st.ladder(m.market_id, Outcome.NO, Side.BUY)
    np.testing.assert_allclose(no_prices[:3], [0.60, 0.61, 0.62])
    assert no_sizes[:3] == sizes[:3]
    assert abs(st.mid(m.market_id) - 0.41) < 1e-12
    assert abs(st.mid(m.market_id, Outcome.NO) - 0.59) < 1e-12


def test_price_change_sets_total_size_at_a_level_and_zero_removes_it() -> None:
    m = market(1)
    st = state_with([m], [book(m, 0.40, 0.42)])
    st.apply(
        [
            PriceChange(
                m.yes_token,
                T0 + 1,
                (
                    LevelChange(Side.BUY, 0.41, 50.0),  # new best bid
                    LevelChange(Side.SELL, 0.42, 0.0),  # best ask removed
                ),
            )
        ]
    )
    assert st.bid_px[0, 0] == 0.41 and st.bid_sz[0, 0] == 50.0
    assert st.ask_px[0, 0] == 0.43
    assert st.book_ts[0] == T0 + 1


def test_levels_beyond_the_kept_depth_come_up_when_better_ones_go() -> None:
    """The matrices hold the best 3 levels; the 4th and 5th are still known."""
    m = market(1)
    st = state_with([m], [book(m, 0.40, 0.42, levels=5)], depth=3)
    assert st.bid_px[0].tolist() == [0.40, 0.39, 0.38]
    removed = tuple(LevelChange(Side.BUY, p, 0.0) for p in (0.40, 0.39))
    st.apply([PriceChange(m.yes_token, T0 + 1, removed)])
    np.testing.assert_allclose(st.bid_px[0], [0.38, 0.37, 0.36])
    assert st.bid_sz[0].tolist() == [1000.0] * 3
    # through the NO token too: a NO ask at 0.63 is a YES bid at 0.37
    st.apply([PriceChange(m.no_token, T0 + 2, (LevelChange(Side.SELL, 0.63, 0.0),))])
    np.testing.assert_allclose(st.bid_px[0, :2], [0.38, 0.36])
    assert np.isnan(st.bid_px[0, 2]) and st.bid_sz[0, 2] == 0.0


def test_no_token_events_land_on_the_yes_orientation() -> None:
    m = market(1)
    st = state_with([m], [book(m, 0.40, 0.42)])
    # a NO bid at 0.59 is a YES ask at 0.41
    st.apply([PriceChange(m.no_token, T0 + 1, (LevelChange(Side.BUY, 0.59, 10.0),))])
    assert abs(st.ask_px[0, 0] - 0.41) < 1e-9 and st.ask_sz[0, 0] == 10.0


def test_trades_ticks_and_resolution_update_the_row() -> None:
    m = market(1)
    st = state_with([m], [book(m, 0.40, 0.42)])
    v0 = st.version[0]
    res = st.apply(
        [
            TradePrint(m.yes_token, T0 + 2, 0.41, 100.0, Side.BUY),
            TickSizeChange(m.yes_token, T0 + 3, 0.01, 0.001),
            MarketResolved(m.market_id, T0 + 4, 1.0),
        ]
    )
    assert st.last_trade_px[0] == 0.41
    assert st.tick[0] == 0.001 and m.tick_size == 0.001
    assert res.resolved and not st.active[0] and m.resolved and m.payout_yes == 1.0
    assert st.version[0] > v0


def test_bad_events_are_reported_not_raised() -> None:
    m = market(1)
    st = state_with([m], [book(m, 0.40, 0.42)])
    res = st.apply(
        [
            TradePrint("unknown-token", T0, 0.5, 1.0, Side.BUY),
            TickSizeChange(m.yes_token, T0, 0.01, 5.0),
            MarketResolved("0xnope", T0, 1.0),
        ]
    )
    assert len(res.errors) == 3
    assert st.tick[0] == 0.01


def test_rows_grow_past_initial_capacity() -> None:
    ms = [market(i) for i in range(3000)]
    st = state_with(ms, [book(m, 0.30, 0.32) for m in ms])
    assert st.n == 3000 and st.bid_px[2999, 0] == 0.30


def test_history_ring_returns_past_samples() -> None:
    m = market(1)
    st = state_with([m], [book(m, 0.40, 0.42)])
    st.record_history(T0)
    st.apply([book(m, 0.50, 0.52, ts=T0 + 10)])
    st.record_history(T0 + 10)
    now, _ = st.history_back(0)
    past, t_past = st.history_back(1)
    assert abs(now[0] - 0.51) < 1e-12 and abs(past[0] - 0.41) < 1e-12 and t_past == T0
    assert np.isnan(st.history_back(5)[0][0])


def test_batch_views_match_the_per_market_ones() -> None:
    """The cycle prices its candidates with `ladders` and `marks_at` (one gather for all of
    them): each must be exactly what `ladder` and `mid` say for that market, one-sided books
    (marked at the last trade) included."""
    ms = [market(k) for k in range(1, 4)]
    st = state_with(ms, [book(ms[0], 0.40, 0.42), book(ms[1], 0.70, 0.73)])
    st.apply([TradePrint(ms[2].yes_token, T0 + 2, 0.33, 10.0, Side.BUY)])  # no book, a trade
    rows = np.array([2, 0, 1, 0])
    outcomes = [Outcome.YES, Outcome.NO, Outcome.NO, Outcome.YES]
    sides = [Side.BUY, Side.BUY, Side.SELL, Side.SELL]
    got = st.ladders(rows, outcomes, sides)
    for r, o, s, ladder in zip(rows.tolist(), outcomes, sides, got, strict=True):
        want = st.ladder(ms[r].market_id, o, s)
        np.testing.assert_array_equal(ladder, want)  # NaN (an empty level) equals NaN
    marks = st.marks_at(rows)
    np.testing.assert_array_equal(marks, [st.mid(ms[r].market_id) for r in rows.tolist()])
    assert marks[0] == 0.33 and abs(marks[1] - 0.41) < 1e-12

"""Books, book events, trades and tick changes of the simulated exchange."""

from __future__ import annotations

import numpy as np

from engine.config import SimSettings
from engine.events import (
    BookSnapshot,
    MarketListed,
    MarketResolved,
    PriceChange,
    SourceEvent,
    TickSizeChange,
    TradePrint,
)
from engine.models import Side
from engine.sources.sim import SimExchange
from engine.sources.sim.books import cap_in_sequence, count_true, ladders, quote
from engine.state.market_state import MarketState

START = 1_767_225_600.0


def on_grid(px: np.ndarray, tick: float) -> bool:
    return bool(np.all(np.abs(px / tick - np.rint(px / tick)) < 1e-9))


def price_on_grid(price: float, tick: float) -> bool:
    return abs(price / tick - round(price / tick)) < 1e-9


def check_book(
    bp: np.ndarray, bs: np.ndarray, ap: np.ndarray, asz: np.ndarray, tick: float
) -> None:
    assert bp.dtype == bs.dtype == ap.dtype == asz.dtype == np.float64
    assert len(bp) == len(bs) >= 1 and len(ap) == len(asz) >= 1
    assert np.all(np.diff(bp) < 0) and np.all(np.diff(ap) > 0)  # best first, no repeats
    assert bp[0] < ap[0]
    for px in (bp, ap):
        assert on_grid(px, tick)
        assert px.min() >= tick - 1e-12 and px.max() <= 1 - tick + 1e-12
    assert np.all(bs > 0) and np.all(asz > 0)


class Tape:
    """Runs an exchange and a `MarketState` side by side, checking every event on the way."""

    def __init__(self, settings: SimSettings) -> None:
        self.ex = SimExchange(settings, START)
        self.state = MarketState(depth=settings.book_levels)
        self.tick: dict[str, float] = {}
        self.token_market: dict[str, str] = {}
        for m in self.ex.discover():
            self._know(m.market_id, m.yes_token, m.tick_size)
            self.state.add_market(m)
        self.resolved: set[str] = set()
        self.events: list[SourceEvent] = []

    def _know(self, market_id: str, token: str, tick: float) -> None:
        self.tick[token] = tick
        self.token_market[token] = market_id

    def step_to(self, t: float) -> list[SourceEvent]:
        events = self.ex.poll(t)
        for e in events:
            self._check(e)
        res = self.state.apply(events)
        assert res.errors == []
        self.events.extend(events)
        return events

    def _check(self, e: SourceEvent) -> None:
        token = getattr(e, "asset_id", None)
        if token is not None:
            assert self.token_market[token] not in self.resolved, "event after resolution"
        if isinstance(e, BookSnapshot):
            check_book(e.bid_px, e.bid_sz, e.ask_px, e.ask_sz, self.tick[e.asset_id])
        elif isinstance(e, PriceChange):
            assert 1 <= len(e.changes) <= 2 * self.ex.settings.book_levels
            for ch in e.changes:
                assert price_on_grid(ch.price, self.tick[e.asset_id])
                assert ch.size >= 0
        elif isinstance(e, TradePrint):
            assert e.size > 0 and price_on_grid(e.price, self.tick[e.asset_id])
        elif isinstance(e, TickSizeChange):
            assert e.old_tick == self.tick[e.asset_id] != e.new_tick
            self.tick[e.asset_id] = e.new_tick
        elif isinstance(e, MarketResolved):
            self.resolved.add(e.market_id)
        elif isinstance(e, MarketListed):
            self._know(e.market.market_id, e.market.yes_token, e.market.tick_size)
        else:
            raise AssertionError(f"the sim emits no {type(e).__name__}")

    def assert_state_matches_world(self) -> None:
        """What `MarketState` rebuilt from the events equals the exchange's own books."""
        w = self.ex.world
        for r, m in enumerate(w.markets):
            if w.resolved[r]:
                continue
            bp, bs, ap, asz = self.ex.book(m.market_id)
            check_book(bp, bs, ap, asz, float(w.tick[r]))
            row = self.state.row(m.market_id)
            assert row is not None
            st = self.state
            np.testing.assert_array_equal(st.bid_px[row, : len(bp)], bp)
            np.testing.assert_array_equal(st.bid_sz[row, : len(bs)], bs)
            np.testing.assert_array_equal(st.ask_px[row, : len(ap)], ap)
            np.testing.assert_array_equal(st.ask_sz[row, : len(asz)], asz)
            assert np.isnan(st.bid_px[row, len(bp) :]).all()
            assert np.isnan(st.ask_px[row, len(ap) :]).all()
            assert st.tick[row] == w.tick[r]


def test_books_stay_well_formed_and_events_rebuild_them_exactly() -> None:
    s = SimSettings(markets=200, seed=3, new_listings_per_day=100)
    tape = Tape(s)
    for k in range(0, 601):
        tape.step_to(START + s.step_seconds * k)
        if k % 150 == 0:
            tape.assert_state_matches_world()
    kinds = {type(e).__name__ for e in tape.events}
    assert {"BookSnapshot", "PriceChange", "TradePrint", "MarketListed"} <= kinds
    removals = [c for e in tape.events if isinstance(e, PriceChange) for c in e.changes]
    assert any(c.size == 0 for c in removals) and any(c.size > 0 for c in removals)


def test_best_bid_and_ask_match_market_state_over_a_long_run_with_resolutions() -> None:
    s = SimSettings(markets=150, seed=5, step_seconds=1800)
    tape = Tape(s)
    for k in range(0, 3 * 48):  # three days
        tape.step_to(START + s.step_seconds * k)
    assert tape.resolved  # markets resolved along the way ...
    tape.assert_state_matches_world()  # ... and the open ones still agree
    w = tape.ex.world
    for mid in tape.resolved:
        assert not tape.state.active[tape.state.row(mid)]
        assert w.resolved[w.index[mid]]


def test_tick_size_changes_near_the_extremes_and_books_are_regridded() -> None:
    s = SimSettings(markets=200, seed=9, step_seconds=3600)
    tape = Tape(s)
    changes: list[TickSizeChange] = []
    for k in range(0, 4 * 24):
        events = tape.step_to(START + s.step_seconds * k)
        for i, c in enumerate(events):
            if not isinstance(c, TickSizeChange):
                continue
            changes.append(c)
            # the new grid's book follows in the same step
            snaps = [e for e in events[i:] if isinstance(e, BookSnapshot)]
            snap = next(e for e in snaps if e.asset_id == c.asset_id)
            assert on_grid(np.concatenate([snap.bid_px, snap.ask_px]), c.new_tick)
    assert any(c.new_tick == 0.001 for c in changes)
    assert any(c.new_tick == 0.01 for c in changes)
    w = tape.ex.world
    fine = w.tick[~w.resolved] == 0.001
    mids = w.mid[~w.resolved]
    assert np.all((mids[fine] < 0.05) | (mids[fine] > 0.95))
    assert np.all((mids[~fine] >= 0.04) & (mids[~fine] <= 0.96))
    tape.assert_state_matches_world()


def test_quiet_markets_emit_nothing() -> None:
    s = SimSettings(markets=400, seed=2)
    ex = SimExchange(s, START)
    ex.poll(START)
    for k in range(1, 20):
        events = ex.poll(START + k * s.step_seconds)
        touched = {getattr(e, "asset_id", None) for e in events}
        assert len(touched) < 400 * 0.5


def test_trades_print_at_the_touch_and_accumulate_volume() -> None:
    s = SimSettings(markets=200, seed=4, new_listings_per_day=0)
    ex = SimExchange(s, START)
    ex.poll(START)
    w = ex.world
    v0 = w.volume.copy()
    row_of = {m.yes_token: r for r, m in enumerate(w.markets)}
    traded = 0.0
    n_trades = 0
    for k in range(1, 200):
        best_bid = w.bid_top / np.rint(1 / w.tick)
        best_ask = w.ask_top / np.rint(1 / w.tick)
        events = ex.poll(START + k * s.step_seconds)
        requoted = {e.asset_id for e in events if isinstance(e, BookSnapshot)}
        for e in events:
            if isinstance(e, TradePrint):
                n_trades += 1
                traded += e.price * e.size
                if e.asset_id in requoted:  # the touch moved this step
                    continue
                r = row_of[e.asset_id]
                assert e.price == (best_ask[r] if e.side is Side.BUY else best_bid[r])
    assert n_trades > 100
    assert np.isclose(w.volume.sum() - v0.sum(), traded)


def test_thin_markets_quote_wider_and_smaller() -> None:
    ex = SimExchange(SimSettings(markets=2000, seed=8), START)
    w = ex.world
    coarse = (w.tick == 0.01) & (w.mid > 0.2) & (w.mid < 0.8)
    spread = (w.ask_top - w.bid_top) * w.tick
    low = coarse & (w.liquidity < np.quantile(w.liquidity, 0.25))
    high = coarse & (w.liquidity > np.quantile(w.liquidity, 0.75))
    assert spread[low].mean() > 2 * spread[high].mean()
    assert w.bid_sz[low, 0].mean() < w.bid_sz[high, 0].mean() / 5


def test_quote_keeps_bid_below_ask_inside_the_bounds() -> None:
    mid = np.array([0.0, 0.0004, 0.5, 0.9996, 1.0, 0.013])
    scale = np.array([1000, 1000, 100, 1000, 1000, 100])
    bid, ask = quote(mid, np.full(6, 0.0005), scale)
    assert np.all(bid >= 1) and np.all(ask <= scale - 1) and np.all(bid < ask)


def test_trades_sharing_a_level_eat_it_in_turn() -> None:
    keys = np.array([1, 2, 1, 1], dtype=np.int64)
    got = cap_in_sequence(keys, np.array([4.0, 9.0, 5.0, 3.0]), np.array([10.0, 5.0, 10.0, 10.0]))
    np.testing.assert_allclose(got, [4.0, 5.0, 5.0, 1.0])


def _ladder_by_hand(
    top: int, spacing: int, scale: int, sizes: np.ndarray, bids: bool
) -> tuple[list[float], list[float]]:
    sign = -1 if bids else 1
    kept = [(top + sign * j * spacing, z) for j, z in enumerate(sizes.tolist()) if z > 0]
    return [i / scale for i, _ in kept], [z for _, z in kept]


def test_ladders_squeeze_out_empty_levels_best_first_at_any_depth() -> None:
    rng = np.random.default_rng(7)
    for levels in (1, 3, 8, 9, 20):
        n = 40
        scale = rng.choice([100, 1000], n)
        spacing = np.where(scale == 1000, 2, 1)
        tops = rng.integers(1, 99, (2, n))
        sz = np.round(rng.uniform(5, 50, (2, n, levels)), 2)
        sz[rng.random((2, n, levels)) < 0.3] = 0.0
        sz[0, 0] = 0.0  # a book side with no level at all
        px, size, count = ladders(tops, spacing, scale, sz)
        assert px.shape == size.shape == (2, n, levels) and count.shape == (2, n)
        for side in (0, 1):
            for i in range(n):
                want_px, want_sz = _ladder_by_hand(
                    int(tops[side, i]), int(spacing[i]), int(scale[i]), sz[side, i], side == 0
                )
                c = int(count[side, i])
                assert c == len(want_px)
                assert px[side, i, :c].tolist() == want_px  # the very doubles, not nearly
                assert size[side, i, :c].tolist() == want_sz
                assert np.isnan(px[side, i, c:]).all() and (size[side, i, c:] == 0).all()


def test_count_true_counts_each_row_at_any_width() -> None:
    rng = np.random.default_rng(8)
    for width in (1, 7, 8, 9, 16, 50):
        mask = rng.random((33, width)) < 0.6
        np.testing.assert_array_equal(count_true(mask), mask.sum(axis=1))
        np.testing.assert_array_equal(count_true(mask[:, ::-1]), mask.sum(axis=1))  # a view


def test_shallow_and_deep_books_reach_the_state_exactly_as_events_and_as_batches() -> None:
    for levels in (3, 12):
        s = SimSettings(markets=120, seed=4, book_levels=levels, new_listings_per_day=200)
        for batches in (False, True):
            ex = SimExchange(s, START, batches=batches)
            state = MarketState(depth=levels)
            for m in ex.discover():
                state.add_market(m)
            for k in range(0, 301):
                assert state.apply(ex.poll(START + s.step_seconds * k)).errors == []
            w = ex.world
            assert w.n > s.markets  # listings came in along the way
            for r in np.flatnonzero(~w.resolved).tolist():
                m = w.markets[r]
                scale, sp = round(1 / float(w.tick[r])), int(w.spacing[r])
                bp, bs = _ladder_by_hand(int(w.bid_top[r]), sp, scale, w.bid_sz[r], True)
                ap, asz = _ladder_by_hand(int(w.ask_top[r]), sp, scale, w.ask_sz[r], False)
                check_book(np.array(bp), np.array(bs), np.array(ap), np.array(asz), 1 / scale)
                row = state.row(m.market_id)
                assert row is not None
                for got, want in (
                    (state.bid_px[row], bp),
                    (state.bid_sz[row], bs),
                    (state.ask_px[row], ap),
                    (state.ask_sz[row], asz),
                ):
                    assert got[: len(want)].tolist() == want
                assert np.isnan(state.bid_px[row, len(bp) :]).all()
                assert np.isnan(state.ask_px[row, len(ap) :]).all()

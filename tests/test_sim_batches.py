"""The simulator's books and trades as one `WholeBooks` and one `TradeBatch` per step (what
the engine runs) leave the market state exactly as its book / price_change /
last_trade_price events (what the fake exchange serves) do."""

from __future__ import annotations

import numpy as np

from engine.config import SimSettings
from engine.events import BookSnapshot, LevelChange, PriceChange, SourceEvent, WholeBooks
from engine.models import Side
from engine.sources.event_codec import decode_event, encode_event
from engine.sources.sim import SimExchange
from engine.state.market_state import MarketState

START = 1_767_225_600.0
COLUMNS = (
    "bid_px", "bid_sz", "ask_px", "ask_sz", "book_ts", "tick",
    "last_trade_px", "last_trade_ts", "traded_volume", "volume",
)  # fmt: skip


def _opened(settings: SimSettings, batches: bool) -> tuple[SimExchange, MarketState]:
    source = SimExchange(settings, START, batches=batches)
    state = MarketState(depth=8)
    for m in source.discover():
        state.add_market(m)
    return source, state


def _pair(**sim: object) -> tuple[SimExchange, MarketState, SimExchange, MarketState]:
    """The same world twice: its events (as the fake serves them), then its batches."""
    settings = SimSettings(**{"markets": 300, "seed": 3, "new_listings_per_day": 400.0, **sim})
    return (*_opened(settings, False), *_opened(settings, True))


def _same_state(a: MarketState, b: MarketState) -> None:
    assert a.n == b.n
    assert [m.volume for m in a.markets] == [m.volume for m in b.markets]
    for col in COLUMNS:
        assert np.array_equal(getattr(a, col)[: a.n], getattr(b, col)[: b.n], equal_nan=True), col


def _remove_best_levels(state: MarketState, t: float) -> None:
    """A price_change taking each book's best bid and ask away: what comes up from behind
    the matrices shows the full depth each state keeps."""
    changes: list[SourceEvent] = []
    for r in range(state.n):
        m = state.markets[r]
        levels = []
        if state.bid_sz[r, 0] > 0:
            levels.append(LevelChange(Side.BUY, float(state.bid_px[r, 0]), 0.0))
        if state.ask_sz[r, 0] > 0:
            levels.append(LevelChange(Side.SELL, float(state.ask_px[r, 0]), 0.0))
        changes.append(PriceChange(m.yes_token, t, tuple(levels)))
    assert not state.apply(changes).errors


def test_batches_and_events_give_the_same_books_step_by_step() -> None:
    events, s_events, batched, s_batched = _pair()
    t = START
    listed = resolved = 0
    for _ in range(120):
        ra = s_events.apply(events.poll(t))
        rb = s_batched.apply(batched.poll(t))
        assert ra.errors == rb.errors == []
        assert ra.changed_rows == rb.changed_rows
        assert [r.market_id for r in ra.resolved] == [r.market_id for r in rb.resolved]
        listed += len(rb.listed)
        resolved += len(rb.resolved)
        _same_state(s_events, s_batched)
        t += 10.0
    _remove_best_levels(s_events, t)
    _remove_best_levels(s_batched, t)
    _same_state(s_events, s_batched)
    assert listed > 0  # the run covered new listings' first books too


def test_a_recorded_batch_replays_into_the_same_state() -> None:
    _, _, batched, live = _pair()
    replayed = MarketState(depth=8)
    for m in batched.discover():
        replayed.add_market(m)
    t = START
    for _ in range(5):
        evs = batched.poll(t)
        live.apply(evs)
        replayed.apply([decode_event(*encode_event(ev)) for ev in evs])
        t += 10.0
    _same_state(live, replayed)
    _remove_best_levels(live, t)
    _remove_best_levels(replayed, t)
    _same_state(live, replayed)


def test_malformed_whole_books_are_reported_not_raised() -> None:
    _, _, batched, state = _pair()
    (books,) = [e for e in batched.poll(START) if isinstance(e, WholeBooks)]
    books.bid_n = books.bid_n[:-1]  # counts no longer match the tokens
    res = state.apply([books])
    assert res.errors and "level counts" in res.errors[0]


def test_whole_books_then_the_wires_changes_and_snapshots_keep_the_full_depth() -> None:
    """After `WholeBooks`, a `BookBatch` of level changes and a deeper snapshot (the general
    path) see the book the matrices held, as the per-event path does."""
    events, s_events, batched, s_batched = _pair()
    for state, source in ((s_events, events), (s_batched, batched)):
        state.apply(source.poll(START))
    m = s_batched.markets[0]
    bid = float(s_batched.bid_px[0, 0])
    deeper = BookSnapshot(
        m.yes_token, START + 1, np.linspace(0.40, 0.01, 40), np.full(40, 3.0),
        np.linspace(0.41, 0.80, 40), np.full(40, 2.0),
    )  # fmt: skip
    follow: list[SourceEvent] = [
        PriceChange(m.yes_token, START + 1, (LevelChange(Side.BUY, bid, 0.0),)),
        PriceChange(s_batched.markets[1].yes_token, START + 1, ()),
        deeper,
    ]
    for state in (s_events, s_batched):
        assert not state.apply(follow[:2]).errors
    _same_state(s_events, s_batched)
    assert s_events.levels(m.market_id) == s_batched.levels(m.market_id)
    for state in (s_events, s_batched):
        assert not state.apply(follow[2:]).errors
    _same_state(s_events, s_batched)


def test_a_trade_batch_equals_its_prints_with_repeats_no_tokens_and_strangers() -> None:
    from engine.events import TradeBatch, TradePrint
    from tests.state_factories import market

    markets = [market(i) for i in range(3)]
    states = [MarketState(depth=8) for _ in range(3)]
    for st in states:
        for m in markets:
            st.add_market(m)
    a, b, c = markets
    yes_only = (a.yes_token, b.yes_token, a.yes_token)  # the batch's fast path
    mixed = (a.yes_token, c.no_token, "unknown-token")  # print by print
    for tokens in (yes_only, mixed):
        price, size = np.array([0.4, 0.7, 0.45]), np.array([10.0, 2.0, 4.0])
        buy = np.array([True, False, True])
        prints: list[SourceEvent] = [
            TradePrint(tok, 5.0, float(p), float(z), Side.BUY if y else Side.SELL)
            for tok, p, z, y in zip(tokens, price, size, buy, strict=True)
        ]
        one_by_one, batched = (
            states[0].apply(prints),
            states[1].apply([TradeBatch(5.0, tokens, price, size, buy)]),
        )
        assert one_by_one.changed_rows == batched.changed_rows
        assert one_by_one.errors == batched.errors
        _same_state(states[0], states[1])
        if tokens is yes_only:  # the last print on a market is its last trade
            assert states[1].last_trade_px[0] == 0.45
    bad = TradeBatch(6.0, (a.yes_token,), np.array([0.4, 0.5]), np.array([1.0]), np.array([True]))
    assert "another length" in states[2].apply([bad]).errors[0]

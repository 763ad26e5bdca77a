"""The websocket's lanes: what one connection's book frames become by the engine step.

The property test in `test_book_batch.py` holds the lanes to the event path on random
feeds; these pin the rules one by one: a price the fast decoders have no text for, a token
of another connection, a REST snapshot between frames, frames written while the engine
drains, the one-number trust check, and the top levels read back from the slot books.
"""

from __future__ import annotations

import json
import math
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config import PolymarketSettings
from engine.events import BookBatch, BookSnapshot, SourceEvent
from engine.models import Market
from engine.sources.polymarket.eventqueue import EventQueue
from engine.sources.polymarket.parse_ws import MarketChannelParser
from engine.sources.polymarket.trust import NEVER_MS, first_ms_not_before
from engine.sources.polymarket.ws import MarketStream
from engine.state.market_state import MarketState
from engine.state.slot_books import FINEST, SlotBooks
from tests.state_factories import market
from tests.wire_frames import change_frame

A, B = market(1), market(2)  # tick 0.01


def _change(ts_ms: int, *entries: tuple[str, str, str, str]) -> bytes:
    return change_frame(ts_ms, list(entries))


def _book(token: str, ts_ms: int, bids: list[tuple[str, str]]) -> bytes:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": token,
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [],
            "timestamp": str(ts_ms),
        }
    ).encode()


def _stream(queue: EventQueue, markets: list[Market], name: str = "s") -> MarketStream:
    stream = MarketStream(
        name, PolymarketSettings(), MarketChannelParser(), queue.put, frames=queue
    )
    for m in markets:
        stream.add_market(m)
        for token in (m.yes_token, m.no_token):  # a snapshot each: nothing awaits one
            stream.on_frame(_book(token, 1, []))
    return stream


def _state(*markets: Market) -> MarketState:
    state = MarketState(depth=4, history=4)
    for m in markets:
        state.add_market(m)
    return state


@pytest.mark.parametrize("chunk_frames", [1, 256])
def test_a_price_without_a_text_takes_the_plain_decoder_to_the_same_level(
    chunk_frames: int,
) -> None:
    """0.1234 is on no grid the fast decoders have texts for; its frame is read again by
    the plain decoder, and the book moves to the finest grid, keeping its levels."""
    queue = EventQueue(chunk_frames=chunk_frames)
    stream = _stream(queue, [A])
    stream.on_frame(_change(2_000, (A.yes_token, "0.40", "5", "BUY")))
    stream.on_frame(_change(2_001, (A.yes_token, "0.1234", "7", "BUY")))
    stream.on_frame(_change(2_002, (A.yes_token, "0.41", "9", "BUY")))
    state = _state(A)
    assert not state.apply(queue.drain()).errors
    assert state.levels(A.market_id) == ({0.4: 5.0, 0.1234: 7.0, 0.41: 9.0}, {})
    assert stream.bad_frames == 0


def test_a_level_of_a_token_subscribed_on_another_connection_is_dropped() -> None:
    """Both connections' tokens are in the fast decoder's table; the batch keeps a level
    only where its lane's connection subscribed the token (the trust filter's rule), and
    the rest of the frame still applies."""
    queue = EventQueue()
    first, second = _stream(queue, [A], "a"), _stream(queue, [B], "b")
    state = _state(A, B)
    assert not state.apply(queue.drain()).errors  # the snapshots, an engine step before
    second.on_frame(_change(2_000, (B.no_token, "0.20", "8", "BUY")))  # a YES ask at 0.80
    first.on_frame(
        _change(2_001, (A.yes_token, "0.40", "5", "BUY"), (B.yes_token, "0.30", "6", "BUY"))
    )
    assert not state.apply(queue.drain()).errors
    assert state.levels(A.market_id) == ({0.4: 5.0}, {})
    assert state.levels(B.market_id) == ({}, {0.8: 8.0})


@pytest.mark.parametrize("chunk_frames", [1, 2, 256])
def test_a_rest_snapshot_between_frames_applies_in_its_place(chunk_frames: int) -> None:
    """A snapshot that arrives as an event (a REST answer) replaces what the frames before
    it built, and the frames after it build on it, however the lane packed them."""
    queue = EventQueue(chunk_frames=chunk_frames)
    stream = _stream(queue, [A])
    stream.on_frame(_change(2_000, (A.yes_token, "0.40", "5", "BUY")))
    stream.on_frame(_change(2_001, (A.yes_token, "0.39", "6", "BUY")))
    empty = np.zeros(0)
    snap = BookSnapshot(A.yes_token, 2.002, np.array([0.35]), np.array([1.0]), empty, empty)
    stream._deliver([snap])
    stream.on_frame(_change(2_003, (A.yes_token, "0.36", "2", "BUY")))
    assert len(queue) == 2 + 3 + 1  # the books of `_stream`, the change frames, the snapshot
    state = _state(A)
    assert not state.apply(queue.drain()).errors
    assert state.levels(A.market_id) == ({0.35: 1.0, 0.36: 2.0}, {})
    assert state.book_ts[0] == 2.003
    assert len(queue) == 0


def test_frames_written_while_the_engine_drains_are_each_drained_once_in_order() -> None:
    """A writer thread feeds frames (and books) while the main thread drains as fast as it
    can, with thread switches forced every microsecond: every level arrives exactly once,
    and one token's levels in the order written."""
    queue = EventQueue(chunk_frames=10**9)  # only the drains pack: they meet the writer
    stream = _stream(queue, [A])
    n = 20_000
    batches: list[SourceEvent] = []

    def write() -> None:
        for i in range(n):
            stream.on_frame(_change(10_000 + i, (A.yes_token, "0.40", str(i + 1), "BUY")))
            if i % 97 == 0:
                stream.on_frame(_book(A.no_token, 10_000 + i, []))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        writer = threading.Thread(target=write)
        writer.start()
        while writer.is_alive():
            batches.extend(queue.drain())
        writer.join()
        batches.extend(queue.drain())
    finally:
        sys.setswitchinterval(old)
    sizes = [
        s for b in batches if isinstance(b, BookBatch) for s in b.level_size[b.level_bid].tolist()
    ]
    assert sizes == [float(i + 1) for i in range(n)]
    state = _state(A)
    assert not state.apply(batches).errors
    assert state.levels(A.market_id) == ({0.4: float(n)}, {})


@settings(max_examples=300, deadline=None)
@given(st.floats(0.0, 1e13, allow_nan=False) | st.integers(0, 10**13).map(lambda ms: ms / 1000.0))
def test_fresh_ms_is_the_first_millisecond_not_older_than_the_snapshot(seconds: float) -> None:
    m = first_ms_not_before(seconds)
    assert isinstance(m, int)
    assert m / 1000.0 >= seconds
    assert m == 0 or (m - 1) / 1000.0 < seconds


def test_fresh_ms_of_odd_snapshot_times() -> None:
    assert first_ms_not_before(math.nan) == NEVER_MS
    assert first_ms_not_before(math.inf) == NEVER_MS
    assert first_ms_not_before(-math.inf) == 0
    assert first_ms_not_before(-5.0) == 0
    assert first_ms_not_before(1e300) == NEVER_MS


def _reference_top(
    levels: dict[int, float], scale: int, depth: int, bids: bool
) -> tuple[list[float], list[float]]:
    best = sorted(levels.items(), reverse=bids)[:depth]
    px = [k / scale for k, _ in best] + [math.nan] * (depth - len(best))
    sz = [s for _, s in best] + [0.0] * (depth - len(best))
    return px, sz


Rows = list[tuple[int, dict[int, float], dict[int, float]]]  # per row: grid, bids, asks


@st.composite
def slot_books(draw: st.DrawFn) -> tuple[SlotBooks, Rows]:
    """Books on every grid (some refined to a finer one), each side 0..12 levels."""
    books = SlotBooks()
    rows: Rows = []
    for _ in range(draw(st.integers(1, 6))):
        scale = draw(st.sampled_from([100, 1_000, FINEST]))
        row = books.add_row(scale)
        if scale < FINEST and draw(st.booleans()):
            scale = FINEST if scale == 1_000 else 1_000
            books.refine(row, scale)
        sides = []
        for side in (0, 1):
            ks = draw(st.sets(st.integers(0, scale), max_size=12))
            levels = {k: float(draw(st.integers(1, 999))) for k in ks}
            sides.append(levels)
            if levels:
                k = np.array(sorted(levels), np.int64)
                books.write(
                    np.full(k.size, row, np.int64),
                    np.full(k.size, side, np.int64),
                    k * (FINEST // scale),
                    np.array([levels[x] for x in sorted(levels)]),
                    np.arange(k.size),
                )
        rows.append((scale, sides[0], sides[1]))
    return books, rows


@settings(max_examples=200, deadline=None)
@given(slot_books(), st.integers(1, 10), st.data())
def test_top_is_each_sides_best_levels_in_order(
    built: tuple[SlotBooks, Rows],
    depth: int,
    data: st.DataObject,
) -> None:
    books, rows = built
    pick = data.draw(st.lists(st.integers(0, len(rows) - 1), min_size=1, unique=True))
    bid_px, bid_sz, ask_px, ask_sz = books.top(np.array(pick, np.int64), depth)
    for i, row in enumerate(pick):
        scale, bids, asks = rows[row]
        want_bid = _reference_top(bids, scale, depth, bids=True)
        want_ask = _reference_top(asks, scale, depth, bids=False)
        np.testing.assert_allclose(bid_px[i], want_bid[0], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(bid_sz[i], want_bid[1])
        np.testing.assert_allclose(ask_px[i], want_ask[0], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(ask_sz[i], want_ask[1])

"""Book events as columnar batches give the state the per-event path gave.

Three properties, on randomised streams:
- `MarketState` fed book events (any mix of snapshots and level changes of YES and NO
  tokens, unknown tokens, listings in between, any chunking into `apply` calls) holds what a
  per-event reference model holds: the old `MarketState` algorithm (a price -> size dict per
  side, YES orientation, each event applied in order, top levels sorted out of the dict);
- the websocket's own path (frames decoded into a `BookBatch` by `MarketStream.on_frame`,
  drained by the queue) and its general path (every frame made into `SourceEvent`s and
  trust-filtered event by event) leave the same state and the same trust events, through
  drops, stale frames and snapshots awaited;
- a recorded batch decodes to one that applies to the same state (replay).
"""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config import PolymarketSettings
from engine.events import (
    BookSnapshot,
    BookTrust,
    LevelChange,
    MarketListed,
    PriceChange,
    SourceEvent,
)
from engine.models import Market, Side
from engine.sources.event_codec import decode_event, encode_event
from engine.sources.polymarket.eventqueue import EventQueue
from engine.sources.polymarket.parse_ws import MarketChannelParser
from engine.sources.polymarket.ws import MarketStream
from engine.state.event_batch import batch_of
from engine.state.market_state import MarketState
from tests.state_factories import market
from tests.wire_frames import change_frame

DEPTH = 4
MARKETS = [market(i, tick_size=0.01 if i % 2 else 0.001) for i in range(3)]
LATE = market(7)  # listed in the middle of a stream


class Reference:
    """The per-event semantics: what the old `MarketState` did with each book event."""

    def __init__(self) -> None:
        self.books: dict[int, tuple[dict[float, float], dict[float, float]]] = {}
        self.token: dict[str, tuple[int, bool]] = {}
        self.book_ts: dict[int, float] = {}

    def add(self, m: Market, row: int) -> None:
        if m.yes_token not in self.token:
            self.books[row] = ({}, {})
        self.token[m.yes_token] = (row, False)
        self.token[m.no_token] = (row, True)

    def apply(self, ev: BookSnapshot | PriceChange) -> None:
        known = self.token.get(ev.asset_id)
        if known is None:
            return
        row, no = known
        bids, asks = self.books[row]
        if isinstance(ev, BookSnapshot):
            bids.clear()
            asks.clear()
            for px, sz, bid in ((ev.bid_px, ev.bid_sz, True), (ev.ask_px, ev.ask_sz, False)):
                for p, s in zip(px.tolist(), sz.tolist(), strict=True):
                    self._set(bids, asks, bid != no, 1.0 - p if no else p, s)
        else:
            for c in ev.changes:
                p = 1.0 - c.price if no else c.price
                self._set(bids, asks, (c.side is Side.BUY) != no, p, c.size)
        self.book_ts[row] = ev.ts

    @staticmethod
    def _set(
        bids: dict[float, float], asks: dict[float, float], bid: bool, p: float, s: float
    ) -> None:
        side = bids if bid else asks
        if s > 0:
            side[round(p, 6)] = s
        else:
            side.pop(round(p, 6), None)

    def top(self, row: int) -> tuple[list[float], list[float], list[float], list[float]]:
        bids, asks = self.books[row]
        b = sorted(bids.items(), reverse=True)[:DEPTH]
        a = sorted(asks.items())[:DEPTH]
        pad = [float("nan")] * DEPTH
        zero = [0.0] * DEPTH
        return (
            ([p for p, _ in b] + pad)[:DEPTH],
            ([s for _, s in b] + zero)[:DEPTH],
            ([p for p, _ in a] + pad)[:DEPTH],
            ([s for _, s in a] + zero)[:DEPTH],
        )


def _prices(tick: float) -> st.SearchStrategy[float]:
    scale = round(1 / tick)
    return st.integers(1, scale - 1).map(lambda k: k / scale)


@st.composite
def book_events(draw: st.DrawFn) -> list[SourceEvent]:
    """A stream over MARKETS (and LATE once listed), with a few unknown tokens."""
    out: list[SourceEvent] = []
    listed = False
    ts = 1000.0
    for _ in range(draw(st.integers(1, 40))):
        ts += draw(st.sampled_from([0.0, 0.5, 1.0]))
        if not listed and draw(st.integers(0, 15)) == 0:
            out.append(MarketListed(LATE, ts))
            listed = True
            continue
        m = draw(st.sampled_from([*MARKETS, LATE]))
        token = draw(st.sampled_from([m.yes_token, m.no_token, "unknown-token"]))
        prices = _prices(
            draw(
                st.sampled_from([m.tick_size, 0.0001])
                if draw(st.booleans())
                else st.just(m.tick_size)
            )
        )
        if draw(st.integers(0, 4)) == 0:
            bid_px = sorted(draw(st.sets(prices, max_size=6)), reverse=True)
            ask_px = sorted(draw(st.sets(prices, max_size=6)))
            sizes = st.floats(1.0, 1e4, allow_nan=False)
            out.append(
                BookSnapshot(
                    token,
                    ts,
                    np.array(bid_px, np.float64),
                    np.array([draw(sizes) for _ in bid_px], np.float64),
                    np.array(ask_px, np.float64),
                    np.array([draw(sizes) for _ in ask_px], np.float64),
                )
            )
        else:
            changes = draw(
                st.lists(
                    st.builds(
                        LevelChange,
                        st.sampled_from([Side.BUY, Side.SELL]),
                        prices,
                        st.sampled_from([0.0, 1.0, 25.0, 300.5]),
                    ),
                    min_size=1,
                    max_size=5,
                )
            )
            out.append(PriceChange(token, ts, tuple(changes)))
    return out


def _fresh() -> MarketState:
    s = MarketState(depth=DEPTH, history=4)
    for m in MARKETS:
        s.add_market(m)
    return s


def _reference(events: list[SourceEvent]) -> Reference:
    ref = Reference()
    for row, m in enumerate(MARKETS):
        ref.add(m, row)
    for ev in events:
        if isinstance(ev, MarketListed):
            ref.add(ev.market, len(MARKETS))
        elif isinstance(ev, BookSnapshot | PriceChange):
            ref.apply(ev)
    return ref


def _assert_same(state: MarketState, ref: Reference) -> None:
    for row, (bids, asks) in ref.books.items():
        got = state._books.levels(row)
        assert got == (bids, asks), f"row {row}"
        want = ref.top(row)
        for have, exp in zip(
            (state.bid_px[row], state.bid_sz[row], state.ask_px[row], state.ask_sz[row]),
            want,
            strict=True,
        ):
            np.testing.assert_allclose(have, exp, rtol=0, atol=1e-12)
        if row in ref.book_ts:
            assert state.book_ts[row] == ref.book_ts[row]
        else:
            assert np.isnan(state.book_ts[row])


@settings(max_examples=150, deadline=None)
@given(book_events(), st.data())
def test_batches_hold_what_event_by_event_application_held(
    events: list[SourceEvent], data: st.DataObject
) -> None:
    state = _fresh()
    v0 = state.version.copy()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=4)))
    changed: set[int] = set()
    for lo, hi in zip([0, *cuts], [*cuts, len(events)], strict=True):
        chunk = events[lo:hi]
        if data.draw(st.booleans()):  # the same events, pre-batched as a source would
            books = [e for e in chunk if isinstance(e, BookSnapshot | PriceChange)]
            if len(books) == len(chunk) and books:
                chunk = [batch_of(books)]
        changed |= state.apply(chunk).changed_rows
    ref = _reference(events)
    _assert_same(state, ref)
    assert changed >= set(ref.book_ts)
    assert all(state.version[r] > v0[r] for r in ref.book_ts if r < v0.size)


@settings(max_examples=60, deadline=None)
@given(book_events())
def test_a_recorded_batch_replays_to_the_same_state(events: list[SourceEvent]) -> None:
    books = [e for e in events if isinstance(e, BookSnapshot | PriceChange)]
    if not books:
        return
    batch = batch_of(books)
    kind, payload = encode_event(batch)
    assert kind == "BookBatch"
    replayed = decode_event(kind, payload)
    live, again = _fresh(), _fresh()
    live.apply([batch])
    again.apply([replayed])
    for row in range(len(MARKETS)):
        assert live._books.levels(row) == again._books.levels(row)
    np.testing.assert_array_equal(live.bid_px, again.bid_px)
    np.testing.assert_array_equal(live.book_ts, again.book_ts)


def test_a_damaged_batch_is_reported_not_applied() -> None:
    m = MARKETS[0]
    batch = batch_of([PriceChange(m.yes_token, 1.0, (LevelChange(Side.BUY, 0.5, 1.0),))])
    batch.level_token = np.array([5], np.int64)  # no such token in the batch
    state = _fresh()
    res = state.apply([batch])
    assert res.errors and state._books.levels(0) == ({}, {})


def test_off_grid_prices_are_reported_and_the_rest_applied() -> None:
    m = MARKETS[1]
    state = _fresh()
    res = state.apply(
        [
            PriceChange(
                m.yes_token,
                1.0,
                (LevelChange(Side.BUY, 0.123456, 1.0), LevelChange(Side.BUY, 0.4, 2.0)),
            )
        ]
    )
    assert len(res.errors) == 1 and "0.123456" in res.errors[0]
    assert state._books.levels(1) == ({0.4: 2.0}, {})


# --- the websocket's two paths ------------------------------------------------------------


def _book_frame(
    token: str, ts_ms: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> bytes:
    return json.dumps(
        {
            "event_type": "book",
            "asset_id": token,
            "market": "0xm",
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
            "timestamp": str(ts_ms),
            "hash": "ab",
        }
    ).encode()


Feed = bytes | str | BookSnapshot  # a frame, "LOST" (a drop), or a REST snapshot


@st.composite
def feeds(draw: st.DrawFn) -> list[Feed]:
    """Frames of both tokens of two markets, out of order at times, with drops ("LOST"),
    REST snapshots delivered between frames (as after a tick change), trades, malformed
    frames, and a legacy-layout frame now and then (which takes the general path on both
    sides). Prices on the 0.01 and 0.001 grids (the fast decoders' texts) and on the
    0.0001 grid (which only the plain decoders read)."""
    tokens = [t for m in MARKETS[:2] for t in (m.yes_token, m.no_token)] + ["stranger"]
    price = (
        st.integers(1, 99).map(lambda k: f"0.{k:02d}")
        | st.integers(1, 999).map(lambda k: f"0.{k:03d}")
        | st.integers(1, 9999).map(lambda k: f"0.{k:04d}")
    )
    size = st.sampled_from(["0", "5", "12.5", "100"])
    out: list[Feed] = []
    for _ in range(draw(st.integers(1, 30))):
        ts = draw(st.integers(1_000, 1_020)) * 1000
        kind = draw(st.integers(0, 13))
        if kind <= 2:
            lv = st.lists(st.tuples(price, size), max_size=4)
            out.append(_book_frame(draw(st.sampled_from(tokens[:4])), ts, draw(lv), draw(lv)))
        elif kind == 3:
            out.append("LOST")
        elif kind == 4:
            t = draw(st.sampled_from(tokens))
            out.append(
                json.dumps(
                    {
                        "event_type": "price_change",
                        "asset_id": t,
                        "changes": [{"price": draw(price), "side": "BUY", "size": draw(size)}],
                        "timestamp": str(ts),
                    }
                ).encode()
            )
        elif kind == 5:
            px = sorted({float(draw(price)) for _ in range(draw(st.integers(0, 3)))})
            out.append(
                BookSnapshot(
                    draw(st.sampled_from(tokens[:4])),
                    ts / 1000.0,
                    np.array(px[::-1], np.float64),
                    np.full(len(px), 7.0),
                    np.array([], np.float64),
                    np.array([], np.float64),
                )
            )
        elif kind == 6:
            out.append(
                json.dumps(
                    {
                        "event_type": "last_trade_price",
                        "asset_id": draw(st.sampled_from(tokens)),
                        "price": draw(price),
                        "size": draw(size),
                        "side": "BUY",
                        "timestamp": str(ts),
                    }
                )
            )
        elif kind == 7:
            bad: list[Feed] = [
                "PONG",
                b"{",
                b"[]",
                change_frame(ts, [(tokens[0], "0.5", "abc", "BUY")]),
                change_frame(ts, [(tokens[0], "0.5", "1e400", "SELL")]),
                change_frame(ts, [(tokens[0], "1.5", "3", "SELL")]),
                _book_frame(tokens[1], ts, [("0.3", "-1")], []),
            ]
            out.append(draw(st.sampled_from(bad)))
        else:
            entry = st.tuples(
                st.sampled_from(tokens), price, size, st.sampled_from(["BUY", "SELL"])
            )
            out.append(change_frame(ts, draw(st.lists(entry, min_size=1, max_size=4))))
    return out


def _run_stream(
    frames: list[Feed], batched: bool, chunk_frames: int = 256
) -> tuple[MarketState, list[str]]:
    """Feed a stream's frames through `MarketStream.on_frame` and apply what comes out."""
    queue = EventQueue(chunk_frames=chunk_frames)
    trust: list[str] = []

    def sink(events: list[SourceEvent]) -> None:
        trust.extend(f"{e.market_id}:{e.trusted}" for e in events if isinstance(e, BookTrust))
        queue.put(events)

    stream = MarketStream(
        "s",
        PolymarketSettings(),
        MarketChannelParser(),
        sink,
        clock=lambda: 5.0,
        frames=queue if batched else None,
    )
    for m in MARKETS[:2]:
        stream.add_market(m)
    state = _fresh()
    for i, frame in enumerate(frames):
        if isinstance(frame, BookSnapshot):
            stream._deliver([frame])  # as a REST answer is
        elif frame == "LOST":
            stream._deliver_trust("connection lost")
        else:
            stream.on_frame(frame)
        if i % 7 == 6:
            state.apply(queue.drain())
    state.apply(queue.drain())
    return state, trust


@settings(max_examples=150, deadline=None)
@given(feeds(), st.sampled_from([1, 2, 3, 256]))
def test_the_batched_websocket_path_leaves_the_state_of_the_event_path(
    frames: list[Feed], chunk_frames: int
) -> None:
    """Whatever the lanes pack their frames into (a chunk per frame, or a few)."""
    fast, fast_trust = _run_stream(frames, batched=True, chunk_frames=chunk_frames)
    slow, slow_trust = _run_stream(frames, batched=False)
    assert fast_trust == slow_trust
    for row in range(2):
        assert fast._books.levels(row) == slow._books.levels(row)
    cols = ("bid_px", "bid_sz", "ask_px", "ask_sz", "book_ts", "trusted", "last_trade_px")
    for col in cols:
        np.testing.assert_array_equal(getattr(fast, col), getattr(slow, col), err_msg=col)

"""Fuzzing the readers of Polymarket market data: each returns or raises only its own error.

Every property feeds a reader what a broken or hostile peer could send (`tests.fuzz_values`)
and lets any exception but the reader's documented one fail the test; where a reader
returns values, they are checked to be inside the bounds the engine relies on. The trading
answers are fuzzed in `test_fuzz_live.py`, the control socket and codecs in
`test_fuzz_control.py`; `test_reader_regressions.py` holds the cases a fuzzer found.
"""

# Readers covered: input_bounds (bounded_float, bounded_decimal, decode_json), fields.to_float, clob_answers.units_to_usdc, retry_after_seconds, parse_gamma_market/markets/event/events/tags/search, parse_book/books/prices_history/tick_size/neg_risk/fee_rate/price/midpoint/spread/server_time/clob_market/clob_markets_page, decode_frame, MarketChannelParser.parse, parse_ws_message, L2Books.ingest, MarketStream.on_frame (frames.change_decoder/book_decoder/refused_where, the lanes, MarketState.apply), JsonApi.call (GammaClient, ClobRestClient).  # noqa: E501

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.config import PolymarketSettings
from engine.events import BookSnapshot, SourceEvent
from engine.execution.clob_answers import AnswerError, units_to_usdc
from engine.input_bounds import (
    MAX_MAGNITUDE,
    OutOfBounds,
    bounded_decimal,
    bounded_float,
    decode_json,
    too_deep,
)
from engine.models import Market
from engine.sources.polymarket import (
    ClobRestClient,
    GammaClient,
    L2Books,
    MarketChannelParser,
    PolymarketParseError,
    decode_frame,
    parse_book,
    parse_books,
    parse_clob_market,
    parse_clob_markets_page,
    parse_fee_rate,
    parse_gamma_event,
    parse_gamma_events,
    parse_gamma_market,
    parse_gamma_markets,
    parse_gamma_search,
    parse_gamma_tags,
    parse_midpoint,
    parse_neg_risk,
    parse_price,
    parse_prices_history,
    parse_server_time,
    parse_spread,
    parse_tick_size,
    parse_ws_message,
)
from engine.sources.polymarket.eventqueue import EventQueue
from engine.sources.polymarket.fields import to_float
from engine.sources.polymarket.frames import book_decoder, change_decoder, refused_where
from engine.sources.polymarket.retry import retry_after_seconds
from engine.sources.polymarket.ws import MarketStream
from engine.state.market_state import MarketState
from tests.fuzz_values import (
    NUMBER_TEXTS,
    SCALARS,
    as_bytes,
    batches,
    dumped,
    fuzz,
    payloads,
    read,
    sweep,
    texts_of,
)
from tests.recorded_fixtures import recorded
from tests.test_polymarket_source import gamma_market

PPE = PolymarketParseError

# --- numbers --------------------------------------------------------------------------------------


@fuzz(600)
@given(batches(SCALARS | NUMBER_TEXTS), st.sampled_from([1.0, 1e6, MAX_MAGNITUDE, math.inf]))
def test_number_readers_refuse_what_is_not_a_bounded_ascii_number(
    values: list[Any], limit: float
) -> None:
    """The shared readers, and the three that read numbers of their own kind on top."""
    for value in values:
        f = read(OutOfBounds, bounded_float, value, limit)
        d = read(OutOfBounds, bounded_decimal, value, limit)
        for got in (f, d):
            if got is not None:
                assert got.is_finite() if isinstance(got, Decimal) else math.isfinite(got)
                assert abs(got) <= limit
                assert not isinstance(value, bool)
                assert not isinstance(value, str) or value.isascii()
        if isinstance(value, str) and f is not None and d is not None:
            assert math.isclose(f, float(d), rel_tol=1e-15, abs_tol=1e-300)
        read(PPE, to_float, value, "field")
        usdc = read(AnswerError, units_to_usdc, value, "balance")
        if usdc is not None:
            assert usdc.is_finite() and usdc >= 0
            assert isinstance(value, int) or (isinstance(value, str) and value.isascii())
        if isinstance(value, str) or value is None:
            wait = retry_after_seconds(value, now=0.0)
            assert wait is None or (math.isfinite(wait) and wait >= 0)


# --- Gamma ----------------------------------------------------------------------------------------

GAMMA_DOCS = [
    recorded("nautilus_rs__gamma_market.json"),
    recorded("nautilus_rs__gamma_market_closed_binary_accepting_true.json"),
    recorded("nautilus_rs__gamma_market_closed_nonbinary_legacy.json"),
    recorded("nautilus_rs__gamma_market_closed_zero_zero_legacy.json"),
    recorded("nautilus_rs__gamma_market_sports_market_money_line.json"),
    recorded("nautilus_py__http_market.json"),
    *recorded("wom__gamma_markets_default_10.json")[:2],
    recorded("nautilus_rs__gamma_event.json")[0],
    recorded("nautilus_py__http_event.json"),
    recorded("nautilus_rs__gamma_tags.json"),
    recorded("nautilus_rs__search_response.json"),
]
GOOD = gamma_market(7)


def _bounded_market(m: Market) -> None:
    assert 0.0 < m.tick_size < 1.0
    for x in (m.volume, m.liquidity, m.min_order_size, m.fee_rate):
        assert math.isfinite(x) and abs(x) <= MAX_MAGNITUDE
    assert m.payout_yes is None or 0.0 <= m.payout_yes <= 1.0
    assert m.yes_token != m.no_token


@fuzz(500)
@given(batches(payloads("Gamma", GAMMA_DOCS)))
def test_gamma_readers_raise_only_parse_errors_and_skip_bad_markets(batch: list[Any]) -> None:
    for payload in batch:
        _gamma(payload)


def _gamma(payload: Any) -> None:
    one = read(PPE, parse_gamma_market, payload)
    if one is not None:
        _bounded_market(one)
    event = read(PPE, parse_gamma_event, payload)
    for m in event.markets if event is not None else ():
        _bounded_market(m)
    for fn in (parse_gamma_events, parse_gamma_tags, parse_gamma_search):
        read(PPE, fn, payload)
        read(PPE, fn, [payload])
    read(PPE, parse_gamma_markets, payload)
    # In a listing, a bad market costs that market only: the good one beside it stays.
    markets, skipped = parse_gamma_markets([payload, GOOD])
    assert markets[-1].market_id == GOOD["conditionId"]
    assert len(markets) + len(skipped) == 2
    for m in markets:
        _bounded_market(m)


def test_every_field_of_the_recorded_gamma_payloads_replaced_by_each_bad_value() -> None:
    """The sweep (`fuzz_values.sweep`), each payload through the reader of its kind."""
    markets, events, tags, search = GAMMA_DOCS[:8], GAMMA_DOCS[8:10], GAMMA_DOCS[10], GAMMA_DOCS[11]
    for doc in markets:
        for payload in sweep(doc):
            m = read(PPE, parse_gamma_market, payload)
            if m is not None:
                _bounded_market(m)
    for doc in events:
        for payload in sweep(doc):
            event = read(PPE, parse_gamma_event, payload)
            for m in event.markets if event is not None else ():
                _bounded_market(m)
    for payload in sweep(tags):
        read(PPE, parse_gamma_tags, payload)
    for payload in sweep(search):
        read(PPE, parse_gamma_search, payload)


# --- CLOB REST ------------------------------------------------------------------------------------

_history = recorded("wom__clob_prices_history_interval_1d.json")
_page = recorded("wom__clob_simplified_markets_page1.json")
CLOB_DOCS = [
    recorded("nautilus_py__http_book.json"),
    recorded("nautilus_rs__clob_book_response.json"),
    recorded("nautilus_rs__clob_market_closed_binary_accepting_true.json"),
    recorded("nautilus_rs__clob_market_closed_binary_accepting_false.json"),
    recorded("nautilus_py__http_price_history_SYNTHETIC.json"),
    {**_history, "history": _history["history"][:4]},
    {**_page, "data": _page["data"][:2]},
    recorded("nautilus_rs__clob_fee_rate_response_nonzero.json"),
    {"minimum_tick_size": 0.01},
    {"neg_risk": False},
    {"price": "0.52", "mid": "0.5", "spread": "0.02"},
    1_767_225_600,
]
CLOB_READERS = (
    parse_book,
    parse_books,
    parse_prices_history,
    parse_tick_size,
    parse_neg_risk,
    parse_fee_rate,
    parse_price,
    parse_midpoint,
    parse_spread,
    parse_server_time,
    parse_clob_market,
    parse_clob_markets_page,
)


def _bounded_book(b: BookSnapshot) -> None:
    assert math.isfinite(b.ts) and b.ts >= 0
    for px in (b.bid_px, b.ask_px):
        assert ((px >= 0) & (px <= 1)).all()
    for sz in (b.bid_sz, b.ask_sz):
        assert (np.isfinite(sz) & (sz > 0)).all()


@fuzz(500)
@given(batches(payloads("CLOB REST", CLOB_DOCS)))
def test_clob_rest_readers_raise_only_parse_errors(batch: list[Any]) -> None:
    for payload in batch:
        _clob(payload)


def _clob(payload: Any) -> None:
    for fn in CLOB_READERS:
        out = read(PPE, fn, payload)
        if isinstance(out, BookSnapshot):
            _bounded_book(out)
        elif isinstance(out, float):
            assert math.isfinite(out)
    for b in read(PPE, parse_books, [payload]) or ():
        _bounded_book(b)
    history = read(PPE, parse_prices_history, {"history": [payload]})
    if history is not None:
        assert np.isfinite(history.ts).all() and ((history.price >= 0) & (history.price <= 1)).all()


def test_every_field_of_the_recorded_clob_payloads_replaced_by_each_bad_value() -> None:
    for doc in CLOB_DOCS:
        for payload in sweep(doc):
            _clob(payload)


# --- the market channel ---------------------------------------------------------------------------

WS_DOCS = [
    recorded(name)
    for name in (
        "nautilus_py__ws_book.json",
        "nautilus_py__ws_last_trade_price.json",
        "nautilus_py__ws_price_change.json",
        "nautilus_py__ws_price_change_v2.json",
        "nautilus_py__ws_tick_size_change.json",
        "nautilus_rs__ws_market_best_bid_ask_msg.json",
        "nautilus_rs__ws_market_book_msg.json",
        "nautilus_rs__ws_market_last_trade_msg.json",
        "nautilus_rs__ws_market_new_market_msg.json",
        "nautilus_rs__ws_market_price_change_msg.json",
        "nautilus_rs__ws_market_resolved_msg.json",
        "nautilus_rs__ws_market_tick_size_msg.json",
    )
]
_resolved = recorded("nautilus_rs__ws_market_resolved_msg.json")
_yes, _no = _resolved["assets_ids"]
KNOWN = {_resolved["market"]: Market(_resolved["market"], "q", "other", _yes, _no, 0.0, 1.0)}
_frames = payloads("market channel", WS_DOCS)
FRAMES = texts_of(_frames | st.lists(_frames, min_size=1, max_size=3))


def _bounded_events(events: list[SourceEvent]) -> None:
    for ev in events:
        assert math.isfinite(ev.ts) and 0 <= ev.ts <= MAX_MAGNITUDE / 1000
        if isinstance(ev, BookSnapshot):
            _bounded_book(ev)


@fuzz(500)
@given(batches(FRAMES | as_bytes(FRAMES)))
def test_market_channel_readers_report_bad_frames_as_parse_errors(
    batch: list[str | bytes],
) -> None:
    """The engine path (decode_frame, the parser with and without known markets, the strict
    parse) frame by frame, and the full-depth books fed the whole batch in order."""
    books = L2Books()
    for raw in batch:
        _, errors = decode_frame(raw)
        assert all(isinstance(e, PPE) for e in errors)
        for known in (None, KNOWN):
            events, errors = MarketChannelParser(known).parse(raw)
            assert all(isinstance(e, PPE) for e in errors)
            _bounded_events(events)
        read(PPE, parse_ws_message, raw)
        assert all(isinstance(e, PPE) for e in books.ingest(raw))
    for book in books.books.values():
        bid_px, bid_sz, ask_px, ask_sz = book.top(1_000)
        assert np.isfinite(bid_sz).all() and np.isfinite(ask_sz).all()
        assert ((bid_px >= 0) & (bid_px <= 1)).all() and ((ask_px >= 0) & (ask_px <= 1)).all()


def test_every_field_of_the_recorded_frames_replaced_by_each_bad_value() -> None:
    books = L2Books()
    for doc in WS_DOCS:
        for frame in sweep(doc):
            raw = dumped(frame)
            events, errors = MarketChannelParser(KNOWN).parse(raw)
            assert all(isinstance(e, PPE) for e in errors)
            _bounded_events(events)
            assert all(isinstance(e, PPE) for e in books.ingest(raw))


def _ws_tokens(docs: list[Any]) -> list[str]:
    """Every token named in the recorded frames, in order of first sight."""
    out: dict[str, None] = {}
    stack = list(docs)
    while stack:
        v = stack.pop(0)
        if isinstance(v, dict):
            for key in ("asset_id", "winning_asset_id"):
                if isinstance(v.get(key), str):
                    out[v[key]] = None
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return list(out)


_TOKENS = [*_ws_tokens(WS_DOCS), "spare"]
_PAIRS = [
    Market(f"0xm{i}", "q", "other", y, n, 0.0, 1.0)
    for i, (y, n) in enumerate(zip(_TOKENS[::2], _TOKENS[1::2], strict=False))
]


class _Bugs(logging.Handler):
    """The stream's "frame handling failed" records: a reader raised what it should not."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


def _engine_path(frames: Sequence[str | bytes], chunk_frames: int) -> None:
    """Frames through `MarketStream.on_frame` into its lane (fast, plain and general
    decoders), drained and applied: no reader raises past the stream, `apply` reports
    rather than raises, and every level the books hold is bounded."""
    queue = EventQueue(chunk_frames=chunk_frames)
    stream = MarketStream(
        "fuzz", PolymarketSettings(), MarketChannelParser(), queue.put, frames=queue
    )
    state = MarketState(depth=4, history=4)
    for m in _PAIRS:
        stream.add_market(m)
        state.add_market(m)
        for token in (m.yes_token, m.no_token):
            stream.trust.snapshot(token, 0.0)  # nothing awaits a snapshot: the fast path
    bugs = _Bugs()
    log = logging.getLogger("polyb0t.polymarket.ws")

    async def feed() -> None:  # on its event loop, as a stream runs (a tick change spawns)
        for raw in frames:
            stream.on_frame(raw)

    log.addHandler(bugs)
    try:
        asyncio.run(feed())
    finally:
        log.removeHandler(bugs)
    assert bugs.seen == []
    state.apply(queue.drain())
    for row in range(state.n):
        for side in state.levels(state.markets[row].market_id):
            assert all(0.0 <= p <= 1.0 for p in side)
            assert all(math.isfinite(z) and 0.0 < z <= MAX_MAGNITUDE for z in side.values())
    for px in (state.bid_px, state.ask_px):
        assert (np.isnan(px) | ((px >= 0) & (px <= 1))).all()


@fuzz(400)
@given(batches(FRAMES | as_bytes(FRAMES)), st.sampled_from([1, 256]))
def test_the_engine_path_takes_any_frame_without_a_reader_error(
    batch: list[str | bytes], chunk_frames: int
) -> None:
    """And the fast decoders themselves raise only msgspec's errors (`on_frame` routes on
    them), whose place in the frame can always be read."""
    decoders = (change_decoder(_TOKENS).decode, book_decoder().decode)
    for raw in batch:
        for decode in decoders:
            try:
                decode(raw)
            except msgspec.ValidationError as exc:
                assert isinstance(refused_where(exc), str)
            except (msgspec.DecodeError, RecursionError):
                pass
    _engine_path(batch, chunk_frames)


def test_every_field_of_the_recorded_frames_replaced_by_each_bad_value_on_the_engine_path() -> None:
    frames = [dumped(frame) for doc in WS_DOCS for frame in sweep(doc)]
    _engine_path(frames, 256)
    _engine_path(frames, 3)


# --- REST bodies ----------------------------------------------------------------------------------

BODIES = as_bytes(texts_of(payloads("REST", GAMMA_DOCS[:3] + CLOB_DOCS[:3])))


_TRICKY = st.text('[]{}"\\ab', max_size=6)  # strings full of what the scan must not count
_NESTED = st.recursive(
    st.none() | st.integers() | _TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3),
    max_leaves=25,
)


def _depth(value: Any) -> int:
    if isinstance(value, list | dict):
        items = value.values() if isinstance(value, dict) else value
        return 1 + max((_depth(v) for v in items), default=0)
    return 0


@fuzz(300)
@given(_NESTED, st.integers(0, 8), st.booleans())
def test_the_depth_read_from_the_text_is_the_depth_of_the_json(
    value: Any, limit: int, as_bytes_: bool
) -> None:
    """`too_deep` reads the nesting from the text, strings and escapes skipped, exactly."""
    text = json.dumps(value, ensure_ascii=as_bytes_)
    raw: str | bytes = text.encode() if as_bytes_ else text
    assert too_deep(raw, limit) == (_depth(value) > limit)


@fuzz(300)
@given(batches(BODIES), st.integers(0, 9))
def test_rest_bodies_decode_or_raise_a_parse_error(batch: list[bytes], client_call: int) -> None:
    """`decode_json` itself on every body, and, for one body in ten, `JsonApi.call` under
    both clients on a mock transport answering it (an event loop per case is dear)."""
    for raw in batch:
        read((msgspec.DecodeError, OutOfBounds), decode_json, raw)
    if client_call:
        return
    raw = batch[0]

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=raw)

    async def calls() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            gamma = GammaClient(http, base_url="http://gamma.test")
            clob = ClobRestClient(http, base_url="http://clob.test")
            for call in (
                gamma.markets_page,
                lambda: gamma.event("1"),
                lambda: clob.book("1"),
                lambda: clob.prices_history("1", interval="1d"),
            ):
                with contextlib.suppress(PPE):
                    await call()

    asyncio.run(calls())

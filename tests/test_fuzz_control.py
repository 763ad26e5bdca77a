"""Fuzzing the control socket (both ways), the view codec and the recorded-event codec.

The control socket is authenticated, but its peer may be another version, or broken: a
message it cannot read costs that message (a `ProtocolError` the server answers, or the
console logs), never the daemon or the console's reader. Recorded events are read back by
a replay: a damaged one is skipped (`EventDecodeError`), never turned into an event that
fails later inside the engine.
"""

# Readers covered: control_protocol.parse_request, control_protocol.parse_server_message, RemoteLink._decode (a console applying what it decoded), view_codec.loads and view_codec.decode (every view type), event_codec.decode_event (every event kind).  # noqa: E501

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from engine.control.protocol import (
    MAX_ID_CHARS,
    MAX_REQUEST_ID,
    ProtocolError,
    command_request,
    delta_message,
    detail_message,
    detail_request,
    error_message,
    parse_request,
    parse_server_message,
    result_message,
    welcome,
)
from engine.events import (
    BookBatch,
    BookSnapshot,
    BookTrust,
    LevelChange,
    MarketListed,
    MarketResolved,
    PriceChange,
    SourceEvent,
    TickSizeChange,
    TradeBatch,
    TradePrint,
    WholeBooks,
)
from engine.feed import view
from engine.feed.codec import CodecError, decode, encode, loads
from engine.models import Side
from engine.sources.event_codec import EventDecodeError, decode_event, encode_event
from polyb0t_tui.remote_link import RemoteLink
from tests.fuzz_values import batches, dumped, fuzz, payloads, read, sweep, texts_of
from tests.state_factories import market

NAN = math.nan
SIGNAL = view.SignalView(1.0, "m1", "q?", "YES", "BUY", 0.6, 0.5, 0.1, 10.0, "intent", None)
POSITION = view.PositionView("m1", "q?", "YES", 10.0, 0.5, 0.55, 0.5, 0.0, "ev")
DETAIL = view.MarketDetail(
    "m1",
    "q?",
    "politics",
    "rules",
    2e9,
    0.01,
    0.0,
    ((1.0, 0.5),),
    ((0.49, 10.0),),
    ((0.51, 7.0),),
    (SIGNAL,),
)
DELTA = view.ViewDelta(
    seq=3,
    n_rows=2,
    rows=(
        view.MarketRow(
            0,
            "m1",
            "q?",
            "politics",
            0.49,
            0.51,
            0.5,
            0.02,
            0.01,
            1e5,
            2e9,
            0.6,
            0.05,
            True,
            True,
        ),
        view.MarketRow(
            1, "m2", "q2", "other", NAN, NAN, NAN, NAN, NAN, 0.0, NAN, NAN, NAN, False, False
        ),
    ),
    status=view.StatusView("PAPER", "sim", "running", None, 0.5, 1e4, 1e4, 0.0, 7, 1.0),
    signals=(SIGNAL,),
    intents=(
        view.IntentView(
            "i1",
            "m1",
            "q?",
            "YES",
            "BUY",
            0.5,
            10.0,
            5.0,
            0.1,
            "PENDING",
            1.0,
            61.0,
            1.0,
            None,
        ),
    ),
    portfolio=view.PortfolioView(1e4, 1e4, 0.0, 0.5, 5.0, (("ev", 5.0),), (POSITION,), (1e4,)),
    experts=(view.ExpertView("momentum", "ACTIVE", 1.0, 0.2, 0.25, 3, None),),
    log=(view.LogLine(1, 1.0, "INFO", "started"),),
    full=True,
)
RESULT = view.CommandResult(True, "done", {"edge": 0.1, "nested": {"t": (1, NAN), "l": [None]}})
VALUES: dict[type, Any] = {
    view.ViewDelta: DELTA,
    view.MarketDetail: DETAIL,
    view.CommandResult: RESULT,
    view.StatusView: DELTA.status,
    view.PortfolioView: DELTA.portfolio,
}

SERVER = [
    json.loads(text)
    for text in (
        welcome("inst-1", 0.2),
        delta_message(DELTA),
        result_message(1, RESULT),
        detail_message(2, DETAIL),
        detail_message(3, None),
        error_message(4, "too many requests in flight"),
    )
]
CONSOLE = [
    json.loads(command_request(1, "approve", {"intent_id": "i1"})),
    json.loads(command_request("a", "pause", {})),
    json.loads(detail_request(2, "m1")),
]
_server = payloads("server message", SERVER)
SERVER_TEXTS = texts_of(_server)


@fuzz(400)
@given(batches(texts_of(payloads("console message", CONSOLE))))
def test_the_server_reads_console_messages_or_says_why_not(batch: list[str]) -> None:
    for raw in batch:
        request = read(ProtocolError, parse_request, raw)
        if request is not None:
            assert isinstance(request.id, str) or abs(request.id) <= MAX_REQUEST_ID
            assert not isinstance(request.id, str) or len(request.id) <= MAX_ID_CHARS
        read(ProtocolError, parse_request, raw.encode())  # binary frames are refused


@fuzz(400)
@given(batches(SERVER_TEXTS))
def test_a_console_reads_server_messages_or_says_why_not(batch: list[str]) -> None:
    link = RemoteLink("ws://127.0.0.1:9", "token")
    link._decode(delta_message(DELTA))  # a console that has its first view
    for raw in batch:
        read(ProtocolError, parse_server_message, raw)
        read(ProtocolError, link._decode, raw)  # decoded deltas are applied to its store
    link.store.pull(0)


def test_every_field_of_every_message_replaced_by_each_bad_value() -> None:
    """Both directions of the socket: what a console sends the server, what the server
    sends a console (decoded, and applied to its store)."""
    link = RemoteLink("ws://127.0.0.1:9", "token")
    link._decode(delta_message(DELTA))
    for doc in CONSOLE:
        for message in sweep(doc):
            read(ProtocolError, parse_request, dumped(message))
    for doc in SERVER:
        for message in sweep(doc):
            read(ProtocolError, link._decode, dumped(message))


@fuzz(400)
@given(
    st.sampled_from(sorted(VALUES, key=lambda c: c.__name__)),
    batches(payloads("view value", [encode(v) for v in VALUES.values()])),
)
def test_the_view_codec_decodes_or_raises_codec_errors(cls: type, batch: list[Any]) -> None:
    for data in batch:
        read(CodecError, decode, cls, data)
        read(CodecError, loads, cls, json.dumps(data))


def _events() -> list[SourceEvent]:
    m = market(1, event_id="ev", description="rules")
    px = np.array([0.4, 0.39])
    return [
        MarketListed(m, 1.0),
        BookSnapshot(m.yes_token, 1.0, px, px * 10, px + 0.2, px * 5, "h"),
        PriceChange(m.yes_token, 2.0, (LevelChange(Side.BUY, 0.41, 3.0),)),
        BookBatch(
            [m.yes_token, m.no_token],
            np.array([1.0, 2.0]),
            np.array([0]),
            np.array([0]),
            np.array([0, 0, 1]),
            np.array([0, 0, 1]),
            np.array([True, False, True]),
            np.array([0.4, 0.6, 0.3]),
            np.array([10.0, 5.0, 0.0]),
        ),
        WholeBooks(
            1.0,
            (m.yes_token,),
            px[None],
            px[None] * 10,
            np.array([2]),
            px[None] + 0.2,
            px[None] * 5,
            np.array([2]),
        ),
        TradePrint(m.yes_token, 3.0, 0.41, 12.5, Side.SELL),
        TradeBatch(3.0, (m.yes_token,), px[:1], px[:1] * 3, np.array([True])),
        TickSizeChange(m.yes_token, 4.0, 0.01, 0.001),
        BookTrust(m.market_id, 5.0, False, "feed silent"),
        MarketResolved(m.market_id, 6.0, 1.0),
    ]


RECORDED = [encode_event(ev) for ev in _events()]
KINDS = [*sorted({kind for kind, _ in RECORDED}), "Unknown", ""]
_payloads = payloads("recorded event", [json.loads(p) for _, p in RECORDED])


@fuzz(400)
@given(st.sampled_from(KINDS), batches(texts_of(_payloads)))
def test_recorded_events_decode_or_raise_event_decode_errors(kind: str, batch: list[str]) -> None:
    for payload in batch:
        ev = read(EventDecodeError, decode_event, kind, payload)
        if isinstance(ev, BookSnapshot):
            for arr in (ev.bid_px, ev.bid_sz, ev.ask_px, ev.ask_sz):
                assert arr.dtype == np.float64 and arr.ndim == 1
        elif isinstance(ev, WholeBooks):
            n = len(ev.asset_ids)
            for arr in (ev.bid_px, ev.bid_sz, ev.ask_px, ev.ask_sz):
                assert arr.dtype == np.float64 and arr.ndim == 2 and arr.shape[0] == n
            assert ev.bid_n.shape == ev.ask_n.shape == (n,)
            assert ev.bid_n.max(initial=0) <= ev.bid_px.shape[1]
        elif isinstance(ev, TradeBatch):
            n = len(ev.asset_ids)
            assert ev.price.shape == ev.size.shape == ev.buy.shape == (n,)
            assert ev.buy.dtype == np.bool_
        elif isinstance(ev, BookBatch):
            for col in (ev.frame_ts, ev.level_price, ev.level_size):
                assert col.dtype == np.float64 and col.ndim == 1
            for idx in (ev.snap_frame, ev.snap_token, ev.level_frame, ev.level_token):
                assert idx.dtype == np.int64 and idx.ndim == 1
        elif ev is not None:
            assert type(ev).__name__ == kind
            assert isinstance(ev.ts, float)


def test_every_field_of_every_recorded_event_replaced_by_each_bad_value() -> None:
    for kind, payload in RECORDED:
        for data in sweep(json.loads(payload)):
            ev = read(EventDecodeError, decode_event, kind, dumped(data))
            assert ev is None or type(ev).__name__ == kind

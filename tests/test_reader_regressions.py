"""The escapes a fuzzing run found (issue 13, "Bad input never kills the engine"), one each.

Every reader of outside data raises only its documented error, or skips the item with a
reason. Before the fix each of these escaped as OverflowError, RecursionError, TypeError,
decimal.Overflow or InvalidOperation, or (Arabic digits) was read as a number. The broad
version of the same property is `tests/test_fuzz_readers.py`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from engine.control.protocol import ProtocolError, parse_request, parse_server_message
from engine.execution.clob_answers import (
    AnswerError,
    parse_balance,
    parse_cancel_answer,
    parse_post_answer,
)
from engine.execution.clob_client import ClobError, _Transport
from engine.execution.clob_fills import fills_of_order
from engine.execution.live_checks import check_geoblock
from engine.feed import view
from engine.feed.codec import CodecError, dumps, loads
from engine.sources.event_codec import EventDecodeError, decode_event
from engine.sources.polymarket import (
    L2Books,
    MarketChannelParser,
    PolymarketParseError,
    PolymarketSource,
    parse_books,
    parse_clob_market,
    parse_gamma_market,
    parse_gamma_markets,
    parse_prices_history,
    parse_ws_message,
)
from engine.sources.polymarket.gamma import GammaClient
from tests.recorded_fixtures import recorded
from tests.test_polymarket_source import FakeRest, gamma_market, settings
from tests.test_polymarket_ws import channel, until

HUGE = 10**400  # a 401-digit integer: float() of it raises OverflowError
DEEP = "[" * 991  # what the fuzzer sent; unclosed, so a decoder recurses to the end first
DEEPER = "[" * 100_000 + "]" * 100_000
OURS = "0xours"


# --- Gamma: one bad market is skipped, never the run ---------------------------------------


@pytest.mark.parametrize(
    "field", ["volumeNum", "liquidityNum", "orderMinSize", "orderPriceMinTickSize"]
)
def test_a_gamma_market_with_a_401_digit_number_is_refused_and_skipped(field: str) -> None:
    bad = gamma_market(2, **{field: HUGE})
    with pytest.raises(PolymarketParseError, match=field):
        parse_gamma_market(bad)
    markets, skipped = parse_gamma_markets([gamma_market(1), bad, gamma_market(3)])
    assert [m.market_id for m in markets] == [f"0x{i:064x}" for i in (1, 3)]
    assert [s.market_id for s in skipped] == [bad["conditionId"]]
    assert field in skipped[0].reason


async def test_start_up_lists_the_good_markets_and_warns_of_the_bad_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad = gamma_market(2, volumeNum=HUGE)
    rest = FakeRest([gamma_market(1), bad, gamma_market(3)])
    caplog.set_level(logging.WARNING, logger="polyb0t.polymarket")
    async with channel() as fake:
        src = PolymarketSource(settings(fake.port), transport=httpx.MockTransport(rest))
        await src.start()  # no exception: the run goes on
        try:
            listed = [m.market_id for m in src.discover()]
        finally:
            await src.stop()
    assert listed == [f"0x{i:064x}" for i in (1, 3)]
    (warning,) = [r for r in caplog.records if "skipped" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert bad["conditionId"] in warning.getMessage() and "volumeNum" in warning.getMessage()


async def test_a_later_discovery_pass_skips_the_bad_market_too(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Gamma down at start-up: the background pass that lists the markets later meets the
    bad one, skips it with a warning and lists the others."""
    bad = gamma_market(2, orderMinSize=HUGE)
    healthy = FakeRest([gamma_market(1), bad, gamma_market(3)])
    down = {"gamma": True}

    def handler(request: httpx.Request) -> httpx.Response:
        if down["gamma"] and request.url.host == "gamma.test":
            return httpx.Response(502, text="Bad Gateway")
        return healthy(request)

    caplog.set_level(logging.WARNING, logger="polyb0t.polymarket")
    async with channel() as fake:
        src = PolymarketSource(
            settings(fake.port, retry_attempts=1, discovery_retry_seconds=0.05),
            transport=httpx.MockTransport(handler),
        )
        await src.start()
        try:
            assert src.discover() == []
            down["gamma"] = False
            await until(lambda: len(src.discover()) == 2)
            await asyncio.sleep(0)
        finally:
            await src.stop()
    assert [m.market_id for m in src.discover()] == [f"0x{i:064x}" for i in (1, 3)]
    assert any(
        bad["conditionId"] in r.getMessage() and "orderMinSize" in r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING
    )


# --- huge integers ---------------------------------------------------------------------------


def test_a_rest_book_with_a_401_digit_timestamp_is_a_parse_error() -> None:
    book = recorded("nautilus_py__http_book.json")
    with pytest.raises(PolymarketParseError):
        parse_books([{**book, "timestamp": HUGE}])


def test_a_tick_size_change_with_a_401_digit_timestamp_is_a_parse_error() -> None:
    frame = json.dumps(
        {
            "event_type": "tick_size_change",
            "asset_id": "1",
            "market": "0xm",
            "old_tick_size": "0.01",
            "new_tick_size": "0.001",
            "timestamp": HUGE,
        }
    )
    with pytest.raises(PolymarketParseError):
        parse_ws_message(frame)
    events, errors = MarketChannelParser().parse(frame)
    assert events == [] and len(errors) == 1


def test_a_price_history_point_with_a_401_digit_price_is_a_parse_error() -> None:
    with pytest.raises(PolymarketParseError, match=r"history\[1\]\.p"):
        parse_prices_history({"history": [{"t": 1, "p": 0.5}, {"t": 2, "p": HUGE}]})


def test_a_market_detail_with_a_401_digit_number_is_a_codec_error() -> None:
    detail = view.MarketDetail("m", "q", "c", "", 1.0, 0.01, 0.0, (), (), (), ())
    text = dumps(detail).replace('"tick_size":0.01', f'"tick_size":{HUGE}')
    with pytest.raises(CodecError, match="tick_size"):
        loads(view.MarketDetail, text)
    message = f'{{"type":"detail","id":1,"detail":{text}}}'
    with pytest.raises(ProtocolError, match="tick_size"):
        parse_server_message(message)


# --- deep nesting ------------------------------------------------------------------------------


@pytest.fixture(
    params=[(DEEP, 1_000), (DEEPER, 100_000)],
    ids=["unclosed-991-at-the-default-limit", "closed-100000-at-py_ecc's-limit"],
)
def raw(request: pytest.FixtureRequest) -> Iterator[str]:
    """Deep JSON text, at the interpreter's recursion limit a process may have.

    The default, 1,000: the fuzzer's `"[" * 991` plus the caller's frames passes it, so
    a decoder raised RecursionError. And 100,000, a live daemon's: `py_ecc` (loaded with
    the CLOB client, and by these tests) raises the limit to that at import, and there a
    decoder recursing into deep JSON overflows the C stack: the process dies (segfault)."""
    text, limit = request.param
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    yield text
    sys.setrecursionlimit(before)


def test_deep_nesting_is_a_frame_error_in_the_market_channel_parsers(raw: str) -> None:
    """As the frame, and as the value of a key the typed decoders skip (skipping nests)."""
    for frame in (raw, '{"event_type":"price_change","x":' + raw + "}"):
        events, errors = MarketChannelParser().parse(frame)
        assert events == [] and len(errors) == 1
        assert isinstance(errors[0], PolymarketParseError)
        (error,) = L2Books().ingest(frame.encode())
        assert isinstance(error, PolymarketParseError)


def test_deep_nesting_is_a_codec_error_in_the_view_codec(raw: str) -> None:
    with pytest.raises(CodecError):
        loads(view.ViewDelta, raw)


def test_deep_nesting_is_a_protocol_error_in_the_request_parser(raw: str) -> None:
    with pytest.raises(ProtocolError):
        parse_request(raw)
    nested = '{"type":"command","id":1,"name":"approve","args":{"x":' + raw + "}}"
    with pytest.raises(ProtocolError):
        parse_request(nested)


async def test_every_other_json_entry_point_refuses_deep_nesting_with_its_own_error(
    raw: str,
) -> None:
    """Beyond the four the fuzzer hit: REST bodies (Gamma, CLOB), Gamma's JSON-in-JSON
    lists, the CLOB client's answers, the geoblock check, the server's messages to a
    console, recorded events."""
    body = raw.encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(PolymarketParseError, match="deep"):
            await GammaClient(http, base_url="http://gamma.test").markets_page()
    with pytest.raises(PolymarketParseError, match="outcomes"):
        parse_gamma_market(gamma_market(1, outcomes=raw))
    sync = httpx.Client(transport=httpx.MockTransport(answer))
    with pytest.raises(ClobError, match="unreadable"):
        _Transport(1.0, sync).send("GET", "http://clob.test/data/orders")
    assert check_geoblock("http://geo.test/", sync).ok is None
    with pytest.raises(ProtocolError):
        parse_server_message(raw)
    with pytest.raises(EventDecodeError):
        decode_event("PriceChange", raw)


# --- type slips on the live path --------------------------------------------------------------


def test_a_post_answer_with_trade_ids_5_is_unknown_and_looked_up() -> None:
    answer = parse_post_answer({"success": True, "orderID": "0xabc", "tradeIDs": 5})
    assert answer.verdict == "unknown"  # never taken as accepted with no trades to wait for
    assert "tradeIDs" in answer.error


def test_a_cancel_answer_with_canceled_minus_1_is_an_answer_error() -> None:
    with pytest.raises(AnswerError, match="canceled"):
        parse_cancel_answer({"canceled": -1, "not_canceled": {}})


def _trade(**over: Any) -> dict[str, Any]:
    trade: dict[str, Any] = {
        "id": "t1",
        "status": "MATCHED",
        "taker_order_id": OURS,
        "size": "10",
        "price": "0.5",
        "fee_rate_bps": "0",
        "maker_orders": [],
    }
    trade.update(over)
    return trade


def test_another_orders_trade_with_maker_orders_5_does_not_hide_our_fills() -> None:
    theirs = _trade(id="t0", taker_order_id="0xsomeone", maker_orders=5)
    (fill,) = fills_of_order([theirs, _trade()], OURS)
    assert (fill.trade_id, fill.shares, fill.price) == ("t1", Decimal(10), Decimal("0.5"))


def test_a_trade_of_ours_of_size_1e1000000_is_an_answer_error() -> None:
    with pytest.raises(AnswerError, match="t1"):
        fills_of_order([_trade(size="1e1000000")], OURS)


def test_a_clob_market_with_integer_tags_is_a_parse_error() -> None:
    market = recorded("nautilus_rs__clob_market_closed_binary_accepting_true.json")
    with pytest.raises(PolymarketParseError, match="tags"):
        parse_clob_market({**market, "tags": 5})


@pytest.mark.parametrize(
    "balance",
    ["²", "١٠٠٠٠٠٠", "１０００"],  # superscript two, Arabic-Indic and fullwidth digits
    ids=["superscript", "arabic-indic", "fullwidth"],
)
def test_a_balance_in_non_ascii_digits_is_an_answer_error(balance: str) -> None:
    with pytest.raises(AnswerError, match="balance"):
        parse_balance({"balance": balance, "allowances": {}})

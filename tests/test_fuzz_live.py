"""Fuzzing the readers of the exchange's trading and account answers (the live path).

A malformed answer must end in the reader's documented error (`AnswerError`, `ClobError`,
or the `ValueError` of `MarketRules.from_wire`), never another exception: on the live path
one escapes the executor's handling and fails every poll step (issue 13). What the readers
return is checked to be bounded too: Decimal arithmetic on it (fees, fill status) must not
overflow either.
"""

# Readers covered: parse_balance, parse_post_answer, parse_order_row, parse_cancel_answer, fills_of_order (with fill_status, describe, to_fill on what it returns), parse_positions, MarketRules.from_wire, server_seconds, clob_client._Transport.send (answers, statuses, Retry-After), check_geoblock, reconcile.lookup_order, reconcile.reconcile_account.  # noqa: E501

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any, cast

import httpx
from hypothesis import given
from hypothesis import strategies as st

from engine.execution.clob_answers import (
    AnswerError,
    parse_balance,
    parse_cancel_answer,
    parse_order_row,
    parse_post_answer,
)
from engine.execution.clob_client import ClobError, ClobSession, _Transport, server_seconds
from engine.execution.clob_fills import describe, fill_status, fills_of_order, to_fill
from engine.execution.clob_orders import MarketRules
from engine.execution.held_positions import parse_positions
from engine.execution.live_checks import check_geoblock
from engine.execution.reconcile import lookup_order, reconcile_account
from engine.input_bounds import MAX_MAGNITUDE
from engine.models import Outcome, Side, TradeIntent
from tests.fuzz_values import (
    NUMBER_TEXTS,
    as_bytes,
    batches,
    fuzz,
    payloads,
    read,
    sweep,
    texts_of,
)
from tests.recorded_fixtures import recorded

_trades = recorded("nautilus_py__http_trades.json")
TRADES = [
    recorded("nautilus_rs__http_trade_report.json"),
    recorded("nautilus_py__ws_user_trade1.json"),
    recorded("nautilus_rs__ws_user_trade.json"),
    *recorded("nautilus_rs__http_trades_page.json")["data"][:2],
]
ORDER_IDS = sorted(
    {str(t.get("taker_order_id", "")) for t in TRADES}
    | {str(m.get("order_id", "")) for t in TRADES for m in t.get("maker_orders", [])}
)
ANSWERS = [
    recorded("nautilus_rs__http_balance_allowance_collateral.json"),
    recorded("nautilus_rs__http_balance_allowance_no_allowance.json"),
    {"balance": "1000000", "allowances": {"0xabc": str(2**256 - 1)}},
    recorded("nautilus_rs__http_order_response_ok.json"),
    recorded("nautilus_rs__http_order_response_failed.json"),
    {"success": True, "orderID": "0xabc", "status": "matched", "tradeIDs": ["t1", "t2"]},
    recorded("nautilus_rs__http_open_order.json"),
    recorded("nautilus_rs__http_open_order_sell_fok.json"),
    recorded("nautilus_rs__http_cancel_response_ok.json"),
    recorded("nautilus_rs__http_batch_cancel_response.json"),
    recorded("nautilus_rs__data_api_positions_response.json")[:2],
    {
        "c": "0xcond",
        "t": [{"t": "111", "o": "Yes"}, {"t": "222", "o": "No"}],
        "mts": 0.01,
        "mos": 5,
        "fd": {"r": 0.04, "e": 1, "to": True},
        "ao": True,
    },
    {"time": 1_767_225_600},
]
ANSWER_VALUES = payloads("CLOB answer", ANSWERS)
TRADE_LISTS = st.lists(payloads("trade", TRADES), max_size=3)
INTENT = TradeIntent("i1", 0.0, 1e12, "0xm", "111", Outcome.YES, Side.BUY, 10.0, 0.5, 0.6, 0.1)


def _bounded(x: Decimal) -> None:
    assert x.is_finite() and abs(x) <= Decimal(MAX_MAGNITUDE)


@fuzz(500)
@given(batches(ANSWER_VALUES))
def test_answer_readers_raise_only_answer_errors(batch: list[Any]) -> None:
    for body in batch:
        _answer(body)


def test_every_field_of_the_recorded_answers_replaced_by_each_bad_value() -> None:
    for doc in ANSWERS:
        for body in sweep(doc):
            _answer(body)


def _answer(body: Any) -> None:
    balance = read(AnswerError, parse_balance, body)
    if balance is not None:
        _bounded(balance.balance)
    post = parse_post_answer(body)  # never raises: a bad answer is "unknown"
    assert post.verdict in ("accepted", "refused", "unknown")
    assert post.verdict != "accepted" or post.order_id
    row = read(AnswerError, parse_order_row, body)
    if row is not None:
        for x in (row.price, row.original_size, row.size_matched):
            _bounded(x)
    read(AnswerError, parse_cancel_answer, body)
    for held in read(AnswerError, parse_positions, body) or ():
        _bounded(held.shares)
        assert 0 <= held.avg_price <= 1
    read(AnswerError, parse_positions, [body])
    read(ValueError, MarketRules.from_wire, body)
    read(ClobError, server_seconds, body)


@fuzz(400)
@given(TRADE_LISTS, st.sampled_from(ORDER_IDS))
def test_fills_of_an_order_raise_only_answer_errors_and_stay_bounded(
    trades: list[Any], order_id: str
) -> None:
    _fills(trades, order_id)


def _fills(trades: list[Any], order_id: str) -> None:
    fills = read(AnswerError, fills_of_order, trades, order_id)
    if fills is None:
        return
    for f in fills:
        assert 0 <= f.price <= 1 and f.fee_rate >= 0
        _bounded(f.shares)
        fill = to_fill(f, INTENT, order_id, 0.0)
        assert fill is None or (math.isfinite(fill.size) and math.isfinite(fill.fee))
    fill_status(fills, Decimal(10), Decimal(5))
    describe(fills)


def test_every_field_of_the_recorded_trades_replaced_by_each_bad_value() -> None:
    for doc in TRADES:
        for trade in sweep(doc):
            for order_id in ORDER_IDS:
                _fills([trade, doc], order_id)


_BODIES = as_bytes(texts_of(ANSWER_VALUES))


@fuzz(300)
@given(
    _BODIES,
    st.sampled_from([200, 200, 400, 404, 429, 500, 503]),
    st.none() | NUMBER_TEXTS | st.text(max_size=30),
)
def test_the_clob_transport_raises_only_clob_errors(
    body: bytes, status: int, retry_after: str | None
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        try:
            return httpx.Response(status, content=body, headers=headers)
        except (UnicodeEncodeError, ValueError):  # not a header value httpx can send
            return httpx.Response(status, content=body)

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        try:
            _Transport(1.0, http).send("GET", "http://clob.test/data/orders")
        except ClobError as exc:
            assert exc.retry_after is None or (
                math.isfinite(exc.retry_after) and exc.retry_after >= 0
            )
        result = check_geoblock("http://geo.test/api/geoblock", http)
        assert result.ok in (True, False, None)


class _Session:
    """The reads `reconcile` makes of a `ClobSession`, answering fuzzed rows, already
    filtered as the real session filters them (objects only)."""

    def __init__(self, order: Any, trades: list[Any], balance: Any) -> None:
        self.order, self.rows, self.balance = order, trades, balance

    def get_order(self, order_id: str) -> Any:
        return self.order if isinstance(self.order, dict) and self.order.get("id") else None

    def trades(self, **_: Any) -> list[Any]:
        return [r for r in self.rows if isinstance(r, dict)]

    def open_orders(self, **_: Any) -> list[Any]:
        return [r for r in self.rows if isinstance(r, dict)]

    def balance_allowance(self) -> Any:
        return self.balance if isinstance(self.balance, dict) else {}


@fuzz(300)
@given(ANSWER_VALUES, TRADE_LISTS, st.sampled_from(ORDER_IDS), st.lists(st.text(max_size=4)))
def test_reconciling_raises_only_clob_errors(
    order: Any, trades: list[Any], order_id: str, trade_ids: list[str]
) -> None:
    session = cast(ClobSession, _Session(order, trades, order))
    read(ClobError, lookup_order, session, order_id, "111", trade_ids)
    report = read(ClobError, reconcile_account, session, {order_id.lower()}, None)
    if report is not None:
        assert report.collateral is None or math.isfinite(report.collateral)

"""What the CLOB's trading and account answers mean, read in one place.

Why one module: the executor, start-up reconciliation and the doctor all read these
answers, and a field read two ways is a money bug (balance units, the older `allowance`
key, a `size_matched` of `""`). Each reader takes the JSON as the SDK returns it and raises
`AnswerError` naming the field on anything it cannot read exactly; the caller decides what
a malformed answer means (for an order: unknown, look again later), never a guess. Formats:
docs/polymarket_api.md §4.7; the shared fixtures `nautilus_rs__http_*` go through these readers in
`tests/test_polymarket_fixtures.py`. Trades are read in `clob_fills`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from engine.execution.clob_orders import dec
from engine.input_bounds import OutOfBounds, bounded_decimal, number_text, shown

USDC_UNITS = Decimal(1_000_000)  # balances and allowances are integer counts of 1e-6
MAX_UNITS = 10**21  # 1e15 USDC: more than a balance can be, far less than breaks a Decimal
MAX_ALLOWANCE = 2**256 - 1  # an "unlimited" approval is the largest uint256
# An order row in one of these is finished (CANCELED comes with suffixes, such as
# CANCELED_MARKET_RESOLVED). Anything else, an unknown or missing status included, counts as
# still working: waiting on a finished order is visible and harmless, while forgetting a
# resting one would let it fill behind the engine's back.
DONE_STATUSES = frozenset({"MATCHED", "UNMATCHED", "INVALID"})


class AnswerError(ValueError):
    """An exchange answer this module cannot read exactly."""


def text_of(value: object, field: str) -> str:
    """An id, status or message: a string, or a number written as one (ids are sometimes
    numbers); "" when absent. Anything else (an object, a list) is not a text we can act on."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float) or (
        type(value) is int and value.bit_length() <= 256  # a uint256 id at most
    ):
        return str(value)
    raise AnswerError(f"{field} {shown(value)} is not a text")


def _text(body: Mapping[str, Any], key: str) -> str:
    return text_of(body.get(key), key)


def units_to_usdc(value: object, field: str, limit: int = MAX_UNITS) -> Decimal:
    """A 6-decimal integer string ("1000000000") as USDC (1000). Anything else, a decimal
    point or a non-ASCII digit included, is refused: misreading it would be off by a factor
    of a million. At most `limit` units."""
    text = ""
    if isinstance(value, str):
        with contextlib.suppress(OutOfBounds):  # ASCII blanks only around it, like numbers
            text = number_text(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        text = str(value) if 0 <= value <= limit else "-"
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(limit)):
        raise AnswerError(f"{field} {shown(value)} is not a whole number of 1e-6 USDC units")
    try:
        return bounded_decimal(text, limit) / USDC_UNITS
    except OutOfBounds as exc:
        raise AnswerError(f"{field} {shown(value)}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Balance:
    """`GET /balance-allowance`: what the funder holds and what it lets contracts spend."""

    balance: Decimal  # USDC for collateral, shares for an outcome token
    allowances: dict[str, Decimal]  # contract address (lowercase) -> amount
    allowance: Decimal | None = None  # the older single `allowance` field, contract unnamed

    def allows(self, address: str) -> bool:
        """Some allowance for `address` (the older single field counts for every contract)."""
        if self.allowances.get(address.lower(), Decimal(0)) > 0:
            return True
        return self.allowance is not None and self.allowance > 0


def parse_balance(body: object) -> Balance:
    if not isinstance(body, Mapping) or "balance" not in body:
        raise AnswerError(f"balance-allowance answer without a balance: {shown(body, 100)}")
    raw = body.get("allowances") or {}
    if not isinstance(raw, Mapping):
        raise AnswerError(f"allowances {shown(raw, 60)} is not an object")
    allowances = {
        str(k).lower(): units_to_usdc(v, f"allowance for {shown(k)}", MAX_ALLOWANCE)
        for k, v in raw.items()
    }
    single = body.get("allowance")
    return Balance(
        balance=units_to_usdc(body["balance"], "balance"),
        allowances=allowances,
        allowance=None if single is None else units_to_usdc(single, "allowance", MAX_ALLOWANCE),
    )


PostVerdict = Literal["accepted", "refused", "unknown"]


@dataclass(frozen=True, slots=True)
class PostAnswer:
    """A 2xx answer to `POST /order`."""

    verdict: PostVerdict
    order_id: str = ""
    status: str = ""  # live | matched | delayed | unmatched (lowercase)
    error: str = ""
    trade_ids: tuple[str, ...] = ()


def parse_post_answer(body: object) -> PostAnswer:
    """Accepted: `success` true with an order id. Refused: `success` false, or an error
    message and no order id (how batch legs fail). Unknown: anything else, such as a body
    with only `error`: the order may exist, so it is looked up, never posted again."""
    if not isinstance(body, Mapping):
        return PostAnswer("unknown", error=f"unexpected answer {shown(body, 100)}")
    try:
        order_id, error = _text(body, "orderID"), _text(body, "errorMsg")
        status = _text(body, "status").lower()
        trades = _trade_ids(body.get("tradeIDs"))
    except AnswerError as exc:  # the order may exist all the same: looked up, not re-posted
        return PostAnswer("unknown", error=f"unreadable answer: {exc}")
    if body.get("success") is False or (error and not order_id):
        return PostAnswer(
            "refused", order_id, status, error or "the exchange did not accept the order"
        )
    if body.get("success") is True and order_id:
        return PostAnswer("accepted", order_id, status, error, trades)
    try:
        why = _text(body, "error") or error or "no success flag and no order id"
    except AnswerError as exc:
        why = str(exc)
    return PostAnswer("unknown", order_id, status, why)


def _trade_ids(value: object) -> tuple[str, ...]:
    """`tradeIDs`: a list of ids, or absent. Dropping one we cannot read would let the order
    look complete before its trades are visible, so an unreadable list fails the answer."""
    if value in (None, ""):
        return ()
    if not isinstance(value, list):
        raise AnswerError(f"tradeIDs {shown(value)} is not a list")
    return tuple(t for t in (text_of(v, "tradeIDs[]") for v in value) if t)


@dataclass(frozen=True, slots=True)
class OrderRow:
    """An order as `GET /data/order(s)` describes it."""

    order_id: str
    status: str  # uppercase: LIVE, MATCHED, CANCELED, ...
    side: str
    price: Decimal
    original_size: Decimal
    size_matched: Decimal
    token_id: str
    market: str
    order_type: str

    @property
    def is_open(self) -> bool:
        return not (self.status in DONE_STATUSES or self.status.startswith("CANCELED"))


def parse_order_row(row: object) -> OrderRow:
    if not isinstance(row, Mapping) or not row.get("id"):
        raise AnswerError(f"order row without an id: {shown(row, 100)}")
    try:
        return OrderRow(
            order_id=_text(row, "id"),
            status=_text(row, "status").upper(),
            side=_text(row, "side").upper(),
            price=dec(row.get("price") or 0),
            original_size=dec(row.get("original_size") or 0),
            size_matched=dec(row.get("size_matched") or 0),  # "" means none yet
            token_id=_text(row, "asset_id"),
            market=_text(row, "market"),
            order_type=_text(row, "order_type").upper(),
        )
    except ValueError as exc:  # AnswerError included
        raise AnswerError(f"order {shown(row.get('id'))}: {exc}") from None


@dataclass(frozen=True, slots=True)
class CancelAnswer:
    canceled: tuple[str, ...]
    not_canceled: dict[str, str]  # order id -> the exchange's reason


def parse_cancel_answer(body: object) -> CancelAnswer:
    if not isinstance(body, Mapping):
        raise AnswerError(f"unexpected cancel answer {shown(body, 100)}")
    refused = body.get("not_canceled", body.get("notCanceled")) or {}
    if not isinstance(refused, Mapping):
        raise AnswerError(f"not_canceled {shown(refused, 60)} is not an object")
    canceled = body.get("canceled") or []
    if not isinstance(canceled, list):
        raise AnswerError(f"canceled {shown(canceled, 60)} is not a list")
    return CancelAnswer(
        canceled=tuple(text_of(o, "canceled[]") for o in canceled),
        not_canceled={str(k): str(v) for k, v in refused.items()},
    )

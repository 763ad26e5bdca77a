"""Outcome tokens the wallet already holds, from Polymarket's Data API (`GET /positions`).

Why: a live engine starts a new account in its books each run. Without this, shares bought
by an earlier run (or by hand) would be invisible to the risk limits, and a restart could buy
a market's maximum position a second time. The CLOB has no positions endpoint; the Data API
is public (no auth) and keyed by the address that holds the tokens, which is the funder.

Format: the Data API's OpenAPI (`get-positions`), one row per token: `asset` (token id),
`conditionId`, `size` (shares), `avgPrice`, `outcomeIndex` (0 is the first token, which the
engine calls YES), `redeemable`; the shared fixture `nautilus_rs__data_api_positions_response`
goes through `parse_positions`. Numbers may come as JSON numbers or strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.execution.clob_answers import AnswerError, text_of
from engine.execution.clob_orders import dec
from engine.input_bounds import shown
from engine.models import Outcome

PAGE = 500  # the endpoint's largest `limit`
MAX_OFFSET = 10_000  # the endpoint's largest `offset`
MIN_SHARES = Decimal("0.01")  # `sizeThreshold`: Polymarket sizes have 2 decimals


@dataclass(frozen=True, slots=True)
class HeldPosition:
    token_id: str
    market_id: str  # condition id
    outcome: Outcome
    shares: Decimal
    avg_price: Decimal
    redeemable: bool  # resolved: waiting to be redeemed, not traded any more
    title: str = ""
    cur_price: Decimal | None = None  # the API's current price of the token, if it gave one


def parse_positions(body: object) -> list[HeldPosition]:
    """Every row of at least `MIN_SHARES` (less is dust the query excludes too);
    AnswerError naming the row and field on anything unreadable."""
    if not isinstance(body, list):
        raise AnswerError(f"positions answer is not a list: {shown(body, 100)}")
    out = []
    for n, row in enumerate(body):
        if not isinstance(row, Mapping):
            raise AnswerError(f"positions[{n}] is not an object: {shown(row, 60)}")
        held = _row(row, n)
        if held.shares >= MIN_SHARES:
            out.append(held)
    return out


def _row(row: Mapping[str, Any], n: int) -> HeldPosition:
    def field(key: str) -> Any:
        value = row.get(key)
        if value is None or value == "":
            raise AnswerError(f"positions[{n}].{key} is missing")
        return value

    try:
        shares, avg = dec(field("size")), dec(field("avgPrice"))
    except ValueError as exc:
        raise AnswerError(f"positions[{n}]: {exc}") from None
    if shares < 0 or not 0 <= avg <= 1:
        raise AnswerError(f"positions[{n}]: size {shares} / avgPrice {avg} out of range")
    index = str(field("outcomeIndex"))
    if index not in ("0", "1"):
        raise AnswerError(
            f"positions[{n}].outcomeIndex {shown(index)}: not a binary market's token"
        )
    return HeldPosition(
        token_id=text_of(field("asset"), f"positions[{n}].asset"),
        market_id=text_of(field("conditionId"), f"positions[{n}].conditionId"),
        outcome=Outcome.YES if index == "0" else Outcome.NO,
        shares=shares,
        avg_price=avg,
        redeemable=row.get("redeemable") is True,
        title=str(row.get("title") or ""),
        cur_price=_price_or_none(row.get("curPrice")),
    )


def _price_or_none(value: object) -> Decimal | None:
    """An optional price: None when absent or not a price (it only values, never trades)."""
    try:
        out = dec(value) if value not in (None, "") else None
    except ValueError:
        return None
    return out if out is not None and 0 <= out <= 1 else None


def position_params(user: str, offset: int) -> dict[str, str]:
    """Query of one page: every position of `user` down to the smallest size."""
    return {
        "user": user,
        "sizeThreshold": str(MIN_SHARES),
        "limit": str(PAGE),
        "offset": str(offset),
    }

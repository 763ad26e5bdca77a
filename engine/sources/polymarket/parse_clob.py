"""Public CLOB REST payloads (docs/polymarket_api.md §3): books, prices, history, metadata.

Books share the websocket's struct and normalisation (`wire.snapshot_from_wire`), so a REST
snapshot and a WS snapshot of the same book are identical events.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.events import BookSnapshot, FloatArray
from engine.models import Market
from engine.sources.polymarket.categories import categorise, fee_rate
from engine.sources.polymarket.errors import PolymarketParseError
from engine.sources.polymarket.fields import (
    as_list,
    as_mapping,
    opt_bool,
    opt_float,
    opt_iso_ts,
    opt_str,
    require,
    to_bool,
    to_float,
    to_price,
    token_id,
)
from engine.sources.polymarket.outcomes import yes_index
from engine.sources.polymarket.parse_gamma import DEFAULT_MIN_SIZE, DEFAULT_TICK, SkippedMarket
from engine.sources.polymarket.wire import WireBook, convert_message, snapshot_from_wire

END_CURSOR = "LTE="  # base64 "-1": no more pages (docs/polymarket_api.md §3.3)


@dataclass(frozen=True, slots=True)
class PriceHistory:
    """`/prices-history` points, oldest first: `ts` epoch seconds, `price` in [0, 1]."""

    token_id: str
    ts: FloatArray
    price: FloatArray


@dataclass(frozen=True, slots=True)
class ClobMarketsPage:
    markets: tuple[Market, ...]
    skipped: tuple[SkippedMarket, ...]
    next_cursor: str | None  # None: this was the last page

    @property
    def last(self) -> bool:
        return self.next_cursor is None


def parse_book(obj: Mapping[str, Any]) -> BookSnapshot:
    """`GET /book` body (also one element of `POST /books`) → `BookSnapshot`, best first."""
    msg = convert_message(obj, "book", default_type="book")
    if not isinstance(msg, WireBook):
        raise PolymarketParseError.bad("book.event_type", "not a book", obj.get("event_type"))
    return snapshot_from_wire(msg)


def parse_books(payload: Any) -> list[BookSnapshot]:
    return [
        parse_book(as_mapping(b, f"books[{i}]")) for i, b in enumerate(as_list(payload, "books"))
    ]


def parse_prices_history(payload: Any, token: str = "") -> PriceHistory:
    """`{"history": [{"t": seconds, "p": price}, ...]}` → arrays sorted by time."""
    obj = as_mapping(payload, "prices_history")
    points = as_list(require(obj, "history", "prices_history"), "prices_history.history")
    ts = np.empty(len(points), dtype=np.float64)
    px = np.empty(len(points), dtype=np.float64)
    for i, point in enumerate(points):
        where = f"prices_history.history[{i}]"
        pt = as_mapping(point, where)
        ts[i] = to_float(require(pt, "t", where), f"{where}.t")
        px[i] = to_price(require(pt, "p", where), f"{where}.p")
    if ts.size > 1 and not (np.diff(ts) >= 0).all():
        order = np.argsort(ts, kind="stable")
        ts, px = ts[order], px[order]
    return PriceHistory(token, ts, px)


def _one(payload: Any, key: str, where: str) -> Any:
    return require(as_mapping(payload, where), key, where)


def parse_tick_size(payload: Any) -> float:
    """`{"minimum_tick_size": 0.01}` (number, sometimes a string) → the tick."""
    tick = to_float(_one(payload, "minimum_tick_size", "tick_size"), "tick_size.minimum_tick_size")
    if not 0.0 < tick < 1.0:
        raise PolymarketParseError.bad("tick_size.minimum_tick_size", "outside (0, 1)", tick)
    return tick


def parse_neg_risk(payload: Any) -> bool:
    return to_bool(_one(payload, "neg_risk", "neg_risk"), "neg_risk.neg_risk")


def parse_fee_rate(payload: Any) -> int:
    """`{"base_fee": 0}` or `{"base_fee": "150"}` → basis points (int).

    This is the V1 order-signing fee field, not the V2 fee formula's rate; see
    `categories` for how the engine's `fee_rate` is chosen.
    """
    value = to_float(_one(payload, "base_fee", "fee_rate"), "fee_rate.base_fee")
    if value < 0 or value != int(value):
        raise PolymarketParseError.bad("fee_rate.base_fee", "expected whole basis points", value)
    return int(value)


def parse_price(payload: Any) -> float:
    return to_price(_one(payload, "price", "price"), "price.price")


def parse_midpoint(payload: Any) -> float:
    return to_price(_one(payload, "mid", "midpoint"), "midpoint.mid")


def parse_spread(payload: Any) -> float:
    return to_price(_one(payload, "spread", "spread"), "spread.spread")


def parse_server_time(payload: Any) -> float:
    """`GET /time` answers a bare integer of seconds."""
    if isinstance(payload, Mapping):  # tolerate a wrapped form
        payload = require(payload, "time", "time")
    t = to_float(payload, "time")
    if t <= 0:
        raise PolymarketParseError.bad("time", "not a positive epoch", payload)
    return t


def parse_clob_market(obj: Mapping[str, Any]) -> Market:
    """A CLOB market (`GET /markets/{condition_id}`, or a `/markets` / simplified page item).

    Outcome↔token pairs come from `tokens[]` (authoritative: docs/polymarket_api.md §3.3 and
    gotcha G3); resolution from `tokens[].winner` (the fallback docs/polymarket_api.md §2.6
    names when Gamma is ambiguous). CLOB markets carry
    no volume, creation date or fee flag: volume 0, `created_ts` NaN, fees as enabled when
    `taker_base_fee` > 0. Simplified items also lack question and end date ("", NaN).
    """
    obj = as_mapping(obj, "clob_market")
    market_id = opt_str(obj, "condition_id", "clob_market")
    if not market_id:
        raise PolymarketParseError.bad("clob_market.condition_id", "missing")
    where = f"clob_market[{market_id[:12]}]"
    tokens = as_list(require(obj, "tokens", where), f"{where}.tokens")
    if len(tokens) != 2:
        raise PolymarketParseError.bad(f"{where}.tokens", f"not binary: {len(tokens)} tokens")
    toks = [as_mapping(t, f"{where}.tokens[{i}]") for i, t in enumerate(tokens)]
    ids = [token_id(t.get("token_id"), f"{where}.tokens[{i}].token_id") for i, t in enumerate(toks)]
    yi = yes_index([opt_str(t, "outcome", where) for t in toks])
    winners = [opt_bool(t, "winner", f"{where}.tokens[{i}]", False) for i, t in enumerate(toks)]
    closed = opt_bool(obj, "closed", where, False)
    payout = (1.0 if winners[yi] else 0.0) if closed and any(winners) else None
    tags = obj.get("tags")
    labels = (
        [] if tags is None else [t for t in as_list(tags, f"{where}.tags") if isinstance(t, str)]
    )
    category = categorise(labels)
    tick = opt_float(obj, "minimum_tick_size", where, DEFAULT_TICK)
    if not 0.0 < tick < 1.0:
        raise PolymarketParseError.bad(f"{where}.minimum_tick_size", "outside (0, 1)", tick)
    active = opt_bool(obj, "active", where, True)
    accepting = opt_bool(obj, "accepting_orders", where, active and not closed)
    return Market(
        market_id=market_id,
        question=opt_str(obj, "question", where),
        category=category,
        yes_token=ids[yi],
        no_token=ids[1 - yi],
        created_ts=math.nan,
        end_ts=opt_iso_ts(obj, ("end_date_iso",), where),
        tick_size=tick,
        min_order_size=opt_float(obj, "minimum_order_size", where, DEFAULT_MIN_SIZE),
        fee_rate=fee_rate(category, fees_enabled=opt_float(obj, "taker_base_fee", where, 0.0) > 0),
        event_id=opt_str(obj, "neg_risk_market_id", where) or None,
        neg_risk=opt_bool(obj, "neg_risk", where, False),
        accepting_orders=accepting and active and not closed,
        description=opt_str(obj, "description", where),
        resolved=payout is not None,
        payout_yes=payout,
    )


def parse_clob_markets_page(payload: Any) -> ClobMarketsPage:
    """`{"data": [...], "next_cursor": ...}` from `/markets` or `/simplified-markets`."""
    obj = as_mapping(payload, "clob_markets")
    markets: list[Market] = []
    skipped: list[SkippedMarket] = []
    for i, item in enumerate(as_list(require(obj, "data", "clob_markets"), "clob_markets.data")):
        try:
            markets.append(parse_clob_market(item))
        except PolymarketParseError as exc:
            ident = item.get("condition_id") if isinstance(item, Mapping) else None
            skipped.append(SkippedMarket(str(ident or f"#{i}"), str(exc)))
    cursor = obj.get("next_cursor")
    next_cursor = cursor if isinstance(cursor, str) and cursor and cursor != END_CURSOR else None
    return ClobMarketsPage(tuple(markets), tuple(skipped), next_cursor)

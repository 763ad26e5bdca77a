"""Gamma payloads (markets, events, tags, search) → `engine.models.Market` and friends.

Only binary markets (two outcomes, two CLOB tokens) become `Market`s; anything else raises
`PolymarketParseError` so a listing caller can skip it with a reason (`parse_gamma_markets`
collects those reasons instead of raising). Field semantics are in docs/polymarket_api.md
§2.5–§2.7.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.fees import DEFAULT_EXPONENT, read_fee_exponent
from engine.input_bounds import OutOfBounds
from engine.models import Market
from engine.sources.polymarket.categories import categorise, fee_rate, fee_type_category
from engine.sources.polymarket.errors import PolymarketParseError
from engine.sources.polymarket.fields import (
    as_list,
    as_mapping,
    json_list,
    opt_bool,
    opt_float,
    opt_iso_ts,
    opt_str,
    require,
    to_float,
    to_price,
    token_id,
)
from engine.sources.polymarket.outcomes import settled_payout, yes_index

DEFAULT_TICK = 0.01
DEFAULT_MIN_SIZE = 5.0
_IDENT_CHARS = 80  # a condition id is 66


@dataclass(frozen=True, slots=True)
class SkippedMarket:
    """A listed market we did not turn into a `Market`, and why (for the log)."""

    market_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class GammaEvent:
    event_id: str
    title: str
    slug: str
    category: str
    neg_risk: bool
    active: bool
    closed: bool
    markets: tuple[Market, ...]
    skipped: tuple[SkippedMarket, ...]


@dataclass(frozen=True, slots=True)
class GammaTag:
    tag_id: str
    label: str
    slug: str


@dataclass(frozen=True, slots=True)
class GammaSearch:
    events: tuple[GammaEvent, ...]
    has_more: bool
    total: int | None


def _labels(obj: Mapping[str, Any]) -> list[str]:
    """Every category-ish label an object carries: tags, category, series slugs."""
    out: list[str] = []
    tags = obj.get("tags")
    if isinstance(tags, list):
        for t in tags:
            if isinstance(t, str):
                out.append(t)
            elif isinstance(t, Mapping):
                out.extend(str(t[k]) for k in ("slug", "label") if t.get(k))
    for key in ("category", "seriesSlug"):
        value = obj.get(key)
        if isinstance(value, str):
            out.append(value)
    series = obj.get("series")
    if isinstance(series, list):
        out.extend(str(s["slug"]) for s in series if isinstance(s, Mapping) and s.get("slug"))
    return out


def _market_event(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The parent event embedded in a /markets object (`events[0]`, or `event` on sports)."""
    events = obj.get("events")
    if isinstance(events, list) and events and isinstance(events[0], Mapping):
        return events[0]
    event = obj.get("event")
    return event if isinstance(event, Mapping) else None


def _tick(obj: Mapping[str, Any], where: str) -> float:
    tick = opt_float(obj, "orderPriceMinTickSize", where, DEFAULT_TICK)
    if not 0.0 < tick < 1.0:
        raise PolymarketParseError.bad(f"{where}.orderPriceMinTickSize", "outside (0, 1)", tick)
    return tick


def _schedule_rate(obj: Mapping[str, Any], where: str) -> float | None:
    schedule = obj.get("feeSchedule")
    if not isinstance(schedule, Mapping) or schedule.get("rate") is None:
        return None
    rate = to_float(schedule["rate"], f"{where}.feeSchedule.rate")
    if not 0.0 <= rate < 1.0:
        raise PolymarketParseError.bad(f"{where}.feeSchedule.rate", "outside [0, 1)", rate)
    return rate


def _schedule_exponent(obj: Mapping[str, Any], where: str) -> float:
    """The fee exponent of `feeSchedule` (Polymarket's fee is rate x (p (1 - p)) ** it); 1
    when the market sends none, as nearly all do."""
    schedule = obj.get("feeSchedule")
    if not isinstance(schedule, Mapping):
        return DEFAULT_EXPONENT
    try:
        return read_fee_exponent(schedule.get("exponent"))
    except OutOfBounds as exc:
        raise PolymarketParseError.bad(
            f"{where}.feeSchedule.exponent", str(exc), schedule.get("exponent")
        ) from None


def _parse_market(
    obj: Mapping[str, Any],
    where: str,
    parent: Mapping[str, Any] | None,
    parent_is_group: bool,
) -> Market:
    market_id = opt_str(obj, "conditionId", where)
    if not market_id:
        raise PolymarketParseError.bad(f"{where}.conditionId", "missing")
    where = f"{where}[{market_id[:12]}]"
    outcomes = json_list(require(obj, "outcomes", where), f"{where}.outcomes")
    tokens = json_list(require(obj, "clobTokenIds", where), f"{where}.clobTokenIds")
    if len(outcomes) != 2 or len(tokens) != 2:
        raise PolymarketParseError.bad(
            f"{where}.outcomes",
            f"not binary: {len(outcomes)} outcomes, {len(tokens)} tokens",
        )
    tok = [token_id(t, f"{where}.clobTokenIds[{i}]") for i, t in enumerate(tokens)]
    if tok[0] == tok[1]:
        raise PolymarketParseError.bad(f"{where}.clobTokenIds", "both tokens are the same")
    yi = yes_index([str(o) for o in outcomes])

    event = parent if parent is not None else _market_event(obj)
    labels = _labels(obj) + (_labels(event) if event is not None else [])
    category = fee_type_category(opt_str(obj, "feeType", where)) or categorise(labels)

    neg_risk_id = opt_str(obj, "negRiskMarketID", where) or None
    event_id: str | None = neg_risk_id
    if event_id is None and event is not None:
        grouped = parent_is_group or bool(opt_str(obj, "groupItemTitle", where))
        eid = opt_str(event, "id", f"{where}.event")
        event_id = eid if grouped and eid else None

    active = opt_bool(obj, "active", where, True)
    closed = opt_bool(obj, "closed", where, False)
    archived = opt_bool(obj, "archived", where, False)
    order_book = opt_bool(obj, "enableOrderBook", where, True)
    accepting = opt_bool(obj, "acceptingOrders", where, active and not closed)

    payout: float | None = None
    raw_prices = obj.get("outcomePrices")
    if raw_prices not in (None, ""):
        plist = json_list(raw_prices, f"{where}.outcomePrices")
        if len(plist) != 2:
            raise PolymarketParseError.bad(f"{where}.outcomePrices", "expected 2 prices", plist)
        prices = [to_price(p, f"{where}.outcomePrices[{i}]") for i, p in enumerate(plist)]
        uma = obj.get("umaResolutionStatus")
        payout = settled_payout(
            prices, yi, closed=closed, uma_status=uma if isinstance(uma, str) else None
        )

    volume = opt_float(obj, "volumeNum", where, math.nan)
    if math.isnan(volume):
        volume = opt_float(obj, "volume", where, 0.0)
    liquidity = opt_float(obj, "liquidityNum", where, math.nan)
    if math.isnan(liquidity):
        liquidity = opt_float(obj, "liquidity", where, 0.0)

    return Market(
        market_id=market_id,
        question=opt_str(obj, "question", where),
        category=category,
        yes_token=tok[yi],
        no_token=tok[1 - yi],
        created_ts=opt_iso_ts(obj, ("createdAt", "startDate"), where),
        end_ts=opt_iso_ts(obj, ("endDate", "endDateIso"), where),
        tick_size=_tick(obj, where),
        min_order_size=opt_float(obj, "orderMinSize", where, DEFAULT_MIN_SIZE),
        fee_rate=fee_rate(
            category,
            fees_enabled=opt_bool(obj, "feesEnabled", where, False),
            schedule_rate=_schedule_rate(obj, where),
        ),
        fee_exponent=_schedule_exponent(obj, where),
        event_id=event_id,
        neg_risk=opt_bool(obj, "negRisk", where, False),
        volume=volume,
        liquidity=liquidity,
        accepting_orders=accepting and active and order_book and not closed and not archived,
        description=opt_str(obj, "description", where),
        resolved=payout is not None,
        payout_yes=payout,
    )


def parse_gamma_market(obj: Mapping[str, Any]) -> Market:
    """One Gamma market object (from /markets, /markets/{id}, /markets/slug/...) → `Market`.

    Raises `PolymarketParseError` for a non-binary market or a malformed field.
    """
    return _parse_market(as_mapping(obj, "market"), "market", None, False)


def _ident(item: Any, i: int) -> str:
    """What a skipped market is called in the log: its condition id, else Gamma's id, else
    its place in the page (cut short: whatever it is, it came from outside)."""
    if isinstance(item, Mapping):
        for key in ("conditionId", "id"):
            value = item.get(key)
            if value and isinstance(value, str | int):
                return str(value)[:_IDENT_CHARS]
    return f"#{i}"


def _items(payload: Any, where: str) -> list[Any]:
    """Gamma listings are bare arrays; a {"data": [...]} wrapper is accepted too.

    Nautilus tolerates that wrapper as well (docs/polymarket_api.md §2.4)."""
    if isinstance(payload, Mapping) and "data" in payload:
        payload = payload["data"]
    return as_list(payload, where)


def parse_gamma_markets(payload: Any) -> tuple[list[Market], list[SkippedMarket]]:
    """A /markets page: the binary markets, and the others with the reason each was skipped."""
    markets: list[Market] = []
    skipped: list[SkippedMarket] = []
    for i, item in enumerate(_items(payload, "markets")):
        try:
            markets.append(_parse_market(as_mapping(item, f"markets[{i}]"), "market", None, False))
        except PolymarketParseError as exc:
            skipped.append(SkippedMarket(_ident(item, i), str(exc)))
    return markets, skipped


def parse_gamma_event(obj: Mapping[str, Any]) -> GammaEvent:
    """One Gamma event with its embedded markets; markets of a multi-market event share
    `event_id` (the neg-risk group id when there is one, else the event id)."""
    obj = as_mapping(obj, "event")
    event_id = opt_str(obj, "id", "event")
    if not event_id:
        raise PolymarketParseError.bad("event.id", "missing")
    where = f"event[{event_id}]"
    raw_markets = obj.get("markets") or []
    items = as_list(raw_markets, f"{where}.markets")
    group = len(items) > 1
    markets: list[Market] = []
    skipped: list[SkippedMarket] = []
    for i, item in enumerate(items):
        try:
            m = as_mapping(item, f"{where}.markets[{i}]")
            markets.append(_parse_market(m, f"{where}.market", obj, group))
        except PolymarketParseError as exc:
            skipped.append(SkippedMarket(_ident(item, i), str(exc)))
    return GammaEvent(
        event_id=event_id,
        title=opt_str(obj, "title", where),
        slug=opt_str(obj, "slug", where),
        category=categorise(_labels(obj)),
        neg_risk=opt_bool(obj, "negRisk", where, False),
        active=opt_bool(obj, "active", where, True),
        closed=opt_bool(obj, "closed", where, False),
        markets=tuple(markets),
        skipped=tuple(skipped),
    )


def parse_gamma_events(payload: Any) -> list[GammaEvent]:
    return [parse_gamma_event(e) for e in _items(payload, "events")]


def parse_gamma_tags(payload: Any) -> list[GammaTag]:
    """/tags: ids to pass as `tag_id` when discovering markets of one theme."""
    out = []
    for i, item in enumerate(_items(payload, "tags")):
        t = as_mapping(item, f"tags[{i}]")
        tag_id = opt_str(t, "id", f"tags[{i}]")
        if not tag_id:
            raise PolymarketParseError.bad(f"tags[{i}].id", "missing")
        out.append(
            GammaTag(tag_id, opt_str(t, "label", f"tags[{i}]"), opt_str(t, "slug", f"tags[{i}]"))
        )
    return out


def parse_gamma_search(payload: Any) -> GammaSearch:
    """/public-search: events (with markets) plus paging info; tags/profiles are ignored."""
    obj = as_mapping(payload, "search")
    events: Sequence[Any] = as_list(obj.get("events") or [], "search.events")
    page = obj.get("pagination")
    page = page if isinstance(page, Mapping) else {}
    total = page.get("totalResults")
    return GammaSearch(
        events=tuple(parse_gamma_event(e) for e in events),
        has_more=opt_bool(page, "hasMore", "search.pagination", False),
        total=int(to_float(total, "search.pagination.totalResults")) if total is not None else None,
    )

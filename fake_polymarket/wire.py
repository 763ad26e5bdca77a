"""Domain state to Polymarket JSON, in the exact shapes and types Polymarket sends.

The types matter more than the values: Gamma market `volume`/`liquidity` are strings while
event ones are numbers, `outcomes`/`outcomePrices`/`clobTokenIds` are JSON text inside JSON,
`closedTime` is `"YYYY-MM-DD HH:MM:SS+00"`, CLOB book prices and sizes are strings with the
bids ascending and asks descending, WS timestamps are millisecond strings
(docs/polymarket_api.md §2.5, §3, §5 and gotchas G1, G4-G6). Key sets follow the recorded
fixtures in tests/fixtures/polymarket.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from engine.models import Outcome
from fake_polymarket.catalog import CATEGORY_TAGS, FEE_TYPES, EventInfo, MarketInfo
from fake_polymarket.orderbook import MarketBook
from fake_polymarket.records import Order, Trade
from fake_polymarket.units import ONE, PRICE_SCALE, amount_str, price_str

JSON = dict[str, Any]
OUTCOMES = ["Yes", "No"]
UMA_RESOLVER = "0x6A9D222616C90FcA5754cd1333cFD9b7fb6a4F74"
SIM_MAKER_ADDRESS = "0x5151515151515151515151515151515151515151"
SIM_MAKER_OWNER = "00000000-0000-4000-8000-00000000051a"


# --- small formats -------------------------------------------------------------------------


def iso(ts: float, micro: bool = False) -> str:
    d = datetime.fromtimestamp(ts, tz=UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def iso_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def closed_time(ts: float) -> str:
    """Gamma's non-ISO `closedTime`: `2026-05-09 02:07:01+00`."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M:%S+00")


def ms(ts: float) -> str:
    return str(round(ts * 1000))


def json_text(values: list[str]) -> str:
    """JSON-in-JSON as Gamma writes it: `["Yes", "No"]` with a space after the comma."""
    return json.dumps(values)


def fee_bps(rate: float) -> int:
    return round(rate * 10_000)


def _exponent(e: float) -> int | float:
    """A fee exponent as the exchange writes it: a JSON integer when whole."""
    return int(e) if e == int(e) else e


def _num(units: int | None, default: float = 0.0) -> float | int:
    """A price as a JSON number the way Gamma sends it (int when whole: 0, 1)."""
    if units is None:
        return default
    return units // PRICE_SCALE if units % PRICE_SCALE == 0 else units / PRICE_SCALE


def _mid(book: MarketBook) -> int | None:
    bid, ask = book.best(True), book.best(False)
    if bid is None or ask is None:
        return None
    return (bid + ask) // 2


def yes_price(info: MarketInfo, book: MarketBook) -> float:
    """YES price shown in listings: the payout once resolved, else the mid (else last trade)."""
    m = info.market
    if m.resolved and m.payout_yes is not None:
        return m.payout_yes
    mid = _mid(book)
    if mid is not None:
        return mid / PRICE_SCALE
    return book.last_trade[0] / PRICE_SCALE if book.last_trade else 0.5


def _price_text(p: float) -> str:
    return f"{p:.4f}".rstrip("0").rstrip(".") if p not in (0.0, 1.0) else str(int(p))


# --- CLOB book -----------------------------------------------------------------------------


def book_hash(summary: JSON) -> str:
    """SHA-1 of the compact summary with `hash` blank, keys in Polymarket's order.

    As py-clob-client's `generate_orderbook_summary_hash` computes it (docs/polymarket_api.md
    §3.1)."""
    payload = {
        "market": summary["market"],
        "asset_id": summary["asset_id"],
        "timestamp": summary["timestamp"],
        "hash": "",
        "bids": [{"price": x["price"], "size": x["size"]} for x in summary["bids"]],
        "asks": [{"price": x["price"], "size": x["size"]} for x in summary["asks"]],
        "min_order_size": summary["min_order_size"],
        "tick_size": summary["tick_size"],
        "neg_risk": summary["neg_risk"],
        "last_trade_price": summary["last_trade_price"],
    }
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(text.encode()).hexdigest()


def last_trade_price(book: MarketBook, token: str) -> int | None:
    if book.last_trade is None:
        return None
    p = book.last_trade[0]
    return p if token == book.yes_token else ONE - p


def book_summary(book: MarketBook, token: str) -> JSON:
    """`GET /book` for one token: bids ascending, asks descending (best last), all strings."""
    bids, asks = book.token_ladders(token)
    ltp = last_trade_price(book, token)
    out: JSON = {
        "market": book.market_id,
        "asset_id": token,
        "timestamp": str(book.updated_ms),
        "hash": "",
        "bids": [{"price": price_str(p), "size": amount_str(s)} for p, s in reversed(bids)],
        "asks": [{"price": price_str(p), "size": amount_str(s)} for p, s in reversed(asks)],
        "min_order_size": amount_str(book.min_size),
        "tick_size": price_str(book.tick),
        "neg_risk": book.neg_risk,
        "last_trade_price": price_str(ltp) if ltp is not None else "",
    }
    out["hash"] = book_hash(out)
    return out


# --- Gamma ---------------------------------------------------------------------------------


def tag(category: str) -> JSON:
    return {
        "id": CATEGORY_TAGS[category],
        "label": category.title(),
        "slug": category,
        "forceShow": False,
        "requiresTranslation": False,
    }


def gamma_event(
    ev: EventInfo, members: list[tuple[MarketInfo, MarketBook]], now: float, with_markets: bool
) -> JSON:
    """Gamma event; event `liquidity`/`volume` are numbers (unlike a market's)."""
    closed = all(i.closed for i, _ in members) if members else False
    end = max((i.market.end_ts for i, _ in members), default=now)
    liquidity = sum(i.market.liquidity for i, _ in members)
    volume = sum(i.volume for i, _ in members)
    out: JSON = {
        "id": ev.id,
        "ticker": ev.slug,
        "slug": ev.slug,
        "title": ev.title,
        "description": members[0][0].market.description if members else "",
        "resolutionSource": "",
        "startDate": iso(ev.created_ts, micro=True),
        "creationDate": iso(ev.created_ts, micro=True),
        "endDate": iso(end),
        "image": "",
        "icon": "",
        "active": True,
        "closed": closed,
        "archived": False,
        "new": False,
        "featured": False,
        "restricted": True,
        "liquidity": round(liquidity, 4),
        "volume": round(volume, 6),
        "openInterest": 0,
        "sortBy": "price" if ev.neg_risk else "ascending",
        "category": ev.category.title(),
        "createdAt": iso(ev.created_ts, micro=True),
        "updatedAt": iso(max((i.updated_ts for i, _ in members), default=now), micro=True),
        "competitive": 0.9,
        "volume24hr": round(sum(i.volume_since(now - 86_400) for i, _ in members), 6),
        "volume1wk": round(volume, 6),
        "volume1mo": round(volume, 6),
        "volume1yr": round(volume, 6),
        "enableOrderBook": True,
        "liquidityClob": round(liquidity, 4),
        "negRisk": ev.neg_risk,
        "commentCount": 0,
        "tags": [tag(ev.category)],
        "cyom": False,
        "showAllOutcomes": True,
        "showMarketImages": True,
        "enableNegRisk": ev.neg_risk,
        "automaticallyActive": True,
        "negRiskAugmented": False,
        "pendingDeployment": False,
        "deploying": False,
        "requiresTranslation": False,
    }
    if ev.neg_risk:
        out["negRiskMarketID"] = ev.neg_risk_market_id
    if closed:
        out["closedTime"] = closed_time(max(i.closed_ts or now for i, _ in members))
    if with_markets:
        out["markets"] = [gamma_market(i, b, None, now, include_tag=False) for i, b in members]
    return out


def gamma_market(
    info: MarketInfo, book: MarketBook, event: JSON | None, now: float, include_tag: bool
) -> JSON:
    """Gamma market object (camelCase, JSON-in-JSON lists, string volume/liquidity)."""
    m = info.market
    p = yes_price(info, book)
    bid, ask = book.best(True), book.best(False)
    ltp = book.last_trade[0] if book.last_trade else None
    rate_bps = fee_bps(m.fee_rate)
    vol = round(info.volume, 6)
    out: JSON = {
        "id": info.gamma_id,
        "question": m.question,
        "conditionId": m.market_id,
        "slug": info.slug,
        "resolutionSource": "",
        "endDate": iso(m.end_ts),
        "liquidity": f"{m.liquidity:.4f}".rstrip("0").rstrip("."),
        "startDate": iso(m.created_ts, micro=True),
        "image": "",
        "icon": "",
        "description": m.description,
        "outcomes": json_text(OUTCOMES),
        "outcomePrices": json_text([_price_text(p), _price_text(1.0 - p)]),
        "volume": repr(vol),
        "active": True,
        "closed": info.closed,
        "marketMakerAddress": "",
        "createdAt": iso(m.created_ts, micro=True),
        "updatedAt": iso(info.updated_ts, micro=True),
        "new": False,
        "featured": False,
        "submitted_by": SIM_MAKER_ADDRESS,
        "archived": False,
        "resolvedBy": UMA_RESOLVER,
        "restricted": True,
        "groupItemTitle": info.group_item_title,
        "groupItemThreshold": "0",
        "questionID": info.question_id,
        "enableOrderBook": True,
        "orderPriceMinTickSize": book.tick / PRICE_SCALE,
        "orderMinSize": 5,
        "volumeNum": vol,
        "liquidityNum": m.liquidity,
        "endDateIso": iso_date(m.end_ts),
        "startDateIso": iso_date(m.created_ts),
        "hasReviewedDates": True,
        "volume24hr": round(info.volume_since(now - 86_400), 6),
        "volume1wk": vol,
        "volume1mo": vol,
        "volume1yr": vol,
        "clobTokenIds": json_text([m.yes_token, m.no_token]),
        "umaBond": "500",
        "umaReward": "5",
        "volume24hrClob": round(info.volume_since(now - 86_400), 6),
        "volume1wkClob": vol,
        "volume1moClob": vol,
        "volume1yrClob": vol,
        "volumeClob": vol,
        "liquidityClob": m.liquidity,
        "customLiveness": 0,
        "makerBaseFee": rate_bps,
        "takerBaseFee": rate_bps,
        "acceptingOrders": not info.closed,
        "negRisk": m.neg_risk,
        "ready": False,
        "funded": False,
        "acceptingOrdersTimestamp": iso(info.listed_ts),
        "cyom": False,
        "competitive": 0.9,
        "pagerDutyNotificationEnabled": False,
        "approved": True,
        "rewardsMinSize": 50,
        "rewardsMaxSpread": 4.5,
        "spread": _num(ask - bid if bid is not None and ask is not None else None),
        "oneDayPriceChange": 0,
        "oneHourPriceChange": 0,
        "oneWeekPriceChange": 0,
        "oneMonthPriceChange": 0,
        "lastTradePrice": _num(ltp),
        "bestBid": _num(bid),
        "bestAsk": _num(ask, 1.0),
        "automaticallyActive": True,
        "clearBookOnStart": False,
        "showGmpSeries": False,
        "showGmpOutcome": False,
        "manualActivation": False,
        "negRiskOther": False,
        "umaResolutionStatuses": "[]",
        "pendingDeployment": False,
        "deploying": False,
        "rfqEnabled": False,
        "holdingRewardsEnabled": False,
        "feesEnabled": m.fee_rate > 0,
        "requiresTranslation": False,
        "makerRebatesFeeShareBps": 10_000,
        "feeType": FEE_TYPES.get(m.category, "fees_v2") if m.fee_rate > 0 else None,
    }
    if m.fee_rate > 0:  # as Polymarket sends it on fee-bearing markets (rate and exponent)
        out["feeSchedule"] = {
            "exponent": _exponent(m.fee_exponent),
            "rate": m.fee_rate,
            "rebateRate": 0.25,
            "takerOnly": True,
        }
    if m.neg_risk:
        out["negRiskMarketID"] = info.neg_risk_market_id
        out["negRiskRequestID"] = info.neg_risk_request_id
    if info.closed_ts is not None:
        out["closedTime"] = closed_time(info.closed_ts)
        out["umaResolutionStatus"] = "resolved"
    if event is not None:
        out["events"] = [event]
    if include_tag:
        out["tags"] = [tag(m.category)]
    return out


# --- CLOB markets --------------------------------------------------------------------------


def _tokens(info: MarketInfo, book: MarketBook) -> list[JSON]:
    m = info.market
    p = round(yes_price(info, book), 4)
    won = m.payout_yes if m.resolved else None
    return [
        {"token_id": m.yes_token, "outcome": "Yes", "price": p, "winner": won == 1.0},
        {"token_id": m.no_token, "outcome": "No", "price": round(1 - p, 4), "winner": won == 0.0},
    ]


def _rewards() -> JSON:
    return {"rates": None, "min_size": 0, "max_spread": 0}


def clob_market(info: MarketInfo, book: MarketBook) -> JSON:
    """CLOB `GET /markets/{condition_id}` (snake_case, numbers as numbers)."""
    m = info.market
    rate_bps = fee_bps(m.fee_rate)
    return {
        "enable_order_book": True,
        "active": True,
        "closed": info.closed,
        "archived": False,
        "accepting_orders": not info.closed,
        "accepting_order_timestamp": iso(info.listed_ts),
        "minimum_order_size": 5,
        "minimum_tick_size": book.tick / PRICE_SCALE,
        "condition_id": m.market_id,
        "question_id": info.question_id,
        "question": m.question,
        "description": m.description,
        "market_slug": info.slug,
        "end_date_iso": iso(m.end_ts),
        "game_start_time": None,
        "seconds_delay": 0,
        "fpmm": "",
        "maker_base_fee": rate_bps,
        "taker_base_fee": rate_bps,
        "notifications_enabled": False,
        "neg_risk": m.neg_risk,
        "neg_risk_market_id": info.neg_risk_market_id,
        "neg_risk_request_id": info.neg_risk_request_id,
        "icon": "",
        "image": "",
        "rewards": _rewards(),
        "is_50_50_outcome": False,
        "tokens": _tokens(info, book),
        "tags": [m.category.title()],
    }


def simplified_market(info: MarketInfo, book: MarketBook) -> JSON:
    return {
        "condition_id": info.market.market_id,
        "rewards": _rewards(),
        "tokens": _tokens(info, book),
        "active": True,
        "closed": info.closed,
        "archived": False,
        "accepting_orders": not info.closed,
    }


def clob_market_info(info: MarketInfo, book: MarketBook) -> JSON:
    """V2 compact `GET /clob-markets/{condition_id}`; optional keys omitted when false/empty."""
    m = info.market
    out: JSON = {
        "c": m.market_id,
        "t": [{"t": m.yes_token, "o": "Yes"}, {"t": m.no_token, "o": "No"}],
        "mts": book.tick / PRICE_SCALE,
        "mos": 5,
        "sd": 0,
        "r": None,
    }
    if m.neg_risk:
        out["nr"] = True
    if m.fee_rate > 0:
        out["fd"] = {"r": m.fee_rate, "e": _exponent(m.fee_exponent), "to": True}
        out["mbf"] = out["tbf"] = fee_bps(m.fee_rate)
    if not info.closed:
        out["ao"] = True
        out["aot"] = iso(info.listed_ts)
    return out


# --- market channel ------------------------------------------------------------------------


def ws_book(summary: JSON) -> JSON:
    return {"event_type": "book", **summary}


def price_change_entry(book: MarketBook, token: str, price: int, size: int, bid: bool) -> JSON:
    best_bid, best_ask = book.token_best(token)
    return {
        "asset_id": token,
        "price": price_str(price),
        "size": amount_str(size),
        "side": "BUY" if bid else "SELL",
        "hash": book_summary(book, token)["hash"],
        "best_bid": price_str(best_bid) if best_bid is not None else "0",
        "best_ask": price_str(best_ask) if best_ask is not None else "1",
    }


def ws_price_change(market: str, ts: float, entries: list[JSON]) -> JSON:
    return {
        "event_type": "price_change",
        "market": market,
        "price_changes": entries,
        "timestamp": ms(ts),
    }


def ws_last_trade(
    market: str, token: str, price: int, size: int, side: str, fee: int, ts: float
) -> JSON:
    return {
        "asset_id": token,
        "event_type": "last_trade_price",
        "fee_rate_bps": str(fee),
        "market": market,
        "price": price_str(price),
        "side": side,
        "size": amount_str(size),
        "timestamp": ms(ts),
    }


def ws_tick_change(market: str, token: str, old: int, new: int, ts: float) -> JSON:
    return {
        "asset_id": token,
        "event_type": "tick_size_change",
        "market": market,
        "new_tick_size": price_str(new),
        "old_tick_size": price_str(old),
        "timestamp": ms(ts),
    }


def ws_best_bid_ask(market: str, token: str, bid: int | None, ask: int | None, ts: float) -> JSON:
    b = bid if bid is not None else 0
    a = ask if ask is not None else ONE
    return {
        "event_type": "best_bid_ask",
        "market": market,
        "asset_id": token,
        "best_bid": price_str(b),
        "best_ask": price_str(a),
        "spread": price_str(a - b),
        "timestamp": ms(ts),
    }


def _market_message(info: MarketInfo, ev: EventInfo, event_type: str, ts: float) -> JSON:
    m = info.market
    return {
        "event_type": event_type,
        "id": info.gamma_id,
        "question": m.question,
        "market": m.market_id,
        "slug": info.slug,
        "description": m.description,
        "assets_ids": [m.yes_token, m.no_token],
        "outcomes": list(OUTCOMES),
        "event_message": {
            "id": ev.id,
            "ticker": ev.slug,
            "slug": ev.slug,
            "title": ev.title,
            "description": m.description,
        },
        "timestamp": ms(ts),
        "tags": [m.category],
    }


def ws_new_market(info: MarketInfo, ev: EventInfo, tick: int, ts: float) -> JSON:
    out = _market_message(info, ev, "new_market", ts)
    m = info.market
    out.update(
        {
            "condition_id": m.market_id,
            "active": True,
            "clob_token_ids": [m.yes_token, m.no_token],
            "sports_market_type": "",
            "line": "",
            "game_start_time": "",
            "order_price_min_tick_size": price_str(tick),
            "group_item_title": info.group_item_title,
        }
    )
    return out


def ws_market_resolved(info: MarketInfo, ev: EventInfo, ts: float) -> JSON:
    out = _market_message(info, ev, "market_resolved", ts)
    m = info.market
    yes_won = (m.payout_yes or 0.0) >= 0.5
    out["winning_asset_id"] = m.yes_token if yes_won else m.no_token
    out["winning_outcome"] = "Yes" if yes_won else "No"
    return out


# --- orders and trades (REST and user channel) -------------------------------------------


def outcome_name(outcome: Outcome) -> str:
    return OUTCOMES[int(outcome)]


def open_order(o: Order) -> JSON:
    """`GET /data/orders` item (created_at int seconds, expiration string)."""
    return {
        "id": o.id,
        "status": o.status,
        "owner": o.owner,
        "maker_address": o.address,
        "market": o.market,
        "asset_id": o.token,
        "side": o.side.value,
        "original_size": amount_str(o.size),
        "size_matched": amount_str(o.matched),
        "price": price_str(o.price),
        "associate_trades": list(o.trade_ids),
        "outcome": outcome_name(o.outcome),
        "created_at": int(o.created_ts),
        "expiration": str(o.expiration),
        "order_type": o.order_type,
    }


def ws_order(o: Order, kind: str, ts: float, status: str | None = None) -> JSON:
    """User-channel `order` event: PLACEMENT, UPDATE or CANCELLATION."""
    return {
        "asset_id": o.token,
        "associate_trades": list(o.trade_ids) or None,
        "created_at": str(int(o.created_ts)),
        "event_type": "order",
        "expiration": str(o.expiration),
        "id": o.id,
        "maker_address": o.address,
        "market": o.market,
        "order_owner": o.owner,
        "order_type": o.order_type,
        "original_size": amount_str(o.size),
        "outcome": outcome_name(o.outcome),
        "owner": o.owner,
        "price": price_str(o.price),
        "side": o.side.value,
        "size_matched": amount_str(o.matched),
        "status": status or o.status,
        "timestamp": ms(ts),
        "type": kind,
    }


def trade(t: Trade, viewer: str) -> JSON:
    """`GET /data/trades` item from the taker's view; a maker finds itself in `maker_orders`."""
    maker_side = viewer != t.taker_owner
    return {
        "id": t.id,
        "taker_order_id": t.taker_order_id,
        "market": t.market,
        "asset_id": t.token,
        "side": t.side.value,
        "size": amount_str(t.shares),
        "fee_rate_bps": str(t.fee_rate_bps),
        "price": price_str(t.price),
        "status": t.status,
        "match_time": str(int(t.match_ts)),
        "last_update": str(int(t.last_update_ts or t.match_ts)),
        "outcome": outcome_name(t.outcome),
        "bucket_index": 0,
        "owner": viewer,
        "maker_address": t.taker_address,
        "transaction_hash": t.transaction_hash,
        "maker_orders": [
            {
                "order_id": f.order_id,
                "owner": f.owner,
                "maker_address": f.address,
                "matched_amount": amount_str(f.shares),
                "price": price_str(f.price),
                "fee_rate_bps": "0",
                "asset_id": f.token,
                "outcome": outcome_name(f.outcome),
                "side": f.side.value,
            }
            for f in t.makers
        ],
        "trader_side": "MAKER" if maker_side else "TAKER",
    }


def ws_trade(t: Trade, viewer: str, ts: float) -> JSON:
    out = trade(t, viewer)
    out.update({"event_type": "trade", "timestamp": ms(ts), "trade_owner": viewer, "type": "TRADE"})
    return out

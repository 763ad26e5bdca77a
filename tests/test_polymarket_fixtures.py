"""Every recorded Polymarket payload goes through the parsers (or is named out of scope).

Each fixture file is either checked by a function that parses it and asserts values read
from the JSON (plus a few known literals), or listed in OUT_OF_SCOPE with the reason. A file
in the directory that is in neither list fails `test_every_fixture_is_classified`, so new
recordings cannot be skipped silently.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from engine.events import (
    BookSnapshot,
    MarketListed,
    MarketResolved,
    PriceChange,
    TickSizeChange,
    TradePrint,
)
from engine.execution.clob_answers import (
    AnswerError,
    parse_balance,
    parse_cancel_answer,
    parse_order_row,
    parse_post_answer,
)
from engine.execution.clob_fills import OrderFill, fills_of_order
from engine.execution.held_positions import parse_positions
from engine.models import Market, Outcome, Side
from engine.sources.polymarket import (
    PolymarketParseError,
    parse_book,
    parse_clob_market,
    parse_clob_markets_page,
    parse_fee_rate,
    parse_gamma_event,
    parse_gamma_events,
    parse_gamma_market,
    parse_gamma_markets,
    parse_gamma_search,
    parse_gamma_tags,
    parse_prices_history,
    parse_ws_message,
)
from fake_polymarket import auth
from tests.recorded_fixtures import FIXTURES

Check = Callable[[Any, bytes], None]


def _iso(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _tokens(doc: dict[str, Any]) -> list[str]:
    raw = doc["clobTokenIds"]
    return list(json.loads(raw) if isinstance(raw, str) else raw)


def _assert_sorted_book(b: BookSnapshot) -> None:
    assert (np.diff(b.bid_px) < 0).all(), "bids best (highest) first"
    assert (np.diff(b.ask_px) > 0).all(), "asks best (lowest) first"
    assert (b.bid_sz > 0).all() and (b.ask_sz > 0).all()


def _assert_book_matches(b: BookSnapshot, doc: dict[str, Any]) -> None:
    """Same levels as the JSON, whatever order the JSON listed them in."""
    assert b.asset_id == doc["asset_id"]
    assert b.ts == pytest.approx(int(doc["timestamp"]) / 1000)
    want_bids = sorted(((float(x["price"]), float(x["size"])) for x in doc["bids"]), reverse=True)
    want_asks = sorted((float(x["price"]), float(x["size"])) for x in doc["asks"])
    assert list(zip(b.bid_px.tolist(), b.bid_sz.tolist(), strict=True)) == want_bids
    assert list(zip(b.ask_px.tolist(), b.ask_sz.tolist(), strict=True)) == want_asks
    _assert_sorted_book(b)


def _with_tag(doc: dict[str, Any], event_type: str) -> bytes:
    """Rust test fixtures deserialize into a fixed type, so they carry no `event_type`; the
    live feed always sends one. Without it the parser must refuse the frame."""
    with pytest.raises(PolymarketParseError, match="event_type"):
        parse_ws_message(json.dumps(doc))
    return json.dumps({**doc, "event_type": event_type}).encode()


# --- checks per file -----------------------------------------------------------------------


def check_http_book(doc: Any, raw: bytes) -> None:
    b = parse_book(doc)
    _assert_book_matches(b, doc)
    assert b.book_hash == "2fc4a3d6a98bc164e057589bcb74981852b87412"
    assert b.bid_px[0] == 0.1 and b.ask_px[0] == 0.14  # best = last element on the wire


def check_http_event_trimmed(doc: Any, raw: bytes) -> None:
    ev = parse_gamma_event(doc)
    assert ev.event_id == "185377" and ev.title == doc["title"]
    assert ev.category == "other"
    # Trimmed: markets carry only conditionId/question/slug, so none is tradeable.
    assert ev.markets == ()
    assert [s.market_id for s in ev.skipped] == [m["conditionId"] for m in doc["markets"]]
    assert all("outcomes: missing" in s.reason for s in ev.skipped)


def check_http_events_list_trimmed(doc: Any, raw: bytes) -> None:
    events = parse_gamma_events(doc)
    assert [e.event_id for e in events] == ["2890", "2891", "2892"]
    assert [e.title for e in events] == [d["title"] for d in doc]
    assert all(len(e.skipped) == 1 and not e.markets for e in events)


def check_clob_market_trump(doc: Any, raw: bytes) -> None:
    m = parse_clob_market(doc)
    assert m.market_id == doc["condition_id"]
    assert m.yes_token == doc["tokens"][0]["token_id"] and doc["tokens"][0]["outcome"] == "Yes"
    assert m.no_token == doc["tokens"][1]["token_id"]
    assert m.neg_risk and m.event_id == doc["neg_risk_market_id"]
    assert m.tick_size == 0.001 and m.min_order_size == 5
    assert m.end_ts == _iso("2024-11-05T00:00:00+00:00")
    assert m.category == "politics" and m.accepting_orders and not m.resolved


def check_gamma_market_slug_trimmed(doc: Any, raw: bytes) -> None:
    # Trimmed: no `outcomes`, so which token is YES is unknown; refusing beats guessing.
    with pytest.raises(PolymarketParseError, match=r"outcomes: missing") as exc:
        parse_gamma_market(doc)
    assert exc.value.field is not None and exc.value.field.endswith(".outcomes")


def check_clob_markets_page_100(doc: Any, raw: bytes) -> None:
    page = parse_clob_markets_page(doc)
    assert page.next_cursor == "MTAw"
    assert len(page.markets) == 99 and len(page.skipped) == 1
    assert "token_id" in page.skipped[0].reason  # one market with empty token ids
    first = page.markets[0]
    assert first.market_id == doc["data"][0]["condition_id"]
    assert first.resolved and first.payout_yes == 0.0  # tokens[1] ("No") winner
    winners = {
        d["condition_id"]: d["tokens"][0]["winner"]
        for d in doc["data"]
        if d["closed"] and any(t["winner"] for t in d["tokens"])
    }
    assert {m.market_id: m.payout_yes == 1.0 for m in page.markets if m.resolved} == winners


def check_gamma_markets_list_synthetic(doc: Any, raw: bytes) -> None:
    markets, skipped = parse_gamma_markets(doc)
    assert markets == []
    assert [s.market_id for s in skipped] == [d["conditionId"] for d in doc]


def check_price_history(doc: Any, raw: bytes) -> None:
    h = parse_prices_history(doc, "tok")
    pts = doc["history"]
    assert len(h.ts) == len(pts)
    assert h.ts[0] == pts[0]["t"] and h.price[0] == pts[0]["p"]
    assert h.ts[-1] == pts[-1]["t"] and h.price[-1] == pts[-1]["p"]
    assert (np.diff(h.ts) >= 0).all()


def check_price_history_1d(doc: Any, raw: bytes) -> None:
    check_price_history(doc, raw)
    assert len(doc["history"]) == 1440  # one point a minute over a day
    assert np.median(np.diff(parse_prices_history(doc).ts)) == 60


def check_price_history_1w_f5(doc: Any, raw: bytes) -> None:
    check_price_history(doc, raw)
    assert np.median(np.diff(parse_prices_history(doc).ts)) == pytest.approx(300, abs=5)


def check_ws_book(doc: Any, raw: bytes) -> None:
    (b,) = parse_ws_message(raw)
    assert isinstance(b, BookSnapshot)
    _assert_book_matches(b, doc)
    assert len(b.bid_px) == 76 and len(b.ask_px) == 86
    assert b.bid_px[0] == 0.511 and b.ask_px[0] == 0.514
    assert b.book_hash == doc["hash"]


def check_ws_last_trade(doc: Any, raw: bytes) -> None:
    (t,) = parse_ws_message(raw)
    assert isinstance(t, TradePrint)
    assert t.asset_id == doc["asset_id"] and t.side is Side(doc["side"])
    assert t.price == float(doc["price"]) and t.size == float(doc["size"])
    assert t.ts == int(doc["timestamp"]) / 1000


def check_ws_price_change_flat(doc: Any, raw: bytes) -> None:
    (pc,) = parse_ws_message(raw)
    assert isinstance(pc, PriceChange)
    assert pc.asset_id == doc["asset_id"] and pc.ts == 1723967931.411
    assert [(c.side, c.price, c.size) for c in pc.changes] == [(Side.SELL, 0.514, 21574.08)]


def check_ws_price_changes(doc: Any, raw: bytes) -> None:
    events = parse_ws_message(raw)
    assert all(isinstance(e, PriceChange) for e in events)
    got = [(e.asset_id, c.side, c.price, c.size) for e in events for c in e.changes]  # type: ignore[union-attr]
    want = [
        (x["asset_id"], Side(x["side"]), float(x["price"]), float(x["size"]))
        for x in doc["price_changes"]
    ]
    assert sorted(got) == sorted(want)
    assert all(e.ts == int(doc["timestamp"]) / 1000 for e in events)
    assert len(events) == len({x["asset_id"] for x in doc["price_changes"]})  # one per asset


def check_ws_tick(doc: Any, raw: bytes) -> None:
    (t,) = parse_ws_message(raw)
    assert isinstance(t, TickSizeChange)
    assert t.asset_id == doc["asset_id"]
    assert t.old_tick == float(doc["old_tick_size"]) and t.new_tick == float(doc["new_tick_size"])


def check_clob_book_synthetic(doc: Any, raw: bytes) -> None:
    b = parse_book(doc)  # synthetic: asks listed ascending (best first), still normalised
    _assert_book_matches(b, doc)
    assert b.bid_px[0] == 0.50 and b.ask_px[0] == 0.51


def check_fee_rate_nonzero(doc: Any, raw: bytes) -> None:
    assert doc["base_fee"] == "150" and parse_fee_rate(doc) == 150


def check_fee_rate_zero(doc: Any, raw: bytes) -> None:
    assert parse_fee_rate(doc) == 0


def check_clob_closed_no_won(doc: Any, raw: bytes) -> None:
    m = parse_clob_market(doc)
    assert m.market_id == doc["condition_id"]
    assert m.resolved and m.payout_yes == 0.0 and not m.accepting_orders
    assert m.category == "crypto" and m.tick_size == 0.001


def check_clob_closed_yes_won(doc: Any, raw: bytes) -> None:
    m = parse_clob_market(doc)
    assert m.resolved and m.payout_yes == 1.0
    # accepting_orders is true in the JSON but the market is closed: not tradeable.
    assert doc["accepting_orders"] and not m.accepting_orders
    assert m.category == "geopolitics" and m.fee_rate == 0.0


def check_gamma_event_negrisk(doc: Any, raw: bytes) -> None:
    (ev,) = parse_gamma_events(doc)
    src = doc[0]
    assert ev.event_id == "30829" and ev.neg_risk and ev.category == "politics"
    assert [m.market_id for m in ev.markets] == [m["conditionId"] for m in src["markets"]]
    assert {m.event_id for m in ev.markets} == {src["negRiskMarketID"]}
    first = ev.markets[0]
    assert first.yes_token == _tokens(src["markets"][0])[0]
    assert first.category == "politics" and first.neg_risk


def check_gamma_market_btc(doc: Any, raw: bytes) -> None:
    m = parse_gamma_market(doc)
    assert m.market_id == doc["conditionId"] and m.question == doc["question"]
    up, down = _tokens(doc)
    assert (m.yes_token, m.no_token) == (up, down)  # "Up" is the first outcome: YES
    assert m.end_ts == _iso("2026-03-12T09:25:00+00:00")
    assert m.created_ts == pytest.approx(_iso("2026-03-11T09:27:51.140253+00:00"))
    assert m.tick_size == 0.01 and m.min_order_size == 5
    assert m.volume == pytest.approx(9.999997) and m.liquidity == pytest.approx(20328.3747)
    # takerBaseFee is 1000 bps; the fee formula's crypto rate is 0.072 (feeType crypto_fees).
    assert doc["takerBaseFee"] == 1000 and m.category == "crypto" and m.fee_rate == 0.072
    assert m.accepting_orders and not m.resolved and m.event_id is None


def check_gamma_closed_no_won(doc: Any, raw: bytes) -> None:
    m = parse_gamma_market(doc)
    # umaResolutionStatus "resolved" although umaResolutionStatuses says ["proposed"].
    assert doc["outcomePrices"] == '["0", "1"]'
    assert m.resolved and m.payout_yes == 0.0 and not m.accepting_orders
    assert m.tick_size == 0.001 and m.fee_rate == 0.0


def check_gamma_closed_yes_won(doc: Any, raw: bytes) -> None:
    m = parse_gamma_market(doc)
    assert m.resolved and m.payout_yes == 1.0
    assert doc["acceptingOrders"] and not m.accepting_orders  # closed wins
    assert m.volume == pytest.approx(192817.4904490008)
    assert m.yes_token == _tokens(doc)[0]


def check_gamma_legacy_long_short(doc: Any, raw: bytes) -> None:
    m = parse_gamma_market(doc)
    # Fractional final without a UMA "resolved" status: not trusted as a payout.
    assert not m.resolved and m.payout_yes is None and not m.accepting_orders
    assert m.category == "crypto"  # legacy `category: "Crypto"`
    assert m.yes_token == _tokens(doc)[0]  # "Long" first: YES


def check_gamma_legacy_zero_zero(doc: Any, raw: bytes) -> None:
    m = parse_gamma_market(doc)
    assert not m.resolved and m.payout_yes is None  # ["0","0"] is void, not a payout
    assert m.category == "politics"  # "US-current-affairs"
    assert m.end_ts == _iso("2020-11-04T00:00:00+00:00")


def check_gamma_sports(doc: Any, raw: bytes) -> None:
    m = parse_gamma_market(doc)
    assert m.market_id == doc["conditionId"]
    assert m.category == "sports" and m.fee_rate == 0.03  # feeSchedule.rate
    assert m.event_id == doc["events"][0]["id"] == "346898"  # grouped game markets
    assert m.resolved and m.payout_yes == 1.0  # outcomePrices ["1","0"], first outcome won
    assert m.tick_size == 0.001 and not m.accepting_orders


def check_gamma_tags(doc: Any, raw: bytes) -> None:
    tags = parse_gamma_tags(doc)
    assert [(t.tag_id, t.label, t.slug) for t in tags] == [
        (d["id"], d["label"], d["slug"]) for d in doc
    ]


def check_search(doc: Any, raw: bytes) -> None:
    s = parse_gamma_search(doc)
    assert s.has_more and s.total == 46940
    (ev,) = s.events
    assert ev.event_id == doc["events"][0]["id"] and ev.category == "crypto"
    (m,) = ev.markets
    assert m.market_id == "0x647fe16b6b42c32554fe6c4a4e9f06c22547acd5a109cbe0de6c9bae43ec09a8"
    assert m.event_id == ev.event_id  # groupItemTitle "64,000": part of the event group


def check_rs_ws_book_untagged(doc: Any, raw: bytes) -> None:
    (b,) = parse_ws_message(_with_tag(doc, "book"))
    assert isinstance(b, BookSnapshot)
    _assert_book_matches(b, doc)


def check_rs_ws_last_trade_untagged(doc: Any, raw: bytes) -> None:
    check_ws_last_trade(doc, _with_tag(doc, "last_trade_price"))


def check_rs_ws_quotes_untagged(doc: Any, raw: bytes) -> None:
    check_ws_price_changes(doc, _with_tag(doc, "price_change"))


def check_rs_ws_tick_untagged(doc: Any, raw: bytes) -> None:
    check_ws_tick(doc, _with_tag(doc, "tick_size_change"))


def check_ws_best_bid_ask(doc: Any, raw: bytes) -> None:
    assert doc["event_type"] == "best_bid_ask"
    assert parse_ws_message(raw) == []  # no sizes: changes no book


def check_ws_market_book(doc: Any, raw: bytes) -> None:
    (b,) = parse_ws_message(raw)
    assert isinstance(b, BookSnapshot)
    _assert_book_matches(b, doc)


def check_ws_new_market(doc: Any, raw: bytes) -> None:
    (ev,) = parse_ws_message(raw)
    assert isinstance(ev, MarketListed)
    m: Market = ev.market
    assert m.market_id == doc["market"] and m.question == doc["question"]
    assert (m.yes_token, m.no_token) == tuple(doc["clob_token_ids"])  # ["Yes", "No"]
    assert m.tick_size == 0.01 and m.category == "finance"  # tag "stocks"
    assert m.event_id == "125819"  # group_item_title set: part of an event group
    assert math.isnan(m.end_ts) and ev.ts == 1766790415.55


def check_ws_resolved(doc: Any, raw: bytes) -> None:
    (ev,) = parse_ws_message(raw)
    assert isinstance(ev, MarketResolved)
    assert ev.market_id == doc["market"] and ev.ts == 1766790415.55
    assert doc["winning_asset_id"] == doc["assets_ids"][0] and ev.payout_yes == 1.0


def check_simplified_page(doc: Any, raw: bytes) -> None:
    page = parse_clob_markets_page(doc)
    assert page.next_cursor == "MTAwMA==" and len(page.markets) == 1000 and not page.skipped
    first, src = page.markets[0], doc["data"][0]
    assert first.market_id == src["condition_id"]
    assert (first.yes_token, first.no_token) == (
        src["tokens"][0]["token_id"],
        src["tokens"][1]["token_id"],
    )
    assert first.accepting_orders and not first.resolved
    assert first.question == "" and math.isnan(first.end_ts)  # simplified: not given


def check_wom_events(doc: Any, raw: bytes) -> None:
    events = parse_gamma_events(doc)
    assert [e.event_id for e in events] == [d["id"] for d in doc]
    assert [e.category for e in events].count("sports") == 9  # 8 "Sports" + 1 "Chess"
    assert events[8].category == "culture"  # "Pop-Culture "
    assert all(len(e.markets) == 1 and not e.skipped for e in events)
    # 2022 AMM markets settled at 0.0000004 / 0.9999996: resolved, and not tradeable.
    for e, d in zip(events, doc, strict=True):
        (m,) = e.markets
        assert m.payout_yes == _legacy_payout(d["markets"][0]) and not m.accepting_orders
    assert [m.payout_yes for e in events for m in e.markets].count(1.0) == 2


def _legacy_payout(d: dict[str, Any]) -> float | None:
    """The settlement rule restated: closed, prices summing to 1, YES within 1e-4 of 0/1."""
    p_yes, p_no = (float(p) for p in json.loads(d["outcomePrices"]))
    if d["closed"] and abs(p_yes + p_no - 1) < 1e-4 and abs(p_yes - round(p_yes)) < 1e-4:
        return float(round(p_yes))
    return None


def check_wom_markets(doc: Any, raw: bytes) -> None:
    markets, skipped = parse_gamma_markets(doc)
    assert not skipped and [m.market_id for m in markets] == [d["conditionId"] for d in doc]
    for m, d in zip(markets, doc, strict=True):
        assert m.yes_token == _tokens(d)[0] and m.no_token == _tokens(d)[1]
        assert m.payout_yes == _legacy_payout(d) and m.resolved == (m.payout_yes is not None)
        assert not m.accepting_orders  # all closed (2020 markets)
    assert 3 <= sum(m.resolved for m in markets) < len(markets)


def check_wom_tags(doc: Any, raw: bytes) -> None:
    tags = parse_gamma_tags(doc)
    assert len(tags) == 100 and tags[0].tag_id == "671" and tags[0].slug == "jto"


# --- trading and account answers (the live executor's readers) -------------------------------


def _one_fill(trades: list[dict[str, Any]], order_id: str) -> OrderFill:
    (fill,) = fills_of_order(trades, order_id)
    return fill


def _check_trade(doc: dict[str, Any], real: bool = True) -> None:
    """Our part of a trade, as the taker and as each maker. In a real recording the makers'
    shares add up to the taker's size (one taker order against resting orders); the
    synthetic ones do not keep that."""
    taker = _one_fill([doc], doc["taker_order_id"])
    assert taker.taker and taker.shares == Decimal(doc["size"])
    assert taker.price == Decimal(doc["price"]) and taker.status == doc["status"]
    makers = doc.get("maker_orders") or []
    for m in makers:
        ours = [f for f in fills_of_order([doc], m["order_id"]) if not f.taker]
        mine = [x for x in makers if x["order_id"] == m["order_id"]]
        assert sum(f.shares for f in ours) == sum(Decimal(x["matched_amount"]) for x in mine)
        assert all(f.price == Decimal(m["price"]) for f in ours)
    if makers and real:
        total = sum(Decimal(m["matched_amount"]) for m in makers)
        assert total == Decimal(doc["size"])
    assert fills_of_order([doc], "0x" + "0" * 64) == []
    failed = dict(doc, status="FAILED")
    assert fills_of_order([failed], doc["taker_order_id"]) == []  # never settles


def check_trade(doc: Any, raw: bytes) -> None:
    _check_trade(doc)


def check_trade_mixed_complements(doc: Any, raw: bytes) -> None:
    _check_trade(doc)
    no_order = "0x3b67d584e1e7ad29b06bda373449638898aa87f0c9fd52a34bdbfb1325a6c184"
    no_maker = _one_fill([doc], no_order)
    assert no_maker.price == Decimal("0.482") and no_maker.shares == 10  # priced in NO terms
    assert Decimal(doc["price"]) + no_maker.price == 1


def check_trade_maker_side(doc: Any, raw: bytes) -> None:
    """Sent to a maker (`trader_side` MAKER): our part is our maker entry, at our price."""
    _check_trade(doc)
    assert doc["trader_side"] == "MAKER"
    ours = _one_fill([doc], doc["maker_orders"][0]["order_id"])
    assert not ours.taker and ours.price == Decimal(doc["maker_orders"][0]["price"])


def check_trade_synthetic(doc: Any, raw: bytes) -> None:
    _check_trade(doc, real=False)


def check_trade_fee(doc: Any, raw: bytes) -> None:
    _check_trade(doc, real=False)
    fee_maker = doc["maker_orders"][1]
    assert _one_fill([doc], fee_maker["order_id"]).fee_rate == Decimal("0.001")  # 10 bps


def check_trades_page(doc: Any, raw: bytes) -> None:
    for t in doc["data"]:
        _check_trade(t, real=False)
    broken = [dict(doc["data"][0], price="n/a")]
    with pytest.raises(AnswerError, match="not a number"):
        fills_of_order(broken, doc["data"][0]["taker_order_id"])
    assert fills_of_order(broken, "0x" + "1" * 64) == []  # someone else's: not ours to read


def check_trade_message_without_makers(doc: Any, raw: bytes) -> None:
    assert doc["event_type"] == "trade" and doc["maker_orders"] == []
    taker = _one_fill([doc], doc["taker_order_id"])
    assert taker.shares == Decimal(doc["size"]) and taker.price == Decimal(doc["price"])


def check_open_order(doc: Any, raw: bytes) -> None:
    row = parse_order_row(doc)
    assert row.order_id == doc["id"] and row.is_open and row.status == "LIVE"
    assert row.original_size == 100 and row.size_matched == 25 and row.price == Decimal("0.5")
    assert row.token_id == doc["asset_id"] and row.order_type == "GTC" and row.side == "BUY"
    assert parse_order_row(dict(doc, size_matched="")).size_matched == 0  # "" = none yet


def check_open_order_matched(doc: Any, raw: bytes) -> None:
    row = parse_order_row(doc)
    assert row.status == "MATCHED" and not row.is_open  # done: its fills are in the trades
    assert row.size_matched == row.original_size == 50 and row.order_type == "FOK"
    assert not parse_order_row(dict(doc, status="CANCELED_MARKET_RESOLVED")).is_open
    assert parse_order_row(dict(doc, status=None)).is_open  # unknown: never forgotten


def check_open_orders_page(doc: Any, raw: bytes) -> None:
    rows = [parse_order_row(r) for r in doc["data"]]
    assert [r.order_id for r in rows] == [r["id"] for r in doc["data"]]
    assert [r.price for r in rows] == [Decimal(r["price"]) for r in doc["data"]]
    with pytest.raises(AnswerError, match="without an id"):
        parse_order_row({k: v for k, v in doc["data"][0].items() if k != "id"})


def check_post_ok(doc: Any, raw: bytes) -> None:
    answer = parse_post_answer(doc)
    assert answer.verdict == "accepted" and answer.order_id == doc["orderID"]
    assert answer.error == "" and answer.trade_ids == ()


def check_post_refused(doc: Any, raw: bytes) -> None:
    answer = parse_post_answer(doc)
    assert answer.verdict == "refused" and answer.error == "Insufficient balance"


def check_post_error_body(doc: Any, raw: bytes) -> None:
    """The 500 body. Sent with a 2xx it would leave the order's fate unknown: looked up,
    never refused outright (it may exist) nor posted again."""
    answer = parse_post_answer(doc)
    assert answer.verdict == "unknown" and answer.error == "Internal server error"


def check_balance_collateral(doc: Any, raw: bytes) -> None:
    b = parse_balance(doc)
    assert b.balance == 1000 and b.allowances == {}  # 1e-6 units
    assert b.allowance == Decimal("999999999") and b.allows("0x" + "ab" * 20)  # older field


def check_balance_decimal_text(doc: Any, raw: bytes) -> None:
    """Synthetic: a balance written with a decimal point. Polymarket sends whole 1e-6 units;
    reading this one either way could be off by a million, so it is refused."""
    with pytest.raises(AnswerError, match="not a whole number"):
        parse_balance(doc)


def check_cancel(doc: Any, raw: bytes) -> None:
    answer = parse_cancel_answer(doc)
    assert answer.canceled == tuple(doc["canceled"])
    assert answer.not_canceled == doc["not_canceled"]
    assert all("canceled or matched" in why for why in answer.not_canceled.values())


def check_signed_order(doc: Any, raw: bytes) -> None:
    """A V2 order as the fake exchange reads a POST /order body: its EIP-712 hash is the
    order id; this fixture's signature is made up, so it must not verify as the signer."""
    typed = auth.order_typed_data(doc, 137, neg_risk=False)
    assert typed["message"]["makerAmount"] == 100_000_000 and typed["message"]["side"] == 0
    order_id = auth.order_hash(typed)
    assert re.fullmatch(r"0x[0-9a-f]{64}", order_id)
    assert order_id != auth.order_hash(auth.order_typed_data(doc, 137, neg_risk=True))
    signer = auth.recover_order_signer(typed, doc["signature"])
    assert signer is None or signer.lower() != doc["signer"].lower()


def check_positions(doc: Any, raw: bytes) -> None:
    """Data API positions: the held rows, dust (under 0.01 share) and emptied ones left out."""
    held = parse_positions(doc)
    kept = [r for r in doc if r["size"] >= 0.01]
    assert [h.token_id for h in held] == [r["asset"] for r in kept]
    for h, r in zip(held, kept, strict=True):
        assert h.market_id == r["conditionId"] and h.title == r["title"]
        assert h.shares == Decimal(str(r["size"])) and h.avg_price == Decimal(str(r["avgPrice"]))
        assert h.outcome is (Outcome.YES if r["outcomeIndex"] == 0 else Outcome.NO)
        assert h.redeemable is r["redeemable"]
        assert h.cur_price == Decimal(str(r["curPrice"]))
    assert any(h.redeemable for h in held) and any(not h.redeemable for h in held)


IN_SCOPE: dict[str, Check] = {
    "nautilus_py__http_book.json": check_http_book,
    "nautilus_py__http_event.json": check_http_event_trimmed,
    "nautilus_py__http_events_list.json": check_http_events_list_trimmed,
    "nautilus_py__http_market.json": check_clob_market_trump,
    "nautilus_py__http_market_slug.json": check_gamma_market_slug_trimmed,
    "nautilus_py__http_markets.json": check_clob_markets_page_100,
    "nautilus_py__http_markets_list.json": check_gamma_markets_list_synthetic,
    "nautilus_py__http_price_history_SYNTHETIC.json": check_price_history,
    "nautilus_py__ws_book.json": check_ws_book,
    "nautilus_py__ws_last_trade_price.json": check_ws_last_trade,
    "nautilus_py__ws_price_change.json": check_ws_price_change_flat,
    "nautilus_py__ws_price_change_v2.json": check_ws_price_changes,
    "nautilus_py__ws_tick_size_change.json": check_ws_tick,
    "nautilus_rs__clob_book_response.json": check_clob_book_synthetic,
    "nautilus_rs__clob_fee_rate_response_nonzero.json": check_fee_rate_nonzero,
    "nautilus_rs__clob_fee_rate_response_zero.json": check_fee_rate_zero,
    "nautilus_rs__clob_market_closed_binary_accepting_false.json": check_clob_closed_no_won,
    "nautilus_rs__clob_market_closed_binary_accepting_true.json": check_clob_closed_yes_won,
    "nautilus_rs__gamma_event.json": check_gamma_event_negrisk,
    "nautilus_rs__gamma_market.json": check_gamma_market_btc,
    "nautilus_rs__gamma_market_closed_binary_accepting_false.json": check_gamma_closed_no_won,
    "nautilus_rs__gamma_market_closed_binary_accepting_true.json": check_gamma_closed_yes_won,
    "nautilus_rs__gamma_market_closed_nonbinary_legacy.json": check_gamma_legacy_long_short,
    "nautilus_rs__gamma_market_closed_zero_zero_legacy.json": check_gamma_legacy_zero_zero,
    "nautilus_rs__gamma_market_sports_market_map_handicap.json": check_gamma_sports,
    "nautilus_rs__gamma_market_sports_market_money_line.json": check_gamma_sports,
    "nautilus_rs__gamma_tags.json": check_gamma_tags,
    "nautilus_rs__search_response.json": check_search,
    "nautilus_rs__ws_book_snapshot.json": check_rs_ws_book_untagged,
    "nautilus_rs__ws_last_trade.json": check_rs_ws_last_trade_untagged,
    "nautilus_rs__ws_market_best_bid_ask_msg.json": check_ws_best_bid_ask,
    "nautilus_rs__ws_market_book_msg.json": check_ws_market_book,
    "nautilus_rs__ws_market_last_trade_msg.json": check_ws_last_trade,
    "nautilus_rs__ws_market_new_market_msg.json": check_ws_new_market,
    "nautilus_rs__ws_market_price_change_msg.json": check_ws_price_changes,
    "nautilus_rs__ws_market_resolved_msg.json": check_ws_resolved,
    "nautilus_rs__ws_market_tick_size_msg.json": check_ws_tick,
    "nautilus_rs__ws_quotes.json": check_rs_ws_quotes_untagged,
    "nautilus_rs__ws_tick_size_change.json": check_rs_ws_tick_untagged,
    "wom__clob_prices_history_interval_1d.json": check_price_history_1d,
    "wom__clob_prices_history_interval_1w_fidelity5.json": check_price_history_1w_f5,
    "wom__clob_simplified_markets_page1.json": check_simplified_page,
    "wom__gamma_events_10.json": check_wom_events,
    "wom__gamma_markets_by_condition_20.json": check_wom_markets,
    "wom__gamma_markets_default_10.json": check_wom_markets,
    "wom__gamma_tags_100.json": check_wom_tags,
    # trading and account answers, through the live executor's readers
    "nautilus_py__ws_trades.json": check_trade,
    "nautilus_py__ws_user_trade1.json": check_trade_mixed_complements,
    "nautilus_py__ws_user_trade2.json": check_trade,
    "nautilus_py__ws_user_trade3.json": check_trade_maker_side,
    "nautilus_py__ws_user_trade4.json": check_trade_maker_side,
    "nautilus_rs__ws_user_trade.json": check_trade_synthetic,
    "nautilus_rs__ws_user_trade_msg.json": check_trade_message_without_makers,
    "nautilus_rs__http_trade_report.json": check_trade_fee,
    "nautilus_rs__http_trades_page.json": check_trades_page,
    "nautilus_rs__http_open_order.json": check_open_order,
    "nautilus_rs__http_open_order_sell_fok.json": check_open_order_matched,
    "nautilus_rs__http_open_orders_page.json": check_open_orders_page,
    "nautilus_rs__http_order_response_ok.json": check_post_ok,
    "nautilus_rs__http_order_response_failed.json": check_post_refused,
    "nautilus_rs__http_order_response_error_500.json": check_post_error_body,
    "nautilus_rs__http_balance_allowance_collateral.json": check_balance_collateral,
    "nautilus_rs__http_balance_allowance_no_allowance.json": check_balance_decimal_text,
    "nautilus_rs__http_cancel_response_ok.json": check_cancel,
    "nautilus_rs__http_cancel_response_failed.json": check_cancel,
    "nautilus_rs__http_batch_cancel_response.json": check_cancel,
    "nautilus_rs__http_signed_order.json": check_signed_order,
    "nautilus_rs__data_api_positions_response.json": check_positions,
}

_USER = (
    "user channel order event: the executor reads fills from /data/trades (whose items are "
    "the user channel's trade events, checked above), not from this channel; the fake's "
    "user channel is compared with these shapes in test_fake_exchange_ws"
)
_DATA_API = "Data API trades (of any wallet): not read; our fills come from the CLOB's /data/trades"
_RTDS = "RTDS (separate real-time service: crypto/equity prices): not used by this source"

OUT_OF_SCOPE: dict[str, str] = {
    "nautilus_py__http_trades.json": _DATA_API,
    "nautilus_py__ws_order_cancel.json": _USER,
    "nautilus_py__ws_order_placement.json": _USER,
    "nautilus_rs__data_api_trades_response.json": _DATA_API,
    "nautilus_rs__rtds_crypto_prices_subscribe.json": _RTDS,
    "nautilus_rs__rtds_crypto_prices_update.json": _RTDS,
    "nautilus_rs__rtds_equity_prices_subscribe.json": _RTDS,
    "nautilus_rs__rtds_equity_prices_update.json": _RTDS,
    "nautilus_rs__ws_user_order_cancellation.json": _USER,
    "nautilus_rs__ws_user_order_fok_killed.json": _USER,
    "nautilus_rs__ws_user_order_matched.json": _USER,
    "nautilus_rs__ws_user_order_msg.json": _USER,
    "nautilus_rs__ws_user_order_placement.json": _USER,
    "nautilus_rs__ws_user_order_update.json": _USER,
    "nautilus_rs__ws_user_order_venue_cancel.json": _USER,
    "wom__data_api_trades_100.json": _DATA_API,
}


def _fixture_names() -> list[str]:
    return sorted(p.name for p in FIXTURES.glob("*.json"))


def test_every_fixture_is_classified() -> None:
    names = set(_fixture_names())
    assert names, f"no fixtures found in {FIXTURES}"
    assert not set(IN_SCOPE) & set(OUT_OF_SCOPE)
    assert names - set(IN_SCOPE) - set(OUT_OF_SCOPE) == set(), "unclassified fixture files"
    assert set(IN_SCOPE) | set(OUT_OF_SCOPE) == names, "classified files that do not exist"


@pytest.mark.parametrize("name", sorted(IN_SCOPE))
def test_fixture_parses(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    IN_SCOPE[name](json.loads(raw), raw)


@pytest.mark.parametrize("name", sorted(OUT_OF_SCOPE))
def test_out_of_scope_fixture(name: str) -> None:
    """Not parsed here (reason in OUT_OF_SCOPE); user-channel events that do carry an
    `event_type` must still be ignored if they ever reach the market-channel parser."""
    assert OUT_OF_SCOPE[name]
    raw = (FIXTURES / name).read_bytes()
    doc = json.loads(raw)
    if isinstance(doc, dict) and doc.get("event_type") in ("order", "trade"):
        assert parse_ws_message(raw) == []

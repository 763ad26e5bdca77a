"""Every recorded Polymarket payload goes through the parsers (or is named out of scope).

Each fixture file is either checked by a function that parses it and asserts values read
from the JSON (plus a few known literals), or listed in OUT_OF_SCOPE with the reason. A file
in the directory that is in neither list fails `test_every_fixture_is_classified`, so new
recordings cannot be skipped silently.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
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
from engine.models import Market, Side
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

FIXTURES = Path("/work/shared/fixtures/polymarket")
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
}

_USER = "user channel (authenticated order/trade events): the live-execution part parses it"
_TRADING = "CLOB trading/account REST (L2, authenticated): the live-execution part parses it"
_DATA_API = "Data API (positions/trades of wallets): not market data; portfolio/backfill work"
_RTDS = "RTDS (separate real-time service: crypto/equity prices): not used by this source"

OUT_OF_SCOPE: dict[str, str] = {
    "nautilus_py__http_trades.json": _DATA_API,
    "nautilus_py__ws_order_cancel.json": _USER,
    "nautilus_py__ws_order_placement.json": _USER,
    "nautilus_py__ws_trades.json": _TRADING + " (a /data/trades item)",
    "nautilus_py__ws_user_trade1.json": _USER,
    "nautilus_py__ws_user_trade2.json": _USER,
    "nautilus_py__ws_user_trade3.json": _USER,
    "nautilus_py__ws_user_trade4.json": _USER,
    "nautilus_rs__data_api_positions_response.json": _DATA_API,
    "nautilus_rs__data_api_trades_response.json": _DATA_API,
    "nautilus_rs__http_balance_allowance_collateral.json": _TRADING,
    "nautilus_rs__http_balance_allowance_no_allowance.json": _TRADING,
    "nautilus_rs__http_batch_cancel_response.json": _TRADING,
    "nautilus_rs__http_cancel_response_failed.json": _TRADING,
    "nautilus_rs__http_cancel_response_ok.json": _TRADING,
    "nautilus_rs__http_open_order.json": _TRADING,
    "nautilus_rs__http_open_order_sell_fok.json": _TRADING,
    "nautilus_rs__http_open_orders_page.json": _TRADING,
    "nautilus_rs__http_order_response_error_500.json": _TRADING,
    "nautilus_rs__http_order_response_failed.json": _TRADING,
    "nautilus_rs__http_order_response_ok.json": _TRADING,
    "nautilus_rs__http_signed_order.json": _TRADING,
    "nautilus_rs__http_trade_report.json": _TRADING,
    "nautilus_rs__http_trades_page.json": _TRADING,
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
    "nautilus_rs__ws_user_trade.json": _USER,
    "nautilus_rs__ws_user_trade_msg.json": _USER,
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

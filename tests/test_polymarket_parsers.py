"""Parser behaviour beyond the recorded fixtures: edge cases, defaults, and bad input."""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
import pytest

from engine.events import BookSnapshot, MarketListed, MarketResolved, PriceChange
from engine.models import Market, Outcome, Side
from engine.sources.polymarket import (
    MarketChannelParser,
    PolymarketParseError,
    parse_book,
    parse_fee_rate,
    parse_gamma_event,
    parse_gamma_market,
    parse_gamma_markets,
    parse_midpoint,
    parse_neg_risk,
    parse_price,
    parse_prices_history,
    parse_server_time,
    parse_spread,
    parse_tick_size,
    parse_ws_message,
)
from engine.sources.polymarket.categories import categorise
from engine.sources.polymarket.fields import iso_ts
from engine.state.market_state import MarketState

YES, NO = "1" * 70, "2" * 70
CID = "0x" + "ab" * 32


def gamma(**over: Any) -> dict[str, Any]:
    """A minimal Gamma market in the live API's shape (JSON-in-JSON, numeric strings)."""
    base: dict[str, Any] = {
        "id": "101",
        "conditionId": CID,
        "question": "Will it rain?",
        "outcomes": '["Yes", "No"]',
        "clobTokenIds": json.dumps([YES, NO]),
        "outcomePrices": '["0.4", "0.6"]',
        "endDate": "2030-01-01T00:00:00Z",
        "active": True,
        "closed": False,
        "acceptingOrders": True,
        "unknownFutureField": {"nested": [1, 2]},
    }
    base.update(over)
    return base


# --- Gamma ---------------------------------------------------------------------------------


def test_minimal_market_defaults_and_extra_fields() -> None:
    m = parse_gamma_market(gamma())
    assert (m.market_id, m.yes_token, m.no_token) == (CID, YES, NO)
    assert m.end_ts == 1893456000.0
    assert math.isnan(m.created_ts)  # absent: unknown, not 1970
    assert (m.tick_size, m.min_order_size, m.fee_rate) == (0.01, 5.0, 0.0)
    assert (m.volume, m.liquidity, m.event_id, m.neg_risk) == (0.0, 0.0, None, False)
    assert m.accepting_orders and not m.resolved and m.category == "other"  # no labels


def test_lists_as_real_arrays_and_numbers_as_strings() -> None:
    m = parse_gamma_market(
        gamma(
            outcomes=["Yes", "No"],
            clobTokenIds=[YES, NO],
            volume="1234.5",
            liquidity="99.5",
            orderPriceMinTickSize="0.001",
            orderMinSize="15",
        )
    )
    assert (m.volume, m.liquidity, m.tick_size, m.min_order_size) == (1234.5, 99.5, 0.001, 15)


def test_numeric_fields_prefer_the_number_form() -> None:
    m = parse_gamma_market(gamma(volume="1.0", volumeNum=2.5, liquidity="3", liquidityNum=4))
    assert (m.volume, m.liquidity) == (2.5, 4.0)


def test_yes_token_follows_the_label_not_the_position() -> None:
    m = parse_gamma_market(gamma(outcomes='["No", "Yes"]'))
    assert (m.yes_token, m.no_token) == (NO, YES)


def test_non_binary_market_is_refused_with_the_reason() -> None:
    with pytest.raises(PolymarketParseError, match="not binary: 3 outcomes, 3 tokens"):
        parse_gamma_market(gamma(outcomes='["A","B","C"]', clobTokenIds='["1","2","3"]'))


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"clobTokenIds": '["1", '}, "clobTokenIds"),
        ({"clobTokenIds": '{"a": 1}'}, "clobTokenIds"),
        ({"clobTokenIds": json.dumps([YES, ""])}, "clobTokenIds[1]"),
        ({"endDate": "next tuesday"}, "endDate"),
        ({"volume": "lots"}, "volume"),
        ({"outcomePrices": '["1.5", "-0.5"]'}, "outcomePrices[0]"),
        ({"active": "maybe"}, "active"),
        ({"orderPriceMinTickSize": 2}, "orderPriceMinTickSize"),
        ({"conditionId": None}, "conditionId"),
        ({"outcomes": None}, "outcomes"),
    ],
)
def test_bad_fields_raise_one_error_naming_the_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(PolymarketParseError) as exc:
        parse_gamma_market(gamma(**over))
    assert isinstance(exc.value, ValueError)
    assert exc.value.field is not None and exc.value.field.endswith(field)
    assert field in str(exc.value)


def test_not_an_object() -> None:
    with pytest.raises(PolymarketParseError, match="expected a JSON object"):
        parse_gamma_market(["not", "a", "market"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("over", "payout"),
    [
        ({"closed": True, "outcomePrices": '["1", "0"]'}, 1.0),
        ({"closed": True, "outcomePrices": '["0", "1"]', "umaResolutionStatus": "resolved"}, 0.0),
        ({"closed": True, "outcomePrices": '["1", "0"]', "umaResolutionStatus": "proposed"}, None),
        ({"closed": True, "outcomePrices": '["1", "0"]', "umaResolutionStatus": "disputed"}, None),
        (
            {"closed": True, "outcomePrices": '["0.5", "0.5"]', "umaResolutionStatus": "resolved"},
            0.5,
        ),
        ({"closed": True, "outcomePrices": '["0.5", "0.5"]'}, None),  # last trade, not final
        ({"closed": True, "outcomePrices": '["0.97", "0.03"]'}, None),
        ({"closed": True, "outcomePrices": '["0", "0"]'}, None),  # void legacy market
        ({"closed": False, "outcomePrices": '["1", "0"]'}, None),
        ({"closed": True, "outcomes": '["No", "Yes"]', "outcomePrices": '["1", "0"]'}, 0.0),
    ],
)
def test_resolution_semantics(over: dict[str, Any], payout: float | None) -> None:
    m = parse_gamma_market(gamma(**over))
    assert m.payout_yes == payout and m.resolved == (payout is not None)
    if over["closed"]:
        assert not m.accepting_orders


def test_not_accepting_when_closed_archived_or_without_order_book() -> None:
    assert not parse_gamma_market(gamma(acceptingOrders=False)).accepting_orders
    assert not parse_gamma_market(gamma(archived=True)).accepting_orders
    assert not parse_gamma_market(gamma(enableOrderBook=False)).accepting_orders
    assert not parse_gamma_market(gamma(active=False)).accepting_orders


def test_fee_rate_mapping() -> None:
    crypto = {"events": [{"id": "9", "tags": [{"slug": "bitcoin", "label": "Bitcoin"}]}]}
    assert parse_gamma_market(gamma(**crypto)).fee_rate == 0.0  # fees not enabled
    m = parse_gamma_market(gamma(feesEnabled=True, **crypto))
    assert (m.category, m.fee_rate) == ("crypto", 0.072)
    m = parse_gamma_market(gamma(feesEnabled=True, feeType="sports_fees_v2"))
    assert (m.category, m.fee_rate) == ("sports", 0.03)
    m = parse_gamma_market(gamma(feesEnabled=True, feeSchedule={"rate": 0.025, "exponent": 1}))
    assert m.fee_rate == 0.025
    # takerBaseFee is basis points of the V1 order field, not the formula's rate.
    assert parse_gamma_market(gamma(takerBaseFee=1000)).fee_rate == 0.0


def test_event_id_sources() -> None:
    ev = {"events": [{"id": "77"}]}
    assert parse_gamma_market(gamma(**ev)).event_id is None  # stand-alone market
    assert parse_gamma_market(gamma(groupItemTitle="May", **ev)).event_id == "77"
    assert parse_gamma_market(gamma(negRiskMarketID="0xnr", negRisk=True, **ev)).event_id == "0xnr"
    m2 = gamma(conditionId="0x" + "cd" * 32, clobTokenIds=json.dumps(["3" * 70, "4" * 70]))
    event = parse_gamma_event({"id": "55", "title": "Who wins?", "markets": [gamma(), m2]})
    assert [m.event_id for m in event.markets] == ["55", "55"]


def test_listing_skips_with_reasons_and_accepts_a_data_wrapper() -> None:
    bad = gamma(conditionId="0x" + "ee" * 32, outcomes='["A","B","C"]')
    markets, skipped = parse_gamma_markets({"data": [gamma(), bad, "junk"]})
    assert [m.market_id for m in markets] == [CID]
    assert [s.market_id for s in skipped] == [bad["conditionId"], "#2"]
    assert "not binary" in skipped[0].reason and "JSON object" in skipped[1].reason


def test_categorise() -> None:
    assert categorise(["US-current-affairs"]) == "politics"
    assert categorise(["Pop-Culture "]) == "culture"
    assert categorise(["ukraine", "politics"]) == "geopolitics"
    assert categorise(["bitcoin", "politics"]) == "crypto"
    assert categorise(["nfl-week-7"]) == "sports"
    assert categorise(["btc-up-or-down-5m"]) == "crypto"
    assert categorise(["all", ""]) == "other"


def test_closed_time_format_is_read() -> None:
    assert iso_ts("2026-05-09 02:07:01+00", "closedTime") == 1778292421.0
    assert iso_ts("2026-03-12", "endDateIso") == 1773273600.0


# --- CLOB REST -----------------------------------------------------------------------------


def test_small_clob_responses() -> None:
    assert parse_tick_size({"minimum_tick_size": 0.01}) == 0.01
    assert parse_tick_size({"minimum_tick_size": "0.1"}) == 0.1
    assert parse_neg_risk({"neg_risk": True}) is True
    assert parse_fee_rate({"base_fee": 0}) == 0 and parse_fee_rate({"base_fee": "150"}) == 150
    assert parse_price({"price": "0.5"}) == 0.5
    assert parse_midpoint({"mid": "0.455"}) == 0.455
    assert parse_spread({"spread": "0.02"}) == 0.02
    assert parse_server_time(1764612536) == 1764612536.0


@pytest.mark.parametrize(
    ("fn", "payload", "field"),
    [
        (parse_tick_size, {"minimum_tick_size": 0}, "minimum_tick_size"),
        (parse_tick_size, {}, "minimum_tick_size"),
        (parse_fee_rate, {"base_fee": "1.5"}, "base_fee"),
        (parse_price, {"price": "1.2"}, "price"),
        (parse_midpoint, {"mid": None}, "mid"),
        (parse_neg_risk, {"neg_risk": "yes"}, "neg_risk"),
        (parse_server_time, "soon", "time"),
    ],
)
def test_small_clob_responses_reject_bad_values(fn: Any, payload: Any, field: str) -> None:
    with pytest.raises(PolymarketParseError, match=field):
        fn(payload)


def test_prices_history_sorted_and_validated() -> None:
    h = parse_prices_history({"history": [{"t": 20, "p": 0.2}, {"t": 10, "p": "0.1"}]}, "tok")
    assert h.token_id == "tok" and h.ts.tolist() == [10, 20] and h.price.tolist() == [0.1, 0.2]
    assert parse_prices_history({"history": []}).ts.size == 0
    with pytest.raises(PolymarketParseError, match=r"history\[1\]\.p"):
        parse_prices_history({"history": [{"t": 1, "p": 0.5}, {"t": 2, "p": "x"}]})
    with pytest.raises(PolymarketParseError, match="history: missing"):
        parse_prices_history({"error": "interval is too long"})


def test_book_levels_normalised_best_first() -> None:
    book = {
        "asset_id": YES,
        "timestamp": "1700000000123",
        "bids": [
            {"price": "0.3", "size": "1"},
            {"price": "0.1", "size": "3"},
            {"price": "0.2", "size": "0"},
            {"price": "0.25", "size": "2"},
        ],
        "asks": [{"price": "0.9", "size": "5"}, {"price": "0.7", "size": "4"}],
        "min_order_size": "5",
        "tick_size": "0.01",
        "neg_risk": False,
        "last_trade_price": "",
    }
    b = parse_book(book)
    assert b.ts == 1700000000.123
    assert b.bid_px.tolist() == [0.3, 0.25, 0.1] and b.bid_sz.tolist() == [1, 2, 3]
    assert b.ask_px.tolist() == [0.7, 0.9] and b.ask_sz.tolist() == [4, 5]
    empty = parse_book({"asset_id": YES, "timestamp": "1", "bids": [], "asks": []})
    assert empty.bid_px.size == 0 and empty.ask_px.size == 0


def test_book_errors_name_the_field() -> None:
    with pytest.raises(PolymarketParseError, match="asset_id"):
        parse_book({"timestamp": "1", "bids": [], "asks": []})
    with pytest.raises(PolymarketParseError) as exc:
        parse_book({"asset_id": YES, "timestamp": "1", "bids": [{"price": "x", "size": "1"}]})
    assert exc.value.field == "book.bids[0].price"


# --- market channel ------------------------------------------------------------------------


def ws_book(asset: str = YES, ts: int = 1_757_908_892_000, **over: Any) -> dict[str, Any]:
    msg = {
        "event_type": "book",
        "asset_id": asset,
        "market": CID,
        "bids": [{"price": "0.48", "size": "30"}, {"price": "0.49", "size": "20"}],
        "asks": [{"price": "0.53", "size": "60"}, {"price": "0.52", "size": "25"}],
        "timestamp": str(ts),
        "hash": "abc",
    }
    msg.update(over)
    return msg


def change(asset: str, price: str, side: str, size: str | None, ts: int) -> dict[str, Any]:
    entry = {"asset_id": asset, "price": price, "side": side, "hash": "h"}
    if size is not None:
        entry["size"] = size
    return {
        "event_type": "price_change",
        "market": CID,
        "timestamp": str(ts),
        "price_changes": [entry],
    }


def test_array_frames_and_pong() -> None:
    events = parse_ws_message(json.dumps([ws_book(YES), ws_book(NO)]))
    assert [e.asset_id for e in events if isinstance(e, BookSnapshot)] == [YES, NO]
    assert parse_ws_message("PONG") == [] and parse_ws_message(b"PONG") == []


def test_current_price_change_groups_by_asset_in_order() -> None:
    msg = {
        "event_type": "price_change",
        "market": CID,
        "timestamp": "1757908892351",
        "price_changes": [
            {"asset_id": YES, "price": "0.5", "size": "200", "side": "BUY", "best_bid": "0.5"},
            {"asset_id": NO, "price": "0.5", "size": "200", "side": "SELL"},
            {"asset_id": YES, "price": "0.4", "size": "0", "side": "BUY"},
            {"asset_id": YES, "price": "0.45", "side": "BUY"},  # no size: no book change
        ],
    }
    a, b = parse_ws_message(json.dumps(msg))
    assert isinstance(a, PriceChange) and isinstance(b, PriceChange)
    assert a.asset_id == YES and [(c.price, c.size) for c in a.changes] == [(0.5, 200), (0.4, 0)]
    assert b.asset_id == NO and b.changes[0].side is Side.SELL
    assert a.ts == b.ts == 1757908892.351


def test_legacy_changes_layout() -> None:
    msg = {
        "event_type": "price_change",
        "asset_id": YES,
        "market": CID,
        "timestamp": "1729084877448",
        "hash": "x",
        "changes": [
            {"price": "0.4", "side": "SELL", "size": "3300"},
            {"price": "0.41", "side": "BUY", "size": "0"},
        ],
    }
    (pc,) = parse_ws_message(json.dumps(msg))
    assert isinstance(pc, PriceChange)
    assert [(c.side, c.price, c.size) for c in pc.changes] == [
        (Side.SELL, 0.4, 3300.0),
        (Side.BUY, 0.41, 0.0),
    ]


def test_docs_style_numbers_are_accepted() -> None:
    (b,) = parse_ws_message(json.dumps(ws_book(bids=[{"price": ".48", "size": "30"}])))
    assert isinstance(b, BookSnapshot) and b.bid_px.tolist() == [0.48]


def test_unknown_event_types_are_ignored_and_known_ones_kept() -> None:
    frame = [{"event_type": "shiny_new_feature", "x": 1}, ws_book()]
    (b,) = parse_ws_message(json.dumps(frame))
    assert isinstance(b, BookSnapshot)
    assert parse_ws_message(json.dumps({"event_type": "order", "id": "0x1"})) == []


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ('{"event_type": "book", "asset_id": "1", "bids": [', "not valid JSON"),
        ("", "not valid JSON"),
        ("PING?", "not valid JSON"),
        ('"just a string"', "expected a JSON object"),
        ('{"asset_id": "1"}', "event_type: missing"),
        (json.dumps(change(YES, "1.5", "BUY", "1", 1)), r"price_changes\[0\]\.price"),
        (json.dumps(change(YES, "0.5", "HOLD", "1", 1)), r"price_changes\[0\]\.side"),
        (json.dumps(change(YES, "0.5", "BUY", "-3", 1)), r"price_changes\[0\]\.size"),
        (json.dumps({**ws_book(), "timestamp": None}), "timestamp"),
        (json.dumps({k: v for k, v in ws_book().items() if k != "timestamp"}), "timestamp"),
        ('{"event_type": "price_change", "timestamp": "1"}', "price_change"),
        (
            '{"event_type": "tick_size_change", "asset_id": "1", "timestamp": "1",'
            ' "new_tick_size": "0"}',
            "new_tick_size",
        ),
        (
            '{"event_type": "last_trade_price", "asset_id": "1", "timestamp": "1",'
            ' "price": "0.5", "side": "BUY"}',
            "size",
        ),
    ],
)
def test_malformed_frames_raise(raw: str, match: str) -> None:
    with pytest.raises(PolymarketParseError, match=match):
        parse_ws_message(raw)


def test_one_bad_event_does_not_cost_the_rest_of_the_frame() -> None:
    frame = json.dumps([ws_book(YES), {**ws_book(NO), "bids": "oops"}, ws_book("3" * 70)])
    events, errors = MarketChannelParser().parse(frame)
    assert [e.asset_id for e in events if isinstance(e, BookSnapshot)] == [YES, "3" * 70]
    assert len(errors) == 1 and errors[0].field == "frame[1].bids"
    with pytest.raises(PolymarketParseError):
        parse_ws_message(frame)


def test_market_resolved_uses_the_known_yes_token() -> None:
    msg = {
        "event_type": "market_resolved",
        "market": CID,
        "assets_ids": [YES, NO],
        "winning_asset_id": NO,
        "winning_outcome": "No",
        "timestamp": "1766790415550",
    }
    (r,) = parse_ws_message(json.dumps(msg))
    assert isinstance(r, MarketResolved) and r.payout_yes == 0.0
    flipped = Market(CID, "q", "other", yes_token=NO, no_token=YES, created_ts=0, end_ts=1)
    (r,) = parse_ws_message(json.dumps(msg), known={CID: flipped})
    assert isinstance(r, MarketResolved) and r.payout_yes == 1.0
    with pytest.raises(PolymarketParseError, match="winning_asset_id"):
        parse_ws_message(json.dumps({**msg, "winning_asset_id": "9"}))


def test_new_market_only_when_binary() -> None:
    msg = {
        "event_type": "new_market",
        "market": CID,
        "question": "q?",
        "assets_ids": [YES, NO],
        "outcomes": ["Yes", "No"],
        "timestamp": "1000",
        "tags": ["nba"],
        "order_price_min_tick_size": "0.001",
    }
    (ev,) = parse_ws_message(json.dumps(msg))
    assert isinstance(ev, MarketListed)
    assert ev.market.tick_size == 0.001 and ev.market.category == "sports"
    three = {**msg, "assets_ids": [YES, NO, "3"], "outcomes": ["a", "b", "c"]}
    assert parse_ws_message(json.dumps(three)) == []


def test_events_fold_into_market_state_with_no_book_mirrored() -> None:
    """End to end on the engine's own state: snapshot, then deltas, for YES and NO tokens."""
    st = MarketState(depth=4)
    st.add_market(Market(CID, "q", "other", YES, NO, created_ts=0, end_ts=1))
    frames = [
        json.dumps([ws_book(YES, ts=1000)]),
        json.dumps(change(YES, "0.50", "BUY", "10", 1001)),  # new best bid
        json.dumps(change(YES, "0.52", "SELL", "0", 1002)),  # best ask removed
        json.dumps(change(NO, "0.45", "BUY", "7", 1003)),  # NO bid 0.45 = YES ask 0.55
    ]
    res = st.apply([e for f in frames for e in parse_ws_message(f)])
    assert not res.errors
    px, sz = st.ladder(CID, Outcome.YES, Side.SELL)
    assert px[:3] == [0.50, 0.49, 0.48] and sz[:3] == [10, 20, 30]
    px, sz = st.ladder(CID, Outcome.YES, Side.BUY)
    assert px[:2] == [0.53, pytest.approx(0.55)] and sz[:2] == [60, 7]
    assert st.book_ts[0] == 1.003


def _sent_order(msg: dict[str, Any]) -> bytes:
    """A frame with `event_type` last, as Polymarket sends `price_change`."""
    rest = {k: v for k, v in msg.items() if k != "event_type"}
    return json.dumps({**rest, "event_type": msg["event_type"]}, separators=(",", ":")).encode()


def test_price_change_frames_decode_as_through_the_union() -> None:
    """The dedicated `price_change` decoder gives what the tagged union gives, and refuses
    every other frame (which then goes through the union)."""
    from engine.sources.polymarket.wire import (
        FRAME_DECODER,
        PRICE_CHANGE_DECODER,
        WirePriceChange,
        decode_frame,
    )

    legacy = {
        "event_type": "price_change",
        "asset_id": YES,
        "timestamp": "1001",
        "changes": [{"price": "0.48", "side": "BUY", "size": "0"}],
    }
    flat = {**legacy, "changes": None, "price": "0.6", "side": "SELL", "size": "1"}
    current = change(YES, "0.5", "BUY", "12.5", 1002)
    current["price_changes"].append({"asset_id": NO, "price": "0.5", "side": "SELL"})
    for msg in (current, legacy, flat):
        for raw in (_sent_order(msg), json.dumps(msg).encode()):
            fast, union = PRICE_CHANGE_DECODER.decode(raw), FRAME_DECODER.decode(raw)
            assert isinstance(union, WirePriceChange)
            fields = union.__struct_fields__
            assert [getattr(fast, f) for f in fields] == [getattr(union, f) for f in fields]
            (decoded,), errors = decode_frame(raw)
            assert decoded == fast and not errors
    others = [
        json.dumps(ws_book()),
        json.dumps([current]),
        json.dumps({**current, "event_type": "book"}),
        json.dumps({k: v for k, v in current.items() if k != "event_type"}),
        "PONG",
    ]
    for frame in others:
        with pytest.raises(msgspec.DecodeError):
            PRICE_CHANGE_DECODER.decode(frame)

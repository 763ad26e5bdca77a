"""Full-depth L2 books (`l2.L2Books`): the fast path, its price grids, and its agreement
with the general decoders that the engine path uses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.sources.polymarket import L2Books, PolymarketParseError, parse_ws_message
from engine.sources.polymarket.wire import decode_frame
from tests.test_polymarket_parsers import NO, YES, _sent_order, change, ws_book


def test_fast_path_builds_the_same_books() -> None:
    frames = [
        json.dumps([ws_book(YES, ts=1000), ws_book(NO, ts=1000)]),
        json.dumps(change(YES, "0.50", "BUY", "10", 1001)),
        json.dumps(change(YES, "0.49", "BUY", "0", 1002)),
        json.dumps(change(YES, "0.47", "BUY", "99", 999)),  # older than the snapshot: stale
        json.dumps(change(NO, ".44", "SELL", "5", 1003)),  # lenient path (docs-style number)
        "PONG",
    ]
    books = L2Books()
    for f in frames:
        assert not books.ingest(f)  # no errors
    yes = books[YES]
    assert yes.bids == {0.48: 30.0, 0.50: 10.0} and yes.best_bid() == 0.5
    assert yes.best_ask() == 0.52 and yes.ts_ms == 1000
    assert books[NO].asks == {0.44: 5.0, 0.52: 25.0, 0.53: 60.0}
    bp, bs, ap, az = yes.top(1)
    assert bp.tolist() == [0.5] and ap.tolist() == [0.52]
    assert bs.tolist() == [10.0] and az.tolist() == [25.0]
    errors = books.ingest(json.dumps([ws_book("9" * 70), {**ws_book(YES), "asks": 3}]))
    assert len(errors) == 1 and books.get("9" * 70) is not None  # good part kept


def test_a_change_is_judged_stale_against_its_own_book_only() -> None:
    """Snapshots through the fast decoder, then changes older than one book's snapshot but
    not the other's: only the change older than its own book is dropped."""
    books = L2Books()
    assert not books.ingest(json.dumps(ws_book(YES, ts=1000)))
    assert not books.ingest(json.dumps(ws_book(NO, ts=2000)))
    for frame in (
        change(YES, "0.47", "BUY", "7", 1500),  # older than NO's snapshot, not YES's
        change(YES, "0.46", "BUY", "9", 999),  # older than YES's: stale
        change(NO, "0.47", "BUY", "8", 1999),  # older than NO's: stale
        change(NO, "0.46", "BUY", "6", 2000),  # as new as NO's: applied
    ):
        assert not books.ingest(json.dumps(frame))
    assert books[YES].bids == {0.47: 7.0, 0.48: 30.0, 0.49: 20.0}
    assert books[NO].bids == {0.46: 6.0, 0.48: 30.0, 0.49: 20.0}


def test_fast_path_legacy_layouts() -> None:
    books = L2Books()
    books.ingest(json.dumps(ws_book(YES, ts=1000)))
    legacy = {
        "event_type": "price_change",
        "asset_id": YES,
        "timestamp": "1001",
        "changes": [{"price": "0.48", "side": "BUY", "size": "0"}],
    }
    flat = {
        "event_type": "price_change",
        "asset_id": YES,
        "timestamp": "1002",
        "price": "0.6",
        "side": "SELL",
        "size": "1",
    }
    assert not books.ingest(json.dumps(legacy)) and not books.ingest(json.dumps(flat))
    assert books[YES].bids == {0.49: 20.0} and books[YES].asks[0.6] == 1.0


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"price": "1.5"}, "price_changes[1].price"),
        ({"price": "-0.1"}, "price_changes[1].price"),
        ({"size": "-3"}, "price_changes[1].size"),
        ({"size": "nan"}, "price_changes[1].size"),
        ({"side": "HOLD"}, "price_changes[1].side"),
        ({"asset_id": 7.5}, "price_changes[1].asset_id"),
    ],
)
def test_fast_path_rejects_a_bad_price_change_whole(bad: dict[str, Any], field: str) -> None:
    """One bad entry: the event is reported, and none of its entries reaches the books."""
    books = L2Books()
    books.ingest(json.dumps(ws_book(YES, ts=1000)))
    before = (dict(books[YES].bids), dict(books[YES].asks))
    msg = change(YES, "0.5", "BUY", "10", 1001)
    msg["price_changes"].append({**msg["price_changes"][0], "price": "0.51", **bad})
    errors = books.ingest(_sent_order(msg))
    assert len(errors) == 1 and isinstance(errors[0], PolymarketParseError)
    assert errors[0].field == f"frame.{field}"
    assert (books[YES].bids, books[YES].asks) == before
    with pytest.raises(PolymarketParseError):
        parse_ws_message(_sent_order(msg))


def test_fast_path_routes_unusual_price_change_frames_as_the_union_does() -> None:
    books = L2Books()
    books.ingest(json.dumps(ws_book(YES, ts=1000)))
    before = dict(books[YES].bids)
    good = change(YES, "0.5", "BUY", "10", 1001)
    unknown = {**good, "event_type": "price_change_v2"}  # an unknown type: skipped
    assert not books.ingest(_sent_order(unknown)) and books[YES].bids == before
    bad_top = {**good, "price": "2"}  # a bad legacy field beside price_changes: refused
    assert len(books.ingest(_sent_order(bad_top))) == 1 and books[YES].bids == before
    assert not books.ingest(_sent_order(good)) and books[YES].bids == {**before, 0.5: 10.0}


def test_a_finer_price_moves_the_book_to_a_finer_grid_keeping_its_levels() -> None:
    books = L2Books()
    books.ingest(json.dumps(ws_book(YES, ts=1000)))
    yes = books[YES]
    assert yes.scale == 100
    books.ingest(_sent_order(change(YES, "0.505", "BUY", "7", 1001)))  # a 0.001 price
    assert yes.scale == 1_000
    assert yes.bids == {0.48: 30.0, 0.49: 20.0, 0.505: 7.0} and yes.best_bid() == 0.505
    # not in the text table (0.0001 grid): refused by the fast decoder, parsed as a float
    assert not books.ingest(_sent_order(change(YES, "0.5205", "SELL", "3", 1002)))
    assert yes.scale == 10_000
    assert yes.asks == {0.52: 25.0, 0.5205: 3.0, 0.53: 60.0}
    bp, bs, ap, az = yes.top(2)
    assert bp.tolist() == [0.505, 0.49] and bs.tolist() == [7.0, 20.0]
    assert ap.tolist() == [0.52, 0.5205] and az.tolist() == [25.0, 3.0]
    books.ingest(json.dumps(ws_book(YES, ts=1003)))  # a snapshot: never back to a coarser grid
    assert yes.scale == 10_000 and yes.bids == {0.48: 30.0, 0.49: 20.0}


def test_a_snapshot_on_a_finer_grid_than_the_book() -> None:
    books = L2Books()
    books.ingest(json.dumps(ws_book(YES, ts=1000)))
    levels = [{"price": "0.481", "size": "5"}, {"price": "0.49", "size": "20"}]
    books.ingest(json.dumps(ws_book(YES, ts=1001, bids=levels)))
    assert books[YES].scale == 1_000 and books[YES].bids == {0.481: 5.0, 0.49: 20.0}
    assert books[YES].asks == {0.52: 25.0, 0.53: 60.0}


def test_a_price_off_the_finest_grid_is_reported_and_the_rest_applied() -> None:
    books = L2Books()
    books.ingest(json.dumps(ws_book(YES, ts=1000)))
    msg = change(YES, "0.12345", "BUY", "5", 1001)
    msg["price_changes"].append({"asset_id": YES, "price": "0.47", "side": "BUY", "size": "4"})
    errors = books.ingest(_sent_order(msg))
    assert len(errors) == 1 and "0.0001 grid" in str(errors[0])
    assert books[YES].bids == {0.47: 4.0, 0.48: 30.0, 0.49: 20.0}


def test_an_entry_without_size_is_skipped_and_its_frame_still_applied() -> None:
    books = L2Books()
    books.ingest(json.dumps(ws_book(YES, ts=1000)))
    msg = change(YES, "0.49", "BUY", None, 1001)  # no size: no information
    msg["price_changes"].append({"asset_id": YES, "price": "0.47", "side": "BUY", "size": "4"})
    assert not books.ingest(_sent_order(msg))
    assert books[YES].bids == {0.47: 4.0, 0.48: 30.0, 0.49: 20.0}


def test_a_change_for_a_new_token_mid_frame_applies_every_entry_once() -> None:
    """The fast loop meets an unknown token after applying earlier entries, and reruns."""
    books = L2Books()
    books.ingest(json.dumps(ws_book(YES, ts=1000)))
    msg = change(YES, "0.49", "BUY", "0", 1001)
    msg["price_changes"] += [
        {"asset_id": NO, "price": "0.6", "side": "SELL", "size": "9"},
        {"asset_id": YES, "price": "0.47", "side": "BUY", "size": "4"},
    ]
    assert not books.ingest(_sent_order(msg))
    assert books[YES].bids == {0.47: 4.0, 0.48: 30.0} and books[NO].asks == {0.6: 9.0}


def test_a_book_with_extra_keys_takes_the_general_path_to_the_same_book() -> None:
    books = L2Books()
    extra = {**ws_book(YES, ts=1000), "last_trade_price": "0.5"}
    assert not books.ingest(json.dumps(extra))
    assert books[YES].bids == {0.48: 30.0, 0.49: 20.0}


_PRICES = ["0", "1", "0.5", "0.50", "0.5000", "0.51", "0.505", "0.5005", ".49", "0.12345", "2"]
_SIZES = ["0", "10", "12.5", "0.000001", "-1", "nan"]


_EXTRA_TOP_KEYS = [
    ("asset_id", YES),
    ("changes", []),
    ("changes", [{"price": "0.5", "side": "BUY", "size": "1"}]),
    ("price", "0.5"),
    ("price", "2"),
    ("side", "HOLD"),
    ("size", "-1"),
    ("fee_rate_bps", "0"),
]


@st.composite
def _frames(draw: st.DrawFn) -> str:
    """Frames of every shape the two paths split between them, good and bad."""
    ts = str(draw(st.integers(990, 1010)))
    asset = draw(st.sampled_from([YES, NO, "3" * 70]))
    level = st.fixed_dictionaries(
        {"price": st.sampled_from(_PRICES), "size": st.sampled_from(_SIZES)}
    )
    kind = draw(st.sampled_from(["change", "change", "change", "book", "legacy", "list"]))
    if kind == "book":
        msg: Any = ws_book(asset, int(ts), bids=draw(st.lists(level, max_size=4)))
        msg["asks"] = draw(st.lists(level, max_size=4))
        if draw(st.booleans()):
            msg["last_trade_price"] = "0.5"
    elif kind == "legacy":
        msg = {"event_type": "price_change", "asset_id": asset, "timestamp": ts}
        msg["changes"] = [{**lv, "side": "BUY"} for lv in draw(st.lists(level, max_size=3))]
    else:
        entry = st.fixed_dictionaries(
            {
                "asset_id": st.sampled_from([YES, NO, "3" * 70]),
                "price": st.sampled_from(_PRICES),
                "side": st.sampled_from(["BUY", "SELL"]),
            },
            optional={"size": st.sampled_from(_SIZES)},
        )
        msg = {"market": "0xab", "price_changes": draw(st.lists(entry, min_size=1, max_size=4))}
        msg.update(timestamp=ts, event_type="price_change")
        extra = draw(st.sampled_from([None, None, *_EXTRA_TOP_KEYS]))
        if extra is not None:  # legacy keys beside `price_changes`, good and bad; new keys
            msg[extra[0]] = extra[1]
        if kind == "list":
            msg = [msg, ws_book(asset, int(ts))]
    return json.dumps(msg)


@settings(max_examples=150, deadline=None)
@given(st.lists(_frames(), min_size=1, max_size=12))
def test_fast_path_builds_what_the_general_decoders_build(frames: list[str]) -> None:
    """`ingest` (own decoders, general fallback) against `decode_frame` + `apply`: the same
    books and as many errors, frame after frame, whatever the frames."""
    fast, general = L2Books(), L2Books()
    for raw in frames:
        errors = fast.ingest(raw)
        items, decode_errors = decode_frame(raw)
        apply_errors = general.apply(items)
        assert len(errors) == len(decode_errors) + len(apply_errors)
        assert fast.books.keys() == general.books.keys()
        for token, book in fast.books.items():
            other = general.books[token]
            assert (book.bids, book.asks, book.ts_ms) == (other.bids, other.asks, other.ts_ms)

"""The market channel's wire format as typed structs, and its general decoders.

The engine path (`parse_ws.parse_ws_message` → `SourceEvent`s) decodes with
`PRICE_CHANGE_DECODER` for the dominant frame, then the tagged union `FRAME_DECODER`, then
the lenient path. The full-depth fast path (`l2.L2Books`, measured by `bench/ingest.py`)
first tries decoders of its own that read prices as text, built from these structs'
fields, and hands every frame they refuse to `decode_other_frame`, so it falls back onto
exactly these steps.

Why msgspec: the stdlib json builds dicts of strings that we would then walk and convert in
Python (~3.4 µs for a two-entry `price_change`); msgspec decodes straight into these structs,
converting Polymarket's numeric strings to floats and checking ranges in C (~0.8 µs). Its lax
mode (`strict=False`) is what turns `"0.5"` into 0.5.

Frames the fast decoder rejects (an unknown `event_type`, a docs-style `".48"` price, one
malformed event inside an array) go through `_decode_leniently`, which keeps every good event,
skips unknown event types, and reports each malformed event as a `PolymarketParseError`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Annotated, Any, Literal, TypeAlias

import msgspec
import numpy as np

from engine.events import BookSnapshot, FloatArray
from engine.input_bounds import MAX_MAGNITUDE, OutOfBounds, bounded_float, decode_json, shown
from engine.models import Side
from engine.sources.polymarket.errors import PolymarketParseError

# Bounded like every number read from outside (`engine.input_bounds`): a size or timestamp
# of 400 digits is refused here, where it would otherwise overflow a float conversion later.
Price = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Size = Annotated[float, msgspec.Meta(ge=0.0, le=MAX_MAGNITUDE)]
Tick = Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)]
Millis = Annotated[int, msgspec.Meta(ge=0, le=int(MAX_MAGNITUDE))]

# gc=False: these structs never form reference cycles, and skipping GC tracking of millions
# of short-lived objects is a measurable share of decode time.


class WireLevel(msgspec.Struct, gc=False):
    price: Price
    size: Size


class WireBook(msgspec.Struct, tag_field="event_type", tag="book", gc=False):
    """`book` (WS) and the `GET /book` / `POST /books` summary (REST: same keys, no tag)."""

    asset_id: str
    timestamp: Millis
    market: str = ""
    bids: list[WireLevel] | None = None
    asks: list[WireLevel] | None = None
    buys: list[WireLevel] | None = None  # legacy names of bids/asks [OLDDOC]
    sells: list[WireLevel] | None = None
    hash: str = ""


class WireChangeEntry(msgspec.Struct, gc=False, kw_only=True):
    """One level of a current-format `price_change` (since 2025-09-15).

    Fields in the order Polymarket sends them (msgspec tries the next field first: ~3 % of a
    frame's decode); keyword-only so that `side` may follow the optional `size`.
    """

    asset_id: str
    price: Price
    size: Size | None = None  # new total at the level; absent: no size information
    side: Side


class WireLegacyChange(msgspec.Struct, gc=False):
    price: Price
    side: Side
    size: Size | None = None


class WirePriceChange(msgspec.Struct, tag_field="event_type", tag="price_change", gc=False):
    """All three layouts: `price_changes[]` (current), `changes[]` with a top-level
    `asset_id` (until 2025-09-15), and one flat level at the top (2024 captures)."""

    timestamp: Millis
    market: str = ""
    price_changes: list[WireChangeEntry] | None = None
    asset_id: str = ""
    changes: list[WireLegacyChange] | None = None
    price: Price | None = None
    side: Side | None = None
    size: Size | None = None


class WirePriceChangeFrame(WirePriceChange, tag=False, kw_only=True):
    """A `price_change` frame decoded on its own, not through the tagged union.

    Polymarket puts `event_type` last, so the union has to scan the whole frame for the tag
    before decoding it (~0.3 µs of a ~0.9 µs decode). Here the tag is an ordinary field,
    checked where it stands. Same fields and types as `WirePriceChange` (it is one), so a
    frame this accepts decodes to the same values as through the union.
    """

    event_type: Literal["price_change"]


class WireTrade(msgspec.Struct, tag_field="event_type", tag="last_trade_price", gc=False):
    asset_id: str
    price: Price
    size: Size
    side: Side
    timestamp: Millis
    market: str = ""


class WireTickSize(msgspec.Struct, tag_field="event_type", tag="tick_size_change", gc=False):
    asset_id: str
    new_tick_size: Tick
    timestamp: Millis
    old_tick_size: Tick | None = None
    market: str = ""


class WireBestBidAsk(msgspec.Struct, tag_field="event_type", tag="best_bid_ask", gc=False):
    """Top-of-book summary (custom feature). Carries no level sizes, so it changes no book."""

    asset_id: str = ""
    market: str = ""


class WireEventInfo(msgspec.Struct, gc=False):
    id: str = ""
    slug: str = ""
    title: str = ""


class WireNewMarket(msgspec.Struct, tag_field="event_type", tag="new_market", gc=False):
    """`new_market` (custom feature). Lists are real JSON arrays here, not JSON text."""

    timestamp: Millis
    market: str = ""
    condition_id: str = ""
    id: str = ""
    question: str = ""
    description: str = ""
    slug: str = ""
    assets_ids: list[str] = []
    clob_token_ids: list[str] | None = None
    outcomes: list[str] = []
    tags: list[str] = []
    active: bool = True
    order_price_min_tick_size: str | float = ""
    group_item_title: str = ""
    event_message: WireEventInfo | None = None


class WireMarketResolved(msgspec.Struct, tag_field="event_type", tag="market_resolved", gc=False):
    winning_asset_id: str
    timestamp: Millis
    market: str = ""
    condition_id: str = ""
    assets_ids: list[str] = []
    outcomes: list[str] = []
    winning_outcome: str = ""


WireMessage: TypeAlias = (
    WireBook
    | WirePriceChange
    | WireTrade
    | WireTickSize
    | WireBestBidAsk
    | WireNewMarket
    | WireMarketResolved
)

_TYPES: dict[str, type[WireMessage]] = {
    "book": WireBook,
    "price_change": WirePriceChange,
    "last_trade_price": WireTrade,
    "tick_size_change": WireTickSize,
    "best_bid_ask": WireBestBidAsk,
    "new_market": WireNewMarket,
    "market_resolved": WireMarketResolved,
}

# The one decoder of market-channel frames (engine path and fast path). Stateless, like a
# compiled regex: built once because building one costs ~50 µs. Raises msgspec errors;
# `decode_frame` turns those into the lenient path. (Dispatching on a byte search for the
# tag to per-type decoders was measured: the Python-level search costs more than the
# union's own tag lookup. Trying `PRICE_CHANGE_DECODER` first is not a search: it stops at
# the first key it cannot take, ~0.5 µs for a `book`, which opens with its `event_type`.)
FRAME_DECODER: msgspec.json.Decoder[WireMessage | list[WireMessage]] = msgspec.json.Decoder(
    WireMessage | list[WireMessage], strict=False
)

# The dominant frame (one `price_change`) is tried first with its own decoder; anything it
# rejects (another event type, a list, a malformed frame) goes through `FRAME_DECODER`, so
# it decodes, routes and fails exactly as without it.
PRICE_CHANGE_DECODER: msgspec.json.Decoder[WirePriceChangeFrame] = msgspec.json.Decoder(
    WirePriceChangeFrame, strict=False
)

_FLOAT_KEYS = frozenset({"price", "size", "new_tick_size", "old_tick_size"})
_ID_KEYS = frozenset({"asset_id", "market", "id", "winning_asset_id", "condition_id"})
_PONG = ("PONG", b"PONG")
_NO_ERRORS: tuple[PolymarketParseError, ...] = ()


def decode_frame(
    raw: bytes | str,
) -> tuple[list[WireMessage], Sequence[PolymarketParseError]]:
    """Decode one websocket text frame: the events in it, and one error per bad event.

    `PONG` (the answer to our keepalive) and unknown event types yield nothing. Written for
    the common case first: one well-formed `price_change` decodes with its own decoder and
    no Python-level checks.
    """
    try:
        return [PRICE_CHANGE_DECODER.decode(raw)], _NO_ERRORS
    except msgspec.DecodeError:
        return decode_other_frame(raw)
    except RecursionError:  # unknown keys are skipped, and skipping nests too
        return [], [too_deep(raw)]


def too_deep(raw: bytes | str) -> PolymarketParseError:
    """The error of a frame nested deeper than any decoder (or `input_bounds`) allows."""
    return PolymarketParseError(f"frame: nested too deep: {shown(raw)}")


def decode_other_frame(
    raw: bytes | str,
) -> tuple[list[WireMessage], Sequence[PolymarketParseError]]:
    """`decode_frame` for a frame `PRICE_CHANGE_DECODER` rejected: the tagged union."""
    try:
        out = FRAME_DECODER.decode(raw)
    except msgspec.ValidationError:
        return _decode_leniently(raw)
    except msgspec.DecodeError as exc:
        if raw in _PONG:
            return [], _NO_ERRORS
        return [], [PolymarketParseError(f"frame: not valid JSON ({exc}): {shown(raw)}")]
    except RecursionError:
        return [], [too_deep(raw)]
    if isinstance(out, list):
        return out, _NO_ERRORS
    return [out], _NO_ERRORS


def _field_of(exc: msgspec.ValidationError) -> str | None:
    text = str(exc)
    marker = " - at `"
    at = text.rfind(marker)
    return text[at + len(marker) : -1] if at >= 0 else None


def _relax(value: Any) -> Any:
    """Numbers the fast decoder refused but `input_bounds` reads (".48", " 0.5"), numeric
    ids. Recursive: only for a document `decode_json` has bounded."""
    if isinstance(value, list):
        return [_relax(v) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, v in value.items():
        if key in _FLOAT_KEYS and isinstance(v, str):
            with contextlib.suppress(OutOfBounds):  # else left as is: the conversion says why
                v = bounded_float(v)
        elif key in _ID_KEYS and isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        elif isinstance(v, list | dict):
            v = _relax(v)
        out[key] = v
    return out


def convert_message(item: Any, where: str, default_type: str | None = None) -> WireMessage | None:
    """One already-decoded JSON object → its struct; None for an unknown `event_type`.

    `default_type` is for payloads that carry no tag by design (a REST `/book` body).
    """
    if not isinstance(item, dict):
        raise PolymarketParseError.bad(where, "expected a JSON object", item)
    event_type = item.get("event_type", default_type)
    if event_type is None:
        raise PolymarketParseError.bad(f"{where}.event_type", "missing")
    typ = _TYPES.get(event_type) if isinstance(event_type, str) else None
    if typ is None:
        return None
    try:
        return msgspec.convert(_relax(item), typ, strict=False)
    except msgspec.ValidationError as exc:
        path = _field_of(exc)
        field = f"{where}{path[1:]}" if path else where
        raise PolymarketParseError(f"{event_type} at {where}: {exc}", field) from None


def _decode_leniently(
    raw: bytes | str,
) -> tuple[list[WireMessage], list[PolymarketParseError]]:
    try:
        doc = decode_json(raw)
    except msgspec.DecodeError as exc:  # pragma: no cover - the fast decoder reports these
        return [], [PolymarketParseError(f"frame: not valid JSON ({exc}): {shown(raw)}")]
    except OutOfBounds:
        return [], [too_deep(raw)]
    items = doc if isinstance(doc, list) else [doc]
    out: list[WireMessage] = []
    errors: list[PolymarketParseError] = []
    for i, item in enumerate(items):
        where = f"frame[{i}]" if isinstance(doc, list) else "frame"
        try:
            msg = convert_message(item, where)
        except PolymarketParseError as exc:
            errors.append(exc)
            continue
        if msg is not None:
            out.append(msg)
    return out, errors


# --- books ---------------------------------------------------------------------------------


def _best_first(levels: Sequence[WireLevel], descending: bool) -> tuple[FloatArray, FloatArray]:
    """Price/size arrays best level first, empty levels dropped.

    Polymarket sends bids ascending and asks descending (best last, docs/polymarket_api.md
    §3.1): the common case is
    one reversal. Anything else (test fixtures list best first; a proxy may shuffle) is
    sorted, so the engine can rely on the order whatever the source.
    """
    px = np.array([lv.price for lv in levels], dtype=np.float64)
    sz = np.array([lv.size for lv in levels], dtype=np.float64)
    if px.size and not (sz > 0.0).all():
        keep = sz > 0.0
        px, sz = px[keep], sz[keep]
    if px.size > 1:
        step = np.diff(px)
        rising, falling = bool((step > 0).all()), bool((step < 0).all())
        if (rising and descending) or (falling and not descending):
            px, sz = px[::-1].copy(), sz[::-1].copy()
        elif not (falling if descending else rising):
            order = np.argsort(-px if descending else px, kind="stable")
            px, sz = px[order], sz[order]
    return px, sz


def snapshot_from_wire(book: WireBook) -> BookSnapshot:
    bids = book.bids if book.bids is not None else (book.buys or [])
    asks = book.asks if book.asks is not None else (book.sells or [])
    bid_px, bid_sz = _best_first(bids, descending=True)
    ask_px, ask_sz = _best_first(asks, descending=False)
    return BookSnapshot(
        asset_id=book.asset_id,
        ts=book.timestamp / 1000.0,
        bid_px=bid_px,
        bid_sz=bid_sz,
        ask_px=ask_px,
        ask_sz=ask_sz,
        book_hash=book.hash,
    )

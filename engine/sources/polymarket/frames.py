"""The book frames of the market channel (`price_change`, `book`): structs and decoders.

Why: these two frames are nearly every frame of the feed, and the engine's ingest is
mostly their decoding. The websocket decodes them here, trust-filters them
(`ws.MarketStream.on_frame`) and hands them to its lane (`eventqueue.FrameLane`), which
packs them into columns (`chunks`).

Two decoders of each, tried in turn:
- the fast ones (`change_decoder`, `book_decoder`) read a price as its text, a `Literal`
  of the texts of Polymarket's price grid (`price_grid`), and a change entry's token as a
  `Literal` of the tokens subscribed. msgspec returns the very string object of such a
  table, found by a hash of the raw bytes: no float or string is made, no float is
  parsed, and the token is a dict key with its hash cached (hashing 77 digits was ~5 % of
  the ingest). `price_texts()` gives the float of a price text;
- the plain ones (`CHANGE_DECODER`, `BOOK_DECODER`) read prices as floats and tokens as
  strings, for the frames the fast ones refuse inside their levels: a price off the table
  (on the 0.0001 grid, or written with more than four decimals) or a token not subscribed
  (`changes_refused`, `levels_refused` tell these from another event type).

All of them accept a subset of what `wire`'s accept, with the same values: a
`price_change` must use the `price_changes[]` layout with a `size` on every entry, a `book`
must name its levels `bids`/`asks`. Anything else (legacy layouts, another event type, a
malformed frame) is refused and goes the general way (`parse_ws`), as before.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from typing import Any, Literal, cast

import msgspec

from engine.models import Side
from engine.sources.polymarket.price_grid import price_grid
from engine.sources.polymarket.wire import Millis, Price, Size


class ChangeEntry(msgspec.Struct, gc=False, kw_only=True):
    """One level of a `price_change`; keys no book needs (`hash`, `best_bid`) are skipped."""

    asset_id: str
    price: Price
    size: Size
    side: Side


class ChangeFrame(msgspec.Struct, gc=False, kw_only=True):
    """A `price_change` frame (current layout). Other keys (`market`) are skipped undecoded;
    `event_type` is checked where it stands (Polymarket puts it last)."""

    price_changes: tuple[ChangeEntry, ...]
    timestamp: Millis
    event_type: Literal["price_change"]


class BookLevel(msgspec.Struct, gc=False):
    price: Price
    size: Size


class BookFrame(msgspec.Struct, gc=False, kw_only=True):
    event_type: Literal["book"]
    asset_id: str
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]
    timestamp: Millis


# Stateless, built once (like a compiled regex): building one costs ~50 µs.
CHANGE_DECODER: msgspec.json.Decoder[ChangeFrame] = msgspec.json.Decoder(ChangeFrame, strict=False)
BOOK_DECODER: msgspec.json.Decoder[BookFrame] = msgspec.json.Decoder(BookFrame, strict=False)


@cache
def price_texts() -> dict[str, float]:
    """Every price text of the fast decoders → its float. Built on first use (the CLI
    never needs it); a plain dict, so that a subscript of it is a specialised bytecode."""
    return {text: k / 10_000 for text, k in price_grid().finest.items()}


def _price_text() -> Any:
    return cast(Any, Literal)[tuple(price_texts())]


@cache
def _text_level() -> type:
    return msgspec.defstruct("TextLevel", [("price", _price_text()), ("size", Size)], gc=False)


def change_decoder(tokens: Collection[str]) -> msgspec.json.Decoder[Any]:
    """The fast `price_change` decoder: tokens a `Literal` of `tokens`, prices texts.

    Its frames have the fields of `ChangeFrame` (entries: `asset_id`, `price` as text,
    `size`, `side`). Built when the subscribed tokens change, on the event loop (~3 ms for
    2,000 tokens, ~30 ms for 20,000); with no tokens it is `CHANGE_DECODER`.
    """
    if not tokens:
        return CHANGE_DECODER
    token: Any = cast(Any, Literal)[tuple(tokens)]
    entry = msgspec.defstruct(
        "TextChangeEntry",
        [("asset_id", token), ("price", _price_text()), ("size", Size), ("side", Side)],
        kw_only=True,
        gc=False,
    )
    frame = msgspec.defstruct(
        "TextChangeFrame",
        [
            ("price_changes", tuple[entry, ...]),  # type: ignore[valid-type]
            ("timestamp", Millis),
            ("event_type", Literal["price_change"]),
        ],
        kw_only=True,
        gc=False,
    )
    return msgspec.json.Decoder(frame, strict=False)


@cache
def book_decoder() -> msgspec.json.Decoder[Any]:
    """The fast `book` decoder: the fields of `BookFrame`, level prices as texts."""
    level = _text_level()
    book = msgspec.defstruct(
        "TextBookFrame",
        [
            ("event_type", Literal["book"]),
            ("asset_id", str),
            ("bids", tuple[level, ...]),  # type: ignore[valid-type]
            ("asks", tuple[level, ...]),  # type: ignore[valid-type]
            ("timestamp", Millis),
        ],
        kw_only=True,
        gc=False,
    )
    return msgspec.json.Decoder(book, strict=False)


def refused_where(exc: msgspec.ValidationError) -> str:
    """Where in the frame a decoder refused it (`$.price_changes[0].price`), from the
    error's text as msgspec writes it ("... - at `$.x`"); "$" when it names no place (a
    required field missing at the top)."""
    text = str(exc)
    marker = " - at `"
    at = text.rfind(marker)
    return text[at + len(marker) : -1] if at >= 0 else "$"


def changes_refused(exc: msgspec.ValidationError) -> bool:
    """A fast-decoded `price_change` refused inside its entries (a token not subscribed, a
    price off the table, or a bad entry the plain decoder will judge)."""
    return refused_where(exc).startswith("$.price_changes")


def levels_refused(exc: msgspec.ValidationError) -> bool:
    """A fast-decoded `book` refused inside its levels."""
    where = refused_where(exc)
    return where.startswith("$.bids") or where.startswith("$.asks")

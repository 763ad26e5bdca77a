"""The book frames of the market channel, decoded and gathered into a `BookBatch`.

Why: the two frames that carry books, one current-layout `price_change` and one `book`, are
nearly every frame of the feed. The websocket decodes them here into small structs, keeps
each struct as it is (one list append a frame, no object per level change), and the engine
step's `poll` turns everything gathered since the last step into one columnar `BookBatch`
with C-level loops (`map`, `attrgetter`, `np.fromiter`), which `MarketState` applies with
array operations.

These decoders accept a subset of what `wire`'s accept, with the same values: a
`price_change` must use the `price_changes[]` layout with a `size` on every entry, a `book`
must name its levels `bids`/`asks`. Anything else (legacy layouts, another event type, a
malformed frame) is refused and goes the general way (`parse_ws`), as before.
"""

from __future__ import annotations

from itertools import chain, repeat
from operator import attrgetter, is_
from typing import Literal

import msgspec
import numpy as np

from engine.events import BookBatch
from engine.models import Side
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

    price_changes: list[ChangeEntry]
    timestamp: Millis
    event_type: Literal["price_change"]


class BookLevel(msgspec.Struct, gc=False):
    price: Price
    size: Size


class BookFrame(msgspec.Struct, gc=False, kw_only=True):
    event_type: Literal["book"]
    asset_id: str
    bids: list[BookLevel]
    asks: list[BookLevel]
    timestamp: Millis


# Stateless, built once (like a compiled regex): building one costs ~50 µs.
CHANGE_DECODER: msgspec.json.Decoder[ChangeFrame] = msgspec.json.Decoder(ChangeFrame, strict=False)
BOOK_DECODER: msgspec.json.Decoder[BookFrame] = msgspec.json.Decoder(BookFrame, strict=False)

_ENTRIES = attrgetter("price_changes")
_TS = attrgetter("timestamp")
_ASSET = attrgetter("asset_id")
_PRICE = attrgetter("price")
_SIZE = attrgetter("size")
_SIDE = attrgetter("side")
_BIDS = attrgetter("bids")
_ASKS = attrgetter("asks")


class TokenCodes(dict[str, int]):
    """Token → a small int, given on first sight and kept (`tokens[code]` is the token).

    Why: one C-level dict lookup per level codes a batch's tokens; coding them afresh
    per batch took three passes. Used only by `drain`, on the engine's worker thread.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []

    def __missing__(self, token: str) -> int:
        code = self[token] = len(self.tokens)
        self.tokens.append(token)
        return code


class FrameBatch:
    """Book frames in arrival order, as decoded; `build` makes the `BookBatch`.

    Appending is all the websocket thread does per frame; `build` runs in the engine's
    worker thread once per step.
    """

    __slots__ = ("book_at", "books", "changes")

    def __init__(self) -> None:
        self.changes: list[ChangeFrame] = []
        self.books: list[BookFrame] = []
        self.book_at: list[int] = []  # each book's frame number

    def add_changes(self, frame: ChangeFrame) -> None:
        self.changes.append(frame)

    def add_book(self, frame: BookFrame) -> None:
        self.book_at.append(len(self.changes) + len(self.books))
        self.books.append(frame)

    def __len__(self) -> int:
        return len(self.changes) + len(self.books)

    def build(self, codes: TokenCodes) -> BookBatch:
        changes, books = self.changes, self.books
        nc, nb = len(changes), len(books)
        book_at = np.array(self.book_at, np.int64)
        is_book = np.zeros(nc + nb, np.bool_)
        is_book[book_at] = True
        change_at = np.flatnonzero(~is_book)
        frame_ms = np.empty(nc + nb, np.float64)
        frame_ms[change_at] = np.fromiter(map(_TS, changes), np.float64, nc)
        frame_ms[book_at] = np.fromiter(map(_TS, books), np.float64, nb)

        entries = list(chain.from_iterable(map(_ENTRIES, changes)))
        counts = np.fromiter(map(len, map(_ENTRIES, changes)), np.int64, nc)
        bid_counts = np.fromiter(map(len, map(_BIDS, books)), np.int64, nb)
        ask_counts = np.fromiter(map(len, map(_ASKS, books)), np.int64, nb)
        levels = list(chain.from_iterable(chain(b.bids, b.asks) for b in books))
        per_book = bid_counts + ask_counts
        first = np.cumsum(per_book) - per_book  # each book's first level
        level_bid = np.ones(len(levels), np.bool_)
        is_ask = np.repeat(np.arange(nb), per_book) if nb else np.zeros(0, np.int64)
        level_bid[np.arange(len(levels)) - first[is_ask] >= bid_counts[is_ask]] = False

        code = codes.__getitem__
        n, nl = len(entries), len(levels)
        entry_code = np.fromiter(map(code, map(_ASSET, entries)), np.int64, n)
        book_code = np.fromiter(map(code, map(_ASSET, books)), np.int64, nb)
        # The batch names only its own tokens: codes made dense (no sort).
        present = np.zeros(len(codes.tokens), np.bool_)
        present[entry_code] = True
        present[book_code] = True
        used = np.flatnonzero(present)
        dense = np.cumsum(present) - 1
        table = codes.tokens
        return BookBatch(
            tokens=[table[i] for i in used.tolist()],
            frame_ts=frame_ms / 1000.0,
            snap_frame=book_at,
            snap_token=dense[book_code],
            level_frame=np.concatenate(
                [np.repeat(change_at, counts), np.repeat(book_at, per_book)]
            ),
            level_token=np.concatenate([dense[entry_code], np.repeat(dense[book_code], per_book)]),
            level_bid=np.concatenate(
                [
                    np.fromiter(map(is_, map(_SIDE, entries), repeat(Side.BUY)), np.bool_, n),
                    level_bid,
                ]
            ),
            level_price=np.concatenate(
                [
                    np.fromiter(map(_PRICE, entries), np.float64, n),
                    np.fromiter(map(_PRICE, levels), np.float64, nl),
                ]
            ),
            level_size=np.concatenate(
                [
                    np.fromiter(map(_SIZE, entries), np.float64, n),
                    np.fromiter(map(_SIZE, levels), np.float64, nl),
                ]
            ),
        )

"""Full-depth L2 books kept as per-side size arrays, fed straight from the wire bytes.

This is the fast path: it skips building `SourceEvent` objects, which cost about as much
as decoding itself. `bench/ingest.py` measures it; a recorder or any consumer that wants
every level (the engine's `MarketState` keeps only the top `depth`) can use it too.

Layout (why: see `price_grid`): each side of a book is a flat run of float64 sizes indexed
by price slot on the book's grid (0.01, 0.001 or 0.0001), 0.0 meaning no level. A book starts
on the 0.01 grid and moves to a finer one the first time a price needs it, never back.
Slots are in price order, so the best levels are the last non-zero bid and the first
non-zero ask, found with numpy on a view of the run.

Decoding: the two frames that carry books, one current-layout `price_change` and one
`book`, have decoders of their own here that read prices as their text (`price_grid`).
They accept a subset of what the general decoders (`wire`) accept (one exception, see
`_decoders`): a frame either decodes here to the same values or is refused, and then goes
through `wire.decode_other_frame` (tagged union, then the lenient path) exactly as the
engine path does, floats and all. So both paths build the same books, with the same
errors (a property test feeds both with frames of every shape, good and bad).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, Protocol, cast

import msgspec
import numpy as np

from engine.events import FloatArray
from engine.models import Side
from engine.sources.polymarket.errors import PolymarketParseError
from engine.sources.polymarket.price_grid import (
    FINEST,
    SCALES,
    PriceGrid,
    price_grid,
    slot_of_float,
)
from engine.sources.polymarket.wire import (
    Millis,
    Size,
    WireBook,
    WireMessage,
    WirePriceChange,
    decode_other_frame,
    too_deep,
)

_BUY = Side.BUY
_F64 = np.float64


class _Level(Protocol):
    price: Any  # a price text (fast decoders) or a float (`wire` structs)
    size: float


class _Change(Protocol):
    asset_id: str
    price: str
    size: float
    side: Side


class _ChangeFrame(Protocol):
    timestamp: int
    price_changes: list[_Change]


class _BookFrame(Protocol):
    asset_id: str
    timestamp: int
    bids: list[_Level]
    asks: list[_Level]


@dataclass(frozen=True, slots=True)
class _Decoders:
    price_change: msgspec.json.Decoder[Any]
    book: msgspec.json.Decoder[Any]


@cache
def _decoders(grid: PriceGrid) -> _Decoders:
    """The text-price decoders (~10 ms to build: built once, on the first `L2Books`).

    The `price_change` frame reads the current layout only: `price_changes`,
    `timestamp`, `event_type`, typed as in `wire.WirePriceChangeFrame`, and refuses any
    other key (the legacy `asset_id`/`changes`/`price`..., or anything new), so it
    refuses what that refuses, and more: a price outside the text table, an entry
    without `size`, a frame with keys it does not know. Refusing the legacy keys rather
    than declaring them saves filling five defaults on every frame. One exception:
    `market`, which no book needs, is kept as raw JSON rather than decoded to a string,
    so a frame whose `market` is not a string still updates books here. The `book` frame
    refuses any key `WireBook` would read differently (legacy `buys`, extras such as
    `last_trade_price`). Whatever is refused takes the general path, which knows what to
    do with it. Keys inside an entry that no book needs (`hash`, `best_bid`) are skipped
    undecoded, as in `wire`.
    """
    price_text: Any = cast(Any, Literal)[tuple(grid.finest)]
    entry = msgspec.defstruct(
        "L2Change",
        [("asset_id", str), ("price", price_text), ("size", Size), ("side", Side)],
        kw_only=True,
        gc=False,
    )
    frame = msgspec.defstruct(
        "L2ChangeFrame",
        [
            ("market", msgspec.Raw, msgspec.Raw()),
            ("price_changes", list[entry]),  # type: ignore[valid-type]
            ("timestamp", Millis),
            ("event_type", Literal["price_change"]),
        ],
        forbid_unknown_fields=True,
        kw_only=True,
        gc=False,
    )
    level = msgspec.defstruct("L2Level", [("price", price_text), ("size", Size)], gc=False)
    book = msgspec.defstruct(
        "L2BookFrame",
        [
            ("event_type", Literal["book"]),
            ("asset_id", str),
            ("market", str, ""),
            ("bids", list[level]),  # type: ignore[valid-type]
            ("asks", list[level]),  # type: ignore[valid-type]
            ("timestamp", Millis),
            ("hash", str, ""),
        ],
        kw_only=True,
        forbid_unknown_fields=True,
        gc=False,
    )
    return _Decoders(
        price_change=msgspec.json.Decoder(frame, strict=False),
        book=msgspec.json.Decoder(book, strict=False),
    )


def _side(data: memoryview[float] | bytes) -> memoryview[float]:
    """A writable side of sizes. A float64 memoryview rather than an `array('d')`: its
    item store converts with `PyFloat_AsDouble`, where `array` parses a format string
    per store (~8 ns of ~26 ns)."""
    return memoryview(bytearray(data)).cast("d")


def _numbers(side: memoryview[float]) -> FloatArray:
    """A numpy view of a side (no copy), for the readers."""
    return np.frombuffer(side.cast("B"), dtype=_F64)


class L2Book:
    """One token's book. Sizes are absolute, as Polymarket sends them."""

    __slots__ = ("_grid", "ask_sz", "bid_sz", "scale", "slot", "ts_ms")

    def __init__(self, grid: PriceGrid, scale: int = SCALES[0]) -> None:
        self._grid = grid
        self.scale = scale  # slots per unit price: 100 for the 0.01 grid
        self.slot = grid.slots[scale]  # price text → slot on this book's grid
        self.bid_sz = _side(grid.zeros[scale])
        self.ask_sz = _side(grid.zeros[scale])
        self.ts_ms = 0

    # --- reading -----------------------------------------------------------------------

    @property
    def bids(self) -> dict[float, float]:
        """Price → size of every bid level (a copy)."""
        return self._levels(self.bid_sz)

    @property
    def asks(self) -> dict[float, float]:
        return self._levels(self.ask_sz)

    def _levels(self, sizes: memoryview[float]) -> dict[float, float]:
        view = _numbers(sizes)
        idx = np.flatnonzero(view)
        return dict(zip((idx / self.scale).tolist(), view[idx].tolist(), strict=True))

    def best_bid(self) -> float | None:
        idx = np.flatnonzero(_numbers(self.bid_sz))
        return float(idx[-1] / self.scale) if idx.size else None

    def best_ask(self) -> float | None:
        idx = np.flatnonzero(_numbers(self.ask_sz))
        return float(idx[0] / self.scale) if idx.size else None

    def top(self, depth: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Best-first (bid_px, bid_sz, ask_px, ask_sz), at most `depth` levels each."""
        bids = _numbers(self.bid_sz)
        asks = _numbers(self.ask_sz)
        bi = np.flatnonzero(bids)[::-1][:depth]
        ai = np.flatnonzero(asks)[:depth]
        return bi / self.scale, bids[bi].copy(), ai / self.scale, asks[ai].copy()

    # --- writing -----------------------------------------------------------------------

    def clear(self) -> None:
        zero = self._grid.zeros[self.scale]
        self.bid_sz[:] = zero
        self.ask_sz[:] = zero

    def refine(self, k: int) -> None:
        """Move to a grid fine enough for finest-grid slot `k`, keeping every level."""
        need = self._grid.coarsest_scale(k)
        if need <= self.scale:
            return
        factor = need // self.scale
        for name in ("bid_sz", "ask_sz"):
            old = _numbers(getattr(self, name))
            new = np.zeros(need + 1, dtype=_F64)
            new[::factor] = old
            setattr(self, name, _side(new.tobytes()))
        self.scale = need
        self.slot = self._grid.slots[need]

    def slot_of_text(self, text: str) -> int:
        """Slot of a price text from the fast decoders, refining the grid if it needs to."""
        i = self.slot.get(text)
        if i is None:
            self.refine(self._grid.finest[text])
            i = self.slot[text]
        return i

    def slot_of_price(self, price: float) -> int | None:
        """Slot of a parsed price (general path); None when off the finest grid."""
        k = slot_of_float(price)
        if k is None:
            return None
        factor = FINEST // self.scale
        if k % factor:
            self.refine(k)
            factor = FINEST // self.scale
        return k // factor


class L2Books:
    """Full-depth books of many tokens, fed frame by frame.

    A change older than the book's last snapshot is dropped: `price_change` sizes are
    absolute, so an old one replayed after a newer snapshot would resurrect a stale level.
    The loops are written flat (no helper calls on the common path): they run once per
    level change.
    """

    def __init__(self) -> None:
        self.books: dict[str, L2Book] = {}
        self._grid = price_grid()
        decoders = _decoders(self._grid)
        self._decode_change = decoders.price_change.decode
        self._decode_book = decoders.book.decode
        self._newest_ms = 0  # the newest snapshot of any book (see `ingest`)

    def __getitem__(self, token: str) -> L2Book:
        return self.books[token]

    def get(self, token: str) -> L2Book | None:
        return self.books.get(token)

    def _book(self, token: str) -> L2Book:
        book = self.books.get(token)
        if book is None:
            book = self.books[token] = L2Book(self._grid)
        return book

    def ingest(self, raw: bytes | str) -> Sequence[PolymarketParseError]:
        """Decode one frame and fold it in; the frame's errors (bad events are skipped).

        Two things here are worth 3-5 % of the bench together. The decoder is called
        through a local: Python 3.11 does not specialise a method load of a callable
        kept on the instance, so `self._decode_change(raw)` takes the generic lookup on
        every frame. And the staleness check is made once per frame, against the newest
        snapshot of any book, not once per entry against its own book: the feed is in time
        order, so a change older than that is rare and takes the checking loop.
        """
        decode = self._decode_change
        try:
            msg: _ChangeFrame = decode(raw)
        except msgspec.DecodeError:
            return self._ingest_other(raw)
        except RecursionError:  # skipping a deep unknown value nests too
            return [too_deep(raw)]
        if msg.timestamp < self._newest_ms:  # some book may be newer than this change
            self._apply_changes(msg)
            return ()
        books = self.books
        try:
            for e in msg.price_changes:
                book = books[e.asset_id]
                (book.bid_sz if e.side is _BUY else book.ask_sz)[book.slot[e.price]] = e.size
        except KeyError:  # a new token, or a price finer than its book's grid
            self._apply_changes(msg)
        return ()

    def _apply_changes(self, msg: _ChangeFrame) -> None:
        """`ingest`'s loop with the rare cases handled, run again from the first entry:
        new tokens, finer prices, and entries older than their book's snapshot (dropped).

        Running a frame twice is harmless: every entry sets an absolute size, so the entries
        that `ingest` already applied are set again to what they already are.
        """
        ts = msg.timestamp
        for e in msg.price_changes:
            book = self._book(e.asset_id)
            if ts >= book.ts_ms:
                i = book.slot_of_text(e.price)
                (book.bid_sz if e.side is _BUY else book.ask_sz)[i] = e.size

    def _ingest_other(self, raw: bytes | str) -> Sequence[PolymarketParseError]:
        decode = self._decode_book  # a local, as in `ingest`
        try:
            msg: _BookFrame = decode(raw)
        except msgspec.DecodeError:
            items, errors = decode_other_frame(raw)
            more = self.apply(items)
            return [*errors, *more] if more else errors
        except RecursionError:
            return [too_deep(raw)]
        book = self._book(msg.asset_id)
        while True:  # at most once more per grid: each retry refines
            book.clear()
            slot, bids, asks = book.slot, book.bid_sz, book.ask_sz
            try:
                for lv in msg.bids:
                    bids[slot[lv.price]] = lv.size
                for lv in msg.asks:
                    asks[slot[lv.price]] = lv.size
                break
            except KeyError as exc:
                book.refine(self._grid.finest[exc.args[0]])
        self._snapshot_at(book, msg.timestamp)
        return ()

    def _snapshot_at(self, book: L2Book, ts: int) -> None:
        book.ts_ms = ts
        if ts > self._newest_ms:
            self._newest_ms = ts

    def apply(self, items: Iterable[WireMessage]) -> list[PolymarketParseError]:
        """Fold messages decoded by `wire` in; only `book` and `price_change` change books.

        Errors: a price off Polymarket's finest grid, which no array slot can hold (the
        level is skipped; the general decoders accept any price in [0, 1]).
        """
        errors: list[PolymarketParseError] = []
        for msg in items:
            if isinstance(msg, WirePriceChange):
                ts = msg.timestamp
                if msg.price_changes is not None:
                    for e in msg.price_changes:
                        if e.size is not None:
                            self._set(e.asset_id, ts, e.side, e.price, e.size, errors)
                elif msg.changes is not None:
                    for c in msg.changes:
                        if c.size is not None:
                            self._set(msg.asset_id, ts, c.side, c.price, c.size, errors)
                elif msg.price is not None and msg.side is not None and msg.size is not None:
                    self._set(msg.asset_id, ts, msg.side, msg.price, msg.size, errors)
            elif isinstance(msg, WireBook):
                book = self._book(msg.asset_id)
                book.clear()
                bids = msg.bids if msg.bids is not None else (msg.buys or [])
                asks = msg.asks if msg.asks is not None else (msg.sells or [])
                for levels, side in ((bids, Side.BUY), (asks, Side.SELL)):
                    for lv in levels:
                        self._put(book, side, lv.price, lv.size, errors)
                self._snapshot_at(book, msg.timestamp)
        return errors

    def _set(
        self,
        token: str,
        ts: int,
        side: Side,
        price: float,
        size: float,
        errors: list[PolymarketParseError],
    ) -> None:
        book = self._book(token)
        if ts >= book.ts_ms:  # a new book's is 0
            self._put(book, side, price, size, errors)

    @staticmethod
    def _put(
        book: L2Book, side: Side, price: float, size: float, errors: list[PolymarketParseError]
    ) -> None:
        i = book.slot_of_price(price)
        if i is None:
            errors.append(PolymarketParseError.bad("price", "off the 0.0001 grid", price))
            return
        (book.bid_sz if side is _BUY else book.ask_sz)[i] = size

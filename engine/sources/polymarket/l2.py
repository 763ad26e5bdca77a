"""Full-depth L2 books kept as per-asset level dicts, fed straight from decoded wire structs.

This is the fast path: it skips building `SourceEvent` objects, which cost about as much
as decoding itself. `bench/ingest.py` measures it; a recorder or any consumer that wants
every level (the engine's `MarketState` keeps only the top `depth`) can use it too. It
decodes with `wire.PRICE_CHANGE_DECODER` and falls back to `wire.decode_other_frame`, the
same steps as `wire.decode_frame` on the engine path, so both read the wire identically.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import msgspec
import numpy as np

from engine.events import FloatArray
from engine.models import Side
from engine.sources.polymarket.errors import PolymarketParseError
from engine.sources.polymarket.wire import (
    PRICE_CHANGE_DECODER,
    WireBook,
    WireMessage,
    WirePriceChange,
    decode_other_frame,
)


@dataclass(slots=True)
class L2Book:
    """One token's book: price → size per side (sizes are absolute, as Polymarket sends)."""

    bids: dict[float, float] = field(default_factory=dict)
    asks: dict[float, float] = field(default_factory=dict)
    ts_ms: int = 0

    def best_bid(self) -> float | None:
        return max(self.bids) if self.bids else None

    def best_ask(self) -> float | None:
        return min(self.asks) if self.asks else None

    def top(self, depth: int) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Best-first (bid_px, bid_sz, ask_px, ask_sz), at most `depth` levels each."""
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        bp = np.array([p for p, _ in bids], dtype=np.float64)
        bs = np.array([s for _, s in bids], dtype=np.float64)
        ap = np.array([p for p, _ in asks], dtype=np.float64)
        az = np.array([s for _, s in asks], dtype=np.float64)
        return bp, bs, ap, az


_BUY = Side.BUY


class L2Books:
    """Full-depth books of many tokens, fed frame by frame.

    A change older than the book's last snapshot is dropped: `price_change` sizes are
    absolute, so an old one replayed after a newer snapshot would resurrect a stale level.
    The loops are written flat (no helper calls): they run once per level change.
    """

    def __init__(self) -> None:
        self.books: dict[str, L2Book] = {}

    def __getitem__(self, token: str) -> L2Book:
        return self.books[token]

    def get(self, token: str) -> L2Book | None:
        return self.books.get(token)

    def ingest(self, raw: bytes | str) -> Sequence[PolymarketParseError]:
        """Decode one frame with the shared decoder and fold it in; the frame's errors.

        The common frame (one current-layout `price_change`) is decoded by its own decoder
        and applied inline; anything that decoder refuses goes through the tagged union and,
        if that refuses it too, the lenient path (`decode_other_frame`), exactly as the
        engine path does, and then `apply`.
        """
        try:
            msg = PRICE_CHANGE_DECODER.decode(raw)
        except msgspec.DecodeError:
            items, errors = decode_other_frame(raw)
            self.apply(items)
            return errors
        changes = msg.price_changes
        if changes is None:  # a legacy layout
            self.apply([msg])
            return ()
        books = self.books
        ts = msg.timestamp
        for e in changes:
            size = e.size
            if size is None:
                continue
            book = books.get(e.asset_id)
            if book is None:
                book = books[e.asset_id] = L2Book()
            elif ts < book.ts_ms:
                continue
            levels = book.bids if e.side is _BUY else book.asks
            if size > 0.0:
                levels[e.price] = size
            else:
                levels.pop(e.price, None)
        return ()

    def apply(self, items: list[WireMessage]) -> None:
        """Fold decoded messages in; only `book` and `price_change` change books."""
        books = self.books
        for msg in items:
            if isinstance(msg, WirePriceChange):
                ts = msg.timestamp
                if msg.price_changes is not None:
                    for e in msg.price_changes:
                        if e.size is None:
                            continue
                        book = books.get(e.asset_id)
                        if book is None:
                            book = books[e.asset_id] = L2Book()
                        elif ts < book.ts_ms:
                            continue
                        _set(book, e.side, e.price, e.size)
                    continue
                book = books.get(msg.asset_id)
                if book is None:
                    book = books[msg.asset_id] = L2Book()
                elif ts < book.ts_ms:
                    continue
                if msg.changes is not None:
                    for c in msg.changes:
                        if c.size is not None:
                            _set(book, c.side, c.price, c.size)
                elif msg.price is not None and msg.side is not None and msg.size is not None:
                    _set(book, msg.side, msg.price, msg.size)
            elif isinstance(msg, WireBook):
                bids = msg.bids if msg.bids is not None else (msg.buys or [])
                asks = msg.asks if msg.asks is not None else (msg.sells or [])
                book = books.get(msg.asset_id)
                if book is None:
                    book = books[msg.asset_id] = L2Book()
                book.bids = {lv.price: lv.size for lv in bids if lv.size > 0.0}
                book.asks = {lv.price: lv.size for lv in asks if lv.size > 0.0}
                book.ts_ms = msg.timestamp


def _set(book: L2Book, side: Side, price: float, size: float) -> None:
    levels = book.bids if side is _BUY else book.asks
    if size > 0.0:
        levels[price] = size
    else:
        levels.pop(price, None)

"""Book frames packed into columns (`Chunk`), and chunks into one `BookBatch`.

Why packed: a decoded frame is a dozen Python objects; kept until the engine step (10,000
frames later) they have left the CPU caches, and reading and freeing them cold cost more
than decoding them. A lane (`eventqueue.FrameLane`) packs its frames every few hundred,
while they are still cached: per column one list comprehension (an attribute read inside
one is a specialised bytecode; `map(attrgetter(...))` costs twice as much) and one
`struct.pack`, which converts each float or int in C (numpy's generic per-object
conversion costs ~2.5 times as much). `build_batch` then joins the bytes and does the rest
with array operations, once per step.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.events import BookBatch
from engine.models import Side
from engine.sources.polymarket.frames import price_texts

_BUY = Side.BUY


class TokenCodes:
    """Token → an even number, given on first sight and kept (`tokens[code // 2]` is the
    token); the odd number after it is the same token's BUY side. `lane_of[code // 2]`:
    the lane the token was first seen subscribed on (-1: none), a cache that lets
    `build_batch` check a level's subscription with one comparison (a level that differs
    is looked up in its lane's table).

    Why even: `pack_chunk` packs token and side of a level into one int (`code + is_buy`),
    one comprehension where two were. A plain dict (not a `__missing__` subclass), because
    only a plain dict's subscript is a specialised bytecode; unknown tokens are added by
    `add`, after the `KeyError`. Grown only under the queue's lock.
    """

    __slots__ = ("code", "lane_of", "tokens")

    def __init__(self) -> None:
        self.code: dict[str, int] = {}
        self.tokens: list[str] = []
        self.lane_of: npt.NDArray[np.int64] = np.zeros(0, np.int64)

    def add(self, tokens: Iterable[str], lane: int, members: Mapping[str, object]) -> None:
        code = self.code
        lane_of: list[int] = []
        for token in tokens:
            if token not in code:
                code[token] = 2 * len(self.tokens)
                self.tokens.append(token)
                lane_of.append(lane if token in members else -1)
        if lane_of:
            self.lane_of = np.concatenate([self.lane_of, np.array(lane_of, np.int64)])


@dataclass(frozen=True, slots=True)
class Chunk:
    """Consecutive book frames of one lane, packed: each column native `struct` bytes
    (int64 `q`, float64 `d`), joined and read by numpy at `build_batch`.

    Change frames: one `counts`/`ts` item each, and one `keys`/`prices`/`sizes` item per
    level (`keys`: token code + 1 for a BUY). Book frames: one `book_*` item each
    (`book_at`: its frame number within the chunk, changes and books counted) and one
    `bid_*` item per bid level, `ask_*` per ask level, book after book.
    """

    changes: int
    books: int
    keys: bytes
    prices: bytes
    sizes: bytes
    counts: bytes
    ts: bytes
    book_at: bytes
    book_keys: bytes
    book_ts: bytes
    bid_n: bytes
    ask_n: bytes
    bid_px: bytes
    bid_sz: bytes
    ask_px: bytes
    ask_sz: bytes


def _pack(kind: str, values: Sequence[float] | Sequence[int]) -> bytes:
    return struct.pack(f"{len(values)}{kind}", *values)


def pack_chunk(
    frames: Sequence[Any],
    books: Sequence[tuple[int, Any]],
    codes: TokenCodes,
    lane: int,
    members: Mapping[str, object],
) -> Chunk:
    """The frames of a lane as a `Chunk`: change frames, and book frames each with the
    number of change frames before it; either decoder's (`frames`: prices as text from the
    fast ones, floats from the plain ones). Tokens seen for the first time get a code
    (`lane`'s `members` say whether they are subscribed there)."""
    entries = [e for f in frames for e in f.price_changes]  # one pass over the tuples
    code = codes.code
    try:
        keys = [code[e.asset_id] + (e.side is _BUY) for e in entries]
        book_keys = [code[b.asset_id] for _, b in books]
    except KeyError:  # a token seen for the first time: give it a code, then again
        codes.add([e.asset_id for e in entries], lane, members)
        codes.add([b.asset_id for _, b in books], lane, members)
        keys = [code[e.asset_id] + (e.side is _BUY) for e in entries]
        book_keys = [code[b.asset_id] for _, b in books]
    px = price_texts()
    try:  # every price a text (a float is no key of `px`)
        prices = [px[e.price] for e in entries]
    except KeyError:
        prices = [_price(px, e.price) for e in entries]
    levels = [b for _, b in books]
    try:
        bid_px = [px[lv.price] for b in levels for lv in b.bids]
        ask_px = [px[lv.price] for b in levels for lv in b.asks]
    except KeyError:
        bid_px = [_price(px, lv.price) for b in levels for lv in b.bids]
        ask_px = [_price(px, lv.price) for b in levels for lv in b.asks]
    return Chunk(
        changes=len(frames),
        books=len(levels),
        keys=_pack("q", keys),
        prices=_pack("d", prices),
        sizes=_pack("d", [e.size for e in entries]),
        counts=_pack("q", [len(f.price_changes) for f in frames]),
        ts=_pack("q", [f.timestamp for f in frames]),
        book_at=_pack("q", [at + k for k, (at, _) in enumerate(books)]),
        book_keys=_pack("q", book_keys),
        book_ts=_pack("q", [b.timestamp for b in levels]),
        bid_n=_pack("q", [len(b.bids) for b in levels]),
        ask_n=_pack("q", [len(b.asks) for b in levels]),
        bid_px=_pack("d", bid_px),
        bid_sz=_pack("d", [lv.size for b in levels for lv in b.bids]),
        ask_px=_pack("d", ask_px),
        ask_sz=_pack("d", [lv.size for b in levels for lv in b.asks]),
    )


def _price(px: dict[str, float], price: str | float) -> float:
    """A price of either decoder: a text of the table, or a float already."""
    return px[price] if type(price) is str else float(price)


@dataclass(frozen=True, slots=True)
class LaneChunks:
    """The chunks of one lane that go into one batch."""

    lane: int
    members: Mapping[str, object]  # the tokens subscribed on the lane's connection
    chunks: Sequence[Chunk]


def build_batch(parts: Sequence[LaneChunks], codes: TokenCodes) -> BookBatch:
    """One `BookBatch` of the frames of `parts`, lane after lane, chunk after chunk;
    levels of a token not subscribed on its lane are left out (the trust filter's rule)."""
    chunks = [c for p in parts for c in p.chunks]
    i64, f64 = np.int64, np.float64

    def col(name: str, dtype: type) -> npt.NDArray[Any]:
        return np.frombuffer(b"".join([getattr(c, name) for c in chunks]), dtype)

    # Frame numbers: each chunk's frames after the previous chunk's.
    nc = np.array([c.changes for c in chunks], i64)
    nb = np.array([c.books for c in chunks], i64)
    base = np.cumsum(nc + nb) - (nc + nb)
    n_frames = int((nc + nb).sum())
    snap_frame = col("book_at", i64) + np.repeat(base, nb)
    is_book = np.zeros(n_frames, np.bool_)
    is_book[snap_frame] = True
    change_at = np.flatnonzero(~is_book)
    frame_ms = np.empty(n_frames, f64)
    frame_ms[change_at] = col("ts", i64)
    frame_ms[snap_frame] = col("book_ts", i64)

    keys, prices, sizes = col("keys", i64), col("prices", f64), col("sizes", f64)
    level_frame = np.repeat(change_at, col("counts", i64))
    keep = _subscribed(parts, keys >> 1, codes)
    if keep is not None:
        keys, prices, sizes, level_frame = keys[keep], prices[keep], sizes[keep], level_frame[keep]
    book_keys, bid_n, ask_n = col("book_keys", i64), col("bid_n", i64), col("ask_n", i64)
    key = np.concatenate([keys, np.repeat(book_keys + 1, bid_n), np.repeat(book_keys, ask_n)])
    # The batch names only its own tokens: codes made dense (no sort).
    token = key >> 1
    book_token = book_keys >> 1
    present = np.zeros(len(codes.tokens), np.bool_)
    present[token] = True
    present[book_token] = True  # a book may have no levels
    used = np.flatnonzero(present)
    dense = np.cumsum(present) - 1
    return BookBatch(
        tokens=[codes.tokens[i] for i in used.tolist()],
        frame_ts=frame_ms / 1000.0,
        snap_frame=snap_frame,
        snap_token=dense[book_token],
        level_frame=np.concatenate(
            [level_frame, np.repeat(snap_frame, bid_n), np.repeat(snap_frame, ask_n)]
        ),
        level_token=dense[token],
        level_bid=(key & 1).astype(np.bool_),
        level_price=np.concatenate([prices, col("bid_px", f64), col("ask_px", f64)]),
        level_size=np.concatenate([sizes, col("bid_sz", f64), col("ask_sz", f64)]),
    )


def _subscribed(
    parts: Sequence[LaneChunks], token: npt.NDArray[np.int64], codes: TokenCodes
) -> npt.NDArray[np.bool_] | None:
    """Which change levels name a token subscribed on their lane; None if all do.

    One comparison a level against the lane each token was first seen on; the few that
    differ (a token seen before it was subscribed, or not subscribed here) are looked up
    in their lane's table. Books need no check: the stream keeps only a book of its own
    tokens.
    """
    lane = np.repeat(
        np.array([p.lane for p in parts], np.int64),
        [sum(len(c.keys) for c in p.chunks) // 8 for p in parts],
    )
    odd = np.flatnonzero(codes.lane_of[token] != lane)
    if not odd.size:
        return None
    members = {p.lane: p.members for p in parts}
    keep = np.ones(token.size, np.bool_)
    for i, t, ln in zip(odd.tolist(), token[odd].tolist(), lane[odd].tolist(), strict=True):
        if codes.tokens[t] in members[ln]:
            if codes.lane_of[t] < 0:
                codes.lane_of[t] = ln
        else:
            keep[i] = False
    return keep

"""Source events to JSON and back, for recording a feed and replaying it.

One place that knows every `SourceEvent` field, so a recorded run replays into exactly the
events the engine saw live. Book arrays become plain lists; floats round-trip exactly (JSON
floats are repr-precise), NaN included. Reading back checks every field's type against the
event's annotations (msgspec), so a damaged record is skipped by the replay, never turned
into an event that fails later inside the engine.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated, Any

import msgspec
import numpy as np

from engine.events import (
    BookBatch,
    BookSnapshot,
    BookTrust,
    LevelChange,
    MarketListed,
    MarketResolved,
    PriceChange,
    SourceEvent,
    TickSizeChange,
    TradeBatch,
    TradePrint,
    WholeBooks,
)
from engine.input_bounds import decode_json, shown
from engine.models import Side


class EventDecodeError(ValueError):
    """A recorded event that cannot be turned back into an engine event."""


def encode_event(ev: SourceEvent) -> tuple[str, str]:
    """(kind, JSON payload) for one event."""
    kind = type(ev).__name__
    data: dict[str, Any]
    if isinstance(ev, BookBatch):
        data = {
            "tokens": ev.tokens,
            "frame_ts": ev.frame_ts.tolist(),
            "snap_frame": ev.snap_frame.tolist(),
            "snap_token": ev.snap_token.tolist(),
            "level_frame": ev.level_frame.tolist(),
            "level_token": ev.level_token.tolist(),
            "level_bid": ev.level_bid.tolist(),
            "level_price": ev.level_price.tolist(),
            "level_size": ev.level_size.tolist(),
        }
    elif isinstance(ev, BookSnapshot):
        data = {
            "asset_id": ev.asset_id,
            "ts": ev.ts,
            "bid_px": ev.bid_px.tolist(),
            "bid_sz": ev.bid_sz.tolist(),
            "ask_px": ev.ask_px.tolist(),
            "ask_sz": ev.ask_sz.tolist(),
            "book_hash": ev.book_hash,
        }
    elif isinstance(ev, WholeBooks):  # ladders only: the padding is implied by the counts
        data = {
            "ts": ev.ts,
            "asset_ids": list(ev.asset_ids),
            "bids": [
                _ladder(ev.bid_px[i], ev.bid_sz[i], n) for i, n in enumerate(ev.bid_n.tolist())
            ],
            "asks": [
                _ladder(ev.ask_px[i], ev.ask_sz[i], n) for i, n in enumerate(ev.ask_n.tolist())
            ],
        }
    elif isinstance(ev, TradeBatch):
        data = {
            "ts": ev.ts,
            "asset_ids": list(ev.asset_ids),
            "price": ev.price.tolist(),
            "size": ev.size.tolist(),
            "buy": ev.buy.tolist(),
        }
    elif isinstance(ev, PriceChange):
        data = {
            "asset_id": ev.asset_id,
            "ts": ev.ts,
            "changes": [[c.side.value, c.price, c.size] for c in ev.changes],
        }
    elif isinstance(ev, TradePrint):
        data = {**asdict(ev), "side": ev.side.value}
    elif isinstance(ev, MarketListed):
        data = {"ts": ev.ts, "market": asdict(ev.market)}
    else:  # TickSizeChange, MarketResolved, BookTrust: plain fields
        data = asdict(ev)
    return kind, json.dumps(data, separators=(",", ":"))


def _ladder(px: np.ndarray, sz: np.ndarray, n: int) -> list[list[float]]:
    return [px[:n].tolist(), sz[:n].tolist()]


class _RecordedWhole(msgspec.Struct):
    ts: float
    asset_ids: list[str]
    bids: list[tuple[list[float], list[float]]]
    asks: list[tuple[list[float], list[float]]]


def _whole(b: _RecordedWhole) -> WholeBooks:
    """The batch back as matrices; its ladders must pair up (one per token, prices and
    sizes of one length), else `ValueError`."""
    n = len(b.asset_ids)
    if len(b.bids) != n or len(b.asks) != n:
        raise ValueError(f"{n} tokens but {len(b.bids)} bid and {len(b.asks)} ask ladders")
    if any(len(p) != len(z) for p, z in (*b.bids, *b.asks)):
        raise ValueError("a ladder's prices and sizes differ in length")
    if len(set(b.asset_ids)) != n:
        raise ValueError("a token appears twice")
    width = max((len(p) for p, _ in (*b.bids, *b.asks)), default=0)

    def matrices(ladders: list[tuple[list[float], list[float]]]) -> tuple[Any, Any, Any]:
        px = np.full((n, width), np.nan)
        sz = np.zeros((n, width))
        for i, (p, z) in enumerate(ladders):
            px[i, : len(p)] = p
            sz[i, : len(z)] = z
        return px, sz, np.asarray([len(p) for p, _ in ladders], dtype=np.int64)

    bpx, bsz, bn = matrices(b.bids)
    apx, asz, an = matrices(b.asks)
    return WholeBooks(b.ts, tuple(b.asset_ids), bpx, bsz, bn, apx, asz, an)


class _RecordedTrades(msgspec.Struct):
    ts: float
    asset_ids: list[str]
    price: list[float]
    size: list[float]
    buy: list[bool]


def _trades(t: _RecordedTrades) -> TradeBatch:
    n = len(t.asset_ids)
    if not len(t.price) == len(t.size) == len(t.buy) == n:
        raise ValueError(f"{n} tokens but {len(t.price)} prices, {len(t.size)} sizes")
    return TradeBatch(
        t.ts,
        tuple(t.asset_ids),
        np.asarray(t.price, dtype=np.float64),
        np.asarray(t.size, dtype=np.float64),
        np.asarray(t.buy, dtype=np.bool_),
    )


class _RecordedBook(msgspec.Struct):
    asset_id: str
    ts: float
    bid_px: list[float]
    bid_sz: list[float]
    ask_px: list[float]
    ask_sz: list[float]
    book_hash: str = ""


_Index = Annotated[int, msgspec.Meta(ge=0, le=2**31)]  # fits the int64 columns


class _RecordedBatch(msgspec.Struct):
    tokens: list[str]
    frame_ts: list[float]
    snap_frame: list[_Index]
    snap_token: list[_Index]
    level_frame: list[_Index]
    level_token: list[_Index]
    level_bid: list[bool]
    level_price: list[float]
    level_size: list[float]


class _RecordedChanges(msgspec.Struct):
    asset_id: str
    ts: float
    changes: list[tuple[Side, float, float]]


# Kinds whose payload is the event's own fields, checked against its annotations.
_PLAIN: dict[str, type[SourceEvent]] = {
    "TradePrint": TradePrint,
    "MarketListed": MarketListed,
    "TickSizeChange": TickSizeChange,
    "MarketResolved": MarketResolved,
    "BookTrust": BookTrust,
}


def decode_event(kind: str, payload: str) -> SourceEvent:
    """The event `encode_event` wrote; `EventDecodeError` for anything else (a payload
    that is not JSON, nested too deep, a missing field or one of the wrong type)."""
    try:
        d = decode_json(payload, json.loads)
        if kind == "BookSnapshot":
            b = msgspec.convert(d, _RecordedBook)
            return BookSnapshot(
                asset_id=b.asset_id,
                ts=b.ts,
                bid_px=np.asarray(b.bid_px, dtype=np.float64),
                bid_sz=np.asarray(b.bid_sz, dtype=np.float64),
                ask_px=np.asarray(b.ask_px, dtype=np.float64),
                ask_sz=np.asarray(b.ask_sz, dtype=np.float64),
                book_hash=b.book_hash,
            )
        if kind == "BookBatch":
            r = msgspec.convert(d, _RecordedBatch)
            return BookBatch(
                tokens=r.tokens,
                frame_ts=np.asarray(r.frame_ts, dtype=np.float64),
                snap_frame=np.asarray(r.snap_frame, dtype=np.int64),
                snap_token=np.asarray(r.snap_token, dtype=np.int64),
                level_frame=np.asarray(r.level_frame, dtype=np.int64),
                level_token=np.asarray(r.level_token, dtype=np.int64),
                level_bid=np.asarray(r.level_bid, dtype=np.bool_),
                level_price=np.asarray(r.level_price, dtype=np.float64),
                level_size=np.asarray(r.level_size, dtype=np.float64),
            )
        if kind == "WholeBooks":
            return _whole(msgspec.convert(d, _RecordedWhole))
        if kind == "TradeBatch":
            return _trades(msgspec.convert(d, _RecordedTrades))
        if kind == "PriceChange":
            c = msgspec.convert(d, _RecordedChanges)
            changes = tuple(LevelChange(side, p, z) for side, p, z in c.changes)
            return PriceChange(asset_id=c.asset_id, ts=c.ts, changes=changes)
        cls = _PLAIN.get(kind)
        if cls is not None:
            out: SourceEvent = msgspec.convert(d, cls)
            return out
    except msgspec.ValidationError as exc:
        raise EventDecodeError(f"recorded {kind} event is malformed: {exc}") from None
    except (TypeError, ValueError) as exc:  # not JSON (OutOfBounds: nested too deep)
        raise EventDecodeError(f"recorded {kind} event is malformed: {exc}") from None
    raise EventDecodeError(f"unknown recorded event kind {shown(kind)}")

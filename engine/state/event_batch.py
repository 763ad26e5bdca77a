"""Book events given as objects (the sim, a REST snapshot, a replay) → one `BookBatch`.

Why: `MarketState` applies books one way only, as batches; a source that emits objects gets
the same semantics (and the same code) as the websocket's columnar batches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.events import BookBatch, BookSnapshot, PriceChange
from engine.models import Side


def batch_of(events: Sequence[BookSnapshot | PriceChange]) -> BookBatch:
    """The events in order, one frame each."""
    codes: dict[str, int] = {}
    frame_ts: list[float] = []
    snap_frame: list[int] = []
    snap_token: list[int] = []
    frames: list[np.typing.NDArray[np.int64]] = []
    tokens: list[np.typing.NDArray[np.int64]] = []
    bids: list[np.typing.NDArray[np.bool_]] = []
    prices: list[np.typing.NDArray[np.float64]] = []
    sizes: list[np.typing.NDArray[np.float64]] = []
    for f, ev in enumerate(events):
        code = codes.setdefault(ev.asset_id, len(codes))
        frame_ts.append(ev.ts)
        if isinstance(ev, BookSnapshot):
            snap_frame.append(f)
            snap_token.append(code)
            n = ev.bid_px.size + ev.ask_px.size
            bid = np.zeros(n, np.bool_)
            bid[: ev.bid_px.size] = True
            px = np.concatenate([ev.bid_px, ev.ask_px]).astype(np.float64)
            sz = np.concatenate([ev.bid_sz, ev.ask_sz]).astype(np.float64)
        else:
            n = len(ev.changes)
            bid = np.array([c.side is Side.BUY for c in ev.changes], np.bool_)
            px = np.array([c.price for c in ev.changes], np.float64)
            sz = np.array([c.size for c in ev.changes], np.float64)
        frames.append(np.full(n, f, np.int64))
        tokens.append(np.full(n, code, np.int64))
        bids.append(bid)
        prices.append(px)
        sizes.append(sz)

    def cat(
        parts: list[np.typing.NDArray[np.generic]], dtype: type
    ) -> np.typing.NDArray[np.generic]:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    return BookBatch(
        tokens=list(codes),
        frame_ts=np.array(frame_ts, np.float64),
        snap_frame=np.array(snap_frame, np.int64),
        snap_token=np.array(snap_token, np.int64),
        level_frame=cat(frames, np.int64),  # type: ignore[arg-type]
        level_token=cat(tokens, np.int64),  # type: ignore[arg-type]
        level_bid=cat(bids, np.bool_),  # type: ignore[arg-type]
        level_price=cat(prices, np.float64),  # type: ignore[arg-type]
        level_size=cat(sizes, np.float64),  # type: ignore[arg-type]
    )

"""Source events to JSON and back, for recording a feed and replaying it.

One place that knows every `SourceEvent` field, so a recorded run replays into exactly the
events the engine saw live. Book arrays become plain lists; floats round-trip exactly (JSON
floats are repr-precise), NaN included.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import numpy as np

from engine.events import (
    BookSnapshot,
    BookTrust,
    LevelChange,
    MarketListed,
    MarketResolved,
    PriceChange,
    SourceEvent,
    TickSizeChange,
    TradePrint,
)
from engine.models import Market, Side


class EventDecodeError(ValueError):
    """A recorded event that cannot be turned back into an engine event."""


def encode_event(ev: SourceEvent) -> tuple[str, str]:
    """(kind, JSON payload) for one event."""
    kind = type(ev).__name__
    if isinstance(ev, BookSnapshot):
        data: dict[str, Any] = {
            "asset_id": ev.asset_id,
            "ts": ev.ts,
            "bid_px": ev.bid_px.tolist(),
            "bid_sz": ev.bid_sz.tolist(),
            "ask_px": ev.ask_px.tolist(),
            "ask_sz": ev.ask_sz.tolist(),
            "book_hash": ev.book_hash,
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


def decode_event(kind: str, payload: str) -> SourceEvent:
    try:
        d = json.loads(payload)
        if kind == "BookSnapshot":
            return BookSnapshot(
                asset_id=d["asset_id"],
                ts=d["ts"],
                bid_px=np.asarray(d["bid_px"], dtype=np.float64),
                bid_sz=np.asarray(d["bid_sz"], dtype=np.float64),
                ask_px=np.asarray(d["ask_px"], dtype=np.float64),
                ask_sz=np.asarray(d["ask_sz"], dtype=np.float64),
                book_hash=d.get("book_hash", ""),
            )
        if kind == "PriceChange":
            changes = tuple(LevelChange(Side(s), p, z) for s, p, z in d["changes"])
            return PriceChange(asset_id=d["asset_id"], ts=d["ts"], changes=changes)
        if kind == "TradePrint":
            return TradePrint(**{**d, "side": Side(d["side"])})
        if kind == "MarketListed":
            return MarketListed(market=Market(**d["market"]), ts=d["ts"])
        if kind == "TickSizeChange":
            return TickSizeChange(**d)
        if kind == "MarketResolved":
            return MarketResolved(**d)
        if kind == "BookTrust":
            return BookTrust(**d)
    except (KeyError, TypeError, ValueError) as exc:
        raise EventDecodeError(f"recorded {kind} event is malformed: {exc}") from None
    raise EventDecodeError(f"unknown recorded event kind {kind!r}")

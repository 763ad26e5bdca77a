"""Market-channel frames in the wire format, for the ingest tests."""

from __future__ import annotations

import json


def change_frame(ts_ms: int, entries: list[tuple[str, str, str, str]]) -> bytes:
    """A `price_change` frame: one entry per (asset_id, price, size, side), prices and sizes
    as the wire's strings."""
    return json.dumps(
        {
            "market": "0xm",
            "price_changes": [
                {"asset_id": t, "price": p, "size": s, "side": side, "hash": "cd"}
                for t, p, s, side in entries
            ],
            "timestamp": str(ts_ms),
            "event_type": "price_change",
        }
    ).encode()

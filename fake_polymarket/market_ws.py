"""The market channel, `/ws/market`, as docs/polymarket_api.md §5.1-§5.4 describes production.

- The first message must be `{"type": "market", "assets_ids": [...]}`; a `PING` (or anything
  else) before it closes the socket with 1008 "invalid subscription payload".
- On subscribing, one frame carries a JSON array of `book` events (unless `initial_dump` is
  false); then events arrive as single objects: `book`, `price_change` (current
  `price_changes[]` layout, filtered to the subscribed assets), `last_trade_price`,
  `tick_size_change`; with `custom_feature_enabled` also `best_bid_ask`, `new_market` and
  `market_resolved`.
- Text `PING` is answered with `PONG`; `{"operation": "subscribe"|"unsubscribe", ...}` changes
  the set on the same socket.
- At most `ws_max_assets` (500) assets per connection: past it the extra assets are ignored and
  the initial snapshots are not delivered, as observed in production (docs/polymarket_api.md,
  gotcha G14).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fake_polymarket import wire
from fake_polymarket.faults import Faults
from fake_polymarket.state import FakeWorld
from fake_polymarket.ws_base import Connection, Hub, parse_object, str_list

JSON = dict[str, Any]


class MarketHub(Hub):
    channel = "market"

    def __init__(self, faults: Faults, max_assets: int) -> None:
        super().__init__(faults)
        self.max_assets = max_assets
        self.world: FakeWorld | None = None  # set once the world exists (it publishes here)

    # --- publishing (called by the world) --------------------------------------------------------

    def interested(self, assets: Sequence[str]) -> bool:
        return any(c.assets.intersection(assets) for c in self.connections)

    def publish(self, payload: JSON, assets: Sequence[str], custom: bool) -> None:
        for conn in self.connections:
            mine = conn.assets
            if not conn.subscribed or (custom and not conn.custom) or not mine.intersection(assets):
                continue
            out = payload
            if payload.get("event_type") == "price_change":
                entries = [e for e in payload["price_changes"] if e["asset_id"] in mine]
                out = {**payload, "price_changes": entries}
            conn.send(self.encode(out))

    def publish_new_market(self, payload: JSON) -> None:
        for conn in self.connections:
            if conn.subscribed and conn.custom:
                conn.send(self.encode(payload))

    # --- a client's messages ---------------------------------------------------------------------

    async def on_text(self, conn: Connection, text: str) -> None:
        if text == "PING":
            if not conn.subscribed:
                await conn.reject()
            else:
                conn.pong()
            return
        msg = parse_object(text)
        if msg is None:
            if not conn.subscribed:
                await conn.reject()
            return
        op = str(msg.get("operation", "")).lower()
        ids = str_list(msg.get("assets_ids", []))
        if not conn.subscribed:
            if str(msg.get("type", "")).lower() != "market" or ids is None:
                await conn.reject()
                return
            conn.subscribed = True
            self._subscribe(conn, ids, msg)
        elif op == "subscribe" and ids is not None:
            self._subscribe(conn, ids, msg)
        elif op == "unsubscribe" and ids is not None:
            conn.assets.difference_update(ids)

    def _subscribe(self, conn: Connection, ids: list[str], msg: JSON) -> None:
        assets = conn.assets
        if msg.get("custom_feature_enabled"):
            conn.custom = True
        fresh = [a for a in dict.fromkeys(ids) if a not in assets]
        room = max(self.max_assets - len(assets), 0)
        overflow = len(fresh) > room
        fresh = fresh[:room]
        assets.update(fresh)
        if overflow or msg.get("initial_dump", True) is False or self.world is None:
            return
        dump = []
        for token in fresh:
            info = self.world.catalog.market_of_token(token)
            if info is None or info.closed:
                continue
            book = self.world.books[info.market.market_id]
            dump.append(wire.ws_book(wire.book_summary(book, token)))
        if dump:
            conn.send(self.encode(dump))

"""The user channel, `/ws/user`: a client's own `order` and `trade` events.

Subscribe with `{"type": "user", "auth": {"apiKey", "secret", "passphrase"}, "markets": [...]}`
(docs/polymarket_api.md §5.5); bad credentials or a bad first message close the socket with
1008. Events are those of the authenticated API key, optionally only for the listed condition
ids; text `PING` gets `PONG`, and `{"operation": "subscribe"|"unsubscribe", "markets": [...]}`
edits the filter.
"""

from __future__ import annotations

from typing import Any

from fake_polymarket.auth import Keyring
from fake_polymarket.faults import Faults
from fake_polymarket.ws_base import Connection, Hub, parse_object, str_list


class UserHub(Hub):
    channel = "user"

    def __init__(self, faults: Faults) -> None:
        super().__init__(faults)
        self.keyring: Keyring | None = None  # set once the world exists

    def publish(self, owner: str, market: str, payload: dict[str, Any]) -> None:
        for conn in self.connections:
            if (
                conn.subscribed
                and conn.owner == owner
                and (not conn.markets or market in conn.markets)
            ):
                conn.send(self.encode(payload))

    async def on_text(self, conn: Connection, text: str) -> None:
        if text == "PING":
            if conn.subscribed:
                conn.pong()
            else:
                await conn.reject()
            return
        msg = parse_object(text)
        markets = str_list(msg.get("markets", [])) if msg is not None else None
        if msg is None or markets is None:
            if not conn.subscribed:
                await conn.reject()
            return
        if conn.subscribed:
            op = str(msg.get("operation", "")).lower()
            if op == "subscribe":
                conn.markets.update(markets)
            elif op == "unsubscribe":
                conn.markets.difference_update(markets)
            return
        auth = msg.get("auth")
        creds = (
            self.keyring.check_ws(auth)
            if self.keyring is not None and isinstance(auth, dict)
            else None
        )
        if str(msg.get("type", "")).lower() != "user" or creds is None:
            await conn.reject()
            return
        conn.owner = creds.api_key
        conn.markets.update(markets)
        conn.subscribed = True

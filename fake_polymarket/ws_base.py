"""What the market and user channels share: a connection with its own send queue, and a hub.

Each connection has a writer task fed by an unbounded queue, so the world (synchronous code on
the loop) can publish without awaiting and one slow client never holds up the others. A stalled
connection keeps its socket and reads but sends nothing, not even `PONG`: the silent stall
Polymarket feeds are known for (docs/polymarket_api.md, gotcha G12); one stalled with
`answers_pings` still sends its `PONG`s and nothing else. A dropped one has its TCP transport
aborted without a close frame, which a client sees as an abnormal closure (1006).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from fake_polymarket.faults import Faults, corrupt

INVALID_SUBSCRIPTION = "invalid subscription payload"
PONG = "PONG"


class Connection:
    """One client socket; the fields of both channels live here to keep it one small type."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, stalled: bool) -> None:
        self.ws = ws
        self.request = request
        self.stalled = stalled
        self.answers_pings = False  # while stalled, PONGs still go out
        self.subscribed = False
        self.assets: set[str] = set()  # market channel: subscribed token ids
        self.custom = False  # market channel: custom_feature_enabled
        self.owner = ""  # user channel: the API key whose events this socket gets
        self.markets: set[str] = set()  # user channel: condition ids filter (empty: all)
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()

    def send(self, text: str) -> None:
        if not self.stalled:
            self.queue.put_nowait(text)

    def pong(self) -> None:
        """Answer a text `PING` (a stalled connection only if it still answers pings)."""
        if not self.stalled or self.answers_pings:
            self.queue.put_nowait(PONG)

    async def write_loop(self) -> None:
        while True:
            text = await self.queue.get()
            if text is None or self.ws.closed:
                return
            if self.stalled and not (self.answers_pings and text == PONG):
                continue
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return

    def drop(self) -> None:
        transport = self.request.transport
        if transport is not None:
            transport.abort()

    async def reject(self, reason: str = INVALID_SUBSCRIPTION) -> None:
        """Close with 1008 (policy violation), as Polymarket does for a bad first message."""
        await self.ws.close(code=1008, message=reason.encode())


class Hub:
    """The live connections of one channel."""

    channel = ""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.connections: set[Connection] = set()
        faults.hubs[self.channel] = self

    def drop_all(self) -> None:
        for c in list(self.connections):
            c.drop()

    def stall_all(self, asset: str | None = None, *, answer_pings: bool = False) -> int:
        stalled = 0
        for c in self.connections:
            if asset is None or asset in c.assets:
                c.stalled = True
                c.answers_pings = answer_pings
                stalled += 1
        return stalled

    async def close_all(self) -> None:
        for c in list(self.connections):
            with contextlib.suppress(Exception):
                await c.ws.close(code=1001, message=b"server shutdown")

    def encode(self, payload: Any) -> str:
        text = json.dumps(payload, separators=(",", ":"))
        how = self.faults.take_ws_corruption(self.channel)
        return corrupt(text, how) if how else text

    async def on_text(self, conn: Connection, text: str) -> None:
        raise NotImplementedError

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one socket until it closes; messages go to `on_text`."""
        ws = web.WebSocketResponse(autoping=True, heartbeat=None)
        await ws.prepare(request)
        conn = Connection(ws, request, stalled=self.channel in self.faults.stall_new_ws)
        self.connections.add(conn)
        writer = asyncio.create_task(conn.write_loop())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self.on_text(conn, msg.data)
        finally:
            self.connections.discard(conn)
            conn.queue.put_nowait(None)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws


def parse_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def str_list(value: Any) -> list[str] | None:
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        return None
    return [str(v) for v in value]


Route = Callable[[web.Request], Awaitable[web.WebSocketResponse]]

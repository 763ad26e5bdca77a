"""CLOB authenticated endpoints: API keys (L1), orders, cancels, trades, balances (L2).

Paths and bodies are those `py_clob_client_v2` uses (its `endpoints.py`); responses follow
docs/polymarket_api.md §4.2-§4.8. L2 requests are verified over the exact body bytes received
and the path without the query string (docs/polymarket_api.md, gotcha G15); failures are 401
`Unauthorized/Invalid api key`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fake_polymarket import wire
from fake_polymarket.auth import ApiCreds, AuthError
from fake_polymarket.faults import Faults
from fake_polymarket.httputil import error, page, reply
from fake_polymarket.orders import BAD_PAYLOAD, OrderRejected
from fake_polymarket.state import FakeWorld

L2Handler = Callable[[web.Request, ApiCreds, str], Awaitable[web.Response]]


class TradingApi:
    def __init__(self, world: FakeWorld, faults: Faults) -> None:
        self.world = world
        self.faults = faults

    def routes(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/auth/api-key", self.create_api_key)
        r.add_get("/auth/derive-api-key", self.derive_api_key)
        r.add_get("/auth/api-keys", self._l2(self.api_keys))
        r.add_delete("/auth/api-key", self._l2(self.delete_api_key))
        r.add_get("/auth/ban-status/closed-only", self._l2(self.closed_only))
        r.add_post("/order", self._l2(self.post_order))
        r.add_post("/orders", self._l2(self.post_orders))
        r.add_delete("/order", self._l2(self.cancel_order))
        r.add_delete("/orders", self._l2(self.cancel_orders))
        r.add_delete("/cancel-all", self._l2(self.cancel_all))
        r.add_delete("/cancel-market-orders", self._l2(self.cancel_market_orders))
        r.add_get("/data/orders", self._l2(self.open_orders))
        r.add_get("/data/order/{id}", self._l2(self.order))
        r.add_get("/data/trades", self._l2(self.trades))
        r.add_get("/balance-allowance", self._l2(self.balance_allowance))
        r.add_get("/balance-allowance/update", self._l2(self.balance_allowance))
        r.add_post("/v1/heartbeats", self._l2(self.heartbeat))
        r.add_get("/order-scoring", self._l2(self.order_scoring))
        r.add_post("/orders-scoring", self._l2(self.orders_scoring))
        r.add_get("/notifications", self._l2(self.notifications))
        r.add_delete("/notifications", self._l2(self.notifications))

    @property
    def _now(self) -> float:
        return self.world.clock.now()

    def _l2(self, handler: L2Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def checked(request: web.Request) -> web.Response:
            body = await request.text()
            try:
                creds = self.world.keyring.check_l2(
                    request.headers, request.method, request.path, body, self._now
                )
            except AuthError as e:
                return error(e.status, e.message)
            try:
                return await handler(request, creds, body)
            except OrderRejected as e:
                return error(e.status, e.message)

        return checked

    # --- API keys (L1) ---------------------------------------------------------------------------

    def _l1(self, request: web.Request) -> tuple[str, int] | web.Response:
        try:
            return self.world.keyring.check_l1(request.headers, self._now)
        except AuthError as e:
            return error(e.status, e.message)

    async def create_api_key(self, request: web.Request) -> web.Response:
        who = self._l1(request)
        if isinstance(who, web.Response):
            return who
        creds = self.world.keyring.create(*who)
        if creds is None:
            return error(400, "Could not create api key")
        self.world.exchange.account(creds.address)
        return reply(creds.as_json())

    async def derive_api_key(self, request: web.Request) -> web.Response:
        who = self._l1(request)
        if isinstance(who, web.Response):
            return who
        creds = self.world.keyring.derive(*who)
        return reply(creds.as_json()) if creds else error(400, "Could not derive api key!")

    async def api_keys(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        return reply({"apiKeys": self.world.keyring.keys_of(creds.address)})

    async def delete_api_key(
        self, request: web.Request, creds: ApiCreds, body: str
    ) -> web.Response:
        self.world.keyring.delete(creds.api_key)
        return reply("OK")

    async def closed_only(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        return reply({"closed_only": False})

    # --- orders ----------------------------------------------------------------------------------

    @staticmethod
    def _json(body: str) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            raise OrderRejected(BAD_PAYLOAD) from None

    async def _held(self, response: web.Response) -> web.Response:
        """The accept-then-timeout fault: the order exists, its answer comes too late."""
        delay = self.faults.take_accept_delay()
        if delay > 0:
            await asyncio.sleep(delay)
        return response

    async def post_order(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        result = self.world.exchange.post_order(creds, self._json(body), self._now)
        return await self._held(reply(result))

    async def post_orders(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        result = self.world.exchange.post_orders(creds, self._json(body), self._now)
        return await self._held(reply(result))

    async def cancel_order(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        payload = self._json(body)
        oid = (
            payload.get("orderID") or payload.get("orderId") if isinstance(payload, dict) else None
        )
        if not isinstance(oid, str) or not oid:
            return error(400, "Invalid orderID")
        return reply(self.world.exchange.cancel(creds, [oid], self._now))

    async def cancel_orders(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        ids = self._json(body)
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return error(400, BAD_PAYLOAD)
        if len(ids) > 3000:
            return error(400, "Too many orders in payload, max allowed: 3000")
        return reply(self.world.exchange.cancel(creds, ids, self._now))

    async def cancel_all(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        ex = self.world.exchange
        return reply(ex.cancel(creds, ex.mine(creds), self._now))

    async def cancel_market_orders(
        self, request: web.Request, creds: ApiCreds, body: str
    ) -> web.Response:
        payload = self._json(body) if body else {}
        if not isinstance(payload, dict):
            return error(400, BAD_PAYLOAD)
        ex = self.world.exchange
        ids = ex.mine(creds, str(payload.get("market", "")), str(payload.get("asset_id", "")))
        return reply(ex.cancel(creds, ids, self._now))

    # --- queries ---------------------------------------------------------------------------------

    def _paged(self, request: web.Request, items: list[Any]) -> web.Response:
        body = page(items, request.query.get("next_cursor"), self.world.config.data_page_size)
        return reply(body) if body is not None else error(400, "Invalid next_cursor")

    async def open_orders(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        q = request.query
        orders = [
            wire.open_order(o)
            for o in self.world.exchange.open_orders()
            if o.owner == creds.api_key
            and (not q.get("id") or o.id == q["id"])
            and (not q.get("market") or o.market == q["market"])
            and (not q.get("asset_id") or o.token == q["asset_id"])
        ]
        return self._paged(request, orders)

    async def order(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        o = self.world.exchange.orders.get(request.match_info["id"])
        if o is None or o.owner != creds.api_key or not o.is_open:
            return reply(None)  # only active orders: docs/polymarket_api.md, gotcha G16
        return reply(wire.open_order(o))

    async def trades(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        q = request.query
        try:
            before = int(q["before"]) if q.get("before") else None
            after = int(q["after"]) if q.get("after") else None
        except ValueError:
            return error(400, "Invalid trade params payload")
        maker = q.get("maker_address", "").lower()
        rows = [
            wire.trade(t, creds.api_key)
            for t in self.world.exchange.trades_of(creds)
            if (not q.get("id") or t.id == q["id"])
            and (not q.get("market") or t.market == q["market"])
            and (not q.get("asset_id") or t.token == q["asset_id"])
            and (
                not maker
                or t.taker_address.lower() == maker
                or any(f.address.lower() == maker for f in t.makers)
            )
            and (before is None or t.match_ts < before)
            and (after is None or t.match_ts > after)
        ]
        return self._paged(request, rows)

    async def balance_allowance(
        self, request: web.Request, creds: ApiCreds, body: str
    ) -> web.Response:
        q = request.query
        asset_type = q.get("asset_type", "COLLATERAL").upper()
        return reply(self.world.exchange.balance_allowance(creds, asset_type, q.get("token_id")))

    async def heartbeat(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        payload = self._json(body) if body else {}
        hb = payload.get("heartbeat_id") if isinstance(payload, dict) else None
        return reply(self.world.exchange.heartbeat(creds, hb, self._now))

    async def order_scoring(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        return reply({"scoring": False})

    async def orders_scoring(
        self, request: web.Request, creds: ApiCreds, body: str
    ) -> web.Response:
        ids = self._json(body) if body else []
        return reply({str(i): False for i in ids} if isinstance(ids, list) else {})

    async def notifications(self, request: web.Request, creds: ApiCreds, body: str) -> web.Response:
        return reply([])

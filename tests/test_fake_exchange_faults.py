"""Each injected fault of the fake, switched on and off while it runs."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
import websockets

from fake_polymarket import FakePolymarket
from tests.fake_exchange_fixture import (
    Trader,
    fake_polymarket_fixture,  # noqa: F401  (registers the fixture)
)
from tests.test_fake_exchange_orders import best, open_market
from tests.test_fake_exchange_ws import drain, first_open, recv_json, subscribe


async def test_5xx_burst_then_recovery(fake_polymarket: FakePolymarket) -> None:
    fake_polymarket.faults.http_error(503, count=2, service="clob", path="/book")
    tok = first_open(fake_polymarket).market.yes_token
    url = fake_polymarket.urls.clob + "/book"
    async with httpx.AsyncClient() as c:
        statuses = [(await c.get(url, params={"token_id": tok})).status_code for _ in range(3)]
        other = await c.get(fake_polymarket.urls.clob + "/time")
        gamma = await c.get(fake_polymarket.urls.gamma + "/markets", params={"closed": "false"})
    assert statuses == [503, 503, 200]
    assert other.status_code == 200 and gamma.status_code == 200


async def test_rate_limit_carries_retry_after(fake_polymarket: FakePolymarket) -> None:
    fake_polymarket.faults.rate_limit(count=1, retry_after=2.5, service="gamma")
    async with httpx.AsyncClient() as c:
        r = await c.get(fake_polymarket.urls.gamma + "/markets")
        again = await c.get(fake_polymarket.urls.gamma + "/markets")
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert r.json() == {"error": "Too Many Requests"}
    assert again.status_code == 200


@pytest.mark.parametrize("kind", ["malformed", "truncated"])
async def test_unparseable_bodies(fake_polymarket: FakePolymarket, kind: str) -> None:
    faults = fake_polymarket.faults
    if kind == "malformed":
        faults.malformed_json(count=1, path="/markets")
    else:
        faults.truncated_json(count=1, path="/markets")
    async with httpx.AsyncClient() as c:
        bad = await c.get(fake_polymarket.urls.gamma + "/markets", params={"closed": "false"})
        good = await c.get(fake_polymarket.urls.gamma + "/markets", params={"closed": "false"})
    assert bad.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad.text)
    if kind == "truncated":
        assert good.text.startswith(bad.text) and len(bad.text) < len(good.text)
    assert isinstance(good.json(), list)


async def test_slow_responses_until_cleared(fake_polymarket: FakePolymarket) -> None:
    fake_polymarket.faults.slow(0.3, service="clob")
    async with httpx.AsyncClient() as c:
        t0 = time.perf_counter()
        await c.get(fake_polymarket.urls.clob + "/time")
        slow = time.perf_counter() - t0
        with pytest.raises(httpx.TimeoutException):
            await c.get(fake_polymarket.urls.clob + "/time", timeout=0.1)
        fake_polymarket.faults.clear()
        t0 = time.perf_counter()
        await c.get(fake_polymarket.urls.clob + "/time")
        fast = time.perf_counter() - t0
    assert slow >= 0.3 and fast < 0.2


async def test_timeout_after_the_order_was_accepted(fake_polymarket: FakePolymarket) -> None:
    trader = await Trader(fake_polymarket).login()
    info, book = open_market(fake_polymarket)
    body = trader.signed(info.market.yes_token, best(book, False), 5)
    fake_polymarket.faults.timeout_after_accept(1.0)
    with pytest.raises(httpx.TimeoutException):
        await trader.request("POST", "/order", body, timeout=0.2)
    # The order exists and traded although the client never heard back ...
    trades = (await trader.request("GET", "/data/trades")).json()["data"]
    assert len(trades) == 1 and trades[0]["size"] == "5"
    # ... so resending the same signed order is refused as a duplicate, not traded twice.
    again = await trader.request("POST", "/order", body)
    assert again.status_code == 400 and again.json()["error"].endswith("is invalid. Duplicated.")


async def test_dropped_websocket_closes_abnormally(fake_polymarket: FakePolymarket) -> None:
    tok = first_open(fake_polymarket).market.yes_token
    ws = await subscribe(fake_polymarket, [tok])
    await recv_json(ws)
    fake_polymarket.faults.drop_ws("market")
    with pytest.raises(websockets.ConnectionClosedError) as closed:
        await asyncio.wait_for(ws.recv(), 2)
    assert closed.value.rcvd is None  # no close frame: 1006 on the client side
    async with await subscribe(fake_polymarket, [tok]) as again:  # reconnecting works
        assert (await recv_json(again))[0]["asset_id"] == tok


async def test_stalled_websocket_stays_open_and_silent(fake_polymarket: FakePolymarket) -> None:
    tok = first_open(fake_polymarket).market.yes_token
    ws = await subscribe(fake_polymarket, [tok])
    await recv_json(ws)
    fake_polymarket.faults.stall_ws("market")
    await ws.send("PING")
    await fake_polymarket.advance(3600)
    assert await drain(ws) == []  # no PONG, no updates, yet connected
    await ws.ping()  # protocol pings are still answered: only the app-level PONG tells
    async with await subscribe(fake_polymarket, [tok]) as fresh:
        await recv_json(fresh)
        await fresh.send("PING")
        assert await asyncio.wait_for(fresh.recv(), 2) == "PONG"
    await ws.close()


async def test_corrupted_websocket_messages(fake_polymarket: FakePolymarket) -> None:
    tok = first_open(fake_polymarket).market.yes_token
    fake_polymarket.faults.corrupt_ws(count=1, how="truncated")
    async with await subscribe(fake_polymarket, [tok]) as ws:
        raw = await asyncio.wait_for(ws.recv(), 2)
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw)
        await ws.send(
            json.dumps(
                {
                    "operation": "subscribe",
                    "assets_ids": [first_open(fake_polymarket).market.no_token],
                }
            )
        )
        assert isinstance(await recv_json(ws), list)

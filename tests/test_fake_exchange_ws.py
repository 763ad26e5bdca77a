"""The fake's market and user websocket channels, with raw `websockets` clients."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from py_clob_client_v2 import OrderArgs
from websockets.asyncio.client import ClientConnection

from fake_polymarket import FakePolymarket
from fake_polymarket.catalog import MarketInfo
from tests.fake_exchange_fixture import (
    Trader,
    fake_polymarket_fixture,  # noqa: F401  (registers the fixture)
    frozen_config,
    sim_settings,
)
from tests.recorded_fixtures import recorded

QUIET = 0.3  # seconds of silence that count as "nothing was sent"


async def recv_json(ws: ClientConnection, timeout: float = 2.0) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def drain(ws: ClientConnection) -> list[Any]:
    """Every frame already sent (and whatever follows within QUIET), parsed where JSON."""
    out: list[Any] = []
    while True:
        try:
            raw = await asyncio.wait_for(ws.recv(), QUIET)
        except TimeoutError:
            return out
        out.append(raw if raw in ("PONG",) else json.loads(raw))


def first_open(fake: FakePolymarket) -> MarketInfo:
    return next(i for i in fake.world.catalog.markets.values() if not i.closed)


async def subscribe(fake: FakePolymarket, assets: list[str], **extra: Any) -> ClientConnection:
    ws = await websockets.connect(fake.urls.ws_market)
    await ws.send(json.dumps({"type": "market", "assets_ids": assets, **extra}))
    return ws


async def test_subscription_dumps_books_as_one_array_of_recorded_shape(
    fake_polymarket: FakePolymarket,
) -> None:
    real = recorded("nautilus_py__ws_book.json")
    info = first_open(fake_polymarket)
    tokens = [info.market.yes_token, info.market.no_token]
    async with await subscribe(fake_polymarket, tokens) as ws:
        dump = await recv_json(ws)
    assert isinstance(dump, list) and [b["asset_id"] for b in dump] == tokens
    for book in dump:
        assert set(real) <= set(book)
        assert book["event_type"] == "book" and book["market"] == info.market.market_id
        bids = [float(x["price"]) for x in book["bids"]]
        assert bids == sorted(bids)


async def test_ping_before_subscribing_closes_with_1008(fake_polymarket: FakePolymarket) -> None:
    async with websockets.connect(fake_polymarket.urls.ws_market) as ws:
        await ws.send("PING")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 2)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    assert closed.value.rcvd.reason == "invalid subscription payload"


async def test_ping_after_subscribing_gets_pong(fake_polymarket: FakePolymarket) -> None:
    info = first_open(fake_polymarket)
    async with await subscribe(fake_polymarket, [info.market.yes_token]) as ws:
        await recv_json(ws)
        await ws.send("PING")
        assert await asyncio.wait_for(ws.recv(), 2) == "PONG"


def apply(book: dict[str, dict[str, str]], msg: dict[str, Any], token: str) -> None:
    if msg["event_type"] == "book" and msg["asset_id"] == token:
        book["bids"] = {x["price"]: x["size"] for x in msg["bids"]}
        book["asks"] = {x["price"]: x["size"] for x in msg["asks"]}
    elif msg["event_type"] == "price_change":
        for e in msg["price_changes"]:
            assert e["asset_id"] == token  # filtered to what we subscribed
            side = book["bids" if e["side"] == "BUY" else "asks"]
            if float(e["size"]) == 0:
                side.pop(e["price"], None)
            else:
                side[e["price"]] = e["size"]


async def test_updates_keep_a_local_book_equal_to_rest(fake_polymarket: FakePolymarket) -> None:
    real_change = recorded("nautilus_py__ws_price_change_v2.json")
    real_trade = recorded("nautilus_py__ws_last_trade_price.json")
    infos = [i for i in fake_polymarket.world.catalog.markets.values() if not i.closed]
    info = max(infos, key=lambda i: i.market.liquidity)  # an active one
    token = info.market.no_token
    async with await subscribe(fake_polymarket, [token]) as ws:
        dump = await recv_json(ws)
        book = {"bids": {x["price"]: x["size"] for x in dump[0]["bids"]},
                "asks": {x["price"]: x["size"] for x in dump[0]["asks"]}}  # fmt: skip
        await fake_polymarket.advance(1800)
        messages = await drain(ws)
    kinds = {m["event_type"] for m in messages}
    assert {"price_change", "last_trade_price"} <= kinds
    for m in messages:
        apply(book, m, token)
        if m["event_type"] == "price_change":
            assert set(m) == set(real_change)
            assert all(set(e) == set(real_change["price_changes"][0]) for e in m["price_changes"])
        if m["event_type"] == "last_trade_price":
            assert set(m) == set(real_trade) and m["asset_id"] == token
    async with httpx.AsyncClient() as c:
        rest = (await c.get(fake_polymarket.urls.clob + "/book", params={"token_id": token})).json()
    assert book["bids"] == {x["price"]: x["size"] for x in rest["bids"]}
    assert book["asks"] == {x["price"]: x["size"] for x in rest["asks"]}
    last_change = [m for m in messages if m["event_type"] == "price_change"][-1]
    if last_change["timestamp"] == rest["timestamp"]:
        assert last_change["price_changes"][-1]["hash"] == rest["hash"]


async def test_dynamic_subscribe_and_unsubscribe(fake_polymarket: FakePolymarket) -> None:
    a, b = [i for i in fake_polymarket.world.catalog.markets.values() if not i.closed][:2]
    async with await subscribe(fake_polymarket, [a.market.yes_token]) as ws:
        await recv_json(ws)
        await ws.send(json.dumps({"operation": "subscribe", "assets_ids": [b.market.yes_token]}))
        dump = await recv_json(ws)
        assert [x["asset_id"] for x in dump] == [b.market.yes_token]
        await ws.send(
            json.dumps(
                {"operation": "unsubscribe", "assets_ids": [a.market.yes_token, b.market.yes_token]}
            )
        )
        await asyncio.sleep(0.05)
        await fake_polymarket.advance(3600)
        assert await drain(ws) == []


async def test_more_assets_than_the_cap_get_no_initial_snapshots() -> None:
    async with FakePolymarket(sim_settings(), frozen_config(ws_max_assets=3)) as fake:
        infos = list(fake.world.catalog.markets.values())
        tokens = [i.market.yes_token for i in infos[:4]]
        async with await subscribe(fake, tokens[:3]) as ws:
            assert len(await recv_json(ws)) == 3
        async with await subscribe(fake, tokens) as ws:
            assert await drain(ws) == []


async def test_custom_features_only_when_enabled() -> None:
    async with FakePolymarket(sim_settings(new_listings_per_day=2000.0), frozen_config()) as fake:
        ending = min(fake.world.catalog.markets.values(), key=lambda i: i.market.end_ts)
        tokens = [ending.market.yes_token, ending.market.no_token]
        plain = await subscribe(fake, tokens)
        custom = await subscribe(fake, tokens, custom_feature_enabled=True)
        await recv_json(plain)
        await recv_json(custom)
        await fake.advance(2 * 3600)
        got_plain, got_custom = await drain(plain), await drain(custom)
        await plain.close()
        await custom.close()
    real_resolved = recorded("nautilus_rs__ws_market_resolved_msg.json")
    real_new = recorded("nautilus_rs__ws_market_new_market_msg.json")
    custom_kinds = {"best_bid_ask", "new_market", "market_resolved"}
    assert not custom_kinds & {m["event_type"] for m in got_plain}
    by_kind: dict[str, list[Any]] = {}
    for m in got_custom:
        by_kind.setdefault(m["event_type"], []).append(m)
    assert custom_kinds <= by_kind.keys()
    resolved = by_kind["market_resolved"][0]
    assert set(real_resolved) <= set(resolved)
    assert resolved["winning_asset_id"] in tokens and resolved["market"] == ending.market.market_id
    assert set(real_new) <= set(by_kind["new_market"][0])
    assert isinstance(by_kind["new_market"][0]["clob_token_ids"], list)  # real arrays here


async def test_user_channel_reports_orders_and_trades(fake_polymarket: FakePolymarket) -> None:
    real_order = recorded("nautilus_py__ws_order_placement.json")
    real_trade = recorded("nautilus_py__ws_user_trade2.json")
    trader = await Trader(fake_polymarket).login()
    creds = trader.client.creds
    assert creds is not None
    async with websockets.connect(fake_polymarket.urls.ws_user) as bad:
        await bad.send(json.dumps({"type": "user", "auth": {"apiKey": creds.api_key, "secret": "x",
                                                             "passphrase": "y"}}))  # fmt: skip
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(bad.recv(), 2)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008

    info = first_open(fake_polymarket)
    book = fake_polymarket.world.books[info.market.market_id]
    ask = book.best(False)
    assert ask is not None
    auth = {"apiKey": creds.api_key, "secret": creds.api_secret, "passphrase": creds.api_passphrase}
    async with websockets.connect(fake_polymarket.urls.ws_user) as ws:
        await ws.send(json.dumps({"type": "user", "auth": auth, "markets": []}))
        await asyncio.sleep(0.05)
        args = OrderArgs(token_id=info.market.yes_token, price=ask / 10_000, size=5, side="BUY")
        result = await trader.call(trader.client.create_and_post_order, args)
        assert result["status"] == "matched"
        events = await drain(ws)
        await ws.send("PING")
        assert await asyncio.wait_for(ws.recv(), 2) == "PONG"
    order = next(e for e in events if e["event_type"] == "order")
    trade = next(e for e in events if e["event_type"] == "trade")
    assert set(order) == set(real_order) and order["type"] == "PLACEMENT"
    assert order["id"] == result["orderID"] and order["owner"] == creds.api_key
    assert set(real_trade) <= set(trade)
    assert trade["id"] == result["tradeIDs"][0] and trade["trader_side"] == "TAKER"
    assert trade["status"] == "MATCHED"

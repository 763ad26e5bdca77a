"""`PolymarketSource` end to end: Gamma and CLOB on an `httpx.MockTransport`, the market
channel on a local websocket server, events folded into the engine's `MarketState`."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from engine.events import BookSnapshot, MarketListed, MarketResolved, SourceEvent
from engine.sources.base import MarketSource, SourceStartError
from engine.sources.polymarket import PolymarketSettings, PolymarketSource
from engine.state.market_state import MarketState
from tests.test_polymarket_ws import book_msg, channel, fast_settings, until


def gamma_market(i: int, **over: Any) -> dict[str, Any]:
    m = {
        "id": str(i),
        "conditionId": f"0x{i:064x}",
        "question": f"Question {i}?",
        "outcomes": '["Yes", "No"]',
        "clobTokenIds": json.dumps([f"{i}01", f"{i}02"]),
        "outcomePrices": '["0.5", "0.5"]',
        "endDate": "2030-01-01T00:00:00Z",
        "createdAt": "2026-01-01T00:00:00Z",
        "volume": "1000",
        "active": True,
        "closed": False,
        "acceptingOrders": True,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
    }
    m.update(over)
    return m


class FakeRest:
    """Gamma + CLOB over one MockTransport; records every request."""

    def __init__(self, markets: list[dict[str, Any]]) -> None:
        self.markets = markets
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, params = request.url.path, request.url.params
        if request.url.host == "gamma.test" and path == "/markets":
            if "condition_ids" in params:
                wanted = set(params["condition_ids"].split(","))
                return httpx.Response(
                    200, json=[m for m in self.markets if m["conditionId"] in wanted]
                )
            offset, limit = int(params["offset"]), int(params["limit"])
            listed = [m for m in self.markets if not m.get("_unlisted")]
            return httpx.Response(200, json=listed[offset : offset + limit])
        if request.url.host == "clob.test" and path == "/books":
            body = json.loads(request.content)
            return httpx.Response(200, json=[book_msg(b["token_id"]) for b in body])
        return httpx.Response(404, json={"error": "not found"})


def settings(port: int, **over: Any) -> PolymarketSettings:
    base: dict[str, Any] = {
        "gamma_url": "http://gamma.test",
        "clob_url": "http://clob.test",
        "ws_stall_seconds": 5,
        "gamma_page_size": 2,
    }
    return fast_settings(port, **{**base, **over})


async def test_start_discovers_snapshots_and_streams() -> None:
    rows = [
        gamma_market(1),
        gamma_market(2, closed=True, outcomePrices='["1", "0"]'),  # resolved: not traded
        gamma_market(3, outcomes='["A","B","C"]', clobTokenIds='["1","2","3"]'),  # not binary
        gamma_market(4, acceptingOrders=False),
        gamma_market(5),
        gamma_market(6),
    ]
    rest = FakeRest(rows)
    async with channel() as fake:
        src = PolymarketSource(
            settings(fake.port, max_markets=2), transport=httpx.MockTransport(rest)
        )
        source: MarketSource = src  # satisfies the engine's protocol
        await source.start()
        markets = await asyncio.to_thread(source.discover)
        assert [m.market_id for m in markets] == [rows[0]["conditionId"], rows[4]["conditionId"]]
        assert src.skipped == 3
        state = MarketState()
        for m in markets:
            state.add_market(m)
        got: list[SourceEvent] = []
        # REST snapshots are queued before start() returns; WS dumps follow.
        await until(lambda: len(fake.subscriptions()) == 1)
        deadline = time.monotonic() + 3
        while sum(isinstance(e, BookSnapshot) for e in got) < 8 and time.monotonic() < deadline:
            got.extend(await asyncio.to_thread(source.poll, time.time()))
            await asyncio.sleep(0.02)
        t0 = time.monotonic()
        await source.stop()
        assert time.monotonic() - t0 < 1.0
    gamma_reqs = [r for r in rest.requests if r.url.host == "gamma.test"]
    assert [r.url.params["offset"] for r in gamma_reqs] == ["0", "2", "4"]
    p = gamma_reqs[0].url.params
    assert (p["closed"], p["active"], p["order"], p["ascending"]) == (
        "false",
        "true",
        "volume24hr",
        "false",
    )
    (books_req,) = [r for r in rest.requests if r.url.path == "/books"]
    assert [b["token_id"] for b in json.loads(books_req.content)] == ["101", "102", "501", "502"]
    assert fake.subscriptions()[0]["assets_ids"] == ["101", "102", "501", "502"]
    res = state.apply(got)
    assert not res.errors
    assert state.bid_px[0, 0] == 0.40 and state.ask_px[0, 0] == 0.60 and state.trusted[:2].all()


async def test_new_listings_are_completed_from_gamma_and_subscribed() -> None:
    new = gamma_market(9, _unlisted=True, endDate="2031-06-01T00:00:00Z", volumeNum=5e5)
    rest = FakeRest([gamma_market(1), new])
    announce = {
        "event_type": "new_market",
        "market": new["conditionId"],
        "question": "Q9?",
        "assets_ids": ["901", "902"],
        "outcomes": ["Yes", "No"],
        "timestamp": "1766790415550",
    }
    async with channel() as fake:
        src = PolymarketSource(settings(fake.port), transport=httpx.MockTransport(rest))
        await src.start()
        await until(lambda: len(fake.subscriptions()) == 1)
        await fake.send(json.dumps(announce))
        await fake.send(json.dumps(announce))  # custom events repeat (one per connection)
        await until(lambda: len(fake.subscriptions()) == 2)
        await until(lambda: len(src.discover()) == 2)
        await asyncio.sleep(0.05)
        events = src.poll(time.time())
        await src.stop()
    listed = [e for e in events if isinstance(e, MarketListed)]
    assert len(listed) == 1
    m = listed[0].market
    assert (
        m.end_ts == datetime(2031, 6, 1, tzinfo=UTC).timestamp() and m.volume == 5e5
    )  # Gamma's record, not the WS stub
    assert fake.subscriptions()[1] == {
        "operation": "subscribe",
        "assets_ids": ["901", "902"],
        "custom_feature_enabled": True,
    }
    lookups = [r for r in rest.requests if "condition_ids" in r.url.params]
    assert len(lookups) == 1 and lookups[0].url.params["closed"] == "false"


async def test_resolutions_pass_once_and_only_for_tracked_markets() -> None:
    rest = FakeRest([gamma_market(1)])
    mid = gamma_market(1)["conditionId"]

    def resolved(market: str, winner: str) -> str:
        return json.dumps(
            {
                "event_type": "market_resolved",
                "market": market,
                "assets_ids": [winner, "x"],
                "winning_asset_id": winner,
                "timestamp": "1766790415550",
            }
        )

    async with channel() as fake:
        src = PolymarketSource(settings(fake.port), transport=httpx.MockTransport(rest))
        await src.start()
        await until(lambda: len(fake.subscriptions()) == 1)
        await fake.send(resolved("0xelsewhere", "77"))
        await fake.send(resolved(mid, "102"))
        await fake.send(resolved(mid, "102"))
        await asyncio.sleep(0.1)
        events = src.poll(time.time())
        await src.stop()
    (r,) = [e for e in events if isinstance(e, MarketResolved)]
    assert r.market_id == mid and r.payout_yes == 0.0  # token 102 is NO


async def test_start_survives_a_books_outage() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/books":
            return httpx.Response(503)
        return FakeRest([gamma_market(1)])(request)

    async with channel() as fake:
        src = PolymarketSource(
            settings(fake.port, retry_attempts=2, retry_base_seconds=0.01),
            transport=httpx.MockTransport(handler),
        )
        await src.start()
        got: list[SourceEvent] = []

        def polled() -> bool:
            got.extend(src.poll(time.time()))
            return len(got) >= 2

        await until(polled)  # the websocket's dump stands in for the failed REST snapshots
        await src.stop()
    assert len(src.discover()) == 1
    assert sorted(e.asset_id for e in got if isinstance(e, BookSnapshot)) == ["101", "102"]


async def test_a_refused_discovery_stops_the_start_clearly_and_leaves_nothing_open() -> None:
    """A 4xx (a wrong host or path) is not an outage: waiting would not fix it."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"error": "not found"})

    src = PolymarketSource(
        settings(1, retry_attempts=2, retry_base_seconds=0.01),
        transport=httpx.MockTransport(handler),
    )
    with pytest.raises(SourceStartError, match=r"discovery refused: GET .*/markets .*HTTP 404"):
        await src.start()
    assert src.streams is None
    assert src.gamma is not None and src.gamma.api.http.is_closed


async def test_gamma_down_at_start_runs_empty_then_lists_markets_when_it_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    healthy = FakeRest([gamma_market(1), gamma_market(2)])
    down = {"gamma": True}
    refused: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if down["gamma"] and request.url.host == "gamma.test":
            refused.append(request)
            return httpx.Response(502, text="Bad Gateway")
        return healthy(request)

    async with channel() as fake:
        src = PolymarketSource(
            settings(
                fake.port, retry_attempts=2, retry_base_seconds=0.01, discovery_retry_seconds=0.05
            ),
            transport=httpx.MockTransport(handler),
        )
        await src.start()  # no exception: an outage is waited out
        assert src.discover() == [] and src.streams is None
        assert "market discovery failed" in caplog.text and "HTTP 502" in caplog.text
        await asyncio.sleep(0.2)
        assert src.discover() == []  # still down: tried again, still nothing
        assert len(refused) >= 4  # 2 attempts at start, 2 per try since
        down["gamma"] = False
        got: list[SourceEvent] = []

        def listed_and_booked() -> bool:
            got.extend(src.poll(time.time()))
            return sum(isinstance(e, BookSnapshot) for e in got) >= 4

        await until(listed_and_booked)
        await until(lambda: len(fake.subscriptions()) == 1)
        t0 = time.monotonic()
        await src.stop()
        assert time.monotonic() - t0 < 1.0
    assert [m.market_id for m in src.discover()] == [f"0x{i:064x}" for i in (1, 2)]
    listed = [e for e in got if isinstance(e, MarketListed)]
    assert [e.market.market_id for e in listed] == [f"0x{i:064x}" for i in (1, 2)]
    first_book = next(i for i, e in enumerate(got) if isinstance(e, BookSnapshot))
    assert first_book > max(got.index(e) for e in listed)  # listings before their books
    state = MarketState()
    assert not state.apply(got).errors and state.n == 2


async def test_stop_while_waiting_for_gamma_is_prompt_and_ends_the_retries() -> None:
    asked: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(time.monotonic())
        return httpx.Response(503)

    src = PolymarketSource(
        settings(1, retry_attempts=1, discovery_retry_seconds=0.05),
        transport=httpx.MockTransport(handler),
    )
    await src.start()
    await until(lambda: len(asked) >= 3)  # retrying in the background
    t0 = time.monotonic()
    await src.stop()
    assert time.monotonic() - t0 < 0.5
    tries = len(asked)
    await asyncio.sleep(0.3)  # six retry periods: none may come after stop
    assert len(asked) == tries

"""Market websocket streams against a small local `websockets` server on 127.0.0.1.

Intervals are shortened through the settings (PING every 0.1 s, stall after 0.3 s) so the
keepalive, watchdog and reconnect paths run in well under a second each.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from engine.events import BookSnapshot, BookTrust, PriceChange, SourceEvent, TickSizeChange
from engine.models import Market
from engine.sources.polymarket import MarketStreams, PolymarketSettings
from engine.sources.polymarket.parse_clob import parse_book
from engine.sources.polymarket.ws import Refresh


def market(i: int) -> Market:
    return Market(f"0x{i:064x}", f"q{i}", "other", f"{i}01", f"{i}02", created_ts=0, end_ts=1)


def book_msg(asset: str, ts_ms: int = 1_700_000_000_000) -> dict[str, Any]:
    return {
        "event_type": "book",
        "asset_id": asset,
        "market": "0xm",
        "timestamp": str(ts_ms),
        "bids": [{"price": "0.40", "size": "10"}],
        "asks": [{"price": "0.60", "size": "10"}],
        "hash": "h",
    }


def change_msg(asset: str, price: str = "0.41", ts_ms: int = 1_700_000_001_000) -> str:
    return json.dumps(
        {
            "event_type": "price_change",
            "market": "0xm",
            "timestamp": str(ts_ms),
            "price_changes": [{"asset_id": asset, "price": price, "side": "BUY", "size": "5"}],
        }
    )


def tick_msg(asset: str) -> str:
    """The asset's tick moves from 0.01 to 0.001."""
    return json.dumps(
        {
            "event_type": "tick_size_change",
            "asset_id": asset,
            "market": "0xm",
            "old_tick_size": "0.01",
            "new_tick_size": "0.001",
            "timestamp": "1700000002000",
        }
    )


class FakeMarketChannel:
    """Enough of Polymarket's market channel: subscribe → book dump, PING → PONG.

    Knobs: `dump` (send snapshots on subscribe), `skip_dump_for` (assets never dumped),
    `pong` (answer pings). Everything clients send is recorded per connection.
    """

    def __init__(self) -> None:
        self.conns: list[ServerConnection] = []
        self.received: list[list[tuple[float, str]]] = []
        self.dump = True
        self.skip_dump_for: set[str] = set()
        self.pong = True
        self.port = 0

    def subscriptions(self) -> list[dict[str, Any]]:
        out = []
        for msgs in self.received:
            for _, text in msgs:
                if text != "PING":
                    out.append(json.loads(text))
        return out

    async def handler(self, ws: ServerConnection) -> None:
        idx = len(self.conns)
        self.conns.append(ws)
        self.received.append([])
        loop = asyncio.get_running_loop()
        async for raw in ws:
            text = raw if isinstance(raw, str) else raw.decode()
            self.received[idx].append((loop.time(), text))
            if text == "PING":
                if self.pong:
                    await ws.send("PONG")
                continue
            msg = json.loads(text)
            assets = [a for a in msg["assets_ids"] if a not in self.skip_dump_for]
            if self.dump and assets:
                await ws.send(json.dumps([book_msg(a) for a in assets]))

    async def send(self, text: str, conn: int = -1) -> None:
        await self.conns[conn].send(text)


@asynccontextmanager
async def channel() -> AsyncIterator[FakeMarketChannel]:
    fake = FakeMarketChannel()
    async with serve(fake.handler, "127.0.0.1", 0) as server:
        fake.port = server.sockets[0].getsockname()[1]
        yield fake


def fast_settings(port: int, **over: Any) -> PolymarketSettings:
    base: dict[str, Any] = {
        "ws_url": f"ws://127.0.0.1:{port}",
        "ws_ping_seconds": 0.1,
        "ws_stall_seconds": 0.3,
        "ws_reconnect_min_seconds": 0.05,
        "ws_reconnect_max_seconds": 0.2,
        "ws_snapshot_timeout_seconds": 5.0,
        "ws_open_timeout_seconds": 2.0,
    }
    base.update(over)
    return PolymarketSettings(**base)


async def until(pred: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def streaming_one_market(
    port: int, got: list[SourceEvent], refresh: Refresh | None = None
) -> MarketStreams:
    """Streams of market 1 (tokens 101/102), started, its two snapshots received."""
    streams = MarketStreams(fast_settings(port, ws_stall_seconds=5), got.extend, refresh=refresh)
    streams.add_markets([market(1)])
    await streams.start()
    await until(lambda: len(got) >= 2)
    return streams


def trust_events(events: list[SourceEvent]) -> list[tuple[str, bool, str]]:
    return [(e.market_id, e.trusted, e.reason) for e in events if isinstance(e, BookTrust)]


async def test_subscription_payload_and_ping_cadence() -> None:
    async with channel() as fake:
        got: list[SourceEvent] = []
        streams = MarketStreams(fast_settings(fake.port, ws_stall_seconds=5), got.extend)
        streams.add_markets([market(1), market(2)])
        await streams.start()
        await until(lambda: len(fake.received) == 1 and len(fake.received[0]) >= 6)
        await streams.stop()
    msgs = fake.received[0]
    first = json.loads(msgs[0][1])
    assert first == {
        "type": "market",
        "assets_ids": ["101", "102", "201", "202"],
        "custom_feature_enabled": True,
    }
    pings = [t for t, text in msgs[1:] if text == "PING"]
    assert len(pings) == len(msgs) - 1  # nothing but PINGs after subscribing
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert all(0.07 <= g <= 0.35 for g in gaps), gaps  # interval + a keepalive tick
    assert pings[0] - msgs[0][0] >= 0.07  # the first PING comes an interval after subscribing
    snaps = [e for e in got if isinstance(e, BookSnapshot)]
    assert sorted(s.asset_id for s in snaps) == ["101", "102", "201", "202"]
    assert trust_events(got) == []  # a healthy start announces nothing


async def test_stalled_feed_is_resubscribed_and_trust_follows() -> None:
    async with channel() as fake:
        got: list[SourceEvent] = []
        streams = MarketStreams(fast_settings(fake.port), got.extend)
        streams.add_markets([market(1)])
        await streams.start()
        # The server answers PINGs but sends no market data after the dump: a silent stall.
        await until(lambda: len(fake.conns) >= 2)
        await until(lambda: any(e.trusted for e in got if isinstance(e, BookTrust)))
        stream = streams.streams[0]
        await streams.stop()
    assert stream.stalls >= 1 and stream.connects >= 2
    assert fake.subscriptions()[0] == fake.subscriptions()[1]  # same assets again
    trust = trust_events(got)
    mid = market(1).market_id
    assert trust[0][:2] == (mid, False) and trust[0][2].startswith("stalled: no market data")
    assert trust[1] == (mid, True, "fresh snapshot")
    # Order: untrusted, then both fresh snapshots, then trusted.
    kinds = [type(e).__name__ for e in got]
    i_false = kinds.index("BookTrust")
    assert kinds[i_false + 1 : i_false + 4] == ["BookSnapshot", "BookSnapshot", "BookTrust"]


async def test_dropped_connection_reconnects_and_resubscribes() -> None:
    async with channel() as fake:
        got: list[SourceEvent] = []
        streams = await streaming_one_market(fake.port, got)
        fake.conns[0].transport.abort()  # no close frame: a network drop
        await until(lambda: len(fake.conns) >= 2 and len(fake.subscriptions()) >= 2)
        await until(lambda: len(trust_events(got)) >= 2)
        await fake.send(change_msg("101"))
        await until(lambda: any(isinstance(e, PriceChange) for e in got))
        await streams.stop()
    trust = trust_events(got)
    assert [t[1] for t in trust] == [False, True]
    assert trust[0][2].startswith("connection lost")


async def test_reconnect_backs_off_while_the_server_is_down() -> None:
    async with channel() as fake:
        port = fake.port
    # Nothing listens on `port` any more: every connect fails.
    got: list[SourceEvent] = []
    streams = MarketStreams(
        fast_settings(port, ws_reconnect_min_seconds=0.02, ws_reconnect_max_seconds=0.08),
        got.extend,
    )
    streams.add_markets([market(1)])
    t0 = time.monotonic()
    await streams.start()
    await asyncio.sleep(0.5)
    await streams.stop()
    assert time.monotonic() - t0 < 1.2
    trust = trust_events(got)
    assert len(trust) == 1 and not trust[0][1]  # announced once, not per attempt
    assert trust[0][2].startswith("connection failed")


async def test_malformed_frames_are_skipped_and_the_stream_keeps_going(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="polyb0t.polymarket.ws")
    async with channel() as fake:
        got: list[SourceEvent] = []
        streams = await streaming_one_market(fake.port, got)
        for junk in ("{not json", "[1, 2]", '{"event_type": "book"}', change_msg("101", "7")):
            await fake.send(junk)
        await fake.send(json.dumps({"event_type": "brand_new_thing"}))
        await fake.send(change_msg("101", "0.42"))
        await until(lambda: any(isinstance(e, PriceChange) for e in got))
        stream = streams.streams[0]
        await streams.stop()
    (pc,) = [e for e in got if isinstance(e, PriceChange)]
    assert pc.changes[0].price == 0.42
    assert stream.bad_frames == 4 and stream.connects == 1
    logged = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    assert len(logged) == 5  # "[1, 2]" holds two bad events
    assert any("not valid JSON" in m for m in logged)
    assert any("price_changes[0].price" in m for m in logged)


async def test_tick_size_change_untrusts_until_a_rest_snapshot() -> None:
    refreshed: list[list[str]] = []

    async def refresh(tokens: list[str]) -> list[BookSnapshot]:
        refreshed.append(tokens)
        return [parse_book(book_msg(t, 1_700_000_005_000)) for t in tokens]

    async with channel() as fake:
        got: list[SourceEvent] = []
        streams = await streaming_one_market(fake.port, got, refresh)
        await fake.send(tick_msg("101"))
        await until(lambda: len(trust_events(got)) >= 2)
        # Deltas older than the REST snapshot are stale: dropped.
        await fake.send(change_msg("101", "0.45", ts_ms=1_700_000_004_000))
        await fake.send(change_msg("101", "0.46", ts_ms=1_700_000_006_000))
        await until(lambda: any(isinstance(e, PriceChange) for e in got))
        await streams.stop()
    assert refreshed == [["101"]]
    kinds = [type(e).__name__ for e in got[2:]]
    assert kinds == ["TickSizeChange", "BookTrust", "BookSnapshot", "BookTrust", "PriceChange"]
    assert isinstance(got[2], TickSizeChange) and got[2].new_tick == 0.001
    assert [t[1:] for t in trust_events(got)] == [
        (False, "tick size change"),
        (True, "fresh snapshot"),
    ]
    (pc,) = [e for e in got if isinstance(e, PriceChange)]
    assert pc.changes[0].price == 0.46


async def test_tick_size_change_without_rest_resubscribes() -> None:
    async with channel() as fake:
        got: list[SourceEvent] = []
        streams = await streaming_one_market(fake.port, got)
        await fake.send(tick_msg("102"))
        await until(lambda: len(trust_events(got)) >= 2)
        await streams.stop()
    assert len(fake.conns) == 2
    assert [t[1] for t in trust_events(got)] == [False, True]


async def test_deltas_before_the_snapshot_are_dropped_after_a_reconnect() -> None:
    async with channel() as fake:
        got: list[SourceEvent] = []
        streams = await streaming_one_market(fake.port, got)
        fake.dump = False
        await fake.conns[0].close()
        await until(lambda: len(fake.subscriptions()) >= 2)
        await fake.send(change_msg("101"))  # the book it would apply to is gone
        await fake.send(json.dumps([book_msg("101"), book_msg("102")]))
        await until(lambda: len(trust_events(got)) >= 2)
        stream = streams.streams[0]
        await streams.stop()
    assert not any(isinstance(e, PriceChange) for e in got)
    assert stream.trust.dropped == 1


async def test_missing_snapshots_are_fetched_over_rest() -> None:
    refreshed: list[list[str]] = []

    async def refresh(tokens: list[str]) -> list[BookSnapshot]:
        refreshed.append(tokens)
        return [parse_book(book_msg(t)) for t in tokens]

    async with channel() as fake:
        fake.skip_dump_for = {"102"}
        got: list[SourceEvent] = []
        settings = fast_settings(fake.port, ws_stall_seconds=5, ws_snapshot_timeout_seconds=0.2)
        streams = MarketStreams(settings, got.extend, refresh=refresh)
        streams.add_markets([market(1)])
        await streams.start()
        await until(lambda: bool(refreshed))
        await until(lambda: len([e for e in got if isinstance(e, BookSnapshot)]) == 2)
        await streams.stop()
    assert refreshed == [["102"]]


async def test_sharding_and_adding_markets_while_running() -> None:
    async with channel() as fake:
        got: list[SourceEvent] = []
        streams = MarketStreams(
            fast_settings(fake.port, ws_stall_seconds=5, ws_assets_per_connection=4), got.extend
        )
        streams.add_markets([market(i) for i in range(1, 4)])  # 6 assets: 2 connections
        await streams.start()
        await until(lambda: len(fake.subscriptions()) == 2)
        streams.add_markets([market(4)])  # room on the second connection: dynamic subscribe
        await until(lambda: len(fake.subscriptions()) == 3)
        streams.add_markets([market(5)])  # no room anywhere: a third connection
        await until(lambda: len(fake.subscriptions()) == 4)
        await until(lambda: len([e for e in got if isinstance(e, BookSnapshot)]) == 10)
        await streams.stop()
    subs = fake.subscriptions()
    by_conn = [[json.loads(t) for _, t in msgs if t != "PING"] for msgs in fake.received]
    assert by_conn[0] == [
        {
            "type": "market",
            "assets_ids": ["101", "102", "201", "202"],
            "custom_feature_enabled": True,
        }
    ]
    assert by_conn[1] == [
        {"type": "market", "assets_ids": ["301", "302"], "custom_feature_enabled": True},
        {"operation": "subscribe", "assets_ids": ["401", "402"], "custom_feature_enabled": True},
    ]
    assert by_conn[2][0]["assets_ids"] == ["501", "502"]
    assert all(len(s["assets_ids"]) <= 4 for s in subs)


async def test_stop_is_prompt_even_mid_connection() -> None:
    async with channel() as fake:
        streams = MarketStreams(fast_settings(fake.port, ws_stall_seconds=5), lambda e: None)
        streams.add_markets([market(i) for i in range(1, 300)])
        await streams.start()
        await until(lambda: len(fake.subscriptions()) >= 2)
        t0 = time.monotonic()
        await streams.stop()
        assert time.monotonic() - t0 < 1.0
    assert all(t.done() for t in asyncio.all_tasks() if t.get_name().startswith("shard-"))


@pytest.mark.parametrize("assets", [2, 200])
def test_settings_bound_the_shard_size(assets: int) -> None:
    s = PolymarketSettings(ws_assets_per_connection=assets)
    streams = MarketStreams(s, lambda e: None)
    streams.add_markets([market(i) for i in range(1, 202)])
    assert all(len(x.assets) <= assets for x in streams.streams)
    assert sum(len(x.assets) for x in streams.streams) == 402


async def test_tick_size_change_with_an_empty_rest_answer_resubscribes() -> None:
    async def refresh(tokens: list[str]) -> list[BookSnapshot]:
        return []  # the server knew no book for the token

    async with channel() as fake:
        got: list[SourceEvent] = []
        streams = await streaming_one_market(fake.port, got, refresh)
        await fake.send(tick_msg("101"))
        await until(lambda: len(trust_events(got)) >= 2)
        await streams.stop()
    assert len(fake.conns) == 2  # a new connection brought the fresh snapshot
    assert [t[1] for t in trust_events(got)] == [False, True]

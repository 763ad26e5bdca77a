"""End to end: the engine (paper, and live dry run) on the fake Polymarket while one of its
two websocket connections stalls silently, PONGs included (issue 13, "Feed stalls").

The stall lasts ~2 s (new sockets stall too until the fault is cleared), so the engine keeps
stepping through it. What the engine applied and what it routed are recorded at the source's
`poll` and the route's `send`, in engine time (wall clock with `--source polymarket`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.events import BookSnapshot, BookTrust, SourceEvent
from engine.execution.intents import IntentError
from engine.models import IntentState, Market, OrderRequest, TradeIntent
from engine.run.step_result import RunSummary
from engine.sources.polymarket import PolymarketSource
from fake_polymarket import FakeConfig, ThreadedFakePolymarket
from polyb0t_tui.runtime import build_runtime
from tests.fake_exchange_fixture import edge_sim_settings, settings_against
from tests.sim_edge import EDGE_STRATEGY

pytestmark = pytest.mark.slow

PING, PONG_TIMEOUT = 0.3, 0.3
STALL_AT, CLEAR_AT, DURATION = 1.5, 3.0, 5.0  # seconds into the run


@dataclass
class Timeline:
    polled: list[tuple[float, list[SourceEvent]]] = field(default_factory=list)
    sent: list[tuple[float, str]] = field(default_factory=list)  # (engine time, market)
    stalled: set[str] = field(default_factory=set)
    tokens: set[str] = field(default_factory=set)
    intents: list[TradeIntent] = field(default_factory=list)  # live: all, at the end
    stall_ts: float = 0.0
    clear_ts: float = 0.0

    def trust_changes(self, trusted: bool) -> list[float]:
        """When the engine applied a trust change for the stalled markets."""
        return [
            t
            for t, evs in self.polled
            if any(
                isinstance(e, BookTrust) and e.market_id in self.stalled and e.trusted is trusted
                for e in evs
            )
        ]

    def routed(self, lo: float, hi: float, stalled: bool = True) -> list[tuple[float, str]]:
        return [(t, m) for t, m in self.sent if lo <= t < hi and (m in self.stalled) is stalled]


def run_with_a_stall(tmp_path: Path, live: bool, caplog: pytest.LogCaptureFixture) -> Timeline:
    caplog.set_level(logging.WARNING, logger="polyb0t.polymarket.ws")
    # World steps of 15 s at 30x: market data every ~0.5 s on each connection.
    sim = edge_sim_settings(markets=40, seed=5, step_seconds=15.0)  # one the baseline trades
    with ThreadedFakePolymarket(sim, FakeConfig(speed=30.0)) as fake:
        u = fake.urls
        settings = settings_against(
            u,
            str(tmp_path / "data"),
            loop_interval_seconds=0.25,
            polymarket={
                "gamma_url": u.gamma,
                "clob_url": u.clob,
                "ws_url": u.ws_market,
                "ws_assets_per_connection": 40,  # 40 markets: two connections of 20
                "ws_ping_seconds": PING,
                "ws_pong_timeout_seconds": PONG_TIMEOUT,
                "ws_reconnect_min_seconds": 0.1,
                "ws_reconnect_max_seconds": 0.2,
            },
            # Let the engine trade every market on every cycle, so a quiet spell shows.
            risk={
                "bankroll": 1e6,
                "cooldown_seconds": 0,
                "max_position_pct": 1.0,
                "max_total_exposure_pct": 1.0,
                "max_event_exposure_pct": 1.0,
                "max_deploy_per_hour_pct": 1.0,
            },
            live={"intent_poll_seconds": 0.25},
            strategy=EDGE_STRATEGY,
        )
        rt = build_runtime(settings, live=live)
        src = rt.source
        assert isinstance(src, PolymarketSource)
        tl = Timeline()
        poll, send = src.poll, rt.cycle.route.send

        def polled(now: float) -> list[SourceEvent]:
            events = poll(now)
            tl.polled.append((now, events))
            return events

        def sent(orders: list[OrderRequest], markets: dict[str, Market], now: float) -> None:
            tl.sent.extend((now, o.market_id) for o in orders)
            send(orders, markets, now)

        src.poll = polled  # type: ignore[method-assign]
        rt.cycle.route.send = sent  # type: ignore[method-assign]

        def stall() -> None:
            assert src.streams is not None
            shard = src.streams.streams[0]
            tl.stalled = set(shard.market_ids)
            tl.tokens = set(shard.trust.tokens)
            token = next(iter(tl.tokens))
            tl.stall_ts = time.time()
            faults = fake.fake.faults
            fake.call(lambda: faults.stall_ws("market", asset=token, new_connections=True))

        def clear() -> None:
            tl.clear_ts = time.time()
            fake.call(fake.fake.faults.clear)

        timers = [threading.Timer(STALL_AT, stall), threading.Timer(CLEAR_AT, clear)]
        for timer in timers:
            timer.start()
        store = rt.storage.intents

        async def approve_everything(engine: asyncio.Task[Any]) -> None:
            """A person approving every intent at once, so the engine keeps proposing."""
            while not engine.done():
                for intent in await asyncio.to_thread(store.list, IntentState.PENDING, None):
                    with contextlib.suppress(IntentError):
                        await asyncio.to_thread(rt.commands.approve, intent.intent_id)
                await asyncio.sleep(0.1)

        async def main() -> RunSummary:
            engine = asyncio.create_task(rt.engine.run(asyncio.Event(), duration=DURATION))
            if live:
                await approve_everything(engine)
            return await engine

        try:
            summary = asyncio.run(main())
        finally:
            for timer in timers:
                timer.cancel()
        assert summary.errors == 0
        if live:  # what was routed is what the intent store holds
            tl.intents = store.list(limit=None)
            assert sorted((i.created_ts, i.market_id) for i in tl.intents) == sorted(tl.sent)
    return tl


@pytest.mark.parametrize("live", [False, True], ids=["paper", "live-dry-run"])
def test_no_order_or_intent_on_a_stalled_connections_markets_until_a_fresh_snapshot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, live: bool
) -> None:
    tl = run_with_a_stall(tmp_path, live, caplog)
    assert len(tl.stalled) == 20 and tl.stall_ts and tl.clear_ts
    assert tl.routed(0, tl.stall_ts), "the stalled markets traded before the stall"

    # Detected within PING + PONG deadline (+ one engine step and slack), far under 10 s.
    untrusted = [t for t in tl.trust_changes(False) if t >= tl.stall_ts]
    assert untrusted, "the stall was never applied"
    detected = untrusted[0]
    assert detected - tl.stall_ts < PING + PONG_TIMEOUT + 0.25 + 0.5 < 10

    # Trust comes back only once the fault is gone, with fresh snapshots in that very batch.
    retrusted = [t for t in tl.trust_changes(True) if t >= detected]
    assert retrusted and retrusted[0] >= tl.clear_ts
    back = retrusted[0]
    (batch,) = [evs for t, evs in tl.polled if t == back]
    snapped = {e.asset_id for e in batch if isinstance(e, BookSnapshot)}
    assert tl.tokens <= snapped

    # Nothing routed on the stalled markets in between, while the other connection traded.
    assert tl.routed(detected, back) == []
    assert tl.routed(detected, back, stalled=False), "the healthy connection kept trading"
    assert tl.routed(back, float("inf")), "trading on them resumed after the fresh snapshot"

    if live:  # approved intents on the stalled markets were not executed in the stall either
        done = [
            i.updated_ts
            for i in tl.intents
            if i.market_id in tl.stalled and i.state is IntentState.EXECUTED_DRYRUN
        ]
        assert done and not [t for t in done if t is not None and detected <= t < back]

    stalls = [r.getMessage() for r in caplog.records if "stalled: no PONG" in r.getMessage()]
    assert stalls[0].startswith("ws shard-0: stalled: no PONG 0.3 s after PING; silent ")
    assert stalls[0].endswith("s, 20 of 20 markets untrusted; resubscribing")

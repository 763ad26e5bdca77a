"""Feed stalls: the detector and the stale guard on injected clocks, the fake's stall faults,
a stream and a source against the fake. The engine end to end is in test_feed_stalls_e2e.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from engine.config import PolymarketSettings
from engine.events import BookSnapshot, BookTrust, MarketListed, SourceEvent
from engine.execution.approvals import ApprovalProcessor
from engine.execution.intents import IntentStore
from engine.execution.portfolio import Portfolio
from engine.execution.recheck import recheck_intent
from engine.models import IntentState
from engine.sources.polymarket import PolymarketSource
from engine.sources.polymarket.stale import StaleGuard
from engine.sources.polymarket.stall import GAPS_MIN, StallDetector
from engine.sources.polymarket.ws import MarketStream
from engine.storage import Database
from fake_polymarket import FakePolymarket
from tests.fake_exchange_fixture import (
    fake_polymarket_fixture,  # noqa: F401  (registers the fixture)
)
from tests.state_factories import book, market, state_with
from tests.test_approvals import intent_on
from tests.test_fake_exchange_ws import drain, first_open, recv_json, subscribe

DEFAULTS = PolymarketSettings()


# --- the detector, on an injected clock ------------------------------------------------------


def detector(**over: Any) -> StallDetector:
    return StallDetector(PolymarketSettings(**over))


def test_a_ping_nothing_answers_is_a_stall_after_the_pong_timeout() -> None:
    d = detector(ws_ping_seconds=5, ws_pong_timeout_seconds=3, ws_stall_seconds=60)
    d.start(100.0)
    assert not d.ping_due(104.9) and d.ping_due(105.0)
    d.on_ping(105.0)
    assert d.next_wake() == 108.0  # the PONG deadline comes before the next PING
    assert d.check(107.9) is None
    assert d.check(108.0) == "no PONG 3.0 s after PING"


@pytest.mark.parametrize("answer", ["pong", "data"])
def test_any_frame_answers_the_ping(answer: str) -> None:
    d = detector(ws_ping_seconds=5, ws_pong_timeout_seconds=3, ws_stall_seconds=60)
    d.start(0.0)
    d.on_ping(5.0)
    d.on_pong(5.1) if answer == "pong" else d.on_data(5.1)
    assert d.check(9.0) is None
    assert d.next_wake() == 10.0  # the next PING
    d.on_ping(10.0)
    d.on_ping(15.0)  # the first one still unanswered: its deadline counts
    assert d.check(13.0) == "no PONG 3.0 s after PING"


def feed(d: StallDetector, gaps: list[float], t: float = 0.0) -> float:
    d.start(t)
    d.on_data(t)
    for g in gaps:
        t += g
        d.on_data(t)
    return t


def test_the_silence_limit_follows_the_connections_recent_activity() -> None:
    d = detector(ws_silence_factor=10, ws_silence_min_seconds=2, ws_stall_seconds=15)
    feed(d, [0.3] * (GAPS_MIN - 1))
    assert d.silence_limit() == 15  # too few gaps to judge by: the upper bound
    feed(d, [0.01] * 40)
    assert d.silence_limit() == 2  # busy: the lower bound
    feed(d, [0.5] * 40)
    assert d.silence_limit() == pytest.approx(5.0)  # ten mean gaps
    feed(d, [4.0] * 40)
    assert d.silence_limit() == 15  # quiet: capped
    # Bursts: 7 quick frames, then 4 s of quiet. The mean gap is ~0.5 s, yet a 4 s pause is
    # what this connection does: twice the longest recent gap.
    t = feed(d, ([0.01] * 7 + [4.0]) * 5)
    assert d.silence_limit() == pytest.approx(8.0)
    assert d.check(t + 7.9) is None
    assert d.check(t + 8.0) == "no market data for 8.0 s (limit 8.0 s)"


def test_a_new_connection_forgets_the_last_ones_activity() -> None:
    d = detector(ws_silence_min_seconds=1, ws_stall_seconds=15)
    t = feed(d, [0.05] * 40)
    assert d.silence_limit() == 1
    d.start(t + 20)  # reconnected; the 20 s of the stall are no gap between data frames
    assert d.silence_limit() == 15 and d.silent_for(t + 21) == 1.0


def run_detector(
    s: PolymarketSettings, cadence: float, stall_at: float, rtt: float, horizon: float
) -> tuple[float | None, float]:
    """Drive a detector as `MarketStream` does (wake at `next_wake`, check, PING when due;
    frames as they come) over a feed with data every `cadence` s and PONGs `rtt` after each
    PING, until the server goes silent at `stall_at`. (detection time, last frame's time)."""
    d = StallDetector(s)
    d.start(0.0)
    data = cadence
    pongs: list[float] = []
    last = 0.0
    while True:
        wake = d.next_wake()
        frame = min([data, *pongs])
        if frame < stall_at and frame <= wake:
            if frame == data:
                d.on_data(frame)
                data += cadence
            else:
                pongs.remove(frame)
                d.on_pong(frame)
            last = frame
            continue
        if wake > horizon:
            return None, last
        if d.check(wake) is not None:
            return wake, last
        if d.ping_due(wake):
            d.on_ping(wake)
            pongs.append(wake + rtt)


@settings(max_examples=150, deadline=None)
@given(
    cadence=st.floats(0.02, 4.0),
    stall_at=st.floats(1.0, 120.0),
    rtt=st.floats(0.001, 1.0),
)
def test_with_default_settings_a_pongless_stall_is_seen_within_10_s_and_never_early(
    cadence: float, stall_at: float, rtt: float
) -> None:
    detected, last = run_detector(DEFAULTS, cadence, stall_at, rtt, horizon=stall_at + 60)
    assert detected is not None
    assert detected >= stall_at, "a healthy feed was called stalled"
    bound = DEFAULTS.ws_ping_seconds + DEFAULTS.ws_pong_timeout_seconds
    assert detected - last <= bound + 1e-9 and bound <= 10


@settings(max_examples=50, deadline=None)
@given(cadence=st.floats(0.02, 0.5), rtt=st.floats(0.001, 0.5))
def test_a_healthy_feed_is_never_called_stalled(cadence: float, rtt: float) -> None:
    detected, _ = run_detector(DEFAULTS, cadence, stall_at=1e9, rtt=rtt, horizon=300.0)
    assert detected is None


# --- the stale guard, on an injected clock ---------------------------------------------------


@dataclass(eq=False)
class Feed:
    name: str
    last_data: float
    market_ids: list[str] = field(default_factory=list)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def trust_of(events: list[SourceEvent]) -> list[tuple[str, bool, str]]:
    return [(e.market_id, e.trusted, e.reason) for e in events if isinstance(e, BookTrust)]


def test_a_connection_silent_past_stale_after_has_its_markets_untrusted_in_that_poll(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="polyb0t.polymarket")
    clock = Clock()
    guard = StaleGuard(5.0, clock)
    quiet = Feed("shard-0", clock.t, ["a", "b"])
    busy = Feed("shard-1", clock.t, ["c"])
    snap = BookSnapshot("tok", 0.0, *([],) * 4)  # type: ignore[arg-type]
    clock.t += 5.0
    busy.last_data = clock.t
    assert guard.poll([quiet, busy], lambda: [snap], 1.0) == [snap]  # 5.0 s: not yet
    clock.t += 0.1
    busy.last_data = clock.t
    out = guard.poll([quiet, busy], lambda: [snap], 2.0)
    assert out[0] is snap  # the drained events first, the guard's after
    assert trust_of(out) == [
        ("a", False, "stale: no market data for 5.1 s"),
        ("b", False, "stale: no market data for 5.1 s"),
    ]
    assert guard.is_stale("a") and not guard.is_stale("c")
    (warning,) = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.getMessage() == (
        "polymarket: ws shard-0 silent 5.1 s (stale_after_seconds 5): 2 of 2 markets "
        "untrusted until it delivers again"
    )
    assert guard.poll([quiet, busy], list, 3.0) == []  # said once
    quiet.last_data = clock.t
    assert trust_of(guard.poll([quiet, busy], list, 4.0)) == [
        ("a", True, "feed live again"),
        ("b", True, "feed live again"),
    ]
    assert not guard.is_stale("a")


def test_untrusted_while_either_the_tracker_or_the_guard_says_so() -> None:
    clock = Clock()
    guard = StaleGuard(1.0, clock)
    f = Feed("shard-0", clock.t, ["a", "b", "c"])
    gap = BookTrust("a", 0.0, False, "tick size change")
    assert guard.poll([f], lambda: [gap], 0.0) == [gap]
    clock.t += 2.0
    # "a" is untrusted already: not announced again; "b", "c" are.
    assert [m for m, *_ in trust_of(guard.poll([f], list, 0.0))] == ["b", "c"]
    # A fresh snapshot re-trusts "a" in its tracker, and "b" loses trust there: the guard
    # holds the first back (its connection is still silent) and passes the second.
    held: list[SourceEvent] = [
        BookTrust("a", 0.0, True, "fresh snapshot"),
        BookTrust("b", 0.0, False, "x"),
    ]
    assert trust_of(guard.poll([f], lambda: held, 0.0)) == [("b", False, "x")]
    f.last_data = clock.t
    assert [m for m, *_ in trust_of(guard.poll([f], list, 0.0))] == ["a", "c"]  # not "b"


def test_markets_added_to_a_silent_connection_are_untrusted_too() -> None:
    clock = Clock()
    guard = StaleGuard(1.0, clock)
    f = Feed("shard-0", clock.t, ["a"])
    clock.t += 2.0
    assert [m for m, *_ in trust_of(guard.poll([f], list, 0.0))] == ["a"]
    f.market_ids.append("b")
    assert [m for m, *_ in trust_of(guard.poll([f], list, 0.0))] == ["b"]
    f.last_data = clock.t
    assert [m for m, *_ in trust_of(guard.poll([f], list, 0.0))] == ["a", "b"]


def test_what_the_guard_reads_precedes_what_it_drains() -> None:
    """A frame that arrives while the queue is drained counts from the next poll: the guard
    never judges a connection by data whose events it has not handed over yet, nor names a
    market whose listing is still queued."""
    clock = Clock()
    guard = StaleGuard(1.0, clock)
    f = Feed("shard-0", clock.t, ["a"])
    clock.t += 2.0
    listed = market(7)

    def draining() -> list[SourceEvent]:
        f.last_data = clock.t  # the frame lands during the drain ...
        f.market_ids.append(listed.market_id)  # ... and so does a listing
        return [MarketListed(listed, 0.0)]

    out = guard.poll([f], draining, 0.0)
    assert isinstance(out[0], MarketListed)
    assert trust_of(out) == [("a", False, "stale: no market data for 2.0 s")]
    assert trust_of(guard.poll([f], list, 0.0)) == [("a", True, "feed live again")]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("silent"), st.integers(0, 1), st.floats(0.0, 3.0)),
            st.tuples(st.just("tracker"), st.integers(0, 5), st.booleans()),
            st.tuples(st.just("poll"), st.just(0), st.just(0.0)),
        ),
        max_size=40,
    )
)
def test_the_engine_sees_a_market_trusted_exactly_when_tracker_and_guard_agree(
    ops: list[tuple[str, int, Any]],
) -> None:
    clock = Clock()
    guard = StaleGuard(1.0, clock)
    feeds = [Feed(f"shard-{i}", clock.t, [f"m{i}{k}" for k in range(3)]) for i in range(2)]
    tracker = {m: True for f in feeds for m in f.market_ids}
    engine = dict(tracker)  # what MarketState.trusted holds
    queued: list[SourceEvent] = []
    for op, i, arg in [*ops, ("poll", 0, 0.0)]:
        if op == "silent":
            feeds[i].last_data = clock.t - arg
        elif op == "tracker":
            m = f"m{i // 3}{i % 3}"
            if tracker[m] != arg:  # a tracker announces changes only
                tracker[m] = arg
                queued.append(BookTrust(m, 0.0, arg, "tracker"))
        else:
            silent = {f.name: clock.t - f.last_data > 1.0 for f in feeds}
            batch, queued[:] = list(queued), []
            for ev in guard.poll(feeds, lambda b=batch: b, 0.0):  # type: ignore[misc]
                assert isinstance(ev, BookTrust)
                engine[ev.market_id] = ev.trusted
            for f in feeds:
                for m in f.market_ids:
                    assert engine[m] == (tracker[m] and not silent[f.name]), (m, ops)


# --- live re-check of an approved intent -----------------------------------------------------


def test_an_approved_intent_on_an_untrusted_book_fails_its_recheck(tmp_path: Any) -> None:
    m = market(1, fee_rate=0.0)
    state = state_with([m], [book(m, 0.48, 0.50)])
    assert recheck_intent(intent_on(m), state, 0.02, 0.01).ok
    state.apply([BookTrust(m.market_id, 0.0, False, "stale: no market data for 6.0 s")])
    check = recheck_intent(intent_on(m), state, 0.02, 0.01)
    assert not check.ok and check.reason == "book not trusted: its feed has a gap or went silent"
    db = Database(f"sqlite:///{tmp_path / 'i.db'}")
    db.init()
    store = IntentStore(db)
    store.create([intent_on(m)], "run")
    proc = ApprovalProcessor(
        store,
        state,
        0.02,
        0.01,
        expiry_seconds=300,
        dry_run=True,
        run_id="run",
        portfolio=Portfolio(1_000.0),
    )
    (line,) = proc.process(intent_on(m).created_ts + 1)
    assert "failed re-check: book not trusted" in line
    assert store.require(intent_on(m).intent_id).state is IntentState.FAILED


# --- the fake's stall faults -----------------------------------------------------------------


async def test_the_fake_stalls_one_assets_socket_and_can_keep_answering_pings(
    fake_polymarket: FakePolymarket,
) -> None:
    tok = first_open(fake_polymarket).market.yes_token
    other = next(
        i.market.yes_token
        for i in fake_polymarket.world.catalog.markets.values()
        if not i.closed and i.market.yes_token != tok
    )
    mine = await subscribe(fake_polymarket, [tok])
    theirs = await subscribe(fake_polymarket, [other])
    await recv_json(mine)
    await recv_json(theirs)
    assert fake_polymarket.faults.stall_ws("market", asset=tok, answer_pings=True) == 1
    await fake_polymarket.advance(3600)
    for ws in (mine, theirs):
        await ws.send("PING")
    assert await drain(mine) == ["PONG"]  # pings answered, no market data
    rest = await drain(theirs)
    assert "PONG" in rest and len(rest) > 1  # the other socket is untouched
    assert fake_polymarket.faults.stall_ws("market", asset=tok) == 1  # now PONG-less too
    await mine.send("PING")
    await fake_polymarket.advance(60)
    assert await drain(mine) == []
    await mine.close()
    await theirs.close()


# --- a stream and a source against the fake ---------------------------------------------------


def fast(fake: FakePolymarket, **over: Any) -> PolymarketSettings:
    base: dict[str, Any] = {
        "gamma_url": fake.urls.gamma,
        "clob_url": fake.urls.clob,
        "ws_url": fake.urls.ws_market,
        "ws_ping_seconds": 0.2,
        "ws_pong_timeout_seconds": 0.2,
        "ws_stall_seconds": 30.0,
        "ws_silence_min_seconds": 30.0,
        "ws_reconnect_min_seconds": 0.05,
        "ws_reconnect_max_seconds": 0.1,
        "max_markets": 8,
        "ws_assets_per_connection": 8,  # 4 markets per connection: two connections
    }
    return PolymarketSettings(**{**base, **over})


async def poll_until(
    src: PolymarketSource, got: list[SourceEvent], pred: Any, timeout: float = 3.0
) -> float:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        got.extend(await asyncio.to_thread(src.poll, time.time()))
        await asyncio.sleep(0.02)
    return time.monotonic()


async def test_a_pongless_stall_untrusts_the_connections_markets_at_once_and_says_so(
    fake_polymarket: FakePolymarket, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="polyb0t.polymarket.ws")
    src = PolymarketSource(fast(fake_polymarket))
    await src.start()
    got: list[SourceEvent] = []
    try:
        assert src.streams is not None
        shard: MarketStream = src.streams.streams[0]
        await poll_until(src, got, lambda: shard.connects == 1 and not shard.trust.awaiting)
        token = fake_polymarket.world.catalog.markets[shard.market_ids[0]].market.yes_token
        t0 = time.monotonic()
        fake_polymarket.faults.stall_ws("market", asset=token, new_connections=True)
        await poll_until(src, got, lambda: shard.stalls >= 1)
        detected = time.monotonic()
        # A new connection is stalled too: trust does not come back.
        await poll_until(src, got, lambda: shard.stalls >= 2)
        got.extend(await asyncio.to_thread(src.poll, time.time()))
    finally:
        await src.stop()
    lost = [t for t in trust_of(got) if not t[1]]
    assert detected - t0 < 0.2 + 0.2 + 0.6  # PING cadence + PONG deadline + slack
    assert sorted(m for m, *_ in lost) == sorted(shard.market_ids)
    assert {r for *_, r in lost} == {"stalled: no PONG 0.2 s after PING"}
    assert not any(t[1] for t in trust_of(got))
    (first, *_) = [r.getMessage() for r in caplog.records if "stalled" in r.getMessage()]
    assert first.startswith("ws shard-0: stalled: no PONG 0.2 s after PING; silent 0.")
    assert first.endswith("s, 4 of 4 markets untrusted; resubscribing")


async def test_a_silent_connection_that_still_answers_pings_is_untrusted_by_the_guard(
    fake_polymarket: FakePolymarket,
) -> None:
    """The detector is blinded (30 s silence limit, PONGs keep coming); the stale guard in
    `poll` alone keeps the silent connection's markets out of trading, and only its."""
    src = PolymarketSource(fast(fake_polymarket, stale_after_seconds=0.4))
    await src.start()
    got: list[SourceEvent] = []

    async def world_moves() -> None:
        while True:
            await fake_polymarket.advance(60)
            await asyncio.sleep(0.05)

    mover = asyncio.create_task(world_moves())
    try:
        assert src.streams is not None
        a, b = src.streams.streams
        await poll_until(src, got, lambda: not a.trust.awaiting and not b.trust.awaiting)
        await asyncio.sleep(0.6)
        got.extend(await asyncio.to_thread(src.poll, time.time()))
        assert trust_of(got) == [], "the world moves: no connection is silent"
        token = fake_polymarket.world.catalog.markets[a.market_ids[0]].market.yes_token
        t0 = time.monotonic()
        fake_polymarket.faults.stall_ws("market", asset=token, answer_pings=True)
        seen = await poll_until(src, got, lambda: bool(trust_of(got)))
        await asyncio.sleep(0.6)
        got.extend(await asyncio.to_thread(src.poll, time.time()))
        mover.cancel()
        await poll_until(src, got, lambda: len(trust_of(got)) > len(a.market_ids), timeout=2)
        silent_b = [t for t in trust_of(got) if t[0] in b.market_ids]
        mover = asyncio.create_task(world_moves())  # data on b again (a is still stalled)
        await poll_until(src, got, lambda: any(t[1] for t in trust_of(got)), timeout=3)
    finally:
        mover.cancel()
        await src.stop()
    assert seen - t0 < 0.4 + 0.6  # stale_after + slack
    assert a.stalls == 0 and a.connects == 1  # the detector saw nothing
    stale = [t for t in trust_of(got) if t[0] in a.market_ids]
    assert [t[1] for t in stale] == [False] * len(a.market_ids)  # never trusted again
    assert all(t[2].startswith("stale: no market data for 0.") for t in stale)
    assert {t[0] for t in silent_b} == set(b.market_ids)  # the world stopped: b went quiet
    assert [t[1:] for t in trust_of(got) if t[1]] == [(True, "feed live again")] * len(b.market_ids)


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_stale_after_seconds_must_be_positive(value: float) -> None:
    with pytest.raises(ValidationError, match="stale_after_seconds"):
        PolymarketSettings(stale_after_seconds=value)

"""`polyb0t backfill` against the fake Polymarket over real HTTP on 127.0.0.1.

One fake serves the whole module (two simulated days of history, some markets resolved);
each test gets its own database, and the fake's faults are cleared after every test. Requests
are counted (and, where production behaves differently from the fake, altered) by a transport
under the job's HTTP client, so the counts are what went over the wire.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rich.console import Console
from sqlalchemy import func, inspect, select, text, update

from engine.config import PolymarketSettings
from engine.sources.polymarket.backfill import (
    RESOLVED_FIDELITY,
    Backfill,
    BackfillConfig,
    BackfillListener,
    BackfillStats,
    MarketResult,
    missing_span,
)
from engine.storage import MIGRATIONS, Database, Store
from engine.storage.store import (
    PROGRESS_DONE,
    PROGRESS_FAILED,
    PROGRESS_FINAL,
    PROGRESS_PARTIAL,
    BackfillProgress,
)
from engine.storage.tables import PriceHistoryRow, SchemaMeta, table_of
from fake_polymarket import ThreadedFakePolymarket
from polyb0t_tui.cli import main
from polyb0t_tui.cli.backfill import PlainReporter, RichReporter
from tests.fake_exchange_fixture import frozen_config, sim_settings

REPO = Path(__file__).resolve().parents[1]
HISTORY = table_of(PriceHistoryRow)
META = table_of(SchemaMeta)
DAYS_SIMULATED = 2


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> Iterator[ThreadedFakePolymarket]:
    with ThreadedFakePolymarket(sim_settings(), frozen_config()) as threaded:
        threaded.run(threaded.fake.advance(DAYS_SIMULATED * 86_400))
        yield threaded


@pytest.fixture
def fake(world: ThreadedFakePolymarket) -> Iterator[ThreadedFakePolymarket]:
    yield world
    world.call(world.fake.faults.clear)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Database(f"sqlite:///{(tmp_path / 'backfill.db').as_posix()}")
    db.init()
    yield Store(db)
    db.close()


def polymarket(fake: ThreadedFakePolymarket) -> PolymarketSettings:
    """The fake's hosts, and retries quick enough for a test."""
    return PolymarketSettings(
        gamma_url=fake.urls.gamma,
        clob_url=fake.urls.clob,
        retry_attempts=4,
        retry_base_seconds=0.01,
        retry_max_seconds=0.02,
    )


Rewrite = Callable[[httpx.Request], httpx.Response | None]


class Wire(httpx.AsyncBaseTransport):
    """Real HTTP underneath; records every request, and may answer one itself."""

    def __init__(self, rewrite: Rewrite | None = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.rewrite = rewrite
        self.requests: list[httpx.Request] = []
        self.on_request: Callable[[httpx.Request], None] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.on_request is not None:
            self.on_request(request)
        answer = self.rewrite(request) if self.rewrite is not None else None
        if answer is not None:
            return answer
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def history_tokens(self) -> list[str]:
        return [r.url.params["market"] for r in self.requests if r.url.path == "/prices-history"]


class Recorder(BackfillListener):
    def __init__(self) -> None:
        self.results: list[MarketResult] = []
        self.warnings: list[str] = []

    def market_done(self, stats: BackfillStats, result: MarketResult) -> None:
        self.results.append(result)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


async def backfill(
    fake: ThreadedFakePolymarket,
    store: Store,
    wire: Wire | None = None,
    listener: BackfillListener | None = None,
    **config: Any,
) -> BackfillStats:
    job = Backfill(
        store,
        polymarket(fake),
        BackfillConfig(**config),
        listener=listener,
        transport=wire if wire is not None else Wire(),
    )
    return await job.run()


def exchange_history(
    fake: ThreadedFakePolymarket, token: str, start: float, end: float, fidelity: int
) -> list[tuple[float, float]]:
    """What the fake holds for `token` in [start, end), asked as the job asks."""
    points = fake.call(
        fake.fake.world.price_history, token, int(start), math.ceil(end), float(fidelity)
    )
    return [(float(p["t"]), float(p["p"])) for p in points if start <= p["t"] < end]


def stored_rows(store: Store) -> int:
    with store._db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(HISTORY)).scalar_one())


def closed_tokens(fake: ThreadedFakePolymarket) -> set[str]:
    infos = fake.call(lambda: list(fake.fake.world.catalog.markets.values()))
    return {i.market.yes_token for i in infos if i.closed}


# --- history and resolved markets ----------------------------------------------------------------


async def test_history_points_are_stored_as_the_exchange_serves_them(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    stats = await backfill(fake, store, fidelity=60)
    assert stats.failed == 0 and stats.total == stats.listed == stats.fetched > 20
    assert stats.window_end == fake.call(fake.fake.world.clock.now)  # the exchange's clock
    assert stats.window_start == stats.window_end - 30 * 86_400
    total = 0
    for m in store.markets():
        want = exchange_history(fake, m.yes_token, stats.window_start, stats.window_end, 60)
        assert [tuple(p) for p in store.price_history(m.yes_token)] == want
        assert store.price_history(m.no_token) == []  # YES only: NO is its complement
        total += len(want)
    assert stats.points == total == stored_rows(store)
    # Hourly points, and the read honours [since, until).
    some = store.markets()[0].yes_token
    points = store.price_history(some)
    assert all(b.ts - a.ts >= 3600 for a, b in itertools.pairwise(points))
    middle = store.price_history(some, since_ts=points[2].ts, until_ts=points[5].ts)
    assert middle == points[2:5]
    with store._db.read() as conn:
        ids = {r[0] for r in conn.execute(select(HISTORY.c.market_id).distinct())}
    assert ids == {m.market_id for m in store.markets()}


async def test_resolved_markets_are_stored_with_their_payouts(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    stats = await backfill(fake, store, active=False)
    infos = fake.call(lambda: [i for i in fake.fake.world.catalog.markets.values() if i.closed])
    assert len(infos) >= 3 and stats.total == stats.resolved == len(infos)
    stored = {m.market_id: m for m in store.markets()}
    assert set(stored) == {i.market.market_id for i in infos}
    for info in infos:
        m = stored[info.market.market_id]
        assert m.resolved and m.payout_yes == info.market.payout_yes in (0.0, 1.0)
        assert m.yes_token == info.market.yes_token and not m.accepting_orders
    progress = store.backfill_progress(60)
    assert {p.status for p in progress.values()} == {PROGRESS_FINAL}  # will never change
    # History stops where the market closed.
    for info in infos:
        points = store.price_history(info.market.yes_token)
        assert points and points[-1].ts <= info.closed_ts


async def test_active_only_lists_open_markets(fake: ThreadedFakePolymarket, store: Store) -> None:
    stats = await backfill(fake, store, closed=False, max_markets=5)
    assert stats.total == 5 and stats.resolved == 0
    assert not any(m.resolved for m in store.markets())
    assert {p.status for p in store.backfill_progress(60).values()} == {PROGRESS_DONE}


async def test_max_markets_takes_resolved_and_active_in_turn(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    wire = Wire()
    stats = await backfill(fake, store, wire, max_markets=4)
    assert stats.total == 4 and stats.resolved == 2
    assert len(store.markets()) == 4 and len(wire.history_tokens()) == 4
    listing = [r for r in wire.requests if r.url.path == "/markets"]
    assert {r.url.params["closed"] for r in listing} == {"true", "false"}
    assert all(int(r.url.params["limit"]) <= 4 for r in listing)


# --- idempotence and resuming --------------------------------------------------------------------


async def test_running_twice_is_idempotent(fake: ThreadedFakePolymarket, store: Store) -> None:
    first = await backfill(fake, store)
    rows, markets = stored_rows(store), store.markets()
    wire = Wire()
    second = await backfill(fake, store, wire)
    assert wire.history_tokens() == []  # nothing missing: nothing asked
    assert second.up_to_date == second.total == first.total and second.points == 0
    assert stored_rows(store) == rows and store.markets() == markets
    # --restart asks again for everything, and overwrites rather than duplicates.
    wire = Wire()
    third = await backfill(fake, store, wire, restart=True)
    assert len(wire.history_tokens()) == third.total == third.fetched
    assert third.points == rows == stored_rows(store)


async def test_interrupted_run_resumes_without_refetching_finished_markets(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    finished: list[MarketResult] = []

    class StopAfterThree(BackfillListener):
        def market_done(self, stats: BackfillStats, result: MarketResult) -> None:
            finished.append(result)
            if len(finished) == 3:
                task.cancel()

    job = Backfill(
        store,
        polymarket(fake),
        BackfillConfig(concurrency=2),
        listener=StopAfterThree(),
        transport=Wire(),
    )
    task = asyncio.create_task(job.run())
    with pytest.raises(asyncio.CancelledError):
        await task
    assert job.stats.interrupted and job.stats.done == 3 < job.stats.total

    yes = {m.market_id: m.yes_token for m in store.markets()}
    done_tokens = {yes[r.market_id] for r in finished}
    # Saved as they finished; a market in flight may have been saved too (its write was
    # already under way), never half of one.
    complete = {t for t, p in store.backfill_progress(60).items() if p.status != PROGRESS_PARTIAL}
    assert done_tokens <= complete and len(complete) <= 3 + 1
    wire = Wire()
    stats = await backfill(fake, store, wire)
    assert stats.failed == 0 and stats.up_to_date == len(complete)
    asked = wire.history_tokens()
    assert not set(asked) & complete  # finished markets are not asked again
    assert set(asked) | complete == set(yes.values()) and len(asked) == len(set(asked))
    # The result equals one uninterrupted run.
    for m in store.markets():
        want = exchange_history(fake, m.yes_token, stats.window_start, stats.window_end, 60)
        assert [tuple(p) for p in store.price_history(m.yes_token)] == want


async def test_a_market_stopped_between_chunks_resumes_from_the_last_chunk(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    """Chunks of a quarter day: a market needs eight requests, and a stop between two keeps
    the chunks before it (one transaction each) and restarts at the next."""
    config: dict[str, Any] = {"max_markets": 1, "closed": False, "days": 2, "max_span_days": 0.25}
    wire = Wire()
    task: asyncio.Task[BackfillStats] | None = None

    def stop_on_fourth(request: httpx.Request) -> None:
        if len(wire.history_tokens()) == 4 and task is not None:
            task.cancel()  # the fourth chunk's request never completes

    wire.on_request = stop_on_fourth
    task = asyncio.create_task(backfill(fake, store, wire, **config))
    with pytest.raises(asyncio.CancelledError):
        await task
    (saved,) = store.backfill_progress(60).values()
    assert saved.status == PROGRESS_PARTIAL
    assert saved.done_ts == saved.start_ts + 3 * 21_600  # three chunks stored
    rows = stored_rows(store)
    assert rows == saved.points > 0

    wire = Wire()
    stats = await backfill(fake, store, wire, **config)
    starts = [int(r.url.params["startTs"]) for r in wire.requests if "startTs" in r.url.params]
    assert starts[0] == int(saved.done_ts) and len(starts) == 5  # five chunks were left
    (final,) = store.backfill_progress(60).values()
    assert final.status == PROGRESS_DONE and final.start_ts == saved.start_ts
    assert final.done_ts == stats.window_end and final.points == stored_rows(store)


def test_missing_span_asks_only_for_what_is_missing() -> None:
    def saved(start: float, done: float, status: str) -> BackfillProgress:
        return BackfillProgress("t", 60, "m", start, done, status)

    step = 3600.0
    assert missing_span(None, 100.0, 1000.0, step) == (100.0, 100.0)
    # Stopped part-way, or failed: continue where it stopped, keeping the stored start.
    assert missing_span(saved(50.0, 400.0, PROGRESS_PARTIAL), 100.0, 9000.0, step) == (400.0, 50.0)
    assert missing_span(saved(50.0, 400.0, PROGRESS_FAILED), 100.0, 9000.0, step) == (400.0, 50.0)
    # Complete: nothing unless at least one sample may have appeared since.
    assert missing_span(saved(50.0, 8000.0, PROGRESS_DONE), 100.0, 9000.0, step) is None
    assert missing_span(saved(50.0, 5000.0, PROGRESS_DONE), 100.0, 9000.0, step) == (5000.0, 50.0)
    assert missing_span(saved(50.0, 5000.0, PROGRESS_FINAL), 100.0, 9000.0, step) is None
    # A wider window than stored, or a gap: the whole window again.
    assert missing_span(saved(500.0, 9000.0, PROGRESS_FINAL), 100.0, 9000.0, step) == (100.0, 100.0)
    assert missing_span(saved(10.0, 90.0, PROGRESS_DONE), 100.0, 9000.0, step) == (100.0, 100.0)


# --- faults --------------------------------------------------------------------------------------


async def test_server_errors_are_retried_and_the_job_completes(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    faults = fake.fake.faults
    fake.call(lambda: faults.http_error(500, count=3, service="clob", path="/prices-history"))
    fake.call(lambda: faults.http_error(503, count=2, service="gamma", path="/markets"))
    fake.call(lambda: faults.rate_limit(count=1, retry_after=0, service="clob", path="/time"))
    wire = Wire()
    stats = await backfill(fake, store, wire, max_markets=6, concurrency=1)
    assert stats.failed == 0 and stats.fetched == 6
    assert len(wire.history_tokens()) == 6 + 3  # each 500 answered by one more try
    assert len([r for r in wire.requests if r.url.path == "/time"]) == 2


async def test_bad_payloads_are_retried_then_skipped_with_a_clear_message(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    faults = fake.fake.faults
    rec = Recorder()
    # One malformed answer: asked again, nothing lost.
    fake.call(lambda: faults.malformed_json(count=1, service="clob", path="/prices-history"))
    stats = await backfill(fake, store, listener=rec, max_markets=4, concurrency=1)
    assert stats.failed == 0 and stats.fetched == 4
    assert any("bad payload, asking again" in w for w in rec.warnings)

    # Truncated twice in a row: that market is skipped with the reason, the rest go on.
    fake.call(lambda: faults.truncated_json(count=2, service="clob", path="/prices-history"))
    rec = Recorder()
    stats = await backfill(fake, store, listener=rec, max_markets=8, restart=True, concurrency=1)
    assert stats.failed == 1 and stats.fetched == 7 and stats.done == stats.total == 8
    assert "not valid JSON" in stats.errors[0] and "skipped" in stats.errors[0]
    assert any("not valid JSON" in w for w in rec.warnings)
    (failed,) = [r for r in rec.results if r.outcome == "failed"]
    (bad,) = [p for p in store.backfill_progress(60).values() if p.status == PROGRESS_FAILED]
    assert bad.market_id == failed.market_id and bad.error and "not valid JSON" in bad.error

    # A 500 outlasting the client's retries: the same, after 4 attempts.
    fake.call(lambda: faults.http_error(500, count=4, service="clob", path="/prices-history"))
    stats = await backfill(fake, store, max_markets=8, restart=True, concurrency=1)
    assert stats.failed == 1 and stats.fetched == 7
    assert "HTTP 500" in stats.errors[0] and "after 4 attempts" in stats.errors[0]

    # The next run asks only for the failed one.
    wire = Wire()
    stats = await backfill(fake, store, wire, max_markets=8, concurrency=1)
    assert stats.failed == 0 and stats.fetched == 1 and stats.up_to_date == 7
    assert wire.history_tokens() == [bad.token_id]


async def test_a_broken_listing_is_reported_and_the_other_listing_goes_on(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    faults = fake.fake.faults
    fake.call(lambda: faults.malformed_json(count=2, service="gamma", path="/markets"))
    rec = Recorder()
    stats = await backfill(fake, store, listener=rec, max_markets=5)
    assert "listing resolved markets stopped at offset 0" in stats.errors[0]
    assert any("going on with the 0 found" in w for w in rec.warnings)
    assert stats.total == stats.fetched == 5 and stats.resolved == 0
    assert stats.listings_cut == 1 and stats.failed == 0


async def test_resolved_markets_empty_at_fine_fidelity_are_fetched_at_12_hours(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    """Production answers resolved markets with no history below ~12 h fidelity
    (docs/polymarket_api.md §3.2);
    the fake does not, so the transport answers as production would."""
    closed = closed_tokens(fake)

    def like_production(request: httpx.Request) -> httpx.Response | None:
        params = request.url.params
        if request.url.path != "/prices-history" or params["market"] not in closed:
            return None
        if int(params["fidelity"]) < RESOLVED_FIDELITY:
            return httpx.Response(200, json={"history": []})
        return None

    stats = await backfill(fake, store, Wire(like_production), active=False, days=3)
    with_history = [t for t in closed if exchange_history(fake, t, 0, 2e9, RESOLVED_FIDELITY)]
    assert stats.coarse == len(with_history) > 0 and stats.failed == 0
    progress = store.backfill_progress(60)
    for token in with_history:
        assert progress[token].fetched_fidelity == RESOLVED_FIDELITY
        want = exchange_history(
            fake, token, stats.window_start, stats.window_end, RESOLVED_FIDELITY
        )
        assert [tuple(p) for p in store.price_history(token)] == want


async def test_a_too_long_range_is_split_and_remembered(
    fake: ThreadedFakePolymarket, store: Store
) -> None:
    def refuse_wide(request: httpx.Request) -> httpx.Response | None:
        p = request.url.params
        if request.url.path == "/prices-history" and int(p["endTs"]) - int(p["startTs"]) > 86_400:
            return httpx.Response(400, json={"error": "invalid filters: interval is too long"})
        return None

    wire = Wire(refuse_wide)
    stats = await backfill(fake, store, wire, max_markets=3, days=3, concurrency=1)
    assert stats.failed == 0 and stats.fetched == 3
    spans = [
        int(r.url.params["endTs"]) - int(r.url.params["startTs"])
        for r in wire.requests
        if r.url.path == "/prices-history"
    ]
    refused = [s for s in spans if s > 86_400]
    assert len(refused) == 2  # 3 days, then 1.5; then 0.75-day chunks for everyone
    assert all(s <= 0.75 * 86_400 + 1 for s in spans[2:])
    for m in store.markets():  # chunked points are still the exchange's points
        every = set(exchange_history(fake, m.yes_token, 0, 2e9, 1))
        got = store.price_history(m.yes_token)
        assert got and {tuple(p) for p in got} <= every


# --- storage ------------------------------------------------------------------------------------


def test_a_version_2_database_migrates_to_3_keeping_its_data(tmp_path: Path) -> None:
    url = f"sqlite:///{(tmp_path / 'old.db').as_posix()}"
    db = Database(url)
    db.init()
    store = Store(db)
    store.start_run(run_id="old", started_ts=1.0, mode="paper", source="sim")
    with db.write() as conn:  # what a version-2 polyb0t left behind
        conn.execute(text("DROP TABLE price_history"))
        conn.execute(text("DROP TABLE backfill_progress"))
        conn.execute(update(META).where(META.c.key == "schema_version").values(value="2"))
    db.close()

    reopened = Database(url)
    before = reopened.ensure_ready()
    assert before.found == 2 and MIGRATIONS[-1].version >= 3 and reopened.check().up_to_date
    with reopened.read() as conn:
        names = set(inspect(conn).get_table_names())
    assert {"price_history", "backfill_progress", "recorded_events", "runs"} <= names
    store = Store(reopened)
    run = store.latest_run()
    assert run is not None and run.run_id == "old"
    assert store.upsert_price_history("m", "t", [1.0, 2.0], [0.4, 0.5]) == 2
    assert store.price_history("t") == [(1.0, 0.4), (2.0, 0.5)]
    reopened.close()


def test_history_upsert_overwrites_the_same_point(store: Store) -> None:
    progress = BackfillProgress("t", 60, "m", 0.0, 10.0, PROGRESS_DONE, points=2)
    store.upsert_price_history("m", "t", [1.0, 2.0], [0.4, 0.5], progress)
    store.upsert_price_history("m", "t", [2.0, 3.0], [0.6, 0.7])
    assert store.price_history("t") == [(1.0, 0.4), (2.0, 0.6), (3.0, 0.7)]
    assert store.backfill_progress(60) == {"t": progress}
    assert store.backfill_progress(720) == {}
    with pytest.raises(ValueError):
        store.upsert_price_history("m", "t", [1.0], [])


# --- the command ---------------------------------------------------------------------------------


@pytest.fixture
def cli_env(
    fake: ThreadedFakePolymarket, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    for key in list(os.environ):
        if key.startswith("POLYBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    env = {
        "POLYBOT_DATA_DIR": str(tmp_path / "data"),
        "POLYBOT_POLYMARKET__GAMMA_URL": fake.urls.gamma,
        "POLYBOT_POLYMARKET__CLOB_URL": fake.urls.clob,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_cli_backfills_and_prints_a_summary(
    cli_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backfill", "--max-markets", "4", "--days", "5"]) == 0
    out, err = capsys.readouterr()
    assert "4 fetched" in out and "2 resolved, stored with payouts" in out
    assert "fidelity 60 min" in out and "price_history" in out
    assert "backfill: 4/4 markets (100%)" in err  # not a terminal: plain lines

    assert main(["backfill", "--max-markets", "4", "--days", "5", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["up_to_date"] == 4 and summary["requests"] == 0

    assert main(["backfill", "--closed", "--fidelity", "720", "--max-markets", "1"]) == 0
    assert "markets   1 listed (resolved): 1 resolved" in capsys.readouterr().out

    db = Database(f"sqlite:///{(tmp_path / 'data' / 'polybot.db').as_posix()}")
    assert len(Store(db).markets()) == 4 and stored_rows(Store(db)) > 0
    db.close()


def test_cli_exits_non_zero_when_gamma_cannot_list(
    cli_env: dict[str, str],
    fake: ThreadedFakePolymarket,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing failed market by market, but nothing was listed either: a cron job must not
    take that for success."""
    faults = fake.fake.faults
    fake.call(lambda: faults.http_error(503, count=None, service="gamma", path="/markets"))
    monkeypatch.setenv("POLYBOT_POLYMARKET__RETRY_ATTEMPTS", "1")
    try:
        assert main(["backfill", "--max-markets", "2", "--days", "1"]) == 1
    finally:
        fake.call(faults.clear)
    out, err = capsys.readouterr()
    assert "listing resolved markets stopped at offset 0" in out
    assert "2 Gamma listing(s) stopped early; run the same command again" in err


def test_cli_refuses_bad_values(capsys: pytest.CaptureFixture[str]) -> None:
    for bad in (["--days", "0"], ["--fidelity", "x"], ["--max-markets", "-1"]):
        with pytest.raises(SystemExit) as info:
            main(["backfill", *bad])
        assert info.value.code == 2
    assert "argument --days: takes a number > 0" in capsys.readouterr().err


def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(
    fake: ThreadedFakePolymarket, cli_env: dict[str, str]
) -> None:
    """A real SIGINT to a real process: exit 130, a summary, the finished markets saved."""
    faults = fake.fake.faults
    fake.call(lambda: faults.slow(0.2, service="clob", path="/prices-history"))
    env = {**os.environ, **cli_env, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "polyb0t_tui", "backfill", "--concurrency", "2"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:  # wait until the markets are listed and fetching has begun
        if "markets to go" in line:
            break
    db = Database(f"sqlite:///{cli_env['POLYBOT_DATA_DIR']}/polybot.db")
    store = Store(db)
    for _ in range(100):  # and until something is saved
        if store.backfill_progress(60):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 130, out
    assert "interrupted after" in out and "run the same command again to resume" in out
    saved = store.backfill_progress(60)
    assert saved and len(saved) < len(store.markets())

    fake.call(faults.clear)
    assert main(["backfill"]) == 0
    done = store.backfill_progress(60)
    assert len(done) == len(store.markets())
    assert {p.status for p in done.values()} <= {PROGRESS_DONE, PROGRESS_FINAL}
    db.close()


async def test_progress_displays(fake: ThreadedFakePolymarket, store: Store) -> None:
    screen = io.StringIO()
    rich = RichReporter(Console(file=screen, force_terminal=True, width=120))
    with rich:
        await backfill(fake, store, listener=rich, max_markets=3)
    shown = screen.getvalue()
    assert "markets" in shown and "3/3" in shown

    lines = io.StringIO()
    now = [0.0]
    plain = PlainReporter(lines, every=10.0, clock=lambda: now[0])
    stats = BackfillStats(total=3)
    plain.started(stats)
    for i in range(3):
        stats.done, stats.points = i + 1, 10 * (i + 1)
        plain.market_done(stats, MarketResult("m", "q", "fetched", 10))
    plain.warn("something skipped")
    assert lines.getvalue().splitlines() == [
        "backfill: 3 markets to go",
        "backfill: 3/3 markets (100%), 30 points",  # throttled until the last one
        "backfill: warning: something skipped",
    ]

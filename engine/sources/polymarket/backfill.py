"""`polyb0t backfill`: Polymarket price history and resolved markets into the database.

Why: the engine only stores what it sees while it runs, but a model needs labelled examples
now: markets that resolved (their payout is the label) and the price paths that led there.
Polymarket keeps both: Gamma lists closed markets with their final prices
(docs/polymarket_api.md §2.6) and CLOB `/prices-history` serves past prices of a token
(docs/polymarket_api.md §3.2).

What a run does:
1. The window is [now - days, now] on the exchange's clock (`GET /time`): a skewed local
   clock cannot shift it, and it agrees with whatever the server answers.
2. Gamma lists the markets: resolved ones (closed, ending within the window) and/or active
   ones, most traded first, the two lists interleaved and cut to `max_markets`. Every binary
   market goes into `markets` through `Store.upsert_markets` (resolved ones with
   `payout_yes`); the rest are counted and left out, as everywhere else in polyb0t.
3. For each market, the YES token's history is fetched over whatever part of the window
   `backfill_progress` says is missing, in chunks; each chunk's points and the progress
   they make are written in one transaction. Only the YES token: on a binary market the NO
   price is 1 - YES, so asking for it would double the requests for nothing new.

Resuming: progress is kept per (token, fidelity). A run skips a token whose stored span
covers the window (to within one sample) or whose market had already resolved when it was
fetched, and continues a stopped one from where it stopped. Cancelling a run (Ctrl-C) loses
at most the chunks in flight; `restart` ignores the saved progress.

Failures never stop the whole job: 5xx, 429 and network errors are retried by the clients
(`RetryPolicy`); a payload that is not JSON or not the expected shape is asked for again
`payload_retries` times, then that market is recorded as failed with the reason (the next
run tries it again) and the job goes on. A failing Gamma listing ends that listing with the
markets found so far. Only storage errors stop the job: without a database there is nowhere
to put anything.

Resolved markets: Polymarket answers `/prices-history` for a resolved market with an empty
history below about 12 h fidelity (docs/polymarket_api.md §3.2 and gotcha G17, from
https://github.com/Polymarket/py-clob-client/issues/216). So when a closed market answers
nothing at a finer fidelity, the chunk is asked again at `RESOLVED_FIDELITY` minutes and the
coarser points are kept (counted in `BackfillStats.coarse`).

Too long a range: users report 400 "interval is too long" for wide `startTs..endTs`
(docs/polymarket_api.md §3.2, unconfirmed). A chunk is at most `max_span_days`; on that error
the span is halved for the rest of the run, so only the first request pays for finding the
limit.
"""

from __future__ import annotations

import asyncio
import functools
import math
import random
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import httpx

from engine.config import PolymarketSettings
from engine.events import FloatArray
from engine.limits import RESOLVED_FIDELITY as RESOLVED_FIDELITY  # there: `--help` shows it
from engine.models import Market
from engine.sources.polymarket.clob_rest import ClobRestClient
from engine.sources.polymarket.errors import PolymarketParseError, PolymarketRequestError
from engine.sources.polymarket.gamma import GammaClient, MarketQuery
from engine.sources.polymarket.parse_clob import PriceHistory
from engine.sources.polymarket.parse_gamma import parse_gamma_markets
from engine.sources.polymarket.ratelimit import CLOB_LIMITS, GAMMA_LIMITS, EndpointLimiter
from engine.sources.polymarket.retry import RetryPolicy
from engine.storage.store import (
    PROGRESS_DONE,
    PROGRESS_FAILED,
    PROGRESS_FINAL,
    PROGRESS_PARTIAL,
    BackfillProgress,
    Store,
)

T = TypeVar("T")
DAY = 86_400.0
MIN_SPAN_SECONDS = 3_600.0  # the "too long" halving stops here
MAX_ERRORS_KEPT = 50  # in `BackfillStats.errors`; the count is in `failed`

# What one market (or one listing page) may fail with without stopping the job.
_FETCH_ERRORS = (PolymarketRequestError, PolymarketParseError, httpx.HTTPError)

Outcome = Literal["fetched", "empty", "up_to_date", "failed"]


@dataclass(frozen=True, slots=True)
class BackfillConfig:
    days: float = 30.0  # the window: this many days back from now
    fidelity: int = 60  # minutes between points asked for
    max_markets: int | None = None  # None: every market listed
    closed: bool = True  # resolved markets (the labels)
    active: bool = True  # markets still trading
    restart: bool = False  # ignore saved progress
    concurrency: int = 4  # markets fetched at once (the rate limiter still applies)
    max_span_days: float = 31.0  # widest startTs..endTs of one request
    payload_retries: int = 1  # extra tries for a payload that does not parse
    tag_id: int | None = None  # only markets with this Gamma tag

    def __post_init__(self) -> None:
        if not self.days > 0 or not self.max_span_days > 0:
            raise ValueError("days and max_span_days must be > 0")
        if self.fidelity < 1 or self.concurrency < 1 or self.payload_retries < 0:
            raise ValueError("fidelity and concurrency must be >= 1, payload_retries >= 0")
        if self.max_markets is not None and self.max_markets < 1:
            raise ValueError("max_markets must be >= 1")
        if not (self.closed or self.active):
            raise ValueError("choose resolved markets, active markets, or both")


@dataclass(frozen=True, slots=True)
class MarketResult:
    """What happened to one market, for a progress display."""

    market_id: str
    question: str
    outcome: Outcome
    points: int = 0
    error: str | None = None


@dataclass(slots=True)
class BackfillStats:
    """Counts of a run, updated as it goes (a progress display reads them live)."""

    window_start: float = math.nan
    window_end: float = math.nan
    listed: int = 0  # binary markets chosen from Gamma's listings
    resolved: int = 0  # of which resolved, stored with their payout
    not_binary: int = 0  # listed but not binary: skipped
    unstored: int = 0  # chosen but without the dates `markets` needs: history only
    total: int = 0  # markets to process
    done: int = 0  # processed, whatever the outcome
    fetched: int = 0  # history fetched (some or all of the window)
    empty: int = 0  # fetched, but no point in the window
    up_to_date: int = 0  # nothing missing according to saved progress
    failed: int = 0
    listings_cut: int = 0  # Gamma listings that stopped on an error (markets may be missing)
    points: int = 0  # history points written
    requests: int = 0  # /prices-history calls
    coarse: int = 0  # resolved markets answered only at RESOLVED_FIDELITY
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def note_error(self, text: str) -> None:
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(text)


class BackfillListener:
    """Progress callbacks, all on the job's event loop; the default does nothing."""

    def listing(self, stats: BackfillStats, found: int) -> None:
        """After each Gamma page: `found` binary markets so far."""

    def started(self, stats: BackfillStats) -> None:
        """Listing finished: `stats.total` markets follow."""

    def market_done(self, stats: BackfillStats, result: MarketResult) -> None:
        """One market finished (fetched, up to date, or failed)."""

    def warn(self, message: str) -> None:
        """Something was skipped or retried; `message` says what and why."""


def missing_span(
    saved: BackfillProgress | None, start: float, end: float, step: float
) -> tuple[float, float] | None:
    """What a token still needs of [start, end): (fetch from, covered from), or None.

    "Covered from" is where the stored span will begin once the fetch reaches `end`: the
    saved start when the saved span joins the window without a gap, else `start`.
    """
    if saved is None or saved.start_ts > start or saved.done_ts < start:
        return start, start
    if saved.status == PROGRESS_FINAL:
        return None  # resolved when fetched: no later points will appear
    if saved.status == PROGRESS_DONE and saved.done_ts >= end - step:
        return None  # less than one sample could be missing
    return saved.done_ts, saved.start_ts


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _within(history: PriceHistory, start: float, end: float) -> tuple[FloatArray, FloatArray]:
    """The points in [start, end): the server answers both ends inclusive (and whole
    seconds), so without this every chunk boundary would be stored twice and counted so."""
    keep = (history.ts >= start) & (history.ts < end)
    return history.ts[keep], history.price[keep]


def _too_long(exc: PolymarketRequestError) -> bool:
    return exc.status == 400 and "too long" in exc.detail.lower()


def _interleave(first: list[Market], second: list[Market], cap: int | None) -> list[Market]:
    """Alternate the two lists (so a cap takes from both), without repeats, up to `cap`."""
    out: list[Market] = []
    seen: set[str] = set()
    for i in range(max(len(first), len(second))):
        for lst in (first, second):
            if i < len(lst) and lst[i].market_id not in seen:
                seen.add(lst[i].market_id)
                out.append(lst[i])
    return out if cap is None else out[:cap]


@dataclass(slots=True)
class _Clients:
    gamma: GammaClient
    clob: ClobRestClient


class Backfill:
    """One backfill run: `await Backfill(store, settings, config).run()`.

    `transport` replaces the network under the job's own HTTP client (tests count or alter
    requests with it); `clock` replaces the exchange's clock for the window's end.
    """

    def __init__(
        self,
        store: Store,
        settings: PolymarketSettings,
        config: BackfillConfig | None = None,
        *,
        listener: BackfillListener | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.s = settings
        self.config = config if config is not None else BackfillConfig()
        self.listener = listener if listener is not None else BackfillListener()
        self.stats = BackfillStats()
        self._transport = transport
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        self._span = self.config.max_span_days * DAY
        # Every database call goes through this one thread: the loop never blocks on a write,
        # and one connection at a time suits SQLite (in-memory databases share one).
        self._db: ThreadPoolExecutor | None = None

    # --- the run -----------------------------------------------------------------------------

    async def run(self) -> BackfillStats:
        """List, then fetch; returns the stats (also on `self.stats` while it runs).

        On cancellation the stats say `interrupted`, every write already started is waited
        for (so what was fetched is saved), and `CancelledError` propagates.
        """
        s = self.s
        timeout = httpx.Timeout(s.http_timeout_seconds, connect=s.http_connect_timeout_seconds)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backfill-db")
        try:
            async with httpx.AsyncClient(timeout=timeout, transport=self._transport) as http:
                clients = self._clients(http)
                await self._run(clients)
        except asyncio.CancelledError:
            self.stats.interrupted = True
            raise
        finally:
            self._db.shutdown(wait=True)
        return self.stats

    async def _run(self, clients: _Clients) -> None:
        cfg, stats = self.config, self.stats
        end = await self._now(clients.clob)
        start = end - cfg.days * DAY
        stats.window_start, stats.window_end = start, end
        markets, closed_ids = await self._list(clients.gamma, start)
        saved = {} if cfg.restart else await self._in_db(self.store.backfill_progress, cfg.fidelity)
        stats.total = len(markets)
        self.listener.started(stats)
        todo = iter(markets)  # shared by the workers: each market is taken once

        async def worker() -> None:
            for m in todo:
                result = await self._market(
                    clients.clob, m, m.market_id in closed_ids, saved.get(m.yes_token)
                )
                self._count(result)
                self.listener.market_done(stats, result)

        workers = [asyncio.create_task(worker()) for _ in range(min(cfg.concurrency, len(markets)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def _count(self, result: MarketResult) -> None:
        stats = self.stats
        stats.done += 1
        stats.points += result.points
        if result.outcome == "failed":
            stats.failed += 1
        elif result.outcome == "up_to_date":
            stats.up_to_date += 1
        else:
            stats.fetched += 1
            stats.empty += result.outcome == "empty"

    def _clients(self, http: httpx.AsyncClient) -> _Clients:
        s = self.s
        policy = RetryPolicy(
            attempts=s.retry_attempts,
            base_seconds=s.retry_base_seconds,
            max_seconds=s.retry_max_seconds,
            max_retry_after=s.retry_after_max_seconds,
        )
        gamma = GammaClient(
            http,
            base_url=s.gamma_url,
            page_size=s.gamma_page_size,
            policy=policy,
            limiter=EndpointLimiter(GAMMA_LIMITS, share=s.rate_limit_share),
            rng=self._rng,
        )
        clob = ClobRestClient(
            http,
            base_url=s.clob_url,
            policy=policy,
            limiter=EndpointLimiter(CLOB_LIMITS, share=s.rate_limit_share),
            rng=self._rng,
        )
        return _Clients(gamma, clob)

    async def _now(self, clob: ClobRestClient) -> float:
        if self._clock is not None:
            return self._clock()
        try:
            return await clob.server_time()
        except _FETCH_ERRORS as exc:
            self.listener.warn(f"exchange clock unavailable ({exc}); using the local clock")
            return time.time()

    async def _in_db(self, fn: Callable[..., T], *args: object) -> T:
        assert self._db is not None, "database calls only while running"
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._db, functools.partial(fn, *args))

    async def _attempt(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """`call`, asked again up to `payload_retries` times when the answer does not parse
        (HTTP failures were already retried inside the client)."""
        for attempt in range(self.config.payload_retries + 1):
            try:
                return await call()
            except PolymarketParseError as exc:
                if attempt == self.config.payload_retries:
                    raise
                self.listener.warn(f"{what}: bad payload, asking again ({exc})")
        raise AssertionError("unreachable")  # pragma: no cover

    # --- listing -----------------------------------------------------------------------------

    async def _list(self, gamma: GammaClient, start: float) -> tuple[list[Market], set[str]]:
        """The markets to backfill, stored in `markets`; and which were listed as closed."""
        cfg = self.config
        open_query = MarketQuery(closed=False, order="volume", ascending=False, tag_id=cfg.tag_id)
        closed: list[Market] = []
        active: list[Market] = []
        if cfg.closed:
            # `active` and `archived` are left out: closed markets may carry either (the
            # closed Gamma markets recorded in tests/fixtures/polymarket still say `active:
            # true`), and Gamma's filter defaults are unreliable (docs/polymarket_api.md,
            # gotcha G2).
            query = replace(
                open_query, active=None, closed=True, archived=None, end_date_min=iso_utc(start)
            )
            closed = await self._list_one(gamma, query, "resolved", 0)
        if cfg.active:
            active = await self._list_one(gamma, open_query, "active", len(closed))
        chosen = _interleave(closed, active, cfg.max_markets)
        await self._store_markets(chosen)
        return chosen, {m.market_id for m in closed}

    async def _list_one(
        self, gamma: GammaClient, query: MarketQuery, kind: str, found_before: int
    ) -> list[Market]:
        """The binary markets of one Gamma listing (offset pages), up to `max_markets`."""
        cap = self.config.max_markets
        found: list[Market] = []
        seen: set[str] = set()
        offset = 0
        while cap is None or len(found) < cap:
            limit = gamma.page_size if cap is None else min(gamma.page_size, cap - len(found))

            async def page(offset: int = offset, limit: int = limit) -> list[dict[str, Any]]:
                return await gamma.markets_page(query, offset=offset, limit=limit)

            try:
                items = await self._attempt(f"Gamma {kind} markets (offset {offset})", page)
                markets, skipped = parse_gamma_markets(items)
            except _FETCH_ERRORS as exc:
                msg = f"listing {kind} markets stopped at offset {offset}: {exc}"
                self.stats.listings_cut += 1
                self.stats.note_error(msg)
                self.listener.warn(f"{msg}; going on with the {len(found)} found")
                break
            ids = {str(i.get("conditionId") or i.get("id")) for i in items}
            if ids <= seen:
                break  # a server ignoring `offset` would repeat one page forever
            seen |= ids
            found.extend(markets[: None if cap is None else cap - len(found)])
            self.stats.not_binary += len(skipped)
            self.listener.listing(self.stats, found_before + len(found))
            if len(items) < limit:
                break
            offset += len(items)
        return found

    async def _store_markets(self, markets: list[Market]) -> None:
        # The `markets` table needs both dates; a market without one still gets its history.
        storable = [m for m in markets if math.isfinite(m.created_ts) and math.isfinite(m.end_ts)]
        self.stats.listed = len(markets)
        self.stats.resolved = sum(m.resolved for m in markets)
        self.stats.unstored = len(markets) - len(storable)
        if storable:
            await self._in_db(self.store.upsert_markets, storable, time.time())

    # --- history -----------------------------------------------------------------------------

    async def _market(
        self, clob: ClobRestClient, m: Market, closed: bool, saved: BackfillProgress | None
    ) -> MarketResult:
        cfg, stats = self.config, self.stats
        start, end = stats.window_start, stats.window_end
        plan = missing_span(saved, start, end, cfg.fidelity * 60.0)
        if plan is None:
            return MarketResult(m.market_id, m.question, "up_to_date")
        t, covered_from = plan
        token = m.yes_token
        done_status = PROGRESS_FINAL if closed else PROGRESS_DONE
        stored = saved.points if saved is not None and covered_from == saved.start_ts else 0
        fidelity = cfg.fidelity
        written = 0
        try:
            while t < end:
                chunk_end = min(end, t + self._span)
                try:
                    history = await self._history(clob, token, t, chunk_end, fidelity)
                except PolymarketRequestError as exc:
                    half = (chunk_end - t) / 2
                    if not _too_long(exc) or half < MIN_SPAN_SECONDS:
                        raise
                    self._span = min(self._span, half)
                    continue
                ts, price = _within(history, t, chunk_end)
                if not ts.size and closed and fidelity < RESOLVED_FIDELITY:
                    coarse = await self._history(clob, token, t, chunk_end, RESOLVED_FIDELITY)
                    coarse_ts, coarse_price = _within(coarse, t, chunk_end)
                    if coarse_ts.size:
                        if fidelity == cfg.fidelity:
                            stats.coarse += 1
                        fidelity, ts, price = RESOLVED_FIDELITY, coarse_ts, coarse_price
                n = int(ts.size)
                stored += n
                written += n
                progress = BackfillProgress(
                    token_id=token,
                    fidelity=cfg.fidelity,
                    market_id=m.market_id,
                    start_ts=covered_from,
                    done_ts=chunk_end,
                    status=done_status if chunk_end >= end else PROGRESS_PARTIAL,
                    points=stored,
                    fetched_fidelity=fidelity,
                    updated_ts=time.time(),
                )
                await self._in_db(
                    self.store.upsert_price_history,
                    m.market_id,
                    token,
                    ts.tolist(),
                    price.tolist(),
                    progress,
                )
                t = chunk_end
        except _FETCH_ERRORS as exc:
            text = f"{m.market_id[:14]}... {m.question[:60]!r}: skipped: {exc}"
            stats.note_error(text)
            self.listener.warn(text)
            await self._record_failure(m, covered_from, t, stored, fidelity, str(exc))
            return MarketResult(m.market_id, m.question, "failed", written, str(exc))
        outcome: Outcome = "fetched" if stored else "empty"
        return MarketResult(m.market_id, m.question, outcome, written)

    async def _history(
        self, clob: ClobRestClient, token: str, start: float, end: float, fidelity: int
    ) -> PriceHistory:
        async def call() -> PriceHistory:
            self.stats.requests += 1
            return await clob.prices_history(
                token, start_ts=int(start), end_ts=math.ceil(end), fidelity=fidelity
            )

        return await self._attempt(f"/prices-history {token[:12]}...", call)

    async def _record_failure(
        self, m: Market, covered_from: float, done: float, points: int, fidelity: int, error: str
    ) -> None:
        """Keep what was stored (the span up to `done`) and why the rest is missing."""
        progress = BackfillProgress(
            token_id=m.yes_token,
            fidelity=self.config.fidelity,
            market_id=m.market_id,
            start_ts=covered_from,
            done_ts=done,
            status=PROGRESS_FAILED,
            points=points,
            fetched_fidelity=fidelity,
            error=error,
            updated_ts=time.time(),
        )
        await self._in_db(self.store.save_backfill_progress, progress)

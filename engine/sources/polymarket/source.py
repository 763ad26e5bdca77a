"""`PolymarketSource`: the live `MarketSource` (Gamma discovery + CLOB books + market WS).

Threads: `start`/`stop` and every websocket task run on the engine's asyncio loop; `poll`
and `discover` are called from a worker thread (`asyncio.to_thread`). They meet in an
`EventQueue` and, for the market table, a lock.

`poll(now)` returns everything queued since the last call, in arrival order. It does not
hold back events stamped after `now`: those stamps are the exchange's clock, and a few ms of
skew would otherwise delay every book by a whole engine step. It also runs the stale guard
(`stale.StaleGuard`): the markets of a connection silent for longer than
`stale_after_seconds` are untrusted in that same batch, so the step that applies it sizes
nothing on them, whatever the websocket tasks are doing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from engine.config import PolymarketSettings
from engine.events import BookSnapshot, MarketListed, MarketResolved, SourceEvent
from engine.models import Market
from engine.sources.base import SourceStartError
from engine.sources.polymarket.clob_rest import ClobRestClient
from engine.sources.polymarket.errors import PolymarketParseError, PolymarketRequestError
from engine.sources.polymarket.eventqueue import EventQueue
from engine.sources.polymarket.gamma import GammaClient, MarketQuery
from engine.sources.polymarket.parse_gamma import parse_gamma_markets
from engine.sources.polymarket.ratelimit import CLOB_LIMITS, GAMMA_LIMITS, EndpointLimiter
from engine.sources.polymarket.retry import RetryPolicy
from engine.sources.polymarket.stale import StaleGuard
from engine.sources.polymarket.ws import MarketStreams

log = logging.getLogger("polyb0t.polymarket")

LISTING_LOOKUP_SECONDS = 10.0  # how long a new listing waits for Gamma's full record
SKIPS_LOGGED = 5  # per Gamma page: skipped markets named in the log (the rest are counted)


class PolymarketSource:
    name = "polymarket"

    def __init__(
        self,
        settings: PolymarketSettings | None = None,
        *,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`transport` replaces the network under the source's HTTP client (tests pass an
        `httpx.MockTransport`); the client itself, with the configured timeouts, is always
        the source's own and closed by `stop`. `monotonic` times the feed's silences."""
        self.s = settings if settings is not None else PolymarketSettings()
        self.clock = clock
        self.monotonic = monotonic
        self._rng = rng if rng is not None else random.Random()
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._queue = EventQueue()
        self._stale = StaleGuard(self.s.stale_after_seconds, monotonic)
        self._lock = threading.Lock()
        self._markets: dict[str, Market] = {}
        self._pending: set[str] = set()  # new listings being looked up
        self._resolved: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.gamma: GammaClient | None = None
        self.clob: ClobRestClient | None = None
        self.streams: MarketStreams | None = None
        self.skipped = 0  # listed markets that were not binary/tradeable

    # --- MarketSource ----------------------------------------------------------------------

    async def start(self) -> None:
        s = self.s
        timeout = httpx.Timeout(s.http_timeout_seconds, connect=s.http_connect_timeout_seconds)
        self._http = httpx.AsyncClient(timeout=timeout, transport=self._transport)
        policy = RetryPolicy(
            attempts=s.retry_attempts,
            base_seconds=s.retry_base_seconds,
            max_seconds=s.retry_max_seconds,
            max_retry_after=s.retry_after_max_seconds,
        )
        self.gamma = GammaClient(
            self._http,
            base_url=s.gamma_url,
            page_size=s.gamma_page_size,
            policy=policy,
            limiter=EndpointLimiter(GAMMA_LIMITS, share=s.rate_limit_share),
            rng=self._rng,
        )
        self.clob = ClobRestClient(
            self._http,
            base_url=s.clob_url,
            books_batch_size=s.books_batch_size,
            books_concurrency=s.books_concurrency,
            policy=policy,
            limiter=EndpointLimiter(CLOB_LIMITS, share=s.rate_limit_share),
            rng=self._rng,
        )
        try:
            markets = await self._discover_markets()
        except (PolymarketRequestError, PolymarketParseError) as exc:
            if _refused(exc):
                await self.stop()  # the runner only stops a source that started
                raise SourceStartError(f"polymarket: market discovery refused: {exc}") from None
            log.warning(
                "polymarket: market discovery failed (%s); running with no markets, "
                "trying again every %.0f s",
                exc,
                s.discovery_retry_seconds,
            )
            self._spawn(self._discover_until_listed())
            return
        except BaseException:
            await self.stop()
            raise
        await self._open(markets)

    async def _open(self, markets: list[Market], *, announce: bool = False) -> None:
        """Track `markets`: snapshots, then streams. `announce`: they arrive after the
        engine's first `discover`, so they are queued as listings, before their books."""
        with self._lock:
            self._markets = {m.market_id: m for m in markets}
        log.info("polymarket: %d binary markets (%d skipped)", len(markets), self.skipped)
        if announce:
            now = self.clock()
            self._queue.put([MarketListed(m, now) for m in markets])
        await self._initial_books(markets)
        await self.track(markets).start()

    def track(self, markets: list[Market]) -> MarketStreams:
        """The websocket streams of `markets`, made but not started: each frame a stream
        is given (`MarketStream.on_frame`) reaches `poll` as it would from the network."""
        self.streams = MarketStreams(
            self.s,
            self._on_events,
            known=self._markets,
            clock=self.clock,
            monotonic=self.monotonic,
            refresh=self._fetch_books,
            rng=self._rng,
            frames=self._queue,
        )
        self.streams.add_markets(markets)
        return self.streams

    async def _discover_until_listed(self) -> None:
        """Discovery again, every `discovery_retry_seconds` (jittered), until Gamma answers.
        Each try has its own retries with backoff; `stop` cancels the wait."""
        period = self.s.discovery_retry_seconds
        while True:
            await asyncio.sleep(period * self._rng.uniform(0.8, 1.2))
            try:
                markets = await self._discover_markets()
            except (PolymarketRequestError, PolymarketParseError) as exc:
                log.warning("polymarket: market discovery failed again (%s)", exc)
                continue
            await self._open(markets, announce=True)
            return

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def discover(self) -> list[Market]:
        with self._lock:
            return list(self._markets.values())

    def poll(self, now: float) -> list[SourceEvent]:
        streams = self.streams
        feeds = list(streams.streams) if streams is not None else []
        return self._stale.poll(feeds, self._queue.drain, now)

    async def stop(self) -> None:
        """Close sockets and the HTTP client; bounded so shutdown takes about a second."""
        for task in list(self._tasks):
            task.cancel()
        if self.streams is not None:
            await self.streams.stop(timeout=0.8)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=0.2)
        if self._http is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._http.aclose(), timeout=0.2)

    # --- discovery -------------------------------------------------------------------------

    def _query(self) -> MarketQuery:
        s = self.s
        return MarketQuery(
            active=True,
            closed=False,
            archived=False,
            tag_id=s.discovery_tag_id,
            order=s.discovery_order,
            ascending=False if s.discovery_order else None,
            liquidity_num_min=s.min_liquidity or None,
        )

    def _gamma(self) -> GammaClient:
        if self.gamma is None:
            raise RuntimeError("PolymarketSource.start() has not run")
        return self.gamma

    def _clob(self) -> ClobRestClient:
        if self.clob is None:
            raise RuntimeError("PolymarketSource.start() has not run")
        return self.clob

    async def _discover_markets(self) -> list[Market]:
        """Gamma pages until `max_markets` tradeable binary markets are found (or no more)."""
        found: dict[str, Market] = {}
        self.skipped = 0
        async for page in self._gamma().iter_markets(self._query()):
            markets, skipped = parse_gamma_markets(page)
            self.skipped += len(skipped)
            for sk in skipped[:SKIPS_LOGGED]:  # one bad market costs that market, never the run
                log.warning("polymarket: gamma market %s skipped: %s", sk.market_id, sk.reason)
            if len(skipped) > SKIPS_LOGGED:
                log.warning(
                    "polymarket: %d more gamma markets skipped", len(skipped) - SKIPS_LOGGED
                )
            for m in markets:
                if m.accepting_orders and not m.resolved and m.market_id not in found:
                    found[m.market_id] = m
                    if len(found) >= self.s.max_markets:
                        return list(found.values())
                else:
                    self.skipped += 1
        return list(found.values())

    async def _fetch_books(self, tokens: list[str]) -> list[BookSnapshot]:
        return await self._clob().books(tokens)

    async def _initial_books(self, markets: list[Market]) -> None:
        """REST snapshots so books exist before the websocket's initial dump arrives."""
        tokens = [t for m in markets for t in (m.yes_token, m.no_token)]
        if not tokens:
            return
        try:
            books = await self._fetch_books(tokens)
        except (PolymarketRequestError, PolymarketParseError) as exc:
            log.warning("polymarket: initial book snapshots failed (%s); waiting for WS", exc)
            return
        self._queue.put(books)

    # --- websocket events (event loop thread) ----------------------------------------------

    def _on_events(self, events: list[SourceEvent]) -> None:
        out: list[SourceEvent] = []
        for ev in events:
            if isinstance(ev, MarketListed):
                self._admit(ev.market)
            elif isinstance(ev, MarketResolved):
                # Custom-feature messages are broadcast on every connection: pass each
                # resolution of a market we track once.
                if ev.market_id in self._markets and ev.market_id not in self._resolved:
                    self._resolved.add(ev.market_id)
                    out.append(ev)
            else:
                out.append(ev)
        if out:
            self._queue.put(out)

    def _admit(self, market: Market) -> None:
        mid = market.market_id
        if mid in self._markets or mid in self._pending or not self.s.subscribe_new_markets:
            return
        if len(self._markets) + len(self._pending) >= self.s.max_markets:
            return
        self._pending.add(mid)
        self._spawn(self._list_new(market))

    async def _list_new(self, announced: Market) -> None:
        """Complete a `new_market` from Gamma (end date, volume, fees, event), subscribe it,
        and list it; the websocket's version is used if Gamma has nothing yet."""
        market = announced
        try:
            q = MarketQuery(active=None, archived=None, condition_ids=(announced.market_id,))
            raw = await asyncio.wait_for(
                self._gamma().markets(q, max_items=5), timeout=LISTING_LOOKUP_SECONDS
            )
            full, _ = parse_gamma_markets(raw)
            market = next((m for m in full if m.market_id == announced.market_id), announced)
        except (PolymarketRequestError, PolymarketParseError, TimeoutError) as exc:
            log.info("new market %s: Gamma lookup failed (%s)", announced.market_id[:12], exc)
        finally:
            self._pending.discard(announced.market_id)
        with self._lock:
            self._markets[market.market_id] = market
        # Listed before subscribed: whatever a stream knows of, the engine is told of first
        # (the stale guard names a stream's markets; see stale.py on ordering).
        self._queue.put([MarketListed(market, self.clock())])
        if self.streams is not None:
            self.streams.add_markets([market])


def _refused(exc: PolymarketRequestError | PolymarketParseError) -> bool:
    """A 4xx other than 429 (a wrong host or path, a bad query): waiting will not fix it.
    No answer, a 5xx, a 429 or an unreadable page may pass."""
    if not isinstance(exc, PolymarketRequestError) or exc.status is None:
        return False
    return 400 <= exc.status < 500 and exc.status != 429

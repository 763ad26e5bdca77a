"""Public (L0, unauthenticated) CLOB REST client: books, prices, history, market metadata.

Order placement and account endpoints belong to live execution, not here
(docs/polymarket_api.md §3 vs §4).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from typing import Any, Literal

import httpx

from engine.events import BookSnapshot
from engine.models import Market, Side
from engine.sources.polymarket.parse_clob import (
    ClobMarketsPage,
    PriceHistory,
    parse_book,
    parse_books,
    parse_clob_market,
    parse_clob_markets_page,
    parse_fee_rate,
    parse_midpoint,
    parse_neg_risk,
    parse_price,
    parse_prices_history,
    parse_server_time,
    parse_spread,
    parse_tick_size,
)
from engine.sources.polymarket.ratelimit import CLOB_LIMITS, EndpointLimiter
from engine.sources.polymarket.rest import JsonApi, Params
from engine.sources.polymarket.retry import RetryPolicy, Sleep

CLOB_URL = "https://clob.polymarket.com"
Interval = Literal["1m", "1h", "6h", "1d", "1w", "max", "all"]
INITIAL_CURSOR = "MA=="


class ClobRestClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = CLOB_URL,
        books_batch_size: int = 100,
        books_concurrency: int = 4,
        policy: RetryPolicy | None = None,
        limiter: EndpointLimiter | None = None,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if books_batch_size < 1 or books_concurrency < 1:
            raise ValueError("books_batch_size and books_concurrency must be >= 1")
        self.books_batch_size = books_batch_size
        self.books_concurrency = books_concurrency
        self.api = JsonApi(
            http,
            base_url,
            limiter if limiter is not None else EndpointLimiter(CLOB_LIMITS, sleep=sleep),
            policy if policy is not None else RetryPolicy(),
            rng=rng,
            sleep=sleep,
        )

    async def _get(self, path: str, group: str | None, params: Params | None = None) -> Any:
        groups = ("clob",) if group is None else ("clob", group)
        return await self.api.call("GET", path, groups, params=params)

    # --- books ---------------------------------------------------------------------------

    async def book(self, token_id: str) -> BookSnapshot:
        return parse_book(await self._get("/book", "clob:book", {"token_id": token_id}))

    async def books(self, token_ids: Sequence[str]) -> list[BookSnapshot]:
        """`POST /books` in chunks of `books_batch_size` (a too-large body is a 400,
        "Payload exceeds the limit"), `books_concurrency` chunks in flight; results in the
        order of `token_ids` as far as the server answered them."""
        chunks = [
            list(token_ids[i : i + self.books_batch_size])
            for i in range(0, len(token_ids), self.books_batch_size)
        ]
        gate = asyncio.Semaphore(self.books_concurrency)

        async def one(chunk: list[str]) -> list[BookSnapshot]:
            async with gate:
                body = [{"token_id": t} for t in chunk]
                payload = await self.api.call("POST", "/books", ("clob", "clob:books"), body=body)
            return parse_books(payload)

        results = await asyncio.gather(*(one(c) for c in chunks))
        return [b for chunk in results for b in chunk]

    # --- prices --------------------------------------------------------------------------

    async def price(self, token_id: str, side: Side) -> float:
        """Best price a `side` order would get: BUY → best ask, SELL → best bid."""
        params = {"token_id": token_id, "side": side.value}
        return parse_price(await self._get("/price", "clob:price", params))

    async def midpoint(self, token_id: str) -> float:
        return parse_midpoint(await self._get("/midpoint", "clob:midpoint", {"token_id": token_id}))

    async def spread(self, token_id: str) -> float:
        return parse_spread(await self._get("/spread", None, {"token_id": token_id}))

    async def prices_history(
        self,
        token_id: str,
        *,
        interval: Interval | None = None,
        start_ts: int | None = None,
        end_ts: int | None = None,
        fidelity: int | None = None,
    ) -> PriceHistory:
        """`GET /prices-history` (docs/polymarket_api.md §3.2): either `interval` or both
        `start_ts`/`end_ts` (unix seconds), never both; `fidelity` is the resolution in
        minutes."""
        ranged = start_ts is not None or end_ts is not None
        if (interval is None) == (not ranged) or (ranged and (start_ts is None or end_ts is None)):
            raise ValueError("give either interval, or both start_ts and end_ts")
        if start_ts is not None and end_ts is not None and end_ts <= start_ts:
            raise ValueError("end_ts must be after start_ts")
        if fidelity is not None and fidelity < 1:
            raise ValueError("fidelity is in minutes and must be >= 1")
        params: dict[str, str | int | None] = {
            "market": token_id,  # a token id, despite the name
            "interval": interval,
            "startTs": start_ts,
            "endTs": end_ts,
            "fidelity": fidelity,
        }
        payload = await self._get("/prices-history", "clob:prices-history", params)
        return parse_prices_history(payload, token_id)

    # --- market metadata -----------------------------------------------------------------

    async def tick_size(self, token_id: str) -> float:
        """Never cache this forever: ticks change near 0 and 1 (docs/polymarket_api.md §3.5,
        gotcha G7)."""
        return parse_tick_size(
            await self._get("/tick-size", "clob:tick-size", {"token_id": token_id})
        )

    async def neg_risk(self, token_id: str) -> bool:
        return parse_neg_risk(await self._get("/neg-risk", None, {"token_id": token_id}))

    async def fee_rate_bps(self, token_id: str) -> int:
        return parse_fee_rate(await self._get("/fee-rate", None, {"token_id": token_id}))

    async def server_time(self) -> float:
        return parse_server_time(await self._get("/time", None))

    async def market(self, condition_id: str) -> Market:
        """`GET /markets/{condition_id}`: authoritative tokens and `winner` flags.

        See docs/polymarket_api.md §3.3 (the object) and §2.6 (the resolution fallback)."""
        return parse_clob_market(await self._get(f"/markets/{condition_id}", None))

    async def markets_page(self, cursor: str = INITIAL_CURSOR) -> ClobMarketsPage:
        return parse_clob_markets_page(await self._get("/markets", None, {"next_cursor": cursor}))

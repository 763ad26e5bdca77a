"""Gamma REST client: market and event discovery (docs/polymarket_api.md §2).

Returns Gamma's own JSON objects; turning them into `Market`s (and deciding what to skip) is
`parse_gamma`'s job, so the client stays useful for anything else Gamma answers.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from engine.sources.polymarket.errors import PolymarketParseError
from engine.sources.polymarket.ratelimit import GAMMA_LIMITS, EndpointLimiter
from engine.sources.polymarket.rest import JsonApi, Params
from engine.sources.polymarket.retry import RetryPolicy, Sleep

log = logging.getLogger("polyb0t.polymarket.gamma")

GAMMA_URL = "https://gamma-api.polymarket.com"
JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class MarketQuery:
    """Filters of `GET /markets` (docs/polymarket_api.md §2.2). `closed` is always sent: the
    server's default differs between endpoints and silently drops markets
    (docs/polymarket_api.md, gotcha G2)."""

    active: bool | None = True
    closed: bool = False
    archived: bool | None = False
    tag_id: int | None = None
    related_tags: bool | None = None
    include_tag: bool | None = None
    order: str | None = None
    ascending: bool | None = None
    ids: tuple[str, ...] = ()
    slugs: tuple[str, ...] = ()
    condition_ids: tuple[str, ...] = ()
    clob_token_ids: tuple[str, ...] = ()
    liquidity_num_min: float | None = None
    volume_num_min: float | None = None
    end_date_min: str | None = None  # ISO-8601
    end_date_max: str | None = None

    def params(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "closed": self.closed,
            "archived": self.archived,
            "tag_id": self.tag_id,
            "related_tags": self.related_tags,
            "include_tag": self.include_tag,
            "order": self.order,
            # `ascending` needs `order`. Lists: comma-joined as the official Rust client sends
            # them, except clob_token_ids, which must repeat (docs/polymarket_api.md §2.2).
            "ascending": self.ascending if self.order else None,
            "id": ",".join(self.ids) or None,
            "slug": ",".join(self.slugs) or None,
            "condition_ids": ",".join(self.condition_ids) or None,
            "clob_token_ids": list(self.clob_token_ids) or None,
            "liquidity_num_min": self.liquidity_num_min,
            "volume_num_min": self.volume_num_min,
            "end_date_min": self.end_date_min,
            "end_date_max": self.end_date_max,
        }


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Filters of `GET /events` (docs/polymarket_api.md §2.3); `closed` always sent (gotcha G2)."""

    active: bool | None = True
    closed: bool = False
    archived: bool | None = False
    tag_id: int | None = None
    tag_slug: str | None = None
    related_tags: bool | None = None
    featured: bool | None = None
    order: str | None = None
    ascending: bool | None = None
    ids: tuple[str, ...] = ()
    slugs: tuple[str, ...] = ()
    liquidity_min: float | None = None
    volume_min: float | None = None
    end_date_min: str | None = None
    end_date_max: str | None = None

    def params(self) -> dict[str, Any]:
        return {
            "active": self.active,
            "closed": self.closed,
            "archived": self.archived,
            "tag_id": self.tag_id,
            "tag_slug": self.tag_slug,
            "related_tags": self.related_tags,
            "featured": self.featured,
            "order": self.order,
            "ascending": self.ascending if self.order else None,
            "id": ",".join(self.ids) or None,
            "slug": ",".join(self.slugs) or None,
            "liquidity_min": self.liquidity_min,
            "volume_min": self.volume_min,
            "end_date_min": self.end_date_min,
            "end_date_max": self.end_date_max,
        }


def _page_items(payload: Any, path: str) -> list[JsonObject]:
    """A listing page: a bare array, or the {"data": [...]} wrapper Nautilus also accepts
    (docs/polymarket_api.md §2.4)."""
    if isinstance(payload, Mapping) and isinstance(payload.get("data"), list):
        payload = payload["data"]
    if not isinstance(payload, list) or not all(isinstance(x, dict) for x in payload):
        raise PolymarketParseError(f"GET {path}: expected an array of objects", path)
    return payload


class GammaClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = GAMMA_URL,
        page_size: int = 100,
        policy: RetryPolicy | None = None,
        limiter: EndpointLimiter | None = None,
        rng: random.Random | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be >= 1")
        self.page_size = page_size
        self.api = JsonApi(
            http,
            base_url,
            limiter if limiter is not None else EndpointLimiter(GAMMA_LIMITS, sleep=sleep),
            policy if policy is not None else RetryPolicy(),
            rng=rng,
            sleep=sleep,
        )

    async def _get(self, path: str, groups: tuple[str, ...], params: Params | None = None) -> Any:
        return await self.api.call("GET", path, groups, params=params)

    async def markets_page(
        self, q: MarketQuery = MarketQuery(), *, offset: int = 0, limit: int | None = None
    ) -> list[JsonObject]:
        params = {**q.params(), "limit": limit or self.page_size, "offset": offset}
        payload = await self._get("/markets", ("gamma", "gamma:listing", "gamma:markets"), params)
        return _page_items(payload, "/markets")

    async def events_page(
        self, q: EventQuery = EventQuery(), *, offset: int = 0, limit: int | None = None
    ) -> list[JsonObject]:
        params = {**q.params(), "limit": limit or self.page_size, "offset": offset}
        payload = await self._get("/events", ("gamma", "gamma:listing", "gamma:events"), params)
        return _page_items(payload, "/events")

    async def _pages(
        self,
        path: str,
        fetch: Callable[[int, int], Awaitable[list[JsonObject]]],
        max_items: int | None,
    ) -> AsyncIterator[list[JsonObject]]:
        """Offset pages until a short page, `max_items`, or a page that repeats the last one
        (a server that ignores `offset` would otherwise be paged forever)."""
        offset, seen = 0, 0
        previous_first: Any = object()
        while max_items is None or seen < max_items:
            limit = self.page_size if max_items is None else min(self.page_size, max_items - seen)
            page = await fetch(offset, limit)
            if not page:
                return
            first = page[0].get("id", page[0].get("conditionId"))
            if first is not None and first == previous_first:
                log.warning("gamma %s ignored offset=%d (page repeated); stopping", path, offset)
                return
            previous_first = first
            yield page
            seen += len(page)
            offset += len(page)
            if len(page) < limit:
                return

    def iter_markets(
        self, q: MarketQuery = MarketQuery(), *, max_items: int | None = None
    ) -> AsyncIterator[list[JsonObject]]:
        """Pages of `GET /markets` matching `q`, following offset pagination."""

        async def fetch(offset: int, limit: int) -> list[JsonObject]:
            return await self.markets_page(q, offset=offset, limit=limit)

        return self._pages("/markets", fetch, max_items)

    def iter_events(
        self, q: EventQuery = EventQuery(), *, max_items: int | None = None
    ) -> AsyncIterator[list[JsonObject]]:
        async def fetch(offset: int, limit: int) -> list[JsonObject]:
            return await self.events_page(q, offset=offset, limit=limit)

        return self._pages("/events", fetch, max_items)

    async def markets(
        self, q: MarketQuery = MarketQuery(), *, max_items: int | None = None
    ) -> list[JsonObject]:
        return [m async for page in self.iter_markets(q, max_items=max_items) for m in page]

    async def events(
        self, q: EventQuery = EventQuery(), *, max_items: int | None = None
    ) -> list[JsonObject]:
        return [e async for page in self.iter_events(q, max_items=max_items) for e in page]

    async def market(self, market_id: str) -> JsonObject:
        """`GET /markets/{id}` (Gamma's numeric id): any state, no `closed` default.

        See docs/polymarket_api.md, gotcha G2."""
        payload = await self._get(f"/markets/{market_id}", ("gamma",))
        if not isinstance(payload, dict):
            raise PolymarketParseError(f"GET /markets/{market_id}: expected an object")
        return payload

    async def event(self, event_id: str) -> JsonObject:
        payload = await self._get(f"/events/{event_id}", ("gamma",))
        if not isinstance(payload, dict):
            raise PolymarketParseError(f"GET /events/{event_id}: expected an object")
        return payload

    async def tags(self, *, limit: int = 100, offset: int = 0) -> list[JsonObject]:
        payload = await self._get(
            "/tags", ("gamma", "gamma:tags"), {"limit": limit, "offset": offset}
        )
        return _page_items(payload, "/tags")

    async def search(self, text: str) -> JsonObject:
        payload = await self._get("/public-search", ("gamma", "gamma:search"), {"q": text})
        if not isinstance(payload, dict):
            raise PolymarketParseError("GET /public-search: expected an object")
        return payload

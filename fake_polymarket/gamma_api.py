"""Gamma (`gamma-api.polymarket.com`): market and event discovery, offset-paginated.

`GET /markets` and `GET /events` return bare JSON arrays (stop when shorter than `limit`),
filtered by the parameters of docs/polymarket_api.md §2.2-§2.3 that make sense for simulated
markets: `id`, `slug`, `condition_ids`, `clob_token_ids`, `question_ids` (repeated or
comma-joined), `tag_id`, `active`, `closed`, `archived`, `liquidity_num_*`, `volume_num_*`,
`start_date_*`, `end_date_*`, with `order` + `ascending` sorting. Two documented quirks are
kept on purpose so a client that omits `closed` finds out here rather than in production
(docs/polymarket_api.md, gotcha G2): `/markets?id=...` without `closed` only returns open
markets, and `/events` without `closed` only returns closed events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from fake_polymarket.catalog import CATEGORY_TAGS, EventInfo, MarketInfo
from fake_polymarket.httputil import (
    error,
    query_bool,
    query_float,
    query_list,
    query_ts,
    reply,
)
from fake_polymarket.orderbook import MarketBook
from fake_polymarket.state import FakeWorld
from fake_polymarket.wire import gamma_event, gamma_market, tag

JSON = dict[str, Any]

_MARKET_ORDER: dict[str, Callable[[MarketInfo, float], float]] = {
    "id": lambda i, _: float(i.gamma_id),
    "volume": lambda i, _: i.volume,
    "volumeNum": lambda i, _: i.volume,
    "volume24hr": lambda i, now: i.volume_since(now - 86_400),
    "liquidity": lambda i, _: i.market.liquidity,
    "liquidityNum": lambda i, _: i.market.liquidity,
    "endDate": lambda i, _: i.market.end_ts,
    "startDate": lambda i, _: i.market.created_ts,
    "createdAt": lambda i, _: i.market.created_ts,
}


class GammaApi:
    def __init__(self, world: FakeWorld) -> None:
        self.world = world

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/markets", self.markets)
        app.router.add_get("/markets/slug/{slug}", self.market_by_slug)
        app.router.add_get("/markets/{id}", self.market_by_id)
        app.router.add_get("/events", self.events)
        app.router.add_get("/events/slug/{slug}", self.event_by_slug)
        app.router.add_get("/events/{id}", self.event_by_id)
        app.router.add_get("/tags", self.tags)
        app.router.add_get("/status", self.status)

    # --- building ------------------------------------------------------------------------------

    def _members(self, ev: EventInfo) -> list[tuple[MarketInfo, MarketBook]]:
        cat = self.world.catalog
        return [(cat.markets[c], self.world.books[c]) for c in ev.market_ids]

    def _market(self, info: MarketInfo, include_tag: bool) -> JSON:
        now = self.world.clock.now()
        ev = self.world.catalog.events[info.event_id]
        nested = gamma_event(ev, self._members(ev), now, with_markets=False)
        nested.pop("tags", None)
        return gamma_market(info, self.world.books[info.market.market_id], nested, now, include_tag)

    def _event(self, ev: EventInfo) -> JSON:
        return gamma_event(ev, self._members(ev), self.world.clock.now(), with_markets=True)

    def _window(self, request: web.Request) -> tuple[int, int] | None:
        """(limit, offset) of a list request, the limit capped as Gamma caps it; None if bad."""
        default, cap = self.world.config.gamma_default_limit, self.world.config.gamma_max_limit
        try:
            limit = int(request.query.get("limit", default))
            offset = int(request.query.get("offset", 0))
        except ValueError:
            return None
        if limit < 0 or offset < 0:
            return None
        return min(limit, cap), offset

    # --- markets -------------------------------------------------------------------------------

    async def markets(self, request: web.Request) -> web.Response:
        q = request.query
        window = self._window(request)
        if window is None:
            return error(422, "invalid limit or offset")
        limit, offset = window
        ids = set(query_list(q, "id"))
        closed = query_bool(q, "closed")
        if ids and closed is None:
            closed = False  # quirk: docs/polymarket_api.md, gotcha G2
        wanted: dict[str, set[str]] = {
            "slug": set(query_list(q, "slug")),
            "cid": {c.lower() for c in query_list(q, "condition_ids")},
            "tok": set(query_list(q, "clob_token_ids")),
            "qid": {c.lower() for c in query_list(q, "question_ids")},
            "tag": set(query_list(q, "tag_id")),
        }
        active, archived = query_bool(q, "active"), query_bool(q, "archived")
        bounds = {
            name: query_float(q, name)
            for name in (
                "liquidity_num_min",
                "liquidity_num_max",
                "volume_num_min",
                "volume_num_max",
            )
        }
        dates = {
            name: query_ts(q, name)
            for name in ("start_date_min", "start_date_max", "end_date_min", "end_date_max")
        }

        def keep(i: MarketInfo) -> bool:
            m = i.market
            checks = (
                not ids or i.gamma_id in ids,
                not wanted["slug"] or i.slug in wanted["slug"],
                not wanted["cid"] or m.market_id.lower() in wanted["cid"],
                not wanted["tok"] or bool({m.yes_token, m.no_token} & wanted["tok"]),
                not wanted["qid"] or i.question_id.lower() in wanted["qid"],
                not wanted["tag"] or CATEGORY_TAGS[m.category] in wanted["tag"],
                closed is None or i.closed == closed,
                active is None or active,  # every fake market is active, closed or not
                archived is None or not archived,
                _within(m.liquidity, bounds["liquidity_num_min"], bounds["liquidity_num_max"]),
                _within(i.volume, bounds["volume_num_min"], bounds["volume_num_max"]),
                _within(m.created_ts, dates["start_date_min"], dates["start_date_max"]),
                _within(m.end_ts, dates["end_date_min"], dates["end_date_max"]),
            )
            return all(checks)

        found = [i for i in self.world.catalog.markets.values() if keep(i)]
        order = q.get("order")
        if order in _MARKET_ORDER:
            now = self.world.clock.now()
            key = _MARKET_ORDER[order]
            found.sort(key=lambda i: key(i, now), reverse=query_bool(q, "ascending") is False)
        include_tag = bool(query_bool(q, "include_tag"))
        return reply([self._market(i, include_tag) for i in found[offset : offset + limit]])

    async def market_by_id(self, request: web.Request) -> web.Response:
        cid = self.world.catalog.by_gamma_id.get(request.match_info["id"])
        if cid is None:
            return error(404, "market not found")
        include_tag = bool(query_bool(request.query, "include_tag"))
        return reply(self._market(self.world.catalog.markets[cid], include_tag))

    async def market_by_slug(self, request: web.Request) -> web.Response:
        cid = self.world.catalog.by_slug.get(request.match_info["slug"])
        if cid is None:
            return error(404, "market not found")
        include_tag = bool(query_bool(request.query, "include_tag"))
        return reply(self._market(self.world.catalog.markets[cid], include_tag))

    # --- events --------------------------------------------------------------------------------

    async def events(self, request: web.Request) -> web.Response:
        q = request.query
        window = self._window(request)
        if window is None:
            return error(422, "invalid limit or offset")
        limit, offset = window
        ids = set(query_list(q, "id"))
        slugs = set(query_list(q, "slug"))
        tags = set(query_list(q, "tag_id"))
        closed = query_bool(q, "closed")
        if closed is None:
            closed = True  # no `closed`: closed events only (docs/polymarket_api.md, gotcha G2)
        archived = query_bool(q, "archived")
        cat = self.world.catalog

        def is_closed(ev: EventInfo) -> bool:
            return all(cat.markets[c].closed for c in ev.market_ids)

        found = [
            ev
            for ev in cat.events.values()
            if (not ids or ev.id in ids)
            and (not slugs or ev.slug in slugs)
            and (not tags or CATEGORY_TAGS[ev.category] in tags)
            and is_closed(ev) == closed
            and (archived is None or not archived)
        ]
        if q.get("order") in ("id", "startDate", "createdAt"):
            found.sort(
                key=lambda e: float(e.id) if q.get("order") == "id" else e.created_ts,
                reverse=query_bool(q, "ascending") is False,
            )
        return reply([self._event(ev) for ev in found[offset : offset + limit]])

    async def event_by_id(self, request: web.Request) -> web.Response:
        ev = self.world.catalog.events.get(request.match_info["id"])
        return reply(self._event(ev)) if ev is not None else error(404, "event not found")

    async def event_by_slug(self, request: web.Request) -> web.Response:
        eid = self.world.catalog.event_by_slug.get(request.match_info["slug"])
        if eid is None:
            return error(404, "event not found")
        return reply(self._event(self.world.catalog.events[eid]))

    async def tags(self, request: web.Request) -> web.Response:
        return reply([tag(c) for c in CATEGORY_TAGS])

    async def status(self, request: web.Request) -> web.Response:
        return web.Response(text="OK", content_type="text/plain")


def _within(value: float, lo: float | None, hi: float | None) -> bool:
    return (lo is None or value >= lo) and (hi is None or value <= hi)

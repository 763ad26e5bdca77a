"""CLOB public market data (`clob.polymarket.com`, no auth): books, prices, markets, history.

Shapes and error strings follow docs/polymarket_api.md §3 and Polymarket's error-codes page
(https://docs.polymarket.com/resources/error-codes): a token id that is not a number is 400
`Invalid token id`; an unknown or resolved one has no book, 404 `No orderbook exists for the
requested token id`; batch bodies past `batch_limit` ids are 400 `Payload exceeds the limit`.
Number types follow the table of docs/polymarket_api.md §3 (strings from the single `/price`,
`/midpoint`, `/spread`; numbers in `/prices` and `/midpoints` maps), since clients must parse
both (docs/polymarket_api.md, gotcha G4). `GET /price` gives the best bid for BUY and the best
ask for SELL, as Polymarket's documentation says
(https://docs.polymarket.com/api-reference/market-data/get-market-price).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fake_polymarket import wire
from fake_polymarket.catalog import MarketInfo
from fake_polymarket.httputil import error, page, query_float, reply
from fake_polymarket.orderbook import MarketBook
from fake_polymarket.state import INTERVALS_S, FakeWorld
from fake_polymarket.units import PRICE_SCALE, decimal_str, price_str

JSON = dict[str, Any]
NO_BOOK = "No orderbook exists for the requested token id"
BAD_TOKEN = "Invalid token id"
TOO_MANY = "Payload exceeds the limit"
BAD_PAYLOAD = "Invalid payload"


class _Missing(Exception):
    """A lookup that ends the request with `response` (400/404 as Polymarket answers)."""

    def __init__(self, response: web.Response) -> None:
        self.response = response


def _mid_str(bid: int | None, ask: int | None) -> str:
    b = bid if bid is not None else 0
    a = ask if ask is not None else PRICE_SCALE
    return decimal_str((a + b) * 5, PRICE_SCALE * 10)


class ClobPublicApi:
    def __init__(self, world: FakeWorld) -> None:
        self.world = world

    def routes(self, app: web.Application) -> None:
        r = app.router
        for path, handler in (
            ("/", self.ok),
            ("/ok", self.ok),
            ("/time", self.time),
            ("/version", self.version),
            ("/book", self.book),
            ("/price", self.price),
            ("/midpoint", self.midpoint),
            ("/spread", self.spread),
            ("/last-trade-price", self.last_trade_price),
            ("/tick-size", self.tick_size),
            ("/neg-risk", self.neg_risk),
            ("/fee-rate", self.fee_rate),
            ("/prices-history", self.prices_history),
            ("/markets", self.markets),
            ("/simplified-markets", self.simplified_markets),
            ("/sampling-markets", self.sampling_markets),
            ("/sampling-simplified-markets", self.sampling_simplified_markets),
            ("/markets/{condition_id}", self.market),
            ("/clob-markets/{condition_id}", self.clob_market),
            ("/markets-by-token/{token_id}", self.market_by_token),
        ):
            r.add_get(path, handler)
        r.add_post("/books", self._batch(self._book_json))
        r.add_post("/prices", self.prices)
        r.add_post(
            "/midpoints", self._batch(lambda b, t: float(_mid_str(*b.token_best(t))), keyed=True)
        )
        r.add_post("/spreads", self._batch(self._spread_str, keyed=True))
        r.add_post("/last-trades-prices", self._batch(self._last_trade_json))

    # --- lookups -------------------------------------------------------------------------------

    def _market_of(
        self, token: str | None, *, need_book: bool = True
    ) -> tuple[MarketInfo, MarketBook]:
        if not token or not token.isdigit():
            raise _Missing(error(400, BAD_TOKEN))
        info = self.world.catalog.market_of_token(token)
        if info is None:
            raise _Missing(error(404, NO_BOOK if need_book else "market not found"))
        book = self.world.books[info.market.market_id]
        if need_book and book.closed:
            raise _Missing(error(404, NO_BOOK))
        return info, book

    def _book_json(self, book: MarketBook, token: str) -> JSON:
        return wire.book_summary(book, token)

    @staticmethod
    def _spread_str(book: MarketBook, token: str) -> str:
        bid, ask = book.token_best(token)
        return price_str((ask if ask is not None else PRICE_SCALE) - (bid or 0))

    @staticmethod
    def _last_trade_json(book: MarketBook, token: str) -> JSON:
        ltp = wire.last_trade_price(book, token)
        side = book.last_trade[1].value if book.last_trade else ""
        if book.last_trade and token == book.no_token:
            side = "SELL" if side == "BUY" else "BUY"
        return {"token_id": token, "price": price_str(ltp) if ltp is not None else "", "side": side}

    def _batch(
        self, value: Callable[[MarketBook, str], Any], keyed: bool = False
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """A POST taking `[{"token_id": ...}]`: a list of values, or a map when `keyed`."""

        async def handler(request: web.Request) -> web.Response:
            tokens = await self._tokens_from_body(request)
            if isinstance(tokens, web.Response):
                return tokens
            out_map: JSON = {}
            out_list: list[Any] = []
            for token in tokens:
                try:
                    _, book = self._market_of(token)
                except _Missing:
                    continue
                if keyed:
                    out_map[token] = value(book, token)
                else:
                    out_list.append(value(book, token))
            return reply(out_map if keyed else out_list)

        return handler

    async def _tokens_from_body(self, request: web.Request) -> list[str] | web.Response:
        items = await self._body_items(request)
        if isinstance(items, web.Response):
            return items
        return [str(i.get("token_id", "")) for i in items]

    async def _body_items(self, request: web.Request) -> list[JSON] | web.Response:
        try:
            body = await request.json()
        except ValueError:
            return error(400, BAD_PAYLOAD)
        if not isinstance(body, list) or not all(isinstance(i, dict) for i in body):
            return error(400, BAD_PAYLOAD)
        if len(body) > self.world.config.batch_limit:
            return error(400, TOO_MANY)
        return body

    # --- health and time -----------------------------------------------------------------------

    async def ok(self, request: web.Request) -> web.Response:
        return reply("OK")

    async def time(self, request: web.Request) -> web.Response:
        return reply(int(self.world.clock.now()))

    async def version(self, request: web.Request) -> web.Response:
        return reply({"version": 2})

    # --- books and prices ----------------------------------------------------------------------

    async def book(self, request: web.Request) -> web.Response:
        token = request.query.get("token_id")
        try:
            _, book = self._market_of(token)
        except _Missing as e:
            return e.response
        return reply(wire.book_summary(book, str(token)))

    async def price(self, request: web.Request) -> web.Response:
        token = request.query.get("token_id")
        side = request.query.get("side", "").upper()
        try:
            _, book = self._market_of(token)
        except _Missing as e:
            return e.response
        if side not in ("BUY", "SELL"):
            return error(400, "Invalid side")
        bid, ask = book.token_best(str(token))
        best = bid if side == "BUY" else ask
        if best is None:
            return error(404, NO_BOOK)
        return reply({"price": price_str(best)})

    async def prices(self, request: web.Request) -> web.Response:
        items = await self._body_items(request)
        if isinstance(items, web.Response):
            return items
        out: dict[str, dict[str, float]] = {}
        for item in items:
            token, side = str(item.get("token_id", "")), str(item.get("side", "")).upper()
            if side not in ("BUY", "SELL"):
                return error(400, "Invalid side")
            try:
                _, book = self._market_of(token)
            except _Missing:
                continue
            bid, ask = book.token_best(token)
            best = bid if side == "BUY" else ask
            if best is not None:
                out.setdefault(token, {})[side] = best / PRICE_SCALE
        return reply(out)

    async def midpoint(self, request: web.Request) -> web.Response:
        token = request.query.get("token_id")
        try:
            _, book = self._market_of(token)
        except _Missing as e:
            return e.response
        return reply({"mid": _mid_str(*book.token_best(str(token)))})

    async def spread(self, request: web.Request) -> web.Response:
        token = request.query.get("token_id")
        try:
            _, book = self._market_of(token)
        except _Missing as e:
            return e.response
        return reply({"spread": self._spread_str(book, str(token))})

    async def last_trade_price(self, request: web.Request) -> web.Response:
        token = request.query.get("token_id")
        try:
            _, book = self._market_of(token, need_book=False)
        except _Missing as e:
            return e.response
        row = self._last_trade_json(book, str(token))
        price = float(row["price"]) if row["price"] else 0.5
        return reply({"price": price, "side": row["side"]})

    async def tick_size(self, request: web.Request) -> web.Response:
        try:
            _, book = self._market_of(request.query.get("token_id"), need_book=False)
        except _Missing as e:
            return e.response
        return reply({"minimum_tick_size": book.tick / PRICE_SCALE})

    async def neg_risk(self, request: web.Request) -> web.Response:
        try:
            _, book = self._market_of(request.query.get("token_id"), need_book=False)
        except _Missing as e:
            return e.response
        return reply({"neg_risk": book.neg_risk})

    async def fee_rate(self, request: web.Request) -> web.Response:
        try:
            info, _ = self._market_of(request.query.get("token_id"), need_book=False)
        except _Missing as e:
            return e.response
        return reply({"base_fee": wire.fee_bps(info.market.fee_rate)})

    async def prices_history(self, request: web.Request) -> web.Response:
        q = request.query
        token = q.get("market", "")
        interval = q.get("interval")
        start, end = query_float(q, "startTs"), query_float(q, "endTs")
        fidelity = query_float(q, "fidelity") or 1.0
        if interval is not None:
            if interval not in INTERVALS_S:
                return error(400, f"invalid filters: unknown interval {interval}")
            span = INTERVALS_S[interval]
            end = self.world.clock.now()
            start = end - span if span is not None else None
        elif start is None or end is None:
            return error(400, "invalid filters: interval or startTs and endTs are required")
        if not token:
            return error(400, "invalid filters: market is required")
        return reply({"history": self.world.price_history(token, start, end, fidelity)})

    # --- markets -------------------------------------------------------------------------------

    def _paged(self, request: web.Request, items: list[JSON]) -> web.Response:
        body = page(items, request.query.get("next_cursor"), self.world.config.clob_page_size)
        return reply(body) if body is not None else error(400, "Invalid next_cursor")

    def _all(self, open_only: bool = False) -> list[tuple[MarketInfo, MarketBook]]:
        w = self.world
        return [
            (i, w.books[cid])
            for cid, i in w.catalog.markets.items()
            if not (open_only and i.closed)
        ]

    async def markets(self, request: web.Request) -> web.Response:
        return self._paged(request, [wire.clob_market(i, b) for i, b in self._all()])

    async def simplified_markets(self, request: web.Request) -> web.Response:
        return self._paged(request, [wire.simplified_market(i, b) for i, b in self._all()])

    async def sampling_markets(self, request: web.Request) -> web.Response:
        return self._paged(request, [wire.clob_market(i, b) for i, b in self._all(True)])

    async def sampling_simplified_markets(self, request: web.Request) -> web.Response:
        return self._paged(request, [wire.simplified_market(i, b) for i, b in self._all(True)])

    def _by_condition(self, request: web.Request) -> tuple[MarketInfo, MarketBook] | web.Response:
        cid = request.match_info["condition_id"]
        if not (cid.startswith("0x") and len(cid) == 66):
            return error(400, "Invalid market")
        info = self.world.catalog.markets.get(cid.lower())
        if info is None:
            return error(404, "market not found")
        return info, self.world.books[info.market.market_id]

    async def market(self, request: web.Request) -> web.Response:
        found = self._by_condition(request)
        return found if isinstance(found, web.Response) else reply(wire.clob_market(*found))

    async def clob_market(self, request: web.Request) -> web.Response:
        found = self._by_condition(request)
        return found if isinstance(found, web.Response) else reply(wire.clob_market_info(*found))

    async def market_by_token(self, request: web.Request) -> web.Response:
        try:
            info, book = self._market_of(request.match_info["token_id"], need_book=False)
        except _Missing as e:
            return e.response
        return reply(wire.clob_market(info, book))

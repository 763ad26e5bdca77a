"""Polymarket's Data API (`data-api.polymarket.com`), the one route the engine reads:
`GET /positions?user=ADDRESS` (public, offset-paginated, bare JSON array).

Served on the fake's Gamma port (another public read-only host in production). Rows follow
the Data API's `get-positions` schema: numbers as JSON numbers, `outcomeIndex` 0 for the
market's first token, `avgPrice` the average price paid for the shares bought, `redeemable`
once the market resolved (the fake pays resolved tokens out at once, so that is rare here).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from engine.models import Side
from fake_polymarket.httputil import error, reply
from fake_polymarket.orders import Exchange
from fake_polymarket.state import FakeWorld
from fake_polymarket.units import AMOUNT_SCALE, PRICE_SCALE

JSON = dict[str, Any]
MAX_LIMIT = 500
MAX_OFFSET = 10_000


class DataApi:
    def __init__(self, world: FakeWorld) -> None:
        self.world = world

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/positions", self.positions)

    async def positions(self, request: web.Request) -> web.Response:
        q = request.query
        user = q.get("user", "").strip()
        if not user:
            return error(400, "user is required")
        try:
            threshold = float(q.get("sizeThreshold", "1"))
            limit = int(q.get("limit", "100"))
            offset = int(q.get("offset", "0"))
        except ValueError:
            return error(400, "sizeThreshold, limit and offset must be numbers")
        if not (0 <= limit <= MAX_LIMIT and 0 <= offset <= MAX_OFFSET and threshold >= 0):
            return error(400, f"limit 0-{MAX_LIMIT}, offset 0-{MAX_OFFSET}, sizeThreshold >= 0")
        rows = [r for r in self._rows(user) if r["size"] >= threshold]
        return reply(rows[offset : offset + limit])

    def _rows(self, user: str) -> list[JSON]:
        exchange = self.world.exchange
        acct = exchange.accounts.get(user.lower())
        if acct is None:
            return []
        paid = _prices_paid(exchange, user)
        out = []
        for token, units in sorted(acct.tokens.items()):
            info = self.world.catalog.market_of_token(token)
            if info is None or units <= 0:
                continue
            m = info.market
            first = token == m.yes_token
            size = units / AMOUNT_SCALE
            book = self.world.books[m.market_id]
            bid, ask = book.token_best(token)
            cur = (bid + ask) / 2 / PRICE_SCALE if bid is not None and ask is not None else 0.5
            avg = paid.get(token, cur)  # tokens credited without a trade (`fund`): at the mid
            out.append(
                {
                    "proxyWallet": user.lower(),
                    "asset": token,
                    "conditionId": m.market_id,
                    "size": size,
                    "avgPrice": round(avg, 6),
                    "initialValue": round(size * avg, 6),
                    "currentValue": round(size * cur, 6),
                    "cashPnl": round(size * (cur - avg), 6),
                    "curPrice": round(cur, 6),
                    "redeemable": m.resolved,
                    "mergeable": False,
                    "title": m.question,
                    "slug": info.slug,
                    "outcome": "Yes" if first else "No",
                    "outcomeIndex": 0 if first else 1,
                    "oppositeOutcome": "No" if first else "Yes",
                    "oppositeAsset": m.no_token if first else m.yes_token,
                    "negativeRisk": bool(info.neg_risk_market_id),
                }
            )
        return out


def _prices_paid(exchange: Exchange, user: str) -> dict[str, float]:
    """Token → average price of the shares `user` bought, as taker or maker."""
    who = user.lower()
    spent: dict[str, float] = {}
    bought: dict[str, float] = {}
    for t in exchange.trades.values():
        fills = [(f.token, f.side, f.price, f.shares) for f in t.makers if f.address.lower() == who]
        if t.taker_address.lower() == who:
            fills.append((t.token, t.side, t.price, t.shares))
        for token, side, price, shares in fills:
            if side is Side.BUY:
                spent[token] = spent.get(token, 0.0) + price / PRICE_SCALE * shares
                bought[token] = bought.get(token, 0.0) + shares
    return {k: spent[k] / bought[k] for k in bought if bought[k] > 0}

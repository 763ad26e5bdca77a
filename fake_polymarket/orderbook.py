"""One market's book in the fake: the simulator's liquidity plus users' resting orders.

The book is kept once, in the YES token's orientation, because Polymarket matches the two
tokens of a market as mirrors (a NO bid at p is a YES ask at 1 - p; gotcha in `engine.events`);
the NO token's ladder is derived when it is shown. Three things make up a level:

- the simulator's size (what `SimExchange` last said rests there),
- how much of it users have taken since (an overlay, cleared when the simulator reports that
  level or the whole book again: its new number already reflects fresh orders), and
- users' resting orders, behind the simulator's size in time priority.

Nothing here writes into the simulator, so the sim stays the seeded, reproducible world
the engine's tests know, and user trading only ever adds to what it shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.models import Side
from fake_polymarket.records import Order
from fake_polymarket.units import ONE


@dataclass(slots=True, frozen=True)
class Chunk:
    """Liquidity a taker may take at one YES price: the sim's (maker None) or one order's."""

    yes_price: int
    maker: Order | None
    available: int


@dataclass(slots=True)
class _Side:
    sim: dict[int, int] = field(default_factory=dict)
    used: dict[int, int] = field(default_factory=dict)
    users: dict[int, list[Order]] = field(default_factory=dict)

    def sim_available(self, price: int) -> int:
        return max(self.sim.get(price, 0) - self.used.get(price, 0), 0)

    def size(self, price: int) -> int:
        return self.sim_available(price) + sum(o.remaining for o in self.users.get(price, ()))

    def prices(self) -> set[int]:
        return set(self.sim) | set(self.users)


@dataclass(slots=True)
class MarketBook:
    market_id: str
    yes_token: str
    no_token: str
    tick: int  # price units
    min_size: int  # shares, amount units
    neg_risk: bool
    bids: _Side = field(default_factory=_Side)
    asks: _Side = field(default_factory=_Side)
    last_trade: tuple[int, Side] | None = None  # YES price and aggressor side (YES terms)
    updated_ms: int = 0
    closed: bool = False

    def side(self, is_bid: bool) -> _Side:
        return self.bids if is_bid else self.asks

    # --- what the simulator says ------------------------------------------------------------

    def replace_sim(self, bids: Iterable[tuple[int, int]], asks: Iterable[tuple[int, int]]) -> None:
        self.bids.sim = {p: s for p, s in bids if s > 0}
        self.asks.sim = {p: s for p, s in asks if s > 0}
        self.bids.used.clear()
        self.asks.used.clear()

    def set_sim_level(self, is_bid: bool, price: int, size: int) -> None:
        s = self.side(is_bid)
        if size > 0:
            s.sim[price] = size
        else:
            s.sim.pop(price, None)
        s.used.pop(price, None)

    def take_sim(self, is_bid: bool, price: int, shares: int) -> None:
        s = self.side(is_bid)
        s.used[price] = s.used.get(price, 0) + shares

    # --- users' resting orders -----------------------------------------------------------------

    def add_order(self, order: Order) -> None:
        self.side(order.rests_as_bid).users.setdefault(order.yes_price, []).append(order)

    def remove_order(self, order: Order) -> None:
        levels = self.side(order.rests_as_bid).users
        queue = levels.get(order.yes_price, [])
        if order in queue:
            queue.remove(order)
        if not queue:
            levels.pop(order.yes_price, None)

    def resting_orders(self) -> list[Order]:
        return [o for s in (self.bids, self.asks) for q in s.users.values() for o in q]

    # --- reading ------------------------------------------------------------------------------

    def ladder(self, is_bid: bool) -> list[tuple[int, int]]:
        """(YES price, size) best first, empty levels left out."""
        s = self.side(is_bid)
        out = [(p, s.size(p)) for p in sorted(s.prices(), reverse=is_bid)]
        return [(p, n) for p, n in out if n > 0]

    def best(self, is_bid: bool) -> int | None:
        lad = self.ladder(is_bid)
        return lad[0][0] if lad else None

    def best_sim(self, is_bid: bool) -> int | None:
        s = self.side(is_bid)
        live = [p for p in s.sim if s.sim_available(p) > 0]
        if not live:
            return None
        return max(live) if is_bid else min(live)

    def token_ladders(self, token: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The token's (bids, asks) in its own prices, best first."""
        bids, asks = self.ladder(True), self.ladder(False)
        if token == self.yes_token:
            return bids, asks
        return [(ONE - p, n) for p, n in asks], [(ONE - p, n) for p, n in bids]

    def token_best(self, token: str) -> tuple[int | None, int | None]:
        bids, asks = self.token_ladders(token)
        return (bids[0][0] if bids else None), (asks[0][0] if asks else None)

    def level_size(self, is_bid: bool, yes_price: int) -> int:
        return self.side(is_bid).size(yes_price)

    def crossing(self, take_bids: bool, limit: int) -> list[Chunk]:
        """Liquidity a taker may take, in priority: best price first, the sim before users.

        `take_bids` says which YES side the taker eats (a SELL YES or a BUY NO eats bids);
        `limit` is the worst YES price accepted.
        """
        s = self.side(take_bids)
        out: list[Chunk] = []
        for p in sorted(s.prices(), reverse=take_bids):
            if (p < limit) if take_bids else (p > limit):
                break
            sim = s.sim_available(p)
            if sim > 0:
                out.append(Chunk(p, None, sim))
            out.extend(Chunk(p, o, o.remaining) for o in s.users.get(p, ()) if o.remaining > 0)
        return out

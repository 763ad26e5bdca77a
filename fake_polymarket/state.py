"""The fake's world: a `SimExchange` on the fake's own clock, seen the way Polymarket shows it.

The simulator speaks typed source events for YES tokens only; Polymarket shows two tokens per
market and a different event for everything. This module keeps the books, the catalog and the
recorded mids up to date from the simulator's events and turns each change into the market
channel messages Polymarket would send for *both* tokens (a YES bid at p is a NO ask at 1 - p,
so one level change is two `price_changes` entries, as in the example of docs/polymarket_api.md
§5.4).

Time: the fake clock starts at the simulator's start and runs at `speed` fake seconds per
wall second; `advance` moves it by hand (speed 0 makes a test fully deterministic). Each
`step` asks the simulator for everything up to the clock and applies it in order.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from engine.config import SimSettings
from engine.events import (
    BookSnapshot,
    MarketListed,
    MarketResolved,
    PriceChange,
    SourceEvent,
    TickSizeChange,
    TradePrint,
)
from engine.models import Market, Side
from engine.sources.sim import SimExchange
from fake_polymarket import wire
from fake_polymarket.auth import Keyring
from fake_polymarket.catalog import Catalog, MarketInfo
from fake_polymarket.config import FakeConfig
from fake_polymarket.orderbook import MarketBook
from fake_polymarket.orders import Exchange
from fake_polymarket.units import ONE, PRICE_SCALE, amount_units, price_units

JSON = dict[str, Any]
INTERVALS_S: dict[str, float | None] = {
    "1h": 3600.0,
    "6h": 6 * 3600.0,
    "1d": 86_400.0,
    "1w": 7 * 86_400.0,
    "1m": 30 * 86_400.0,  # one month, as Polymarket reads it
    "max": None,
    "all": None,
}


class Publisher(Protocol):
    """Where the world's messages go (the websocket hubs)."""

    def market(self, payload: JSON, assets: Sequence[str], *, custom: bool = False) -> None:
        """A market-channel event concerning `assets`; `custom` ones need the custom feature."""
        ...

    def new_market(self, payload: JSON) -> None:
        """A `new_market` event: to every connection with the custom feature on."""
        ...

    def user(self, owner: str, market: str, payload: JSON) -> None:
        """A user-channel event for the API key `owner`."""
        ...

    def interested(self, assets: Sequence[str]) -> bool:
        """Whether anyone listens to `assets`: building messages nobody gets is skipped."""
        ...


class FakeClock:
    """Fake time: `start` plus `speed` x wall time elapsed, plus whatever `advance` added."""

    def __init__(self, start: float, speed: float) -> None:
        self._base = start
        self._speed = speed
        self._wall0 = time.monotonic()

    def now(self) -> float:
        return self._base + self._speed * (time.monotonic() - self._wall0)

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the fake clock cannot go backwards")
        self._base += seconds
        return self.now()

    def set_speed(self, speed: float) -> None:
        self._base = self.now()
        self._wall0 = time.monotonic()
        self._speed = speed


class FakeWorld:
    """Books, catalog, accounts and the clock; every mutation happens on the server's loop."""

    def __init__(self, sim: SimSettings, config: FakeConfig, publisher: Publisher) -> None:
        start = config.start_ts
        if start is None:
            start = sim.start.timestamp() if sim.start is not None else time.time()
        self.config = config
        self.clock = FakeClock(start, config.speed)
        self.sim = SimExchange(sim, start)
        self.catalog = Catalog()
        self.books: dict[str, MarketBook] = {}
        self._pub = publisher
        self._bbo: dict[str, tuple[int | None, int | None]] = {}
        self.keyring = Keyring(config.chain_id, config.verify_signatures, config.auth_max_skew_s)
        self.exchange = Exchange(
            config, self.keyring, self.catalog, self.books, self, publisher.user
        )
        for info in self.catalog.add_all(self.sim.discover(), start):
            self._open_book(info.market, start)
        self._next_history = start
        self.step(start)

    # --- stepping ------------------------------------------------------------------------------

    def step(self, now: float | None = None) -> None:
        """Catch up with `now` (default: the clock), stopping at every history sample on the way.

        A long `advance` thus records the same mids, minute by minute, as many short ones.
        """
        t = self.clock.now() if now is None else now
        while self._next_history <= t:
            self._catch_up(self._next_history)
            self._record_mids(self._next_history)
            self._next_history += self.config.history_step_s
        self._catch_up(t)

    def _catch_up(self, t: float) -> None:
        for ev in self.sim.poll(t):
            self._apply(ev)
        self.exchange.on_time(t)

    def advance(self, seconds: float) -> None:
        self.step(self.clock.advance(seconds))

    def _apply(self, ev: SourceEvent) -> None:
        if isinstance(ev, MarketListed):
            self._listed(ev.market, ev.ts)
        elif isinstance(ev, MarketResolved):
            self._resolved(ev.market_id, ev.payout_yes, ev.ts)
        else:
            info = self.catalog.market_of_token(getattr(ev, "asset_id", ""))
            if info is None or info.closed:
                return
            book = self.books[info.market.market_id]
            info.updated_ts = ev.ts
            if isinstance(ev, BookSnapshot):
                self._snapshot(book, ev)
            elif isinstance(ev, PriceChange):
                self._price_change(book, ev)
            elif isinstance(ev, TradePrint):
                self._print(book, info, ev)
            elif isinstance(ev, TickSizeChange):
                self._tick(book, info, ev)

    def _open_book(self, m: Market, ts: float) -> MarketBook:
        book = MarketBook(
            market_id=m.market_id,
            yes_token=m.yes_token,
            no_token=m.no_token,
            tick=price_units(m.tick_size),
            min_size=amount_units(m.min_order_size),
            neg_risk=m.neg_risk,
            updated_ms=int(ts * 1000),
        )
        self.books[m.market_id] = book
        return book

    def _snapshot(self, book: MarketBook, ev: BookSnapshot) -> None:
        bids = zip(ev.bid_px.tolist(), ev.bid_sz.tolist(), strict=True)
        asks = zip(ev.ask_px.tolist(), ev.ask_sz.tolist(), strict=True)
        book.replace_sim(
            ((price_units(p), amount_units(s)) for p, s in bids),
            ((price_units(p), amount_units(s)) for p, s in asks),
        )
        book.updated_ms = int(ev.ts * 1000)
        for token in (book.yes_token, book.no_token):
            if self._pub.interested([token]):
                self._pub.market(wire.ws_book(wire.book_summary(book, token)), [token])
        self.exchange.sim_sweep(book, ev.ts)
        self._best_bid_ask(book, ev.ts)

    def _price_change(self, book: MarketBook, ev: PriceChange) -> None:
        levels = []
        for c in ev.changes:
            bid = c.side is Side.BUY
            px = price_units(c.price)
            book.set_sim_level(bid, px, amount_units(c.size))
            levels.append((bid, px))
        self.levels_changed(book, levels, ev.ts)
        self.exchange.sim_sweep(book, ev.ts)

    def _print(self, book: MarketBook, info: MarketInfo, ev: TradePrint) -> None:
        px = price_units(ev.price)
        shares = amount_units(ev.size)
        info.add_volume(ev.ts, ev.price * ev.size)
        self.traded(
            book, px, shares, ev.side is Side.BUY, wire.fee_bps(info.market.fee_rate), ev.ts
        )
        self.exchange.sim_print(book, px, shares, ev.side is Side.BUY, ev.ts)

    def _tick(self, book: MarketBook, info: MarketInfo, ev: TickSizeChange) -> None:
        old, new = price_units(ev.old_tick), price_units(ev.new_tick)
        book.tick = new
        info.market.tick_size = ev.new_tick
        for token in (book.yes_token, book.no_token):
            self._pub.market(wire.ws_tick_change(book.market_id, token, old, new, ev.ts), [token])

    def _listed(self, m: Market, ts: float) -> None:
        (info,) = self.catalog.add_all([m], ts)
        book = self._open_book(m, ts)
        ev = self.catalog.events[info.event_id]
        self._pub.new_market(wire.ws_new_market(info, ev, book.tick, ts))

    def _resolved(self, market_id: str, payout_yes: float, ts: float) -> None:
        info = self.catalog.markets.get(market_id)
        if info is None or info.closed:
            return
        info.market.resolved = True
        info.market.payout_yes = payout_yes
        info.market.accepting_orders = False
        info.closed_ts = ts
        info.updated_ts = ts
        book = self.books[market_id]
        self.exchange.settle(info, ts)
        book.closed = True
        ev = self.catalog.events[info.event_id]
        m = info.market
        self._pub.market(
            wire.ws_market_resolved(info, ev, ts), [m.yes_token, m.no_token], custom=True
        )

    # --- BookFeed (trading's effects on market data) -------------------------------------------

    def levels_changed(
        self, book: MarketBook, levels: Iterable[tuple[bool, int]], ts: float
    ) -> None:
        """One `price_change` carrying each YES level and its NO mirror, new total sizes."""
        book.updated_ms = int(ts * 1000)
        if not self._pub.interested([book.yes_token, book.no_token]):
            return
        entries: list[JSON] = []
        for bid, px in dict.fromkeys(levels):
            size = book.level_size(bid, px)
            entries.append(wire.price_change_entry(book, book.yes_token, px, size, bid))
            entries.append(wire.price_change_entry(book, book.no_token, ONE - px, size, not bid))
        if entries:
            msg = wire.ws_price_change(book.market_id, ts, entries)
            self._pub.market(msg, [book.yes_token, book.no_token])
            self._best_bid_ask(book, ts)

    def traded(
        self, book: MarketBook, yes_price: int, shares: int, buy_yes: bool, fee_bps: int, ts: float
    ) -> None:
        book.last_trade = (yes_price, Side.BUY if buy_yes else Side.SELL)
        book.updated_ms = int(ts * 1000)
        for token, px, buy in (
            (book.yes_token, yes_price, buy_yes),
            (book.no_token, ONE - yes_price, not buy_yes),
        ):
            side = "BUY" if buy else "SELL"
            msg = wire.ws_last_trade(book.market_id, token, px, shares, side, fee_bps, ts)
            self._pub.market(msg, [token])

    def _best_bid_ask(self, book: MarketBook, ts: float) -> None:
        for token in (book.yes_token, book.no_token):
            if not self._pub.interested([token]):
                self._bbo.pop(token, None)
                continue
            best = book.token_best(token)
            if self._bbo.get(token) != best:
                self._bbo[token] = best
                msg = wire.ws_best_bid_ask(book.market_id, token, best[0], best[1], ts)
                self._pub.market(msg, [token], custom=True)

    # --- history -------------------------------------------------------------------------------

    def _record_mids(self, ts: float) -> None:
        for cid, info in self.catalog.markets.items():
            if info.closed:
                continue
            book = self.books[cid]
            bid, ask = book.best(True), book.best(False)
            if bid is not None and ask is not None:
                info.history.append((int(ts), round((bid + ask) / 2 / PRICE_SCALE, 6)))

    def price_history(
        self, token: str, start: float | None, end: float | None, fidelity_min: float
    ) -> list[JSON]:
        """Recorded mids of `token` within [start, end], at most one per `fidelity` minutes."""
        info = self.catalog.market_of_token(token)
        if info is None:
            return []
        no = token == info.market.no_token
        out: list[JSON] = []
        last: float | None = None
        step = max(fidelity_min, 1.0) * 60.0
        for t, p in info.history:
            if (start is not None and t < start) or (end is not None and t > end):
                continue
            if last is not None and t < last + step:
                continue
            last = t
            out.append({"t": t, "p": round(1.0 - p, 6) if no else p})
        return out

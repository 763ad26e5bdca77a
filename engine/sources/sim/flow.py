"""Order flow on the books: trades that eat the best level, and orders coming and going.

Both act on the world's size matrices in place; the exchange diffs the books afterwards to
emit level changes, so nothing here has to remember what it touched.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.sources.sim import books
from engine.sources.sim.world import DAY, World

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TRADE_USD_MEDIAN = 25.0  # a typical print's notional; lognormal around it
TRADE_USD_SPREAD = 1.1
MAX_PRINTS_PER_STEP = 3  # more would all hit the same touch at the same time stamp
INFORMED_LEAN = 0.35  # how far buys outnumber sells when the fair price sits above the quote
CANCEL_PROB = 0.15  # a refreshed level behind the best goes empty instead
QUOTE_UPDATES_PER_TRADE = 0.5  # orders placed/cancelled per trade ...
QUOTE_UPDATES_BASE_PER_S = 1.0 / 3600.0  # ... plus some even in markets nobody trades


@dataclass(slots=True)
class Trades:
    """Prints of one step, grouped by market in row order (their rows are the only books
    the trades wrote to)."""

    row: IntArray
    buy: BoolArray  # aggressor side
    price: FloatArray
    size: FloatArray


@dataclass(slots=True, frozen=True)
class Rates:
    """Every market's flow intensities per step. They follow from static columns, so the
    exchange computes them once per world size, not every step."""

    prints: FloatArray  # Poisson mean of the prints in one step
    refresh: FloatArray  # chance that some resting orders change in one step


def rates(w: World, dt: float) -> Rates:
    """Each market's `Rates` for steps of `dt` seconds (see `draw_trades`, `refresh_levels`)."""
    mean_usd = TRADE_USD_MEDIAN * np.exp(0.5 * TRADE_USD_SPREAD**2)
    per_s = (
        QUOTE_UPDATES_PER_TRADE * w.volume_rate / DAY / TRADE_USD_MEDIAN + QUOTE_UPDATES_BASE_PER_S
    )
    return Rates(prints=w.volume_rate / DAY / mean_usd * dt, refresh=-np.expm1(-per_s * dt))


def draw_trades(rng: np.random.Generator, w: World, rows: IntArray, prints: FloatArray) -> Trades:
    """Poisson prints per market (`prints`: the means of `rows`, from `Rates`) at a rate set
    by its daily volume; books and volume updated.

    A print lifts the best ask or hits the best bid and never walks the book; what it eats
    leaves the level, and a level eaten below the minimum size is refilled by a new order.
    The step is the time resolution: with long steps only a few prints per market are kept.
    Aggressors lean to the side the fair price points to: order flow carries information;
    informed traders add the world's `insider_tilt` (a move the price has yet to make,
    see `effects`).
    """
    r = np.repeat(rows, np.minimum(rng.poisson(prints), MAX_PRINTS_PER_STEP))
    m = r.size
    if m == 0:
        empty_f = np.zeros(0)
        return Trades(r, np.zeros(0, dtype=bool), empty_f, empty_f)
    tick = w.tick[r]
    lean = INFORMED_LEAN * np.tanh((w.mid[r] - w.center[r]) / tick) + w.insider_tilt[r]
    buy = rng.random(m) < 0.5 + lean
    price = np.where(buy, w.ask_top[r], w.bid_top[r]) / books.scale_of(tick)
    usd = TRADE_USD_MEDIAN * np.exp(TRADE_USD_SPREAD * rng.standard_normal(m))
    want = np.maximum((usd / price).round(2), 1.0)
    top_size = np.where(buy, w.ask_sz[r, 0], w.bid_sz[r, 0])
    size = books.cap_in_sequence(r * 2 + buy, want, top_size).round(2)
    keep = size >= 1.0
    if not keep.all():
        r, buy, price, size = r[keep], buy[keep], price[keep], size[keep]

    sell = ~buy
    np.subtract.at(w.ask_sz[:, 0], r[buy], size[buy])
    np.subtract.at(w.bid_sz[:, 0], r[sell], size[sell])
    np.add.at(w.volume, r, price * size)
    first = np.ones(r.size, dtype=bool)  # `r` is sorted: its distinct rows start the runs
    np.not_equal(r[1:], r[:-1], out=first[1:])
    touched = r[first]
    # Both sides' best levels of the touched books at once (one draw: the bids' sizes come
    # first, as in two draws of one side each).
    tops = np.empty((2, touched.size))
    np.take(w.bid_sz[:, 0], touched, out=tops[0])
    np.take(w.ask_sz[:, 0], touched, out=tops[1])
    tops.round(2, out=tops)
    base = w.size_base[touched]
    refill = books.draw_level_size(rng, np.concatenate((base, base)), 0).reshape(2, -1)
    tops = np.where(tops < books.MIN_SIZE, refill, tops)
    w.bid_sz[touched, 0] = tops[0]
    w.ask_sz[touched, 0] = tops[1]
    return Trades(r, buy, price, size)


def refresh_levels(
    rng: np.random.Generator, w: World, rows: IntArray, chance: FloatArray
) -> IntArray:
    """Resting orders placed and cancelled: a couple of levels of active books change size
    (`chance`: that of `rows`, from `Rates`). Returns the rows written (sorted, repeats
    possible), so that the exchange diffs only those books.

    The best level is only ever resized, never emptied, so the quoted prices stay put until
    the next requote; deeper levels may empty (a removal) or fill a hole (an addition).
    """
    chosen = rows[rng.random(rows.size) < chance]
    if chosen.size == 0:
        return chosen
    r = np.repeat(chosen, 2)
    k = r.size
    levels = w.bid_sz.shape[1]
    bids = rng.random(k) < 0.5
    lvl = rng.integers(0, levels, k)
    size = books.draw_level_size(rng, w.size_base[r], lvl)
    size = np.where((lvl > 0) & (rng.random(k) < CANCEL_PROB), 0.0, size)
    step = lvl * w.spacing[r]
    idx = np.where(bids, w.bid_top[r] - step, w.ask_top[r] + step)
    ok = (idx >= 1) & (idx <= books.scale_of(w.tick[r]) - 1)
    on_bid = ok & bids
    on_ask = ok & ~bids
    w.bid_sz[r[on_bid], lvl[on_bid]] = size[on_bid]
    w.ask_sz[r[on_ask], lvl[on_ask]] = size[on_ask]
    return r[ok]

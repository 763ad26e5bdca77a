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
    """Prints of one step, grouped by market in row order."""

    row: IntArray
    buy: BoolArray  # aggressor side
    price: FloatArray
    size: FloatArray


def draw_trades(rng: np.random.Generator, w: World, rows: IntArray, dt: float) -> Trades:
    """Poisson prints per market at a rate set by its daily volume; books and volume updated.

    A print lifts the best ask or hits the best bid and never walks the book; what it eats
    leaves the level, and a level eaten below the minimum size is refilled by a new order.
    The step is the time resolution: with long steps only a few prints per market are kept.
    Aggressors lean to the side the fair price points to: order flow carries information.
    """
    mean_usd = TRADE_USD_MEDIAN * np.exp(0.5 * TRADE_USD_SPREAD**2)
    rate = w.volume_rate[rows] / DAY / mean_usd
    r = np.repeat(rows, np.minimum(rng.poisson(rate * dt), MAX_PRINTS_PER_STEP))
    m = r.size
    if m == 0:
        empty_f = np.zeros(0)
        return Trades(r, np.zeros(0, dtype=bool), empty_f, empty_f)
    lean = INFORMED_LEAN * np.tanh((w.mid[r] - w.center[r]) / w.tick[r])
    buy = rng.random(m) < 0.5 + lean
    scale = books.scale_of(w.tick[r])
    price = np.where(buy, w.ask_top[r], w.bid_top[r]) / scale
    usd = TRADE_USD_MEDIAN * np.exp(TRADE_USD_SPREAD * rng.standard_normal(m))
    want = np.maximum(np.round(usd / price, 2), 1.0)
    top_size = np.where(buy, w.ask_sz[r, 0], w.bid_sz[r, 0])
    size = np.round(books.cap_in_sequence(r * 2 + buy, want, top_size), 2)
    keep = size >= 1.0
    r, buy, price, size = r[keep], buy[keep], price[keep], size[keep]

    np.subtract.at(w.ask_sz[:, 0], r[buy], size[buy])
    np.subtract.at(w.bid_sz[:, 0], r[~buy], size[~buy])
    np.add.at(w.volume, r, price * size)
    touched = np.unique(r)
    for sz in (w.bid_sz, w.ask_sz):
        top = np.round(sz[touched, 0], 2)
        thin = top < books.MIN_SIZE
        refill = books.draw_level_size(
            rng, w.size_base[touched], np.zeros(touched.size, dtype=np.int64)
        )
        sz[touched, 0] = np.where(thin, refill, top)
    return Trades(r, buy, price, size)


def refresh_levels(rng: np.random.Generator, w: World, rows: IntArray, dt: float) -> None:
    """Resting orders placed and cancelled: a couple of levels of active books change size.

    The best level is only ever resized, never emptied, so the quoted prices stay put until
    the next requote; deeper levels may empty (a removal) or fill a hole (an addition).
    """
    per_s = (
        QUOTE_UPDATES_PER_TRADE * w.volume_rate[rows] / DAY / TRADE_USD_MEDIAN
        + QUOTE_UPDATES_BASE_PER_S
    )
    chosen = rows[rng.random(rows.size) < -np.expm1(-per_s * dt)]
    if chosen.size == 0:
        return
    r = np.repeat(chosen, 2)
    k = r.size
    levels = w.bid_sz.shape[1]
    bids = rng.random(k) < 0.5
    lvl = rng.integers(0, levels, k).astype(np.int64)
    size = books.draw_level_size(rng, w.size_base[r], lvl)
    size = np.where((lvl > 0) & (rng.random(k) < CANCEL_PROB), 0.0, size)
    spacing = w.spacing[r]
    idx = np.where(bids, w.bid_top[r] - lvl * spacing, w.ask_top[r] + lvl * spacing)
    ok = (idx >= 1) & (idx <= books.scale_of(w.tick[r]) - 1)
    w.bid_sz[r[ok & bids], lvl[ok & bids]] = size[ok & bids]
    w.ask_sz[r[ok & ~bids], lvl[ok & ~bids]] = size[ok & ~bids]

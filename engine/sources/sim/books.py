"""L2 books as integer tick grids, built for many markets at once.

A book is stored as its two best price indices (in ticks: price = index / scale, where scale
is 1/tick), the gap between levels in ticks, and two (n, levels) size matrices. Level j of
the bids sits at `bid_top - j·spacing`; a size of 0 means no order rests there (a hole, or a
level that would leave [tick, 1 - tick]). Keeping prices as integers makes "on the grid",
"inside the bounds" and "bid < ask" hold by construction, and `index / scale` is the exact
double a decimal price parses to, so consumers that round prices agree with us.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MIN_SIZE = 5.0  # Polymarket's minimum resting order: no level is ever thinner
HOLE_PROB = 0.1  # chance that a level behind the best is empty in a fresh book
DEPTH_GROWTH = 0.25  # deeper levels hold more: size grows by this share per level
SIZE_SPREAD = 0.5  # lognormal sd of a level's size around its base


def scale_of(tick: FloatArray) -> IntArray:
    """Ticks per unit of price (100 for 0.01, 1000 for 0.001)."""
    return np.rint(1.0 / tick).astype(np.int64)


def spacing_of(scale: IntArray) -> IntArray:
    """Levels two ticks apart on the fine grid, so a book spans a similar price range."""
    return np.where(scale >= 1000, 2, 1).astype(np.int64)


def half_spread(base: FloatArray, mid: FloatArray, tick: FloatArray) -> FloatArray:
    """Half the quoted spread: wide in thin markets, narrower towards the extremes."""
    hs = base * (0.25 + 3.0 * mid * (1.0 - mid))
    out: FloatArray = np.maximum(hs, 0.5 * tick)
    return out


def quote(mid: FloatArray, hs: FloatArray, scale: IntArray) -> tuple[IntArray, IntArray]:
    """Best bid and ask indices, kept inside (0, 1).

    The spread is ~2·hs in whole ticks (at least one) and centred on `mid`, so the book's mid
    is within half a tick of the fair price.
    """
    width = np.maximum(np.rint(2.0 * hs * scale), 1).astype(np.int64)
    bid = np.rint(mid * scale - 0.5 * width).astype(np.int64)
    bid = np.minimum(np.maximum(bid, 1), scale - 2)  # np.clip, without its wrappers' cost
    ask = np.minimum(np.maximum(bid + width, bid + 1), scale - 1)
    return bid, ask


def depth_in_range(top: IntArray, spacing: IntArray, scale: IntArray, bids: bool) -> IntArray:
    """How many levels of each book side lie inside [tick, 1 - tick], the best one inside.

    Levels run away from the best one, so only the bound they run towards can cut them:
    bid level j is in while `top - j·spacing >= 1`, ask level j while `top + j·spacing <=
    scale - 1`. A count per row rather than an (n, levels) test of every level.
    """
    room = top - 1 if bids else scale - 1 - top
    out: IntArray = room // spacing + 1
    return out


def draw_sizes(
    rng: np.random.Generator, base: FloatArray, depth: tuple[IntArray, IntArray], levels: int
) -> FloatArray:
    """Fresh sizes (shares, cents) for both sides of books: (2, n, levels), bids first.

    The best level is always present; a level behind it is a hole with `HOLE_PROB`, and
    levels past `depth` (bids, asks: from `depth_in_range`) are empty. The draws go bid
    noise, bid holes, ask noise, ask holes.
    """
    n = base.shape[0]
    noise = np.empty((2, n, levels))
    u = np.empty((2, n, levels))
    for side in (0, 1):
        rng.standard_normal(out=noise[side])
        rng.random(out=u[side])
    np.multiply(noise, SIZE_SPREAD, out=noise)
    np.exp(noise, out=noise)
    np.multiply(base[:, None] * _depth_shape(levels), noise, out=noise)
    noise.round(2, out=noise)
    np.maximum(noise, MIN_SIZE, out=noise)
    u[:, :, 0] = 1.0  # the best level is never a hole
    j = np.arange(levels)
    keep = u >= HOLE_PROB
    keep[0] &= j < depth[0][:, None]
    keep[1] &= j < depth[1][:, None]
    out: FloatArray = np.where(keep, noise, 0.0)
    return out


def _depth_shape(levels: int) -> FloatArray:
    """Deeper levels hold more: level j's size is `1 + DEPTH_GROWTH·j` times the best's."""
    out: FloatArray = 1.0 + DEPTH_GROWTH * np.arange(levels, dtype=np.float64)[None, :]
    return out


def draw_level_size(
    rng: np.random.Generator, base: FloatArray, level: IntArray | int
) -> FloatArray:
    """Size for single levels (a new order arriving, a top level replenished: level 0)."""
    noise = np.exp(SIZE_SPREAD * rng.standard_normal(base.shape[0]))
    out: FloatArray = np.maximum((base * (1.0 + DEPTH_GROWTH * level) * noise).round(2), MIN_SIZE)
    return out


def ladders(
    tops: IntArray, spacing: IntArray, scale: IntArray, sz: FloatArray
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Best-first prices and sizes with the empty levels squeezed out, plus level counts.

    Both sides at once: `tops` (2, n) are the best bid and ask indices, `sz` (2, n, levels)
    the sizes by level, bids first; the results are (2, n, levels), (2, n, levels), (2, n).
    Side s of row i has the ladder `px[s, i, :count[s, i]]`, `sz[s, i, :count[s, i]]`: what
    an event carries; past it prices are NaN and sizes 0 (`WholeBooks`' padding).

    Empty levels get NaN prices first, so squeezing is one stable sort of every level by
    (row, empty) and one gather: the empty ones land in the padding as they are. Index
    arithmetic runs in float64, exact for integers this small, so a price is still the
    double `index / scale` parses to.
    """
    _, n, levels = sz.shape
    present = sz > 0.0
    step = np.arange(levels, dtype=np.float64) * spacing.astype(np.float64)[:, None]
    top = tops.astype(np.float64)
    px = np.empty((2, n, levels))
    np.subtract(top[0][:, None], step, out=px[0])
    np.add(top[1][:, None], step, out=px[1])
    px /= scale.astype(np.float64)[:, None]
    np.copyto(px, np.nan, where=~present)
    by_row = present.reshape(2 * n, levels)
    key = np.arange(0, 4 * n, 2)[:, None] + ~by_row  # row r: 2r for a level, 2r + 1 empty
    src = np.argsort(key.ravel(), kind="stable")
    px_out: FloatArray = px.ravel()[src].reshape(2, n, levels)
    sz_out: FloatArray = sz.ravel()[src].reshape(2, n, levels)
    return px_out, sz_out, count_true(by_row).reshape(2, n)


def count_true(mask: BoolArray) -> IntArray:
    """`mask.sum(axis=1)` for narrow masks, by popcounts of 8 bools read as one uint64:
    numpy sums each short row on its own, which costs ten times as much."""
    rows, width = mask.shape
    words = -(-width // 8)
    if width != 8 * words:
        padded = np.zeros((rows, 8 * words), dtype=bool)
        padded[:, :width] = mask
        mask = padded
    bits = np.bitwise_count(np.ascontiguousarray(mask).view(np.uint64))
    out: IntArray = bits[:, 0].astype(np.int64) if words == 1 else bits.sum(axis=1, dtype=np.int64)
    return out


def cap_in_sequence(keys: IntArray, want: FloatArray, available: FloatArray) -> FloatArray:
    """How much of each request fills when requests sharing a key eat one pool in turn.

    Requests are served in their given order within each key; `available` is the pool of
    the request's key (repeated per request). Used for trades hitting one best level.
    """
    if keys.size == 0:
        return want.copy()
    order = np.argsort(keys, kind="stable")
    k = keys[order]
    w = want[order]
    cum_before = np.cumsum(w) - w
    first = np.ones(k.size, dtype=bool)
    first[1:] = k[1:] != k[:-1]
    group_start = first.nonzero()[0][np.cumsum(first) - 1]
    used_before = cum_before - cum_before[group_start]
    got = np.minimum(np.maximum(available[order] - used_before, 0.0), w)
    out = np.empty_like(want)
    out[order] = got
    return out

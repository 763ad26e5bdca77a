"""Turning a step's array changes into source events.

The only place with a Python loop per market, and it runs only over markets that changed:
everything that can be computed for all of them at once (ladders, level prices) is, and the
loops just slice rows and build the dataclasses.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.events import (
    BookSnapshot,
    LevelChange,
    MarketListed,
    MarketResolved,
    PriceChange,
    TickSizeChange,
    TradeBatch,
    TradePrint,
    WholeBooks,
)
from engine.models import Side
from engine.sources.sim import books
from engine.sources.sim.flow import Trades
from engine.sources.sim.world import World

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_SIDES = (Side.BUY, Side.SELL)  # index 0: bid level, 1: ask level


def ladders(
    w: World, rows: IntArray
) -> tuple[FloatArray, FloatArray, IntArray, FloatArray, FloatArray, IntArray]:
    """Both sides' best-first ladders of `rows`: (bid px, bid sz, bid count, ask ...)."""
    sz = np.empty((2, rows.size, w.bid_sz.shape[1]))
    np.take(w.bid_sz, rows, axis=0, out=sz[0])
    np.take(w.ask_sz, rows, axis=0, out=sz[1])
    tops = np.empty((2, rows.size), dtype=np.int64)  # np.stack: slower, in Python
    np.take(w.bid_top, rows, out=tops[0])
    np.take(w.ask_top, rows, out=tops[1])
    scale = books.scale_of(w.tick[rows])
    px, size, count = books.ladders(tops, w.spacing[rows], scale, sz)
    return px[0], size[0], count[0], px[1], size[1], count[1]


def snapshots(w: World, rows: IntArray, ts: float) -> list[BookSnapshot]:
    if rows.size == 0:
        return []
    bpx, bsz, bn, apx, asz, an = ladders(w, rows)
    markets = w.markets
    return [
        BookSnapshot(
            asset_id=markets[r].yes_token,
            ts=ts,
            bid_px=bpx[i, :nb],
            bid_sz=bsz[i, :nb],
            ask_px=apx[i, :na],
            ask_sz=asz[i, :na],
        )
        for i, (r, nb, na) in enumerate(zip(rows.tolist(), bn.tolist(), an.tolist(), strict=True))
    ]


def whole_books(w: World, rows: IntArray, ts: float) -> list[WholeBooks]:
    """The books of `rows` (distinct) as one `WholeBooks` (the ladders come padded NaN / 0)."""
    if rows.size == 0:
        return []
    bpx, bsz, bn, apx, asz, an = ladders(w, rows)
    return [WholeBooks(ts, w.yes_tokens(rows), bpx, bsz, bn, apx, asz, an)]


def price_changes(
    w: World, bid: tuple[IntArray, IntArray], ask: tuple[IntArray, IntArray], ts: float
) -> list[PriceChange]:
    """One `PriceChange` per market whose level sizes changed, prices untouched.

    `bid` and `ask` are the changed cells as (rows, levels); the new total size is read from
    the world (0 where a level emptied).
    """
    (rb, lb), (ra, la) = bid, ask
    if rb.size + ra.size == 0:
        return []
    row = np.concatenate([rb, ra]).astype(np.int64)
    lvl = np.concatenate([lb, la]).astype(np.int64)
    side = np.concatenate([np.zeros(rb.size, np.int64), np.ones(ra.size, np.int64)])
    order = np.lexsort((lvl, side, row))
    row, lvl, side = row[order], lvl[order], side[order]
    sp = w.spacing[row]
    idx = np.where(side == 0, w.bid_top[row] - lvl * sp, w.ask_top[row] + lvl * sp)
    price = idx / books.scale_of(w.tick[row])
    size = np.where(side == 0, w.bid_sz[row, lvl], w.ask_sz[row, lvl])
    sides = [_SIDES[i] for i in side.tolist()]
    level_changes = list(map(LevelChange, sides, price.tolist(), size.tolist()))
    cuts = (np.flatnonzero(row[1:] != row[:-1]) + 1).tolist()
    starts = [0, *cuts]
    ends = [*cuts, row.size]
    markets = w.markets
    tokens = [markets[r].yes_token for r in row[starts].tolist()]
    out = [
        PriceChange(asset_id=tok, ts=ts, changes=tuple(level_changes[a:b]))
        for tok, a, b in zip(tokens, starts, ends, strict=True)
    ]
    return out


def trade_prints(w: World, trades: Trades, ts: float) -> list[TradePrint]:
    markets = w.markets
    return [
        TradePrint(
            asset_id=markets[r].yes_token, ts=ts, price=p, size=s, side=Side.BUY if b else Side.SELL
        )
        for r, b, p, s in zip(
            trades.row.tolist(),
            trades.buy.tolist(),
            trades.price.tolist(),
            trades.size.tolist(),
            strict=True,
        )
    ]


def trade_batch(w: World, trades: Trades, ts: float) -> list[TradeBatch]:
    if trades.row.size == 0:
        return []
    tokens = w.yes_tokens(trades.row)
    price = np.asarray(trades.price, dtype=np.float64)
    size = np.asarray(trades.size, dtype=np.float64)
    return [TradeBatch(ts, tokens, price, size, np.asarray(trades.buy, dtype=np.bool_))]


def tick_changes(w: World, rows: IntArray, old: FloatArray, ts: float) -> list[TickSizeChange]:
    if rows.size == 0:  # most steps: skip the conversions
        return []
    markets = w.markets
    return [
        TickSizeChange(asset_id=markets[r].yes_token, ts=ts, old_tick=o, new_tick=n)
        for r, o, n in zip(rows.tolist(), old.tolist(), w.tick[rows].tolist(), strict=True)
    ]


def listings(w: World, rows: IntArray, ts: float) -> list[MarketListed]:
    return [MarketListed(market=w.market_copy(r), ts=ts) for r in rows.tolist()]


def resolutions(w: World, rows: IntArray, ts: float) -> list[MarketResolved]:
    if rows.size == 0:
        return []
    markets = w.markets
    return [
        MarketResolved(market_id=markets[r].market_id, ts=ts, payout_yes=p)
        for r, p in zip(rows.tolist(), w.payout[rows].tolist(), strict=True)
    ]

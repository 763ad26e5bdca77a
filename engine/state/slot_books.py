"""Every market's full-depth book, as sizes indexed by price slot, written with array operations.

Why slots: a batch of level changes then becomes one scatter into an array (`write`), and the
best levels of many books come out of one pass over a matrix (`top`), instead of a dict
update and a sort per change. Each book (YES orientation: a NO bid at p is a YES ask at
1 - p, slot `scale - k`) lives in the pool of its grid: 0.01 (101 slots a side), 0.001 or
0.0001 (10,001). A book starts on the coarsest grid its tick needs and moves to a finer one
the first time a price needs it, never back (a tick change leaves its levels where they are).
Memory: 1.6 KB a book on the 0.01 grid, 16 KB on 0.001.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine.events import FloatArray, IntArray

FINEST = 10_000  # slots per unit price on the finest grid (tick 0.0001)
SCALES = (100, 1_000, FINEST)
ON_GRID = 1e-6  # |price * FINEST - k| below this: the price is finest-grid slot k


def scale_for_tick(tick: float) -> int:
    """The coarsest grid holding every price of a `tick` grid."""
    for scale in SCALES:
        if abs(tick * scale - round(tick * scale)) < 1e-9 and tick * scale >= 1 - 1e-9:
            return scale
    return FINEST


def needed_scale(k: IntArray) -> IntArray:
    """Per finest-grid slot, the coarsest grid that holds it."""
    return np.where(k % 100 == 0, 100, np.where(k % 10 == 0, 1_000, FINEST))


class _Pool:
    """The books of one grid: sizes[book, side (0 bid, 1 ask), slot]."""

    def __init__(self, scale: int) -> None:
        self.scale = scale
        self.width = scale + 1
        self.sizes: FloatArray = np.zeros((0, 2, self.width))
        self.last: npt.NDArray[np.int64] = np.zeros(0, np.int64)  # scratch for `write`
        self.n = 0

    def take(self) -> int:
        if self.n == self.sizes.shape[0]:
            cap = max(16, 2 * self.n)
            grown = np.zeros((cap, 2, self.width))
            grown[: self.n] = self.sizes[: self.n]
            self.sizes = grown
            self.last = np.full(cap * 2 * self.width, -1, np.int64)
        self.n += 1
        return self.n - 1


class SlotBooks:
    """Full-depth books of rows 0..n-1, each in the pool of its grid."""

    def __init__(self) -> None:
        self.pools = {s: _Pool(s) for s in SCALES}
        self.scale: IntArray = np.zeros(16, np.int64)  # per row (capacity: grown x2)
        self.factor: IntArray = np.ones(16, np.int64)  # per row: FINEST // scale
        self.slot: IntArray = np.zeros(16, np.int64)  # per row: its index in its pool
        self.n = 0
        self._free: dict[int, list[int]] = {s: [] for s in SCALES}  # left by refined rows

    def add_row(self, scale: int) -> int:
        if self.n == self.scale.size:
            self.scale = np.concatenate([self.scale, np.zeros_like(self.scale)])
            self.factor = np.concatenate([self.factor, np.ones_like(self.factor)])
            self.slot = np.concatenate([self.slot, np.zeros_like(self.slot)])
        row = self.n
        self.scale[row] = scale
        self.factor[row] = FINEST // scale
        self.slot[row] = self._take(scale)
        self.n += 1
        return row

    def _take(self, scale: int) -> int:
        free = self._free[scale]
        return free.pop() if free else self.pools[scale].take()

    def refine(self, row: int, need: int) -> None:
        """Move a row to a grid at least as fine as `need`, keeping every level."""
        old = int(self.scale[row])
        if need <= old:
            return
        src, i = self.pools[old], int(self.slot[row])
        j = self._take(need)
        dst = self.pools[need]
        dst.sizes[j] = 0.0
        dst.sizes[j, :, :: need // old] = src.sizes[i]
        src.sizes[i] = 0.0
        self._free[old].append(i)
        self.scale[row] = need
        self.factor[row] = FINEST // need
        self.slot[row] = j

    def clear(self, rows: IntArray) -> None:
        """Empty both sides of `rows`."""
        sc = self.scale[rows]
        for scale, pool in self.pools.items():
            mine = rows[sc == scale]
            if mine.size:
                pool.sizes[self.slot[mine]] = 0.0

    def write(
        self,
        rows: IntArray,
        ask: IntArray,
        k: IntArray,
        size: FloatArray,
        order: IntArray,
    ) -> None:
        """Set the size at finest-grid slot `k` of side `ask` (0 bid, 1 ask) of `rows`.

        Several writes to one level: the one with the greatest `order` wins (numpy leaves
        repeated fancy-index assignment unordered, so the winner is chosen first, with
        `maximum.at` on a scratch array kept per pool). Every row must already be on a grid
        holding its `k` (`refine`).
        """
        sc = self.scale[rows]
        for scale, pool in self.pools.items():
            m = sc == scale
            if not m.any():
                continue
            flat = (self.slot[rows[m]] * 2 + ask[m]) * pool.width + k[m] // (FINEST // scale)
            key = order[m]
            last = pool.last
            np.maximum.at(last, flat, key)
            win = last[flat] == key
            pool.sizes.reshape(-1)[flat[win]] = size[m][win]
            last[flat] = -1

    def top(
        self, rows: IntArray, depth: int
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Best-first (bid_px, bid_sz, ask_px, ask_sz) of `rows`, `depth` levels each
        (NaN price and 0 size past a side's last level).

        One scan of the rows' slots for their levels (`flatnonzero`), then, per side of a
        row, its first `depth` levels (asks) or last (bids) taken by index: the scan is
        the only pass over every slot.
        """
        n = rows.size
        out = (
            np.full((n, depth), np.nan),
            np.zeros((n, depth)),
            np.full((n, depth), np.nan),
            np.zeros((n, depth)),
        )
        sc = self.scale[rows]
        step = np.arange(depth)
        for scale, pool in self.pools.items():
            m = np.flatnonzero(sc == scale)
            if not m.size:
                continue
            sub = pool.sizes[self.slot[rows[m]]].reshape(-1)  # (m, side, slot) flattened
            at = np.flatnonzero(sub)
            side_of = at // pool.width  # 2 * (row in m) + side
            slot = at - side_of * pool.width
            count = np.bincount(side_of, minlength=2 * m.size)
            first = np.cumsum(count) - count
            for side, (px_out, sz_out) in enumerate(((out[0], out[1]), (out[2], out[3]))):
                c, f = count[side::2, None], first[side::2, None]
                # bids: the highest slots first; asks: the lowest first
                i = f + c - 1 - step if side == 0 else f + step
                valid = step < c
                i = np.where(valid, i, 0)
                r, lvl = np.nonzero(valid)
                px_out[m[r], lvl] = slot[i[r, lvl]] / scale
                sz_out[m[r], lvl] = sub[at[i[r, lvl]]]
        return out

    def levels(self, row: int) -> tuple[dict[float, float], dict[float, float]]:
        """Price → size of every level of a row's two sides (tests, inspection)."""
        scale = int(self.scale[row])
        sizes = self.pools[scale].sizes[int(self.slot[row])]
        out = []
        for side in (0, 1):
            idx = np.flatnonzero(sizes[side])
            out.append(dict(zip((idx / scale).tolist(), sizes[side, idx].tolist(), strict=True)))
        return out[0], out[1]

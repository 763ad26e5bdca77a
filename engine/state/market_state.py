"""What the engine knows about every market right now, as column arrays.

One row per market; books held in fixed-depth numpy matrices (best level first) for the
YES token, because Polymarket's NO book is the YES book's mirror (a NO bid at p is a YES ask
at 1 - p). Columns rather than objects so features, the universe filter and the strategy
work on all markets at once; the per-market API (`ladder`, `market`) serves the executor.

Behind the matrices each row keeps its full-depth levels (price → size per side). A
`price_change` that removes a top level must bring the next one up; with only the top
`depth` kept, that level would be unknown and the book would thin out until the next
snapshot.

Rows are never removed: a resolved market keeps its row with `active` false, so row indices
stay stable for the UI's changed-row marks (`version`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.events import (
    BookBatch,
    BookSnapshot,
    BookTrust,
    MarketListed,
    MarketResolved,
    PriceChange,
    SourceEvent,
    TickSizeChange,
    TradeBatch,
    TradePrint,
    WholeBooks,
)
from engine.models import Market, Outcome, Side
from engine.state.event_batch import batch_of
from engine.state.slot_books import FINEST, ON_GRID, SlotBooks, needed_scale, scale_for_tick

FloatArray = npt.NDArray[np.float64]
NAN = float("nan")
IntArray = npt.NDArray[np.int64]


@dataclass(slots=True)
class ApplyResult:
    """What changed in one batch of source events."""

    changed_rows: set[int]
    resolved: list[MarketResolved]
    listed: list[Market]
    errors: list[str]

    @classmethod
    def empty(cls) -> ApplyResult:
        return cls(changed_rows=set(), resolved=[], listed=[], errors=[])


class MarketState:
    def __init__(self, depth: int = 8, history: int = 400, capacity: int = 1024) -> None:
        self.depth = depth
        self.history = history
        self.markets: list[Market] = []
        self._row: dict[str, int] = {}
        self._token: dict[str, tuple[int, Outcome]] = {}
        self._yes_row: dict[str, int] = {}  # YES token -> row: trade batches map in one go
        self._token_key: dict[str, int] = {}  # token -> row * 2 (+ 1: NO): book batches
        self.categories: list[str] = []
        self._category_code: dict[str, int] = {}
        self.events: list[str] = []
        self._event_code: dict[str, int] = {}
        # Per row, YES orientation, every level (the matrices hold the best `depth`).
        self._books = SlotBooks()
        self._cap = 0
        self._alloc(capacity)
        self.hist_ts: FloatArray = np.full(history, NAN)
        self._hist_pos = 0  # next slot in the ring
        self._hist_len = 0

    # --- storage ---------------------------------------------------------------------------

    def _alloc(self, cap: int) -> None:
        """(Re)allocate every column to `cap` rows, keeping existing rows."""
        old = self._cap
        d = self.depth

        def grow(
            cur: npt.NDArray[Any] | None,
            shape: tuple[int, ...],
            fill: float,
            dtype: type = np.float64,
        ) -> npt.NDArray[Any]:
            new: npt.NDArray[Any] = np.full(shape, fill, dtype=dtype)
            if old and cur is not None:
                new[:old] = cur[:old]
            return new

        g = self.__dict__.get
        self.bid_px: FloatArray = grow(g("bid_px"), (cap, d), NAN)
        self.bid_sz: FloatArray = grow(g("bid_sz"), (cap, d), 0.0)
        self.ask_px: FloatArray = grow(g("ask_px"), (cap, d), NAN)
        self.ask_sz: FloatArray = grow(g("ask_sz"), (cap, d), 0.0)
        self.book_ts: FloatArray = grow(g("book_ts"), (cap,), NAN)
        self.last_trade_px: FloatArray = grow(g("last_trade_px"), (cap,), NAN)
        self.last_trade_ts: FloatArray = grow(g("last_trade_ts"), (cap,), NAN)
        self.traded_volume: FloatArray = grow(g("traded_volume"), (cap,), 0.0)
        self.tick: FloatArray = grow(g("tick"), (cap,), 0.01)
        self.fee_rate: FloatArray = grow(g("fee_rate"), (cap,), 0.0)
        self.fee_exponent: FloatArray = grow(g("fee_exponent"), (cap,), 1.0)
        self.min_size: FloatArray = grow(g("min_size"), (cap,), 5.0)
        self.end_ts: FloatArray = grow(g("end_ts"), (cap,), NAN)
        self.created_ts: FloatArray = grow(g("created_ts"), (cap,), NAN)
        self.volume: FloatArray = grow(g("volume"), (cap,), 0.0)
        self.active: npt.NDArray[np.bool_] = grow(g("active"), (cap,), False, np.bool_)
        # Sources that can lose their feed say so; the sim's books are always trusted.
        self.trusted: npt.NDArray[np.bool_] = grow(g("trusted"), (cap,), True, np.bool_)
        self.category: npt.NDArray[np.int32] = grow(g("category"), (cap,), -1, np.int32)
        self.event: npt.NDArray[np.int32] = grow(g("event"), (cap,), -1, np.int32)
        self.version: npt.NDArray[np.int64] = grow(g("version"), (cap,), 0, np.int64)
        self.mid_hist: FloatArray = grow(g("mid_hist"), (cap, self.history), NAN)
        # True where the matrix rows are the market's whole book (`WholeBooks` wrote them):
        # its full-depth slots are then filled from the matrices only when a level change
        # or snapshot of the general path first touches it.
        self._whole: npt.NDArray[np.bool_] = grow(g("_whole"), (cap,), False, np.bool_)
        self._cap = cap

    @property
    def n(self) -> int:
        return len(self.markets)

    def row(self, market_id: str) -> int | None:
        return self._row.get(market_id)

    def market(self, market_id: str) -> Market | None:
        r = self._row.get(market_id)
        return None if r is None else self.markets[r]

    def event_of(self, market_id: str, recorded: str | None = None) -> str | None:
        """A position's event group: the one `recorded` with its fills, else its market's
        (live fills and holdings adopted from the exchange carry none); None if the market
        is unknown or standalone."""
        if recorded:
            return recorded
        m = self.market(market_id)
        return m.event_id if m is not None and m.event_id else None

    def token_row(self, token_id: str) -> tuple[int, Outcome] | None:
        return self._token.get(token_id)

    # --- market metadata -------------------------------------------------------------------

    def add_market(self, m: Market) -> int:
        existing = self._row.get(m.market_id)
        if existing is not None:
            self.markets[existing] = m
            self._set_meta(existing, m)
            return existing
        r = len(self.markets)
        if r >= self._cap:
            self._alloc(self._cap * 2)
        self.markets.append(m)
        self._books.add_row(scale_for_tick(m.tick_size))
        self._row[m.market_id] = r
        self._token[m.yes_token] = (r, Outcome.YES)
        self._yes_row[m.yes_token] = r
        self._token[m.no_token] = (r, Outcome.NO)
        self._token_key[m.yes_token] = 2 * r
        self._token_key[m.no_token] = 2 * r + 1
        self._set_meta(r, m)
        return r

    def _set_meta(self, r: int, m: Market) -> None:
        self.tick[r] = m.tick_size
        self.fee_rate[r] = m.fee_rate
        self.fee_exponent[r] = m.fee_exponent
        self.min_size[r] = m.min_order_size
        self.end_ts[r] = m.end_ts
        self.created_ts[r] = m.created_ts
        self.volume[r] = m.volume
        self.active[r] = m.accepting_orders and not m.resolved
        self.category[r] = self._code(m.category, self.categories, self._category_code)
        self.event[r] = (
            -1 if m.event_id is None else self._code(m.event_id, self.events, self._event_code)
        )
        self.version[r] += 1

    @staticmethod
    def _code(key: str, names: list[str], codes: dict[str, int]) -> int:
        c = codes.get(key)
        if c is None:
            c = len(names)
            names.append(key)
            codes[key] = c
        return c

    # --- applying source events ------------------------------------------------------------

    def apply(self, events: list[SourceEvent]) -> ApplyResult:
        """Fold a batch of events in. Bad events are reported, never raised.

        Book events (`BookBatch`, and `BookSnapshot`/`PriceChange` objects, which become
        batches) are gathered and applied together, each touched book's top levels
        recomputed once at the end. That is the order-preserving result: book events write
        only the books, `book_ts`, `version` and `changed_rows`, which no other event writes
        except by adding to `version` and `changed_rows`; the one event they depend on, a
        `MarketListed` (a new row makes its tokens known), applies the books gathered so
        far first.
        """
        res = ApplyResult.empty()
        books: list[BookBatch | BookSnapshot | PriceChange] = []
        for ev in events:
            if isinstance(ev, BookBatch | BookSnapshot | PriceChange):
                books.append(ev)
                continue
            if isinstance(ev, MarketListed | WholeBooks) and books:
                self._apply_books(books, res)
                books = []
            try:
                self._apply_one(ev, res)
            except (ValueError, IndexError, TypeError) as exc:
                res.errors.append(f"{type(ev).__name__}: {exc}")
        if books:
            self._apply_books(books, res)
        return res

    def _apply_books(
        self, items: list[BookBatch | BookSnapshot | PriceChange], res: ApplyResult
    ) -> None:
        touched: list[IntArray] = []
        objects: list[BookSnapshot | PriceChange] = []
        for i, item in enumerate(items):
            if not isinstance(item, BookBatch):
                objects.append(item)
                if i + 1 < len(items) and not isinstance(items[i + 1], BookBatch):
                    continue
                item, objects = batch_of(objects), []
            try:
                touched.append(self._apply_batch(item, res))
            except (ValueError, IndexError, TypeError) as exc:
                res.errors.append(f"BookBatch: {exc}")
        rows = np.unique(np.concatenate(touched)) if touched else np.zeros(0, np.int64)
        if rows.size:
            self.bid_px[rows], self.bid_sz[rows], self.ask_px[rows], self.ask_sz[rows] = (
                self._books.top(rows, self.depth)
            )

    def _apply_batch(self, b: BookBatch, res: ApplyResult) -> IntArray:
        """Write one batch's levels into the full-depth books; the rows it touched.

        Per row: the levels of its last snapshot in the batch and of the changes after it
        (a snapshot replaces what came before), the last write to a level winning; `book_ts`
        the time of its last event; `version` up once.
        """
        _check_shape(b)
        tok = self._token_keys(b.tokens, res)  # row * 2 + 1 for a NO token; -1 unknown
        lkey = tok[b.level_token]
        srow = tok[b.snap_token] >> 1  # -1 stays -1
        lrow = lkey >> 1
        sv, lv = srow >= 0, lrow >= 0
        last_snap = np.full(self.n, -1, np.int64)
        np.maximum.at(last_snap, srow[sv], b.snap_frame[sv])
        last = last_snap.copy()
        np.maximum.at(last, lrow[lv], b.level_frame[lv])
        touched = np.flatnonzero(last >= 0)
        self._materialise(touched)
        self.book_ts[touched] = b.frame_ts[last[touched]]
        self.version[touched] += 1
        res.changed_rows.update(touched.tolist())

        books = self._books
        books.clear(np.flatnonzero(last_snap >= 0))
        if not lv.any():
            return touched
        x = b.level_price * FINEST
        k = np.rint(x)
        size = b.level_size
        with np.errstate(invalid="ignore"):
            on_grid = (np.abs(x - k) <= ON_GRID) & (k >= 0) & (k <= FINEST)
            has = size > 0.0  # NaN or <= 0: no level
        ok = lv & on_grid
        if not ok.all():
            for p in b.level_price[lv & ~on_grid][:5].tolist():
                res.errors.append(f"level price {p} is off the 0.0001 grid or outside [0, 1]")
        # A snapshot's empty level is no level (the wire parser drops it), not a removal of
        # another level at that price in the same snapshot. (`last_snap[-1]` of an unknown
        # token's level is read, and masked by `ok`.)
        snap_frame = np.zeros(b.frame_ts.size, np.bool_)
        snap_frame[b.snap_frame] = True
        ok &= b.level_frame >= last_snap[lrow]
        ok &= has | ~snap_frame[b.level_frame]
        idx = np.flatnonzero(ok)
        rows = lrow[idx]
        no = (lkey[idx] & 1).astype(np.bool_)
        ks = k[idx].astype(np.int64)
        yes_k = np.where(no, FINEST - ks, ks)
        ask = b.level_bid[idx] == no  # a NO bid is a YES ask
        sizes = np.where(has[idx], size[idx], 0.0)
        coarse = yes_k % books.factor[rows] != 0  # finer than the row's grid
        if coarse.any():
            need = np.zeros(self.n, np.int64)
            np.maximum.at(need, rows[coarse], needed_scale(yes_k[coarse]))
            for row in np.flatnonzero(need).tolist():
                books.refine(row, int(need[row]))
        order = b.level_frame[idx] * max(idx.size, 1) + np.arange(idx.size)
        books.write(rows, ask, yes_k, sizes, order)
        return touched

    def _token_keys(self, tokens: list[str], res: ApplyResult) -> IntArray:
        """Per token: its row * 2, + 1 for a NO token; -1 (reported) for an unknown one."""
        keys = np.fromiter(map(self._token_key.get, tokens, repeat(-1)), np.int64, len(tokens))
        if (keys < 0).any():
            for i in np.flatnonzero(keys < 0).tolist():
                res.errors.append(f"event for unknown token {tokens[i][:16]}")
        return keys

    def _apply_trades(self, ev: TradeBatch, res: ApplyResult) -> None:
        """Many trade prints at once, as the same prints one by one would leave the state:
        the last print per market is its last trade, volumes add up in print order."""
        n = len(ev.asset_ids)
        if ev.price.shape != (n,) or ev.size.shape != (n,) or ev.buy.shape != (n,):
            raise ValueError(f"trade batch of {n} tokens has arrays of another length")
        found = list(map(self._yes_row.get, ev.asset_ids))
        if None in found:  # a NO token or an unknown one: print by print
            for i, asset in enumerate(ev.asset_ids):
                side = Side.BUY if ev.buy[i] else Side.SELL
                self._apply_one(
                    TradePrint(asset, ev.ts, float(ev.price[i]), float(ev.size[i]), side), res
                )
            return
        if not n:
            return
        rows = np.asarray(found, dtype=np.int64)
        touched, at_reversed = np.unique(rows[::-1], return_index=True)
        self.last_trade_px[touched] = ev.price[n - 1 - at_reversed]
        self.last_trade_ts[touched] = ev.ts
        notional = ev.price * ev.size
        np.add.at(self.traded_volume, rows, notional)
        np.add.at(self.volume, rows, notional)
        np.add.at(self.version, rows, 1)
        volume, markets = self.volume, self.markets
        touched_rows: list[int] = touched.tolist()
        for r in touched_rows:
            markets[r].volume = float(volume[r])
        res.changed_rows.update(touched_rows)

    def _apply_whole(self, ev: WholeBooks, res: ApplyResult) -> None:
        """Whole books written straight into the matrices: one write per matrix for the YES
        books no deeper than `depth`; any other book (a NO token's, a deeper one) as the
        snapshot it is, through the general path."""
        shape = ev.bid_px.shape
        n = len(ev.asset_ids)
        if len(shape) != 2 or shape[0] != n:
            raise ValueError(f"whole books of {n} tokens have matrices {shape}")
        for m in (ev.bid_sz, ev.ask_px, ev.ask_sz):
            if m.shape != shape:
                raise ValueError(f"whole-book matrices differ in shape: {shape}, {m.shape}")
        if ev.bid_n.shape != (n,) or ev.ask_n.shape != (n,):
            raise ValueError("whole-book level counts do not match its tokens")
        if n and (
            min(ev.bid_n.min(), ev.ask_n.min()) < 0
            or max(ev.bid_n.max(), ev.ask_n.max()) > shape[1]
        ):
            raise ValueError("whole-book level count outside its matrices")
        found = list(map(self._yes_row.get, ev.asset_ids))
        fast = shape[1] <= self.depth and None not in found
        if not fast:
            snaps: list[BookBatch | BookSnapshot | PriceChange] = []
            for i, asset in enumerate(ev.asset_ids):
                nb, na = int(ev.bid_n[i]), int(ev.ask_n[i])
                px_b, sz_b, px_a, sz_a = (
                    ev.bid_px[i, :nb],
                    ev.bid_sz[i, :nb],
                    ev.ask_px[i, :na],
                    ev.ask_sz[i, :na],
                )
                snaps.append(BookSnapshot(asset, ev.ts, px_b, sz_b, px_a, sz_a))
            self._apply_books(snaps, res)
            return
        if not n:
            return
        rows = np.asarray(found, dtype=np.int64)
        k = shape[1]
        for px, sz, m_px, m_sz in (
            (ev.bid_px, ev.bid_sz, self.bid_px, self.bid_sz),
            (ev.ask_px, ev.ask_sz, self.ask_px, self.ask_sz),
        ):
            m_px[rows, :k] = px
            m_sz[rows, :k] = sz
            if k < self.depth:
                m_px[rows, k:] = NAN
                m_sz[rows, k:] = 0.0
        self._whole[rows] = True
        self.book_ts[rows] = ev.ts
        self.version[rows] += 1
        res.changed_rows.update(found)  # type: ignore[arg-type]

    def _materialise(self, rows: IntArray) -> None:
        """Rows whose book the matrices hold whole get it in their full-depth slots, before
        the general path writes levels there."""
        rows = rows[self._whole[rows]]
        if not rows.size:
            return
        self._whole[rows] = False
        self._books.clear(rows)
        for px, sz, ask in ((self.bid_px, self.bid_sz, 0), (self.ask_px, self.ask_sz, 1)):
            i, j = np.nonzero(sz[rows] > 0.0)
            if not i.size:
                continue
            r = rows[i]
            k = np.rint(px[r, j] * FINEST).astype(np.int64)
            need = needed_scale(k)
            for row in np.unique(r[need > self._books.scale[r]]).tolist():
                self._books.refine(row, int(need[r == row].max()))
            self._books.write(r, np.full(r.size, ask, np.int64), k, sz[r, j], np.arange(r.size))

    def _apply_one(self, ev: SourceEvent, res: ApplyResult) -> None:
        if isinstance(ev, WholeBooks):
            self._apply_whole(ev, res)
        elif isinstance(ev, TradeBatch):
            self._apply_trades(ev, res)
        elif isinstance(ev, TradePrint):
            r = self._book_row(ev.asset_id, res)
            if r is None:
                return
            row, outcome = r
            px = ev.price if outcome is Outcome.YES else 1.0 - ev.price
            self.last_trade_px[row] = px
            self.last_trade_ts[row] = ev.ts
            self.traded_volume[row] += ev.price * ev.size
            self.volume[row] += ev.price * ev.size
            self.markets[row].volume = float(self.volume[row])
            self._touch(row, ev.ts, res, book=False)
        elif isinstance(ev, TickSizeChange):
            r = self._book_row(ev.asset_id, res)
            if r is None:
                return
            row, _ = r
            if ev.new_tick <= 0 or ev.new_tick >= 1:
                raise ValueError(f"tick size {ev.new_tick} outside (0, 1)")
            self.tick[row] = ev.new_tick
            self.markets[row].tick_size = ev.new_tick
            self._touch(row, ev.ts, res, book=False)
        elif isinstance(ev, MarketListed):
            row = self.add_market(ev.market)
            res.listed.append(ev.market)
            res.changed_rows.add(row)
        elif isinstance(ev, BookTrust):
            row_opt = self._row.get(ev.market_id)
            if row_opt is None:
                res.errors.append(f"trust change for unknown market {ev.market_id}")
                return
            self.trusted[row_opt] = ev.trusted
            self.version[row_opt] += 1
            res.changed_rows.add(row_opt)
        elif isinstance(ev, MarketResolved):
            row_opt = self._row.get(ev.market_id)
            if row_opt is None:
                res.errors.append(f"resolution for unknown market {ev.market_id}")
                return
            m = self.markets[row_opt]
            if m.resolved:
                return
            m.resolved = True
            m.accepting_orders = False
            m.payout_yes = ev.payout_yes
            self.active[row_opt] = False
            self.version[row_opt] += 1
            res.resolved.append(ev)
            res.changed_rows.add(row_opt)

    def _book_row(self, asset_id: str, res: ApplyResult) -> tuple[int, Outcome] | None:
        r = self._token.get(asset_id)
        if r is None:
            res.errors.append(f"event for unknown token {asset_id[:16]}")
        return r

    def _touch(self, row: int, ts: float, res: ApplyResult, book: bool = True) -> None:
        if book:
            self.book_ts[row] = ts
        self.version[row] += 1
        res.changed_rows.add(row)

    def levels(self, market_id: str) -> tuple[dict[float, float], dict[float, float]]:
        """Every level of a market's book, YES orientation: (bids, asks), price → size."""
        r = self._row.get(market_id)
        if r is None:
            return {}, {}
        if not self._whole[r]:
            return self._books.levels(r)
        sides = ((self.bid_px[r], self.bid_sz[r]), (self.ask_px[r], self.ask_sz[r]))
        bids, asks = (
            {float(p): float(z) for p, z in zip(px.tolist(), sz.tolist(), strict=True) if z > 0}
            for px, sz in sides
        )
        return bids, asks

    # --- views -----------------------------------------------------------------------------

    def ladder(
        self, market_id: str, outcome: Outcome, side: Side
    ) -> tuple[list[float], list[float]]:
        """Best-first (prices, sizes) that an order of `side` on `outcome` would walk."""
        r = self._row.get(market_id)
        if r is None:
            return [], []
        return self.ladders(np.array([r]), [outcome], [side])[0]

    def ladders(
        self, rows: IntArray, outcomes: Sequence[Outcome], sides: Sequence[Side]
    ) -> list[tuple[list[float], list[float]]]:
        """`ladder` for many rows at once (a cycle's candidates): one gather per matrix
        rather than four small copies per market."""
        bp, bs = self.bid_px[rows].tolist(), self.bid_sz[rows].tolist()
        ap, as_ = self.ask_px[rows].tolist(), self.ask_sz[rows].tolist()
        out = []
        for i, (outcome, side) in enumerate(zip(outcomes, sides, strict=True)):
            if outcome is Outcome.YES:
                out.append((ap[i], as_[i]) if side is Side.BUY else (bp[i], bs[i]))
            elif side is Side.BUY:  # buying NO = hitting YES bids, mirrored
                out.append(([1.0 - p for p in bp[i]], bs[i]))
            else:
                out.append(([1.0 - p for p in ap[i]], as_[i]))
        return out

    def mids(self) -> FloatArray:
        n = self.n
        return (self.bid_px[:n, 0] + self.ask_px[:n, 0]) / 2.0

    def mid(self, market_id: str, outcome: Outcome = Outcome.YES) -> float:
        r = self._row.get(market_id)
        if r is None:
            return NAN
        m = float((self.bid_px[r, 0] + self.ask_px[r, 0]) / 2.0)
        if m != m:  # one-sided book: fall back to the last trade
            m = float(self.last_trade_px[r])
        return m if outcome is Outcome.YES else 1.0 - m

    def marks_at(self, rows: IntArray) -> FloatArray:
        """`mid` (YES) of many rows at once, for a cycle's candidates: the same rule, the
        last trade where a side of the book is empty."""
        m: FloatArray = (self.bid_px[rows, 0] + self.ask_px[rows, 0]) / 2.0
        return np.where(np.isnan(m), self.last_trade_px[rows], m)

    def record_history(self, now: float) -> None:
        """Sample every mid into the ring buffer (once per cycle) for returns/volatility."""
        n = self.n
        self.mid_hist[:n, self._hist_pos] = self.mids()
        self.hist_ts[self._hist_pos] = now
        self._hist_pos = (self._hist_pos + 1) % self.history
        self._hist_len = min(self._hist_len + 1, self.history)

    def history_back(self, k: int) -> tuple[FloatArray, float]:
        """Mids and timestamp `k` samples ago (k=0: the latest sample)."""
        if k >= self._hist_len:
            return np.full(self.n, NAN), NAN
        idx = (self._hist_pos - 1 - k) % self.history
        return self.mid_hist[: self.n, idx], float(self.hist_ts[idx])

    def history_window(self, k: int) -> FloatArray:
        """The last `k`+1 samples, oldest first, as an (n, k+1) matrix (NaN where missing)."""
        k = min(k, max(self._hist_len - 1, 0))
        idx = [(self._hist_pos - 1 - j) % self.history for j in range(k, -1, -1)]
        return self.mid_hist[: self.n][:, idx]

    @property
    def history_len(self) -> int:
        return self._hist_len


def _check_shape(b: BookBatch) -> None:
    """A batch whose columns disagree (a damaged record) is refused whole."""
    n = b.level_frame.size
    if not (b.level_token.size == b.level_bid.size == b.level_price.size == b.level_size.size == n):
        raise ValueError("level columns of different lengths")
    if b.snap_frame.size != b.snap_token.size:
        raise ValueError("snapshot columns of different lengths")
    frames, tokens = b.frame_ts.size, len(b.tokens)
    for col, bound in (
        (b.level_frame, frames),
        (b.snap_frame, frames),
        (b.level_token, tokens),
        (b.snap_token, tokens),
    ):
        if col.size and (int(col.min()) < 0 or int(col.max()) >= bound):
            raise ValueError("index column out of range")

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

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
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
)
from engine.models import Market, Outcome, Side

FloatArray = npt.NDArray[np.float64]
NAN = float("nan")
_Levels = dict[float, float] | tuple[FloatArray, FloatArray]


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
        self._yes_row: dict[str, int] = {}  # YES token -> row: batches map tokens in one go
        self.categories: list[str] = []
        self._category_code: dict[str, int] = {}
        self.events: list[str] = []
        self._event_code: dict[str, int] = {}
        # Per row, YES orientation, every level: a snapshot's (prices, sizes) until the
        # first change, then price → size.
        self._bids: list[_Levels] = []
        self._asks: list[_Levels] = []
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
        # True where a side's matrix row is that side's whole book (a `BookBatch` no deeper
        # than `depth` wrote it): its full-depth levels are then read from the matrix when a
        # change first needs them, so a batch never builds one object per book.
        self._bid_whole: npt.NDArray[np.bool_] = grow(g("_bid_whole"), (cap,), False, np.bool_)
        self._ask_whole: npt.NDArray[np.bool_] = grow(g("_ask_whole"), (cap,), False, np.bool_)
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
        self._bids.append({})
        self._asks.append({})
        self._row[m.market_id] = r
        self._token[m.yes_token] = (r, Outcome.YES)
        self._yes_row[m.yes_token] = r
        self._token[m.no_token] = (r, Outcome.NO)
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
        """Fold a batch of events in. Bad events are reported, never raised."""
        res = ApplyResult.empty()
        for ev in events:
            try:
                self._apply_one(ev, res)
            except (ValueError, IndexError, TypeError) as exc:
                res.errors.append(f"{type(ev).__name__}: {exc}")
        return res

    def _apply_one(self, ev: SourceEvent, res: ApplyResult) -> None:
        if isinstance(ev, BookBatch):
            self._apply_batch(ev, res)
        elif isinstance(ev, TradeBatch):
            self._apply_trades(ev, res)
        elif isinstance(ev, BookSnapshot):
            r = self._book_row(ev.asset_id, res)
            if r is None:
                return
            row, outcome = r
            if outcome is Outcome.YES:
                self._snapshot_side(row, True, ev.bid_px, ev.bid_sz)
                self._snapshot_side(row, False, ev.ask_px, ev.ask_sz)
            else:  # NO book mirrored: NO bids become YES asks and vice versa
                self._snapshot_side(row, False, 1.0 - ev.bid_px, ev.bid_sz)
                self._snapshot_side(row, True, 1.0 - ev.ask_px, ev.ask_sz)
            self._touch(row, ev.ts, res)
        elif isinstance(ev, PriceChange):
            r = self._book_row(ev.asset_id, res)
            if r is None:
                return
            row, outcome = r
            for ch in ev.changes:
                is_bid = ch.side is Side.BUY
                price = ch.price
                if outcome is Outcome.NO:
                    is_bid = not is_bid
                    price = 1.0 - price
                self._set_level(row, is_bid, price, ch.size)
            self._touch(row, ev.ts, res)
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

    def _apply_batch(self, ev: BookBatch, res: ApplyResult) -> None:
        """Many whole books at once: one write per matrix for the YES books; a NO book
        (none from the simulator) is mirrored one at a time, as a snapshot would be."""
        shape = ev.bid_px.shape
        if len(shape) != 2 or shape[0] != len(ev.asset_ids):
            raise ValueError(f"book batch of {len(ev.asset_ids)} tokens has matrices {shape}")
        for m in (ev.bid_sz, ev.ask_px, ev.ask_sz):
            if m.shape != shape:
                raise ValueError(f"book batch matrices differ in shape: {shape}, {m.shape}")
        if ev.bid_n.shape != (shape[0],) or ev.ask_n.shape != (shape[0],):
            raise ValueError("book batch level counts do not match its tokens")
        if shape[0] and (ev.bid_n.min() < 0 or ev.ask_n.min() < 0):
            raise ValueError("book batch has a negative level count")
        if shape[0] and max(int(ev.bid_n.max()), int(ev.ask_n.max())) > shape[1]:
            raise ValueError("book batch level count exceeds its levels")
        found = list(map(self._yes_row.get, ev.asset_ids))
        if None not in found:  # every token a known YES token: the usual case, no loop
            yes_at: list[int] = list(range(len(found)))
            yes_rows: list[int] = found  # type: ignore[assignment]
        else:
            yes_at, yes_rows = self._batch_rows(ev, res)
        if not yes_rows:
            return
        at = np.asarray(yes_at, dtype=np.int64)
        rows = np.asarray(yes_rows, dtype=np.int64)
        k = min(self.depth, shape[1])
        for px, sz, n, m_px, m_sz, store, whole in (
            (ev.bid_px, ev.bid_sz, ev.bid_n, self.bid_px, self.bid_sz, self._bids, self._bid_whole),
            (ev.ask_px, ev.ask_sz, ev.ask_n, self.ask_px, self.ask_sz, self._asks, self._ask_whole),
        ):
            m_px[rows, :k] = px[at, :k]
            m_sz[rows, :k] = sz[at, :k]
            if k < self.depth:
                m_px[rows, k:] = NAN
                m_sz[rows, k:] = 0.0
            if shape[1] <= self.depth:  # the matrices hold every level
                whole[rows] = True
            else:  # deeper than the matrices: keep each row's full depth, as a snapshot does
                whole[rows] = False
                for i, row, count in zip(yes_at, yes_rows, n[at].tolist(), strict=True):
                    store[row] = (px[i, :count], sz[i, :count])
        self.book_ts[rows] = ev.ts
        self.version[rows] += 1
        res.changed_rows.update(yes_rows)

    def _batch_rows(self, ev: BookBatch, res: ApplyResult) -> tuple[list[int], list[int]]:
        """The batch's YES books (index in the batch, row); a NO book is applied here, one
        at a time, and an unknown token reported."""
        yes_at: list[int] = []
        yes_rows: list[int] = []
        for i, asset in enumerate(ev.asset_ids):
            r = self._book_row(asset, res)
            if r is None:
                continue
            row, outcome = r
            if outcome is Outcome.YES:
                yes_at.append(i)
                yes_rows.append(row)
            else:
                nb, na = int(ev.bid_n[i]), int(ev.ask_n[i])
                self._snapshot_side(row, False, 1.0 - ev.bid_px[i, :nb], ev.bid_sz[i, :nb])
                self._snapshot_side(row, True, 1.0 - ev.ask_px[i, :na], ev.ask_sz[i, :na])
                self._touch(row, ev.ts, res)
        return yes_at, yes_rows

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
        last_first = rows[::-1]
        touched, at_rev = np.unique(last_first, return_index=True)
        last = n - 1 - at_rev
        self.last_trade_px[touched] = ev.price[last]
        self.last_trade_ts[touched] = ev.ts
        notional = ev.price * ev.size
        np.add.at(self.traded_volume, rows, notional)
        np.add.at(self.volume, rows, notional)
        np.add.at(self.version, rows, 1)
        volume = self.volume
        markets = self.markets
        touched_rows: list[int] = touched.tolist()
        for r in touched_rows:
            markets[r].volume = float(volume[r])
        res.changed_rows.update(touched_rows)

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

    def _snapshot_side(self, row: int, is_bid: bool, px: FloatArray, sz: FloatArray) -> None:
        """Replace one side. The snapshot's arrays (best first, the event contract) are
        kept as they are; they become a price → size dict only when a change arrives, so
        a source that sends mostly snapshots never pays for dicts."""
        (self._bids if is_bid else self._asks)[row] = (px, sz)
        (self._bid_whole if is_bid else self._ask_whole)[row] = False
        self._write_row(row, is_bid, px[: self.depth], sz[: self.depth])

    def _set_level(self, row: int, is_bid: bool, price: float, size: float) -> None:
        store = self._bids if is_bid else self._asks
        whole = self._bid_whole if is_bid else self._ask_whole
        if whole[row]:  # the matrix row is the book: it becomes the levels now
            whole[row] = False
            m_px, m_sz = (self.bid_px, self.bid_sz) if is_bid else (self.ask_px, self.ask_sz)
            present = m_sz[row] > 0
            store[row] = (m_px[row][present].copy(), m_sz[row][present].copy())
        levels = store[row]
        if isinstance(levels, tuple):
            px, sz = levels
            levels = store[row] = {
                round(p, 6): s for p, s in zip(px.tolist(), sz.tolist(), strict=True) if s > 0
            }
        if size > 0:
            levels[round(price, 6)] = size
        else:
            levels.pop(round(price, 6), None)
        self._write_top(row, is_bid, levels)

    def _write_top(self, row: int, is_bid: bool, levels: dict[float, float]) -> None:
        pick = heapq.nlargest if is_bid else heapq.nsmallest
        ordered = pick(self.depth, levels.items())
        self._write_row(row, is_bid, [p for p, _ in ordered], [s for _, s in ordered])

    def _write_row(
        self,
        row: int,
        is_bid: bool,
        prices: Sequence[float] | FloatArray,
        sizes: Sequence[float] | FloatArray,
    ) -> None:
        """One side's matrix row: these levels (best first, at most `depth`), then empty."""
        px = self.bid_px if is_bid else self.ask_px
        sz = self.bid_sz if is_bid else self.ask_sz
        k = len(prices)
        px[row, k:] = NAN
        sz[row, k:] = 0.0
        if k:
            px[row, :k] = prices
            sz[row, :k] = sizes

    # --- views -----------------------------------------------------------------------------

    def ladder(
        self, market_id: str, outcome: Outcome, side: Side
    ) -> tuple[list[float], list[float]]:
        """Best-first (prices, sizes) that an order of `side` on `outcome` would walk."""
        r = self._row.get(market_id)
        if r is None:
            return [], []
        if outcome is Outcome.YES:
            if side is Side.BUY:
                return self.ask_px[r].tolist(), self.ask_sz[r].tolist()
            return self.bid_px[r].tolist(), self.bid_sz[r].tolist()
        if side is Side.BUY:  # buying NO = hitting YES bids, mirrored
            return (1.0 - self.bid_px[r]).tolist(), self.bid_sz[r].tolist()
        return (1.0 - self.ask_px[r]).tolist(), self.ask_sz[r].tolist()

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

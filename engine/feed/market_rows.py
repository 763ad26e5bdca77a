"""Which market rows the console must be sent again, and what they show.

At 10,000 markets the view cannot rebuild every row each step: the columns a row shows are
compared, vectorised, with what was last published, and only rows where one moved by more
than display precision (or new rows) become `MarketRow` objects. The 24-hour change is
measured against an hourly sample of the mids kept here.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from engine.decision.strategy.candidates import top_edges
from engine.events import FloatArray
from engine.feed.view import MarketRow
from engine.state.market_state import MarketState

HOUR = 3600.0
EPS = 1e-6  # display precision: a smaller move redraws nothing


class MarketRows:
    """The published values of every row, and the rows that changed since."""

    def __init__(self, state: MarketState) -> None:
        self.state = state
        self._shown = np.zeros((8, 0))  # last published values of each row's columns
        self._listed = 0
        self._hourly: deque[tuple[float, np.ndarray]] = deque(maxlen=25)

    def changed(self, t: float, p_yes: FloatArray) -> tuple[MarketRow, ...]:
        """The rows to send at `t`, given the model's latest P(YES) per row; marks them
        published."""
        st = self.state
        n = st.n
        p, edge = self._p_and_edge(p_yes)
        mid = st.mids()
        change = self._change(t, mid)
        # What a row shows, as columns; a row is sent again only when one of them moved
        # (a change deep in the book or a new version number alone redraws nothing).
        shown = np.vstack(
            [
                st.bid_px[:n, 0],
                st.ask_px[:n, 0],
                st.volume[:n],
                p,
                edge,
                change,
                st.active[:n].astype(np.float64),
                st.trusted[:n].astype(np.float64),
            ]
        )
        grown = n - self._shown.shape[1]
        if grown > 0:
            self._shown = np.hstack([self._shown, np.full((shown.shape[0], grown), np.nan)])
        moved: np.ndarray = np.asarray(_moved(shown, self._shown).any(axis=0))
        if self._listed < n:  # new rows are always sent, even with an empty book
            moved[self._listed :] = True
            self._listed = n
        idx = np.flatnonzero(moved)
        self._shown[:, idx] = shown[:, idx]
        cats = st.categories
        out = []
        for r in idx.tolist():
            m = st.markets[r]
            bid, ask = float(st.bid_px[r, 0]), float(st.ask_px[r, 0])
            out.append(
                MarketRow(
                    row=r,
                    market_id=m.market_id,
                    question=m.question,
                    category=cats[st.category[r]] if st.category[r] >= 0 else "",
                    bid=bid,
                    ask=ask,
                    mid=float(mid[r]),
                    spread=ask - bid,
                    change_24h=float(change[r]),
                    volume=float(st.volume[r]),
                    end_ts=float(st.end_ts[r]),
                    p_model=float(p[r]),
                    edge=float(edge[r]),
                    active=bool(st.active[r]),
                    trusted=bool(st.trusted[r]),
                )
            )
        return tuple(out)

    def _p_and_edge(self, last: FloatArray) -> tuple[np.ndarray, np.ndarray]:
        """P(YES) per row (NaN where the model has none yet) and the better side's edge."""
        n = self.state.n
        p = np.full(n, np.nan)
        p[: min(n, len(last))] = last[:n]
        ey, en = top_edges(self.state, p)
        return p, np.fmax(ey, en)

    def _change(self, t: float, mid: np.ndarray) -> np.ndarray:
        """Each mid's change since the oldest hourly sample (up to a day back)."""
        if not self._hourly or t - self._hourly[-1][0] >= HOUR:
            self._hourly.append((t, mid.copy()))
        _, ref = self._hourly[0]
        base = np.full(self.state.n, np.nan)
        base[: len(ref)] = ref[: self.state.n]
        return mid - base  # type: ignore[no-any-return]


def _moved(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Changed by more than display precision; NaN to NaN is no change."""
    both_nan = np.isnan(new) & np.isnan(old)
    with np.errstate(invalid="ignore"):
        return ~both_nan & ~(np.abs(new - old) <= EPS)  # type: ignore[no-any-return]

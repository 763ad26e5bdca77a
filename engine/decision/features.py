"""Features for every market at once, from information available at time t only.

Vectorised over all rows of `MarketState`: one numpy expression per feature, never a Python
loop over markets. Returns come from the mid history ring buffer (sampled once per cycle);
volatility is an exponentially weighted variance of one-cycle mid changes per window,
updated incrementally each cycle, so a 1-hour window costs O(markets), not O(markets x
samples).

Nothing here looks at the future: labels (future price changes, outcomes) live in `ml/`
and are never passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engine.config import FeatureSettings
from engine.state.market_state import MarketState

FloatArray = npt.NDArray[np.float64]
HOUR = 3600.0


@dataclass(slots=True)
class Features:
    """Named feature columns, one value per market row (NaN where unknown)."""

    ts: float
    columns: dict[str, FloatArray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> FloatArray:
        return self.columns[name]

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    def matrix(self, rows: npt.NDArray[np.int64] | None = None) -> FloatArray:
        """(markets x features) for a model; column order = `names`."""
        cols = [c if rows is None else c[rows] for c in self.columns.values()]
        return np.column_stack(cols) if cols else np.empty((0, 0))


def history_samples(settings: FeatureSettings, interval: float) -> int:
    """Ring-buffer length that covers the longest return window at this cycle interval."""
    return int(np.ceil(max(settings.return_windows_seconds) / interval)) + 2


class FeatureEngine:
    def __init__(self, settings: FeatureSettings, interval_seconds: float) -> None:
        self.s = settings
        self.interval = interval_seconds
        self.windows = list(settings.return_windows_seconds)
        self._lags = [max(1, round(w / interval_seconds)) for w in self.windows]
        self._alphas = [min(1.0, interval_seconds / w) for w in self.windows]
        self._ewvar = np.zeros((0, len(self.windows)))

    def observe(self, st: MarketState) -> None:
        """Fold the newest history sample into the volatility estimates (once per cycle)."""
        n = st.n
        if self._ewvar.shape[0] < n:
            grown = np.full((n, len(self.windows)), np.nan)
            grown[: self._ewvar.shape[0]] = self._ewvar
            self._ewvar = grown
        now_mid, _ = st.history_back(0)
        prev_mid, _ = st.history_back(1)
        d2 = (now_mid - prev_mid) ** 2
        have = ~np.isnan(d2)
        for j, a in enumerate(self._alphas):
            col = self._ewvar[:n, j]
            fresh = have & np.isnan(col)
            col[fresh] = d2[fresh]
            upd = have & ~fresh
            col[upd] = (1.0 - a) * col[upd] + a * d2[upd]

    def compute(self, st: MarketState, now: float) -> Features:
        n = st.n
        k = self.s.depth_levels
        bb, ba = st.bid_px[:n, 0], st.ask_px[:n, 0]
        bs, as_ = st.bid_sz[:n, 0], st.ask_sz[:n, 0]
        mid = (bb + ba) / 2.0
        spread = ba - bb
        bid_depth = st.bid_sz[:n, :k].sum(axis=1)
        ask_depth = st.ask_sz[:n, :k].sum(axis=1)
        depth = bid_depth + ask_depth
        with np.errstate(invalid="ignore", divide="ignore"):
            imbalance = np.where(depth > 0, (bid_depth - ask_depth) / depth, 0.0)
            top = bs + as_
            # Microprice: the mid weighted toward the side with less size (it is about to go).
            micro = np.where(top > 0, (bb * as_ + ba * bs) / top, mid)
        cols: dict[str, FloatArray] = {
            "mid": mid,
            "spread": spread,
            "bid_depth": bid_depth,
            "ask_depth": ask_depth,
            "imbalance": imbalance,
            "microprice": micro,
        }
        last = st.history_back(0)[0]
        for w, lag, j in zip(self.windows, self._lags, range(len(self.windows)), strict=True):
            past, _ = st.history_back(lag)
            cols[f"ret_{int(w)}s"] = last - past
            vol = self._ewvar[:n, j] if self._ewvar.shape[0] >= n else np.full(n, np.nan)
            cols[f"vol_{int(w)}s"] = np.sqrt(vol)
        prev1, _ = st.history_back(1)
        cols["ret_last"] = last - prev1  # the latest one-cycle move (baseline shrinks it)
        cols["hours_to_resolution"] = (st.end_ts[:n] - now) / HOUR
        cols["log_volume"] = np.log1p(np.maximum(st.volume[:n], 0.0))
        cols["category"] = st.category[:n].astype(np.float64)
        cols.update(self._event_context(st, mid))
        return Features(ts=now, columns=cols)

    @staticmethod
    def _event_context(st: MarketState, mid: FloatArray) -> dict[str, FloatArray]:
        """Multi-outcome events: YES prices should sum to ~1; the excess is information."""
        n = st.n
        ev = st.event[:n]
        in_group = ev >= 0
        size = max(len(st.events), 1)
        codes = np.where(in_group, ev, 0)
        m = np.nan_to_num(mid)
        sums = np.bincount(codes[in_group], weights=m[in_group], minlength=size)
        counts = np.bincount(codes[in_group], minlength=size).astype(np.float64)
        group_sum = np.where(in_group, sums[codes], np.nan)
        group_n = np.where(in_group, counts[codes], 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            normalised = np.where(in_group & (group_sum > 0), mid / group_sum, np.nan)
        return {
            "event_sum": group_sum,
            "event_size": group_n,
            "event_normalised_mid": normalised,
        }

"""Brier scores of the model and of the market on the markets that resolved.

The question a person asks of a model is whether it beats the price: each market that
resolves scores the model's P(YES) and the market's mid, both as they stood at the last step
before the resolution, against the payout. Kept apart from the console view that shows it,
so the scoring can be read (and tested) on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.events import FloatArray, MarketResolved
from engine.state.market_state import MarketState


@dataclass(slots=True)
class BrierScore:
    """Running sums of squared errors; a market whose model or market price was unknown
    (NaN, or a row the model never priced) is not scored at all, so both scores always
    cover the same markets."""

    model_sum: float = 0.0
    market_sum: float = 0.0
    count: int = 0

    def score(self, state: MarketState, p_yes: FloatArray, resolved: list[MarketResolved]) -> None:
        """Score each resolution: `p_yes` is the model's P(YES) per row as of the last step
        (before the resolution), the market's is the mid of the latest history sample."""
        for r in resolved:
            row = state.row(r.market_id)
            if row is None or row >= len(p_yes):
                continue
            p = p_yes[row]
            mid, _ = state.history_back(0)
            m = mid[row] if row < len(mid) else np.nan
            if p == p and m == m:
                self.model_sum += (p - r.payout_yes) ** 2
                self.market_sum += (m - r.payout_yes) ** 2
                self.count += 1

    @property
    def model(self) -> float | None:
        """The model's mean Brier score; None before any market was scored."""
        return self.model_sum / self.count if self.count else None

    @property
    def market(self) -> float | None:
        """The market price's mean Brier score over the same markets."""
        return self.market_sum / self.count if self.count else None

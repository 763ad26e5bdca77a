"""Order-book arithmetic: walking a ladder for a given size, taker fee included.

The one place that knows what an order really costs. Used by the strategy (edge at our
size), the risk manager (re-check at final size), the paper executor (fills) and intent
re-checks at approval, so paper, live and backtest price the same way.

A ladder is two parallel sequences, best level first: prices and sizes. For a BUY walk the
asks (ascending prices); for a SELL walk the bids (descending prices).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.fees import NO_FEE, FeeSchedule, taker_fee_per_share
from engine.models import Side

FloatArray = npt.NDArray[np.float64]


@dataclass(slots=True, frozen=True)
class Walk:
    """Result of walking a ladder: what would fill, at what cost."""

    filled: float  # shares
    notional: float  # sum of price x shares, USDC
    fee: float  # taker fee, USDC
    levels: int  # levels touched

    @property
    def avg_price(self) -> float:
        return self.notional / self.filled if self.filled > 0 else float("nan")

    @property
    def cost_per_share(self) -> float:
        """Average price plus fee per share: what edge is measured against for a BUY."""
        return (self.notional + self.fee) / self.filled if self.filled > 0 else float("nan")


def walk(
    prices: Sequence[float],
    sizes: Sequence[float],
    shares: float,
    side: Side,
    fees: FeeSchedule = NO_FEE,
    limit: float | None = None,
) -> Walk:
    """Fill up to `shares` against a best-first ladder, stopping at `limit` if given.

    BUY stops at levels priced above `limit`; SELL at levels priced below it. Levels with
    non-positive size or NaN price are skipped (padding in fixed-depth arrays).
    """
    remaining = shares
    notional = 0.0
    fee = 0.0
    levels = 0
    buy = side is Side.BUY
    for price, size in zip(prices, sizes, strict=False):
        if remaining <= 1e-12:
            break
        if not size > 0.0 or price != price:  # NaN-safe
            continue
        if limit is not None and (price > limit + 1e-12 if buy else price < limit - 1e-12):
            break
        take = size if size < remaining else remaining
        notional += take * price
        fee += fees.fee(take, price)
        remaining -= take
        levels += 1
    return Walk(filled=shares - remaining, notional=notional, fee=fee, levels=levels)


def shares_for_budget(
    prices: Sequence[float],
    sizes: Sequence[float],
    budget: float,
    fees: FeeSchedule = NO_FEE,
    limit: float | None = None,
) -> float:
    """Most shares a BUY can take for at most `budget` USDC, fees included."""
    remaining = budget
    shares = 0.0
    for price, size in zip(prices, sizes, strict=False):
        if not size > 0.0 or price != price:
            continue
        if limit is not None and price > limit + 1e-12:
            break
        unit = fees.unit_cost(price)
        if unit <= 0:
            continue
        level_cost = size * unit
        if level_cost >= remaining:
            shares += remaining / unit
            return shares
        shares += size
        remaining -= level_cost
    return shares


def top_cost_per_share(
    best_price: FloatArray, fee_rate: FloatArray, fee_exponent: FloatArray
) -> FloatArray:
    """Vectorised cost of the first share at the best level, fee included.

    Walking deeper only makes a BUY dearer, so this bounds the edge from above: a market
    whose edge fails here fails at every size. The strategy screens with it before walking.
    """
    return best_price + taker_fee_per_share(best_price, fee_rate, fee_exponent)

"""Order arithmetic shared by the risk manager, the account view and the paper executor.

Kept apart from the rules so the numbers (Kelly, share rounding, tick snapping, cash an order
can consume) have one definition: if the risk manager reserved a different amount than the
executor holds back, sizing against "cash left" would quietly be wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from engine.fees import FeeSchedule
from engine.models import OrderRequest, Side

# Float dust tolerated when rounding: 0.29 / 0.01 is 28.999999999999996, not 28.
_DUST = 1e-6


def kelly_fraction_binary(p: float, cost: float) -> float:
    """Optimal bankroll share for a binary token bought at `cost` that pays 1 with prob. `p`.

    f* = (p - c) / (1 - c). Zero when there is no edge: Kelly never bets on a negative or zero
    expectation, which is what keeps sizing from manufacturing trades.
    """
    if not (0.0 < cost < 1.0) or not p > cost:
        return 0.0
    return (min(p, 1.0) - cost) / (1.0 - cost)


def kelly_shares(p: float, cost: float, equity: float, fraction: float) -> float:
    """Shares that spend `fraction` x f* of equity at `cost` per share (fee included)."""
    f = kelly_fraction_binary(p, cost)
    if f <= 0.0 or equity <= 0.0:
        return 0.0
    return fraction * f * equity / cost


def floor_shares(shares: float) -> float:
    """Round down to Polymarket's 2-decimal share sizes; never up, so caps stay caps."""
    if not shares > 0.0:
        return 0.0
    return math.floor(shares * 100.0 + _DUST) / 100.0


def snap_limit(price: float, tick: float, side: Side) -> float:
    """Put a limit price on the tick grid on the cautious side.

    A BUY limit rounds down and a SELL limit rounds up, so snapping can never let an order
    trade at a price the edge check did not accept.
    """
    steps = price / tick
    n = math.floor(steps + _DUST) if side is Side.BUY else math.ceil(steps - _DUST)
    decimals = max(0, -math.floor(math.log10(tick) + _DUST))
    return round(n * tick, decimals)


def order_max_cost(order: OrderRequest, fees: FeeSchedule) -> float:
    """Most USDC an order can consume: every share at its limit plus the taker fee.

    A SELL consumes nothing (selling held tokens only ever adds cash), so it reserves 0.
    """
    if order.side is Side.SELL:
        return 0.0
    return order.size * order.limit_price + fees.fee(order.size, order.limit_price)


def best_level(prices: Sequence[float], sizes: Sequence[float]) -> float | None:
    """First usable price of a best-first ladder (skips NaN/empty padding like `walk` does)."""
    for price, size in zip(prices, sizes, strict=False):
        if size > 0.0 and price == price:
            return price
    return None


def edge_limit(
    prices: Sequence[float],
    sizes: Sequence[float],
    side: Side,
    p_model: float,
    fees: FeeSchedule,
    threshold: float,
) -> float | None:
    """Worst level price at which one more share still earns `threshold` after the fee.

    Walking stops there, so every share bought (or sold) clears the threshold at the margin
    and the average clears it too. None when even the best level falls short.
    """
    limit: float | None = None
    for price, size in zip(prices, sizes, strict=False):
        if not size > 0.0 or price != price:
            continue
        if side is Side.BUY:
            edge = p_model - fees.unit_cost(price)
        else:
            edge = fees.unit_proceeds(price) - p_model
        if not edge >= threshold - 1e-12:  # NaN model probability qualifies nothing
            break
        limit = price
    return limit


def nth_level_price(prices: Sequence[float], sizes: Sequence[float], n: int) -> float:
    """Price of the `n`-th usable level (1-based), i.e. the worst level a walk of `n` touched.

    Pairs with `Walk.levels`, which counts usable levels the same way `walk` skips padding.
    """
    seen = 0
    for price, size in zip(prices, sizes, strict=False):
        if size > 0.0 and price == price:
            seen += 1
            if seen == n:
                return price
    return math.nan

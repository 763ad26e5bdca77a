"""Polymarket's taker fee, defined once: shares x rate x (p (1 - p)) ** exponent.

Why one module: the fee decides whether an idea has an edge, so the strategy's screen, the
risk manager's sizing, the cash an order reserves, the paper fill, the approval re-check and
the live fill booking must all charge the same amount. When each wrote its own `p * (1 - p)`
they all silently assumed exponent 1, while the exchange charges each market's own exponent
(`fd.e` in the CLOB market info, `feeSchedule.exponent` in Gamma); on a market with
exponent 2 the screened edge was wrong.

Three forms of the one formula: `taker_fee` (float, the hot paths), `taker_fee_per_share`
(numpy, the vectorised screen) and `taker_fee_exact` (Decimal, exact exchange amounts in
the live fill booking). Tests hold them equal on a grid of prices and exponents. Makers pay
nothing, so there is no maker fee here.

A price at or outside [0, 1] (or NaN) is charged nothing: the fee vanishes at certainty,
and a fractional power of a negative number is not a price's fee.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from engine.input_bounds import OutOfBounds, bounded_float

FloatArray = npt.NDArray[np.float64]

DEFAULT_EXPONENT = 1.0  # what the exchange means when it sends no exponent (nearly all markets)
# Exponents the exchange uses are small whole numbers (Nautilus refuses any other); the bound
# keeps a damaged payload from reaching the arithmetic. A fee rate is a fraction of notional.
MAX_FEE_EXPONENT = 8.0
MAX_FEE_RATE = 1.0


def taker_fee(shares: float, price: float, rate: float, exponent: float) -> float:
    """The taker fee in USDC of `shares` traded at `price`."""
    if not 0.0 < price < 1.0:  # certainty (no fee), nonsense or NaN (nothing to charge)
        return 0.0
    if exponent == 1.0:  # the common case, in the exact arithmetic the engine always used
        return shares * rate * price * (1.0 - price)
    return shares * rate * math.pow(price * (1.0 - price), exponent)


def taker_fee_per_share(price: FloatArray, rate: FloatArray, exponent: FloatArray) -> FloatArray:
    """Vectorised `taker_fee` of one share, row by row; NaN where the price is NaN."""
    with np.errstate(invalid="ignore"):
        fee = rate * price * (1.0 - price)  # as `taker_fee` computes exponent 1
        curved = np.flatnonzero(exponent != 1.0)  # the few other markets: the power is dear
        if curved.size:
            p = price[curved]
            q = np.maximum(p * (1.0 - p), 0.0)
            fee[curved] = rate[curved] * np.power(q, exponent[curved])
        inside = (price > 0.0) & (price < 1.0)
        out: FloatArray = np.where(inside, fee, np.where(np.isnan(price), np.nan, 0.0))
    return out


def taker_fee_exact(shares: Decimal, price: Decimal, rate: Decimal, exponent: Decimal) -> Decimal:
    """`taker_fee` in Decimal, for exchange amounts that must not carry float artefacts."""
    if not 0 < price < 1:
        return Decimal(0)
    return shares * rate * (price * (1 - price)) ** exponent


def read_fee_exponent(value: object) -> float:
    """A fee exponent from outside data: absent (None) means 1; otherwise a whole number in
    [0, MAX_FEE_EXPONENT], as text or a JSON number, else `OutOfBounds` (a ValueError)."""
    if value is None:
        return DEFAULT_EXPONENT
    e = bounded_float(value, MAX_FEE_EXPONENT)
    if e < 0.0 or e != math.floor(e):
        raise OutOfBounds(f"a fee exponent is a whole number in [0, {MAX_FEE_EXPONENT:g}]")
    return e


@dataclass(slots=True, frozen=True)
class FeeSchedule:
    """One market's taker fee terms (Gamma's `feeSchedule`: rate and exponent).

    Passed as one value so no caller can take the rate and forget the exponent, which is
    how the strategy and paper fills came to assume exponent 1."""

    rate: float = 0.0
    exponent: float = DEFAULT_EXPONENT

    def fee(self, shares: float, price: float) -> float:
        """USDC fee of `shares` at `price`."""
        return taker_fee(shares, price, self.rate, self.exponent)

    def unit_cost(self, price: float) -> float:
        """Cash per share bought at `price`, taker fee included."""
        return price + taker_fee(1.0, price, self.rate, self.exponent)

    def unit_proceeds(self, price: float) -> float:
        """Cash per share sold at `price`, taker fee deducted."""
        return price - taker_fee(1.0, price, self.rate, self.exponent)


NO_FEE = FeeSchedule()

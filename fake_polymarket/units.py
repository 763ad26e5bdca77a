"""Fixed-point units for the fake exchange's books, orders and balances.

Prices live in 1e-4 units (every Polymarket tick, 0.1 down to 0.0001, is a whole number of
them) and amounts (shares and USDC) in 1e-6 units, the token decimals of the chain. Integers
make "on the tick grid", level keys and balance checks exact, so the fake never rejects or
accepts an order because of a float artefact (docs/polymarket_api.md, gotcha G21), and wire
strings come out in the shortest decimal form Polymarket uses (`"0.5"`, `"30"`, `"85.36"`).
"""

from __future__ import annotations

PRICE_SCALE = 10_000
AMOUNT_SCALE = 1_000_000
ONE = PRICE_SCALE  # the price of a winning share, in price units


def price_units(price: float) -> int:
    return round(price * PRICE_SCALE)


def amount_units(amount: float) -> int:
    return round(amount * AMOUNT_SCALE)


def decimal_str(value: int, scale: int) -> str:
    """`value / scale` as the shortest exact decimal string (no exponent, no trailing zeros)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), scale)
    if frac == 0:
        return f"{sign}{whole}"
    digits = len(str(scale)) - 1
    return f"{sign}{whole}.{frac:0{digits}d}".rstrip("0")


def price_str(units: int) -> str:
    return decimal_str(units, PRICE_SCALE)


def amount_str(units: int) -> str:
    return decimal_str(units, AMOUNT_SCALE)


def notional(shares: int, price: int) -> int:
    """USDC units for `shares` amount units at `price` price units (rounded down)."""
    return shares * price // PRICE_SCALE

"""Polymarket prices as integer slots on a tick grid, looked up by the text they arrive as.

Why slots: `l2.L2Books` keeps each side of a book as a flat array of sizes indexed by price
slot. A price-keyed dict per side was measured at ~0.35 µs per level change on 1,000 books:
its entries, key objects and old values sit on different cache lines, and float hashes of
grid prices share their low bits, so probes collide. One array slot is one cache line.

Why texts: msgspec can decode a `Literal` of strings into the very string object listed, so
`SLOTS[scale][text]` is a dict hit on an interned key with a cached hash; computing
`round(price * scale)` from a float costs about twice that, per level. The texts also validate:
only a price on the 0.001 grid, written with 1 to 4 decimals (`"0.5"`, `"0.50"`, `"0.5000"`) or
as `"0"`/`"1"`, is in the table. The table stops at 0.001 because its size is paid on every
lookup (msgspec hashes into it: with the 0.0001 grid's 11,116 texts decoding ran 4-5 % slower
than with these 2,116), and 0.0001 ticks are rare. Anything else (a 0.0001-grid price, the
`".48"` of Polymarket's docs example, docs/polymarket_api.md §5.4) is not an error here: the
fast decoder refuses it and the frame takes the general path, which parses floats
(`slot_of_float`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

# Slots per unit price on the finest grid, tick 0.0001 (py-clob-client's `TickSize`, in
# docs/polymarket_api.md §3.5).
FINEST = 10_000
SCALES = (100, 1_000, FINEST)  # the grids a book can be kept on, coarsest first
TEXT_SCALE = 1_000  # prices on this grid have texts in the table
_ON_GRID = 1e-6  # |price * FINEST - k| below this: the float is grid point k


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: hashed by identity
class PriceGrid:
    """The lookup tables; never mutated, so one instance serves every book."""

    finest: dict[str, int]  # every price text the fast decoders accept → finest-grid slot
    slots: dict[int, dict[str, int]]  # scale → text → slot, only texts on that grid
    zeros: dict[int, memoryview[float]]  # scale → an empty side, copied to clear one

    def coarsest_scale(self, k: int) -> int:
        """The coarsest grid holding finest-grid slot `k`."""
        for scale in SCALES:
            if k % (FINEST // scale) == 0:
                return scale
        raise AssertionError("every slot is on the finest grid")  # pragma: no cover


def _texts() -> dict[str, int]:
    out = {"0": 0, "1": FINEST}
    for k in range(0, FINEST + 1, FINEST // TEXT_SCALE):
        whole, frac = divmod(k, FINEST)
        digits = f"{frac:04d}"
        shortest = max(len(digits.rstrip("0")), 1)
        for n in range(shortest, 5):
            out[f"{whole}.{digits[:n]}"] = k
    return out


@cache
def price_grid() -> PriceGrid:
    """The tables, built on first use (~3 ms) rather than at import: the CLI never needs them.

    Cached like a compiled regex: a pure function of constants, never mutated.
    """
    finest = _texts()
    slots = {
        scale: {t: k // (FINEST // scale) for t, k in finest.items() if k % (FINEST // scale) == 0}
        for scale in SCALES
    }
    zeros = {scale: memoryview(bytes(8 * (scale + 1))).cast("d") for scale in SCALES}
    return PriceGrid(finest=finest, slots=slots, zeros=zeros)


def slot_of_float(price: float) -> int | None:
    """Finest-grid slot of a parsed price; None if it is off Polymarket's finest grid."""
    x = price * FINEST
    k = round(x)
    if abs(x - k) > _ON_GRID or not 0 <= k <= FINEST:
        return None
    return k

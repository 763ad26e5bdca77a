"""The net edge an order must clear: one figure to open a position, another to close it.

Opening risk needs a margin over the model's doubt (`strategy.edge_threshold`); closing a
position needs only that the bid, after the taker fee, pays more than the model thinks the
token is worth (`strategy.exit_edge`, default 0): holding it any longer is then a bet the
model itself would not place. The screen, the risk manager and the approval re-check all ask
this one object, so an exit the screen proposed is judged by the same figure everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.models import Side


@dataclass(slots=True, frozen=True)
class EdgeThresholds:
    entry: float  # a BUY (opening or adding)
    exit: float = 0.0  # a SELL (closing held shares)

    def for_side(self, side: Side) -> float:
        return self.entry if side is Side.BUY else self.exit

    @classmethod
    def of(cls, value: EdgeThresholds | float) -> EdgeThresholds:
        """A bare number is the entry threshold, with exits at any edge of 0 or more."""
        return value if isinstance(value, EdgeThresholds) else cls(value)

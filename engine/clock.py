"""Time as an object, so every component runs the same on wall time and simulated time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class WallClock:
    def now(self) -> float:
        return time.time()


class SimClock:
    """A clock moved only by its owner (the runner, a backtest, a test)."""

    def __init__(self, start: float) -> None:
        self._t = float(start)

    def now(self) -> float:
        return self._t

    def set(self, t: float) -> None:
        if t < self._t:
            raise ValueError(f"simulated time cannot go backwards ({t} < {self._t})")
        self._t = float(t)

    def advance(self, dt: float) -> float:
        self.set(self._t + dt)
        return self._t


def to_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def day_start(ts: float) -> float:
    """Start of the UTC day containing `ts` (daily PnL and the daily loss limit use UTC days)."""
    d = to_datetime(ts)
    return datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()

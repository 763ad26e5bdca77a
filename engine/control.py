"""Engine run state (running / paused / halted) and the equity marks kill switches need.

`EngineControl` is written by commands from other threads (the CLI, later the console and the
control socket) and read by the cycle, hence the lock. A halt (kill switch) stops new orders
and intents until a person resumes; a pause is the same without a reason; stale data only
skips trading for as long as it lasts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from engine.clock import day_start
from engine.models import EngineState


class EngineControl:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = EngineState.STARTING
        self._reason: str | None = None
        self._changed = False

    @property
    def state(self) -> EngineState:
        with self._lock:
            return self._state

    @property
    def reason(self) -> str | None:
        with self._lock:
            return self._reason

    @property
    def trading_allowed(self) -> bool:
        return self.state is EngineState.RUNNING

    def _set(self, state: EngineState, reason: str | None) -> bool:
        with self._lock:
            if self._state is state and self._reason == reason:
                return False
            self._state, self._reason = state, reason
            self._changed = True
            return True

    def start(self) -> None:
        self._set(EngineState.RUNNING, None)

    def pause(self) -> bool:
        with self._lock:
            if self._state is not EngineState.RUNNING:
                return False
        return self._set(EngineState.PAUSED, "paused by operator")

    def resume(self) -> bool:
        with self._lock:
            if self._state not in (EngineState.PAUSED, EngineState.HALTED):
                return False
        return self._set(EngineState.RUNNING, None)

    def halt(self, reason: str) -> bool:
        with self._lock:
            if self._state is EngineState.HALTED:
                return False
        return self._set(EngineState.HALTED, reason)

    def stop(self) -> None:
        self._set(EngineState.STOPPED, None)

    def take_changed(self) -> bool:
        """True once after each state change (the runner logs and persists it)."""
        with self._lock:
            changed, self._changed = self._changed, False
            return changed


@dataclass(slots=True)
class EquityMarks:
    """Start-of-day and peak equity for the daily-loss and drawdown kill switches."""

    day: float = float("nan")
    day_start_equity: float = 0.0
    peak_equity: float = 0.0

    def shift(self, amount: float) -> None:
        """Equity that arrived without being earned (holdings taken in from the exchange):
        moved into both marks, so it reads as neither a gain today nor a new peak."""
        if self.day == self.day:  # marks exist (day is NaN until the first update)
            self.day_start_equity += amount
            self.peak_equity += amount

    def update(self, now: float, equity: float) -> None:
        d = day_start(now)
        if d != self.day:
            self.day = d
            self.day_start_equity = equity
        self.peak_equity = max(self.peak_equity, equity)

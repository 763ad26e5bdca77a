"""Failed engine steps: the error-rate kill switch, and logs that neither hide nor flood.

A step that raises is not fatal (the next step may well succeed), but it must never go
unnoticed: the first failure of each distinct kind is logged at ERROR with its traceback, and
its repeats are counted and said at ERROR again at growing intervals (the 10th, 100th, ...), so a
failure repeating every step neither fills the log nor disappears. Too many failures within a
window of steps trips the error-rate kill switch, whose reason states the real window and limit.
"""

from __future__ import annotations

import logging
import traceback
from collections import deque
from dataclasses import dataclass


class ErrorBudget:
    """Error-rate kill switch: `limit` failed steps within the last `window` steps."""

    def __init__(self, window: int = 10, limit: int = 5) -> None:
        if not 1 <= limit <= window:
            raise ValueError(f"error budget needs 1 <= limit <= window, got {limit} of {window}")
        self.recent: deque[bool] = deque(maxlen=window)
        self.window = window
        self.limit = limit

    def add(self, failed: bool) -> bool:
        """Count one step; True when the failures in the window reach the limit."""
        self.recent.append(failed)
        return sum(self.recent) >= self.limit

    @property
    def reason(self) -> str:
        return f"error rate: {self.limit} of the last {self.window} steps failed"


@dataclass(frozen=True, slots=True)
class StepFailure:
    """What to log for one failure: a line, and whether the traceback goes with it."""

    message: str
    with_traceback: bool
    repeats: int  # how many times this kind of failure has happened, this one included


def _signature(exc: BaseException) -> tuple[str, str, str]:
    """Kind of failure: its type, its text, and where it was raised."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    return type(exc).__name__, str(exc)[:200], where


class StepErrorLog:
    """Deduplicates failed-step logs by kind of failure, counting repeats."""

    def __init__(self, logger: logging.Logger, max_kinds: int = 1000) -> None:
        self.log = logger
        self.counts: dict[tuple[str, str, str], int] = {}
        self.max_kinds = max_kinds

    def failure(self, exc: BaseException, when: str) -> StepFailure:
        key = _signature(exc)
        if key not in self.counts and len(self.counts) >= self.max_kinds:
            self.counts.clear()  # bounded: a flood of distinct errors starts counting over
        n = self.counts.get(key, 0) + 1
        self.counts[key] = n
        text = f"{type(exc).__name__}: {exc}"
        if n == 1:
            failure = StepFailure(f"step at {when} failed: {text}", True, n)
            self.log.error(failure.message, exc_info=exc)
        elif _is_power_of_ten(n):
            failure = StepFailure(
                f"step at {when} failed again ({n} times so far): {text}", False, n
            )
            self.log.error(failure.message)
        else:
            failure = StepFailure(f"step at {when} failed again: {text}", False, n)
        return failure

    def summary(self) -> list[str]:
        """One line per kind that repeated, for the end of the run."""
        return [
            f"step failure {kind}: {text} ({where}) happened {n} times"
            for (kind, text, where), n in self.counts.items()
            if n > 1
        ]


def _is_power_of_ten(n: int) -> bool:
    while n >= 10 and n % 10 == 0:
        n //= 10
    return n == 1

"""The one interface orders leave the engine through, so paper and live share a single path.

The cycle hands every `OrderRequest` the risk manager approved to an `Executor` and later
collects `ExecutionReport`s; it never knows whether fills are simulated. Time is passed in
(never read from a wall clock) so a backtest and a test drive an executor deterministically.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from engine.models import ExecutionReport, OrderRequest


@runtime_checkable
class Executor(Protocol):
    def submit(self, order: OrderRequest, now: float) -> None:
        """Accept an order; it is worked later by `process_due` (latency, network)."""
        ...

    def process_due(self, now: float) -> list[ExecutionReport]:
        """Work every order whose time has come and report how each ended."""
        ...

    def next_due(self) -> float | None:
        """When the next queued order becomes due (None: nothing queued), for schedulers."""
        ...

    def open_orders(self) -> list[OrderRequest]:
        """Orders accepted but not yet reported, oldest first (dedup and reserved cash)."""
        ...

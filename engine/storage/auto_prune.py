"""The daemon's automatic prune: retention applied while the engine runs, off its step.

Every `retention.prune_interval_seconds` of wall time (the first one at start, so a daemon
restarted more often than that still prunes), `Store.prune` runs in a worker thread of its
own via `asyncio.to_thread`: neither the event loop nor the engine step waits for it, and
its batches leave the write lock to the engine between them. `now` is the engine's clock,
the time base of the rows it prunes (a sim at --speed max runs ahead of the wall clock, and
its rows with it). A prune that fails is logged and tried again at the next interval: the
database's upkeep never ends a run. Leaving the context stops a prune in progress after its
current batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from types import TracebackType

from engine.config import RetentionSettings
from engine.storage import Store
from engine.storage.retention import PruneReport

log = logging.getLogger("polyb0t.prune")


class AutoPrune:
    """`async with AutoPrune(store, retention, clock.now): await engine.run(...)`."""

    def __init__(
        self,
        store: Store,
        retention: RetentionSettings,
        now: Callable[[], float],
        *,
        pause_seconds: float = 0.1,
    ) -> None:
        self.store = store
        self.retention = retention
        self.now = now
        self.pause_seconds = pause_seconds
        self.reports: list[PruneReport] = []  # the prunes done, latest last (for tests)
        self._halt = threading.Event()  # read by the prune thread between batches
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AutoPrune:
        if self.retention.prune_interval_seconds > 0:
            self._task = asyncio.create_task(self._loop(), name="auto-prune")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._halt.set()
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        interval = self.retention.prune_interval_seconds
        while not self._halt.is_set():
            await self._prune_once()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)

    async def _prune_once(self) -> None:
        try:
            report = await asyncio.to_thread(
                self.store.prune,
                self.now(),
                self.retention,
                stop=self._halt,
                pause_seconds=self.pause_seconds,
            )
        except Exception as exc:  # upkeep must not end the run: say so, try next time
            log.warning(
                "automatic prune failed (%s: %s); next try in %.0f s",
                type(exc).__name__,
                _first_line(exc),
                self.retention.prune_interval_seconds,
            )
            return
        self.reports.append(report)
        if report.total:
            removed = ", ".join(f"{name} {n:,}" for name, n in report.deleted.items() if n)
            log.info(
                "pruned %s rows (%s) in %.1f s%s",
                f"{report.total:,}",
                removed,
                report.seconds,
                " (stopped: shutting down)" if report.stopped else "",
            )


def _first_line(exc: BaseException) -> str:
    """A driver error's first line (the rest is the SQL and its parameters)."""
    return (str(exc).splitlines() or [""])[0][:300]

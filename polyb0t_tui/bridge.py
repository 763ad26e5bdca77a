"""Connects an engine link to the app: periodic pulls in, discrete events out, engine life.

Pulls run on a Textual timer, `refresh_per_second` times a second, on the UI thread: a pull
is a copy of what changed since the last one (cheap by contract), and everything it brings
is applied inside one `batch_update`, so 2,000 row changes a second cost one repaint per
pull. No thread is involved on this side: the engine does its CPU work in its own worker
threads, and an in-process engine runs as an async Textual worker on the app's loop, so
stopping it is setting one asyncio event.

Differences between two pulls that a person must notice (a new intent, an intent that
changed state, a fill, an engine error, a kill switch) become messages for the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual.timer import Timer
from textual.worker import Worker, WorkerState

from engine.feed.link import EngineLink
from engine.feed.view import IntentView, PortfolioView, StatusView, ViewDelta
from polyb0t_tui.messages import (
    EngineErrorSeen,
    EngineStateChanged,
    EngineStopped,
    FillSeen,
    IntentChanged,
    IntentsCreated,
)

if TYPE_CHECKING:
    from textual.app import App

STOP_TIMEOUT = 2.0  # quitting waits this long for the engine to finish its step


class EngineTask(Protocol):
    """What the bridge needs of an in-process engine (`engine.run.runner.Engine`)."""

    async def run(
        self, stop: asyncio.Event, cycles: int | None = None, duration: float | None = None
    ) -> Any: ...


@runtime_checkable
class ViewConsumer(Protocol):
    """A screen that shows the view (the dashboard, a market detail)."""

    def apply_view(self, delta: ViewDelta, now: float) -> None: ...


class Bridge:
    def __init__(
        self,
        app: App[Any],
        link: EngineLink,
        *,
        refresh_per_second: float,
        engine_now: Callable[[StatusView | None], float],
    ) -> None:
        self.app = app
        self.link = link
        self.interval = 1.0 / refresh_per_second
        self.engine_now = engine_now
        self.seq = 0
        self.status: StatusView | None = None
        self.pulls = 0
        self._timer: Timer | None = None
        self._intents: dict[str, str] = {}
        self._positions: dict[tuple[str, str], float] = {}
        self._primed = False
        self.stop = asyncio.Event()
        self.worker: Worker[Any] | None = None
        self.summary: Any = None

    # --- pulling ---------------------------------------------------------------------------

    def start(self) -> None:
        self.pull()
        self._timer = self.app.set_interval(self.interval, self.pull, name="bridge-pull")

    def pull(self) -> None:
        delta = self.link.pull(self.seq)
        if delta.seq < self.seq:  # the other end restarted its store: start over
            delta = self.link.pull(0)
        elif delta.seq == self.seq and not delta.full:
            return
        self.pulls += 1
        self.seq = delta.seq
        before = self.status
        if delta.status is not None:
            self.status = delta.status
        now = self.engine_now(self.status)
        with self.app.batch_update():
            for screen in self.app.screen_stack:
                if isinstance(screen, ViewConsumer):
                    screen.apply_view(delta, now)
        self._events(delta, before)

    def _events(self, delta: ViewDelta, before: StatusView | None) -> None:
        primed, self._primed = self._primed, True
        post = self.app.post_message
        after = delta.status
        if primed and before is not None and after is not None and before.state != after.state:
            post(EngineStateChanged(after.state, after.reason, before.state))
        self._intent_events(delta.intents, primed, post)
        self._fill_events(delta.portfolio, primed, post)
        if primed:
            for line in delta.log:
                if line.level in ("ERROR", "CRITICAL"):
                    post(EngineErrorSeen(line.message))

    def _intent_events(
        self, intents: tuple[IntentView, ...], primed: bool, post: Callable[[Any], bool]
    ) -> None:
        seen = self._intents
        created = []
        for i in intents:
            before = seen.get(i.intent_id)
            if primed and before is None and i.state == "PENDING":
                created.append(i)
            elif primed and before is not None and before != i.state:
                post(IntentChanged(i, before))
            seen[i.intent_id] = i.state
        if created:
            post(IntentsCreated(tuple(created)))
        if len(seen) > 1000:  # forget intents that left the view long ago
            keep = {i.intent_id for i in intents}
            self._intents = {k: v for k, v in seen.items() if k in keep}

    def _fill_events(
        self, pf: PortfolioView | None, primed: bool, post: Callable[[Any], bool]
    ) -> None:
        if pf is None:
            return
        now = {(p.market_id, p.outcome): p for p in pf.positions}
        if primed:
            for key, p in now.items():
                change = p.size - self._positions.get(key, 0.0)
                if abs(change) > 1e-9:
                    post(FillSeen(p.question, p.outcome, change, p.size))
            for key in self._positions.keys() - now.keys():
                post(FillSeen(key[0], key[1], -self._positions[key], 0.0))
        self._positions = {k: p.size for k, p in now.items()}

    # --- an in-process engine -------------------------------------------------------------------

    def start_engine(
        self, engine: EngineTask, cycles: int | None = None, duration: float | None = None
    ) -> None:
        async def run() -> None:
            error: str | None = None
            try:
                self.summary = await engine.run(self.stop, cycles=cycles, duration=duration)
            except Exception as exc:  # reported, never raised into the UI
                error = f"{type(exc).__name__}: {exc}"
            self.pull()
            self.app.post_message(EngineStopped(self.summary, error))

        self.worker = self.app.run_worker(run(), name="engine", group="engine", exit_on_error=False)

    @property
    def engine_running(self) -> bool:
        return self.worker is not None and self.worker.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    async def shutdown(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask the engine to stop and wait for it (it stops between steps: milliseconds)."""
        self.stop.set()
        if self._timer is not None:
            self._timer.stop()
        worker = self.worker
        if worker is None or not self.engine_running:
            return
        try:
            await asyncio.wait_for(worker.wait(), timeout)
        except Exception:  # timed out or failed: cancel, the app is leaving anyway
            worker.cancel()

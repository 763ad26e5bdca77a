"""Requests to the engine from other threads: queued to the step, answered by it.

The engine's in-memory state (`MarketState`, the portfolio, the cycle, the console view, the run
state) has one owner: the engine step. A console keypress, a control-socket command or a market
detail query must not read or write that state from its own thread while a step runs, so it is
put here and the step carries it out (at the start of the next step, or at once when the engine
is waiting for its next step: the runner wakes on a new request). Callers get a
`concurrent.futures.Future`, so any thread or event loop can wait for the answer.

From the moment the engine's run begins until its first step, requests wait for that step.
When no engine runs (not started yet, or stopped) there is no owner to race with, so requests
are carried out directly by the caller's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_Request = tuple[Callable[[], Any], "Future[Any]"]


class EngineInbox:
    """A queue of callables the engine step runs on its own state; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[_Request] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._direct = True  # no engine running: callers run their requests themselves

    # --- the engine's side -----------------------------------------------------------------

    def open(self, loop: asyncio.AbstractEventLoop) -> asyncio.Event:
        """Start taking requests for the engine running on `loop`; the returned event is set
        (on that loop) whenever a request arrives, so the runner can wake up to serve it; the
        runner clears it, on its loop, before serving."""
        with self._lock:
            self._loop = loop
            self._wake = asyncio.Event()
            self._direct = False
            if self._queue:
                self._wake.set()
            return self._wake

    def serve(self) -> int:
        """Run every queued request (call it only from the engine step); how many ran."""
        with self._lock:
            batch, self._queue = self._queue, deque()
        for fn, fut in batch:
            _run_into(fn, fut)
        return len(batch)

    def close(self) -> None:
        """The engine stopped: serve what is queued, then answer new requests directly."""
        with self._lock:
            self._direct = True
            self._loop = self._wake = None
        self.serve()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    # --- callers, from any thread ----------------------------------------------------------

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Queue `fn` for the engine step; its result (or exception) arrives in the future."""
        fut: Future[T] = Future()
        with self._lock:
            if not self._direct:
                self._queue.append((fn, fut))
                loop, wake = self._loop, self._wake
                if loop is not None and wake is not None:
                    # A closing loop refuses: its engine serves the queue as it stops.
                    with contextlib.suppress(RuntimeError):
                        loop.call_soon_threadsafe(wake.set)
                return fut
        _run_into(fn, fut)  # no engine running: nothing else touches the state
        return fut

    async def call(self, fn: Callable[[], T]) -> T:
        """Queue `fn` and wait for the engine to run it (awaitable from any event loop)."""
        return await asyncio.wrap_future(self.submit(fn))


def _run_into(fn: Callable[[], T], fut: Future[T]) -> None:
    if not fut.set_running_or_notify_cancel():
        return
    try:
        fut.set_result(fn())
    except BaseException as exc:  # handed to the caller, who asked for it
        fut.set_exception(exc)

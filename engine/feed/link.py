"""How a console talks to an engine: the same interface in-process and over the socket.

`EngineLink` is all the UI knows. `LocalLink` serves an engine in this process; the control
socket's client serves one in a daemon. Commands are named and dispatched by
`engine.feed.dispatch.run_command`; the control server serves them through a `LocalLink`, so a
keypress, a CLI call and a remote console all take the same path into the engine. Nothing
here reads or writes the engine's state from the caller's thread: that goes through the
engine's inbox (`engine.run.inbox`), so the engine step stays the one owner of its state.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from engine.feed.commands import EngineCommands
from engine.feed.dispatch import run_command
from engine.feed.publisher import EngineView
from engine.feed.view import CommandResult, MarketDetail, ViewDelta
from engine.risk.thresholds import EdgeThresholds
from engine.run.inbox import EngineInbox


class EngineLink(Protocol):
    def pull(self, since: int) -> ViewDelta:
        """Changes after `since` (cheap: call it from the UI thread a few times a second)."""
        ...

    async def command(self, name: str, **args: Any) -> CommandResult: ...

    async def detail(self, market_id: str) -> MarketDetail | None: ...

    async def close(self) -> None: ...


StoredHistory = Callable[[str, float], Sequence[tuple[float, float]]]
"""(market id, before ts) -> stored (ts, mid) points, oldest first."""


class LocalLink:
    """An engine in this process (the console's default)."""

    def __init__(
        self,
        view: EngineView,
        commands: EngineCommands,
        inbox: EngineInbox,
        threshold: EdgeThresholds | float,
        tolerance: float,
        history: StoredHistory | None = None,
    ) -> None:
        self.view = view
        self.commands = commands
        self.inbox = inbox
        self.threshold = threshold
        self.tolerance = tolerance
        self.history = history

    def pull(self, since: int) -> ViewDelta:
        return self.view.store.pull(since)  # the published view: no engine state is read

    async def command(self, name: str, **args: Any) -> CommandResult:
        return await run_command(
            self.commands, self.view, self.inbox, name, args, self.threshold, self.tolerance
        )

    async def detail(self, market_id: str) -> MarketDetail | None:
        """The market as the engine sees it now (from the step), its price chart reaching
        back past the engine's in-memory samples into the stored history (read in a
        worker thread, never in the step)."""
        detail = await self.inbox.call(lambda: self.view.detail(market_id))
        if detail is None or self.history is None:
            return detail
        oldest = detail.history[0][0] if detail.history else math.inf
        stored = await asyncio.to_thread(self.history, market_id, oldest)
        if not stored:
            return detail
        older = tuple((float(ts), float(p)) for ts, p in stored)
        return replace(detail, history=older + detail.history)

    async def close(self) -> None:
        return None

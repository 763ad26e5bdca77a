"""How a console talks to an engine: the same interface in-process and over the socket.

`EngineLink` is all the UI knows. `LocalLink` serves an engine in this process; the control
socket's client serves one in a daemon. Commands are named (approve, reject, recheck, pause,
resume, kill, retrain) and dispatched by `run_command`, which the control server uses too, so
a keypress, a CLI call and a remote console all take the same path into the engine. Nothing
here reads or writes the engine's state from the caller's thread: that goes through the
engine's inbox (`engine.run.inbox`), so the engine step stays the one owner of its state.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from engine.execution.approvals import Recheck, recheck_intent
from engine.execution.intents import IntentError
from engine.feed.commands import EngineCommands, NoEngine
from engine.feed.publisher import EngineView
from engine.feed.view import CommandResult, MarketDetail, ViewDelta
from engine.run.inbox import EngineInbox

COMMANDS = ("approve", "reject", "recheck", "pause", "resume", "kill", "retrain")


class EngineLink(Protocol):
    def pull(self, since: int) -> ViewDelta:
        """Changes after `since` (cheap: call it from the UI thread a few times a second)."""
        ...

    async def command(self, name: str, **args: Any) -> CommandResult: ...

    async def detail(self, market_id: str) -> MarketDetail | None: ...

    async def close(self) -> None: ...


async def run_command(
    commands: EngineCommands,
    view: EngineView,
    inbox: EngineInbox,
    name: str,
    args: dict[str, Any],
    threshold: float,
    tolerance: float,
) -> CommandResult:
    """Carry out one named command; never raises for a bad request, says why instead.

    Whatever touches the engine's state (the run state, the book a re-check reads, the
    console view) is queued to the engine step through `inbox`; the intent store's atomic
    database changes run in a worker thread, never on the caller's event loop.
    """
    try:
        if name == "approve":
            override = args.get("override")
            intent = await asyncio.to_thread(
                commands.approve, str(args["intent_id"]), str(override) if override else None
            )
            await inbox.call(view.refresh_intents)
            said = " (re-check overridden)" if override else ""
            return CommandResult(True, f"intent {intent.intent_id} approved{said}")
        if name == "reject":
            reason = str(args.get("reason") or "rejected by operator")
            intent = await asyncio.to_thread(commands.reject, str(args["intent_id"]), reason)
            await inbox.call(view.refresh_intents)
            return CommandResult(True, f"intent {intent.intent_id} rejected")
        if name == "recheck":
            intent = await asyncio.to_thread(commands.intents.require, str(args["intent_id"]))

            def recheck() -> Recheck:
                held = view.portfolio.held(intent.market_id, intent.outcome)
                return recheck_intent(intent, view.state, threshold, tolerance, held=held)

            check = await inbox.call(recheck)
            return CommandResult(
                check.ok, check.reason, {"edge": check.edge, "overridable": check.overridable}
            )
        if name in _RUN_STATE:
            verb, said_done, said_not = _RUN_STATE[name]
            reason = str(args.get("reason") or "manual kill switch")

            def change() -> bool:
                done = verb(commands, reason)
                view.refresh_state()
                return done

            done = await inbox.call(change)
            return CommandResult(done, said_done if done else said_not)
        if name == "retrain":
            return CommandResult(False, "retraining needs the ML experts, which are not built yet")
        return CommandResult(False, f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
    except KeyError as exc:
        return CommandResult(False, f"{name}: missing argument {exc.args[0]!r}")
    except (IntentError, NoEngine) as exc:
        return CommandResult(False, str(exc))


_RUN_STATE: dict[str, tuple[Callable[[EngineCommands, str], bool], str, str]] = {
    "pause": (lambda c, _: c.pause(), "paused", "not running: nothing to pause"),
    "resume": (lambda c, _: c.resume(), "resumed", "already running"),
    "kill": (lambda c, why: c.kill(why), "kill switch: trading halted", "already halted"),
}


StoredHistory = Callable[[str, float], Sequence[tuple[float, float]]]
"""(market id, before ts) -> stored (ts, mid) points, oldest first."""


class LocalLink:
    """An engine in this process (the console's default)."""

    def __init__(
        self,
        view: EngineView,
        commands: EngineCommands,
        inbox: EngineInbox,
        threshold: float,
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

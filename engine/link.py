"""How a console talks to an engine: the same interface in-process and over the socket.

`EngineLink` is all the UI knows. `LocalLink` serves an engine in this process; the control
socket's client serves one in a daemon. Commands are named (approve, reject, recheck, pause,
resume, kill, retrain) and dispatched by `run_command`, which the control server uses too, so
a keypress, a CLI call and a remote console all take the same path into the engine.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from engine.commands import EngineCommands, NoEngine
from engine.execution.intents import IntentError
from engine.view import CommandResult, MarketDetail, ViewDelta
from engine.view_publisher import EngineView

COMMANDS = ("approve", "reject", "recheck", "pause", "resume", "kill", "retrain")


class EngineLink(Protocol):
    def pull(self, since: int) -> ViewDelta:
        """Changes after `since` (cheap: call it from the UI thread a few times a second)."""
        ...

    async def command(self, name: str, **args: Any) -> CommandResult: ...

    async def detail(self, market_id: str) -> MarketDetail | None: ...

    async def close(self) -> None: ...


def run_command(
    commands: EngineCommands,
    view: EngineView,
    name: str,
    args: dict[str, Any],
    threshold: float,
    tolerance: float,
) -> CommandResult:
    """Carry out one named command; never raises for a bad request, says why instead.

    Blocking (database I/O): call it from a worker thread.
    """
    try:
        if name == "approve":
            intent = commands.approve(str(args["intent_id"]))
            view.refresh_intents()
            return CommandResult(True, f"intent {intent.intent_id} approved")
        if name == "reject":
            reason = str(args.get("reason") or "rejected by operator")
            intent = commands.reject(str(args["intent_id"]), reason)
            view.refresh_intents()
            return CommandResult(True, f"intent {intent.intent_id} rejected")
        if name == "recheck":
            ok, why, edge = view.recheck(str(args["intent_id"]), threshold, tolerance)
            return CommandResult(ok, why, {"edge": edge})
        if name == "pause":
            done = commands.pause()
            view.refresh_state()
            return CommandResult(done, "paused" if done else "not running: nothing to pause")
        if name == "resume":
            done = commands.resume()
            view.refresh_state()
            return CommandResult(done, "resumed" if done else "already running")
        if name == "kill":
            done = commands.kill(str(args.get("reason") or "manual kill switch"))
            view.refresh_state()
            return CommandResult(done, "kill switch: trading halted" if done else "already halted")
        if name == "retrain":
            return CommandResult(False, "retraining needs the ML experts, which are not built yet")
        return CommandResult(False, f"unknown command {name!r}; known: {', '.join(COMMANDS)}")
    except KeyError as exc:
        return CommandResult(False, f"{name}: missing argument {exc.args[0]!r}")
    except (IntentError, NoEngine) as exc:
        return CommandResult(False, str(exc))


class LocalLink:
    """An engine in this process (the console's default)."""

    def __init__(
        self, view: EngineView, commands: EngineCommands, threshold: float, tolerance: float
    ) -> None:
        self.view = view
        self.commands = commands
        self.threshold = threshold
        self.tolerance = tolerance

    def pull(self, since: int) -> ViewDelta:
        return self.view.store.pull(since)

    async def command(self, name: str, **args: Any) -> CommandResult:
        return await asyncio.to_thread(
            run_command, self.commands, self.view, name, args, self.threshold, self.tolerance
        )

    async def detail(self, market_id: str) -> MarketDetail | None:
        return await asyncio.to_thread(self.view.detail, market_id)

    async def close(self) -> None:
        return None

"""The named commands a console sends an engine, and the one place that carries them out.

A keypress, a CLI call through the daemon and a remote console all reach the engine through
`run_command` (by way of `engine.feed.link.LocalLink`), so a command behaves the same
whoever sent it. Nothing here reads or writes the engine's state from the caller's thread:
that is queued to the engine step through its inbox (`engine.run.inbox`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from engine.execution.intents import IntentError
from engine.execution.recheck import Recheck, recheck_intent
from engine.feed.commands import EngineCommands, NoEngine
from engine.feed.publisher import EngineView
from engine.feed.view import CommandResult
from engine.risk.thresholds import EdgeThresholds
from engine.run.inbox import EngineInbox

COMMANDS = ("approve", "reject", "recheck", "pause", "resume", "kill", "retrain")


async def run_command(
    commands: EngineCommands,
    view: EngineView,
    inbox: EngineInbox,
    name: str,
    args: dict[str, Any],
    threshold: EdgeThresholds | float,
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

"""The engine's command API: one set of verbs for the CLI, the console and the control socket.

Intent verbs work on the database, so they behave the same whether or not an engine runs in
this process: an approval is an atomic state change that the engine holding the book then
re-checks and carries out. Run-state verbs (pause, resume, kill) need an engine in-process;
without one they raise `NoEngine`.
"""

from __future__ import annotations

from engine.clock import Clock
from engine.execution.intents import IntentError, IntentStore
from engine.models import IntentState, TradeIntent
from engine.run.run_state import EngineControl


class NoEngine(RuntimeError):
    """A run-state command with no engine in this process to receive it."""


class EngineCommands:
    def __init__(
        self, intents: IntentStore, clock: Clock, control: EngineControl | None = None
    ) -> None:
        self.intents = intents
        self.clock = clock
        self.control = control

    # --- intents ---------------------------------------------------------------------------

    def list_intents(self, include_closed: bool = False, limit: int = 100) -> list[TradeIntent]:
        states = (
            None
            if include_closed
            else [IntentState.PENDING, IntentState.APPROVED, IntentState.SUBMITTED]
        )
        return self.intents.list(states=states, limit=limit)

    def approve(self, intent_id: str, override: str | None = None) -> TradeIntent:
        """PENDING -> APPROVED, atomically; raises `IntentError` saying why not. `override`:
        the failed re-check the person saw and approved anyway (stored with the intent).

        Losing a race (another console or process approved or rejected it first) is an
        error too: the person must know their click did nothing.
        """
        intent = self.intents.require(intent_id)
        if not self.intents.approve(intent.intent_id, self.clock.now(), override):
            raise self._not_pending(intent.intent_id, "approve")
        return self.intents.require(intent.intent_id)

    def reject(self, intent_id: str, reason: str = "rejected by operator") -> TradeIntent:
        intent = self.intents.require(intent_id)
        if not self.intents.reject(intent.intent_id, self.clock.now(), reason):
            raise self._not_pending(intent.intent_id, "reject")
        return self.intents.require(intent.intent_id)

    def _not_pending(self, intent_id: str, verb: str) -> IntentError:
        now = self.intents.require(intent_id)
        return IntentError(
            f"cannot {verb} intent {intent_id}: it is {now.state.value}, not PENDING"
        )

    # --- run state -------------------------------------------------------------------------

    def _control(self) -> EngineControl:
        if self.control is None:
            raise NoEngine("no engine runs in this process")
        return self.control

    def pause(self) -> bool:
        return self._control().pause()

    def resume(self) -> bool:
        return self._control().resume()

    def kill(self, reason: str = "manual kill switch") -> bool:
        return self._control().halt(reason)

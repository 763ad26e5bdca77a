"""Engine run state: running, paused, or halted with the kill switch's reason.

`EngineControl` is changed by the engine step (kill switches, and console commands, which reach
it through the engine's inbox) and read by the runner and the recorder; every check-and-set is
one locked operation, so no change can overwrite another's reason. A halt (kill switch) stops
new orders and intents until a person resumes; a pause is the same without a reason; stale
data only skips trading for as long as it lasts.
"""

from __future__ import annotations

import threading

from engine.models import EngineState

_RUNNING = frozenset({EngineState.RUNNING})
_STARTABLE = frozenset({EngineState.STARTING, EngineState.STOPPED, EngineState.PAUSED})
_RESUMABLE = frozenset({EngineState.PAUSED, EngineState.HALTED})
_NOT_HALTED = frozenset(set(EngineState) - {EngineState.HALTED})


class EngineControl:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = EngineState.STARTING
        self._reason: str | None = None
        self._changed = False

    @property
    def state(self) -> EngineState:
        with self._lock:
            return self._state

    @property
    def reason(self) -> str | None:
        with self._lock:
            return self._reason

    @property
    def trading_allowed(self) -> bool:
        return self.state is EngineState.RUNNING

    def _set(
        self, state: EngineState, reason: str | None, allowed_from: frozenset[EngineState] | None
    ) -> bool:
        """Move to `state` if the current state is one of `allowed_from` (any when None):
        checked and set under one lock, so a pause can never overwrite a halt's reason."""
        with self._lock:
            if allowed_from is not None and self._state not in allowed_from:
                return False
            if self._state is state and self._reason == reason:
                return False
            self._state, self._reason = state, reason
            self._changed = True
            return True

    def start(self) -> None:
        """The run begins: running, unless a kill switch was thrown before it did (a halt
        waits for a person to resume, whenever it came)."""
        self._set(EngineState.RUNNING, None, _STARTABLE)

    def pause(self) -> bool:
        return self._set(EngineState.PAUSED, "paused by operator", _RUNNING)

    def resume(self) -> bool:
        return self._set(EngineState.RUNNING, None, _RESUMABLE)

    def halt(self, reason: str) -> bool:
        return self._set(EngineState.HALTED, reason, _NOT_HALTED)

    def stop(self) -> None:
        self._set(EngineState.STOPPED, None, None)

    def take_changed(self) -> bool:
        """True once after each state change (the runner logs and persists it)."""
        with self._lock:
            changed, self._changed = self._changed, False
            return changed

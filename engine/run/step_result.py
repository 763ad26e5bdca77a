"""What one engine step produced, and what a whole run came to.

Values only, shared by the engine loop that makes them (`engine.run.runner`) and the recorder that
stores them (`engine.storage.recorder`), so neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.decision.cycle import CycleOutcome
from engine.events import SourceEvent
from engine.models import ExecutionReport, Fill
from engine.state.market_state import ApplyResult


@dataclass(slots=True)
class StepResult:
    t: float
    applied: ApplyResult
    settlements: list[Fill] = field(default_factory=list)
    reports: list[ExecutionReport] = field(default_factory=list)
    outcome: CycleOutcome | None = None
    intent_lines: list[str] = field(default_factory=list)
    equity: float = 0.0  # marked at the step's end (the account's day-start and peak marks too)
    events: list[SourceEvent] = field(default_factory=list)  # as polled (for recording)


@dataclass(slots=True)
class RunSummary:
    run_id: str
    cycles: int = 0
    fills: int = 0
    signals: int = 0
    errors: int = 0
    start_ts: float = 0.0
    end_ts: float = 0.0
    equity: float = 0.0
    stopped_by: str = "completed"

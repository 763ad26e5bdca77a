"""The engine loop: time, source, state, cycle, execution, persistence.

Runs on an asyncio loop but keeps it free: every step (poll the source, fold events into the
state, settle resolutions, fill due paper orders, run the decision cycle, write the database)
runs in one worker thread via `asyncio.to_thread`, one step at a time, so the loop only
schedules, waits and answers signals. A stop request is honoured between steps, so shutdown
takes at most one step.

Time: on a simulated clock the loop visits a fixed grid of engine times (every cycle
interval, plus paper-order due times and intent checks) and paces them against wall time by
`speed` (or not at all for `speed=None`, "max"). Results depend only on the grid, never on
how fast the machine is, so a seeded run is reproducible.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field

from engine.approvals import ApprovalProcessor
from engine.clock import Clock, SimClock
from engine.cycle import CycleOutcome, DecisionCycle
from engine.events import SourceEvent
from engine.execution.base import Executor
from engine.execution.portfolio import Portfolio
from engine.market_state import ApplyResult, MarketState
from engine.models import EngineState, ExecutionReport, Fill
from engine.recorder import Recorder
from engine.sources.base import MarketSource, SourceStartError
from engine.view_publisher import EngineView

log = logging.getLogger("polyb0t.engine")


@dataclass(slots=True)
class StepResult:
    t: float
    applied: ApplyResult
    settlements: list[Fill] = field(default_factory=list)
    reports: list[ExecutionReport] = field(default_factory=list)
    outcome: CycleOutcome | None = None
    intent_lines: list[str] = field(default_factory=list)
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


class ErrorBudget:
    """Error-rate kill switch: too many failed steps in a short run of steps halts trading."""

    def __init__(self, window: int = 10, limit: int = 5) -> None:
        self.recent: deque[bool] = deque(maxlen=window)
        self.limit = limit

    def add(self, failed: bool) -> bool:
        self.recent.append(failed)
        return sum(self.recent) >= self.limit


class Engine:
    def __init__(
        self,
        *,
        run_id: str,
        clock: Clock,
        source: MarketSource,
        state: MarketState,
        cycle: DecisionCycle,
        portfolio: Portfolio,
        executor: Executor | None,
        approvals: ApprovalProcessor | None,
        recorder: Recorder,
        interval: float,
        speed: float | None,
        intent_poll_seconds: float = 1.0,
        view: EngineView | None = None,
    ) -> None:
        self.run_id = run_id
        self.clock = clock
        self.source = source
        self.state = state
        self.cycle = cycle
        self.control = cycle.control
        self.portfolio = portfolio
        self.executor = executor
        self.approvals = approvals
        self.recorder = recorder
        self.interval = interval
        self.speed = speed
        self.intent_poll = intent_poll_seconds
        self.errors = ErrorBudget()
        self.view = view
        # Fills land in whichever step processes them, usually one between cycles (paper
        # latency, live polling): the cycle line reports those since the previous line.
        self._fills_unlogged = 0

    # --- lifecycle -------------------------------------------------------------------------

    async def run(
        self,
        stop: asyncio.Event,
        cycles: int | None = None,
        duration: float | None = None,
    ) -> RunSummary:
        summary = RunSummary(run_id=self.run_id)
        try:
            await self.source.start()
        except SourceStartError:  # the run is on record as started: end it, saying why
            summary.start_ts = summary.end_ts = self.clock.now()
            summary.stopped_by = "source failed to start"
            await self._close_records(summary)
            raise
        markets = await asyncio.to_thread(self.source.discover)
        for m in markets:
            self.state.add_market(m)
        start = self.clock.now()
        await asyncio.to_thread(self.recorder.markets, markets, start)
        summary.start_ts = start
        end = start + duration if duration is not None else math.inf
        self.control.start()
        if self.approvals is not None:
            for line in await asyncio.to_thread(self.approvals.prepare, start):
                log.info(line)
        log.info(
            "engine started: run %s, %d markets, source %s, t=%s",
            self.run_id,
            len(markets),
            self.source.name,
            _fmt_ts(start),
        )
        next_cycle = start
        next_intents = start if self.approvals else math.inf
        wall0, sim0 = time.monotonic(), start
        try:
            while not stop.is_set():
                due = self.executor.next_due() if self.executor else None
                t = min(next_cycle, next_intents, due if due is not None else math.inf)
                if t > end or (cycles is not None and summary.cycles >= cycles and due is None):
                    break
                if not await self._pace(t, wall0, sim0, stop):
                    break
                do_cycle = t >= next_cycle and (cycles is None or summary.cycles < cycles)
                step = await self._safe_step(t, do_cycle, summary)
                if do_cycle:
                    next_cycle += self.interval
                    summary.cycles += 1
                if self.approvals and t >= next_intents:
                    next_intents = t + self.intent_poll
                if step is not None:
                    self._account(step, summary)
                self._log_state_change()
            summary.stopped_by = "signal" if stop.is_set() else "completed"
        finally:
            summary.end_ts = self.clock.now()
            summary.equity = self.portfolio.equity(self.cycle.mark)
            self.control.stop()
            if self.view is not None:
                self.view.refresh_state()  # consoles see "stopped", not the last "running"
            await self._close_records(summary)
            await self.source.stop()
            log.info(
                "engine stopped (%s): %d cycles, %d signals, %d fills, equity %.2f",
                summary.stopped_by,
                summary.cycles,
                summary.signals,
                summary.fills,
                summary.equity,
            )
        return summary

    async def _close_records(self, summary: RunSummary) -> None:
        """The run's end on record, however it ended: the intent store, then the run row."""
        if self.approvals is not None:
            await asyncio.to_thread(self.approvals.close)
        await asyncio.to_thread(self.recorder.finish, summary)

    async def _pace(self, t: float, wall0: float, sim0: float, stop: asyncio.Event) -> bool:
        """Wait until engine time `t` is due in wall time; False if asked to stop."""
        if isinstance(self.clock, SimClock):
            if self.speed is not None:
                delay = wall0 + (t - sim0) / self.speed - time.monotonic()
                if delay > 0 and await _wait(stop, delay):
                    return False
            self.clock.set(max(t, self.clock.now()))
            return not stop.is_set()
        delay = t - self.clock.now()
        return not (delay > 0 and await _wait(stop, delay))

    # --- one step, in a worker thread ------------------------------------------------------

    async def _safe_step(self, t: float, do_cycle: bool, summary: RunSummary) -> StepResult | None:
        try:
            step = await asyncio.to_thread(self._step, t, do_cycle)
            self.errors.add(False)
            return step
        except Exception as exc:  # the engine survives a bad step, and says so
            summary.errors += 1
            log.error("step at %s failed: %s: %s", _fmt_ts(t), type(exc).__name__, exc)
            log.debug("step failure", exc_info=True)
            await asyncio.to_thread(
                self.recorder.event, t, "ERROR", "step_failed", f"{type(exc).__name__}: {exc}"
            )
            reason = "error rate: 5 of the last 10 steps failed"
            if self.errors.add(True) and self.control.halt(reason):
                await asyncio.to_thread(self.recorder.event, t, "ERROR", "kill_switch", reason)
            return None

    def _step(self, t: float, do_cycle: bool) -> StepResult:
        events = self.source.poll(t)
        applied = self.state.apply(events)
        step = StepResult(t=t, applied=applied, events=events)
        for err in applied.errors[:5]:
            log.warning("bad source event: %s", err)
        for r in applied.resolved:
            step.settlements.extend(self.portfolio.settle(r.market_id, r.payout_yes, r.ts))
        if self.executor is not None:
            step.reports = self.executor.process_due(t)
        if do_cycle:
            step.outcome = self.cycle.run(t)
        if self.approvals is not None:
            step.intent_lines = self.approvals.process(t)
            step.reports.extend(self.approvals.take_reports())  # live fills, for the record
        self.recorder.step(step, self.cycle, self.portfolio)
        if self.view is not None:
            self.view.publish(t, step.outcome, applied.resolved)
        return step

    def _log_state_change(self) -> None:
        if self.control.take_changed():
            state = self.control.state
            log.log(
                logging.INFO if state is EngineState.RUNNING else logging.WARNING,
                "engine %s%s",
                state.value,
                f": {self.control.reason}" if self.control.reason else "",
            )

    def _account(self, step: StepResult, summary: RunSummary) -> None:
        fills = sum(len(r.fills) for r in step.reports)
        summary.fills += fills
        self._fills_unlogged += fills
        for line in step.intent_lines:
            log.info(line)
        for r in step.applied.resolved:
            log.info("market %s resolved: YES pays %.2f", r.market_id[:10], r.payout_yes)
        o = step.outcome
        if o is None:
            return
        summary.signals += len(o.signals)
        fills, self._fills_unlogged = self._fills_unlogged, 0
        routed = "intents" if self.approvals else "orders"
        log.info(
            "cycle %d t=%s markets=%d eligible=%d signals=%d %s=%d fills=%d "
            "equity=%.2f pnl_today=%+.2f (%.1f ms)%s",
            o.cycle,
            _fmt_ts(o.ts),
            o.markets,
            o.eligible,
            len(o.signals),
            routed,
            o.routed,
            fills,
            o.equity,
            o.pnl_today,
            o.duration_ms,
            f" [no trading: {o.skipped}]" if o.skipped else "",
        )


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to `seconds`; True if the stop event fired first (never busy-polls)."""
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
        return True
    except TimeoutError:
        return False


def _fmt_ts(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))

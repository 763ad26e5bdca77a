"""The engine loop: time, source, state, cycle, execution, persistence.

Runs on an asyncio loop but keeps it free: every step (poll the source, fold events into the
state, settle resolutions, fill due paper orders, run the decision cycle, write the database)
runs in one worker thread via `asyncio.to_thread`, one step at a time, so the loop only
schedules, waits and answers signals. The headless harness (`inline_steps`: a daemon on a
simulated clock at `--speed max`, where nothing on the loop waits for it but the control
socket and signals) runs the same step on the loop itself and yields after each. A stop
request is honoured between steps, so shutdown takes at most one step.

The step is the one owner of the engine's state. Requests from consoles and the control socket
come through the engine's inbox (`engine.run.inbox`) and are carried out at the start of a step,
or at once when the loop is only waiting for the next one; exchange calls run in the live
worker's thread and their results are applied by the step (`engine.execution.approvals`).

Time: on a simulated clock the loop visits a fixed grid of engine times (every cycle
interval, plus paper-order due times and intent checks) and paces them against wall time by
`speed` (or not at all for `speed=None`, "max"). Results depend only on the grid, never on
how fast the machine is, so a seeded run is reproducible.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import time

from engine.clock import Clock, SimClock
from engine.decision.cycle import DecisionCycle
from engine.execution.approvals import ApprovalProcessor
from engine.execution.base import Executor
from engine.execution.portfolio import Portfolio
from engine.feed.publisher import EngineView
from engine.models import EngineState
from engine.run.inbox import EngineInbox
from engine.run.step_errors import ErrorBudget, StepErrorLog
from engine.run.step_result import RunSummary, StepResult
from engine.sources.base import FiniteSource, MarketSource, SourceStartError
from engine.state.market_state import ApplyResult, MarketState
from engine.storage.recorder import Recorder

log = logging.getLogger("polyb0t.engine")


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
        inbox: EngineInbox | None = None,
        error_budget: ErrorBudget | None = None,
        freeze_gc: bool = False,
        inline_steps: bool = False,
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
        self.errors = error_budget or ErrorBudget()
        self.step_errors = StepErrorLog(log)
        self.view = view
        self.inbox = inbox or EngineInbox()
        # A long-running process (the daemon, the console) moves what start-up built out of
        # the cyclic collector's reach: its full collections then scan only what the run
        # creates, instead of pausing a step for tens of ms at 10,000 markets.
        self.freeze_gc = freeze_gc
        # The headless harness (`--daemon --speed max` on a simulated clock): nothing on this
        # loop needs it between steps but the control socket and signals, so a step runs on
        # the loop itself and yields after it, instead of hopping to a worker thread and back
        # (about 0.1 ms a step, and the GIL handed over twice).
        self.inline_steps = inline_steps
        self._wake: asyncio.Event | None = None
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
        """The whole run: `open`, steps on the time grid until the end, `close`."""
        summary = RunSummary(run_id=self.run_id)
        start = await self.open(summary)
        end = start + duration if duration is not None else math.inf
        source_end = self.source.ends_at() if isinstance(self.source, FiniteSource) else math.inf
        next_cycle = start
        next_intents = start if self.approvals else math.inf
        wall0, sim0 = time.monotonic(), start
        try:
            while not stop.is_set():
                due = self.executor.next_due() if self.executor else None
                t = min(next_cycle, next_intents, due if due is not None else math.inf)
                if t > source_end:
                    summary.stopped_by = "end of recording"
                    break
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
            if stop.is_set():
                summary.stopped_by = "signal"
        finally:
            await self.close(summary)
        return summary

    async def open(self, summary: RunSummary | None = None) -> float:
        """Everything before the first step: the run goes on record, the source starts and
        lists its markets, the live account is reconciled; the engine time it starts at.
        A source that refuses to start ends the run on record and raises."""
        summary = summary or RunSummary(run_id=self.run_id)
        self._wake = self.inbox.open(asyncio.get_running_loop())
        for line in await asyncio.to_thread(self.recorder.start, self.clock.now()):
            log.warning(line)
        try:
            await self.source.start()
        except SourceStartError:  # the run is on record as started: end it, saying why
            summary.start_ts = summary.end_ts = self.clock.now()
            summary.stopped_by = "source failed to start"
            self.inbox.close()
            await self._close_records(summary)
            raise
        markets = await asyncio.to_thread(self.source.discover)
        for m in markets:
            self.state.add_market(m)
        start = self.clock.now()
        await asyncio.to_thread(self.recorder.markets, markets, start)
        summary.start_ts = start
        self.control.start()
        if self.approvals is not None:
            for line in await asyncio.to_thread(self.approvals.prepare, start):
                log.info(line)
            cooldown = self.cycle.risk.risk.cooldown_seconds
            acted = await asyncio.to_thread(self.approvals.recent_actions, start - cooldown)
            self.cycle.last_action.update(acted)
        if self.freeze_gc:
            gc.collect()
            gc.freeze()
        log.info(
            "engine started: run %s, %d markets, source %s, t=%s",
            self.run_id,
            len(markets),
            self.source.name,
            _fmt_ts(start),
        )
        return start

    async def close(self, summary: RunSummary) -> None:
        """The run's end, however it came: consoles see it stopped, its unsent intents
        expire, the run is recorded as ended, the source stops."""
        summary.end_ts = self.clock.now()
        self.control.stop()
        if self.view is not None:
            self.view.refresh_state()  # consoles see "stopped", not the last "running"
        self.inbox.close()  # no step any more: requests are answered directly
        for line in self.step_errors.summary():
            log.error(line)
        await self._close_records(summary)
        summary.equity = self.portfolio.equity(self.cycle.mark)  # last live fills included
        if self.view is not None:
            self.view.refresh_intents()  # the run's unsent intents expired with it
        await self.source.stop()
        log.info(
            "engine stopped (%s): %d cycles, %d signals, %d fills, equity %.2f",
            summary.stopped_by,
            summary.cycles,
            summary.signals,
            summary.fills,
            summary.equity,
        )

    async def _close_records(self, summary: RunSummary) -> None:
        """The run's end on record, however it ended: its unsent intents, the positions of
        live orders that ended meanwhile, then the run row."""
        if self.approvals is not None:
            for line in await asyncio.to_thread(self.approvals.close, summary.end_ts):
                log.info(line)
            reports = self.approvals.take_reports()
            if reports:
                last = StepResult(t=summary.end_ts, applied=ApplyResult.empty(), reports=reports)
                last.equity = self.cycle.mark_equity(summary.end_ts)
                await asyncio.to_thread(self.recorder.step, last, self.cycle, self.portfolio)
                self._account(last, summary)
        await asyncio.to_thread(self.recorder.finish, summary)

    async def _pace(self, t: float, wall0: float, sim0: float, stop: asyncio.Event) -> bool:
        """Wait until engine time `t` is due in wall time; False if asked to stop. Requests
        arriving meanwhile (console commands, queries) are served while waiting."""
        sim = isinstance(self.clock, SimClock)
        while True:
            if sim:
                if self.speed is None:
                    break
                delay = wall0 + (t - sim0) / self.speed - time.monotonic()
            else:
                delay = t - self.clock.now()
            if delay <= 0:
                break
            woke = await _wait(stop, delay, self._wake)
            if stop.is_set():
                return False
            if woke and self._wake is not None:
                self._wake.clear()
                await asyncio.to_thread(self.inbox.serve)
        if sim:
            assert isinstance(self.clock, SimClock)
            self.clock.set(max(t, self.clock.now()))
        return not stop.is_set()

    # --- one step, in a worker thread ------------------------------------------------------

    async def _safe_step(self, t: float, do_cycle: bool, summary: RunSummary) -> StepResult | None:
        try:
            if self.inline_steps:
                step = self.step(t, do_cycle)
                await asyncio.sleep(0)  # the control socket and signals get their turn
            else:
                step = await asyncio.to_thread(self.step, t, do_cycle)
            self.errors.add(False)
            return step
        except Exception as exc:  # the engine survives a bad step, and says so
            summary.errors += 1
            failure = self.step_errors.failure(exc, _fmt_ts(t))
            if failure.repeats == 1 or failure.with_traceback:
                await self._record_event(t, "step_failed", f"{type(exc).__name__}: {exc}")
            reason = self.errors.reason
            if self.errors.add(True) and self.control.halt(reason):
                await self._record_event(t, "kill_switch", reason)
            return None

    async def _record_event(self, t: float, kind: str, message: str) -> None:
        """An error worth keeping, on record if the database takes it: the failure being
        recorded may be the database's own, and it must not end the run."""
        try:
            await asyncio.to_thread(self.recorder.event, t, "ERROR", kind, message)
        except Exception as exc:
            log.error("could not record %s (%s): %s", kind, message, exc)

    def step(self, t: float, do_cycle: bool) -> StepResult:
        """One step at engine time `t` (a cycle too if `do_cycle`); the engine's state is
        changed here and only here. Called by `run` in a worker thread, one at a time."""
        self.inbox.serve()  # requests queued since the last step see the state between steps
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
        step.equity = self.cycle.mark_equity(t)
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
        if not log.isEnabledFor(logging.INFO):  # the harness: no line to format per cycle
            return
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


async def _wait(stop: asyncio.Event, seconds: float, wake: asyncio.Event | None = None) -> bool:
    """Sleep up to `seconds` or until `stop` (or `wake`) fires; True if one of them did
    (never busy-polls)."""
    waits = [asyncio.ensure_future(stop.wait())]
    if wake is not None:
        waits.append(asyncio.ensure_future(wake.wait()))
    try:
        done, _ = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
    return bool(done)


def _fmt_ts(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))

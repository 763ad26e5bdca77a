"""Turning each engine step into one database transaction.

Everything a step produced (signals, executed orders, fills, settlements, changed positions,
engine state, the day's PnL, snapshots when due, counts of rejections by rule) becomes one
`CycleRecord`, which the writer thread (`engine.storage.writer`) stores in one transaction, so
the step never waits for the database. A crash loses at most the steps still queued; a
restarted engine reads a consistent database. Live orders are the exception
that proves the rule: what the exchange did is written by the live executor together with
the intent's final state, so the step only writes the positions they changed.

A source that knows the truth (`TruthSource`: the simulator) is asked for it every
`truth_interval` seconds of engine time, at a cycle, and the values go from the source into
the step's record and nowhere else: the engine step, its state and the cycle never hold them.
"""

from __future__ import annotations

import logging
import os
import socket
import time

import numpy as np

from engine.clock import day_start
from engine.decision.cycle import DecisionCycle
from engine.events import MarketListed, SourceEvent
from engine.execution.portfolio import Portfolio
from engine.models import Fill, Market, Outcome, Position, Side, Signal
from engine.run.run_state import EngineControl
from engine.run.step_result import RunSummary, StepResult
from engine.sources.base import TruthSource
from engine.sources.event_codec import encode_event
from engine.state.market_state import MarketState
from engine.storage import (
    CycleRecord,
    DailyPnl,
    EngineStatus,
    EventRecord,
    RecordedEvent,
    RunInfo,
    RunStart,
    Store,
    TruthSample,
)
from engine.storage.records import utc_day
from engine.storage.snapshots import SnapshotCompactor
from engine.storage.writer import RecordingFailed, RecordWriter

log = logging.getLogger("polyb0t.engine")


class Recorder:
    def __init__(
        self,
        store: Store,
        *,
        run_id: str,
        state: MarketState,
        snapshot_interval: float,
        control: EngineControl,
        repeat_signal_seconds: float = 0.0,
        record: bool = False,
        run: RunStart | None = None,
        depth_levels: int = 3,
        snapshot_max_interval: float = 0.0,
        truth: TruthSource | None = None,
        truth_interval: float = 300.0,
    ) -> None:
        self.store = store
        # Steps' records are written by a thread of their own once the run has started (see
        # `engine.storage.writer`); before that, and for tests that never start it, at once.
        self.writer = RecordWriter(store)
        self.run_id = run_id
        self.run = run or RunStart(mode="paper", source="sim")
        self.depth_levels = depth_levels
        self.state = state
        self.snapshot_interval = snapshot_interval
        # Only markets whose top of book changed, or not stored for `snapshot_max_interval`.
        self.snapshots = SnapshotCompactor(state, depth_levels, snapshot_max_interval)
        self.control = control
        self._next_snapshot = -np.inf
        self._day = float("nan")
        self._day_realized0 = 0.0
        self._day_fees0 = 0.0
        self._day_fills = 0
        self._last_skip: str | None = None
        self._last_state: str | None = None
        self.repeat_signal_seconds = repeat_signal_seconds
        self.record = record
        self._last_rejection: dict[tuple[str, Outcome, Side, str], float] = {}
        # The truth, from a source that has it, every `truth_interval` from the first cycle.
        self.truth = truth
        self.truth_interval = truth_interval
        self._truth_origin: float | None = None
        self._next_truth = -np.inf

    # --- called by the engine --------------------------------------------------------------

    def start(self, ts: float) -> list[str]:
        """The run goes on record when its engine starts (not when it is built: a start that
        fails before, such as a port in use, records nothing). Runs left `running` by a
        process that died are marked crashed first. Lines saying what was found."""
        closed = self.store.end_crashed_runs(process_gone)
        r = self.run
        self.store.start_run(
            run_id=self.run_id,
            started_ts=ts,
            mode=r.mode,
            source=r.source,
            seed=r.seed,
            settings_json=r.settings_json,
            host=socket.gethostname(),
            pid=os.getpid(),
        )
        self.writer.start()
        return [
            f"run {c.run_id} (pid {c.pid}) was left running by a process that died: marked "
            f"crashed, last seen {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(c.ended_ts or 0))}"
            for c in closed
        ]

    def markets(self, markets: list[Market], ts: float) -> None:
        """The markets discovered at start (recorded as listings, so a replay has them)."""
        if not markets:
            return
        rec = CycleRecord(run_id=self.run_id, ts=ts, markets=list(markets))
        if self.record:
            rec.recorded = _encode([MarketListed(m, ts) for m in markets])
        self.writer.submit(rec)

    def event(self, ts: float, level: str, kind: str, message: str) -> None:
        self.writer.submit(
            CycleRecord(run_id=self.run_id, ts=ts, events=[EventRecord(ts, level, kind, message)])
        )

    def step(self, step: StepResult, cycle: DecisionCycle, portfolio: Portfolio) -> None:
        t = step.t
        rec = CycleRecord(run_id=self.run_id, ts=t)
        fills: list[Fill] = [f for r in step.reports for f in r.fills]
        # Live orders are already stored with their intents' final states (one transaction
        # with what the exchange did); only their positions are this step's to write.
        rec.orders = [r for r in step.reports if not r.stored]
        rec.fills = [f for r in rec.orders for f in r.fills] + step.settlements
        rec.positions = self._changed_positions(fills + step.settlements, portfolio)
        rec.events = self._events(step)
        if self.record:
            rec.recorded = _encode(step.events)
        if step.outcome is not None:
            rec.signals = self._signals_to_store(step.outcome.signals, t)
            rec.rejections = _rejections_by_rule(step.outcome.signals)
        # Listings and resolutions go in the step's one transaction (a resolved `Market`
        # already carries its payout: `MarketState` set it).
        rec.markets = list(step.applied.listed) + [
            m for r in step.applied.resolved if (m := self.state.market(r.market_id)) is not None
        ]
        if t >= self._next_snapshot and step.outcome is not None:
            rec.snapshots = self.snapshots.take(t)
            self._next_snapshot = t + self.snapshot_interval
        if self.truth is not None and t >= self._next_truth and step.outcome is not None:
            rec.truth = self._truth_sample(self.truth, t)
        equity = step.equity  # marked by the step: the recorder only reads the account
        rec.state = EngineStatus(
            state=self.control.state.value,
            cash=portfolio.cash,
            equity=equity,
            peak_equity=cycle.marks.peak_equity,
            exposure=portfolio.exposure,
            cycle=cycle.count,
            updated_ts=t,
            reason=self.control.reason,
            pid=os.getpid(),
        )
        rec.daily_pnl = self._daily(t, equity, portfolio, cycle, len(fills))
        self.writer.submit(rec)

    def flush(self) -> None:
        """Wait until every step so far is in the database."""
        self.writer.flush()

    def finish(self, summary: RunSummary) -> None:
        try:
            self.writer.close()  # every queued step first, then the run's end
        except RecordingFailed as exc:
            log.error("the run's last steps were not all stored: %s", exc)
        self.store.end_run(self.run_id, summary.stopped_by, summary.end_ts)
        status = self.store.engine_state(self.run_id)
        if status is not None:
            status.state = "stopped"
            status.reason = f"run ended ({summary.stopped_by})"
            status.updated_ts = summary.end_ts
            self.store.set_engine_state(self.run_id, status)

    # --- pieces ----------------------------------------------------------------------------

    def _truth_sample(self, source: TruthSource, t: float) -> TruthSample:
        """The source's truth now; the next one is due at the next point of a grid of
        `truth_interval` from the first (engine times, so a seeded run stores the same)."""
        if self._truth_origin is None:
            self._truth_origin = t
        k = np.floor((t - self._truth_origin) / self.truth_interval) + 1.0
        self._next_truth = self._truth_origin + k * self.truth_interval
        ids, values = source.truth_at(t)
        return TruthSample(t, tuple(ids), np.asarray(values, dtype=np.float64).tolist())

    def _signals_to_store(self, signals: list[Signal], t: float) -> list[Signal]:
        """Every accepted signal; a rejected one unless it repeats a recent identical one."""
        out = []
        for s in signals:
            if s.decision == "rejected" and self.repeat_signal_seconds > 0:
                key = (s.market_id, s.outcome, s.side, _rule(s))
                last = self._last_rejection.get(key)
                if last is not None and t - last < self.repeat_signal_seconds:
                    continue
                self._last_rejection[key] = t
            out.append(s)
        return out

    @staticmethod
    def _changed_positions(fills: list[Fill], portfolio: Portfolio) -> list[Position]:
        keys = {(f.market_id, f.outcome) for f in fills} | portfolio.take_adopted()
        out = []
        for key in sorted(keys):
            pos = portfolio.positions.get(key)
            if pos is None:  # closed: keep the row, at size 0, with its realized PnL
                market_id, outcome = key
                pos = Position(
                    market_id,
                    Outcome(outcome),
                    0.0,
                    0.0,
                    realized_pnl=portfolio.closed_realized.get(key, 0.0),
                )
            out.append(pos)
        return out

    def _events(self, step: StepResult) -> list[EventRecord]:
        t = step.t
        ev = [EventRecord(t, "WARNING", "bad_event", e) for e in step.applied.errors[:20]]
        ev += [EventRecord(t, "INFO", "intent", line) for line in step.intent_lines]
        ev += [
            EventRecord(
                t, "INFO", "resolution", f"{r.market_id} resolved, YES pays {r.payout_yes:g}"
            )
            for r in step.applied.resolved
        ]
        o = step.outcome
        if o is not None:
            if o.halted:
                ev.append(EventRecord(t, "ERROR", "kill_switch", o.halted))
            if o.skipped != self._last_skip:
                msg = f"trading skipped: {o.skipped}" if o.skipped else "trading resumed"
                ev.append(EventRecord(t, "WARNING" if o.skipped else "INFO", "trading", msg))
                self._last_skip = o.skipped
        state = self.control.state.value
        if state != self._last_state:
            ev.append(EventRecord(t, "INFO", "engine_state", f"engine {state}"))
            self._last_state = state
        return ev

    def _daily(
        self, t: float, equity: float, pf: Portfolio, cycle: DecisionCycle, fills: int
    ) -> DailyPnl:
        d = day_start(t)
        if d != self._day:
            self._day = d
            self._day_realized0 = pf.realized_pnl
            self._day_fees0 = pf.fees_paid
            self._day_fills = 0
        self._day_fills += fills
        return DailyPnl(
            day=utc_day(t),
            start_equity=cycle.marks.day_start_equity,
            end_equity=equity,
            peak_equity=cycle.marks.peak_equity,
            realized_pnl=pf.realized_pnl - self._day_realized0,
            unrealized_pnl=pf.unrealized_pnl(cycle.mark),
            fees=pf.fees_paid - self._day_fees0,
            fills=self._day_fills,
        )


def _rule(signal: Signal) -> str:
    return (signal.reason or "").split(":", 1)[0] or "unknown"


def _rejections_by_rule(signals: list[Signal]) -> dict[str, int]:
    """Every rejection of the cycle counted by rule, stored or not as a signal row."""
    out: dict[str, int] = {}
    for s in signals:
        if s.decision == "rejected":
            rule = _rule(s)
            out[rule] = out.get(rule, 0) + 1
    return out


def process_gone(run: RunInfo) -> bool:
    """Whether the process that ran `run` is gone: on this host, its pid no longer runs (a
    run of another host is never judged from here; one recorded without a host predates
    this check and cannot be running any more)."""
    if run.host is None:
        return True
    if run.host != socket.gethostname() or run.pid is None:
        return False
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, under another user
        return False
    return False


def _encode(events: list[SourceEvent]) -> list[RecordedEvent]:
    out = []
    for ev in events:
        kind, payload = encode_event(ev)
        out.append(RecordedEvent(ev.ts, kind, payload))
    return out

"""Carrying approved intents out, and expiring the ones nobody answered.

Approval is only a state change (from the CLI, the console, or another process); the engine
that owns the live book does the execution, so every approval is re-checked against the
current book, fee included, before anything is sent (`engine.execution.recheck`). An approved
intent whose edge is gone or whose price moved past the tolerance fails with that reason
instead of trading.

At most once: the APPROVED -> SUBMITTED / EXECUTED_DRYRUN step is a conditional update in
the database; whoever loses that race does nothing.

Real orders go through the live worker (`engine.execution.live_worker`: the CLOB executor in a
thread of its own, so no exchange call ever runs inside the engine step), and only when dry run
is off; without one, an approval that passes its re-check fails with "no live executor
configured" rather than pretending to trade.

Intents belong to the run that sized them: only this run's approved intents are carried out,
and the run's end expires those never sent. A person may override a failed re-check when only
the price or the edge moved; the override is stored with the intent at approval.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from engine.execution.intents import IntentStore
from engine.execution.live_account import BookedAccount, apply_all
from engine.execution.portfolio import Portfolio
from engine.execution.recheck import recheck_intent
from engine.models import ExecutionReport, IntentState, TradeIntent
from engine.risk.thresholds import EdgeThresholds
from engine.run.run_state import EngineControl
from engine.state.market_state import MarketState

if TYPE_CHECKING:  # the worker pulls in the CLOB client, needed only for real orders
    from engine.execution.live_worker import LiveWorker

log = logging.getLogger("polyb0t.live")

RUN_ENDED = "its run ended before it was sent"


class ApprovalProcessor:
    """The engine step's side of live intents: this run's approved intents are re-checked
    against the book the step owns and handed to the live worker, whose results (fills,
    the account as the exchange sees it) are applied to the books here, in the step."""

    def __init__(
        self,
        store: IntentStore,
        state: MarketState,
        threshold: EdgeThresholds | float,
        tolerance: float,
        expiry_seconds: float,
        dry_run: bool,
        executor: LiveWorker | None = None,
        *,
        run_id: str,
        portfolio: Portfolio,
        control: EngineControl | None = None,
    ) -> None:
        self.store = store
        self.state = state
        self.threshold = threshold
        self.tolerance = tolerance
        self.expiry = expiry_seconds
        self.dry_run = dry_run
        self.worker = executor
        self.run_id = run_id
        self.portfolio = portfolio
        self.control = control
        self.account = BookedAccount(portfolio, store, on_refused=self._books_disagree)
        self._reports: list[ExecutionReport] = []

    @property
    def sends(self) -> bool:
        return self.worker is not None and not self.dry_run

    def prepare(self, now: float) -> list[str]:
        """Before the first cycle: intents of runs that ended without sending them expire
        (a crash never ran their run's end); then connect and reconcile the live account
        (cash, orders, tokens held), so the first intents are sized against it. Best
        effort: an exchange out of reach is tried again by later polls."""
        lines = [
            f"intent {i} expired: {RUN_ENDED}"
            for i in self.store.expire_unsent_of_ended_runs(now, RUN_ENDED)
        ]
        if self.worker is None or not self.sends:
            return lines
        return lines + self.worker.prepare(now) + self._take_results()

    def recent_actions(self, since_ts: float) -> dict[str, float]:
        """When each market last had an intent proposed or rejected (any run), for the
        cooldown rule: a restart does not re-propose at once what a person just refused."""
        return self.store.last_actions(since_ts)

    def process(self, now: float) -> list[str]:
        """Expire stale intents, ask for a poll of submitted ones, re-check and hand over
        this run's approved ones, and apply what the worker has learnt; log lines."""
        lines = [f"intent {i} expired" for i in self.store.expire_due(now)]
        if self.worker is not None and self.sends:
            self.worker.poll()
        for intent in self.store.list(states=[IntentState.APPROVED], run_id=self.run_id):
            if self.worker is not None and self.worker.busy(intent.intent_id):
                continue
            lines.append(self._execute(intent, now))
        return lines + self._take_results()

    def take_reports(self) -> list[ExecutionReport]:
        """Live orders that ended since the last call (none in dry run); already stored."""
        out, self._reports = self._reports, []
        return out

    def close(self, now: float) -> list[str]:
        """The run ends: stop the worker and book what it finished, then expire this run's
        intents that were never sent (a later run must not carry out what this one sized,
        against its own account). Reports of orders that ended wait in `take_reports`."""
        lines = []
        if self.worker is not None:
            self.worker.close()
            lines += self._take_results()  # what it finished meanwhile goes on the books
        unsent = [IntentState.PENDING, IntentState.APPROVED]
        for intent in self.store.list(states=unsent, run_id=self.run_id, limit=None):
            if self.store.transition(intent.intent_id, unsent, IntentState.EXPIRED, now, RUN_ENDED):
                lines.append(f"intent {intent.intent_id} expired: {RUN_ENDED}")
        return lines

    def _take_results(self) -> list[str]:
        if self.worker is None:
            return []
        out = self.worker.drain()
        self._reports.extend(out.reports)
        return out.lines + apply_all(self.account, out.effects)

    def _books_disagree(self, why: str) -> None:
        """A fill the exchange made that the books refuse: trading on books that no longer
        match the account would size every later order wrong, so trading halts until a
        person has looked, and the positions held are read again."""
        log.error(why)
        if self.control is not None:
            self.control.halt(f"books disagree with the exchange: {why}")
        if self.worker is not None:
            self.worker.read_holdings_soon()

    def _execute(self, intent: TradeIntent, now: float) -> str:
        iid = intent.intent_id
        approved_at = intent.updated_ts or intent.created_ts
        if now - approved_at > self.expiry:
            self.store.transition(
                iid,
                IntentState.APPROVED,
                IntentState.EXPIRED,
                now,
                reason="approved but not executed in time",
            )
            return f"intent {iid} expired after approval"
        held = self.portfolio.held(intent.market_id, intent.outcome)
        check = recheck_intent(intent, self.state, self.threshold, self.tolerance, held=held)
        said = f"edge {check.edge:.3f}"
        if not check.ok:
            if not (intent.override and check.overridable):
                self.store.transition(
                    iid,
                    IntentState.APPROVED,
                    IntentState.FAILED,
                    now,
                    reason=f"re-check at execution: {check.reason}",
                )
                return f"intent {iid} failed re-check: {check.reason}"
            said = f"re-check failed ({check.reason}), overridden at approval"
        if self.dry_run:
            if self.store.mark_dryrun(iid, now):
                return f"intent {iid} executed (dry run, nothing sent), {said}"
            return f"intent {iid} was taken by another process"
        if self.worker is not None:
            self.worker.execute(intent)
            return f"intent {iid} passed its re-check ({said}): sending"
        self.store.transition(
            iid,
            IntentState.APPROVED,
            IntentState.FAILED,
            now,
            reason="no live executor configured",
        )
        return f"intent {iid} failed: no live executor configured"

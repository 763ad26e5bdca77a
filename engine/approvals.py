"""Carrying approved intents out, and expiring the ones nobody answered.

Approval is only a state change (from the CLI, the console, or another process); the engine
that owns the live book does the execution, so every approval is re-checked against the
current book, fee included, before anything is sent. An approved intent whose edge is gone
or whose price moved past the tolerance fails with that reason instead of trading.

At most once: the APPROVED -> SUBMITTED / EXECUTED_DRYRUN step is a conditional update in
the database; whoever loses that race does nothing.

Real orders go through a `LiveExecutor` (`engine.execution.clob_executor.ClobExecutor`), and
only when dry run is off; without one, an approval that passes its re-check fails with "no
live executor configured" rather than pretending to trade.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from engine.book import walk
from engine.execution.intents import IntentStore
from engine.market_state import MarketState
from engine.models import ExecutionReport, IntentState, Side, TradeIntent


@dataclass(slots=True, frozen=True)
class Recheck:
    ok: bool
    reason: str
    edge: float


def recheck_intent(
    intent: TradeIntent, state: MarketState, threshold: float, tolerance: float
) -> Recheck:
    """Is the idea still good at today's book, for its full size, within the price tolerance?"""
    m = state.market(intent.market_id)
    if m is None:
        return Recheck(False, "market unknown to the engine", float("nan"))
    if m.resolved or not m.accepting_orders:
        return Recheck(False, "market no longer accepting orders", float("nan"))
    row = state.row(intent.market_id)
    if row is not None and not state.trusted[row]:  # a feed gap, a stall, a silent connection
        return Recheck(False, "book not trusted: its feed has a gap or went silent", float("nan"))
    prices, sizes = state.ladder(intent.market_id, intent.outcome, intent.side)
    buy = intent.side is Side.BUY
    limit = intent.limit_price + tolerance if buy else intent.limit_price - tolerance
    w = walk(prices, sizes, intent.size, intent.side, m.fee_rate, limit=limit)
    if w.filled + 1e-9 < intent.size:
        return Recheck(
            False,
            f"price moved: only {w.filled:.2f} of {intent.size:.2f} shares within {limit:.3f}",
            float("nan"),
        )
    if buy:
        edge = intent.p_model - w.cost_per_share
    else:
        edge = (w.notional - w.fee) / w.filled - intent.p_model
    if edge < threshold:
        return Recheck(False, f"edge gone: {edge:.3f} < {threshold:.3f} after fees", edge)
    return Recheck(True, "ok", edge)


class LiveExecutor(Protocol):
    """Sends approved intents to the exchange (called from the engine's worker thread)."""

    def poll(self, now: float) -> list[str]:
        """Connect if need be and resolve SUBMITTED intents; log lines."""
        ...

    def execute(self, intent: TradeIntent, now: float) -> str:
        """Send one re-checked APPROVED intent, at most once; a log line."""
        ...

    def take_reports(self) -> list[ExecutionReport]:
        """Orders that ended since the last call, fills included, for the recorder."""
        ...

    def close(self) -> None:
        """Stop the heartbeat and close connections (engine shutdown)."""
        ...


class ApprovalProcessor:
    def __init__(
        self,
        store: IntentStore,
        state: MarketState,
        threshold: float,
        tolerance: float,
        expiry_seconds: float,
        dry_run: bool,
        executor: LiveExecutor | None = None,
    ) -> None:
        self.store = store
        self.state = state
        self.threshold = threshold
        self.tolerance = tolerance
        self.expiry = expiry_seconds
        self.dry_run = dry_run
        self.executor = executor

    def prepare(self, now: float) -> list[str]:
        """Before the first cycle: connect and reconcile the live account (cash, orders,
        tokens held), so the first intents are sized against it. Best effort: an exchange
        out of reach is tried again by `process`."""
        if self.executor is None or self.dry_run:
            return []
        return self.executor.poll(now)

    def process(self, now: float) -> list[str]:
        """Expire stale intents, resolve submitted ones, execute approved ones; log lines."""
        lines = [f"intent {i} expired" for i in self.store.expire_due(now)]
        if self.executor is not None and not self.dry_run:
            lines.extend(self.executor.poll(now))
        for intent in self.store.list(states=[IntentState.APPROVED]):
            lines.append(self._execute(intent, now))
        return lines

    def take_reports(self) -> list[ExecutionReport]:
        """Live orders that ended since the last call (none in dry run)."""
        return self.executor.take_reports() if self.executor is not None else []

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()

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
        check = recheck_intent(intent, self.state, self.threshold, self.tolerance)
        if not check.ok:
            self.store.transition(
                iid,
                IntentState.APPROVED,
                IntentState.FAILED,
                now,
                reason=f"re-check at execution: {check.reason}",
            )
            return f"intent {iid} failed re-check: {check.reason}"
        if self.dry_run:
            if self.store.mark_dryrun(iid, now):
                return f"intent {iid} executed (dry run, nothing sent), edge {check.edge:.3f}"
            return f"intent {iid} was taken by another process"
        if self.executor is not None:
            return self.executor.execute(intent, now)
        self.store.transition(
            iid,
            IntentState.APPROVED,
            IntentState.FAILED,
            now,
            reason="no live executor configured",
        )
        return f"intent {iid} failed: no live executor configured"

"""The intent store: live trade intents and their state machine, kept in the database.

Several processes act on the same intents (the engine submits, a person approves from the
TUI, the CLI or a second terminal), so every state change is one conditional statement,
`UPDATE ... WHERE intent_id = :id AND state IN (:expected)`, and succeeds only if it changed
exactly one row. Whoever loses a race gets False, never a second approval or a second
submission; no lock is held across a read and a write. The database (SQLite's write lock,
PostgreSQL's row lock and re-check under READ COMMITTED) is what makes this safe.

Ids shown to people are long; every method that takes an id also accepts a unique prefix of
at least `MIN_PREFIX` characters, as git does.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, func, insert, select, update

from engine.clock import to_datetime
from engine.models import INTENT_TRANSITIONS, ExecutionReport, IntentState, TradeIntent
from engine.redact import Redactor
from engine.storage import rows
from engine.storage.database import Database
from engine.storage.sql import upsert
from engine.storage.tables import FillRow, IntentRow, OrderRow, RunRow, table_of

MIN_PREFIX = 6
OPEN_STATES = frozenset({IntentState.PENDING, IntentState.APPROVED, IntentState.SUBMITTED})
EXPIRED_REASON = "expired before approval"

_INTENTS = table_of(IntentRow)
_ORDERS = table_of(OrderRow)
_RUNS = table_of(RunRow)
_FILLS = table_of(FillRow)


class IntentError(Exception):
    """Base of the intent store's errors; messages name the intent and its state."""


class IntentNotFound(IntentError, LookupError):
    """No intent has this id, or a prefix matches none or several."""


class IllegalTransition(IntentError):
    """The requested move is not in `engine.models.INTENT_TRANSITIONS`."""


class IntentExpired(IntentError):
    """Approval came after the intent's deadline; the intent is now EXPIRED."""


@dataclass(slots=True, frozen=True)
class IntentRecord:
    """An intent with the bookkeeping `TradeIntent` does not carry."""

    intent: TradeIntent
    run_id: str
    order_id: str | None
    executed_ts: float | None


def _states(states: IntentState | Iterable[IntentState]) -> frozenset[IntentState]:
    if isinstance(states, IntentState):
        return frozenset({states})
    return frozenset(states)


def _store_execution(
    conn: Connection, report: ExecutionReport, run_id: str, clean: Redactor
) -> None:
    order = rows.order_row(report, run_id)
    order["reason"] = clean.optional(order["reason"])
    upsert(conn, _ORDERS, [order], ["order_id"])
    if report.fills:
        conn.execute(insert(_FILLS), [rows.fill_row(f, run_id) for f in report.fills])


def _when(ts: float) -> str:
    return to_datetime(ts).strftime("%Y-%m-%d %H:%M:%S UTC")


class IntentStore:
    """Create, look up and move intents; safe to use from several threads and processes."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._clean = db.redact  # reasons quote exceptions, which may quote a secret

    # --- create and read ---------------------------------------------------------------------

    def create(self, intents: Sequence[TradeIntent], run_id: str) -> None:
        """Store new intents (normally PENDING) in one transaction."""
        if not intents:
            return
        batch = [rows.intent_row(i, run_id) for i in intents]
        for row in batch:
            row["reason"] = self._clean.optional(row["reason"])
        with self._db.write() as conn:
            conn.execute(insert(_INTENTS), batch)

    def get(self, intent_id: str) -> TradeIntent | None:
        """The intent with this id or unique prefix; None if nothing matches.

        An ambiguous prefix raises `IntentNotFound`: guessing would act on the wrong intent.
        """
        record = self.get_record(intent_id)
        return record.intent if record is not None else None

    def require(self, intent_id: str) -> TradeIntent:
        """As `get`, but a missing intent is an `IntentNotFound` error too."""
        return self._require(intent_id).intent

    def get_record(self, intent_id: str) -> IntentRecord | None:
        """As `get`, with run id, exchange order id and execution time."""
        with self._db.read() as conn:
            row = conn.execute(select(_INTENTS).where(_INTENTS.c.intent_id == intent_id)).mappings()
            found = row.first()
            if found is None and len(intent_id) >= MIN_PREFIX:
                matches = (
                    conn.execute(
                        select(_INTENTS)
                        .where(_INTENTS.c.intent_id.startswith(intent_id, autoescape=True))
                        .order_by(_INTENTS.c.intent_id)
                        .limit(3)
                    )
                    .mappings()
                    .all()
                )
                if len(matches) > 1:
                    shown = ", ".join(m["intent_id"] for m in matches[:2])
                    more = ", ..." if len(matches) > 2 else ""
                    raise IntentNotFound(
                        f"intent id prefix {intent_id!r} is ambiguous: it matches "
                        f"{shown}{more}; give more characters"
                    )
                found = matches[0] if matches else None
        if found is None:
            return None
        return IntentRecord(
            intent=rows.intent_from_row(found),
            run_id=found["run_id"],
            order_id=found["order_id"],
            executed_ts=found["executed_ts"],
        )

    def _require(self, intent_id: str) -> IntentRecord:
        record = self.get_record(intent_id)
        if record is None:
            hint = (
                f" (a prefix needs at least {MIN_PREFIX} characters)"
                if len(intent_id) < MIN_PREFIX
                else ""
            )
            raise IntentNotFound(f"no intent with id {intent_id!r}{hint}")
        return record

    def open_intents(self, run_id: str | None = None) -> builtins.list[TradeIntent]:
        """PENDING, APPROVED and SUBMITTED intents, oldest first (the approval queue)."""
        return self._select(OPEN_STATES, None, run_id, newest_first=False)

    # --- transitions -------------------------------------------------------------------------

    def transition(
        self,
        intent_id: str,
        expected: IntentState | Collection[IntentState],
        new: IntentState,
        now: float,
        reason: str | None = None,
        *,
        order_id: str | None = None,
        executed_ts: float | None = None,
    ) -> bool:
        """Move an intent from one of `expected` to `new`, atomically.

        True if this call moved it; False if it was in another state by then (someone else
        moved it first). `IllegalTransition` if any `expected -> new` is not allowed,
        `IntentNotFound` for an unknown id. `reason`, `order_id` and `executed_ts` are stored
        when given.
        """
        return self._move(intent_id, expected, new, now, reason, order_id, executed_ts)

    def approve(self, intent_id: str, now: float, override: str | None = None) -> bool:
        """PENDING -> APPROVED, only before `expires_ts`. `override`: the failed re-check
        the person saw and approved anyway, stored with the intent (the engine then carries
        it out although the price or the edge moved).

        False if the intent is no longer PENDING (already approved, rejected, ...). Past its
        deadline it is moved to EXPIRED and `IntentExpired` is raised, so a person learns why
        nothing will be sent.
        """
        not_expired = _INTENTS.c.expires_ts > now
        if self._move(
            intent_id,
            IntentState.PENDING,
            IntentState.APPROVED,
            now,
            extra=not_expired,
            override=override,
        ):
            return True
        record = self._require(intent_id)
        intent = record.intent
        if intent.state is IntentState.PENDING and intent.expires_ts <= now:
            self._move(
                intent.intent_id, IntentState.PENDING, IntentState.EXPIRED, now, EXPIRED_REASON
            )
            raise IntentExpired(
                f"intent {intent.intent_id} expired at {_when(intent.expires_ts)} (now "
                f"{_when(now)}); it is now EXPIRED and was not approved"
            )
        return False

    def reject(self, intent_id: str, now: float, reason: str) -> bool:
        """PENDING -> REJECTED with the person's reason; False if no longer PENDING."""
        return self._move(intent_id, IntentState.PENDING, IntentState.REJECTED, now, reason)

    def mark_dryrun(self, intent_id: str, now: float) -> bool:
        """APPROVED -> EXECUTED_DRYRUN: approved, but nothing is sent (dry run)."""
        return self._move(
            intent_id, IntentState.APPROVED, IntentState.EXECUTED_DRYRUN, now, executed_ts=now
        )

    def claim_for_submit(self, intent_id: str, now: float) -> bool:
        """APPROVED -> SUBMITTED. Call before sending the order: only the caller that gets
        True may send it, so an intent reaches the exchange at most once, even across
        processes and restarts (a SUBMITTED intent is never claimed again)."""
        return self._move(intent_id, IntentState.APPROVED, IntentState.SUBMITTED, now)

    def conclude(
        self,
        intent_id: str,
        expected: IntentState,
        new: IntentState,
        now: float,
        reason: str | None,
        report: ExecutionReport | None,
        run_id: str,
    ) -> bool:
        """Move a sent intent to its final state *and* store its order and fills, in one
        transaction: what the exchange did is never on record without the state that says
        so, nor the state without it. False if the intent was no longer `expected` (another
        process resolved it; then nothing is written). `intent_id` is a full id."""
        conds, values = self._transition_sql(intent_id, expected, new, now, reason)
        stmt = update(_INTENTS).where(_INTENTS.c.intent_id == intent_id, *conds).values(values)
        with self._db.write() as conn:
            if conn.execute(stmt).rowcount != 1:
                return False
            if report is not None:
                _store_execution(conn, report, run_id, self._clean)
        return True

    def store_execution(self, report: ExecutionReport, run_id: str) -> None:
        """An order and its fills, in one transaction (repairing a record a crash cut)."""
        with self._db.write() as conn:
            _store_execution(conn, report, run_id, self._clean)

    def has_order(self, order_id: str) -> bool:
        query = select(_ORDERS.c.order_id).where(_ORDERS.c.order_id == order_id)
        with self._db.read() as conn:
            return conn.execute(query).first() is not None

    def expire_unsent_of_ended_runs(self, now: float, reason: str) -> builtins.list[str]:
        """PENDING / APPROVED intents whose run is no longer running (it ended, or crashed
        and was marked so): EXPIRED with `reason`, as their run's end would have done. Only
        the engine that sized an intent may carry it out. The ids moved."""
        running = select(_RUNS.c.run_id).where(_RUNS.c.status == "running")
        stmt = (
            update(_INTENTS)
            .where(
                _INTENTS.c.state.in_([IntentState.PENDING.value, IntentState.APPROVED.value]),
                _INTENTS.c.run_id.not_in(running),
            )
            .values(state=IntentState.EXPIRED.value, updated_ts=now, reason=self._clean(reason))
            .returning(_INTENTS.c.intent_id)
        )
        with self._db.write() as conn:
            return sorted(conn.execute(stmt).scalars().all())

    def last_actions(self, since_ts: float) -> dict[str, float]:
        """Per market, the latest time an intent was proposed on it, or rejected by a
        person, at or after `since_ts`, over every run: the cooldown that protects a market
        from being proposed again at once survives a restart."""
        acted = func.max(
            case(
                (_INTENTS.c.state == IntentState.REJECTED.value, _INTENTS.c.updated_ts),
                else_=_INTENTS.c.created_ts,
            )
        )
        query = (
            select(_INTENTS.c.market_id, acted)
            .where(
                (_INTENTS.c.created_ts >= since_ts)
                | (
                    (_INTENTS.c.state == IntentState.REJECTED.value)
                    & (_INTENTS.c.updated_ts >= since_ts)
                )
            )
            .group_by(_INTENTS.c.market_id)
        )
        with self._db.read() as conn:
            return {str(m): float(ts) for m, ts in conn.execute(query)}

    def expire_due(self, now: float) -> builtins.list[str]:
        """Move every PENDING intent past its deadline to EXPIRED; the ids moved."""
        stmt = (
            update(_INTENTS)
            .where(
                _INTENTS.c.state == IntentState.PENDING.value,
                _INTENTS.c.expires_ts <= now,
            )
            .values(state=IntentState.EXPIRED.value, updated_ts=now, reason=EXPIRED_REASON)
            .returning(_INTENTS.c.intent_id)
        )
        with self._db.write() as conn:
            return sorted(conn.execute(stmt).scalars().all())

    def _move(
        self,
        intent_id: str,
        expected: IntentState | Collection[IntentState],
        new: IntentState,
        now: float,
        reason: str | None = None,
        order_id: str | None = None,
        executed_ts: float | None = None,
        extra: ColumnElement[bool] | None = None,
        override: str | None = None,
    ) -> bool:
        conds, values = self._transition_sql(
            intent_id, expected, new, now, reason, order_id, executed_ts
        )
        if extra is not None:
            conds.append(extra)
        if override is not None:
            values["override"] = self._clean(override)
        if self._update(intent_id, conds, values):
            return True
        # Nothing changed: a prefix (retry with the full id), a lost race, or an unknown id.
        full_id = self._require(intent_id).intent.intent_id
        return full_id != intent_id and self._update(full_id, conds, values)

    def _transition_sql(
        self,
        intent_id: str,
        expected: IntentState | Collection[IntentState],
        new: IntentState,
        now: float,
        reason: str | None = None,
        order_id: str | None = None,
        executed_ts: float | None = None,
    ) -> tuple[builtins.list[ColumnElement[bool]], dict[str, Any]]:
        """The WHERE conditions and new values of one legal transition."""
        froms = _states(expected)
        illegal = sorted(s.value for s in froms if new not in INTENT_TRANSITIONS.get(s, ()))
        if illegal or not froms:
            current = self.get(intent_id)
            now_in = current.state.value if current is not None else "unknown"
            raise IllegalTransition(
                f"intent {intent_id} (now {now_in}): moving from "
                f"{', '.join(illegal) or 'no state'} to {new.value} is not allowed"
            )
        values: dict[str, Any] = {"state": new.value, "updated_ts": now}
        for name, value in (
            ("reason", self._clean.optional(reason)),
            ("order_id", order_id),
            ("executed_ts", executed_ts),
        ):
            if value is not None:
                values[name] = value
        return [_INTENTS.c.state.in_([s.value for s in froms])], values

    def _update(
        self, intent_id: str, conds: Sequence[ColumnElement[bool]], values: dict[str, Any]
    ) -> bool:
        stmt = update(_INTENTS).where(_INTENTS.c.intent_id == intent_id, *conds).values(values)
        with self._db.write() as conn:
            return conn.execute(stmt).rowcount == 1

    # --- listing (annotations say `builtins.list`: the method `list` shadows the builtin) ----

    def _select(
        self,
        states: Collection[IntentState] | None,
        limit: int | None,
        run_id: str | None,
        newest_first: bool,
    ) -> builtins.list[TradeIntent]:
        query = select(_INTENTS)
        if states is not None:
            query = query.where(_INTENTS.c.state.in_([s.value for s in states]))
        if run_id is not None:
            query = query.where(_INTENTS.c.run_id == run_id)
        order = _INTENTS.c.created_ts.desc() if newest_first else _INTENTS.c.created_ts
        query = query.order_by(order, _INTENTS.c.intent_id).limit(limit)
        with self._db.read() as conn:
            return [rows.intent_from_row(r) for r in conn.execute(query).mappings()]

    def list(
        self,
        states: IntentState | Collection[IntentState] | None = None,
        limit: int | None = 100,
        run_id: str | None = None,
    ) -> builtins.list[TradeIntent]:
        """Intents in `states` (all when None), newest first."""
        wanted = None if states is None else _states(states)
        return self._select(wanted, limit, run_id, newest_first=True)

"""The engine's writes and the CLI's reads.

The engine calls `record_cycle` from a worker thread once per cycle: everything the cycle
produced goes in one transaction of bulk statements, so a crash leaves either the whole cycle
or none of it, and the cost is a handful of statements however many rows. Reads return plain
values (domain dataclasses or `engine.storage.records`), never ORM objects tied to a session.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.config import RetentionSettings
from engine.models import Fill, Market, Position, Signal
from engine.redact import Redactor
from engine.storage import rows
from engine.storage.database import Database
from engine.storage.records import (
    CycleRecord,
    DailyPnl,
    EngineStatus,
    EventRecord,
    RecordedEvent,
    Report,
    RunInfo,
    TruthSample,
    utc_day,
)
from engine.storage.retention import PruneReport
from engine.storage.retention import prune as _prune
from engine.storage.sql import insert_rows, insert_tuples, text_before, upsert
from engine.storage.tables import (
    BackfillProgressRow,
    DailyPnlRow,
    EngineEventRow,
    EngineStateRow,
    FillRow,
    MarketRow,
    OrderRow,
    PositionRow,
    PriceHistoryRow,
    RecordedEventRow,
    RejectionCountRow,
    RunRow,
    SignalRow,
    SimTruthRow,
    SnapshotRow,
    table_of,
)

_RUNS = table_of(RunRow)
_MARKETS = table_of(MarketRow)
_SNAPSHOTS = table_of(SnapshotRow)
_SNAPSHOT_INDEX_ORDER = itemgetter(
    rows.SNAPSHOT_COLUMNS.index("market_id"), rows.SNAPSHOT_COLUMNS.index("ts")
)
_SIGNALS = table_of(SignalRow)
_ORDERS = table_of(OrderRow)
_FILLS = table_of(FillRow)
_POSITIONS = table_of(PositionRow)
_DAILY = table_of(DailyPnlRow)
_EVENTS = table_of(EngineEventRow)
_STATE = table_of(EngineStateRow)
_RECORDED = table_of(RecordedEventRow)
_HISTORY = table_of(PriceHistoryRow)
_PROGRESS = table_of(BackfillProgressRow)
_REJECTIONS = table_of(RejectionCountRow)
_TRUTH = table_of(SimTruthRow)
_TRUTH_COLUMNS = ("run_id", "market_id", "ts", "truth")
_TRUTH_INDEX_ORDER = itemgetter(_TRUTH_COLUMNS.index("market_id"), _TRUTH_COLUMNS.index("ts"))

_REJECTED = "rejected"
CRASHED = "crashed"  # a run's status when its process died without ending it


class PricePoint(NamedTuple):
    """One stored `/prices-history` point: epoch seconds and the token's price."""

    ts: float
    price: float


# `BackfillProgress.status` values (see `BackfillProgressRow`).
PROGRESS_PARTIAL = "partial"
PROGRESS_DONE = "done"
PROGRESS_FINAL = "final"
PROGRESS_FAILED = "failed"


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    """One `backfill_progress` row: the span of a token's history that is stored."""

    token_id: str
    fidelity: int  # minutes asked for
    market_id: str
    start_ts: float
    done_ts: float
    status: str
    points: int = 0
    fetched_fidelity: int = 0  # minutes the server answered at
    error: str | None = None
    updated_ts: float = 0.0


def _latest_run() -> Select[Any]:
    """The run started last: by `seq`, the order runs were recorded in (`started_ts` is engine
    time, which two runs can share)."""
    return (
        select(_RUNS).order_by(_RUNS.c.seq.desc().nulls_last(), _RUNS.c.started_ts.desc()).limit(1)
    )


def _window(
    column: Any, since_ts: float | None, until_ts: float | None
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if since_ts is not None:
        conds.append(column >= since_ts)
    if until_ts is not None:
        conds.append(column < until_ts)
    return conds


@dataclass(slots=True)
class _CycleRows:
    """The rows of one or more cycles, per table, in the order they were recorded."""

    markets: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[tuple[Any, ...]] = field(default_factory=list)  # SNAPSHOT_COLUMNS
    signals: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    positions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    recorded: list[dict[str, Any]] = field(default_factory=list)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    truth: list[tuple[str, str, float, float]] = field(default_factory=list)  # _TRUTH_COLUMNS
    state: dict[str, dict[str, Any]] = field(default_factory=dict)  # the latest, per run
    daily: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)  # per run, day


def _redacted(row: dict[str, Any], key: str, clean: Redactor) -> dict[str, Any]:
    """`row` with its free-text column `key` masked of configured secrets (an exception's
    text may quote one)."""
    value = row.get(key)
    if isinstance(value, str) and clean:
        row[key] = clean(value)
    return row


def _combine(reports: list[Report], since_ts: float | None, until_ts: float | None) -> Report:
    """Several runs' reports over one window, summed (PnL as the sum of each run's)."""
    if len(reports) == 1:
        return reports[0]
    orders: Counter[str] = Counter()
    rejections: Counter[str] = Counter()
    for r in reports:
        orders.update(r.orders)
        rejections.update(r.rejections_by_reason)
    pnls = [r.pnl for r in reports if r.pnl is not None]
    return Report(
        run_id=None,
        since_ts=since_ts,
        until_ts=until_ts,
        realized_pnl=sum(r.realized_pnl for r in reports),
        fees=sum(r.fees for r in reports),
        fills=sum(r.fills for r in reports),
        notional=sum(r.notional for r in reports),
        signals=sum(r.signals for r in reports),
        orders=dict(orders),
        rejections_by_reason=dict(rejections),
        runs=tuple(r.run_id for r in reports if r.run_id is not None),
        runs_pnl=sum(pnls) if pnls else None,
    )


class Store:
    """Typed access to the run tables; one per process, safe to share between threads."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._clean = db.redact

    # --- runs and markets --------------------------------------------------------------------

    def start_run(
        self,
        run_id: str,
        started_ts: float,
        mode: str,
        source: str,
        seed: int | None = None,
        settings_json: str = "{}",
        host: str | None = None,
        pid: int | None = None,
    ) -> None:
        """Record a new run, numbered after every earlier one (`seq`). `settings_json` must
        already have its secrets masked."""
        for attempt in range(3):
            try:
                with self._db.write() as conn:
                    seq = conn.execute(
                        select(func.coalesce(func.max(_RUNS.c.seq), 0) + 1)
                    ).scalar_one()
                    conn.execute(
                        insert(_RUNS).values(
                            run_id=run_id,
                            seq=seq,
                            started_ts=started_ts,
                            mode=mode,
                            source=source,
                            seed=seed,
                            status="running",
                            settings_json=self._clean(settings_json),
                            host=host,
                            pid=pid,
                        )
                    )
                return
            except IntegrityError:  # PostgreSQL: another process took that number meanwhile
                if attempt == 2 or self.run(run_id) is not None:
                    raise

    def end_crashed_runs(self, is_dead: Callable[[RunInfo], bool]) -> list[RunInfo]:
        """Runs still marked running whose process is gone (`is_dead` says so: a kill -9 or
        a power cut never ran their end): marked `crashed`, ended when they were last seen
        (their last engine state update, else their start). The runs closed."""
        with self._db.read() as conn:
            found = [
                rows.run_from_row(r)
                for r in conn.execute(select(_RUNS).where(_RUNS.c.status == "running")).mappings()
            ]
        closed = []
        for run in found:
            if not is_dead(run):
                continue
            with self._db.write() as conn:
                seen = conn.execute(
                    select(_STATE.c.updated_ts).where(_STATE.c.run_id == run.run_id)
                ).scalar_one_or_none()
                last = max(float(seen), run.started_ts) if seen is not None else run.started_ts
                moved = conn.execute(
                    update(_RUNS)
                    .where(_RUNS.c.run_id == run.run_id, _RUNS.c.status == "running")
                    .values(status=CRASHED, ended_ts=last)
                ).rowcount
                if moved:
                    conn.execute(
                        update(_STATE)
                        .where(_STATE.c.run_id == run.run_id)
                        .values(
                            state="stopped",
                            reason="run ended (crashed: its process died)",
                            updated_ts=last,
                        )
                    )
            if moved:
                closed.append(replace(run, status=CRASHED, ended_ts=last))
        return closed

    def end_run(self, run_id: str, status: str, ts: float) -> bool:
        """Close a run; False if no such run."""
        with self._db.write() as conn:
            result = conn.execute(
                update(_RUNS).where(_RUNS.c.run_id == run_id).values(status=status, ended_ts=ts)
            )
        return result.rowcount == 1

    def upsert_markets(self, markets: Sequence[Market], now: float) -> None:
        with self._db.write() as conn:
            upsert(conn, _MARKETS, [rows.market_row(m, now) for m in markets], ["market_id"])

    def mark_resolved(self, market_id: str, payout_yes: float, ts: float) -> bool:
        """Record a resolution; False if the market was never stored."""
        with self._db.write() as conn:
            result = conn.execute(
                update(_MARKETS)
                .where(_MARKETS.c.market_id == market_id)
                .values(resolved=True, payout_yes=payout_yes, updated_ts=ts)
            )
        return result.rowcount == 1

    # --- backfilled history (`polyb0t backfill`) -----------------------------------------------

    def upsert_price_history(
        self,
        market_id: str,
        token_id: str,
        ts: Sequence[float],
        price: Sequence[float],
        progress: BackfillProgress | None = None,
    ) -> int:
        """Store a token's history points (a point already stored at the same `ts` is
        overwritten) and, in the same transaction, the backfill's progress, so progress
        never claims points that were not written. Returns the number of points."""
        if len(ts) != len(price):
            raise ValueError(f"{len(ts)} timestamps but {len(price)} prices")
        points = [
            {"token_id": token_id, "ts": float(t), "market_id": market_id, "price": float(p)}
            for t, p in zip(ts, price, strict=True)
        ]
        with self._db.write() as conn:
            upsert(conn, _HISTORY, points, ["token_id", "ts"])
            if progress is not None:
                row = _redacted(asdict(progress), "error", self._clean)
                upsert(conn, _PROGRESS, [row], ["token_id", "fidelity"])
        return len(points)

    def save_backfill_progress(self, progress: BackfillProgress) -> None:
        row = _redacted(asdict(progress), "error", self._clean)
        with self._db.write() as conn:
            upsert(conn, _PROGRESS, [row], ["token_id", "fidelity"])

    def backfill_progress(self, fidelity: int) -> dict[str, BackfillProgress]:
        """Every token's progress at `fidelity`, by token id (one query for a whole run)."""
        query = select(_PROGRESS).where(_PROGRESS.c.fidelity == fidelity)
        with self._db.read() as conn:
            return {
                r["token_id"]: BackfillProgress(**dict(r)) for r in conn.execute(query).mappings()
            }

    def price_history(
        self, token_id: str, since_ts: float | None = None, until_ts: float | None = None
    ) -> list[PricePoint]:
        """A token's stored history in [since_ts, until_ts), oldest first."""
        query = (
            select(_HISTORY.c.ts, _HISTORY.c.price)
            .where(_HISTORY.c.token_id == token_id, *_window(_HISTORY.c.ts, since_ts, until_ts))
            .order_by(_HISTORY.c.ts)
        )
        with self._db.read() as conn:
            return [PricePoint(float(r.ts), float(r.price)) for r in conn.execute(query)]

    def mid_history(
        self, market_id: str, until_ts: float, max_points: int = 500
    ) -> list[PricePoint]:
        """A market's stored YES mid before `until_ts`, oldest first: its snapshots (every
        run) and its backfilled price history, merged, thinned evenly to `max_points`. The
        console's price chart shows this before the engine's in-memory samples."""
        snaps = (
            select(_SNAPSHOTS.c.ts, _SNAPSHOTS.c.mid)
            .where(
                _SNAPSHOTS.c.market_id == market_id,
                _SNAPSHOTS.c.mid.is_not(None),
                _SNAPSHOTS.c.ts < until_ts,
            )
            .order_by(_SNAPSHOTS.c.ts)
        )
        token = select(_MARKETS.c.yes_token).where(_MARKETS.c.market_id == market_id)
        backfilled = (
            select(_HISTORY.c.ts, _HISTORY.c.price)
            .where(_HISTORY.c.token_id == token.scalar_subquery(), _HISTORY.c.ts < until_ts)
            .order_by(_HISTORY.c.ts)
        )
        with self._db.read() as conn:
            points = {float(r[0]): float(r[1]) for r in conn.execute(backfilled)}
            points.update((float(r[0]), float(r[1])) for r in conn.execute(snaps))
        merged = [PricePoint(ts, points[ts]) for ts in sorted(points)]
        if len(merged) <= max_points:
            return merged
        step = len(merged) / max_points
        return [merged[int(k * step)] for k in range(max_points - 1)] + [merged[-1]]

    # --- the engine's per-cycle write --------------------------------------------------------

    def record_cycle(self, batch: CycleRecord) -> None:
        """Write one cycle atomically (see `CycleRecord` for what each list means)."""
        self.record_cycles([batch])

    def record_cycles(self, batches: Sequence[CycleRecord]) -> None:
        """Write several cycles, in order, in one transaction (the writer thread catching up):
        their rows are gathered per table and written with one statement per table (rows of a
        later cycle overwrite an earlier one's where keys meet, as separate writes would)."""
        out = _CycleRows()
        for batch in batches:
            self._rows_of(batch, out)
        # In (market, time) order, as the snapshot index keeps them: each index page then
        # takes all of a transaction's new entries at once instead of one per snapshot step
        # (a step's thousands of markets land all over an index far larger than the cache).
        out.snapshots.sort(key=_SNAPSHOT_INDEX_ORDER)
        out.truth.sort(key=_TRUTH_INDEX_ORDER)  # its key's order too, for the same reason
        with self._db.write() as conn:
            upsert(conn, _MARKETS, out.markets, ["market_id"])
            insert_tuples(conn, _SNAPSHOTS, rows.SNAPSHOT_COLUMNS, out.snapshots)
            insert_rows(conn, _SIGNALS, out.signals)
            upsert(conn, _ORDERS, out.orders, ["order_id"])
            insert_rows(conn, _FILLS, out.fills)
            upsert(conn, _POSITIONS, out.positions, ["run_id", "market_id", "outcome"])
            insert_rows(conn, _EVENTS, out.events)
            insert_rows(conn, _RECORDED, out.recorded)
            upsert(conn, _REJECTIONS, out.rejections, ["run_id", "ts", "rule"])
            insert_tuples(conn, _TRUTH, _TRUTH_COLUMNS, out.truth)
            upsert(conn, _STATE, list(out.state.values()), ["run_id"])
            upsert(conn, _DAILY, list(out.daily.values()), ["run_id", "day"])

    def _rows_of(self, batch: CycleRecord, out: _CycleRows) -> None:
        run_id, ts, clean = batch.run_id, batch.ts, self._clean
        out.markets += [rows.market_row(m, ts) for m in batch.markets]
        out.snapshots += rows.snapshot_tuples(batch.snapshots, run_id)
        out.signals += [
            _redacted(rows.signal_row(s, run_id), "reason", clean) for s in batch.signals
        ]
        out.orders += [_redacted(rows.order_row(r, run_id), "reason", clean) for r in batch.orders]
        out.fills += [rows.fill_row(f, run_id) for f in batch.fills]
        out.positions += [rows.position_row(p, run_id, ts) for p in batch.positions]
        out.events += [_redacted(rows.event_row(e, run_id), "message", clean) for e in batch.events]
        out.recorded += [
            {"run_id": run_id, "ts": e.ts, "kind": e.kind, "payload": e.payload}
            for e in batch.recorded
        ]
        out.rejections += [
            {"run_id": run_id, "ts": ts, "rule": rule, "count": n}
            for rule, n in batch.rejections.items()
        ]
        if batch.truth is not None:
            t = batch.truth
            out.truth += [(run_id, m, t.ts, v) for m, v in zip(t.market_ids, t.values, strict=True)]
        if batch.state is not None:
            state = rows.engine_state_row(batch.state, run_id)
            out.state[run_id] = _redacted(state, "reason", clean)
        if batch.daily_pnl is not None:
            out.daily[(run_id, batch.daily_pnl.day)] = rows.daily_pnl_row(batch.daily_pnl, run_id)

    def set_engine_state(self, run_id: str, status: EngineStatus) -> None:
        """Outside a cycle: pause, resume, a kill switch firing."""
        state = _redacted(rows.engine_state_row(status, run_id), "reason", self._clean)
        with self._db.write() as conn:
            upsert(conn, _STATE, [state], ["run_id"])

    def record_daily_pnl(self, run_id: str, pnl: DailyPnl) -> None:
        with self._db.write() as conn:
            self._upsert_daily(conn, run_id, pnl)

    @staticmethod
    def _upsert_daily(conn: Connection, run_id: str, pnl: DailyPnl) -> None:
        upsert(conn, _DAILY, [rows.daily_pnl_row(pnl, run_id)], ["run_id", "day"])

    # --- retention ---------------------------------------------------------------------------

    def prune(
        self,
        now: float,
        retention: RetentionSettings,
        *,
        dry_run: bool = False,
        stop: threading.Event | None = None,
        pause_seconds: float = 0.1,
    ) -> PruneReport:
        """Delete the rows `retention` no longer keeps at engine time `now`, in batches that
        leave the write lock to the engine between them (`engine.storage.retention`)."""
        return _prune(
            self._db, now, retention, dry_run=dry_run, stop=stop, pause_seconds=pause_seconds
        )

    # --- reads -------------------------------------------------------------------------------

    def latest_run(self) -> RunInfo | None:
        with self._db.read() as conn:
            row = conn.execute(_latest_run()).mappings().first()
        return rows.run_from_row(row) if row is not None else None

    def run(self, run_id: str) -> RunInfo | None:
        with self._db.read() as conn:
            row = conn.execute(select(_RUNS).where(_RUNS.c.run_id == run_id)).mappings().first()
        return rows.run_from_row(row) if row is not None else None

    def engine_state(self, run_id: str) -> EngineStatus | None:
        with self._db.read() as conn:
            row = conn.execute(select(_STATE).where(_STATE.c.run_id == run_id)).mappings().first()
        return rows.engine_state_from_row(row) if row is not None else None

    def positions(self, run_id: str, include_closed: bool = False) -> list[Position]:
        query = select(_POSITIONS).where(_POSITIONS.c.run_id == run_id)
        if not include_closed:
            query = query.where(_POSITIONS.c.size > 0)
        query = query.order_by(_POSITIONS.c.market_id, _POSITIONS.c.outcome)
        with self._db.read() as conn:
            return [rows.position_from_row(r) for r in conn.execute(query).mappings()]

    def fills(
        self, run_id: str, since_ts: float | None = None, limit: int | None = None
    ) -> list[Fill]:
        """Fills in time order; with `limit`, the most recent `limit` of them."""
        query = (
            select(_FILLS)
            .where(_FILLS.c.run_id == run_id, *_window(_FILLS.c.ts, since_ts, None))
            .order_by(_FILLS.c.ts.desc(), _FILLS.c.id.desc())
            .limit(limit)
        )
        with self._db.read() as conn:
            found = [rows.fill_from_row(r) for r in conn.execute(query).mappings()]
        return found[::-1]

    def signals(self, run_id: str, limit: int = 100) -> list[Signal]:
        """The most recent signals, in time order."""
        query = (
            select(_SIGNALS)
            .where(_SIGNALS.c.run_id == run_id)
            .order_by(_SIGNALS.c.ts.desc(), _SIGNALS.c.id.desc())
            .limit(limit)
        )
        with self._db.read() as conn:
            found = [rows.signal_from_row(r) for r in conn.execute(query).mappings()]
        return found[::-1]

    def recent_events(self, run_id: str, limit: int = 50) -> list[EventRecord]:
        """The most recent events, in time order (as a log pane shows them)."""
        query = (
            select(_EVENTS)
            .where(_EVENTS.c.run_id == run_id)
            .order_by(_EVENTS.c.ts.desc(), _EVENTS.c.id.desc())
            .limit(limit)
        )
        with self._db.read() as conn:
            found = [rows.event_from_row(r) for r in conn.execute(query).mappings()]
        return found[::-1]

    def recorded_events(
        self, run_id: str, after_id: int = 0, until_ts: float | None = None, limit: int = 10_000
    ) -> list[RecordedEvent]:
        """Recorded source events of a run in arrival order, after `after_id` (a cursor)."""
        query = (
            select(_RECORDED.c.ts, _RECORDED.c.kind, _RECORDED.c.payload, _RECORDED.c.id)
            .where(_RECORDED.c.run_id == run_id, _RECORDED.c.id > after_id)
            .order_by(_RECORDED.c.id)
            .limit(limit)
        )
        if until_ts is not None:
            query = query.where(_RECORDED.c.ts <= until_ts)
        with self._db.read() as conn:
            return [RecordedEvent(r.ts, r.kind, r.payload, r.id) for r in conn.execute(query)]

    def latest_recording(self) -> str | None:
        """The run id of the newest run that recorded events, if any."""
        query = select(_RECORDED.c.run_id).order_by(_RECORDED.c.id.desc()).limit(1)
        with self._db.read() as conn:
            found = conn.execute(query).scalar()
        return str(found) if found is not None else None

    def recording_span(self, run_id: str) -> tuple[float, float, int] | None:
        """(first ts, last ts, event count) of a recording, or None if it has none."""
        query = select(func.min(_RECORDED.c.ts), func.max(_RECORDED.c.ts), func.count()).where(
            _RECORDED.c.run_id == run_id
        )
        with self._db.read() as conn:
            first, last, count = conn.execute(query).one()
        return None if not count else (float(first), float(last), int(count))

    def sim_truth(self, run_id: str, market_id: str | None = None) -> list[TruthSample]:
        """A sim run's recorded truth, one `TruthSample` per time in time order (the markets
        in id order; one market's path with `market_id`)."""
        q = select(_TRUTH.c.ts, _TRUTH.c.market_id, _TRUTH.c.truth).where(_TRUTH.c.run_id == run_id)
        if market_id is not None:
            q = q.where(_TRUTH.c.market_id == market_id)
        by_ts: dict[float, tuple[list[str], list[float]]] = {}
        with self._db.read() as conn:
            for ts, market, value in conn.execute(q.order_by(_TRUTH.c.ts, _TRUTH.c.market_id)):
                ids, values = by_ts.setdefault(float(ts), ([], []))
                ids.append(market)
                values.append(float(value))
        return [TruthSample(ts, tuple(ids), values) for ts, (ids, values) in by_ts.items()]

    def markets(self, include_resolved: bool = True) -> list[Market]:
        query = select(_MARKETS).order_by(_MARKETS.c.market_id)
        if not include_resolved:
            query = query.where(_MARKETS.c.resolved.is_(False))
        with self._db.read() as conn:
            return [rows.market_from_row(r) for r in conn.execute(query).mappings()]

    def report(
        self,
        run_id: str | None = None,
        since_ts: float | None = None,
        until_ts: float | None = None,
    ) -> Report:
        """Totals for one run in [since_ts, until_ts); see `Report`. Without a run: the
        latest run when there is no window, else every run that ran in the window."""
        with self._db.read() as conn:
            if run_id is not None:
                return self._report(conn, run_id, since_ts, until_ts)
            if since_ts is None and until_ts is None:
                latest = conn.execute(_latest_run()).mappings().first()
                if latest is None:
                    return Report(run_id=None, since_ts=since_ts, until_ts=until_ts)
                return self._report(conn, latest["run_id"], since_ts, until_ts)
            conds = []
            if until_ts is not None:
                conds.append(_RUNS.c.started_ts < until_ts)
            if since_ts is not None:
                conds.append((_RUNS.c.ended_ts.is_(None)) | (_RUNS.c.ended_ts >= since_ts))
            ids = conn.execute(
                select(_RUNS.c.run_id).where(*conds).order_by(_RUNS.c.seq, _RUNS.c.started_ts)
            ).scalars()
            reports = [self._report(conn, str(r), since_ts, until_ts) for r in ids]
        return _combine(reports, since_ts, until_ts)

    def _report(
        self, conn: Connection, run_id: str, since_ts: float | None, until_ts: float | None
    ) -> Report:
        fills = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(_FILLS.c.price * _FILLS.c.size), 0.0),
                func.coalesce(func.sum(_FILLS.c.fee), 0.0),
            ).where(_FILLS.c.run_id == run_id, *_window(_FILLS.c.ts, since_ts, until_ts))
        ).one()
        signal_window = [_SIGNALS.c.run_id == run_id, *_window(_SIGNALS.c.ts, since_ts, until_ts)]
        n_signals = conn.execute(select(func.count()).where(*signal_window)).scalar_one()
        rejections = self._rejections(conn, run_id, since_ts, until_ts)
        orders = conn.execute(
            select(_ORDERS.c.status, func.count())
            .where(_ORDERS.c.run_id == run_id, *_window(_ORDERS.c.ts, since_ts, until_ts))
            .group_by(_ORDERS.c.status)
        ).all()
        start_equity, end_equity, realized = self._pnl(conn, run_id, since_ts, until_ts)
        return Report(
            run_id=run_id,
            since_ts=since_ts,
            until_ts=until_ts,
            start_equity=start_equity,
            end_equity=end_equity,
            realized_pnl=realized,
            fees=float(fills[2]),
            fills=int(fills[0]),
            notional=float(fills[1]),
            signals=int(n_signals),
            orders={str(status): int(n) for status, n in orders},
            rejections_by_reason=rejections,
            runs=(run_id,),
        )

    @staticmethod
    def _rejections(
        conn: Connection, run_id: str, since_ts: float | None, until_ts: float | None
    ) -> dict[str, int]:
        """Signals rejected, by rule: from the per-cycle counts (every rejection, stored
        or not as a signal row); a run recorded before those counts existed is counted
        from its stored signal rows."""
        counted = conn.execute(
            select(_REJECTIONS.c.rule, func.sum(_REJECTIONS.c.count))
            .where(_REJECTIONS.c.run_id == run_id, *_window(_REJECTIONS.c.ts, since_ts, until_ts))
            .group_by(_REJECTIONS.c.rule)
        ).all()
        if (
            counted
            or conn.execute(
                select(_REJECTIONS.c.rule).where(_REJECTIONS.c.run_id == run_id).limit(1)
            ).first()
        ):
            return {str(rule): int(n) for rule, n in counted}
        rule = text_before(conn, _SIGNALS.c.reason, ":").label("rule")
        rows_ = conn.execute(
            select(rule, func.count())
            .where(
                _SIGNALS.c.run_id == run_id,
                *_window(_SIGNALS.c.ts, since_ts, until_ts),
                _SIGNALS.c.decision == _REJECTED,
            )
            .group_by(rule)
        ).all()
        return {str(name or "unknown"): int(n) for name, n in rows_}

    @staticmethod
    def _pnl(
        conn: Connection, run_id: str, since_ts: float | None, until_ts: float | None
    ) -> tuple[float | None, float | None, float]:
        days = [_DAILY.c.run_id == run_id]
        if since_ts is not None:
            days.append(_DAILY.c.day >= utc_day(since_ts))
        if until_ts is not None:
            days.append(_DAILY.c.day <= utc_day(until_ts))
        daily = conn.execute(select(_DAILY).where(*days).order_by(_DAILY.c.day)).mappings().all()
        start = float(daily[0]["start_equity"]) if daily else None
        end = float(daily[-1]["end_equity"]) if daily else None
        if until_ts is None:
            live = conn.execute(
                select(_STATE.c.equity).where(_STATE.c.run_id == run_id)
            ).scalar_one_or_none()
            end = float(live) if live is not None else end
        if since_ts is None and until_ts is None:
            realized = conn.execute(
                select(func.coalesce(func.sum(_POSITIONS.c.realized_pnl), 0.0)).where(
                    _POSITIONS.c.run_id == run_id
                )
            ).scalar_one()
        else:
            realized = sum(float(d["realized_pnl"]) for d in daily)
        return start, end, float(realized)

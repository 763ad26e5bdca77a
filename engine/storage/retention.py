"""Pruning: the tables that grow every cycle keep a bounded window of rows.

What goes, with `cutoff = now - days` for each setting of `RetentionSettings` (0 days keeps
everything), `now` being engine time (what the rows' `ts` carry):

- snapshots older than `snapshots_days`, of every run;
- signals: rejected ones older than `rejected_signals_days`, the others (those that became
  orders or intents) older than `signals_days`;
- engine_events older than `engine_events_days`, rejection_counts older than
  `rejection_counts_days`;
- recorded_events by whole recording: a run's events once its last one is older than
  `recorded_events_days` and the run is not running (a recording without its start, the
  market listings and first books, cannot be replayed).

Never pruned: fills, orders, intents, positions, daily_pnl, runs, markets (the money records,
and what the ML's labels are computed from), sim_truth (what validation scores against),
engine_state (one row per run), price_history and backfill_progress (the backfill's own,
bounded by markets x points), schema_meta.

Batches, because the engine writes every step and SQLite has one writer: each batch is one
write transaction bounded by an index, the `batch_rows`-th oldest matching row's `ts` (or
`id`), so it deletes about `batch_rows` rows (a few more when rows share that bound: at most
one snapshot step's markets). Between batches the pruner waits as long as the batch took and
at least `pause_seconds`; SQLite's busy handler retries a waiting writer about every 100 ms,
so the engine gets the lock between two batches and waits at most one. Per-run tables are
pruned run by run on their (run_id, ts) indexes, the runs found by a loose index scan.

Space: SQLite reuses the pages deleted rows leave, so under a steady retention the file
stops growing, but it does not shrink. `vacuum` rewrites it to give the space back and
turns on incremental auto-vacuum, after which every prune returns the pages it freed by
itself (in small steps, like the deletes). VACUUM blocks writers while it runs: minutes
for gigabytes. PostgreSQL: autovacuum makes deleted rows' space reusable; `vacuum` runs a
plain VACUUM ANALYZE of the pruned tables (no lock against the engine's writes).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, delete, func, select

from engine.config import RetentionSettings
from engine.storage.database import Database
from engine.storage.tables import (
    DailyPnlRow,
    EngineEventRow,
    FillRow,
    IntentRow,
    MarketRow,
    OrderRow,
    PositionRow,
    RecordedEventRow,
    RejectionCountRow,
    RunRow,
    SignalRow,
    SimTruthRow,
    SnapshotRow,
    table_of,
)

DAY = 86_400.0
_SNAPSHOTS = table_of(SnapshotRow)
_SIGNALS = table_of(SignalRow)
_EVENTS = table_of(EngineEventRow)
_REJECTIONS = table_of(RejectionCountRow)
_RECORDED = table_of(RecordedEventRow)
_RUNS = table_of(RunRow)

PRUNABLE_TABLES: tuple[Table, ...] = (_SNAPSHOTS, _SIGNALS, _EVENTS, _REJECTIONS, _RECORDED)
KEPT_TABLES: tuple[Table, ...] = tuple(
    table_of(m)
    for m in (
        FillRow,
        OrderRow,
        IntentRow,
        PositionRow,
        DailyPnlRow,
        RunRow,
        MarketRow,
        SimTruthRow,
    )
)
_REJECTED = "rejected"
_VACUUM_PAGES = 2_000  # pages (8 MB at 4 KB) released per incremental-vacuum transaction


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What a prune removed (or, dry, would remove), in rows per table."""

    now: float
    dry_run: bool
    deleted: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0
    stopped: bool = False  # asked to stop before it was done (the daemon shutting down)
    freed_pages: int = 0  # SQLite, incremental auto-vacuum: pages given back to the disk

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


@dataclass(frozen=True, slots=True)
class _Target:
    """Old rows of one table (one run's, for per-run tables), deleted in batches bounded by
    `order`, an indexed column, within `where`."""

    table: Table
    where: tuple[ColumnElement[bool], ...]
    order: Any  # a Column of `table`


def prune(
    db: Database,
    now: float,
    retention: RetentionSettings,
    *,
    dry_run: bool = False,
    stop: threading.Event | None = None,
    pause_seconds: float = 0.1,
) -> PruneReport:
    """Delete what `retention` no longer keeps at engine time `now` (see the module)."""
    began = time.monotonic()
    with db.read() as conn:
        targets = list(_targets(conn, now, retention))
    deleted = {t.name: 0 for t in PRUNABLE_TABLES}
    if dry_run:
        with db.read() as conn:
            for target in targets:
                count = select(func.count()).select_from(target.table).where(*target.where)
                deleted[target.table.name] += int(conn.execute(count).scalar_one())
        return PruneReport(now, True, deleted, seconds=time.monotonic() - began)
    halt = stop or threading.Event()
    batches = 0
    for target in targets:
        for n in _batches(db, target, retention.prune_batch_rows, pause_seconds, halt):
            deleted[target.table.name] += n
            batches += 1
        if halt.is_set():
            break
    freed = 0
    if not halt.is_set() and any(deleted.values()) and db.dialect == "sqlite":
        freed = _release_pages(db, pause_seconds, halt)
    return PruneReport(
        now,
        False,
        deleted,
        batches=batches,
        seconds=time.monotonic() - began,
        stopped=halt.is_set(),
        freed_pages=freed,
    )


def _targets(conn: Connection, now: float, r: RetentionSettings) -> Iterator[_Target]:
    def cutoff(days: float) -> float | None:
        return now - days * DAY if days > 0 else None

    if (c := cutoff(r.snapshots_days)) is not None:
        yield _Target(_SNAPSHOTS, (_SNAPSHOTS.c.ts < c,), _SNAPSHOTS.c.ts)
    signals = _SIGNALS.c
    for c, kind in (
        (cutoff(r.rejected_signals_days), signals.decision == _REJECTED),
        (cutoff(r.signals_days), signals.decision != _REJECTED),
    ):
        if c is not None:
            for run in _runs_with_rows_before(conn, _SIGNALS, c):
                yield _Target(_SIGNALS, (signals.run_id == run, kind, signals.ts < c), signals.ts)
    for table, days in ((_EVENTS, r.engine_events_days), (_REJECTIONS, r.rejection_counts_days)):
        if (c := cutoff(days)) is not None:
            for run in _runs_with_rows_before(conn, table, c):
                yield _Target(table, (table.c.run_id == run, table.c.ts < c), table.c.ts)
    if (c := cutoff(r.recorded_events_days)) is not None:
        for run in _ended_recordings(conn, c):
            yield _Target(_RECORDED, (_RECORDED.c.run_id == run,), _RECORDED.c.id)


def _run_ids(conn: Connection, table: Table) -> list[str]:
    """The runs with rows in `table`: a loose index scan (one index probe per run, not a
    scan of the rows) on its index that starts with run_id."""
    out: list[str] = []
    while True:
        query = select(func.min(table.c.run_id))
        if out:
            query = query.where(table.c.run_id > out[-1])
        run = conn.execute(query).scalar()
        if run is None:
            return out
        out.append(str(run))


def _runs_with_rows_before(conn: Connection, table: Table, cutoff: float) -> list[str]:
    """The runs whose oldest row in `table` is before `cutoff` (one probe of its (run_id,
    ts) index each), so a prune takes the write lock only for runs with something to go."""
    out = []
    for run in _run_ids(conn, table):
        oldest = conn.execute(select(func.min(table.c.ts)).where(table.c.run_id == run)).scalar()
        if oldest is not None and float(oldest) < cutoff:
            out.append(run)
    return out


def _ended_recordings(conn: Connection, cutoff: float) -> list[str]:
    """Runs whose recording's last event is before `cutoff` and that are not running."""
    running = set(conn.execute(select(_RUNS.c.run_id).where(_RUNS.c.status == "running")).scalars())
    out = []
    for run in _run_ids(conn, _RECORDED):
        if run in running:
            continue
        last = conn.execute(
            select(_RECORDED.c.ts)
            .where(_RECORDED.c.run_id == run)
            .order_by(_RECORDED.c.id.desc())
            .limit(1)
        ).scalar()
        if last is not None and float(last) < cutoff:
            out.append(run)
    return out


def _batches(
    db: Database, target: _Target, size: int, pause: float, halt: threading.Event
) -> Iterator[int]:
    """Delete `target` in transactions of about `size` rows; yields each one's count."""
    while not halt.is_set():
        began = time.monotonic()
        with db.write() as conn:
            bound = conn.execute(
                select(target.order)
                .where(*target.where)
                .order_by(target.order)
                .offset(size - 1)
                .limit(1)
            ).scalar()
            where = target.where if bound is None else (*target.where, target.order <= bound)
            n = conn.execute(delete(target.table).where(*where)).rowcount
        yield max(n, 0)
        if bound is None:  # that was the rest
            return
        _pause(pause, time.monotonic() - began, halt)


def _pause(floor: float, took: float, halt: threading.Event) -> None:
    """Leave the write lock free at least as long as it was held (and `floor`)."""
    if floor > 0:
        halt.wait(max(floor, took))


def _release_pages(db: Database, pause: float, halt: threading.Event) -> int:
    """With incremental auto-vacuum on (after `vacuum`), give the free pages back to the
    disk, a few megabytes per write transaction. Pages freed; 0 when auto-vacuum is off."""
    freed = 0
    with db.read() as conn:
        if int(conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() or 0) != 2:  # INCREMENTAL
            return 0
    while not halt.is_set():
        began = time.monotonic()
        with db.write() as conn:
            before = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
            if before == 0:
                return freed
            # Each step of the statement frees one page, and the driver steps it once per
            # execute (it returns no rows to fetch): so one execute per page.
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            cursor = dbapi.cursor()
            try:
                for _ in range(min(before, _VACUUM_PAGES)):
                    cursor.execute("PRAGMA incremental_vacuum")
            finally:
                cursor.close()
            after = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
        freed += before - after
        if after == 0 or after >= before:
            return freed
        _pause(pause, time.monotonic() - began, halt)
    return freed


def vacuum(db: Database) -> None:
    """Give the space of deleted rows back (see the module: SQLite blocks writers while it
    runs; PostgreSQL does not)."""
    if db.dialect == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in PRUNABLE_TABLES:
                conn.exec_driver_sql(f"VACUUM ANALYZE {table.name}")
        return
    raw = db.engine.raw_connection()  # outside any transaction, which VACUUM requires
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA auto_vacuum = INCREMENTAL")  # takes effect with the VACUUM
        cursor.execute("VACUUM")
        # VACUUM wrote the whole database through the WAL: fold it back and truncate it
        # (best effort: a reader still on an old snapshot keeps what it needs).
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()

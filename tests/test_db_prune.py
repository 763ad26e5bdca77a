"""Retention: `Store.prune` deletes only old rows of the prunable tables, in batches, and the
daemon's automatic prune runs beside the engine without ever ending its run.

Never pruned: fills, orders, intents, positions, daily_pnl, runs, markets.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from engine.config import ConfigError, RetentionSettings, load_settings
from engine.execution.intents import IntentStore
from engine.models import (
    ExecutionReport,
    Fill,
    Market,
    OrderRequest,
    Outcome,
    Position,
    Side,
    Signal,
    TradeIntent,
)
from engine.storage import (
    CycleRecord,
    DailyPnl,
    Database,
    EventRecord,
    RecordedEvent,
    Snapshot,
    Store,
    TruthSample,
    utc_day,
)
from engine.storage.auto_prune import AutoPrune
from engine.storage.retention import DAY, KEPT_TABLES, PRUNABLE_TABLES, vacuum
from engine.storage.size import database_size, row_counts
from engine.storage.tables import RecordedEventRow, SignalRow, SnapshotRow, table_of

NOW = 1_767_225_600.0  # 2026-01-01 00:00 UTC
OLD = NOW - 60 * DAY
NEW = NOW - 3_600.0
RETENTION = RetentionSettings(
    snapshots_days=30,
    rejected_signals_days=14,
    signals_days=0,  # signals that became orders: kept
    engine_events_days=30,
    rejection_counts_days=30,
    recorded_events_days=30,
)


def _signal(ts: float, market: str, decision: str) -> Signal:
    reason = "min_edge: 0.01 < 0.05" if decision == "rejected" else None
    return Signal(ts, market, Outcome.YES, Side.BUY, 0.6, 0.5, 0.52, 0.08, 10.0, decision, reason)


def _cycle(run: str, ts: float, n: int) -> CycleRecord:
    """One cycle with a row in every growing table and every money table."""
    order = OrderRequest(
        f"{run}-o{n}", ts, "m1", "m1-y", Outcome.YES, Side.BUY, 10, 0.53, 0.6, 0.08
    )
    fill = Fill(order.order_id, ts, "m1", Outcome.YES, Side.BUY, 0.52, 10.0, 0.01)
    return CycleRecord(
        run_id=run,
        ts=ts,
        markets=[Market("m1", "Rain?", "weather", "m1-y", "m1-n", OLD - DAY, NOW + DAY)],
        snapshots=[Snapshot(ts, m, 0.5, 0.52, 0.51, 0.02, 100.0, 90.0) for m in ("m1", "m2")],
        signals=[_signal(ts, "m1", "order"), _signal(ts, "m2", "rejected")],
        orders=[ExecutionReport(order, fills=[fill], status="filled")],
        fills=[fill],
        positions=[Position("m1", Outcome.YES, 10.0 * n, 0.52)],
        events=[EventRecord(ts, "INFO", "cycle", f"cycle {n}")],
        rejections={"min_edge": 1},
        daily_pnl=DailyPnl(utc_day(ts), 1000.0, 1000.0, 1000.0),
        recorded=[RecordedEvent(ts, "trade", '{"x": 1}')],
        truth=TruthSample(ts, ("m1", "m2"), [0.5, 0.25]),
    )


def _intent(run: str, ts: float) -> TradeIntent:
    return TradeIntent(
        intent_id=f"{run}-i",
        created_ts=ts,
        expires_ts=ts + 300,
        market_id="m1",
        token_id="m1-y",
        outcome=Outcome.YES,
        side=Side.BUY,
        size=10.0,
        limit_price=0.5,
        p_model=0.6,
        edge=0.08,
    )


@pytest.fixture
def store(db: Database) -> Store:
    """Two runs, each with old (60 days) and recent (1 hour) cycles: "ended" has stopped,
    "running" is still running (so its recording is kept however old)."""
    s = Store(db)
    for run in ("ended", "running"):
        s.start_run(run, OLD, "paper", "sim")
        s.record_cycle(_cycle(run, OLD, 1))
        s.record_cycle(_cycle(run, OLD + 10, 2))
        IntentStore(db).create([_intent(run, OLD)], run)
    s.record_cycle(_cycle("running", NEW, 3))
    s.end_run("ended", "completed", OLD + 20)
    return s


def _counts(db: Database) -> dict[str, int]:
    return row_counts(db, [*PRUNABLE_TABLES, *KEPT_TABLES])


def test_prune_deletes_only_old_rows_of_prunable_tables(store: Store, db: Database) -> None:
    before = _counts(db)
    report = store.prune(NOW, RETENTION, pause_seconds=0)
    after = _counts(db)

    for table in KEPT_TABLES:  # money records and labels: untouched, however old
        assert after[table.name] == before[table.name] > 0, table.name
    assert after["snapshots"] == 2  # the recent cycle's two markets
    assert after["engine_events"] == 1 and after["rejection_counts"] == 1
    with db.read() as conn:
        sig = table_of(SignalRow)
        left = conn.execute(select(sig.c.decision, sig.c.ts).order_by(sig.c.ts)).all()
        rec = table_of(RecordedEventRow)
        recordings = set(conn.execute(select(rec.c.run_id)).scalars())
        snaps = table_of(SnapshotRow)
        oldest = conn.execute(select(snaps.c.ts).order_by(snaps.c.ts).limit(1)).scalar()
    # Every signal that became an order is kept; of the rejected ones, only the recent.
    assert sorted(left) == sorted(
        [("order", OLD)] * 2 + [("order", OLD + 10)] * 2 + [("order", NEW), ("rejected", NEW)]
    )
    assert recordings == {"running"}  # the ended run's recording went whole
    assert oldest == NEW
    assert report.deleted == {t: before[t] - after[t] for t in report.deleted}
    assert report.total == sum(before.values()) - sum(after.values()) > 0
    assert not report.dry_run and not report.stopped
    assert store.prune(NOW, RETENTION, pause_seconds=0).total == 0  # nothing left to do


def test_a_dry_run_counts_exactly_what_a_prune_then_deletes(store: Store, db: Database) -> None:
    before = _counts(db)
    dry = store.prune(NOW, RETENTION, dry_run=True)
    assert dry.dry_run and dry.total > 0
    assert _counts(db) == before
    assert store.prune(NOW, RETENTION, pause_seconds=0).deleted == dry.deleted


def test_zero_days_keeps_forever_and_signals_days_prunes_the_accepted_ones(
    store: Store, db: Database
) -> None:
    keep_all = RetentionSettings(
        snapshots_days=0,
        rejected_signals_days=0,
        signals_days=0,
        engine_events_days=0,
        rejection_counts_days=0,
        recorded_events_days=0,
    )
    assert store.prune(NOW, keep_all).total == 0
    accepted = keep_all.model_copy(update={"signals_days": 30.0})
    report = store.prune(NOW, accepted, pause_seconds=0)
    assert report.deleted["signals"] == 4  # two old cycles x two runs, decision "order"
    assert report.total == 4


def test_a_recording_goes_whole_and_only_once_its_run_is_over(db: Database) -> None:
    store = Store(db)
    store.start_run("rec", OLD, "paper", "sim")
    store.record_cycle(_cycle("rec", OLD, 1))
    store.record_cycle(_cycle("rec", NOW - 20 * DAY, 2))  # within 30 days: all of it stays
    assert store.prune(NOW, RETENTION, pause_seconds=0).deleted["recorded_events"] == 0
    later = NOW + 15 * DAY  # its last event is now 35 days old, but the run still runs
    assert store.prune(later, RETENTION, pause_seconds=0).deleted["recorded_events"] == 0
    store.end_run("rec", "completed", NOW - 20 * DAY)
    assert store.prune(later, RETENTION, pause_seconds=0).deleted["recorded_events"] == 2


def test_a_prune_larger_than_a_batch_goes_in_transactions_of_about_a_batch(db: Database) -> None:
    store = Store(db)
    store.start_run("big", OLD, "paper", "sim")
    n = 1_050
    store.record_cycle(
        CycleRecord(
            run_id="big",
            ts=OLD,
            snapshots=[Snapshot(OLD + i, f"m{i % 7}", 0.5, 0.52, 0.51, 0.02) for i in range(n)],
            signals=[_signal(OLD + i, "m1", "rejected") for i in range(n)],
        )
    )
    deletes: list[int] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(cursor.rowcount)

    event.listen(db.engine, "after_cursor_execute", count)
    try:
        report = store.prune(
            NOW, RETENTION.model_copy(update={"prune_batch_rows": 100}), pause_seconds=0
        )
    finally:
        event.remove(db.engine, "after_cursor_execute", count)
    assert report.deleted["snapshots"] == report.deleted["signals"] == n
    assert max(deletes) == 100  # distinct times: exactly one batch per transaction
    assert len(deletes) == report.batches == 2 * 11  # ten full batches and the rest, per table


def test_a_stop_request_ends_the_prune_after_the_batch_in_progress(store: Store) -> None:
    halt = threading.Event()
    halt.set()
    report = store.prune(NOW, RETENTION, stop=halt, pause_seconds=0)
    assert report.stopped and report.batches == 0 and report.total == 0


def test_vacuum_shrinks_sqlite_and_later_prunes_give_pages_back(store: Store, db: Database) -> None:
    if db.dialect != "sqlite":
        vacuum(db)  # PostgreSQL: a plain VACUUM ANALYZE, nothing to measure
        return
    store.record_cycle(
        CycleRecord(
            run_id="running",
            ts=OLD,
            snapshots=[Snapshot(OLD, f"m{i}", 0.5, 0.52, 0.51, 0.02) for i in range(20_000)],
        )
    )
    vacuum(db)  # turns on incremental auto-vacuum
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2
    size = database_size(db)
    report = store.prune(NOW, RETENTION, pause_seconds=0)
    assert report.freed_pages > 100
    after = database_size(db)
    assert after.free_bytes == 0
    with db.write() as conn:
        conn.exec_driver_sql("SELECT 1")
    raw = db.engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    assert database_size(db).file_bytes < size.file_bytes  # type: ignore[operator]


_DAY_FIELDS = [n for n in RetentionSettings.model_fields if n.endswith("_days")]


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*RetentionSettings.model_fields]),
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(-(10**12), 10**12),
            st.text(max_size=4),
            st.none(),
            st.lists(st.integers(), max_size=2),
        ),
    )
)
def test_retention_settings_load_bounded_or_fail_with_one_line_each(values: dict[str, Any]) -> None:
    try:
        loaded = load_settings(None, {"retention": values}).retention
    except ConfigError as exc:
        assert exc.problems and all(p.startswith("retention.") for p in exc.problems)
        return
    for name in _DAY_FIELDS:
        assert 0.0 <= getattr(loaded, name) <= 36_500.0
    assert 0.0 <= loaded.prune_interval_seconds <= 30 * DAY
    assert 100 <= loaded.prune_batch_rows <= 1_000_000


# --- the daemon's automatic prune ----------------------------------------------------------


def test_the_automatic_prune_runs_at_start_and_every_interval(store: Store, db: Database) -> None:
    fast = RETENTION.model_copy(update={"prune_interval_seconds": 0.05})

    async def run() -> AutoPrune:
        async with AutoPrune(store, fast, lambda: NOW, pause_seconds=0) as pruner:
            await asyncio.sleep(0.4)
        return pruner

    pruner = asyncio.run(run())
    assert len(pruner.reports) >= 2
    assert pruner.reports[0].total > 0 and pruner.reports[-1].total == 0
    assert _counts(db)["snapshots"] == 2


class _BrokenStore(Store):
    def prune(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk I/O error\nSQL: DELETE FROM snapshots ...")


def test_a_failing_prune_is_logged_and_never_ends_the_run(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    fast = RETENTION.model_copy(update={"prune_interval_seconds": 0.05})

    async def run() -> None:
        async with AutoPrune(_BrokenStore(db), fast, lambda: NOW):
            await asyncio.sleep(0.2)

    with caplog.at_level(logging.WARNING, logger="polyb0t.prune"):
        asyncio.run(run())
    failures = [
        r.getMessage() for r in caplog.records if "automatic prune failed" in r.getMessage()
    ]
    assert len(failures) >= 2  # tried again at the next interval
    assert "disk I/O error" in failures[0] and "SQL:" not in failures[0]


def test_interval_zero_never_prunes(store: Store, db: Database) -> None:
    off = RETENTION.model_copy(update={"prune_interval_seconds": 0.0})

    async def run() -> AutoPrune:
        async with AutoPrune(store, off, lambda: NOW) as pruner:
            await asyncio.sleep(0.05)
        return pruner

    assert asyncio.run(run()).reports == []
    assert _counts(db)["snapshots"] == 10

"""The engine's database writes off the step: a writer thread, batched transactions, and
failures that are never silent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from engine.config import load_settings
from engine.run.step_result import StepResult
from engine.storage import CycleRecord, Database, Store
from engine.storage import writer as writer_module
from engine.storage.writer import RecordingFailed, RecordWriter
from polyb0t_tui.runtime import build_runtime
from tests.sim_edge import with_edge

START = "2026-03-02T00:00:00Z"


def _run_records(tmp_path: Path) -> list[CycleRecord]:
    """Every record a seeded paper run hands its writer (orders, fills, positions, state)."""
    settings = load_settings(  # an edge the baseline knows (tests.sim_edge): it trades
        None,
        with_edge(
            {"data_dir": str(tmp_path / "run"), "sim": {"seed": 7, "start": START, "markets": 120}}
        ),
    )
    rt = build_runtime(settings, speed=None)
    seen: list[CycleRecord] = []
    writer = rt.engine.recorder.writer
    submit = writer.submit

    def keep(rec: CycleRecord) -> None:
        seen.append(rec)
        submit(rec)

    writer.submit = keep  # type: ignore[method-assign,assignment]
    asyncio.run(rt.engine.run(asyncio.Event(), cycles=40))
    return seen


def _dump(db: Database) -> dict[str, list[tuple[object, ...]]]:
    out: dict[str, list[tuple[object, ...]]] = {}
    with db.read() as conn:
        for table in sorted(inspect(conn).get_table_names()):
            cols = [c["name"] for c in inspect(conn).get_columns(table) if c["name"] != "id"]
            query = f'SELECT {", ".join(cols)} FROM "{table}"'
            out[table] = sorted((tuple(r) for r in conn.execute(text(query))), key=repr)
    return out


def test_records_written_in_batches_leave_the_database_as_one_by_one(tmp_path: Path) -> None:
    records = _run_records(tmp_path)
    assert sum(len(r.fills) for r in records) > 0 and sum(len(r.positions) for r in records) > 0
    dumps = []
    for name, chunk in (("one", 1), ("batched", 7)):
        db = Database(f"sqlite:///{(tmp_path / f'{name}.db').as_posix()}")
        db.init()
        store = Store(db)
        for k in range(0, len(records), chunk):
            store.record_cycles(records[k : k + chunk])
        dumps.append(_dump(db))
        db.close()
    assert dumps[0] == dumps[1]


class _Failing(Store):
    def record_cycles(self, batches: Sequence[CycleRecord]) -> None:
        raise OSError("disk full")


class _FailsUntilFixed(Store):
    """A disk that is full until `fixed` is set."""

    fixed = False

    def record_cycles(self, batches: Sequence[CycleRecord]) -> None:
        if not self.fixed:
            raise OSError("disk full")
        super().record_cycles(batches)


def test_a_failed_write_is_raised_by_the_next_submit_and_by_flush(db: Database) -> None:
    writer = RecordWriter(_Failing(db))
    writer.start()
    writer.submit(CycleRecord(run_id="r", ts=1.0))
    with pytest.raises(RecordingFailed, match="disk full"):
        writer.flush()
    with pytest.raises(RecordingFailed, match="still failing"):  # the writes still fail
        writer.submit(CycleRecord(run_id="r", ts=2.0))
    writer._queue.join()  # written (and failed) in the background
    with pytest.raises(RecordingFailed, match="database write failed: OSError: disk full"):
        writer.submit(CycleRecord(run_id="r", ts=3.0))  # the step that comes next hears of it
    with pytest.raises(RecordingFailed):
        writer.close()


def test_submits_fail_while_the_database_does_and_go_through_once_it_recovers(
    db: Database,
) -> None:
    """One failed transaction may hold many steps' records: every step hears of the failure
    while it lasts (so the error-rate kill switch can halt); once the database takes writes
    again, submits go through and their records are stored."""
    store = _FailsUntilFixed(db)
    store.start_run("r", 1.0, "paper", "sim")
    writer = RecordWriter(store)
    writer.start()
    writer.submit(CycleRecord(run_id="r", ts=1.0, rejections={"cooldown": 1}))
    writer._queue.join()
    for k in range(2, 6):  # however the writer batches them, each of these steps fails
        with pytest.raises(RecordingFailed):
            writer.submit(CycleRecord(run_id="r", ts=float(k), rejections={"cooldown": 1}))
    writer._queue.join()
    store.fixed = True
    with pytest.raises(RecordingFailed):  # the last failure is still to be heard of
        writer.submit(CycleRecord(run_id="r", ts=6.0, rejections={"cooldown": 1}))
    writer._queue.join()  # the queue drains into the mended database
    writer.submit(CycleRecord(run_id="r", ts=7.0, rejections={"cooldown": 1}))
    writer.close()
    counted = store.report(run_id="r").rejections_by_reason["cooldown"]
    assert counted == 2  # the steps after the mend; those while broken were lost, and said so


class _Counting(Store):
    """Counts the transactions and the records each held."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.transactions: list[int] = []

    def record_cycles(self, batches: Sequence[CycleRecord]) -> None:
        self.transactions.append(len(batches))
        super().record_cycles(batches)


def test_a_burst_of_steps_is_one_transaction_and_flush_writes_without_waiting(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harness submits hundreds of steps a second: they are gathered into a few
    transactions (a commit costs more than a step's rows), and `flush` cuts the gathering
    short instead of waiting out the window (made 60 s here, so waiting would show)."""
    monkeypatch.setattr(writer_module, "BATCH_SECONDS", 60.0)
    store = _Counting(db)
    store.start_run("r", 1.0, "paper", "sim")
    writer = RecordWriter(store)
    writer.start()
    for k in range(50):
        writer.submit(CycleRecord(run_id="r", ts=float(k), rejections={"cooldown": 1}))
    t0 = time.monotonic()
    writer.flush()
    assert sum(store.transactions) == 50 and len(store.transactions) <= 2
    assert store.report(run_id="r").rejections_by_reason == {"cooldown": 50}
    writer.submit(CycleRecord(run_id="r", ts=60.0, rejections={"cooldown": 1}))
    writer.flush()  # one lone record: written now, not when the window ends
    assert time.monotonic() - t0 < 30.0
    assert store.report(run_id="r").rejections_by_reason == {"cooldown": 51}
    writer.close()


def test_close_writes_everything_queued_and_later_writes_go_straight_through(
    db: Database,
) -> None:
    store = Store(db)
    store.start_run("r", 1.0, "paper", "sim")
    writer = RecordWriter(store)
    writer.start()
    for k in range(100):
        writer.submit(CycleRecord(run_id="r", ts=float(k), rejections={"cooldown": k}))
    writer.close()
    assert store.report(run_id="r").rejections_by_reason == {"cooldown": sum(range(100))}
    writer.submit(CycleRecord(run_id="r", ts=500.0, rejections={"cooldown": 1}))  # no thread
    assert store.report(run_id="r").rejections_by_reason == {"cooldown": sum(range(100)) + 1}


def test_an_engine_whose_writes_fail_counts_the_failed_steps_and_halts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(
        None,
        {
            "data_dir": str(tmp_path / "data"),
            "sim": {"seed": 7, "start": START, "markets": 60},
            "risk": {"error_window_steps": 10, "error_limit": 3},
        },
    )
    rt = build_runtime(settings, speed=None)
    store = rt.storage.store
    write = store.record_cycles
    halted: list[str | None] = []

    def failing_after_three_cycles(batches: Sequence[CycleRecord]) -> None:
        if rt.cycle.count >= 3:
            raise OSError("disk full")
        write(batches)

    store.record_cycles = failing_after_three_cycles  # type: ignore[method-assign]
    step = rt.engine.step

    queue = rt.engine.recorder.writer._queue

    def watched(t: float, do_cycle: bool) -> StepResult:
        # Each step starts once the writer has tried the last one's record (as a database
        # that keeps up would), so whether a failure reaches the next step does not depend
        # on how far the writer thread lags.
        queue.join()
        halted.append(rt.control.reason)
        return step(t, do_cycle)

    rt.engine.step = watched  # type: ignore[method-assign]
    summary = asyncio.run(rt.engine.run(asyncio.Event(), cycles=12))  # the run survives
    assert summary.errors >= 3
    assert "error rate: 3 of the last 10 steps failed" in halted
    assert any("database write failed" in r.getMessage() for r in caplog.records)

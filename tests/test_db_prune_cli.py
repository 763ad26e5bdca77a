"""`polyb0t db prune`, the database size in `polyb0t status`, and the daemon's own prune."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import polyb0t_tui.cli.run as run_cli
from engine.config import load_settings
from engine.storage import CycleRecord, EventRecord, Snapshot
from engine.storage.auto_prune import AutoPrune
from engine.storage.retention import DAY, KEPT_TABLES, PRUNABLE_TABLES
from engine.storage.size import row_counts
from engine.storage.tables import SnapshotRow, table_of
from polyb0t_tui.cli import main
from polyb0t_tui.runtime import open_storage

SIM_START = "2026-03-02T00:00:00Z"
SIM_T0 = 1_772_409_600.0  # SIM_START


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("POLYBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def _seed(now: float) -> dict[str, int]:
    """A run with cycles 400 days before `now` and one an hour before; the rows per table."""
    storage = open_storage(load_settings(), create=True)
    store = storage.store
    store.start_run("r1", now - 400 * DAY, "paper", "sim")
    for ts in (now - 400 * DAY, now - 400 * DAY + 10, now - 3600):
        store.record_cycle(
            CycleRecord(
                run_id="r1",
                ts=ts,
                snapshots=[Snapshot(ts, f"m{i}", 0.4, 0.42, 0.41, 0.02) for i in range(5)],
                events=[EventRecord(ts, "INFO", "cycle", "a cycle")],
                rejections={"min_edge": 3},
            )
        )
    counts = _counts()
    storage.db.close()
    return counts


def _counts() -> dict[str, int]:
    storage = open_storage(load_settings(), create=False)
    try:
        return row_counts(storage.db, [*PRUNABLE_TABLES, *KEPT_TABLES])
    finally:
        storage.db.close()


def _oldest_snapshot() -> float:
    storage = open_storage(load_settings(), create=False)
    snaps = table_of(SnapshotRow)
    try:
        with storage.db.read() as conn:
            return float(conn.execute(select(func.min(snaps.c.ts))).scalar_one())
    finally:
        storage.db.close()


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


def test_a_dry_run_changes_nothing_and_says_what_a_prune_removes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _seed(time.time())
    assert main(["db", "prune", "--dry-run", "--json"]) == 0
    dry = _json(capsys)
    assert dry["dry_run"] is True
    assert dry["deleted"] == {
        "snapshots": 10,
        "signals": 0,
        "engine_events": 2,
        "rejection_counts": 2,
        "recorded_events": 0,
    }
    assert _counts() == before
    assert dry["size_before"]["total_bytes"] > 0

    assert main(["db", "prune", "--json"]) == 0
    done = _json(capsys)
    assert done["deleted"] == dry["deleted"] and done["total"] == 14
    after = _counts()
    assert after["snapshots"] == 5 and after["engine_events"] == 1
    assert set(done["kept"]) >= {"fills", "orders", "intents", "positions", "daily_pnl"}
    assert done["rules"]["snapshots"] == "older than 14 days"


def test_prune_with_vacuum_prints_each_table_and_the_size(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _seed(time.time())
    assert main(["db", "prune", "--vacuum"]) == 0
    out = capsys.readouterr().out
    assert "snapshots" in out and "deleted" in out and "10" in out
    assert "never deleted: fills, orders, intents, positions, daily_pnl, runs, markets" in out
    assert "14 rows in" in out and "after VACUUM" in out
    assert main(["db", "prune", "--dry-run", "--vacuum"]) == 0
    out = capsys.readouterr().out
    assert "nothing changed (0 rows would go)" in out and "--vacuum skipped" in out


def test_prune_needs_a_database_and_refuses_bad_retention(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "prune"]) == 1
    assert "polyb0t db init" in capsys.readouterr().err
    monkeypatch.setenv("POLYBOT_RETENTION__SNAPSHOTS_DAYS", "-1")
    assert main(["db", "prune"]) == 2
    assert "retention.snapshots_days" in capsys.readouterr().err


def test_status_shows_the_database_size(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _seed(time.time())
    assert main(["status", "--json"]) == 0
    size = _json(capsys)["database"]
    db_file = tmp_path / "data" / "polybot.db"
    wal = db_file.with_name("polybot.db-wal")
    on_disk = db_file.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    assert size["total_bytes"] == on_disk > 0
    assert size["file_bytes"] == db_file.stat().st_size
    assert main(["status"]) == 0
    assert "database" in capsys.readouterr().out


def test_the_daemon_prunes_by_its_engine_clock(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(SIM_T0)  # old rows 400 days before the simulated start
    monkeypatch.setenv("POLYBOT_SIM__START", SIM_START)
    monkeypatch.setenv("POLYBOT_SIM__MARKETS", "20")
    monkeypatch.setenv("POLYBOT_CONTROL__ENABLED", "false")
    used: list[AutoPrune] = []

    class FinishesFirstPrune(AutoPrune):
        """The daemon's pruner, made to let its first prune finish before the run's end
        stops it (a tiny sim run can end before the prune thread has started)."""

        async def __aexit__(self, *exc: Any) -> None:
            while not self.reports:
                await asyncio.sleep(0.01)
            used.append(self)
            await super().__aexit__(*exc)

    monkeypatch.setattr(run_cli, "AutoPrune", FinishesFirstPrune)
    assert main(["run", "--daemon", "--source", "sim", "--cycles", "3", "--speed", "max"]) == 0
    (pruner,) = used
    first = pruner.reports[0]
    assert first.now == pytest.approx(SIM_T0, abs=60)  # engine time, not the wall clock
    assert first.deleted["snapshots"] == 10
    assert _oldest_snapshot() == SIM_T0 - 3600  # the seeded recent cycle; the old ones went
    assert "pruned 14 rows" in capsys.readouterr().err

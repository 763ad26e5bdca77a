"""How fast the database grows: the real daemon path, with snapshot compaction off and on.

Workload: `build_runtime` + `Engine.run` at --speed max on the seeded sim (paper mode, every
default setting but the ones named, and an edge the baseline knows, bench/sim_edge.py, so that
signals, orders and fills grow as a trading engine's do), for each simulated span, on a fresh
SQLite file each time; compaction "off" is `snapshot_max_interval_seconds = 0` (every active
market at every snapshot step, the behaviour before compaction). Printed per run: rows per
growing table, the file size after a WAL checkpoint, and bytes per simulated hour and day.

Then the recorder's snapshot selection alone at `--snapshot-markets` markets (default
10,000): `SnapshotCompactor.take` on a seeded sim state, per snapshot step, median over
`--snapshot-steps` steps (no database): the work the engine step pays for compaction.

Run: python bench/db_growth.py [--markets 2000] [--hours 1 6] [--snapshot-markets 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from sim_edge import with_edge

from engine.config import RetentionSettings, load_settings
from engine.state.market_state import MarketState
from engine.storage.retention import PRUNABLE_TABLES
from engine.storage.size import database_size, fmt_bytes, row_counts
from engine.storage.snapshots import SnapshotCompactor
from polyb0t_tui.runtime import build_runtime, build_source

START = "2026-03-02T00:00:00Z"
HOUR = 3600.0


def grow(markets: int, hours: float, compact: bool) -> dict[str, dict[str, float]]:
    """One run on a fresh database: rows and bytes per table (indexes included), the file's
    bytes and the wall seconds, under "rows", "bytes" and "run"."""
    with tempfile.TemporaryDirectory() as tmp:
        over: dict[str, object] = {
            "data_dir": tmp,
            "sim": {"markets": markets, "seed": 1, "start": START},
        }
        if not compact:
            over["snapshot_max_interval_seconds"] = 0.0
        settings = load_settings(None, with_edge(over))
        rt = build_runtime(settings, speed=None)
        w0 = time.perf_counter()
        asyncio.run(rt.engine.run(asyncio.Event(), duration=hours * HOUR))
        wall = time.perf_counter() - w0
        db = rt.storage.db
        raw = db.engine.raw_connection()
        try:  # fold the WAL into the file, so the file's size is the data's
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute(
                "SELECT s.tbl_name, SUM(d.pgsize) FROM dbstat d "
                "JOIN sqlite_schema s ON s.name = d.name GROUP BY s.tbl_name"
            )
            table_bytes = {str(name): float(n) for name, n in cursor.fetchall()}
        finally:
            raw.close()
        size = database_size(db)
        rows = row_counts(db, list(PRUNABLE_TABLES))
        db.close()
        return {
            "rows": {k: float(v) for k, v in rows.items()},
            "bytes": table_bytes,
            "run": {"bytes": float(size.total_bytes), "wall_s": wall},
        }


def steady_state(r: dict[str, dict[str, float]], hours: float) -> None:
    """Bytes per simulated day per prunable table, and what the default retention keeps."""
    keep = RetentionSettings()
    days = {
        "snapshots": keep.snapshots_days,
        "signals": keep.rejected_signals_days,  # nearly all signal rows are rejections
        "engine_events": keep.engine_events_days,
        "rejection_counts": keep.rejection_counts_days,
        "recorded_events": keep.recorded_events_days,
    }
    total = 0.0
    print("table | per sim day | kept (days) | kept (bytes)")
    for name, kept_days in days.items():
        stored = r["bytes"].get(name, 0.0) if r["rows"][name] else 0.0  # empty: one page
        per_day = stored / hours * 24
        held = per_day * kept_days
        total += held
        print(f"{name} | {fmt_bytes(per_day)} | {kept_days:g} | {fmt_bytes(held)}")
    fixed = r["run"]["bytes"] - sum(r["bytes"].get(n, 0.0) for n in days)
    print(f"everything else (markets, runs, ...; grows with markets, fills) | {fmt_bytes(fixed)}")
    print(f"steady state with the default retention: about {fmt_bytes(total + fixed)}")


def time_snapshots(markets: int, steps: int) -> tuple[float, float, int]:
    """(median ms per snapshot step, max ms, median rows stored) of the selection alone."""
    settings = load_settings(None, {"sim": {"markets": markets, "seed": 1, "start": START}})
    assert settings.sim.start is not None
    t0 = settings.sim.start.timestamp()
    src = build_source(settings, t0)
    asyncio.run(src.start())
    state = MarketState(depth=settings.sim.book_levels, history=8, capacity=markets + 64)
    for m in src.discover():
        state.add_market(m)
    compactor = SnapshotCompactor(
        state, settings.features.depth_levels, settings.snapshot_max_interval_seconds
    )
    ms: list[float] = []
    stored: list[int] = []
    warmup = 5  # the first step stores every market (nothing stored yet)
    for k in range(warmup + steps):
        t = t0 + k * settings.snapshot_interval_seconds
        state.apply(src.poll(t))
        c0 = time.perf_counter()
        rows = compactor.take(t)
        elapsed = (time.perf_counter() - c0) * 1000
        if k >= warmup:
            ms.append(elapsed)
            stored.append(len(rows))
    asyncio.run(src.stop())
    return statistics.median(ms), max(ms), int(statistics.median(stored))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--markets", type=int, default=2000)
    ap.add_argument("--hours", type=float, nargs="+", default=[1.0, 6.0])
    ap.add_argument("--snapshot-markets", type=int, default=10_000)
    ap.add_argument("--snapshot-steps", type=int, default=30)
    ap.add_argument("--skip-growth", action="store_true")
    args = ap.parse_args()

    if not args.skip_growth:
        tables = [t.name for t in PRUNABLE_TABLES]
        head = ["span", "compaction", *tables, "size", "per sim hour", "per sim day", "wall"]
        print(" | ".join(head))
        last: dict[str, dict[str, float]] = {}
        for hours in args.hours:
            for compact in (False, True):
                last = grow(args.markets, hours, compact)
                size = last["run"]["bytes"]
                cells = [
                    f"{hours:g} h",
                    "on" if compact else "off",
                    *(f"{int(last['rows'][name]):,}" for name in tables),
                    fmt_bytes(size),
                    fmt_bytes(size / hours),
                    fmt_bytes(size / hours * 24),
                    f"{last['run']['wall_s']:.0f} s",
                ]
                print(" | ".join(cells), flush=True)
        print(f"\n{args.markets:,} markets, compaction on, {args.hours[-1]:g} simulated hours:")
        steady_state(last, args.hours[-1])

    med, worst, rows = time_snapshots(args.snapshot_markets, args.snapshot_steps)
    print(
        f"snapshot selection, {args.snapshot_markets:,} markets: median {med:.2f} ms, "
        f"max {worst:.2f} ms per snapshot step ({rows:,} rows stored, median)"
    )


if __name__ == "__main__":
    main()

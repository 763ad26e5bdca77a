"""`polyb0t db prune`: apply the retention settings now, and say what it removed.

The same prune the daemon runs every `retention.prune_interval_seconds`, at wall-clock time
(the daemon uses its engine's clock). Safe while a daemon writes the same database: the
deletes go in batches that leave the write lock to the engine between them. `--vacuum`
then gives the freed space back to the disk (on SQLite it blocks writers while it runs).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict

from engine.config import RetentionSettings, mask_url
from engine.storage import StorageError
from engine.storage.retention import KEPT_TABLES, vacuum
from engine.storage.size import database_size
from polyb0t_tui.cli.common import (
    CliError,
    print_json,
    settings_from,
    storage_from,
)


def cmd_db_prune(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    storage = storage_from(settings)
    db = storage.db
    retention = settings.retention
    try:
        before = database_size(db)
        report = storage.store.prune(time.time(), retention, dry_run=args.dry_run)
        vacuumed = bool(args.vacuum and not args.dry_run)
        if vacuumed:
            vacuum(db)
        after = database_size(db)
    except StorageError as exc:
        raise CliError(str(exc)) from None
    finally:
        db.close()
    rules = _rules(retention)
    if args.json:
        print_json(
            {
                "database": mask_url(settings.db_url),
                **asdict(report),
                "total": report.total,
                "rules": rules,
                "vacuumed": vacuumed,
                "size_before": asdict(before),
                "size_after": asdict(after),
                "kept": [t.name for t in KEPT_TABLES],
            }
        )
        return 0
    verb = "would delete" if report.dry_run else "deleted"
    print(f"database {mask_url(settings.db_url)}: {before.describe()}")
    width = max(len(name) for name in report.deleted)
    for name, n in report.deleted.items():
        print(f"  {name.ljust(width)}  {verb} {n:>12,}   ({rules[name]})")
    print(f"  never deleted: {', '.join(t.name for t in KEPT_TABLES)}")
    if report.dry_run:
        print(f"dry run: nothing changed ({report.total:,} rows would go)")
        if args.vacuum:
            print("--vacuum skipped on a dry run")
        return 0
    done = f"{report.total:,} rows in {report.batches} batches, {report.seconds:.1f} s"
    print(f"{done}; database now {after.describe()}" + (" after VACUUM" if vacuumed else ""))
    if report.total and not vacuumed and after.free_bytes is not None:
        print("  (the freed pages are reused by new rows; --vacuum shrinks the file)")
    return 0


def _rules(r: RetentionSettings) -> dict[str, str]:
    """Each prunable table's rule, in words."""

    def days(d: float, what: str = "") -> str:
        return f"{what}kept forever" if d <= 0 else f"{what}older than {d:g} days"

    return {
        "snapshots": days(r.snapshots_days),
        "signals": days(r.rejected_signals_days, "rejected: ")
        + "; "
        + days(r.signals_days, "others: "),
        "engine_events": days(r.engine_events_days),
        "rejection_counts": days(r.rejection_counts_days),
        "recorded_events": "kept forever"
        if r.recorded_events_days <= 0
        else f"whole recordings ended more than {r.recorded_events_days:g} days ago",
    }

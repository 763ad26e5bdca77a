"""Schema versions and migrations.

A fresh database gets the whole current schema at once (`create_all`) and is stamped with the
newest version; an existing one is brought forward by the migrations newer than its stamp, in
order, in the same transaction as the stamp. So a migration only ever runs on a database that
already exists, and it must cope with objects the current `create_all` would make (create
tables with `checkfirst=True`, add a column only if missing): a database reset by an older
polyb0t can still hold tables a newer one created.

Anything we cannot reason about is refused rather than touched: a stamp newer than the code
(someone ran a newer polyb0t on it), a stamp older than the oldest migration we still ship,
or tables without our `schema_meta` (not a polyb0t database). The messages say what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, inspect, select, text

from engine.storage.errors import SchemaError
from engine.storage.tables import (
    BackfillProgressRow,
    PriceHistoryRow,
    RecordedEventRow,
    RejectionCountRow,
    RunRow,
    SchemaMeta,
    SimTruthRow,
    TableBase,
    table_of,
)

APP_NAME = "polyb0t"
_META = table_of(SchemaMeta)
_APP_KEY = "app"
_VERSION_KEY = "schema_version"


@dataclass(frozen=True, slots=True)
class Migration:
    """Brings a database from `version - 1` to `version`; runs inside the caller's
    transaction, which also records the new version."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _baseline(conn: Connection) -> None:
    # Never called on upgrade (nothing is older than the baseline); it documents what v1 is
    # and lets a test migration list start from a real first step.
    TableBase.metadata.create_all(conn)


def _recorded_events(conn: Connection) -> None:
    table_of(RecordedEventRow).create(conn, checkfirst=True)


def _backfill(conn: Connection) -> None:
    # Both new tables, nothing altered: the existing data is untouched.
    table_of(PriceHistoryRow).create(conn, checkfirst=True)
    table_of(BackfillProgressRow).create(conn, checkfirst=True)


def _runs_and_safety(conn: Connection) -> None:
    """runs.seq / host / pid, intents.override, rejection_counts. Existing runs are numbered
    in the order their start times (then ids) give, the best order there is for them."""
    _add_column(conn, "runs", "seq", "INTEGER")
    _add_column(conn, "runs", "host", "VARCHAR")
    _add_column(conn, "runs", "pid", "INTEGER")
    _add_column(conn, "intents", "override", "TEXT")
    conn.execute(
        text(
            "UPDATE runs SET seq = (SELECT COUNT(*) FROM runs r2 WHERE r2.started_ts < "
            "runs.started_ts OR (r2.started_ts = runs.started_ts AND r2.run_id <= runs.run_id))"
            " WHERE seq IS NULL"
        )
    )
    runs = table_of(RunRow)
    for index in runs.indexes:
        index.create(conn, checkfirst=True)
    table_of(RejectionCountRow).create(conn, checkfirst=True)


def _add_column(conn: Connection, table: str, column: str, sql_type: str) -> None:
    if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


def _fee_exponent(conn: Connection) -> None:
    """markets.fee_exponent: markets stored before it had exponent 1 (all that was known)."""
    _add_column(conn, "markets", "fee_exponent", "FLOAT NOT NULL DEFAULT 1.0")


def _sim_truth(conn: Connection) -> None:
    table_of(SimTruthRow).create(conn, checkfirst=True)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "baseline: runs, markets, snapshots, signals, intents, orders, fills, positions, "
        "daily_pnl, engine_events, engine_state",
        _baseline,
    ),
    Migration(2, "recorded_events: source events kept for --source replay", _recorded_events),
    Migration(
        3, "price_history, backfill_progress: polyb0t backfill's history and resume", _backfill
    ),
    Migration(
        4,
        "runs.seq/host/pid (run order, crashed runs), intents.override, rejection_counts",
        _runs_and_safety,
    ),
    Migration(5, "markets.fee_exponent: each market's taker fee exponent", _fee_exponent),
    Migration(6, "sim_truth: the simulated markets' hidden P(YES), for validation", _sim_truth),
)


def validate_migrations(migrations: Sequence[Migration]) -> None:
    """A broken list is a programming error: fail at construction, not mid-upgrade."""
    if not migrations:
        raise ValueError("at least the baseline migration is needed")
    versions = [m.version for m in migrations]
    if versions != sorted(set(versions)) or versions[0] < 1:
        raise ValueError(f"migration versions must be positive and strictly increasing: {versions}")


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    """What a database holds compared with what this code expects."""

    found: int | None  # None: an empty database (no tables at all)
    code: int

    @property
    def fresh(self) -> bool:
        return self.found is None

    @property
    def up_to_date(self) -> bool:
        return self.found == self.code


def read_status(conn: Connection, migrations: Sequence[Migration], where: str) -> SchemaStatus:
    """Inspect the database on `conn`; raise `SchemaError` when it must not be used.

    `where` is the masked URL, for the messages.
    """
    code = migrations[-1].version
    names = set(inspect(conn).get_table_names())
    if not names:
        return SchemaStatus(found=None, code=code)
    meta: dict[str, str] = {}
    if _META.name in names:
        meta = {row.key: row.value for row in conn.execute(select(_META.c.key, _META.c.value))}
    if meta.get(_APP_KEY) != APP_NAME or _VERSION_KEY not in meta:
        shown = ", ".join(sorted(names)[:6]) + (", ..." if len(names) > 6 else "")
        raise SchemaError(
            f"the database at {where} is not a polyb0t database: it has tables ({shown}) but "
            f"no polyb0t schema record. Point database_url at an empty database (by default "
            f"a SQLite file under data_dir), or, if it is an old polyb0t database you no "
            f"longer need, erase it with `polyb0t db reset`."
        )
    try:
        found = int(meta[_VERSION_KEY])
    except ValueError:
        raise SchemaError(
            f"the database at {where} has an unreadable schema version "
            f"{meta[_VERSION_KEY]!r}; erase it with `polyb0t db reset`"
        ) from None
    if found > code:
        raise SchemaError(
            f"the database at {where} has schema version {found}, newer than this polyb0t "
            f"understands ({code}). Upgrade polyb0t, point database_url at another database, "
            f"or erase this one with `polyb0t db reset`."
        )
    oldest = migrations[0].version
    if found < oldest:
        raise SchemaError(
            f"the database at {where} has schema version {found}, older than the oldest this "
            f"polyb0t can migrate ({oldest}). Erase it with `polyb0t db reset` or point "
            f"database_url at a new database."
        )
    return SchemaStatus(found=found, code=code)


def pending(migrations: Sequence[Migration], status: SchemaStatus) -> list[Migration]:
    if status.found is None:
        return []
    return [m for m in migrations if m.version > status.found]


def stamp(conn: Connection, version: int) -> None:
    conn.execute(delete(_META).where(_META.c.key.in_([_APP_KEY, _VERSION_KEY])))
    conn.execute(
        insert(_META),
        [{"key": _APP_KEY, "value": APP_NAME}, {"key": _VERSION_KEY, "value": str(version)}],
    )

"""Database lifecycle: create, version, migrate, refuse, reset; SQLite settings; URL safety."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, select, text, update

from engine.storage import (
    MIGRATIONS,
    Database,
    DatabaseUnavailable,
    Migration,
    SchemaError,
    SchemaStatus,
    StorageError,
    Store,
    normalise_url,
)
from engine.storage.database import SQLITE_CACHE_KIB
from engine.storage.tables import SchemaMeta, TableBase, table_of

META = table_of(SchemaMeta)
CODE = MIGRATIONS[-1].version


def _set_version(db: Database, version: int) -> None:
    with db.write() as conn:
        conn.execute(update(META).where(META.c.key == "schema_version").values(value=str(version)))


def _stored_version(db: Database) -> str:
    with db.read() as conn:
        value: str = conn.execute(
            select(META.c.value).where(META.c.key == "schema_version")
        ).scalar_one()
    return value


def test_empty_database_reports_fresh_and_readers_are_told_to_init(db_url: str) -> None:
    db = Database(db_url)
    assert db.check() == SchemaStatus(found=None, code=CODE)
    with pytest.raises(SchemaError, match="polyb0t db init"):
        db.require_ready()
    db.close()


def test_init_creates_schema_and_records_version(db: Database) -> None:
    assert db.check() == SchemaStatus(found=CODE, code=CODE)
    assert _stored_version(db) == str(CODE) and db.schema_version() == CODE
    with db.read() as conn:
        tables = set(inspect(conn).get_table_names())
    assert set(TableBase.metadata.tables) <= tables
    db.require_ready()


def test_init_is_idempotent_and_keeps_data(db: Database) -> None:
    Store(db).start_run("run-1", 1.0, "paper", "sim", seed=7)
    assert db.init() == SchemaStatus(found=CODE, code=CODE)
    assert db.ensure_ready().up_to_date
    again = Database(db.url.render_as_string(hide_password=False))
    again.init()
    run = Store(again).latest_run()
    assert run is not None and run.run_id == "run-1" and run.seed == 7
    again.close()


def test_reset_empties_every_table(db: Database) -> None:
    store = Store(db)
    store.start_run("run-1", 1.0, "paper", "sim")
    assert db.reset().up_to_date
    assert store.latest_run() is None
    assert db.check().up_to_date


def test_newer_schema_is_refused_with_advice(db: Database) -> None:
    _set_version(db, CODE + 5)
    for call in (db.check, db.init, db.ensure_ready):
        with pytest.raises(SchemaError, match="newer than this polyb0t") as err:
            call()
        assert "polyb0t db reset" in str(err.value)
    assert _stored_version(db) == str(CODE + 5)  # untouched


def test_older_schema_is_migrated_in_order(db: Database) -> None:
    applied: list[int] = []

    def add_marker(conn: Connection) -> None:
        applied.append(2)
        conn.execute(text("CREATE TABLE migration_marker (id INTEGER PRIMARY KEY)"))

    def bump(conn: Connection) -> None:
        applied.append(3)
        conn.execute(text("INSERT INTO migration_marker (id) VALUES (3)"))

    url = db.url.render_as_string(hide_password=False)
    newer_code = Database(
        url,
        migrations=(
            *MIGRATIONS,
            Migration(CODE + 1, "marker table", add_marker),
            Migration(CODE + 2, "marker row", bump),
        ),
    )
    before = newer_code.ensure_ready()
    assert before == SchemaStatus(found=CODE, code=CODE + 2)
    assert applied == [2, 3]
    assert newer_code.check().up_to_date
    assert newer_code.ensure_ready().up_to_date and applied == [2, 3]  # not re-run
    with newer_code.read() as conn:
        assert conn.execute(text("SELECT id FROM migration_marker")).scalar_one() == 3
    # The older code now sees a database from its future and refuses it.
    with pytest.raises(SchemaError, match="newer"):
        db.check()
    newer_code.close()


def test_failed_migration_leaves_database_at_old_version(db: Database) -> None:
    def broken(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE half_done (id INTEGER PRIMARY KEY)"))
        raise RuntimeError("boom")

    url = db.url.render_as_string(hide_password=False)
    newer_code = Database(url, migrations=(*MIGRATIONS, Migration(CODE + 1, "broken", broken)))
    with pytest.raises(RuntimeError, match="boom"):
        newer_code.init()
    assert db.check() == SchemaStatus(found=CODE, code=CODE)
    with db.read() as conn:
        assert "half_done" not in inspect(conn).get_table_names()
    newer_code.close()


def test_schema_older_than_any_migration_is_refused(db: Database) -> None:
    _set_version(db, 0)
    with pytest.raises(SchemaError, match="older than the oldest") as err:
        db.ensure_ready()
    assert "polyb0t db reset" in str(err.value)


def test_foreign_tables_without_schema_meta_are_refused(db_url: str) -> None:
    db = Database(db_url)
    with db.write() as conn:
        conn.execute(text("CREATE TABLE customers (id INTEGER PRIMARY KEY)"))
    for call in (db.check, db.init, db.ensure_ready):
        with pytest.raises(SchemaError, match="not a polyb0t database") as err:
            call()
        assert "customers" in str(err.value)
    with db.read() as conn:
        assert inspect(conn).get_table_names() == ["customers"]  # nothing created
    db.close()


def _init_together(url: str, starters: int = 4) -> list[BaseException]:
    """`starters` threads, each with its own Database, call init() at the same moment."""
    barrier = threading.Barrier(starters)
    errors: list[BaseException] = []

    def start() -> None:
        database = Database(url)
        try:
            barrier.wait(timeout=10)
            database.init()
        except BaseException as exc:  # collected and asserted on by the caller
            errors.append(exc)
        finally:
            database.close()

    threads = [threading.Thread(target=start) for _ in range(starters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return errors


def test_concurrent_init_on_an_empty_database(db_url: str) -> None:
    assert _init_together(db_url) == []
    db = Database(db_url)
    assert db.check().up_to_date
    db.close()


def test_sqlite_new_file_opened_by_several_at_once(tmp_path: Path) -> None:
    # Regression: switching a new file to WAL answered "database is locked" at once (no busy
    # wait) to all but one of the connections opening it together.
    for n in range(30):
        url = f"sqlite:///{(tmp_path / str(n) / 'polybot.db').as_posix()}"
        assert _init_together(url) == []


def test_migration_list_must_increase() -> None:
    first = MIGRATIONS[0]
    with pytest.raises(ValueError, match="strictly increasing"):
        Database("sqlite://", migrations=(first, first))
    with pytest.raises(ValueError, match="baseline"):
        Database("sqlite://", migrations=())


# --- SQLite specifics ------------------------------------------------------------------------


def test_sqlite_uses_wal_busy_timeout_foreign_keys_and_a_large_page_cache(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nested" / "deeper" / "polybot.db"
    db = Database(f"sqlite:///{path.as_posix()}")
    db.init()
    assert path.is_file()  # parent folders created
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -SQLITE_CACHE_KIB
    db.close()


def test_sqlite_in_memory_is_one_database() -> None:
    with Database("sqlite://") as db:
        db.init()
        Store(db).start_run("r", 1.0, "paper", "sim")
        assert Store(db).latest_run() is not None


def test_write_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute(META.insert().values(key="probe", value="x"))
        raise RuntimeError("abort")
    with db.read() as conn:
        assert conn.execute(select(META.c.value).where(META.c.key == "probe")).first() is None


def test_default_settings_url_lives_under_data_dir(tmp_path: Path) -> None:
    from engine.config import Settings

    settings = Settings(data_dir=tmp_path / "d")
    with Database.from_settings(settings) as db:
        db.init()
    assert (tmp_path / "d" / "polybot.db").is_file()


# --- URLs and secrets ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "postgresql://u:pw@localhost/db",
        "postgres://u:pw@localhost/db",
        "postgresql+psycopg://u:pw@localhost/db",
    ],
)
def test_postgres_urls_use_psycopg3(raw: str) -> None:
    assert normalise_url(raw).drivername == "postgresql+psycopg"


def test_password_never_appears_in_errors_or_repr() -> None:
    db = Database("postgresql://trader:s3cr3t-pw@127.0.0.1:1/polybot")
    assert "s3cr3t-pw" not in repr(db) and "s3cr3t-pw" not in db.display_url
    with pytest.raises(DatabaseUnavailable) as err:
        db.check()
    assert "s3cr3t-pw" not in str(err.value)
    assert "trader:********@127.0.0.1:1/polybot" in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__
    db.close()


@pytest.mark.parametrize(
    "raw",
    ["mysql://u:s3cr3t-pw@h/db", "not a url s3cr3t-pw@x", "postgresql://u:s3cr3t-pw@h:port/db"],
)
def test_unsupported_or_bad_urls_are_refused_without_the_password(raw: str) -> None:
    with pytest.raises(StorageError) as err:
        Database(raw)
    assert "s3cr3t-pw" not in str(err.value)


def test_a_version_1_database_gains_recorded_events_and_keeps_its_data(db: Database) -> None:
    """The real v1 -> v2 migration: an existing database from before recording."""
    from engine.storage import Store

    store = Store(db)
    store.start_run(run_id="old", started_ts=1.0, mode="paper", source="sim")
    with db.write() as conn:
        conn.execute(text("DROP TABLE recorded_events"))
    _set_version(db, 1)
    url = db.url.render_as_string(hide_password=False)
    reopened = Database(url)
    before = reopened.ensure_ready()
    assert before.found == 1 and reopened.check().up_to_date
    with reopened.read() as conn:
        assert "recorded_events" in inspect(conn).get_table_names()
    assert Store(reopened).latest_run() is not None
    assert _stored_version(reopened) == str(CODE)
    reopened.close()


def test_a_version_3_database_numbers_its_runs_in_start_order(db: Database) -> None:
    store = Store(db)
    for run_id, ts in (("b-run", 60.0), ("a-run", 60.0), ("c-run", 30.0)):
        store.start_run(run_id, ts, "paper", "sim")
    with db.write() as conn:  # what a version-3 polyb0t left behind
        conn.execute(text("DROP INDEX ix_runs_seq"))
        for table, column in (("runs", "seq"), ("runs", "host"), ("runs", "pid")):
            conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(text("ALTER TABLE intents DROP COLUMN override"))
        conn.execute(text("DROP TABLE rejection_counts"))
    _set_version(db, 3)
    assert db.ensure_ready().found == 3 and db.check().up_to_date
    with db.read() as conn:
        order = conn.execute(text("SELECT run_id, seq FROM runs ORDER BY seq")).all()
    assert [tuple(r) for r in order] == [("c-run", 1), ("a-run", 2), ("b-run", 3)]
    store.start_run("d-run", 0.0, "paper", "sim")  # started last, whatever its engine time
    latest = store.latest_run()
    assert latest is not None and latest.run_id == "d-run" and latest.seq == 4


def test_a_version_4_database_gives_its_markets_fee_exponent_1(db: Database) -> None:
    """Before v5 only the rate was stored: those markets read back with exponent 1 (all that
    was known then), and new markets keep their own exponent."""
    from tests.risk_factories import market

    store = Store(db)
    store.upsert_markets([market("old", fee_rate=0.02)], now=1.0)
    with db.write() as conn:  # what a version-4 polyb0t left behind
        conn.execute(text("ALTER TABLE markets DROP COLUMN fee_exponent"))
    _set_version(db, 4)
    assert db.ensure_ready().found == 4 and db.check().up_to_date
    store.upsert_markets([market("new", fee_rate=0.02, fee_exponent=2.0)], now=2.0)
    exponents = {m.market_id: (m.fee_rate, m.fee_exponent) for m in store.markets()}
    assert exponents == {"old": (0.02, 1.0), "new": (0.02, 2.0)}


def test_a_version_5_database_gains_the_sim_truth_table_and_keeps_its_data(db: Database) -> None:
    """The real v5 -> v6 migration: a database from before the truth was recorded."""
    from engine.storage import CycleRecord, TruthSample

    store = Store(db)
    store.start_run("old", 1.0, "paper", "sim", seed=3)
    with db.write() as conn:  # what a version-5 polyb0t left behind
        conn.execute(text("DROP TABLE sim_truth"))
    _set_version(db, 5)
    assert db.ensure_ready().found == 5 and db.check().up_to_date
    with db.read() as conn:
        assert "sim_truth" in inspect(conn).get_table_names()
    store.record_cycle(CycleRecord("old", 2.0, truth=TruthSample(2.0, ("m",), [0.4])))
    assert store.sim_truth("old") == [TruthSample(2.0, ("m",), [0.4])]
    latest = store.latest_run()
    assert latest is not None and latest.seed == 3

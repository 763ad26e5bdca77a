"""One database handle per process: the engine, the CLI and each test build their own.

SQLite (the default) is set up for several processes on one file: WAL so readers never block
the writer, a busy timeout so a second writer waits instead of failing, and transactions we
begin ourselves. pysqlite's own transaction handling defers BEGIN until the first DML and
commits before DDL, which would make schema changes non-atomic; we switch it off and emit
BEGIN (or BEGIN IMMEDIATE for `write()`, taking the write lock up front so a transaction that
reads before it writes cannot fail half-way with SQLITE_BUSY).

PostgreSQL is chosen by URL; `postgresql://` and `postgres://` are rewritten to psycopg 3,
the driver we ship. Passwords never appear in what we raise: messages use the masked URL and
driver errors are scrubbed of the password.

A SQLite file is created 0600 in a 0700 folder (see `engine.file_modes`) before SQLite
first opens it, so the -wal and -shm files SQLite adds are 0600 too. Readers pass
`create=False` and get `DatabaseMissing` instead of an empty file made as a side effect;
a file that is not a database at all is `NotADatabase`, which `reset()` replaces.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import StaticPool

from engine.config import Settings, mask_url
from engine.file_modes import PRIVATE_FILE, create_private_file, make_private_dir, open_to_others
from engine.redact import Redactor
from engine.storage.errors import (
    DatabaseMissing,
    DatabaseUnavailable,
    NotADatabase,
    SchemaError,
    StorageError,
)
from engine.storage.schema import (
    MIGRATIONS,
    Migration,
    SchemaStatus,
    pending,
    read_status,
    stamp,
    validate_migrations,
)
from engine.storage.tables import TableBase

BUSY_TIMEOUT_MS = 5_000
_WRITE_OPTION = "polybot_write"
# Any constant works: it only has to be the same in every polyb0t process.
_PG_SCHEMA_LOCK = 0x706F6C79  # "poly"
# SQLite's answers for a file it cannot read as a database: SQLITE_NOTADB (random bytes, a
# text file) and SQLITE_CORRUPT (a damaged page).
_SQLITE_UNREADABLE = frozenset({26, 11})
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def normalise_url(raw: str) -> URL:
    """Parse a database URL and pick our driver; refuse backends we do not support."""
    try:
        url = make_url(raw)
    except (sa_exc.ArgumentError, ValueError):
        # Not echoed: we cannot tell which part of an unparseable URL is a password.
        raise StorageError(
            "database_url is not a valid URL: expected sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST[:PORT]/DB"
        ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StorageError(
            f"unsupported database {backend!r} in {mask_url(raw)}: use sqlite:///PATH or "
            f"postgresql://USER:PASSWORD@HOST/DB"
        )
    return url


class Database:
    """Engine, connections and schema lifecycle for one database URL."""

    def __init__(
        self,
        url: str,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        create: bool = True,
        redact: Redactor | None = None,
    ) -> None:
        """`create=False`: a SQLite file that does not exist is `DatabaseMissing`, and
        nothing (file or folder) is created. `redact` masks the configured secrets in every
        free text the stores write (messages, reasons), as the log filter does in logs."""
        validate_migrations(migrations)
        self.redact = redact or Redactor()
        self.url = normalise_url(url)
        self.display_url = mask_url(self.url.render_as_string(hide_password=False))
        self._password = self.url.password
        self._migrations = tuple(migrations)
        self._create = create
        self.engine: Engine = self._create_engine()

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(settings.db_url)

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql": the few SQL differences branch on this."""
        return self.url.get_backend_name()

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None (PostgreSQL, in-memory)."""
        database = self.url.database or ""
        if self.dialect != "sqlite" or database in ("", ":memory:"):
            return None
        return Path(database).expanduser()

    def files_open_to_others(self) -> list[str]:
        """A warning line per database file (and -wal/-shm) that others may read."""
        path = self.sqlite_path
        if path is None:
            return []
        files = [path, *(path.with_name(path.name + s) for s in _SQLITE_SIDE_FILES)]
        return [w for f in files if (w := open_to_others(f, PRIVATE_FILE)) is not None]

    @property
    def code_version(self) -> int:
        return self._migrations[-1].version

    def __repr__(self) -> str:
        return f"Database({self.display_url!r})"

    # --- engine ------------------------------------------------------------------------------

    def _create_engine(self) -> Engine:
        if self.dialect == "postgresql":
            return create_engine(self.url, pool_pre_ping=True)
        database = self.url.database or ""
        if database in ("", ":memory:"):
            # One shared connection, or every checkout would see its own empty database.
            engine = create_engine(
                self.url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            self._prepare_file(Path(database).expanduser())
            engine = create_engine(self.url)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine

    def _prepare_file(self, path: Path) -> None:
        """The file exists (readers), or is created private before SQLite opens it."""
        if not self._create:
            if not path.exists():
                raise DatabaseMissing(
                    f"there is no database at {path}: `polyb0t run` creates it on first use, "
                    "or create an empty one with `polyb0t db init`"
                )
            return
        try:
            make_private_dir(path.parent)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot create the folder for {self.display_url}: {exc.strerror or exc}"
            ) from None
        try:
            create_private_file(path)
        except IsADirectoryError:
            pass  # SQLite says it cannot open it, with the path
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot create {self.display_url}: {exc.strerror or exc}"
            ) from None

    def close(self) -> None:
        """Close pooled connections (tests and short CLI commands; the engine keeps one)."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- connections -------------------------------------------------------------------------

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()
        except sa_exc.DBAPIError as exc:
            if self._unreadable(exc):
                raise self._not_a_database() from None
            raise DatabaseUnavailable(
                f"cannot open {self.display_url}: {self._scrub(str(exc.orig))}"
            ) from None
        with conn:
            try:
                yield conn
            except sa_exc.DBAPIError as exc:
                if self._unreadable(exc):  # a damaged page shows only when read
                    raise self._not_a_database() from None
                raise

    def _unreadable(self, exc: sa_exc.DBAPIError) -> bool:
        code = getattr(exc.orig, "sqlite_errorcode", None)
        return self.dialect == "sqlite" and code in _SQLITE_UNREADABLE

    def _not_a_database(self) -> NotADatabase:
        return NotADatabase(
            f"{self.display_url} is not a readable SQLite database (damaged, or not a database "
            "at all): `polyb0t db reset` replaces it with an empty one (what it held is lost)"
        )

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one consistent snapshot for several queries (a report)."""
        with self._connect() as conn:
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed on success and rolled back on any exception."""
        with self._connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def _scrub(self, message: str) -> str:
        if self._password:
            message = message.replace(self._password, "********")
        return message

    # --- schema ------------------------------------------------------------------------------

    def check(self) -> SchemaStatus:
        """What the database holds, without changing it; `SchemaError` if it must not be
        used (newer schema, too old to migrate, not a polyb0t database)."""
        with self.read() as conn:
            return read_status(conn, self._migrations, self.display_url)

    def schema_version(self) -> int | None:
        """The version stamped in the database (None when empty); `SchemaError` as `check`."""
        return self.check().found

    def init(self) -> SchemaStatus:
        """Create the schema on an empty database or migrate an older one; idempotent.

        Returns the status found before the call, so a caller can say whether it created,
        migrated or found the database ready. Concurrent callers are serialised (SQLite's
        write lock, a PostgreSQL advisory lock), so two processes starting together cannot
        both create tables.
        """
        with self.write() as conn:
            self._lock_schema(conn)
            status = read_status(conn, self._migrations, self.display_url)
            if status.fresh:
                TableBase.metadata.create_all(conn)
                stamp(conn, self.code_version)
            for migration in pending(self._migrations, status):
                migration.apply(conn)
                stamp(conn, migration.version)
            return status

    def ensure_ready(self) -> SchemaStatus:
        """What every process calls at start: `init()` only when something is to be done,
        so the common case (already current) takes no write lock."""
        status = self.check()
        return status if status.up_to_date else self.init()

    def reset(self) -> SchemaStatus:
        """Drop polyb0t's tables and create them empty (`polyb0t db reset`).

        Tables that are not polyb0t's are left alone. A SQLite file that is not a database
        (`NotADatabase`) is replaced by a new, empty one, with its -wal/-shm: whoever calls
        this has asked for everything in it to go, and nothing else could ever open it.
        Returns the new status.
        """
        try:
            self._recreate()
        except NotADatabase:
            path = self.sqlite_path
            if path is None:
                raise
            self._replace_file(path)
            self._recreate()
        return SchemaStatus(found=self.code_version, code=self.code_version)

    def _recreate(self) -> None:
        with self.write() as conn:
            self._lock_schema(conn)
            TableBase.metadata.drop_all(conn)
            TableBase.metadata.create_all(conn)
            stamp(conn, self.code_version)

    def _replace_file(self, path: Path) -> None:
        self.engine.dispose()
        try:
            for f in (path, *(path.with_name(path.name + s) for s in _SQLITE_SIDE_FILES)):
                if f.is_symlink() or f.is_file():  # a link goes, never what it points to
                    f.unlink()
            create_private_file(path)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot replace {self.display_url}: {exc.strerror or exc}"
            ) from None

    def require_ready(self) -> None:
        """For readers (the CLI) that must not create anything: refuse an empty or outdated
        database with a message saying what to run."""
        status = self.check()
        if status.fresh:
            raise SchemaError(
                f"the database at {self.display_url} is empty: start polyb0t once or run "
                f"`polyb0t db init`"
            )
        if not status.up_to_date:
            raise SchemaError(
                f"the database at {self.display_url} has schema version {status.found}; this "
                f"polyb0t needs {status.code}: run `polyb0t db init` to migrate it"
            )

    def _lock_schema(self, conn: Connection) -> None:
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK})


SQLITE_CACHE_KIB = 64 * 1024
WAL_CHECKPOINT_PAGES = 10_000  # about 40 MB of WAL between checkpoints


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Transactions are ours (see the module docstring); pragmas run outside any transaction,
    # which journal_mode requires.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough under WAL, much faster
        # Page cache per connection, in KiB (SQLite's default is 2 MiB): the snapshot table's
        # (market, time) index outgrows that within hours at 10,000 markets, and every insert
        # then reads its pages back from the OS, which made a long run's writes ever slower.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # Checkpoint the WAL into the file every WAL_CHECKPOINT_PAGES pages (SQLite's default
        # is 1,000, 4 MB): each checkpoint fsyncs, and an index page the engine rewrites
        # every step is copied once per checkpoint, so a fast run spent more time in them
        # than in its inserts (snapshot rows written 2.3x as fast with this).
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent; a no-op once done).

    The switch needs an exclusive lock, and SQLite answers "database is locked" at once,
    without waiting out the busy timeout, when several connections open a new file together
    (two processes starting on an empty data dir). So we wait here ourselves.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

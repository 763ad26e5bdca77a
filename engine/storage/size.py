"""How big the database is, for `polyb0t status`, `db prune` and the growth bench.

SQLite: the file plus its `-wal` (what the disk holds; the WAL is folded back into the
file at checkpoints but keeps its size), and the free pages inside the file (space deleted
rows left, which new rows reuse before the file grows). PostgreSQL: `pg_database_size`, the
whole database on the server (every schema; the server reuses the space of deleted rows once
autovacuum has passed). Cheap on both: no table is scanned.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, func, select, text

from engine.storage.database import Database


@dataclass(frozen=True, slots=True)
class DatabaseSize:
    total_bytes: int  # on disk: file + WAL (SQLite), the database (PostgreSQL)
    file_bytes: int | None = None  # SQLite only
    wal_bytes: int | None = None  # SQLite only
    free_bytes: int | None = None  # SQLite: pages inside the file that new rows will reuse

    def describe(self) -> str:
        """One line, e.g. "1.2 GB (file 1.1 GB, WAL 80 MB, 300 MB free inside)"."""
        if self.file_bytes is None:
            return fmt_bytes(self.total_bytes)
        parts = [f"file {fmt_bytes(self.file_bytes)}", f"WAL {fmt_bytes(self.wal_bytes or 0)}"]
        if self.free_bytes:
            parts.append(f"{fmt_bytes(self.free_bytes)} free inside")
        return f"{fmt_bytes(self.total_bytes)} ({', '.join(parts)})"


def database_size(db: Database) -> DatabaseSize:
    if db.dialect == "postgresql":
        with db.read() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        return DatabaseSize(total_bytes=int(size or 0))
    with db.read() as conn:
        page = int(conn.exec_driver_sql("PRAGMA page_size").scalar() or 0)
        pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)
        free = int(conn.exec_driver_sql("PRAGMA freelist_count").scalar() or 0)
    name = db.url.database or ""
    if name in ("", ":memory:"):
        return DatabaseSize(page * pages, page * pages, 0, page * free)
    path = Path(name).expanduser()
    file_bytes = _size_of(path)
    wal_bytes = _size_of(path.with_name(path.name + "-wal"))
    return DatabaseSize(file_bytes + wal_bytes, file_bytes, wal_bytes, page * free)


def row_counts(db: Database, tables: list[Table]) -> dict[str, int]:
    """Rows per table (a scan each: for the growth bench and tests, never `status`)."""
    with db.read() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in tables
        }


def fmt_bytes(n: float) -> str:
    """Bytes for a person, in powers of 1000 (what `ls -lh --si` and disks say)."""
    units = ("B", "KB", "MB", "GB", "TB")
    k = 0
    while abs(n) >= 1000 and k < len(units) - 1:
        n /= 1000
        k += 1
    return f"{n:.0f} B" if k == 0 else f"{n:.1f} {units[k]}"


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0

"""The few SQL constructs SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert `rows`, overwriting the non-key columns of rows whose `keys` already exist.

    One executemany statement (`INSERT ... ON CONFLICT DO UPDATE`, which both backends have),
    so it stays a bulk write and is atomic per row under concurrent writers.
    """
    if not rows:
        return
    dialect = conn.dialect.name
    stmt: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - Database refuses other backends
        raise NotImplementedError(dialect)
    updates = {name: stmt.excluded[name] for name in rows[0] if name not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=updates), list(rows))


def text_before(conn: Connection, column: Column[Any], sep: str) -> ColumnElement[Any]:
    """SQL for `column` up to (not including) the first `sep`; all of it when absent.

    Used to group rejection reasons ("max_position: 0.06 > 0.05") by rule name in the
    database, so a report over a long run does not pull every distinct reason back.
    """
    if conn.dialect.name == "postgresql":
        return func.trim(func.split_part(column, sep, 1))
    cut = func.instr(column + sep, sep)
    return func.trim(func.substr(column, 1, cut - 1))

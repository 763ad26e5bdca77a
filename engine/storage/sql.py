"""The few SQL constructs SQLite and PostgreSQL spell differently."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Executable, Float, Table, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """Insert `rows`, overwriting the non-key columns of rows whose `keys` already exist.

    One executemany statement (`INSERT ... ON CONFLICT DO UPDATE`, which both backends have),
    so it stays a bulk write and is atomic per row under concurrent writers. The statement is
    built once per table, key and column set (the engine writes the same few every step, and
    building one costs more than the write of a handful of rows).
    """
    if not rows:
        return
    columns = tuple(rows[0])
    latest = _last_per_key(rows, keys)
    if _positional(conn.dialect, table, columns):  # SQLite: straight to the driver
        sql = _upsert_sql(conn.dialect, table, tuple(keys), columns)
        conn.exec_driver_sql(sql, [tuple(r[c] for c in columns) for r in latest])
        return
    conn.execute(_upsert_statement(conn.dialect.name, table, tuple(keys), columns), latest)


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys), by the same path as `insert_tuples`."""
    if rows:
        columns = tuple(rows[0])
        insert_tuples(conn, table, columns, [tuple(r[c] for c in columns) for r in rows])


def insert_tuples(
    conn: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert `rows`, each a tuple in `columns` order.

    Where the driver takes positional parameters (SQLite's `?`), straight to its
    executemany: SQLAlchemy's per-row parameter processing costs more than SQLite's insert
    for the thousands of snapshot rows a step can write, and the writer thread holding the
    GIL for it slows the engine step. Other drivers (psycopg's named style) get dicts
    through SQLAlchemy, as before.
    """
    if not rows:
        return
    if _positional(conn.dialect, table, columns):
        conn.exec_driver_sql(_insert_sql(conn.dialect, table, columns), list(rows))
    else:
        conn.execute(table.insert(), [dict(zip(columns, r, strict=True)) for r in rows])


@functools.lru_cache(maxsize=256)
def _positional(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> bool:
    """Can these columns go to the driver as they are? Only with positional parameters
    (SQLite's `?`) and where no column's type converts its values on the way in (JSON,
    dates): the engine's per-step tables hold numbers and text. A float column's only
    conversion is `float()`, which the engine's values (floats, numpy float64) do not need."""
    types = [table.c[c].type for c in columns]
    return dialect.paramstyle == "qmark" and all(
        isinstance(t, Float) or t.bind_processor(dialect) is None for t in types
    )


@functools.lru_cache(maxsize=256)
def _insert_sql(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> str:
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"


@functools.lru_cache(maxsize=256)
def _upsert_sql(
    dialect: Dialect, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]
) -> str:
    """`INSERT ... ON CONFLICT (keys) DO UPDATE` in SQLite's own text."""
    quote = dialect.identifier_preparer.quote
    sets = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in columns if c not in keys)
    action = f"DO UPDATE SET {sets}" if sets else "DO NOTHING"
    conflict = ", ".join(quote(k) for k in keys)
    return f"{_insert_sql(dialect, table, columns)} ON CONFLICT ({conflict}) {action}"


def _last_per_key(rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """One row per key, the last given (what writing them one after another leaves): a
    driver may send the rows as one multi-row statement, where PostgreSQL refuses a key met
    twice."""
    if len(rows) == 1:
        return list(rows)
    latest = {tuple(r[k] for k in keys): r for r in rows}
    return list(latest.values()) if len(latest) < len(rows) else list(rows)


@functools.lru_cache(maxsize=256)
def _upsert_statement(
    dialect: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]
) -> Executable:
    stmt: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - Database refuses other backends
        raise NotImplementedError(dialect)
    updates = {name: stmt.excluded[name] for name in columns if name not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)


def text_before(conn: Connection, column: Column[Any], sep: str) -> ColumnElement[Any]:
    """SQL for `column` up to (not including) the first `sep`; all of it when absent.

    Used to group rejection reasons ("max_position: 0.06 > 0.05") by rule name in the
    database, so a report over a long run does not pull every distinct reason back.
    """
    if conn.dialect.name == "postgresql":
        return func.trim(func.split_part(column, sep, 1))
    cut = func.instr(column + sep, sep)
    return func.trim(func.substr(column, 1, cut - 1))

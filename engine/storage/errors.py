"""Typed storage errors.

Callers (CLI, daemon, TUI) turn these into one line for a person; nothing in storage prints.
Every message that names a database uses the masked URL, so a password never reaches a log.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error storage raises on purpose."""


class DatabaseUnavailable(StorageError):
    """The database cannot be reached or opened (server down, bad path, bad credentials)."""


class SchemaError(StorageError):
    """The database holds something this code must not touch: a newer schema, a schema too
    old to migrate, or tables that are not polyb0t's. The message says what to do."""


class DatabaseMissing(DatabaseUnavailable):
    """A reader asked for a SQLite database that does not exist (and must not create it)."""


class NotADatabase(DatabaseUnavailable):
    """The file at the database path is not a readable SQLite database (random bytes, a
    text file, a damaged page); `polyb0t db reset` replaces it."""

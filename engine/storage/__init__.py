"""Storage: one database (SQLite by default, PostgreSQL by URL) behind a small typed API.

`Database` owns the connection and the schema's life (create, migrate, refuse what it must
not touch); `Store` is what the engine writes each cycle and what the CLI reads;
`engine.execution.intents.IntentStore` keeps live trade intents on the same database.
"""

from engine.storage.database import Database, normalise_url
from engine.storage.errors import (
    DatabaseMissing,
    DatabaseUnavailable,
    NotADatabase,
    SchemaError,
    StorageError,
)
from engine.storage.records import (
    CycleRecord,
    DailyPnl,
    EngineStatus,
    EventRecord,
    RecordedEvent,
    Report,
    RunInfo,
    RunStart,
    Snapshot,
    TruthSample,
    utc_day,
)
from engine.storage.schema import MIGRATIONS, Migration, SchemaStatus
from engine.storage.store import Store

__all__ = [
    "MIGRATIONS",
    "CycleRecord",
    "DailyPnl",
    "Database",
    "DatabaseMissing",
    "DatabaseUnavailable",
    "EngineStatus",
    "EventRecord",
    "Migration",
    "NotADatabase",
    "RecordedEvent",
    "Report",
    "RunInfo",
    "RunStart",
    "SchemaError",
    "SchemaStatus",
    "Snapshot",
    "StorageError",
    "Store",
    "TruthSample",
    "normalise_url",
    "utc_day",
]

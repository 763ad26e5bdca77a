"""The database schema, one sqlmodel class per table.

The classes describe the schema; the hot paths do not build them. `engine.storage.store` and
`engine.execution.intents` write through SQLAlchemy Core on `Model.__table__` (bulk inserts,
conditional updates), because per-row ORM objects cost more than the work itself at thousands
of rows per cycle. The ORM classes are still there for ad-hoc reads (notebooks, `ml/`).

Conventions, chosen so SQLite and PostgreSQL hold the same values:
- times are float seconds since the Unix epoch (`*_ts`), never timezone-aware datetimes;
- enums are stored as their names (`Outcome.YES` -> "YES", `Side.BUY` -> "BUY", intent and
  engine states as their values), so rows stay readable in `sqlite3`/`psql`;
- surrogate ids are BIGINT on PostgreSQL and INTEGER on SQLite (only `INTEGER PRIMARY KEY`
  is SQLite's auto-incrementing rowid).

The tables live in their own `MetaData` (`TableBase.metadata`), not sqlmodel's global one, so
`Database.reset()` drops exactly polyb0t's tables and a stray model elsewhere cannot leak in.
Adding a table (training samples, the model registry) means a class here plus a migration in
`engine.storage.schema`.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, Table, Text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

# Auto-incrementing surrogate key on both backends (see the module docstring).
_ID = BigInteger().with_variant(Integer(), "sqlite")


class TableBase(SQLModel, registry=registry()):
    """Base of every polyb0t table; owns the schema's `MetaData`."""


def table_of(model: type[TableBase]) -> Table:
    """The Core `Table` behind a model, typed (sqlmodel leaves `__table__` untyped)."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


class SchemaMeta(TableBase, table=True):
    """Key/value facts about the database itself: `app` = "polyb0t", `schema_version`."""

    __tablename__ = "schema_meta"

    key: str = Field(primary_key=True)
    value: str


class RunRow(TableBase, table=True):
    """One engine run. `seq` orders runs as they were started (their `started_ts` is engine
    time: two sim runs started in the same minute share it); `host` and `pid` say which
    process ran it, so a later start can tell a run whose process died (a crash) from one
    still running elsewhere."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_seq", "seq", unique=True),)

    run_id: str = Field(primary_key=True)
    seq: int | None = None
    started_ts: float
    ended_ts: float | None = None
    mode: str
    source: str
    seed: int | None = None
    status: str
    settings_json: str = Field(default="{}", sa_type=Text)  # secrets masked by the caller
    host: str | None = None
    pid: int | None = None


class MarketRow(TableBase, table=True):
    __tablename__ = "markets"

    market_id: str = Field(primary_key=True)
    question: str = Field(sa_type=Text)
    category: str
    event_id: str | None = None
    yes_token: str
    no_token: str
    created_ts: float
    end_ts: float
    tick_size: float
    fee_rate: float
    fee_exponent: float = 1.0  # taker fee: shares x fee_rate x (p (1 - p)) ** fee_exponent
    min_order_size: float
    neg_risk: bool = False
    accepting_orders: bool = True
    volume: float = 0.0
    liquidity: float = 0.0
    resolved: bool = False
    payout_yes: float | None = None
    description: str = Field(default="", sa_type=Text)
    updated_ts: float


class SnapshotRow(TableBase, table=True):
    """Top of book per market at a point in time: what `replay` and training read back."""

    __tablename__ = "snapshots"
    __table_args__ = (
        Index("ix_snapshots_market_ts", "market_id", "ts"),
        Index("ix_snapshots_ts", "ts"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    run_id: str | None = None
    ts: float
    market_id: str
    best_bid: float | None = None
    best_ask: float | None = None
    mid: float | None = None
    spread: float | None = None
    bid_depth: float = 0.0
    ask_depth: float = 0.0
    last_trade: float | None = None
    volume: float | None = None


class SignalRow(TableBase, table=True):
    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_run_ts", "run_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    run_id: str
    ts: float
    market_id: str
    outcome: str
    side: str
    p_model: float
    p_market: float
    price: float
    edge: float
    size: float
    decision: str
    reason: str | None = Field(default=None, sa_type=Text)


class IntentRow(TableBase, table=True):
    __tablename__ = "intents"

    intent_id: str = Field(primary_key=True)
    run_id: str
    created_ts: float
    expires_ts: float
    updated_ts: float
    market_id: str
    token_id: str
    outcome: str
    side: str
    size: float
    limit_price: float
    p_model: float
    edge: float
    state: str = Field(index=True)
    question: str = Field(default="", sa_type=Text)
    reason: str | None = Field(default=None, sa_type=Text)
    order_id: str | None = None
    executed_ts: float | None = None
    # The failed re-check a person approved anyway (their decision, kept with the intent).
    override: str | None = Field(default=None, sa_type=Text)


class OrderRow(TableBase, table=True):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_run_ts", "run_id", "ts"),)

    order_id: str = Field(primary_key=True)
    run_id: str
    intent_id: str | None = None
    ts: float
    market_id: str
    token_id: str
    outcome: str
    side: str
    size: float
    limit_price: float
    status: str
    filled_size: float = 0.0
    avg_price: float | None = None
    fee: float = 0.0
    reason: str | None = Field(default=None, sa_type=Text)


class FillRow(TableBase, table=True):
    __tablename__ = "fills"
    __table_args__ = (Index("ix_fills_run_ts", "run_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    run_id: str
    order_id: str
    intent_id: str | None = None
    ts: float
    market_id: str
    outcome: str
    side: str
    price: float
    size: float
    fee: float


class RejectionCountRow(TableBase, table=True):
    """How many signals each risk rule rejected in one cycle. Repeated rejections are not all
    stored as signal rows (`strategy.repeat_signal_seconds`), so the report's totals by reason
    come from here."""

    __tablename__ = "rejection_counts"

    run_id: str = Field(primary_key=True)
    ts: float = Field(primary_key=True)
    rule: str = Field(primary_key=True)
    count: int


class PositionRow(TableBase, table=True):
    """Latest state of each position; a closed one stays with size 0 and its realized PnL."""

    __tablename__ = "positions"

    run_id: str = Field(primary_key=True)
    market_id: str = Field(primary_key=True)
    outcome: str = Field(primary_key=True)
    size: float
    avg_price: float
    realized_pnl: float = 0.0
    event_id: str | None = None
    updated_ts: float


class DailyPnlRow(TableBase, table=True):
    __tablename__ = "daily_pnl"

    run_id: str = Field(primary_key=True)
    day: str = Field(primary_key=True)  # YYYY-MM-DD, UTC
    start_equity: float
    end_equity: float
    peak_equity: float
    realized_pnl: float = 0.0
    unrealized_pnl: float = 0.0
    fees: float = 0.0
    fills: int = 0


class EngineEventRow(TableBase, table=True):
    __tablename__ = "engine_events"
    __table_args__ = (Index("ix_engine_events_run_ts", "run_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    run_id: str
    ts: float
    level: str
    kind: str
    message: str = Field(sa_type=Text)


class RecordedEventRow(TableBase, table=True):
    """Every source event a recording run received, to replay it (`--source replay`).

    The payload is the event as JSON (see `engine.sources.event_codec`); `id` keeps arrival order
    among events with the same timestamp.
    """

    __tablename__ = "recorded_events"
    __table_args__ = (Index("ix_recorded_events_run_id", "run_id", "id"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=_ID)
    run_id: str
    ts: float
    kind: str
    payload: str = Field(sa_type=Text)


class EngineStateRow(TableBase, table=True):
    """One row per run, overwritten every cycle: what `polyb0t status` shows."""

    __tablename__ = "engine_state"

    run_id: str = Field(primary_key=True)
    state: str
    reason: str | None = Field(default=None, sa_type=Text)
    cash: float
    equity: float
    peak_equity: float
    exposure: float
    cycle: int
    updated_ts: float
    pid: int | None = None


class PriceHistoryRow(TableBase, table=True):
    """Past prices of one CLOB token from `/prices-history`, written by `polyb0t backfill`.

    Keyed by (token_id, ts) so fetching an overlapping window again overwrites the same rows
    instead of duplicating them: a re-run, a resumed run and chunk boundaries are all
    idempotent. `market_id` is the condition id, to join `markets` (and its payout) without
    going through the token columns.
    """

    __tablename__ = "price_history"
    __table_args__ = (Index("ix_price_history_market_ts", "market_id", "ts"),)

    token_id: str = Field(primary_key=True)
    ts: float = Field(primary_key=True)
    market_id: str
    price: float


class BackfillProgressRow(TableBase, table=True):
    """How far `polyb0t backfill` got with one token at one fidelity, so an interrupted or
    repeated backfill asks only for what is missing.

    [start_ts, done_ts) is the span whose history is stored, `points` how many points it
    holds. `status`: "partial" (stopped part-way, or still going), "done" (the window was
    complete when fetched; newer points may appear later), "final" (the market had closed:
    its history will not change), "failed" (the last attempt failed; `error` says why, and
    the next run tries again). `fidelity` is what was asked for, `fetched_fidelity` what the
    server answered at (resolved markets only answer at about 12 h).
    """

    __tablename__ = "backfill_progress"

    token_id: str = Field(primary_key=True)
    fidelity: int = Field(primary_key=True)
    market_id: str
    start_ts: float
    done_ts: float
    status: str
    points: int = 0
    fetched_fidelity: int
    error: str | None = Field(default=None, sa_type=Text)
    updated_ts: float


class SimTruthRow(TableBase, table=True):
    """The hidden P(YES) of an open simulated market at one engine time, stored every
    `ml.sample_interval_seconds` of a sim run (`ml.record_truth`): what validation scores a
    model and the market against (the oracle). Written from the source straight to the
    record, never read by the engine: a market's truth is the simulator's secret, not a
    feature. Keyed by (run, market, time), so one market's path reads off the key."""

    __tablename__ = "sim_truth"

    run_id: str = Field(primary_key=True)
    market_id: str = Field(primary_key=True)
    ts: float = Field(primary_key=True)
    truth: float

"""Plain values that cross the storage boundary and are not domain models.

The engine hands a `CycleRecord` to `Store.record_cycle` once per cycle; the CLI and TUI get
`RunInfo`, `EngineStatus`, `EventRecord` and `Report` back. None of them is bound to a
database session, so they can be passed between threads and kept after the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from engine.models import ExecutionReport, Fill, Market, Position, Signal


def utc_day(ts: float) -> str:
    """The UTC day of `ts` as YYYY-MM-DD: the key of `daily_pnl`."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


class Snapshot(NamedTuple):
    """Top of book of one market. A tuple, because the feature step emits thousands per
    cycle; NaN prices (an empty side) are stored as NULL."""

    ts: float
    market_id: str
    best_bid: float | None
    best_ask: float | None
    mid: float | None
    spread: float | None
    bid_depth: float = 0.0
    ask_depth: float = 0.0
    last_trade: float | None = None
    volume: float | None = None


class RecordedEvent(NamedTuple):
    """One source event as recorded for replay: `kind` and JSON `payload` come from
    `engine.sources.event_codec`. `id` is the arrival order (0 before it is stored)."""

    ts: float
    kind: str
    payload: str
    id: int = 0


class TruthSample(NamedTuple):
    """The hidden P(YES) of a simulated source's open markets at engine time `ts` (see
    `SimTruthRow`): ids and values in the same order."""

    ts: float
    market_ids: tuple[str, ...]
    values: list[float]


@dataclass(slots=True, frozen=True)
class RunStart:
    """What a run is recorded with when its engine starts (settings with secrets masked)."""

    mode: str
    source: str
    seed: int | None = None
    settings_json: str = "{}"


@dataclass(slots=True, frozen=True)
class EventRecord:
    """A line of the engine's own log worth keeping (kill switch fired, source reconnected)."""

    ts: float
    level: str  # DEBUG | INFO | WARNING | ERROR
    kind: str  # short machine-readable tag, e.g. "kill_switch"
    message: str


@dataclass(slots=True)
class EngineStatus:
    """The engine's latest state, one row per run (what `polyb0t status` reads)."""

    state: str  # an `engine.models.EngineState` value
    cash: float
    equity: float
    peak_equity: float
    exposure: float
    cycle: int
    updated_ts: float
    reason: str | None = None
    pid: int | None = None


@dataclass(slots=True)
class DailyPnl:
    """One UTC day of one run. `realized_pnl`, `fees` and `fills` are that day's, not
    cumulative; the equities are marks at the day's start, latest and peak."""

    day: str  # YYYY-MM-DD (see `utc_day`)
    start_equity: float
    end_equity: float
    peak_equity: float
    realized_pnl: float = 0.0
    unrealized_pnl: float = 0.0
    fees: float = 0.0
    fills: int = 0


@dataclass(slots=True)
class CycleRecord:
    """Everything one engine cycle writes, stored in one transaction.

    `orders` carry their outcome (status, fill summary); an order seen again in a later cycle
    (a live order that filled later) overwrites its row. `fills` are all new fills of the
    cycle, including those inside `orders`' reports: live fills can arrive for an order sent
    in an earlier cycle, so they are not derived from the reports. `positions` are the ones
    that changed; a closed position is passed with size 0 and keeps its realized PnL.
    """

    run_id: str
    ts: float
    signals: list[Signal] = field(default_factory=list)
    orders: list[ExecutionReport] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    state: EngineStatus | None = None
    daily_pnl: DailyPnl | None = None
    recorded: list[RecordedEvent] = field(default_factory=list)  # only when recording
    markets: list[Market] = field(default_factory=list)  # listed or resolved this cycle
    rejections: dict[str, int] = field(default_factory=dict)  # rule -> signals it rejected
    truth: TruthSample | None = None  # a sim run's truth, every ml.sample_interval_seconds


@dataclass(slots=True, frozen=True)
class RunInfo:
    run_id: str
    started_ts: float
    ended_ts: float | None
    mode: str
    source: str
    seed: int | None
    status: str
    settings_json: str
    seq: int | None = None  # start order (see `RunRow`)
    host: str | None = None
    pid: int | None = None


@dataclass(slots=True, frozen=True)
class Report:
    """Numbers for `polyb0t report`, over one run and an optional time window.

    Fills, fees, signals and orders are counted in [since_ts, until_ts). Realized PnL is the
    positions' total when there is no window, else the sum of the daily rows of the UTC days
    the window touches. `end_equity` is the live engine state when the window is open-ended.
    A report over a window without a run covers every run with records in it: counts and
    PnL are summed over those runs.
    """

    run_id: str | None
    since_ts: float | None
    until_ts: float | None
    start_equity: float | None = None
    end_equity: float | None = None
    realized_pnl: float = 0.0
    fees: float = 0.0
    fills: int = 0
    notional: float = 0.0
    signals: int = 0
    orders: dict[str, int] = field(default_factory=dict)  # by status
    rejections_by_reason: dict[str, int] = field(default_factory=dict)  # by risk rule
    runs: tuple[str, ...] = ()  # the runs covered, oldest first
    # Over several runs: the sum of each run's PnL in the window (their equities are
    # separate accounts, so no single start and end equity is given).
    runs_pnl: float | None = None

    @property
    def pnl(self) -> float | None:
        if self.start_equity is None or self.end_equity is None:
            return self.runs_pnl
        return self.end_equity - self.start_equity

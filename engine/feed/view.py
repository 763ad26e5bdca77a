"""What a screen shows of the engine, as immutable values with change marks.

The engine publishes after every step (from its worker thread); a console pulls a few times a
second with the sequence number it last saw and gets only what changed since: market rows
whose values moved, and the small panes (signals, intents, portfolio, experts, log) whole.
Pull is cheap and never blocks the engine for more than a copy, so any number of consoles,
in-process or attached over the control socket, can follow one engine.

`ViewStore` is the part both ends share: the engine's `EngineView` writes deltas into one,
and an attached console applies the deltas it receives to its own, so the UI code is the
same in both cases.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

# --- values --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarketRow:
    row: int  # stable index: rows are never removed
    market_id: str
    question: str
    category: str
    bid: float
    ask: float
    mid: float
    spread: float
    change_24h: float  # mid now minus mid ~24 h ago (or the oldest sample we have)
    volume: float
    end_ts: float  # the UI derives time to resolution at render time
    p_model: float  # P(YES) from the active predictor
    edge: float  # best of buy-YES / buy-NO edge at top of book after fees
    active: bool
    trusted: bool


@dataclass(frozen=True, slots=True)
class StatusView:
    mode: str  # PAPER | LIVE | LIVE DRY-RUN
    source: str
    state: str  # running | paused | halted | stopped | starting
    reason: str | None
    data_age: float  # seconds since the newest book update (engine time)
    cash: float
    equity: float
    pnl_today: float
    cycle: int
    ts: float  # engine time of this publication


@dataclass(frozen=True, slots=True)
class SignalView:
    ts: float
    market_id: str
    question: str
    outcome: str  # YES | NO
    side: str  # BUY | SELL
    p_model: float
    p_market: float
    edge: float
    size: float
    decision: str  # order | intent | rejected
    reason: str | None


@dataclass(frozen=True, slots=True)
class IntentView:
    intent_id: str
    market_id: str
    question: str
    outcome: str
    side: str
    price: float
    size: float
    cost: float
    edge: float
    state: str
    created_ts: float
    expires_ts: float
    updated_ts: float
    reason: str | None


@dataclass(frozen=True, slots=True)
class PositionView:
    market_id: str
    question: str
    outcome: str
    size: float
    avg_price: float
    mark: float
    unrealized: float
    realized: float
    event_id: str | None


@dataclass(frozen=True, slots=True)
class PortfolioView:
    cash: float
    equity: float
    realized: float
    unrealized: float
    exposure: float
    exposure_by_event: tuple[tuple[str, float], ...]
    positions: tuple[PositionView, ...]
    equity_curve: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class ExpertView:
    name: str
    state: str  # ACTIVE | PROBATION | SUSPENDED | DEPRECATED
    weight: float
    brier: float | None  # over markets resolved while we watched
    brier_market: float | None  # the market price's Brier on the same markets
    resolved: int
    last_trained: float | None


@dataclass(frozen=True, slots=True)
class LogLine:
    seq: int
    ts: float  # wall time
    level: str
    message: str


@dataclass(frozen=True, slots=True)
class MarketDetail:
    market_id: str
    question: str
    category: str
    description: str
    end_ts: float
    tick_size: float
    fee_rate: float
    history: tuple[tuple[float, float], ...]  # (engine ts, mid), oldest first
    bids: tuple[tuple[float, float], ...]  # (price, size), best first
    asks: tuple[tuple[float, float], ...]
    signals: tuple[SignalView, ...]  # newest first


@dataclass(frozen=True, slots=True)
class ViewDelta:
    """Everything newer than the `since` a pull asked for. `rows` hold only changed rows;
    the other panes are always whole (they are small). `full` means rows are all of them."""

    seq: int
    n_rows: int
    rows: tuple[MarketRow, ...]
    status: StatusView | None
    signals: tuple[SignalView, ...]
    intents: tuple[IntentView, ...]
    portfolio: PortfolioView | None
    experts: tuple[ExpertView, ...]
    log: tuple[LogLine, ...]
    full: bool = False


@dataclass(frozen=True, slots=True)
class CommandResult:
    ok: bool
    message: str
    data: dict[str, Any] = field(default_factory=dict)


# --- the shared store ------------------------------------------------------------------------


class ViewStore:
    """Latest values plus, per market row, the sequence number of its last change.

    Thread-safe: one writer (the engine thread, or an attached console's socket task) and
    any number of readers.
    """

    def __init__(self, log_lines: int = 500) -> None:
        self._lock = threading.Lock()
        self.seq = 0
        self._rows: list[MarketRow | None] = []
        self._row_seq: list[int] = []
        self._status: StatusView | None = None
        self._signals: tuple[SignalView, ...] = ()
        self._intents: tuple[IntentView, ...] = ()
        self._portfolio: PortfolioView | None = None
        self._experts: tuple[ExpertView, ...] = ()
        self._log: deque[LogLine] = deque(maxlen=log_lines)
        self._source_log_seq = 0  # newest log seq taken from the writer's deltas

    def apply(self, delta: ViewDelta) -> None:
        """Fold in a delta: changed rows are stamped with a new sequence number; the small
        panes are replaced whole; log lines not seen before are appended."""
        with self._lock:
            self.seq += 1
            s = self.seq
            if delta.full:  # a whole view (a console (re)attaching): forget rows it lacks
                self._rows, self._row_seq = [], []
            if delta.n_rows > len(self._rows):
                grow = delta.n_rows - len(self._rows)
                self._rows.extend([None] * grow)
                self._row_seq.extend([s] * grow)
            for r in delta.rows:
                self._rows[r.row] = r
                self._row_seq[r.row] = s
            if delta.status is not None:
                self._status = delta.status
            self._signals = delta.signals
            self._intents = delta.intents
            if delta.portfolio is not None:
                self._portfolio = delta.portfolio
            self._experts = delta.experts
            for line in delta.log:
                if line.seq > self._source_log_seq:
                    self._source_log_seq = line.seq
                    self._log.append(replace(line, seq=s))

    def add_log(self, ts: float, level: str, message: str) -> None:
        with self._lock:
            self.seq += 1
            self._log.append(LogLine(self.seq, ts, level, message))

    def pull(self, since: int = 0) -> ViewDelta:
        """What changed after `since` (0: everything)."""
        with self._lock:
            full = since <= 0
            rows = tuple(
                r
                for r, s in zip(self._rows, self._row_seq, strict=True)
                if r is not None and (full or s > since)
            )
            return ViewDelta(
                seq=self.seq,
                n_rows=len(self._rows),
                rows=rows,
                status=self._status,
                signals=self._signals,
                intents=self._intents,
                portfolio=self._portfolio,
                experts=self._experts,
                log=tuple(line for line in self._log if full or line.seq > since),
                full=full,
            )

    def row(self, index: int) -> MarketRow | None:
        with self._lock:
            return self._rows[index] if 0 <= index < len(self._rows) else None

    def touch_intents(self, intents: tuple[IntentView, ...]) -> None:
        """Replace the intent pane at once (after a command), without waiting for a step."""
        with self._lock:
            self.seq += 1
            self._intents = intents

    def with_status(self, **changes: Any) -> None:
        with self._lock:
            if self._status is not None:
                self.seq += 1
                self._status = replace(self._status, **changes)

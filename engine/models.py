"""Domain types shared by every layer.

Plain dataclasses, not pydantic: these live on hot paths (thousands per cycle) and are
built from already-validated data. Validation happens once at the edges (config, API
payloads). Times are float seconds since the Unix epoch on the engine's `Clock`, so the same
code runs on wall time and on simulated time.

Conventions: a market is binary with a YES and a NO token. Prices are probabilities in
[0, 1]; sizes are shares; money is USDC. Polymarket cannot short: a SELL only ever closes
shares already held (see `engine.execution.portfolio`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from engine.fees import FeeSchedule


class Outcome(enum.IntEnum):
    """Which token of a binary market. Values index arrays, hence IntEnum."""

    YES = 0
    NO = 1

    @property
    def other(self) -> Outcome:
        return Outcome.NO if self is Outcome.YES else Outcome.YES


class Side(enum.StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Mode(enum.StrEnum):
    PAPER = "paper"
    LIVE = "live"


class EngineState(enum.StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    HALTED = "halted"  # a kill switch fired; needs a person to resume
    STOPPED = "stopped"


class IntentState(enum.StrEnum):
    """Life of a trade intent in live mode.

    PENDING -> APPROVED -> SUBMITTED -> FILLED | PARTIAL | FAILED
    PENDING -> APPROVED -> EXECUTED_DRYRUN (dry run: nothing sent)
    PENDING -> REJECTED | EXPIRED
    APPROVED -> FAILED (re-check at execution found the edge gone) | EXPIRED
    """

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    SUBMITTED = "SUBMITTED"
    FILLED = "FILLED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    EXECUTED_DRYRUN = "EXECUTED_DRYRUN"

    @property
    def is_terminal(self) -> bool:
        return self not in _OPEN_INTENT_STATES


_OPEN_INTENT_STATES = frozenset({IntentState.PENDING, IntentState.APPROVED, IntentState.SUBMITTED})

# Allowed transitions; anything else is refused by the intent store.
INTENT_TRANSITIONS: dict[IntentState, frozenset[IntentState]] = {
    IntentState.PENDING: frozenset(
        {IntentState.APPROVED, IntentState.REJECTED, IntentState.EXPIRED}
    ),
    IntentState.APPROVED: frozenset(
        {
            IntentState.SUBMITTED,
            IntentState.EXECUTED_DRYRUN,
            IntentState.FAILED,
            IntentState.EXPIRED,
        }
    ),
    IntentState.SUBMITTED: frozenset({IntentState.FILLED, IntentState.PARTIAL, IntentState.FAILED}),
}


@dataclass(slots=True)
class Market:
    """Static-ish description of one binary market (what Gamma would tell us)."""

    market_id: str  # condition id
    question: str
    category: str
    yes_token: str
    no_token: str
    created_ts: float
    end_ts: float
    tick_size: float = 0.01
    min_order_size: float = 5.0
    fee_rate: float = 0.0  # taker fee: shares * fee_rate * (p * (1 - p)) ** fee_exponent
    fee_exponent: float = 1.0
    event_id: str | None = None  # multi-outcome event group (neg-risk) if any
    neg_risk: bool = False
    volume: float = 0.0  # lifetime USDC volume
    liquidity: float = 0.0
    accepting_orders: bool = True
    description: str = ""
    resolved: bool = False
    payout_yes: float | None = None  # 1.0 / 0.0 once resolved

    def token(self, outcome: Outcome) -> str:
        return self.yes_token if outcome is Outcome.YES else self.no_token

    @property
    def fees(self) -> FeeSchedule:
        """Rate and exponent together, as every fee calculation takes them (`engine.fees`)."""
        return FeeSchedule(self.fee_rate, self.fee_exponent)


@dataclass(slots=True)
class Signal:
    """One idea from the strategy, with the decision taken on it.

    `p_model`, `p_market` and `price` are for the traded token (the NO token's price when
    buying NO), so edge is always `p_model - cost per share`.
    """

    ts: float
    market_id: str
    outcome: Outcome
    side: Side
    p_model: float
    p_market: float  # mid of the traded token
    price: float  # average price per share we would pay (book walk), before fees
    edge: float  # p_model - (price + fee per share), at `size`
    size: float  # shares
    decision: str = "pending"  # order | intent | rejected
    reason: str | None = None  # rejection reason (a risk rule's name and detail)


@dataclass(slots=True)
class OrderRequest:
    """What the risk manager lets through to an executor."""

    order_id: str
    ts: float
    market_id: str
    token_id: str
    outcome: Outcome
    side: Side
    size: float  # shares
    limit_price: float  # worst price per share accepted (taker: marketable limit)
    p_model: float
    edge: float
    intent_id: str | None = None


@dataclass(slots=True)
class Fill:
    order_id: str
    ts: float
    market_id: str
    outcome: Outcome
    side: Side
    price: float  # average price of this fill
    size: float  # shares
    fee: float  # USDC
    intent_id: str | None = None

    @property
    def notional(self) -> float:
        return self.price * self.size


@dataclass(slots=True)
class ExecutionReport:
    """Outcome of one order: filled fully, partly, or not at all (with a reason)."""

    order: OrderRequest
    fills: list[Fill] = field(default_factory=list)
    status: str = "filled"  # filled | partial | unfilled | pending
    reason: str | None = None
    # Already in the database with the intent's final state (live orders are written in the
    # same transaction as that state); the step's recorder must not write it again.
    stored: bool = False

    @property
    def filled_size(self) -> float:
        return sum(f.size for f in self.fills)


@dataclass(slots=True)
class Position:
    market_id: str
    outcome: Outcome
    size: float  # shares held, never negative
    avg_price: float  # average cost per share, fees excluded
    realized_pnl: float = 0.0
    event_id: str | None = None

    @property
    def cost(self) -> float:
        return self.size * self.avg_price


@dataclass(slots=True)
class TradeIntent:
    """A proposed order waiting for a person (live mode)."""

    intent_id: str
    created_ts: float
    expires_ts: float
    market_id: str
    token_id: str
    outcome: Outcome
    side: Side
    size: float
    limit_price: float
    p_model: float
    edge: float
    state: IntentState = IntentState.PENDING
    question: str = ""
    reason: str | None = None
    updated_ts: float | None = None
    override: str | None = None  # the failed re-check a person approved anyway

    @property
    def cost(self) -> float:
        return self.size * self.limit_price

"""What the exchange says about our orders, and what that means for a SUBMITTED intent.

An intent is SUBMITTED from the moment it is claimed, with the signed order's hash (the
exchange's order id) stored in the same statement, until the exchange's answer is known. A
crash, a timed-out post or an answer that says "delayed" all leave it there; this module
resolves it by looking the order up, never by sending anything:

- the order is still open (resting)          -> stays SUBMITTED;
- trades of the order exist                   -> FILLED or PARTIAL, with those fills;
- neither, and the exchange had accepted it   -> FAILED (it closed without a fill);
- neither, claimed more than a grace ago      -> FAILED (never arrived, or closed unfilled);
- neither, claimed recently                   -> stays SUBMITTED (an answer may be on its way);
- no order id at all                          -> FAILED: claim and hash are written together,
  so nothing was posted for it.

Polymarket answers `GET /data/order/{id}` only for open orders (docs/polymarket_api.md, gotcha
G16), so fills are read from `/data/trades`. `reconcile_account` adds the start-up view: open
orders and recent trades that belong to no intent (placed by hand, or by a run whose records
are gone), and the collateral balance.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any, TypeVar

from engine.execution.clob_answers import AnswerError, OrderRow, parse_balance, parse_order_row
from engine.execution.clob_client import ClobError, ClobSession
from engine.execution.clob_fills import (
    OrderFill,
    describe,
    fill_status,
    fills_of_order,
    maker_entries,
)
from engine.execution.clob_orders import CENT, dec
from engine.execution.clob_settings import RESTING_TYPES
from engine.execution.intents import IntentRecord, IntentStore
from engine.models import IntentState, Side, TradeIntent

T = TypeVar("T")
JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class OrderLookup:
    """One look at an order: open or not, and our fills so far."""

    order_id: str
    open_row: OrderRow | None  # only while the order is still working
    fills: list[OrderFill]
    complete: bool = True  # False: trades the POST answer named are not visible yet

    @property
    def found(self) -> bool:
        return self.open_row is not None or bool(self.fills)


def lookup_order(
    session: ClobSession, order_id: str, token_id: str, trade_ids: Sequence[str] = ()
) -> OrderLookup:
    """Open order and trades of `order_id` (by the trade ids the POST answer gave, else all
    of our trades in the token). Raises ClobError, also for an answer it cannot read (the
    caller then looks again later, as after a network fault)."""
    try:
        return _lookup(session, order_id, token_id, trade_ids)
    except AnswerError as exc:
        raise ClobError(f"order {order_id[:12]}...: unreadable answer: {exc}") from None


def _lookup(
    session: ClobSession, order_id: str, token_id: str, trade_ids: Sequence[str]
) -> OrderLookup:
    row = session.get_order(order_id)
    parsed = None if row is None else parse_order_row(row)
    open_row = parsed if parsed is not None and parsed.is_open else None
    if trade_ids:
        rows: list[JSON] = []
        for tid in dict.fromkeys(trade_ids):
            rows.extend(session.trades(trade_id=tid))
        seen = {str(r.get("id")) for r in rows}
        complete = all(t in seen for t in trade_ids)
    else:
        rows, complete = session.trades(token_id=token_id), True
    return OrderLookup(order_id, open_row, fills_of_order(rows, order_id), complete)


@dataclass(frozen=True, slots=True)
class Target:
    """What counts as filled: shares, and for a market BUY the USDC it may spend."""

    shares: Decimal
    budget: Decimal | None

    @classmethod
    def of_intent(cls, intent: TradeIntent, order_type: str) -> Target:
        """Rebuilt from the intent when the plan is gone (after a restart)."""
        shares = dec(intent.size).quantize(CENT, ROUND_FLOOR)
        budget = None
        if intent.side is Side.BUY and order_type not in RESTING_TYPES:
            budget = (shares * dec(intent.limit_price)).quantize(CENT, ROUND_FLOOR)
        return cls(shares, budget)


@dataclass(frozen=True, slots=True)
class Decision:
    """Where a SUBMITTED intent goes (None: it stays SUBMITTED), why, and with which fills."""

    state: IntentState | None
    reason: str
    fills: list[OrderFill] = field(default_factory=list)


def decide(
    record: IntentRecord,
    lookup: OrderLookup | None,
    target: Target,
    *,
    accepted: bool,
    now: float,
    grace_s: float,
) -> Decision:
    """Resolve a SUBMITTED intent from one lookup (see the module docstring for the rules)."""
    order_id = record.order_id
    if order_id is None:
        return Decision(
            IntentState.FAILED,
            "claimed for submission but no order was signed or recorded (a crash before "
            "posting): nothing was sent, and it is not re-posted",
        )
    if lookup is None:
        return Decision(None, f"order {order_id[:12]}... not looked up yet")
    if lookup.open_row is not None:
        matched = lookup.open_row.size_matched
        return Decision(None, f"order {order_id[:12]}... resting, {matched} matched so far")
    if not lookup.complete:
        return Decision(None, f"order {order_id[:12]}... trades not visible yet")
    status = fill_status(lookup.fills, target.shares, target.budget)
    what = describe(lookup.fills)
    if status == "filled":
        return Decision(IntentState.FILLED, f"filled: {what} (order {order_id})", lookup.fills)
    if status == "partial":
        return Decision(
            IntentState.PARTIAL,
            f"partially filled: {what} of {target.shares} sh; the rest was not filled "
            f"(order {order_id})",
            lookup.fills,
        )
    if accepted:
        return Decision(
            IntentState.FAILED,
            f"order {order_id} closed without a fill (killed, cancelled or expired)",
        )
    claimed = record.executed_ts or record.intent.updated_ts or record.intent.created_ts
    age = now - claimed
    if age < grace_s:
        return Decision(None, f"order {order_id[:12]}... not found yet ({age:.0f}s after claim)")
    return Decision(
        IntentState.FAILED,
        f"order {order_id} not found on the exchange {age:.0f}s after submission (no open "
        "order, no trade): it never arrived or closed unfilled; not re-posted",
    )


def with_retries(
    call: Callable[[], T],
    attempts: int,
    delay: Callable[[int, ClobError], float],
    sleep: Callable[[float], None],
) -> T:
    """`call()` again after transient ClobErrors (reads only: they change nothing)."""
    for attempt in range(attempts):
        try:
            return call()
        except ClobError as exc:
            if not exc.transient or attempt == attempts - 1:
                raise
            sleep(delay(attempt, exc))
    raise AssertionError("unreachable")  # pragma: no cover


# --- start-up view of the account ---------------------------------------------------------


@dataclass(slots=True)
class AccountReport:
    collateral: float | None = None  # USDC (pUSD) on the exchange
    open_orders: list[JSON] = field(default_factory=list)
    unknown_orders: list[str] = field(default_factory=list)  # open, linked to no intent
    recent_trades: int = 0
    unknown_trades: list[str] = field(default_factory=list)  # trade ids of no intent's order
    problems: list[str] = field(default_factory=list)  # answers that could not be read

    def lines(self) -> list[str]:
        out = list(self.problems)
        if self.collateral is not None:
            out.append(f"exchange collateral balance {self.collateral:.2f} USDC")
        out.append(
            f"exchange: {len(self.open_orders)} open order(s), {self.recent_trades} recent trade(s)"
        )
        if self.unknown_orders:
            out.append(
                f"{len(self.unknown_orders)} open order(s) belong to no intent (left alone; "
                f"cancel by hand if unwanted): {', '.join(o[:12] for o in self.unknown_orders)}"
            )
        if self.unknown_trades:
            out.append(
                f"{len(self.unknown_trades)} recent trade(s) belong to no intent: positions "
                "outside the engine's books"
            )
        return out


def known_order_ids(store: IntentStore, intents: Iterable[TradeIntent]) -> set[str]:
    out = set()
    for i in intents:
        record = store.get_record(i.intent_id)
        if record is not None and record.order_id:
            out.add(record.order_id.lower())
    return out


def _trade_order_ids(t: JSON) -> set[str]:
    ids = {str(t.get("taker_order_id", "")).lower()}
    ids.update(str(m.get("order_id", "")).lower() for m in maker_entries(t))
    return ids - {""}


def reconcile_account(session: ClobSession, known: set[str], since: int | None) -> AccountReport:
    """Open orders, trades since `since` (exchange seconds) and collateral, against `known`
    order ids. Raises ClobError. An unreadable balance is reported, not guessed."""
    report = AccountReport()
    try:
        report.collateral = float(parse_balance(session.balance_allowance()).balance)
    except AnswerError as exc:
        report.problems.append(f"collateral balance unknown: {exc}")
    report.open_orders = session.open_orders()
    report.unknown_orders = [
        str(o.get("id")) for o in report.open_orders if str(o.get("id", "")).lower() not in known
    ]
    trades = session.trades(after=since)
    report.recent_trades = len(trades)
    report.unknown_trades = [str(t.get("id")) for t in trades if not _trade_order_ids(t) & known]
    return report

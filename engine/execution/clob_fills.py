"""Exchange trades of one order, as the engine's `Fill`s, with fees as the exchange takes them.

Fills come from `GET /data/trades` (polling; the user websocket would only be faster). Our
share of a trade is the whole trade when our order was the taker (`taker_order_id`), or our
entry in `maker_orders` when it rested. FAILED trades never settle and are left out.

Fees (docs/polymarket_api.md §3.6; https://github.com/Polymarket/py-clob-client/issues/311 for
BUY fees taken in shares): a taker pays shares x rate x (p (1-p))^e in USDC terms. On a SELL it
comes out of the USDC received. On a BUY it is taken *in shares*: the account receives `shares
- fee / p`. So a BUY becomes `Fill(size=net shares, price=p, fee=fee shares x p)`: the
portfolio then debits `net x p + fee = shares x p` (what left the account), holds exactly the
shares the exchange credited, and books the fee as realized PnL, so positions and cash match
the exchange account. Fee amounts are rounded up to the chain's 1e-6 unit, as the exchange
never charges less than the formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Any, Literal

from engine.execution.clob_answers import AnswerError
from engine.execution.clob_orders import dec
from engine.fees import taker_fee_exact
from engine.input_bounds import shown
from engine.models import Fill, Side, TradeIntent

UNIT = Decimal("0.000001")
BPS = Decimal(10_000)
SHARE_TOLERANCE = Decimal("0.01")  # fills may drift a hundredth of a share from the size
DUST_USD = Decimal("0.01")  # a market BUY with less than this unspent is fully filled
FillStatus = Literal["filled", "partial", "unfilled"]


@dataclass(frozen=True, slots=True)
class OrderFill:
    """Our part of one exchange trade."""

    trade_id: str
    price: Decimal
    shares: Decimal  # gross, before a BUY's fee in shares
    fee_rate: Decimal
    taker: bool
    status: str


def maker_entries(trade: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The readable entries of a trade's `maker_orders` (a list of objects); anything else
    there names no order, so it is no order's share."""
    makers = trade.get("maker_orders")
    return [m for m in makers if isinstance(m, Mapping)] if isinstance(makers, list) else []


def fills_of_order(trades: Iterable[object], order_id: str) -> list[OrderFill]:
    """Our fills of `order_id` among `trades` (as `GET /data/trades` returns them, or the user
    channel's `trade` events, which have the same fields). Raises `AnswerError` when a trade
    of this order cannot be read: skipping it would under-count what we hold. Unreadable
    trades of other orders (not an object, no readable order id of ours in them) are none of
    our business."""
    out: dict[tuple[str, bool], OrderFill] = {}
    oid = order_id.lower()
    for t in trades:
        if not isinstance(t, Mapping):
            continue
        status = str(t.get("status", "")).upper()
        if status == "FAILED":
            continue
        tid = str(t.get("id", ""))
        if str(t.get("taker_order_id", "")).lower() == oid:
            out[(tid, True)] = _our_part(tid, t, "size", True, status, None)
            continue
        for m in maker_entries(t):
            if str(m.get("order_id", "")).lower() == oid:
                key = (tid, False)
                out[key] = _our_part(tid, m, "matched_amount", False, status, out.get(key))
    return list(out.values())


def _our_part(
    tid: str,
    row: Mapping[str, Any],
    size_key: str,
    taker: bool,
    status: str,
    prev: OrderFill | None,
) -> OrderFill:
    try:
        shares = dec(row[size_key])
        price = dec(row["price"])
        rate = dec(row.get("fee_rate_bps") or 0) / BPS
    except KeyError as exc:
        raise AnswerError(f"trade {shown(tid or '?')} of our order has no {exc.args[0]}") from None
    except ValueError as exc:
        raise AnswerError(f"trade {shown(tid or '?')} of our order: {exc}") from None
    if shares < 0 or not 0 <= price <= 1 or rate < 0:
        raise AnswerError(f"trade {shown(tid)} of our order: {shares} sh at {price}, rate {rate}")
    return OrderFill(tid, price, shares + (prev.shares if prev else 0), rate, taker, status)


def _ceil_unit(x: Decimal) -> Decimal:
    return x.quantize(UNIT, rounding=ROUND_CEILING)


def fee_usdc(f: OrderFill, exponent: Decimal) -> Decimal:
    p = f.price
    return taker_fee_exact(f.shares, p, f.fee_rate, exponent)


def to_fill(
    f: OrderFill,
    intent: TradeIntent,
    order_id: str,
    now: float,
    fee_exponent: Decimal = Decimal(1),
) -> Fill | None:
    """The engine's Fill for one of our trades (None: a BUY whose fee ate every share)."""
    fee = fee_usdc(f, fee_exponent)
    size, fee_paid = f.shares, _ceil_unit(fee)
    if intent.side is Side.BUY and f.price > 0:
        fee_shares = _ceil_unit(fee / f.price) if fee > 0 else Decimal(0)
        size = f.shares - fee_shares
        fee_paid = fee_shares * f.price
    if size <= 0:
        return None
    return Fill(
        order_id=order_id,
        ts=now,
        market_id=intent.market_id,
        outcome=intent.outcome,
        side=intent.side,
        price=float(f.price),
        size=float(size),
        fee=float(fee_paid),
        intent_id=intent.intent_id,
    )


def fill_status(
    fills: Sequence[OrderFill], target_shares: Decimal, budget: Decimal | None
) -> FillStatus:
    """Filled in full, in part, or not at all: by USDC for a market BUY (it is filled by
    amount), by shares otherwise."""
    shares = sum((f.shares for f in fills), Decimal(0))
    if shares <= 0:
        return "unfilled"
    if shares >= target_shares - SHARE_TOLERANCE:
        return "filled"
    spent = sum((f.shares * f.price for f in fills), Decimal(0))
    if budget is not None and spent >= budget - DUST_USD:
        return "filled"
    return "partial"


def describe(fills: Sequence[OrderFill]) -> str:
    """'10.00 sh @ 0.550 avg' for a reason line."""
    shares = sum((f.shares for f in fills), Decimal(0))
    if shares <= 0:
        return "no fill"
    avg = sum((f.shares * f.price for f in fills), Decimal(0)) / shares
    return f"{shares:.2f} sh @ {avg:.4f} avg in {len(fills)} trade(s)"

"""From an approved intent to the exact order the exchange will accept, or a refusal.

Everything is decided here, before anything is signed or sent, in `Decimal` (float artefacts
such as 0.57 * 100 = 56.999... make prices fall off the grid: docs/polymarket_api.md, gotcha
G21):

- the price is snapped onto the market's tick grid *towards safety*: a BUY limit down (never
  pay more than approved), a SELL limit up (never sell for less), inside [tick, 1 - tick];
- sizes are whole hundredths of a share, rounded down (never more than approved);
- the exchange minimums are checked: resting orders (GTC/GTD) need the market's minimum size
  (5 shares), and a BUY needs at least $1, since an intent's limit is marketable by design
  (orders below either are refused by Polymarket: docs/polymarket_api.md §3.5 and gotcha G8);
- FOK/FAK are sent as the SDK's market orders (a BUY spends a USDC amount with two decimals,
  a SELL sells shares), GTC/GTD as limit orders (shares at a price).

A FOK/FAK BUY therefore spends at most `size x price` (the cost the person approved) and may
receive more shares than `size` when the book is better than the limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from engine.execution.clob_settings import RESTING_TYPES
from engine.input_bounds import OutOfBounds, bounded_decimal, shown
from engine.models import Side, TradeIntent

CENT = Decimal("0.01")  # shares and market-order USDC amounts have two decimals
MIN_MARKETABLE_USD = Decimal("1")
DEFAULT_MIN_SIZE = Decimal("5")
AMOUNT_SCALE = 1_000_000  # token and collateral decimals on chain
TICKS = ("0.1", "0.01", "0.001", "0.0001")  # the tick sizes Polymarket uses


class OrderRefused(ValueError):
    """The order would break an exchange rule; nothing was signed or sent."""


def dec(value: object) -> Decimal:
    """A Decimal from a wire or float value, through its shortest text (0.57, not 0.5699...);
    bounded, finite and in ASCII digits (`engine.input_bounds`), else `ValueError`."""
    try:
        return bounded_decimal(value)
    except OutOfBounds as exc:
        raise ValueError(f"{exc}: {shown(value)}") from None


@dataclass(frozen=True, slots=True)
class MarketRules:
    """What the exchange enforces for one token, fresh from `GET /clob-markets/{id}`."""

    condition_id: str
    token_ids: tuple[str, ...]
    tick: Decimal
    neg_risk: bool
    min_size: Decimal
    fee_rate: Decimal  # taker fee: shares x rate x (p (1 - p)) ** exponent
    fee_exponent: Decimal
    accepting_orders: bool | None  # None: the exchange did not say

    @property
    def tick_text(self) -> str:
        """The tick as the SDK's rounding table keys it ("0.01")."""
        return format(self.tick.normalize(), "f")

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> MarketRules:
        """Parse the V2 compact market info (docs/polymarket_api.md §3.4); ValueError if
        unusable."""
        try:
            tokens = tuple(str(t["t"]) for t in body["t"] if t)
            tick = dec(body["mts"])
            fees = body.get("fd") or {}
            if not isinstance(fees, Mapping):
                raise ValueError(f"market info: fees (fd) {shown(fees)} are not an object")
            rules = cls(
                condition_id=str(body["c"]),
                token_ids=tokens,
                tick=tick,
                neg_risk=bool(body.get("nr", False)),
                min_size=dec(body["mos"]) if body.get("mos") is not None else DEFAULT_MIN_SIZE,
                fee_rate=dec(fees.get("r", 0) or 0),
                fee_exponent=dec(fees.get("e", 1) or 1),
                accepting_orders=bool(body["ao"]) if "ao" in body else None,
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"market info without {exc}") from None
        if rules.tick_text not in TICKS:
            raise ValueError(f"unsupported tick size {rules.tick_text}")
        return rules


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """One order, exactly as it will be signed."""

    token_id: str
    side: Side
    order_type: str
    price: Decimal  # on the tick grid
    size: Decimal  # shares (the target for limit orders and SELLs)
    amount: Decimal | None  # FOK/FAK: USDC to spend (BUY) or shares to sell (SELL)
    expiration: int  # GTD: unix seconds; else 0
    tick_text: str
    neg_risk: bool
    note: str = ""  # what was adjusted (price snapped, size rounded), for the log

    @property
    def price_places(self) -> int:
        """Decimals of a price on this grid (the SDK rounds prices to them)."""
        return -int(Decimal(self.tick_text).as_tuple().exponent)

    @property
    def maker_amount(self) -> int:
        """What the signed order must give, in 1e-6 units (USDC on a BUY, shares on a SELL)."""
        if self.side is Side.BUY:
            usdc = self.amount if self.amount is not None else self.size * self.price
            return int(usdc * AMOUNT_SCALE)
        return int(self.size * AMOUNT_SCALE)

    @property
    def budget(self) -> Decimal | None:
        """USDC a BUY may spend (a market BUY is filled by amount, not by shares)."""
        return self.amount if self.side is Side.BUY else None


def snap_price(price: Decimal, tick: Decimal, side: Side) -> Decimal:
    """The nearest grid price that is no worse than `price` for the order's side."""
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    snapped = (price / tick).to_integral_value(rounding=rounding) * tick
    low, high = tick, 1 - tick
    if side is Side.BUY:
        if snapped < low:
            raise OrderRefused(
                f"BUY limit {price} is below the lowest price {low} on this market's {tick} grid"
            )
        return min(snapped, high)
    if snapped > high:
        raise OrderRefused(
            f"SELL limit {price} is above the highest price {high} on this market's {tick} grid"
        )
    return max(snapped, low)


def plan_order(
    intent: TradeIntent,
    rules: MarketRules,
    order_type: str,
    *,
    wall_now: float,
    gtd_seconds: float,
) -> OrderPlan:
    """The order for `intent` under `rules`; OrderRefused if the exchange would refuse it."""
    if rules.accepting_orders is False:
        raise OrderRefused("the market is not accepting orders")
    if intent.token_id not in rules.token_ids:
        raise OrderRefused(f"token {intent.token_id} is not traded in market {rules.condition_id}")
    limit = dec(intent.limit_price)
    price = snap_price(limit, rules.tick, intent.side)
    size = dec(intent.size).quantize(CENT, rounding=ROUND_FLOOR)
    notes = []
    if price != limit:
        notes.append(f"limit {limit} snapped to {price} on the {rules.tick_text} grid")
    if size != dec(intent.size):
        notes.append(f"size {intent.size} rounded down to {size}")
    if size <= 0:
        raise OrderRefused(f"size {intent.size} is less than 0.01 shares")
    resting = order_type in RESTING_TYPES
    if resting and size < rules.min_size:
        raise OrderRefused(
            f"{size} shares is below the market's minimum of {rules.min_size} for a resting "
            f"{order_type} order"
        )
    amount: Decimal | None = None
    if not resting:
        amount = (size * price).quantize(CENT, ROUND_FLOOR) if intent.side is Side.BUY else size
    cost = amount if amount is not None and intent.side is Side.BUY else size * price
    if intent.side is Side.BUY and cost < MIN_MARKETABLE_USD:
        raise OrderRefused(
            f"a marketable BUY needs at least ${MIN_MARKETABLE_USD}: {size} x {price} = ${cost}"
        )
    expiration = 0
    if order_type == "GTD":
        expiration = int(wall_now + 60 + gtd_seconds)  # Polymarket's ~1 minute buffer
    return OrderPlan(
        token_id=intent.token_id,
        side=intent.side,
        order_type=order_type,
        price=price,
        size=size,
        amount=amount,
        expiration=expiration,
        tick_text=rules.tick_text,
        neg_risk=rules.neg_risk,
        note="; ".join(notes),
    )


def sdk_float(value: Decimal, places: int) -> float:
    """`value` for the SDK, which floors floats to `places` decimals: 0.57 * 100 is
    56.999..., which floors to 0.56. Such values get a nudge far below any tick or cent; exact
    ones are left alone (a nudged 0.99 would fail the SDK's `price <= 1 - tick` check). The
    few that fail both ways (0.999 at tick 0.001, SDK issue #102) come out a tick lower, and
    `check_signed` refuses them."""
    f = float(value)
    if math.floor(f * 10**places) == int(value.scaleb(places)):
        return f
    return f + 1e-9


def check_signed(plan: OrderPlan, maker_amount: int, taker_amount: int) -> None:
    """Refuse a signed order whose amounts are not the plan's (a rounding surprise in the
    SDK must never reach the exchange as a different order than the one approved)."""
    if maker_amount <= 0 or taker_amount <= 0:
        raise OrderRefused("signed order has an empty amount")
    if maker_amount != plan.maker_amount:
        raise OrderRefused(
            f"signed maker amount {maker_amount} differs from the planned {plan.maker_amount}"
        )
    if plan.side is Side.BUY:
        implied = Decimal(maker_amount) / Decimal(taker_amount)
    else:
        implied = Decimal(taker_amount) / Decimal(maker_amount)
    # The exchange reads the price off the amounts to the nearest tick (a market order's
    # share amount is rounded to a few decimals, so the ratio is not exactly on the grid).
    tick = Decimal(plan.tick_text)
    on_grid = (implied / tick).to_integral_value() * tick
    if on_grid != plan.price:
        raise OrderRefused(f"signed order's price {implied:.6f} is not the planned {plan.price}")

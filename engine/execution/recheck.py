"""Is an intent still good at today's book? The re-check every approval passes before a send.

An intent was sized against the book of its cycle; by the time a person approves it the book
may have moved. The re-check walks the current book for the intent's full size within the
price tolerance, fee included, and says whether the edge survives, and if not whether a
person may override it (a moved price or a thinner edge) or not (a market gone or closed, an
untrusted book, a SELL of shares no longer held). The approval processor runs it before
carrying an intent out, and the console's `recheck` command runs it on request.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.models import Side, TradeIntent
from engine.risk.thresholds import EdgeThresholds
from engine.state.book import walk
from engine.state.market_state import MarketState

SHARE_EPS = 1e-6  # shares: below the exchange's 1e-6 unit


@dataclass(slots=True, frozen=True)
class Recheck:
    ok: bool
    reason: str
    edge: float
    # A person may approve anyway when only the price or the edge moved; never when the
    # market is gone or closed, nor a SELL of shares no longer held (that would be a short).
    overridable: bool = False


def recheck_intent(
    intent: TradeIntent,
    state: MarketState,
    threshold: EdgeThresholds | float,
    tolerance: float,
    *,
    held: float = 0.0,
) -> Recheck:
    """Is the idea still good at today's book, for its full size, within the price tolerance?
    `held`: shares of the intent's token the account holds now (a SELL may not exceed them;
    unknown counts as none, so a SELL fails rather than risk selling what is not held)."""
    m = state.market(intent.market_id)
    if m is None:
        return Recheck(False, "market unknown to the engine", float("nan"))
    if m.resolved or not m.accepting_orders:
        return Recheck(False, "market no longer accepting orders", float("nan"))
    row = state.row(intent.market_id)
    if row is not None and not state.trusted[row]:  # a feed gap, a stall, a silent connection
        return Recheck(False, "book not trusted: its feed has a gap or went silent", float("nan"))
    buy = intent.side is Side.BUY
    need = EdgeThresholds.of(threshold).for_side(intent.side)  # a SELL closes: the exit edge
    if not buy and intent.size > held + SHARE_EPS:
        return Recheck(
            False,
            f"holds only {held:.2f} of the {intent.size:.2f} shares to sell",
            float("nan"),
        )
    prices, sizes = state.ladder(intent.market_id, intent.outcome, intent.side)
    limit = intent.limit_price + tolerance if buy else intent.limit_price - tolerance
    w = walk(prices, sizes, intent.size, intent.side, m.fees, limit=limit)
    if w.filled + 1e-9 < intent.size:
        return Recheck(
            False,
            f"price moved: only {w.filled:.2f} of {intent.size:.2f} shares within {limit:.3f}",
            float("nan"),
            overridable=True,
        )
    if buy:
        edge = intent.p_model - w.cost_per_share
    else:
        edge = (w.notional - w.fee) / w.filled - intent.p_model
    if edge < need:
        return Recheck(
            False, f"edge gone: {edge:.3f} < {need:.3f} after fees", edge, overridable=True
        )
    return Recheck(True, "ok", edge)

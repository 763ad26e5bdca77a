"""The fake's records of orders and trades: what REST, the user channel and the book share.

One `Order` object is at once the exchange's record (REST `/data/orders`), the entry resting in
a `MarketBook` level and the subject of user-channel `order` events, so a fill updates all
three views by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.models import Outcome, Side
from fake_polymarket.units import ONE


@dataclass(slots=True)
class Order:
    """A user order (amounts in 1e-6 units, prices in 1e-4 units of its own token)."""

    id: str
    owner: str  # API key
    address: str  # maker address: whose balance pays and receives
    market: str  # condition id
    token: str
    outcome: Outcome
    side: Side
    price: int  # limit price of `token`
    size: int  # original size in shares
    order_type: str  # GTC | GTD | FOK | FAK
    created_ts: float
    expiration: int = 0  # unix seconds, 0 = none
    matched: int = 0  # shares matched so far
    status: str = "LIVE"  # LIVE | MATCHED | CANCELED | CANCELED_MARKET_RESOLVED | ...
    trade_ids: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.size - self.matched

    @property
    def is_open(self) -> bool:
        return self.status == "LIVE" and self.remaining > 0

    @property
    def yes_price(self) -> int:
        """Where the order rests in the market's YES-oriented book."""
        return self.price if self.outcome is Outcome.YES else ONE - self.price

    @property
    def rests_as_bid(self) -> bool:
        """A BUY YES and a SELL NO both bid for YES (NO at p is YES at 1 - p)."""
        return (self.side is Side.BUY) == (self.outcome is Outcome.YES)


@dataclass(slots=True, frozen=True)
class MakerFill:
    """One maker order's part of a trade, in the maker's own token terms."""

    order_id: str
    owner: str
    address: str
    token: str
    outcome: Outcome
    side: Side
    price: int
    shares: int


@dataclass(slots=True)
class Trade:
    """One match of a taker order at one price level (taker's view, as Polymarket reports)."""

    id: str
    taker_order_id: str
    taker_owner: str
    taker_address: str
    market: str
    token: str
    outcome: Outcome
    side: Side
    price: int
    shares: int
    fee_rate_bps: int
    match_ts: float
    transaction_hash: str
    makers: tuple[MakerFill, ...]
    status: str = "MATCHED"  # MATCHED -> MINED -> CONFIRMED
    last_update_ts: float = 0.0

"""Cash, positions and PnL: the ledger that paper fills, live fills and settlements update.

Long-only per token, because Polymarket has no shorting: a SELL can only close shares already
held. An earlier implementation let a SELL open a short and debited cash on sells, which
produced a simulated -1,368% that no exchange could ever have paid out; here a SELL beyond the
holding raises `ShortSaleError` before anything changes, and a sell only ever adds cash.

Accounting identity (tested): `equity - starting cash == realized_pnl + unrealized_pnl`.
Average cost excludes fees (as `Position.avg_price` documents), so every fee is booked as
realized PnL the moment it is paid rather than hidden in the cost basis.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from engine.models import Fill, Outcome, Position, Side

Mark = Callable[[str, Outcome], float]

# Share amounts below this are float dust, not a holding (sizes are 2-decimal on Polymarket).
_DUST = 1e-9


class ShortSaleError(ValueError):
    """A SELL for more shares than are held: it would open a short, which Polymarket forbids."""


class Portfolio:
    def __init__(self, cash: float) -> None:
        if not cash >= 0:
            raise ValueError(f"starting cash must be >= 0, got {cash}")
        self.cash = float(cash)
        self.realized_pnl = 0.0
        self.fees_paid = 0.0
        self.positions: dict[tuple[str, Outcome], Position] = {}
        # Lifetime realized PnL of tokens whose position is closed now, so a closed row can
        # still show what it made; reopening the token carries the figure back in.
        self.closed_realized: dict[tuple[str, Outcome], float] = {}
        self._reservations: dict[str, float] = {}
        self._reserved_total = 0.0
        self._adopted: set[tuple[str, Outcome]] = set()  # since the recorder last asked
        self._brought_in = 0.0  # value of adopted shares since the equity marks last asked

    # --- holdings from before ---------------------------------------------------------------

    def adopt(
        self,
        market_id: str,
        outcome: Outcome,
        size: float,
        avg_price: float,
        worth: float | None = None,
    ) -> float:
        """Bring a holding up to `size` shares bought before this account began (a live
        wallet's earlier runs), so exposure and position limits count them; the shares added
        cost `avg_price` each. Cash is untouched: they were paid for already. Equity grows by
        their value now (`worth` a share, else `avg_price`), which is not profit: the equity
        marks take it as brought in (`take_brought_in`). Returns the shares added (0: held
        already, or a price that is not one)."""
        worth = avg_price if worth is None else worth
        if not (0 <= avg_price <= 1 and 0 <= worth <= 1):
            return 0.0
        key = (market_id, outcome)
        pos = self.positions.get(key)
        added = size - (pos.size if pos is not None else 0.0)
        if not added > _DUST:
            return 0.0
        if pos is None:
            realized = self.closed_realized.pop(key, 0.0)
            pos = self.positions[key] = Position(market_id, outcome, 0.0, 0.0, realized)
        pos.avg_price = (pos.cost + added * avg_price) / size
        pos.size = size
        self._adopted.add(key)
        self._brought_in += added * worth
        return added

    def take_brought_in(self) -> float:
        """Value of the shares adopted since the last call (the equity marks shift by it)."""
        out, self._brought_in = self._brought_in, 0.0
        return out

    def take_adopted(self) -> set[tuple[str, Outcome]]:
        """Holdings adopted since the last call (the recorder stores their rows)."""
        out, self._adopted = self._adopted, set()
        return out

    # --- fills -----------------------------------------------------------------------------

    def apply_fill(self, fill: Fill, event_id: str | None = None) -> None:
        """Book one fill. Validates first, so a refused fill leaves every number unchanged."""
        _validate(fill)
        key = (fill.market_id, fill.outcome)
        pos = self.positions.get(key)
        if fill.side is Side.BUY:
            self._buy(key, pos, fill, event_id)
        else:
            held = pos.size if pos is not None else 0.0
            if pos is None or fill.size > held + _DUST:
                raise ShortSaleError(
                    f"SELL {fill.size:g} {fill.outcome.name} of {fill.market_id} "
                    f"but only {held:g} held: Polymarket cannot short"
                )
            if fill.fee > fill.notional + _DUST:
                raise ValueError(
                    f"sell fee {fill.fee:g} exceeds proceeds {fill.notional:g}: "
                    "a sell may never debit cash"
                )
            self._close(key, pos, fill.size, fill.price, fill.fee)

    def _buy(
        self, key: tuple[str, Outcome], pos: Position | None, fill: Fill, event_id: str | None
    ) -> None:
        if pos is None:
            realized = self.closed_realized.pop(key, 0.0)
            pos = Position(fill.market_id, fill.outcome, 0.0, 0.0, realized, event_id)
            self.positions[key] = pos
        self.cash -= fill.notional + fill.fee
        self._book_fee(fill.fee, pos)
        new_size = pos.size + fill.size
        pos.avg_price = (pos.cost + fill.notional) / new_size
        pos.size = new_size
        if event_id is not None:
            pos.event_id = event_id

    def _close(
        self, key: tuple[str, Outcome], pos: Position, size: float, price: float, fee: float
    ) -> None:
        """Take `size` shares out of `pos` at `price`; shared by sells and settlement."""
        size = min(size, pos.size)
        pnl = (price - pos.avg_price) * size
        self.cash += price * size - fee
        self.realized_pnl += pnl
        pos.realized_pnl += pnl
        self._book_fee(fee, pos)
        pos.size -= size
        if pos.size <= _DUST:
            del self.positions[key]
            self.closed_realized[key] = pos.realized_pnl

    def _book_fee(self, fee: float, pos: Position) -> None:
        self.fees_paid += fee
        self.realized_pnl -= fee
        pos.realized_pnl -= fee

    def settle(self, market_id: str, payout_yes: float, ts: float) -> list[Fill]:
        """Resolution: every held token of the market is paid out and its position closed.

        Returns one SELL-shaped record per closed position (fee 0, price = payout) so storage
        and the UI can show settlements next to trades.
        """
        if not 0.0 <= payout_yes <= 1.0:
            raise ValueError(f"payout_yes must be in [0, 1], got {payout_yes}")
        records: list[Fill] = []
        for outcome in Outcome:
            key = (market_id, outcome)
            pos = self.positions.get(key)
            if pos is None:
                continue
            payout = payout_yes if outcome is Outcome.YES else 1.0 - payout_yes
            records.append(
                Fill(
                    order_id=f"settle-{market_id}-{outcome.name}",
                    ts=ts,
                    market_id=market_id,
                    outcome=outcome,
                    side=Side.SELL,
                    price=payout,
                    size=pos.size,
                    fee=0.0,
                )
            )
            self._close(key, pos, pos.size, payout, 0.0)
        return records

    # --- views -----------------------------------------------------------------------------

    def held(self, market_id: str, outcome: Outcome) -> float:
        pos = self.positions.get((market_id, outcome))
        return pos.size if pos is not None else 0.0

    def market_value(self, mark: Mark) -> float:
        """Positions at `mark`; a NaN mark (no book) falls back to average cost, not zero."""
        total = 0.0
        for (market_id, outcome), pos in self.positions.items():
            px = mark(market_id, outcome)
            total += pos.size * (pos.avg_price if math.isnan(px) else px)
        return total

    @property
    def exposure(self) -> float:
        """USDC at risk: positions at cost plus cash promised to open orders."""
        return sum(p.cost for p in self.positions.values()) + self.reserved

    def unrealized_pnl(self, mark: Mark) -> float:
        return self.market_value(mark) - sum(p.cost for p in self.positions.values())

    def equity(self, mark: Mark) -> float:
        return self.cash + self.market_value(mark)

    # --- reservations (cash promised to open orders) ---------------------------------------

    def reserve(self, order_id: str, usdc: float) -> None:
        """Hold back cash for an open order so later sizing sees only what is left."""
        if not usdc >= 0:
            raise ValueError(f"reservation must be >= 0, got {usdc}")
        self.release(order_id)
        self._reservations[order_id] = usdc
        self._reserved_total += usdc

    def release(self, order_id: str) -> None:
        """Idempotent: releasing an unknown or already released order is a no-op."""
        usdc = self._reservations.pop(order_id, None)
        if usdc is None:
            return
        self._reserved_total = self._reserved_total - usdc if self._reservations else 0.0

    def reservation(self, order_id: str) -> float | None:
        return self._reservations.get(order_id)

    @property
    def reserved(self) -> float:
        return max(self._reserved_total, 0.0)

    @property
    def cash_available(self) -> float:
        """Cash not promised to open orders: what a new BUY may spend."""
        return max(self.cash - self.reserved, 0.0)


def _validate(fill: Fill) -> None:
    if not fill.size > 0:
        raise ValueError(f"fill size must be > 0, got {fill.size}")
    if not 0.0 <= fill.price <= 1.0:
        raise ValueError(f"fill price must be in [0, 1], got {fill.price}")
    if not fill.fee >= 0:
        raise ValueError(f"fill fee must be >= 0, got {fill.fee}")

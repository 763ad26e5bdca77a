"""What the live executor learns about the account, as effects the engine step applies.

The executor talks to the exchange from its own thread (`engine.execution.live_worker`), but
the engine's books (the `Portfolio`) belong to the engine step. So everything the exchange
says about the account becomes an *effect*: fills to book, a cash balance to cap at, tokens
held to take in. `DeferredAccount` collects them in the executor's thread; the step applies
them, in order, through `BookedAccount`, which is also what tests use to apply them at once.

Booking a fill the books refuse (selling more than they hold: the exchange and the engine no
longer agree on the account) is never silently dropped: the refusal is said, and the owner of
the `BookedAccount` decides what it means (the engine halts trading until a person looks).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from engine.execution.held_positions import HeldPosition
from engine.execution.intents import IntentStore
from engine.execution.portfolio import Portfolio
from engine.models import Fill, IntentState

SIZED_WITHOUT_HOLDINGS = "sized before the positions held in its market were known"


@dataclass(frozen=True, slots=True)
class BookFills:
    """An order's fills, already stored with its final state: now onto the books."""

    order_id: str
    fills: tuple[Fill, ...]


@dataclass(frozen=True, slots=True)
class CapCash:
    """The exchange's collateral balance: the engine's cash may not exceed it."""

    collateral: float


@dataclass(frozen=True, slots=True)
class AdoptHoldings:
    """Tokens the funder holds (Data API), read at `now`; `since` is this run's first
    start-up attempt (intents created before it were sized by another run)."""

    held: tuple[HeldPosition, ...]
    now: float
    since: float | None


Effect = BookFills | CapCash | AdoptHoldings


class LiveAccount(Protocol):
    def apply(self, effect: Effect) -> list[str]:
        """Take one effect in; log lines saying what it did (none when deferred)."""
        ...


class DeferredAccount:
    """Collects effects from the executor's thread for the engine step (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._effects: list[Effect] = []

    def apply(self, effect: Effect) -> list[str]:
        with self._lock:
            self._effects.append(effect)
        return []

    def drain(self) -> list[Effect]:
        with self._lock:
            out, self._effects = self._effects, []
        return out


class BookedAccount:
    """Applies effects to the engine's books at once (from the engine step, or in tests)."""

    def __init__(
        self,
        portfolio: Portfolio,
        store: IntentStore,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        self.portfolio = portfolio
        self.store = store
        self.on_refused = on_refused

    def apply(self, effect: Effect) -> list[str]:
        if isinstance(effect, BookFills):
            return self._book(effect)
        if isinstance(effect, CapCash):
            return self._cap(effect.collateral)
        return self._adopt(effect)

    def _book(self, effect: BookFills) -> list[str]:
        lines = []
        for f in effect.fills:
            try:
                self.portfolio.apply_fill(f)
            except ValueError as exc:  # the exchange traded it; our books disagree
                why = (
                    f"fill of order {effect.order_id[:12]} ({f.side.value} {f.size:.2f} sh "
                    f"{f.outcome.name} of {f.market_id[:12]}) not booked: {exc}"
                )
                lines.append(why)
                if self.on_refused is not None:
                    self.on_refused(why)
        return lines

    def _cap(self, collateral: float) -> list[str]:
        pf = self.portfolio
        if collateral >= pf.cash:
            return []
        line = (
            f"reconcile: engine cash {pf.cash:.2f} capped to the exchange balance {collateral:.2f}"
        )
        pf.cash = collateral
        return [line]

    def _adopt(self, effect: AdoptHoldings) -> list[str]:
        """Shares held from before this run go into the books, so the risk limits count
        them (a restart must not buy a market's maximum a second time)."""
        pf = self.portfolio
        before = set(pf.positions)
        lines = adopt_holdings(pf, effect.held)
        gained = {market for market, _ in pf.positions.keys() - before}
        lines += expire_sized_without(self.store, gained, effect.since, effect.now)
        return [f"reconcile: {line}" for line in lines]


def expire_sized_without(
    store: IntentStore, markets: set[str], since: float | None, now: float
) -> list[str]:
    """This run's intents, not yet sent, on markets whose holdings were just taken in were
    sized without them (the account could not be read when they were made): they expire,
    and the next cycle sizes those markets again. Earlier runs' intents are left alone:
    their run sized them with its own view of the account."""
    if not markets or since is None:
        return []
    unsent = (IntentState.PENDING, IntentState.APPROVED)
    lines = []
    for i in store.list(states=list(unsent), limit=None):
        if i.market_id not in markets or i.created_ts < since:
            continue
        # False: it was rejected, sent or expired meanwhile, and that stands.
        if store.transition(
            i.intent_id, unsent, IntentState.EXPIRED, now, reason=SIZED_WITHOUT_HOLDINGS
        ):
            lines.append(f"intent {i.intent_id} expired: {SIZED_WITHOUT_HOLDINGS}")
    return lines


def adopt_holdings(pf: Portfolio, held: Sequence[HeldPosition]) -> list[str]:
    """Bring the engine's holdings up to what the exchange says the wallet holds (tokens
    bought by earlier runs or by hand); resolved positions waiting for redemption are left
    out: they are not traded. Lines saying what was taken in.

    Tokens the engine has booked fills of (a position, open or closed) are kept as booked:
    that happens only when the positions are read late, after the engine traded, and the
    Data API's count of a token just sold may lag, which would put sold shares back."""
    trading = [h for h in held if not h.redeemable]
    booked = pf.positions.keys() | pf.closed_realized.keys()
    kept = [h for h in trading if (h.market_id, h.outcome) in booked]
    added = [
        f"{h.title or h.market_id[:12]} {h.outcome.name} +{shares:.2f} sh"
        for h in trading
        if (h.market_id, h.outcome) not in booked
        and (
            shares := pf.adopt(
                h.market_id,
                h.outcome,
                float(h.shares),
                float(h.avg_price),
                worth=float(h.cur_price) if h.cur_price is not None else None,
            )
        )
    ]
    out = [f"exchange: {len(trading)} position(s) held"]
    if added:
        out.append(f"taken into the engine's books: {'; '.join(added)}")
    if kept:
        out.append(
            f"{len(kept)} token(s) already on the engine's books are kept as booked (the Data "
            "API may lag a sale)"
        )
    if len(held) > len(trading):
        out.append(
            f"{len(held) - len(trading)} resolved position(s) wait to be redeemed on "
            "Polymarket (not traded)"
        )
    return out


def apply_all(account: LiveAccount, effects: Sequence[Effect]) -> list[str]:
    return [line for e in effects for line in account.apply(e)]

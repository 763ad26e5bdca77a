"""The risk rules: small, named, each testable alone, run in a fixed order by the manager.

Each rule looks at a `RuleContext` (the candidate, the account and the size proposed so far)
and returns a `Verdict`: allow, resize to fewer shares, or deny. Its name and detail become the
signal's reason (`"cooldown: 412s left"`), so a person reading the console sees exactly which
check stopped an idea and why. An earlier implementation kept its checks in a class the
running loop never called; here the rules are the only path to an order.

Costs are measured the way `AccountView.commit` records them (every share at the worst level
walked, plus the taker fee), so a cap checked here is the cap the next candidate sees.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from engine.config import RiskSettings
from engine.fees import FeeSchedule
from engine.models import Side
from engine.risk.account import AccountView, Candidate
from engine.risk.sizing import (
    best_level,
    floor_shares,
    kelly_fraction_binary,
    kelly_shares,
    nth_level_price,
)
from engine.state.book import Walk, shares_for_budget, walk

_NO_WALK = Walk(filled=0.0, notional=0.0, fee=0.0, levels=0)


Detail = str | Callable[[], str]  # a callable: text built only if someone reads it


@dataclass(slots=True, frozen=True, eq=False)
class Verdict:
    action: Literal["allow", "resize", "deny"]
    shares: float = 0.0  # the new size, for "resize"
    why: Detail = ""

    @property
    def detail(self) -> str:
        """The reason as text. A resize's detail is shown only where it trims a size already
        set, so a rule may pass it as a callable and skip the formatting otherwise (Kelly
        sizing, on every candidate of every cycle)."""
        return self.why() if callable(self.why) else self.why

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verdict):
            return NotImplemented
        return (self.action, self.shares, self.detail) == (other.action, other.shares, other.detail)

    def __hash__(self) -> int:
        return hash((self.action, self.shares, self.detail))


_ALLOW = Verdict("allow")  # immutable: every rule that passes shares it


def allow() -> Verdict:
    return _ALLOW


def resize(shares: float, detail: Detail) -> Verdict:
    return Verdict("resize", shares, detail)


def deny(detail: str) -> Verdict:
    return Verdict("deny", 0.0, detail)


@dataclass(slots=True)
class RuleContext:
    """Everything a rule may look at; only the manager changes `shares`."""

    c: Candidate
    account: AccountView
    risk: RiskSettings
    edge_threshold: float  # for this candidate's side (`EdgeThresholds.for_side`)
    limit: float | None  # worst level price clearing the threshold (`sizing.edge_limit`)
    shares: float = math.inf  # proposed size; inf until a sizing rule sets it
    # The ladder, side, fees and limit are fixed for one evaluation, so a walk depends on
    # the size alone: rules and the manager ask for the same few sizes many times over.
    _walks: dict[float, Walk] = field(default_factory=dict)
    _fees: FeeSchedule | None = None

    @property
    def fees(self) -> FeeSchedule:
        if self._fees is None:
            self._fees = self.c.market.fees
        return self._fees

    def walk(self, shares: float) -> Walk:
        """What `shares` would fill within the edge limit (nothing if no level qualifies)."""
        if self.limit is None or not shares > 0.0:
            return _NO_WALK
        w = self._walks.get(shares)
        if w is None:
            c = self.c
            w = self._walks[shares] = walk(c.prices, c.sizes, shares, c.side, self.fees, self.limit)
        return w

    def worst_price(self, w: Walk) -> float:
        return nth_level_price(self.c.prices, self.c.sizes, w.levels)

    def commit_cost(self, shares: float) -> float:
        """USDC a BUY of `shares` would commit: filled shares at the worst level, plus fee."""
        w = self.walk(shares)
        if w.filled <= 0.0:
            return 0.0
        return w.filled * self.fees.unit_cost(self.worst_price(w))

    def edge(self, w: Walk) -> float:
        """Edge per share at this walk, net of the fee: what the threshold is compared with."""
        if w.filled <= 0.0:
            return math.nan
        if self.c.side is Side.BUY:
            return self.c.p_model - w.cost_per_share
        return (w.notional - w.fee) / w.filled - self.c.p_model

    def top_edge(self) -> float:
        top = best_level(self.c.prices, self.c.sizes)
        if top is None:
            return math.nan
        if self.c.side is Side.BUY:
            return self.c.p_model - self.fees.unit_cost(top)
        return self.fees.unit_proceeds(top) - self.c.p_model


RuleFn = Callable[[RuleContext], Verdict]


@dataclass(slots=True, frozen=True)
class Rule:
    name: str
    check: RuleFn
    sides: frozenset[Side]

    def __call__(self, ctx: RuleContext) -> Verdict:
        return self.check(ctx)


def rule(*sides: Side) -> Callable[[RuleFn], Rule]:
    """Make a function a named rule applying to `sides` (both when none given)."""

    def wrap(fn: RuleFn) -> Rule:
        return Rule(fn.__name__, fn, frozenset(sides or (Side.BUY, Side.SELL)))

    return wrap


# --- gates: no sizing yet -------------------------------------------------------------------


@rule(Side.BUY)
def kill_switch(ctx: RuleContext) -> Verdict:
    """No new risk once a loss limit is hit; closing (SELL) stays allowed, it only reduces risk."""
    reason = kill_switch_reason(ctx.account, ctx.risk)
    return deny(reason) if reason else allow()


@rule()
def market_open(ctx: RuleContext) -> Verdict:
    m = ctx.c.market
    if m.resolved:
        return deny("market resolved")
    if not m.accepting_orders:
        return deny("market not accepting orders")
    return allow()


@rule()
def stale_data(ctx: RuleContext) -> Verdict:
    age, limit = ctx.c.book_age, ctx.risk.stale_data_seconds
    if not age <= limit:  # NaN (never updated) is stale too
        return deny(f"book {age:.0f}s old > {limit:.0f}s")
    return allow()


@rule()
def cooldown(ctx: RuleContext) -> Verdict:
    last = ctx.account.last_action_ts.get(ctx.c.market.market_id)
    if last is None:
        return allow()
    left = last + ctx.risk.cooldown_seconds - ctx.account.now
    return deny(f"{math.ceil(left)}s left") if left > 0 else allow()


@rule()
def duplicate(ctx: RuleContext) -> Verdict:
    c = ctx.c
    if (c.market.market_id, c.outcome, c.side) in ctx.account.open_keys:
        return deny(f"{c.side} {c.outcome.name} already in flight")
    return allow()


# --- sizing ----------------------------------------------------------------------------------


@rule(Side.SELL)
def holdings(ctx: RuleContext) -> Verdict:
    """A SELL closes shares held, all of them, and never more: Polymarket cannot short."""
    c = ctx.c
    held = floor_shares(ctx.account.held.get((c.market.market_id, c.outcome), 0.0))
    if held <= 0.0:
        return deny(f"no {c.outcome.name} shares held")
    return resize(min(held, ctx.shares), f"selling the {held:.2f} shares held")


@rule(Side.BUY)
def kelly_sizing(ctx: RuleContext) -> Verdict:
    """Fractional Kelly at the top-of-book cost (fee included); no edge, no bet."""
    c = ctx.c
    top = best_level(c.prices, c.sizes)
    if top is None:
        return deny("no asks")
    cost = ctx.fees.unit_cost(top)
    f = kelly_fraction_binary(c.p_model, cost)
    if f <= 0.0:
        return deny(f"no edge at top of book: p {c.p_model:.3f} <= cost {cost:.3f}")
    equity = ctx.account.equity
    shares = floor_shares(kelly_shares(c.p_model, cost, equity, ctx.risk.kelly_fraction))
    if shares <= 0.0:
        return deny(f"size rounds to 0 shares (equity {equity:.2f})")
    kelly = ctx.risk.kelly_fraction
    return resize(shares, lambda: f"{kelly:g} x Kelly {f:.3f} of equity {equity:.2f} at {cost:.3f}")


def within_budget(ctx: RuleContext, cap: float, used: float, what: str) -> Verdict:
    """Shrink a BUY so what it commits fits in `cap - used` USDC.

    First the most shares the room buys at walked prices (`shares_for_budget`, fees in), then,
    because a commit counts every share at the worst level walked, trimmed once more to that
    price. Cost per share rises with price, so one trim is enough.
    """
    room = cap - used
    if room <= 1e-9:
        return deny(f"{what} {used:.2f} already at cap {cap:.2f}")
    if room < ctx.risk.min_marketable_usd - 1e-9:  # whatever fits, the exchange refuses
        return deny(f"{what} room {room:.2f} < ${ctx.risk.min_marketable_usd:g} minimum order")
    # Every share at the edge limit (the dearest level a walk may touch) bounds the commit
    # from above, since cost per share rises with price: most candidates fit without a walk.
    if ctx.limit is None or ctx.shares * ctx.fees.unit_cost(ctx.limit) <= room + 1e-9:
        return allow()
    if ctx.commit_cost(ctx.shares) <= room + 1e-9:
        return allow()
    c = ctx.c
    fit = shares_for_budget(c.prices, c.sizes, room, ctx.fees, ctx.limit)
    w = ctx.walk(fit)
    if w.filled > 0.0:
        fit = min(fit, room / ctx.fees.unit_cost(ctx.worst_price(w)))
    fit = floor_shares(fit)
    if fit <= 0.0:
        return deny(f"{what} room {room:.2f} buys no shares")
    return resize(fit, f"{ctx.shares:.2f} -> {fit:.2f} shares ({what} room {room:.2f})")


@rule(Side.BUY)
def max_position(ctx: RuleContext) -> Verdict:
    a = ctx.account
    cap = ctx.risk.max_position_pct * a.equity
    return within_budget(ctx, cap, a.exposure_by_market.get(ctx.c.market.market_id, 0.0), "market")


@rule(Side.BUY)
def max_total_exposure(ctx: RuleContext) -> Verdict:
    a = ctx.account
    cap = ctx.risk.max_total_exposure_pct * a.equity
    return within_budget(ctx, cap, a.total_exposure, "total")


@rule(Side.BUY)
def deployment_pace(ctx: RuleContext) -> Verdict:
    """At most `max_deploy_per_hour_pct` of equity committed to new BUYs in any hour."""
    a = ctx.account
    cap = ctx.risk.max_deploy_per_hour_pct * a.equity
    return within_budget(ctx, cap, a.deployed_last_hour, "deployed this hour")


@rule(Side.BUY)
def max_event_exposure(ctx: RuleContext) -> Verdict:
    event_id = ctx.c.market.event_id
    if event_id is None:
        return allow()
    a = ctx.account
    cap = ctx.risk.max_event_exposure_pct * a.equity
    return within_budget(ctx, cap, a.exposure_by_event.get(event_id, 0.0), f"event {event_id}")


@rule(Side.BUY)
def cash_available(ctx: RuleContext) -> Verdict:
    """Cash left after open orders and pending intents, not the raw balance."""
    a = ctx.account
    return within_budget(ctx, a.cash - a.reserved, 0.0, "cash")


# --- the priced order ------------------------------------------------------------------------


@rule()
def edge_below_threshold(ctx: RuleContext) -> Verdict:
    """Edge re-measured at the final size: average walked price plus fee, not the mid."""
    thr = ctx.edge_threshold
    if ctx.limit is None:
        return deny(f"{ctx.top_edge():.3f} < {thr:.3f} at top of book")
    w = ctx.walk(ctx.shares)
    edge = ctx.edge(w)
    if not edge >= thr - 1e-12:  # float dust only; the threshold itself is never loosened
        return deny(f"{edge:.3f} < {thr:.3f} at {w.filled:.2f} shares")
    return allow()


@rule()
def book_depth(ctx: RuleContext) -> Verdict:
    """Take only what the book offers within the edge limit (the rest would be cancelled)."""
    filled = floor_shares(ctx.walk(ctx.shares).filled)
    if filled <= 0.0:
        return deny(f"no liquidity within limit {ctx.limit}")
    if filled < ctx.shares:
        return resize(filled, f"{ctx.shares:.2f} -> {filled:.2f} shares within limit {ctx.limit}")
    return allow()


@rule()
def below_exchange_minimum(ctx: RuleContext) -> Verdict:
    """Polymarket refuses orders under its minimum size or under $1 marketable notional."""
    min_shares = max(ctx.c.market.min_order_size, ctx.risk.min_order_shares)
    if ctx.shares < min_shares - 1e-9:
        return deny(f"{ctx.shares:.2f} shares < {min_shares:g}")
    notional = ctx.walk(ctx.shares).notional
    if notional < ctx.risk.min_marketable_usd - 1e-9:
        return deny(f"notional ${notional:.2f} < ${ctx.risk.min_marketable_usd:g}")
    return allow()


def default_rules() -> tuple[Rule, ...]:
    """The rules in the order they run: cheap gates, sizing, caps, then the priced order."""
    return (
        kill_switch,
        market_open,
        stale_data,
        cooldown,
        duplicate,
        holdings,
        kelly_sizing,
        max_total_exposure,
        deployment_pace,
        max_position,
        max_event_exposure,
        cash_available,
        edge_below_threshold,
        book_depth,
        below_exchange_minimum,
    )


def kill_switch_reason(account: AccountView, risk: RiskSettings) -> str | None:
    """Daily loss or drawdown past its limit, as text for the halt banner; else None."""
    eq = account.equity
    start = account.day_start_equity
    if start > 0:
        loss = (start - eq) / start
        if loss >= risk.daily_loss_limit_pct:
            return (
                f"daily_loss_limit: equity {eq:.2f} is {loss:.1%} below day start {start:.2f} "
                f"(limit {risk.daily_loss_limit_pct:.1%})"
            )
    peak = account.peak_equity
    if peak > 0:
        dd = (peak - eq) / peak
        if dd >= risk.max_drawdown_pct:
            return (
                f"max_drawdown: equity {eq:.2f} is {dd:.1%} below peak {peak:.2f} "
                f"(limit {risk.max_drawdown_pct:.1%})"
            )
    return None

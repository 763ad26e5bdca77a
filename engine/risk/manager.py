"""The risk manager: the single gate every order passes, paper and live alike.

`evaluate` runs the rules of `engine.risk.rules` in order on one candidate and returns a
`Decision` whose signal always says what happened: an order, or the first rule that refused
and why. Approved orders are committed to the account view at once, so the next candidate in
the same cycle is judged against what this one took.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.config import RiskSettings
from engine.models import OrderRequest, Side, Signal
from engine.risk.account import AccountView, Candidate
from engine.risk.rules import Rule, RuleContext, default_rules, kill_switch_reason
from engine.risk.sizing import best_level, edge_limit, snap_limit
from engine.risk.thresholds import EdgeThresholds


@dataclass(slots=True)
class Decision:
    signal: Signal  # always returned; decision "order" or "rejected" with the reason
    order: OrderRequest | None


class RiskManager:
    def __init__(
        self,
        risk: RiskSettings,
        thresholds: EdgeThresholds | float,
        new_id: Callable[[], str],
        rules: Sequence[Rule] | None = None,
    ) -> None:
        self.risk = risk
        self.thresholds = EdgeThresholds.of(thresholds)
        self.new_id = new_id
        self.rules: tuple[Rule, ...] = tuple(rules) if rules is not None else default_rules()
        # The rules that apply to each side, in order (a lookup per candidate, not per rule).
        self._rules_for = {
            side: tuple(r for r in self.rules if side in r.sides) for side in (Side.BUY, Side.SELL)
        }

    def kill_switch(self, account: AccountView) -> str | None:
        """Daily loss limit or max drawdown reached: the reason to halt, else None."""
        return kill_switch_reason(account, self.risk)

    def evaluate(self, c: Candidate, account: AccountView) -> Decision:
        fees = c.market.fees
        threshold = self.thresholds.for_side(c.side)
        ctx = RuleContext(
            c=c,
            account=account,
            risk=self.risk,
            edge_threshold=threshold,
            limit=edge_limit(c.prices, c.sizes, c.side, c.p_model, fees, threshold),
            _fees=fees,
        )
        trail: list[str] = []  # resizes that trimmed a size already set, shown on the order
        for rule in self._rules_for[c.side]:
            verdict = rule.check(ctx)
            if verdict.action == "deny":
                return Decision(_signal(ctx, "rejected", f"{rule.name}: {verdict.detail}"), None)
            if verdict.action == "resize":
                if math.isfinite(ctx.shares) and verdict.shares < ctx.shares:
                    trail.append(f"{rule.name}: {verdict.detail}")
                ctx.shares = min(verdict.shares, ctx.shares)
        return self._order(ctx, trail)

    def _order(self, ctx: RuleContext, trail: list[str]) -> Decision:
        c = ctx.c
        w = ctx.walk(ctx.shares)
        if not (math.isfinite(ctx.shares) and w.filled > 0.0):
            # Only reachable with a custom rule list that never sizes or prices the order.
            return Decision(_signal(ctx, "rejected", "unsized: no rule set a size"), None)
        order = OrderRequest(
            order_id=self.new_id(),
            ts=c.ts,
            market_id=c.market.market_id,
            token_id=c.market.token(c.outcome),
            outcome=c.outcome,
            side=c.side,
            size=ctx.shares,
            limit_price=snap_limit(ctx.worst_price(w), c.market.tick_size, c.side),
            p_model=c.p_model,
            edge=ctx.edge(w),
        )
        ctx.account.commit(order, c.market.event_id, c.market.fees)
        return Decision(_signal(ctx, "order", "; ".join(trail) or None), order)


def _signal(ctx: RuleContext, decision: str, reason: str | None) -> Signal:
    """The signal as priced at the size reached (top of book when nothing was sized)."""
    c = ctx.c
    size = ctx.shares if math.isfinite(ctx.shares) else 0.0
    w = ctx.walk(size)
    if w.filled > 0.0:
        price, edge = w.avg_price, ctx.edge(w)
    else:
        top = best_level(c.prices, c.sizes)
        price, edge = (math.nan if top is None else top), ctx.top_edge()
    return Signal(
        ts=c.ts,
        market_id=c.market.market_id,
        outcome=c.outcome,
        side=c.side,
        p_model=c.p_model,
        p_market=c.p_market,
        price=price,
        edge=edge,
        size=size,
        decision=decision,
        reason=reason,
    )

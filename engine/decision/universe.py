"""Which markets the strategy may trade this cycle.

Each rule is a named vectorised mask over every market at once, so the filter costs the same
at 10,000 markets as a handful of numpy ops, and `polyb0t diagnose-filters` can say exactly
how many markets each rule removed and show examples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.config import UniverseSettings
from engine.state.market_state import MarketState

BoolArray = npt.NDArray[np.bool_]
HOUR = 3600.0
DAY = 86400.0


@dataclass(slots=True, frozen=True)
class Rule:
    name: str
    describe: str
    keep: Callable[[MarketState, float], BoolArray]


@dataclass(slots=True)
class RuleReport:
    name: str
    describe: str
    failing: int  # markets this rule alone rejects
    removed: int  # markets removed first by this rule, in rule order
    examples: list[str]


class UniverseFilter:
    def __init__(self, settings: UniverseSettings, depth_levels: int = 3) -> None:
        self.s = settings
        self.depth_levels = depth_levels
        self.rules = self._build_rules()

    def _build_rules(self) -> list[Rule]:
        s = self.s
        k = self.depth_levels

        def n(st: MarketState) -> int:
            return st.n

        def accepting(st: MarketState, now: float) -> BoolArray:
            return st.active[: n(st)].copy()

        def trusted(st: MarketState, now: float) -> BoolArray:
            return st.trusted[: n(st)].copy()

        def two_sided(st: MarketState, now: float) -> BoolArray:
            m = n(st)
            return ~np.isnan(st.bid_px[:m, 0]) & ~np.isnan(st.ask_px[:m, 0])

        def liquidity(st: MarketState, now: float) -> BoolArray:
            m = n(st)
            sides = []
            for px, sz in ((st.bid_px, st.bid_sz), (st.ask_px, st.ask_sz)):
                side = np.zeros(m)
                for j in range(min(k, px.shape[1])):  # a column at a time: nansum copies
                    notional = px[:m, j] * sz[:m, j]
                    side += np.where(np.isnan(notional), 0.0, notional)
                sides.append(side)
            keep: BoolArray = sides[0] + sides[1] >= s.min_liquidity
            return keep

        def spread(st: MarketState, now: float) -> BoolArray:
            m = n(st)
            sp = st.ask_px[:m, 0] - st.bid_px[:m, 0]
            return np.nan_to_num(sp, nan=np.inf) <= s.max_spread + 1e-12

        def volume(st: MarketState, now: float) -> BoolArray:
            return st.volume[: n(st)] >= s.min_volume

        def time_left(st: MarketState, now: float) -> BoolArray:
            left = st.end_ts[: n(st)] - now
            left = np.nan_to_num(left, nan=-1.0)
            return (left >= s.min_hours_to_resolution * HOUR) & (
                left <= s.max_days_to_resolution * DAY
            )

        def category(st: MarketState, now: float) -> BoolArray:
            m = n(st)
            names = st.categories
            allowed = np.ones(len(names) + 1, dtype=bool)  # last slot: unknown code -1
            for code, name in enumerate(names):
                ok = (not s.categories or name in s.categories) and (
                    name not in s.exclude_categories
                )
                allowed[code] = ok
            allowed[-1] = not s.categories
            return allowed[st.category[:m]]

        return [
            Rule("accepting_orders", "market open and accepting orders", accepting),
            Rule("book_trusted", "feed live and book rebuilt since any gap", trusted),
            Rule("two_sided_book", "has a bid and an ask", two_sided),
            Rule("liquidity", f"top-{k} book depth >= ${s.min_liquidity:,.0f}", liquidity),
            Rule("spread", f"spread <= {s.max_spread:.3f}", spread),
            Rule("volume", f"lifetime volume >= ${s.min_volume:,.0f}", volume),
            Rule(
                "time_to_resolution",
                f"{s.min_hours_to_resolution:g} h <= time left <= "
                f"{s.max_days_to_resolution:g} days",
                time_left,
            ),
            Rule("category", "category allowed by config", category),
        ]

    def eligible(self, st: MarketState, now: float) -> BoolArray:
        mask = np.ones(st.n, dtype=bool)
        for rule in self.rules:
            mask &= rule.keep(st, now)
        return mask

    def diagnose(self, st: MarketState, now: float, examples: int = 3) -> list[RuleReport]:
        remaining = np.ones(st.n, dtype=bool)
        out = []
        for rule in self.rules:
            keep = rule.keep(st, now)
            first = remaining & ~keep
            idx = np.flatnonzero(first)[:examples]
            out.append(
                RuleReport(
                    name=rule.name,
                    describe=rule.describe,
                    failing=int((~keep).sum()),
                    removed=int(first.sum()),
                    examples=[st.markets[i].question for i in idx],
                )
            )
            remaining &= keep
        return out

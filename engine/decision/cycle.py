"""One decision cycle: the single path from market state to orders or intents.

Paper, live and (later) backtest all run exactly this: a short sequence of small functions,
each readable on its own — sample history, mark the account, check kill switches, filter
the universe, compute features, predict, screen candidates, let the risk manager size and
vet each one, route what survives. No I/O happens here; the runner persists the outcome.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

import numpy as np

from engine.decision.features import FeatureEngine, Features
from engine.decision.strategy.base import FloatArray, Predictor
from engine.decision.strategy.candidates import screen_candidates
from engine.decision.universe import UniverseFilter
from engine.execution.portfolio import Portfolio
from engine.execution.routing import Route
from engine.fees import NO_FEE
from engine.models import Outcome, Side, Signal
from engine.risk.account import AccountView, EquityMarks
from engine.risk.manager import RiskManager
from engine.risk.sizing import order_max_cost
from engine.risk.thresholds import EdgeThresholds
from engine.run.run_state import EngineControl
from engine.state.market_state import MarketState

HOUR = 3600.0


@dataclass(slots=True)
class CycleOutcome:
    ts: float
    cycle: int
    markets: int = 0
    eligible: int = 0
    signals: list[Signal] = field(default_factory=list)
    routed: int = 0  # orders submitted (paper) or intents created (live)
    equity: float = 0.0
    pnl_today: float = 0.0
    halted: str | None = None  # kill switch that fired this cycle
    skipped: str | None = None  # why trading was skipped (paused, halted, stale data)
    duration_ms: float = 0.0


class DecisionCycle:
    def __init__(
        self,
        state: MarketState,
        universe: UniverseFilter,
        features: FeatureEngine,
        predictor: Predictor,
        risk: RiskManager,
        portfolio: Portfolio,
        route: Route,
        control: EngineControl,
        thresholds: EdgeThresholds | float,
        max_signals: int,
        stale_seconds: float,
    ) -> None:
        self.state = state
        self.universe = universe
        self.features = features
        self.predictor = predictor
        self.risk = risk
        self.portfolio = portfolio
        self.route = route
        self.control = control
        self.thresholds = EdgeThresholds.of(thresholds)
        self.max_signals = max_signals
        self.stale_seconds = stale_seconds
        self.marks = EquityMarks()
        self.last_action: dict[str, float] = {}
        # (ts, USDC) of each BUY approved in the last hour, for the deployment pace.
        self.deployed: deque[tuple[float, float]] = deque()
        self.count = 0
        self.last_features: Features | None = None
        self.last_p_yes: FloatArray = np.empty(0)

    # --- the cycle -------------------------------------------------------------------------

    def run(self, now: float) -> CycleOutcome:
        t0 = time.perf_counter()
        self.count += 1
        out = CycleOutcome(ts=now, cycle=self.count, markets=self.state.n)
        self._sample_history(now)
        account = self.account_view(now)
        out.equity = account.equity
        out.pnl_today = account.equity - account.day_start_equity
        out.halted = self._check_kill_switches(account)
        eligible = self.universe.eligible(self.state, now)
        out.eligible = int(eligible.sum())
        feats = self.features.compute(self.state, now)
        p_yes = self.predictor.predict(feats)
        self.last_features, self.last_p_yes = feats, p_yes
        out.skipped = self._skip_reason(now)
        if out.skipped is None:
            out.signals, out.routed = self._trade(p_yes, eligible, account, now)
        out.duration_ms = (time.perf_counter() - t0) * 1000.0
        return out

    def _sample_history(self, now: float) -> None:
        self.state.record_history(now)
        self.features.observe(self.state)

    def _check_kill_switches(self, account: AccountView) -> str | None:
        reason = self.risk.kill_switch(account)
        if reason is not None and self.control.halt(reason):
            return reason
        return None

    def _skip_reason(self, now: float) -> str | None:
        if not self.control.trading_allowed:
            return f"{self.control.state.value}: {self.control.reason or ''}".rstrip(": ")
        stamps = self.state.book_ts[: self.state.n]
        if np.isnan(stamps).all():  # no market, or none with a book yet
            return "stale data: no book yet"
        newest = np.nanmax(stamps)
        if not now - newest <= self.stale_seconds:
            return f"stale data: newest book is {now - newest:.0f}s old"
        return None

    def _trade(
        self, p_yes: FloatArray, eligible: np.ndarray, account: AccountView, now: float
    ) -> tuple[list[Signal], int]:
        cands = screen_candidates(
            self.state, p_yes, eligible, now, self.thresholds, account.held, self.max_signals
        )
        signals: list[Signal] = []
        orders = []
        for c in cands:
            d = self.risk.evaluate(c, account)
            if d.order is not None:
                d.signal.decision = self.route.kind
                orders.append(d.order)
                self.last_action[d.order.market_id] = now
                if d.order.side is Side.BUY:
                    self.deployed.append((now, order_max_cost(d.order, c.market.fees)))
            signals.append(d.signal)
        if orders:
            markets = {o.market_id: m for o in orders if (m := self.state.market(o.market_id))}
            self.route.send(orders, markets, now)
        return signals, len(orders)

    # --- account ---------------------------------------------------------------------------

    def mark(self, market_id: str, outcome: Outcome) -> float:
        return self.state.mid(market_id, outcome)

    def mark_equity(self, now: float) -> float:
        """Equity now, folded into the day-start and peak marks (holdings brought in from
        the exchange shift the marks rather than count as a gain)."""
        equity = self.portfolio.equity(self.mark)
        self.marks.shift(self.portfolio.take_brought_in())
        self.marks.update(now, equity)
        return equity

    def account_view(self, now: float) -> AccountView:
        """The account as the risk manager must see it: cash net of everything in flight."""
        pf = self.portfolio
        equity = self.mark_equity(now)
        by_market: dict[str, float] = defaultdict(float)
        by_event: dict[str, float] = defaultdict(float)
        held: dict[tuple[str, Outcome], float] = {}
        for (mid, outcome), pos in pf.positions.items():
            if pos.size <= 0:
                continue
            held[(mid, outcome)] = pos.size
            by_market[mid] += pos.cost
            event = self.state.event_of(mid, pos.event_id)
            if event:
                by_event[event] += pos.cost
        reserved = 0.0
        open_keys = set()
        for f in self.route.in_flight():
            m = self.state.market(f.market_id)
            usdc = f.max_cost(m.fees if m is not None else NO_FEE)
            reserved += usdc
            by_market[f.market_id] += usdc
            if m is not None and m.event_id:
                by_event[m.event_id] += usdc
            open_keys.add((f.market_id, f.outcome, f.side))
        while self.deployed and self.deployed[0][0] <= now - HOUR:
            self.deployed.popleft()
        return AccountView(
            now=now,
            equity=equity,
            cash=pf.cash,
            reserved=reserved,
            day_start_equity=self.marks.day_start_equity,
            peak_equity=self.marks.peak_equity,
            exposure_by_market=dict(by_market),
            exposure_by_event=dict(by_event),
            total_exposure=sum(by_market.values()),
            deployed_last_hour=sum(usdc for _, usdc in self.deployed),
            held=held,
            last_action_ts=dict(self.last_action),
            open_keys=open_keys,
        )

"""Building the console's view of the engine after every step.

Runs in the engine step (right after the step's work, and for queued console requests), so it
reads a consistent state; consoles only ever read what it published into the `ViewStore`.
`EngineView` decides what to publish and when; the market rows that changed come from
`engine.feed.market_rows`, the panes from `engine.feed.panes`, the model's scores from
`engine.decision.brier`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

import numpy as np

from engine.decision.brier import BrierScore
from engine.decision.cycle import CycleOutcome, DecisionCycle
from engine.events import MarketResolved
from engine.execution.intents import IntentStore
from engine.execution.portfolio import Portfolio
from engine.feed.market_rows import MarketRows
from engine.feed.panes import (
    expert_view,
    intent_view,
    market_detail,
    portfolio_view,
    signal_view,
    status_view,
)
from engine.feed.view import IntentView, MarketDetail, SignalView, ViewDelta, ViewStore
from engine.models import Signal
from engine.run.run_state import EngineControl
from engine.state.market_state import MarketState


@dataclass(slots=True)
class _Seen:
    """A signal the view keeps, with its console row once one was built."""

    signal: Signal
    view: SignalView | None = None


class EngineView:
    def __init__(
        self,
        *,
        state: MarketState,
        cycle: DecisionCycle,
        portfolio: Portfolio,
        control: EngineControl,
        intents: IntentStore | None,
        mode_label: str,
        source_name: str,
        predictor_name: str,
        store: ViewStore | None = None,
        result_linger_seconds: float = 10.0,
        watched: Callable[[], bool] | None = None,
    ) -> None:
        self.state = state
        self.cycle = cycle
        self.portfolio = portfolio
        self.control = control
        self.intents = intents
        self.mode_label = mode_label
        self.source_name = source_name
        self.predictor_name = predictor_name
        self.store = store or ViewStore()
        self.linger = result_linger_seconds  # closed intents stay visible this long
        self.rows = MarketRows(state)
        self.brier = BrierScore()
        self._signals: deque[_Seen] = deque(maxlen=200)
        self._by_market: dict[str, deque[_Seen]] = {}
        self._equity: deque[float] = deque(maxlen=300)
        self._last_t = 0.0
        self._intent_views: tuple[IntentView, ...] = ()
        self._p_seen: np.ndarray = np.empty(0)  # each market's P(YES) as of the last step
        # Is anyone reading the view? A daemon with no console attached skips building the
        # market rows and panes (most of the publishing cost at 10,000 markets); what later
        # reads need (signals, the equity curve, Brier scores) is kept either way.
        self.watched: Callable[[], bool] = watched or (lambda: True)

    # --- publishing (engine worker thread) -------------------------------------------------

    def publish(
        self, t: float, outcome: CycleOutcome | None, resolved: list[MarketResolved]
    ) -> None:
        self._last_t = t
        # P(YES) as of the last step, before the resolutions: what the model said beforehand
        self.brier.score(self.state, self._p_seen, resolved)
        self._p_seen = self.cycle.last_p_yes
        if outcome is not None:
            self._add_signals(outcome.signals)
            self._equity.append(outcome.equity)
        if self.watched():
            self._publish_panes(t)

    def catch_up(self) -> None:
        """Publish the whole current view at once (a console attaching to a daemon that had
        none: the view was not kept up to date meanwhile)."""
        self._publish_panes(self._last_t or time.time())

    def _publish_panes(self, t: float) -> None:
        rows = self.rows.changed(t, self.cycle.last_p_yes)
        if self.intents is not None:
            self._intent_views = self._load_intents(t)
        self.store.apply(
            ViewDelta(
                seq=0,
                n_rows=self.state.n,
                rows=rows,
                status=status_view(
                    t,
                    state=self.state,
                    cycle=self.cycle,
                    portfolio=self.portfolio,
                    control=self.control,
                    mode=self.mode_label,
                    source=self.source_name,
                ),
                signals=tuple(self._view(s) for s in islice(reversed(self._signals), 100)),
                intents=self._intent_views,
                portfolio=portfolio_view(self.portfolio, self.state, self.cycle.mark, self._equity),
                experts=(expert_view(self.predictor_name, self.brier),),
                log=(),
            )
        )

    def _add_signals(self, signals: list[Signal]) -> None:
        """Keep the cycle's signals; their views are built when a console first reads them
        (a daemon with none attached builds none)."""
        for s in signals:
            seen = _Seen(s)
            self._signals.append(seen)
            self._by_market.setdefault(s.market_id, deque(maxlen=20)).append(seen)

    def _view(self, seen: _Seen) -> SignalView:
        if seen.view is None:
            seen.view = signal_view(seen.signal, self.state)
        return seen.view

    def _load_intents(self, t: float) -> tuple[IntentView, ...]:
        assert self.intents is not None
        out = []
        for i in self.intents.list(limit=100):
            recent = (i.updated_ts or i.created_ts) >= t - self.linger
            if not i.state.is_terminal or recent:
                out.append(intent_view(i))
        return tuple(out)

    def refresh_intents(self) -> None:
        """After a command: show the intent pane's new state without waiting for a step."""
        if self.intents is not None:
            self._intent_views = self._load_intents(self._last_t or time.time())
            self.store.touch_intents(self._intent_views)

    def refresh_state(self) -> None:
        """After pause/resume/kill: show the run state at once."""
        self.store.with_status(state=self.control.state.value, reason=self.control.reason)

    # --- on demand ---------------------------------------------------------------------------

    def detail(self, market_id: str) -> MarketDetail | None:
        signals = (self._view(s) for s in reversed(self._by_market.get(market_id, ())))
        return market_detail(self.state, market_id, signals)

    def log_handler(self) -> logging.Handler:
        """A logging handler feeding the console's log pane (bounded)."""
        store = self.store

        class _ToView(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                store.add_log(record.created, record.levelname, record.getMessage())

        return _ToView(level=logging.INFO)

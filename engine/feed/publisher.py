"""Building the console's view of the engine after every step.

Runs in the engine step (right after the step's work, and for queued console requests), so it
reads a consistent state; consoles only ever read what it published into the `ViewStore`. Only
market rows whose values changed (book version, prediction or edge) become new `MarketRow`s:
at 10,000 markets a step costs a few vectorised comparisons plus one small object per
changed row.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from engine.decision.cycle import CycleOutcome, DecisionCycle
from engine.decision.strategy.candidates import top_edges
from engine.events import MarketResolved
from engine.execution.intents import IntentStore
from engine.execution.portfolio import Portfolio
from engine.feed.view import (
    ExpertView,
    IntentView,
    MarketDetail,
    MarketRow,
    PortfolioView,
    PositionView,
    SignalView,
    StatusView,
    ViewDelta,
    ViewStore,
)
from engine.models import Signal, TradeIntent
from engine.run.run_state import EngineControl
from engine.state.market_state import MarketState

HOUR = 3600.0
EPS = 1e-6


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
        self._shown = np.zeros((8, 0))  # last published values of each row's columns
        self._listed = 0
        self._hourly: deque[tuple[float, np.ndarray]] = deque(maxlen=25)
        self._signals: deque[SignalView] = deque(maxlen=200)
        self._by_market: dict[str, deque[SignalView]] = {}
        self._equity: deque[float] = deque(maxlen=300)
        self._brier = [0.0, 0.0, 0]  # model, market, count
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
        self._score_resolutions(resolved)
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
        rows = self._changed_rows(t)
        if self.intents is not None:
            self._intent_views = self._load_intents(t)
        self.store.apply(
            ViewDelta(
                seq=0,
                n_rows=self.state.n,
                rows=rows,
                status=self._status(t),
                signals=tuple(reversed(self._signals))[:100],
                intents=self._intent_views,
                portfolio=self._portfolio(),
                experts=(self._expert(),),
                log=(),
            )
        )

    def _p_and_edge(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.state.n
        p = np.full(n, np.nan)
        last = self.cycle.last_p_yes
        p[: min(n, len(last))] = last[:n]
        ey, en = top_edges(self.state, p)
        return p, np.fmax(ey, en)

    def _changed_rows(self, t: float) -> tuple[MarketRow, ...]:
        st = self.state
        n = st.n
        p, edge = self._p_and_edge()
        mid = st.mids()
        if not self._hourly or t - self._hourly[-1][0] >= HOUR:
            self._hourly.append((t, mid.copy()))
        _, ref = self._hourly[0]
        base = np.full(n, np.nan)
        base[: len(ref)] = ref[:n]
        change = mid - base
        # What a row shows, as columns; a row is sent again only when one of them moved
        # (a change deep in the book or a new version number alone redraws nothing).
        shown = np.vstack(
            [
                st.bid_px[:n, 0],
                st.ask_px[:n, 0],
                st.volume[:n],
                p,
                edge,
                change,
                st.active[:n].astype(np.float64),
                st.trusted[:n].astype(np.float64),
            ]
        )
        grown = n - self._shown.shape[1]
        if grown > 0:
            self._shown = np.hstack([self._shown, np.full((shown.shape[0], grown), np.nan)])
        moved: np.ndarray = np.asarray(_moved(shown, self._shown).any(axis=0))
        if self._listed < n:  # new rows are always sent, even with an empty book
            moved[self._listed :] = True
            self._listed = n
        idx = np.flatnonzero(moved)
        self._shown[:, idx] = shown[:, idx]
        cats = st.categories
        out = []
        for r in idx.tolist():
            m = st.markets[r]
            bid, ask = float(st.bid_px[r, 0]), float(st.ask_px[r, 0])
            out.append(
                MarketRow(
                    row=r,
                    market_id=m.market_id,
                    question=m.question,
                    category=cats[st.category[r]] if st.category[r] >= 0 else "",
                    bid=bid,
                    ask=ask,
                    mid=float(mid[r]),
                    spread=ask - bid,
                    change_24h=float(change[r]),
                    volume=float(st.volume[r]),
                    end_ts=float(st.end_ts[r]),
                    p_model=float(p[r]),
                    edge=float(edge[r]),
                    active=bool(st.active[r]),
                    trusted=bool(st.trusted[r]),
                )
            )
        return tuple(out)

    def _status(self, t: float) -> StatusView:
        st = self.state
        stamps = st.book_ts[: st.n]
        newest = float(np.nanmax(stamps)) if st.n and not np.isnan(stamps).all() else float("nan")
        equity = self.portfolio.equity(self.cycle.mark)
        return StatusView(
            mode=self.mode_label,
            source=self.source_name,
            state=self.control.state.value,
            reason=self.control.reason,
            data_age=t - newest,
            cash=self.portfolio.cash,
            equity=equity,
            pnl_today=equity - self.cycle.marks.day_start_equity,
            cycle=self.cycle.count,
            ts=t,
        )

    def _add_signals(self, signals: list[Signal]) -> None:
        for s in signals:
            m = self.state.market(s.market_id)
            v = SignalView(
                ts=s.ts,
                market_id=s.market_id,
                question=m.question if m else s.market_id,
                outcome=s.outcome.name,
                side=s.side.value,
                p_model=s.p_model,
                p_market=s.p_market,
                edge=s.edge,
                size=s.size,
                decision=s.decision,
                reason=s.reason,
            )
            self._signals.append(v)
            self._by_market.setdefault(s.market_id, deque(maxlen=20)).append(v)

    def _portfolio(self) -> PortfolioView:
        pf = self.portfolio
        positions = []
        by_event: dict[str, float] = {}
        for (market_id, outcome), pos in sorted(pf.positions.items()):
            mark = self.state.mid(market_id, outcome)
            value = pos.size * (pos.avg_price if mark != mark else mark)
            m = self.state.market(market_id)
            event = self.state.event_of(market_id, pos.event_id)
            positions.append(
                PositionView(
                    market_id=market_id,
                    question=m.question if m else market_id,
                    outcome=outcome.name,
                    size=pos.size,
                    avg_price=pos.avg_price,
                    mark=mark,
                    unrealized=value - pos.cost,
                    realized=pos.realized_pnl,
                    event_id=event,
                )
            )
            if event:
                by_event[event] = by_event.get(event, 0.0) + pos.cost
        unrealized = pf.unrealized_pnl(self.cycle.mark)
        return PortfolioView(
            cash=pf.cash,
            equity=pf.equity(self.cycle.mark),
            realized=pf.realized_pnl,
            unrealized=unrealized,
            exposure=pf.exposure,
            exposure_by_event=tuple(sorted(by_event.items(), key=lambda kv: -kv[1])),
            positions=tuple(positions),
            equity_curve=tuple(self._equity),
        )

    def _score_resolutions(self, resolved: list[MarketResolved]) -> None:
        """Brier of the model and of the market price on each market as it resolves."""
        for r in resolved:
            row = self.state.row(r.market_id)
            if row is None or row >= len(self._p_seen):
                continue
            p = self._p_seen[row]  # P(YES) as of the last step, before the resolution
            mid, _ = self.state.history_back(0)
            m = mid[row] if row < len(mid) else np.nan
            if p == p and m == m:
                self._brier[0] += (p - r.payout_yes) ** 2
                self._brier[1] += (m - r.payout_yes) ** 2
                self._brier[2] += 1

    def _expert(self) -> ExpertView:
        model, market, count = self._brier
        n = int(count)
        return ExpertView(
            name=self.predictor_name,
            state="ACTIVE",
            weight=1.0,
            brier=model / n if n else None,
            brier_market=market / n if n else None,
            resolved=n,
            last_trained=None,
        )

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
        st = self.state
        r = st.row(market_id)
        if r is None:
            return None
        m = st.markets[r]
        window = st.history_window(st.history_len)
        ts = [float(st.history_back(k)[1]) for k in range(st.history_len - 1, -1, -1)]
        mids = window[r].tolist() if st.n else []
        history = tuple((a, b) for a, b in zip(ts, mids, strict=False) if b == b)
        bids = tuple(
            (float(p), float(s)) for p, s in zip(st.bid_px[r], st.bid_sz[r], strict=True) if s > 0
        )
        asks = tuple(
            (float(p), float(s)) for p, s in zip(st.ask_px[r], st.ask_sz[r], strict=True) if s > 0
        )
        return MarketDetail(
            market_id=m.market_id,
            question=m.question,
            category=m.category,
            description=m.description,
            end_ts=m.end_ts,
            tick_size=m.tick_size,
            fee_rate=m.fee_rate,
            history=history,
            bids=bids,
            asks=asks,
            signals=tuple(reversed(self._by_market.get(market_id, ()))),
        )

    def log_handler(self) -> logging.Handler:
        """A logging handler feeding the console's log pane (bounded)."""
        store = self.store

        class _ToView(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                store.add_log(record.created, record.levelname, record.getMessage())

        return _ToView(level=logging.INFO)


def intent_view(i: TradeIntent) -> IntentView:
    return IntentView(
        intent_id=i.intent_id,
        market_id=i.market_id,
        question=i.question,
        outcome=i.outcome.name,
        side=i.side.value,
        price=i.limit_price,
        size=i.size,
        cost=i.cost,
        edge=i.edge,
        state=i.state.value,
        created_ts=i.created_ts,
        expires_ts=i.expires_ts,
        updated_ts=i.updated_ts or i.created_ts,
        reason=i.reason,
    )


def _moved(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Changed by more than display precision; NaN to NaN is no change."""
    both_nan = np.isnan(new) & np.isnan(old)
    with np.errstate(invalid="ignore"):
        return ~both_nan & ~(np.abs(new - old) <= EPS)  # type: ignore[no-any-return]

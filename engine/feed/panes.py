"""The console's small panes, built from the engine's state as immutable values.

Each builder reads what one pane shows (the status line, the portfolio, a market's detail, an
intent, a signal, an expert's scores) and nothing else, so `EngineView` only decides when to
build them. They run in the engine step, which owns the state they read.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from engine.decision.brier import BrierScore
from engine.decision.cycle import DecisionCycle
from engine.execution.portfolio import Mark, Portfolio
from engine.feed.view import (
    ExpertView,
    IntentView,
    MarketDetail,
    PortfolioView,
    PositionView,
    SignalView,
    StatusView,
)
from engine.models import Signal, TradeIntent
from engine.run.run_state import EngineControl
from engine.state.market_state import MarketState


def status_view(
    t: float,
    *,
    state: MarketState,
    cycle: DecisionCycle,
    portfolio: Portfolio,
    control: EngineControl,
    mode: str,
    source: str,
) -> StatusView:
    """The status line: run state, data age (engine time since the newest book), money."""
    stamps = state.book_ts[: state.n]
    newest = float(np.nanmax(stamps)) if state.n and not np.isnan(stamps).all() else float("nan")
    equity = portfolio.equity(cycle.mark)
    return StatusView(
        mode=mode,
        source=source,
        state=control.state.value,
        reason=control.reason,
        data_age=t - newest,
        cash=portfolio.cash,
        equity=equity,
        pnl_today=equity - cycle.marks.day_start_equity,
        cycle=cycle.count,
        ts=t,
    )


def signal_view(s: Signal, state: MarketState) -> SignalView:
    m = state.market(s.market_id)
    return SignalView(
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


def portfolio_view(
    pf: Portfolio, state: MarketState, mark: Mark, equity_curve: Iterable[float]
) -> PortfolioView:
    """Positions at the current mid (their cost where the book has none), exposure per
    event group, largest first."""
    positions = []
    by_event: dict[str, float] = {}
    for (market_id, outcome), pos in sorted(pf.positions.items()):
        px = state.mid(market_id, outcome)
        value = pos.size * (pos.avg_price if px != px else px)
        m = state.market(market_id)
        event = state.event_of(market_id, pos.event_id)
        positions.append(
            PositionView(
                market_id=market_id,
                question=m.question if m else market_id,
                outcome=outcome.name,
                size=pos.size,
                avg_price=pos.avg_price,
                mark=px,
                unrealized=value - pos.cost,
                realized=pos.realized_pnl,
                event_id=event,
            )
        )
        if event:
            by_event[event] = by_event.get(event, 0.0) + pos.cost
    unrealized = pf.unrealized_pnl(mark)
    return PortfolioView(
        cash=pf.cash,
        equity=pf.equity(mark),
        realized=pf.realized_pnl,
        unrealized=unrealized,
        exposure=pf.exposure,
        exposure_by_event=tuple(sorted(by_event.items(), key=lambda kv: -kv[1])),
        positions=tuple(positions),
        equity_curve=tuple(equity_curve),
    )


def expert_view(name: str, brier: BrierScore) -> ExpertView:
    """The one predictor as the experts pane shows it, with its and the market's Brier."""
    return ExpertView(
        name=name,
        state="ACTIVE",
        weight=1.0,
        brier=brier.model,
        brier_market=brier.market,
        resolved=brier.count,
        last_trained=None,
    )


def market_detail(
    state: MarketState, market_id: str, signals: Iterable[SignalView]
) -> MarketDetail | None:
    """A market's book, its in-memory mid history and its recent signals (newest first as
    given); None for a market the engine does not know."""
    st = state
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
        signals=tuple(signals),
    )


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

"""Domain objects <-> table rows, in one place.

Rows are plain dicts keyed by column name: what SQLAlchemy Core's executemany takes and what
`Result.mappings()` gives back. Enums are stored by name (`Outcome`) or value (`Side`, intent
state), see `engine.storage.tables`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import RowMapping

from engine.models import (
    ExecutionReport,
    Fill,
    IntentState,
    Market,
    Outcome,
    Position,
    Side,
    Signal,
    TradeIntent,
)
from engine.storage.records import DailyPnl, EngineStatus, EventRecord, RunInfo, Snapshot

Row = dict[str, Any]


def _opt(x: float | None) -> float | None:
    """NaN (numpy's "no value") becomes NULL, so SQL aggregates and PostgreSQL agree."""
    return None if x is None or math.isnan(x) else float(x)


# --- markets -------------------------------------------------------------------------------


def market_row(m: Market, now: float) -> Row:
    return {
        "market_id": m.market_id,
        "question": m.question,
        "category": m.category,
        "event_id": m.event_id,
        "yes_token": m.yes_token,
        "no_token": m.no_token,
        "created_ts": m.created_ts,
        "end_ts": m.end_ts,
        "tick_size": m.tick_size,
        "fee_rate": m.fee_rate,
        "fee_exponent": m.fee_exponent,
        "min_order_size": m.min_order_size,
        "neg_risk": m.neg_risk,
        "accepting_orders": m.accepting_orders,
        "volume": m.volume,
        "liquidity": m.liquidity,
        "resolved": m.resolved,
        "payout_yes": m.payout_yes,
        "description": m.description,
        "updated_ts": now,
    }


def market_from_row(r: RowMapping) -> Market:
    return Market(
        market_id=r["market_id"],
        question=r["question"],
        category=r["category"],
        yes_token=r["yes_token"],
        no_token=r["no_token"],
        created_ts=r["created_ts"],
        end_ts=r["end_ts"],
        tick_size=r["tick_size"],
        min_order_size=r["min_order_size"],
        fee_rate=r["fee_rate"],
        fee_exponent=r["fee_exponent"],
        event_id=r["event_id"],
        neg_risk=bool(r["neg_risk"]),
        volume=r["volume"],
        liquidity=r["liquidity"],
        accepting_orders=bool(r["accepting_orders"]),
        description=r["description"],
        resolved=bool(r["resolved"]),
        payout_yes=r["payout_yes"],
    )


# --- per-cycle records ---------------------------------------------------------------------


SNAPSHOT_COLUMNS = (
    "run_id", "ts", "market_id", "best_bid", "best_ask", "mid", "spread",
    "bid_depth", "ask_depth", "last_trade", "volume",
)  # fmt: skip


def snapshot_tuples(snaps: Sequence[Snapshot], run_id: str | None) -> list[tuple[Any, ...]]:
    """Snapshot rows as tuples in `SNAPSHOT_COLUMNS` order, many at once (a step can store
    thousands). `x == x` is False only for NaN: an empty side's NaN prices are stored as
    NULL, so SQL aggregates and PostgreSQL agree; missing depth is 0."""
    return [
        (
            run_id,
            s.ts,
            s.market_id,
            s.best_bid if s.best_bid == s.best_bid else None,
            s.best_ask if s.best_ask == s.best_ask else None,
            s.mid if s.mid == s.mid else None,
            s.spread if s.spread == s.spread else None,
            s.bid_depth if s.bid_depth == s.bid_depth else 0.0,
            s.ask_depth if s.ask_depth == s.ask_depth else 0.0,
            s.last_trade if s.last_trade == s.last_trade else None,
            s.volume if s.volume == s.volume else None,
        )
        for s in snaps
    ]


def signal_row(s: Signal, run_id: str) -> Row:
    return {
        "run_id": run_id,
        "ts": s.ts,
        "market_id": s.market_id,
        "outcome": s.outcome.name,
        "side": s.side.value,
        "p_model": s.p_model,
        "p_market": s.p_market,
        "price": s.price,
        "edge": s.edge,
        "size": s.size,
        "decision": s.decision,
        "reason": s.reason,
    }


def signal_from_row(r: RowMapping) -> Signal:
    return Signal(
        ts=r["ts"],
        market_id=r["market_id"],
        outcome=Outcome[r["outcome"]],
        side=Side(r["side"]),
        p_model=r["p_model"],
        p_market=r["p_market"],
        price=r["price"],
        edge=r["edge"],
        size=r["size"],
        decision=r["decision"],
        reason=r["reason"],
    )


def order_row(rep: ExecutionReport, run_id: str) -> Row:
    o = rep.order
    filled = rep.filled_size
    avg = sum(f.price * f.size for f in rep.fills) / filled if filled > 0 else None
    return {
        "order_id": o.order_id,
        "run_id": run_id,
        "intent_id": o.intent_id,
        "ts": o.ts,
        "market_id": o.market_id,
        "token_id": o.token_id,
        "outcome": o.outcome.name,
        "side": o.side.value,
        "size": o.size,
        "limit_price": o.limit_price,
        "status": rep.status,
        "filled_size": filled,
        "avg_price": avg,
        "fee": sum(f.fee for f in rep.fills),
        "reason": rep.reason,
    }


def fill_row(f: Fill, run_id: str) -> Row:
    return {
        "run_id": run_id,
        "order_id": f.order_id,
        "intent_id": f.intent_id,
        "ts": f.ts,
        "market_id": f.market_id,
        "outcome": f.outcome.name,
        "side": f.side.value,
        "price": f.price,
        "size": f.size,
        "fee": f.fee,
    }


def fill_from_row(r: RowMapping) -> Fill:
    return Fill(
        order_id=r["order_id"],
        ts=r["ts"],
        market_id=r["market_id"],
        outcome=Outcome[r["outcome"]],
        side=Side(r["side"]),
        price=r["price"],
        size=r["size"],
        fee=r["fee"],
        intent_id=r["intent_id"],
    )


def position_row(p: Position, run_id: str, now: float) -> Row:
    return {
        "run_id": run_id,
        "market_id": p.market_id,
        "outcome": p.outcome.name,
        "size": p.size,
        "avg_price": p.avg_price,
        "realized_pnl": p.realized_pnl,
        "event_id": p.event_id,
        "updated_ts": now,
    }


def position_from_row(r: RowMapping) -> Position:
    return Position(
        market_id=r["market_id"],
        outcome=Outcome[r["outcome"]],
        size=r["size"],
        avg_price=r["avg_price"],
        realized_pnl=r["realized_pnl"],
        event_id=r["event_id"],
    )


def event_row(e: EventRecord, run_id: str) -> Row:
    return {"run_id": run_id, "ts": e.ts, "level": e.level, "kind": e.kind, "message": e.message}


def event_from_row(r: RowMapping) -> EventRecord:
    return EventRecord(ts=r["ts"], level=r["level"], kind=r["kind"], message=r["message"])


def engine_state_row(s: EngineStatus, run_id: str) -> Row:
    return {
        "run_id": run_id,
        "state": s.state,
        "reason": s.reason,
        "cash": s.cash,
        "equity": s.equity,
        "peak_equity": s.peak_equity,
        "exposure": s.exposure,
        "cycle": s.cycle,
        "updated_ts": s.updated_ts,
        "pid": s.pid,
    }


def engine_state_from_row(r: RowMapping) -> EngineStatus:
    return EngineStatus(
        state=r["state"],
        cash=r["cash"],
        equity=r["equity"],
        peak_equity=r["peak_equity"],
        exposure=r["exposure"],
        cycle=r["cycle"],
        updated_ts=r["updated_ts"],
        reason=r["reason"],
        pid=r["pid"],
    )


def daily_pnl_row(d: DailyPnl, run_id: str) -> Row:
    return {
        "run_id": run_id,
        "day": d.day,
        "start_equity": d.start_equity,
        "end_equity": d.end_equity,
        "peak_equity": d.peak_equity,
        "realized_pnl": d.realized_pnl,
        "unrealized_pnl": d.unrealized_pnl,
        "fees": d.fees,
        "fills": d.fills,
    }


def run_from_row(r: RowMapping) -> RunInfo:
    return RunInfo(
        run_id=r["run_id"],
        started_ts=r["started_ts"],
        ended_ts=r["ended_ts"],
        mode=r["mode"],
        source=r["source"],
        seed=r["seed"],
        status=r["status"],
        settings_json=r["settings_json"],
        seq=r["seq"],
        host=r["host"],
        pid=r["pid"],
    )


# --- intents -------------------------------------------------------------------------------


def intent_row(i: TradeIntent, run_id: str) -> Row:
    return {
        "intent_id": i.intent_id,
        "run_id": run_id,
        "created_ts": i.created_ts,
        "expires_ts": i.expires_ts,
        "updated_ts": i.updated_ts if i.updated_ts is not None else i.created_ts,
        "market_id": i.market_id,
        "token_id": i.token_id,
        "outcome": i.outcome.name,
        "side": i.side.value,
        "size": i.size,
        "limit_price": i.limit_price,
        "p_model": i.p_model,
        "edge": i.edge,
        "state": i.state.value,
        "question": i.question,
        "reason": i.reason,
        "override": i.override,
    }


def intent_from_row(r: RowMapping) -> TradeIntent:
    return TradeIntent(
        intent_id=r["intent_id"],
        created_ts=r["created_ts"],
        expires_ts=r["expires_ts"],
        market_id=r["market_id"],
        token_id=r["token_id"],
        outcome=Outcome[r["outcome"]],
        side=Side(r["side"]),
        size=r["size"],
        limit_price=r["limit_price"],
        p_model=r["p_model"],
        edge=r["edge"],
        state=IntentState(r["state"]),
        question=r["question"],
        reason=r["reason"],
        updated_ts=r["updated_ts"],
        override=r["override"],
    )

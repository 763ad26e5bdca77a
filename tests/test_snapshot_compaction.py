"""Compact snapshots: a market is stored when its top of book changed, or as a heartbeat.

A market whose book does not move is stored once per `snapshot_max_interval_seconds`; one
that moves is stored at every snapshot step; and the compact rows, carried forward, are
exactly what storing every market at every step gives (checked on a seeded engine run).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from engine.config import load_settings
from engine.events import BookSnapshot, MarketResolved, SourceEvent, TradePrint
from engine.models import Market, Side
from engine.state.market_state import MarketState
from engine.storage.snapshots import SnapshotCompactor
from engine.storage.tables import SnapshotRow, table_of
from polyb0t_tui.runtime import build_runtime

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
STEP = 60.0
MAX_INTERVAL = 900.0


def _market(name: str) -> Market:
    return Market(name, f"{name}?", "politics", f"{name}-y", f"{name}-n", T0, T0 + 86_400 * 30)


def _book(name: str, ts: float, bid: float, size: float = 100.0) -> BookSnapshot:
    px = np.array([bid, bid - 0.01, bid - 0.02])
    sz = np.full(3, size)
    return BookSnapshot(f"{name}-y", ts, px, sz, px + 0.03, sz)


def _state(*names: str) -> MarketState:
    state = MarketState(depth=3, history=4)
    for name in names:
        state.add_market(_market(name))
    return state


def _stored(
    compactor: SnapshotCompactor,
    state: MarketState,
    steps: int,
    moves: dict[int, list[SourceEvent]],
) -> dict[str, list[float]]:
    """Run `steps` snapshot steps (events of step k applied first); stored times per market."""
    out: dict[str, list[float]] = {}
    for k in range(steps):
        t = T0 + k * STEP
        applied = state.apply(moves.get(k, []))
        assert not applied.errors, applied.errors
        for snap in compactor.take(t):
            out.setdefault(snap.market_id, []).append(snap.ts - T0)
    return out


def test_a_still_book_is_stored_once_per_max_interval_and_a_moving_one_every_step() -> None:
    state = _state("still", "moving", "once")
    compactor = SnapshotCompactor(state, depth_levels=3, max_interval=MAX_INTERVAL)
    moves: dict[int, list[SourceEvent]] = {
        0: [_book("still", T0, 0.40), _book("moving", T0, 0.50), _book("once", T0, 0.60)]
    }
    for k in range(1, 40):
        moves[k] = [_book("moving", T0 + k * STEP, 0.50 + 0.01 * (k % 2))]
    moves[20] = [*moves[20], _book("once", T0 + 20 * STEP, 0.60, size=120.0)]  # depth only
    stored = _stored(compactor, state, 40, moves)

    assert stored["still"] == [0.0, 900.0, 1800.0]
    assert stored["moving"] == [k * STEP for k in range(40)]
    # Its change at 1200 s restarts the heartbeat: the next row is 900 s after it.
    assert stored["once"] == [0.0, 900.0, 1200.0, 2100.0]


def test_a_trade_at_a_new_price_is_a_change_and_an_empty_side_equals_itself() -> None:
    state = _state("traded", "empty")
    compactor = SnapshotCompactor(state, depth_levels=3, max_interval=MAX_INTERVAL)
    empty = np.zeros(0)
    one_sided = BookSnapshot("empty-y", T0, np.array([0.3]), np.array([50.0]), empty, empty)
    moves: dict[int, list[SourceEvent]] = {
        0: [_book("traded", T0, 0.40), one_sided],
        3: [TradePrint("traded-y", T0 + 3 * STEP, 0.43, 10.0, Side.BUY)],
    }
    stored = _stored(compactor, state, 6, moves)
    assert stored["traded"][:2] == [0.0, 3 * STEP]  # the print moved the last trade (and depth)
    assert stored["empty"] == [0.0]  # NaN best ask, unchanged: no new row


def test_max_interval_zero_stores_every_active_market_at_every_step() -> None:
    state = _state("a", "b", "gone")
    compactor = SnapshotCompactor(state, depth_levels=3, max_interval=0.0)
    moves: dict[int, list[SourceEvent]] = {
        0: [_book("a", T0, 0.4), _book("b", T0, 0.5), _book("gone", T0, 0.6)],
        2: [MarketResolved("gone", T0 + 2 * STEP, 1.0)],
    }
    stored = _stored(compactor, state, 5, moves)
    assert stored["a"] == stored["b"] == [k * STEP for k in range(5)]
    assert stored["gone"] == [0.0, STEP]  # resolved at step 2: an inactive market is not stored


def test_markets_listed_after_the_first_step_are_stored_at_the_next_one() -> None:
    state = _state("early")
    compactor = SnapshotCompactor(state, depth_levels=3, max_interval=MAX_INTERVAL)
    assert [s.market_id for s in compactor.take(T0)] == ["early"]
    for i in range(1500):  # past the compactor's first allocation
        state.add_market(_market(f"late{i}"))
    taken = compactor.take(T0 + STEP)
    assert len(taken) == 1500 and taken[0].market_id == "late0"
    assert compactor.take(T0 + 2 * STEP) == []


# --- the engine's rows -------------------------------------------------------------------

_COLUMNS = ("best_bid", "best_ask", "bid_depth", "ask_depth", "last_trade")


def _engine_snapshots(tmp_path: Path, max_interval: float) -> list[dict[str, object]]:
    settings = load_settings(
        None,
        {
            "data_dir": str(tmp_path / f"data{max_interval:g}"),
            "sim": {"seed": 11, "start": "2026-03-02T00:00:00Z", "markets": 60},
            "snapshot_max_interval_seconds": max_interval,
        },
    )
    rt = build_runtime(settings, speed=None)
    asyncio.run(rt.engine.run(asyncio.Event(), duration=1500.0))
    snaps = table_of(SnapshotRow)
    with rt.storage.db.read() as conn:
        rows = [dict(r) for r in conn.execute(select(snaps).order_by(snaps.c.id)).mappings()]
    rt.storage.db.close()
    return rows


def test_compact_rows_carried_forward_equal_storing_every_market_every_step(
    tmp_path: Path,
) -> None:
    full = _engine_snapshots(tmp_path, 0.0)
    compact = _engine_snapshots(tmp_path, MAX_INTERVAL)
    assert len(compact) < len(full) / 2  # most markets are quiet most minutes

    by_market: dict[str, list[dict[str, object]]] = {}
    for row in compact:
        by_market.setdefault(str(row["market_id"]), []).append(row)
    for rows in by_market.values():
        gaps = np.diff([float(r["ts"]) for r in rows])  # type: ignore[arg-type]
        assert gaps.min() >= 60.0 - 1e-6 and gaps.max() <= MAX_INTERVAL + 1e-6

    for row in full:  # every step's true top of book = the market's latest compact row
        latest = [r for r in by_market[str(row["market_id"])] if r["ts"] <= row["ts"]][-1]  # type: ignore[operator]
        assert {c: latest[c] for c in _COLUMNS} == {c: row[c] for c in _COLUMNS}, row


@pytest.mark.parametrize("value", [-1.0, "soon"])
def test_a_bad_max_interval_is_refused_at_load(value: object) -> None:
    from engine.config import ConfigError

    with pytest.raises(ConfigError, match="snapshot_max_interval_seconds"):
        load_settings(None, {"snapshot_max_interval_seconds": value})

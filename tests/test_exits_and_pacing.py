"""Trading on the model over time, on the sim: held positions are sold when the model stops
valuing them above their bid, and new money goes out at a paced rate, not all in the first
cycle (issue 15, section 5)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import load_settings
from engine.decision.features import Features
from engine.decision.strategy.base import FloatArray, Predictor
from engine.models import Fill, Side
from polyb0t_tui.runtime import Runtime, build_runtime
from tests.sim_edge import with_edge

START = "2026-03-02T00:00:00Z"
HOUR = 3600.0


class ChangesItsMind:
    """The baseline until `at`, then the opposite view of every price (pulled toward 0.5 as
    the baseline pushes away from it): what the strategy bought, it now values below the bid."""

    name = "changes-its-mind"

    def __init__(self, first: Predictor, at: float) -> None:
        self.first, self.at = first, at

    def predict(self, features: Features) -> FloatArray:
        if features.ts < self.at:
            return self.first.predict(features)
        mid = np.clip(features["mid"], 0.01, 0.99)
        lg = np.log(mid / (1.0 - mid))
        out: FloatArray = 1.0 / (1.0 + np.exp(-0.5 * lg))
        return out


def _runtime(tmp: Path, **risk: Any) -> Runtime:
    settings = load_settings(
        None,
        with_edge(  # an edge the baseline knows: the default sim gives it none to trade on
            {
                "data_dir": str(tmp),
                "sim": {"seed": 3, "markets": 200, "start": START},
                "risk": risk,
                "control": {"enabled": False},
            }
        ),
    )
    return build_runtime(settings, speed=None)


def _fills(rt: Runtime, hours: float) -> list[Fill]:
    fills: list[Fill] = []
    account = rt.engine._account

    def keep(step: Any, summary: Any) -> None:
        fills.extend(f for r in step.reports for f in r.fills)
        account(step, summary)

    rt.engine._account = keep  # type: ignore[method-assign]
    asyncio.run(rt.engine.run(asyncio.Event(), duration=hours * HOUR))
    return fills


def test_buys_are_paced_over_the_hours_instead_of_spent_at_once(tmp_path: Path) -> None:
    paced = _fills(_runtime(tmp_path / "paced"), 6)
    unpaced = _fills(_runtime(tmp_path / "unpaced", max_deploy_per_hour_pct=1.0), 6)
    t0 = min(f.ts for f in paced + unpaced)

    def spent_by_hour(fills: list[Fill]) -> dict[int, float]:
        out: dict[int, float] = defaultdict(float)
        for f in fills:
            if f.side is Side.BUY:
                out[int((f.ts - t0) // HOUR)] += f.size * f.price + f.fee
        return out

    paced_hours, unpaced_hours = spent_by_hour(paced), spent_by_hour(unpaced)
    cap = 0.10 * 1_000.0  # the default pace of the default bankroll
    assert unpaced_hours[0] > 2 * cap  # unpaced, the first hour takes most of the budget
    assert max(paced_hours.values()) <= cap * 1.05  # equity moves a little within the hour
    assert len(paced_hours) >= 5  # money goes out hour after hour


def test_held_positions_are_sold_when_the_model_stops_valuing_them(tmp_path: Path) -> None:
    rt = _runtime(tmp_path, cooldown_seconds=0.0)
    switch = rt.engine.clock.now() + 2 * HOUR
    rt.engine.cycle.predictor = ChangesItsMind(rt.engine.cycle.predictor, switch)
    fills = _fills(rt, 4)
    bought = [f for f in fills if f.side is Side.BUY and f.ts < switch]
    sold = [f for f in fills if f.side is Side.SELL]
    assert bought and sold
    assert all(f.ts >= switch for f in sold)  # nothing sold while the model still liked it
    held: dict[tuple[str, object], float] = defaultdict(float)
    for f in sorted(fills, key=lambda f: f.ts):
        key = (f.market_id, f.outcome)
        held[key] += f.size if f.side is Side.BUY else -f.size
        assert held[key] >= -1e-9  # long-only: never sold more than held
        other = (f.market_id, f.outcome.other)
        assert not (held[key] > 1e-9 and held[other] > 1e-9)  # never both tokens of a market
    before = {(f.market_id, f.outcome) for f in bought}
    closed = [k for k in before if held[k] <= 1e-9]
    assert len(closed) >= len(before) // 2  # the model's change of mind emptied most of them

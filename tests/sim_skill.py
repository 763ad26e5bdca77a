"""Skill of fixed price corrections on the simulator, seed by seed, against its hidden truth.

The measure the simulator's tests use (and `python -m tests.sim_skill` prints): one seed's
skill of a model is, over the markets open at the samples, the mean per market of
Brier(book mid vs truth) - Brier(model vs truth), each market's Brier averaged over samples
taken every `ml.sample_interval_seconds`; positive means the model is nearer the truth than
the price. Over seeds: the mean and its 95% interval (Student's t, seeds as the units).

Scored against the truth rather than outcomes: on a half-day world few markets resolve, and
the truth is what an outcome is drawn from, so it scores the same thing with less noise. The
model sees what the engine's baseline sees: the book's mid and microprice and its last move
(here the last world step's: the worlds step every `STEP` seconds, not every cycle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.config import MlSettings, SimSettings, StrategySettings
from engine.decision.features import Features
from engine.decision.strategy.baseline import BaselinePredictor
from engine.sources.sim import SimExchange, books

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

START = 1_767_225_600.0
SEEDS = tuple(range(16))
MARKETS = 150
HOURS = 12.0
STEP = 120.0  # the effects' time constants are in seconds: a coarse step keeps them
T_975 = {3: 3.182, 15: 2.131}  # Student's t quantiles by degrees of freedom

# Fixed corrections, as the transparent baseline applies them (mid only, no other rule),
# and the baseline as it shipped with longshot_correction = 0.3 (the exact inverse of the
# fixed bias the simulator had then) and as it ships now.
PURE = {"microprice_weight": 0.0, "move_shrinkage": 0.0}
MODELS: dict[str, StrategySettings] = {
    "old baseline (c = 0.3, microprice, shrinkage 0.3)": StrategySettings(
        longshot_correction=0.3, microprice_weight=1.0, move_shrinkage=0.3
    ),
    "c = 0.3": StrategySettings(longshot_correction=0.3, **PURE),
    "c = 0.15": StrategySettings(longshot_correction=0.15, **PURE),
    "c = -0.15": StrategySettings(longshot_correction=-0.15, **PURE),
    "c = -0.3": StrategySettings(longshot_correction=-0.3, **PURE),
    "baseline defaults (c = 0)": StrategySettings(),
}


@dataclass(frozen=True, slots=True)
class Sample:
    """What the baseline sees at one sample, and the truth, for every market of the world."""

    open: BoolArray
    mid: FloatArray
    microprice: FloatArray
    last_move: FloatArray
    truth: FloatArray


@dataclass(frozen=True, slots=True)
class Interval:
    mean: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Interval:
        v = np.asarray(values)
        half = T_975[v.size - 1] * float(v.std(ddof=1)) / math.sqrt(v.size)
        m = float(v.mean())
        return cls(m, m - half, m + half)


def _book(ex: SimExchange) -> tuple[FloatArray, FloatArray]:
    """Every market's book mid and microprice, read off the world's books (the same values
    `MarketState` gets from the events)."""
    w = ex.world
    scale = books.scale_of(w.tick)
    bid, ask = w.bid_top / scale, w.ask_top / scale
    bid_sz, ask_sz = w.bid_sz[:, 0], w.ask_sz[:, 0]
    micro = (bid * ask_sz + ask * bid_sz) / (bid_sz + ask_sz)
    return (bid + ask) / 2.0, micro


def samples(seed: int, **sim: Any) -> list[Sample]:
    """One seed's world sampled every `ml.sample_interval_seconds` (listings off, so the
    rows stay the same markets)."""
    settings = SimSettings(
        seed=seed, markets=MARKETS, step_seconds=STEP, new_listings_per_day=0, **sim
    )
    ex = SimExchange(settings, START, batches=True)
    every = round(MlSettings().sample_interval_seconds / STEP)
    out: list[Sample] = []
    prev: FloatArray | None = None
    for k in range(round(HOURS * 3600 / STEP) + 1):
        ex.poll(START + k * STEP)
        mid, micro = _book(ex)
        if k and k % every == 0 and prev is not None:
            w = ex.world
            out.append(Sample(~w.resolved, mid, micro, mid - prev, w.truth.copy()))
        prev = mid
    return out


def skill(rows: list[Sample], model: StrategySettings) -> float:
    """The model's skill on one seed (see the module docstring)."""
    predictor = BaselinePredictor(model)
    n = rows[0].mid.size
    market = np.zeros(n)
    ours = np.zeros(n)
    count = np.zeros(n)
    for s in rows:
        cols = {"mid": s.mid, "microprice": s.microprice, "ret_last": s.last_move}
        p = predictor.predict(Features(0.0, cols))
        market += np.where(s.open, (s.mid - s.truth) ** 2, 0.0)
        ours += np.where(s.open, (p - s.truth) ** 2, 0.0)
        count += s.open
    seen = count > 0
    return float(np.mean((market[seen] - ours[seen]) / count[seen]))


def market_brier(rows: list[Sample]) -> float:
    """The mid's own Brier score against the truth: the mispricing there is to recover."""
    err = np.zeros(rows[0].mid.size)
    count = np.zeros(err.size)
    for s in rows:
        err += np.where(s.open, (s.mid - s.truth) ** 2, 0.0)
        count += s.open
    seen = count > 0
    return float(np.mean(err[seen] / count[seen]))


def skills(
    seeds: tuple[int, ...] = SEEDS,
    models: dict[str, StrategySettings] | None = None,
    sim: dict[str, Any] | None = None,
) -> tuple[dict[str, Interval], Interval]:
    """Each model's skill over `seeds` and the mid's Brier score against the truth, on
    worlds built with the `sim` settings given (the defaults otherwise)."""
    models = MODELS if models is None else models
    per_seed: dict[str, list[float]] = {name: [] for name in models}
    brier: list[float] = []
    for seed in seeds:
        rows = samples(seed, **(sim or {}))
        brier.append(market_brier(rows))
        for name, model in models.items():
            per_seed[name].append(skill(rows, model))
    return {name: Interval.of(v) for name, v in per_seed.items()}, Interval.of(brier)


def main() -> None:
    def show(title: str, result: dict[str, Interval], brier: Interval) -> None:
        print(title)
        print(f"  Brier(mid vs truth): {brier.mean:.5f} [{brier.low:.5f}, {brier.high:.5f}]")
        for name, s in result.items():
            print(f"  {name:50s} {s.mean:+.6f} [{s.low:+.6f}, {s.high:+.6f}]")

    result, brier = skills()
    show(f"skill over {len(SEEDS)} seeds, effects drawn from the default priors", result, brier)
    old = {"calibration_log_slope_mean": math.log(0.7), "calibration_log_slope_sd": 0.0}
    result, brier = skills(sim=old)
    show("the same with every category's slope pinned at 0.7 (the old fixed bias)", result, brier)
    result, brier = skills(sim={"mispricing": False})
    show("the same with sim.mispricing = false", result, brier)


if __name__ == "__main__":
    main()

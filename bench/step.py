"""The whole daemon step at 1,000 and 10,000 simulated markets: the path `polyb0t run --daemon`
runs, timed step by step.

Workload: `build_runtime` + `Engine.run` at --speed max (paper mode, the seeded sim with 8-level
books, baseline strategy, every risk rule, an edge the baseline knows: bench/sim_edge.py), so
each step is exactly what the daemon does: poll the sim, apply its events to the market state,
settle resolutions, fill the paper orders that are due, run the decision cycle, write the step's
database transaction (SQLite, WAL; snapshots every 60 s of engine time, compacted), and publish
the console view. Risk is set so that orders are routed and filled every cycle (a large
bankroll, no cooldown, positions capped small): the order, fill and position paths are on every
step, not only the rejection path. The first WARMUP cycles are not counted. Every step between
the measured cycles is timed (cycle steps and paper-fill steps alike); mean, median, p99 and max
are reported, with orders and fills per cycle.

Run: python bench/step.py [--markets 1000 10000] [--cycles 60]
Target: at 10,000 markets, mean <= 50 ms and p99 <= 100 ms per step.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from typing import Any

from sim_edge import with_edge

from engine.config import load_settings
from engine.run.step_result import StepResult
from polyb0t_tui.runtime import build_runtime

WARMUP = 10


def bench(markets: int, cycles: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            None,
            with_edge(
                {
                    "data_dir": tmp,
                    "sim": {"markets": markets, "seed": 1, "start": "2026-03-02T00:00:00Z"},
                    "risk": {
                        "bankroll": 10_000_000.0,
                        "cooldown_seconds": 0.0,
                        "max_position_pct": 0.0005,
                        "max_event_exposure_pct": 0.01,
                    },
                    "control": {"enabled": False},
                }
            ),
        )
        rt = build_runtime(settings, speed=None)
        engine = rt.engine
        timed: list[tuple[bool, float]] = []
        orders = fills = 0
        step = engine.step

        def measured(t: float, do_cycle: bool) -> StepResult:
            nonlocal orders, fills
            t0 = time.perf_counter()
            out = step(t, do_cycle)
            timed.append((do_cycle, (time.perf_counter() - t0) * 1000))
            if rt.cycle.count > WARMUP:
                orders += out.outcome.routed if out.outcome is not None else 0
                fills += sum(len(r.fills) for r in out.reports)
            return out

        engine.step = measured  # type: ignore[method-assign]
        engine.freeze_gc = True  # as the daemon runs it (`polyb0t run`)
        wall = time.perf_counter()
        asyncio.run(engine.run(asyncio.Event(), cycles=WARMUP + cycles))
        wall = time.perf_counter() - wall
        rt.storage.db.close()
    # drop the steps up to and including the last warm-up cycle
    seen = 0
    start = 0
    for i, (is_cycle, _) in enumerate(timed):
        seen += is_cycle
        if seen == WARMUP:
            start = i + 1
            break
    ms = [d for _, d in timed[start:]]
    return {
        "steps": float(len(ms)),
        "mean": statistics.fmean(ms),
        "median": statistics.median(ms),
        "p99": _pct(ms, 0.99),
        "max": max(ms),
        "orders_per_cycle": orders / cycles,
        "fills_per_cycle": fills / cycles,
        "wall_s": wall,
    }


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markets", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--cycles", type=int, default=60, help="measured cycles per size")
    args = ap.parse_args()
    print(
        f"daemon step (Engine.run at --speed max, paper, SQLite); {WARMUP} warm-up + "
        f"{args.cycles} measured cycles, every step timed"
    )
    for n in args.markets:
        r: dict[str, Any] = bench(n, args.cycles)
        print(
            f"{n:>6} markets: {int(r['steps'])} steps  mean {r['mean']:6.2f} ms  "
            f"median {r['median']:6.2f} ms  p99 {r['p99']:6.2f} ms  max {r['max']:6.2f} ms  | "
            f"{r['orders_per_cycle']:.1f} orders, {r['fills_per_cycle']:.1f} fills per cycle "
            f"| {r['wall_s']:.1f} s wall"
        )
    print("target at 10,000 markets: mean <= 50 ms, p99 <= 100 ms")


if __name__ == "__main__":
    main()

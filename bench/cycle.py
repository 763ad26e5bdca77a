"""One decision cycle over 1,000 and 10,000 simulated markets, I/O excluded.

Workload: the default settings (paper mode, baseline strategy, every risk rule) on the seeded
sim with 8-level books, but for an edge the baseline knows (bench/sim_edge.py: the sim's
category slopes pinned at 0.7, the baseline's longshot_correction 0.3), so that signals and
orders reach risk and the executor. The world is warmed up for WARMUP cycles so histories,
volatility and positions exist; then each measured cycle is timed alone: universe filter,
features, prediction, screening, risk on every candidate, and submission to the paper executor.
Stepping the simulator, filling orders and writing the database happen between measurements and
are timed separately (sim step) or not at all (database).

Run: python bench/cycle.py  [--markets 1000 10000] [--cycles 30]
Target: median <= 50 ms for 10,000 markets.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from sim_edge import with_edge

from engine.config import load_settings
from polyb0t_tui.runtime import build_runtime

WARMUP = 30


def bench(markets: int, cycles: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            None,
            with_edge(
                {
                    "data_dir": tmp,
                    "sim": {"markets": markets, "seed": 1, "start": "2026-03-02T00:00:00Z"},
                }
            ),
        )
        rt = build_runtime(settings, speed=None)
        src, st, cycle = rt.source, rt.state, rt.cycle
        asyncio.run(src.start())
        for m in src.discover():
            st.add_market(m)
        rt.control.start()
        executor = rt.engine.executor
        assert executor is not None
        t = rt.clock.now()
        cycle_ms: list[float] = []
        step_ms: list[float] = []
        signals = 0
        for i in range(WARMUP + cycles):
            s0 = time.perf_counter()
            st.apply(src.poll(t))
            step_ms.append((time.perf_counter() - s0) * 1000)
            executor.process_due(t)
            c0 = time.perf_counter()
            out = cycle.run(t)
            elapsed = (time.perf_counter() - c0) * 1000
            if i >= WARMUP:
                cycle_ms.append(elapsed)
                signals += len(out.signals)
            t += settings.loop_interval_seconds
        rt.storage.db.close()
    return {
        "median_ms": statistics.median(cycle_ms),
        "p90_ms": sorted(cycle_ms)[int(0.9 * (len(cycle_ms) - 1))],
        "min_ms": min(cycle_ms),
        "sim_step_ms": statistics.median(step_ms[WARMUP:]),
        "signals_per_cycle": signals / cycles,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markets", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--cycles", type=int, default=30, help="measured cycles per size")
    args = ap.parse_args()
    print(f"decision cycle, I/O excluded; {WARMUP} warm-up + {args.cycles} measured cycles")
    for n in args.markets:
        r = bench(n, args.cycles)
        print(
            f"{n:>6} markets: median {r['median_ms']:6.2f} ms  p90 {r['p90_ms']:6.2f} ms  "
            f"min {r['min_ms']:6.2f} ms  | sim step {r['sim_step_ms']:5.2f} ms  "
            f"| {r['signals_per_cycle']:.0f} signals/cycle"
        )


if __name__ == "__main__":
    main()

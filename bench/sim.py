"""How long one step of the simulated exchange takes, events included.

Usage: python bench/sim.py [--steps N] [--markets 1000 10000]

Times `poll` over single grid steps after a warm-up (the first poll, which snapshots every
book, is reported apart), and prints the median and 95th percentile step time and the events
per step, by type. The simulator must not be what limits the engine at 10,000 markets.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

from engine.config import SimSettings
from engine.sources.sim import SimExchange

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def bench(markets: int, steps: int, seed: int) -> None:
    settings = SimSettings(markets=markets, seed=seed)
    t0 = time.perf_counter()
    ex = SimExchange(settings, START)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = ex.poll(START)
    first_s = time.perf_counter() - t0
    times: list[float] = []
    kinds: Counter[str] = Counter()
    for k in range(1, steps + 1):
        t0 = time.perf_counter()
        events = ex.poll(START + k * settings.step_seconds)
        times.append(time.perf_counter() - t0)
        kinds.update(type(e).__name__ for e in events)
    times.sort()
    median_ms = 1e3 * statistics.median(times)
    p95_ms = 1e3 * times[int(0.95 * (len(times) - 1))]
    per_step = sum(kinds.values()) / steps
    by_kind = ", ".join(f"{k} {v / steps:.1f}" for k, v in sorted(kinds.items()))
    print(
        f"markets={markets:>6} levels={settings.book_levels} step={settings.step_seconds:g}s "
        f"steps={steps}: build {build_s * 1e3:.0f} ms, first poll {first_s * 1e3:.1f} ms "
        f"({len(first)} snapshots)"
    )
    print(f"    step median {median_ms:.2f} ms, p95 {p95_ms:.2f} ms, events/step {per_step:.1f}")
    print(f"    per step: {by_kind}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--markets", type=int, nargs="+", default=[1_000, 10_000])
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    for n in args.markets:
        bench(n, args.steps, args.seed)


if __name__ == "__main__":
    main()

"""One step of the simulated exchange as the engine takes it: the sim computes the step and
its events, and the engine's `MarketState` applies them.

Usage: python bench/sim.py [--steps N] [--markets 1000 2000 10000]

Workload: the default sim settings (seeded, 8-level books, 10 s world steps); after the
first poll (every book snapshotted, reported apart, applied too), each measured step is one
grid step: `SimExchange.poll` (world dynamics, order flow, book changes, trades, resolutions,
new listings; the books and trades as one `WholeBooks` and one `TradeBatch`, as the engine's
sim source emits them) and then `MarketState.apply` on those events (book matrices, trades,
listings), each timed alone and together. This is the source
half of the engine step (`Engine.step`); the cycle is `bench/cycle.py`, the whole step
`bench/step.py`. 2,000 markets is the harness's 30-day workload (`bench/harness.py`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

from engine.config import SimSettings
from engine.sources.sim import SimExchange
from engine.state.market_state import MarketState

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[int(q * (len(s) - 1))]


def bench(markets: int, steps: int, seed: int) -> None:
    settings = SimSettings(markets=markets, seed=seed)
    t0 = time.perf_counter()
    ex = SimExchange(settings, START, batches=True)  # as the engine builds it
    state = MarketState(depth=settings.book_levels, capacity=markets)
    for m in ex.discover():
        state.add_market(m)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = ex.poll(START)
    applied = state.apply(first)
    first_s = time.perf_counter() - t0
    assert not applied.errors, applied.errors[:3]
    poll_ms: list[float] = []
    apply_ms: list[float] = []
    kinds: Counter[str] = Counter()
    for k in range(1, steps + 1):
        t0 = time.perf_counter()
        events = ex.poll(START + k * settings.step_seconds)
        t1 = time.perf_counter()
        applied = state.apply(events)
        t2 = time.perf_counter()
        assert not applied.errors, applied.errors[:3]
        poll_ms.append(1e3 * (t1 - t0))
        apply_ms.append(1e3 * (t2 - t1))
        kinds.update(type(e).__name__ for e in events)
    both = [a + b for a, b in zip(poll_ms, apply_ms, strict=True)]
    per_step = sum(kinds.values()) / steps
    by_kind = ", ".join(f"{k} {v / steps:.1f}" for k, v in sorted(kinds.items()))
    print(
        f"markets={markets:>6} levels={settings.book_levels} step={settings.step_seconds:g}s "
        f"steps={steps}: build {build_s * 1e3:.0f} ms, first poll+apply {first_s * 1e3:.1f} ms "
        f"({len(first)} events)"
    )
    print(
        f"    sim poll median {statistics.median(poll_ms):.2f} ms, "
        f"apply median {statistics.median(apply_ms):.2f} ms, "
        f"together median {statistics.median(both):.2f} ms p95 {_pct(both, 0.95):.2f} ms; "
        f"events/step {per_step:.1f}"
    )
    print(f"    per step: {by_kind}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--markets", type=int, nargs="+", default=[1_000, 2_000, 10_000])
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    for n in args.markets:
        bench(n, args.steps, args.seed)


if __name__ == "__main__":
    main()

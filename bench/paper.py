"""Paper trading through the daemon's own path, with a bankroll that binds and every order and
fill written to the database.

Workload: `build_runtime` + `Engine.run` at --speed max, as `polyb0t run --daemon --source sim`
composes them (paper mode, the seeded sim with 8-level books, the baseline strategy with an edge
it knows (bench/sim_edge.py), every risk rule, `PaperExecutor` with its 250 ms latency,
`Recorder` writing each step's transaction through the `RecordWriter` thread into a SQLite file
in a temp data dir, WAL). The bankroll is small (default 5,000 USDC, at most 20 USDC a market),
and the per-market cooldown and the hourly deployment pace are off, so the cash and exposure
caps are what stop orders: the rejections by `cash_available`, `max_total_exposure`,
`max_position` and `max_event_exposure` are counted and printed, with the orders those rules
trimmed and the cycle where the total cap first denied one, to show that the bankroll bound.

Timed: every engine step after the first WARMUP cycles (cycle steps and paper-fill steps alike,
`Engine.step` as `Engine.run` calls it in its worker thread): mean, p50, p99, max. Orders/s and
fills/s divide the orders executed and the fills they made after warm-up by the wall time from
the first measured step until `Engine.run` has returned and the writer thread has stored every
record (so the pacing loop and the database writes, which run beside the steps, are inside).

Checked at the end: the database holds exactly the orders and fills the engine reported
(orders table rows and fills table rows for the run, settlements counted apart), else exit 1.

Run: python bench/paper.py [--markets 1000] [--cycles 600] [--bankroll 5000]
    [--max-position-pct 0.004] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

from sim_edge import with_edge
from sqlalchemy import func, select

from engine.config import load_settings
from engine.run.step_result import StepResult
from engine.storage.tables import FillRow, OrderRow
from polyb0t_tui.runtime import Runtime, build_runtime

WARMUP = 10
START = "2026-03-02T00:00:00Z"
CAP_RULES = ("cash_available", "max_total_exposure", "max_position", "max_event_exposure")


@dataclass(slots=True)
class Tally:
    """What the engine reported, step by step: the figures the database must match."""

    step_ms: list[float] = field(default_factory=list)
    orders_routed: int = 0  # submitted by the cycle (after warm-up)
    orders_done: int = 0  # executed by the paper executor (after warm-up)
    fills: int = 0  # fills of executed orders (after warm-up)
    all_orders: int = 0  # executed orders over the whole run: what the orders table holds
    all_fills: int = 0  # their fills over the whole run
    settlements: int = 0  # resolution payouts, stored in the fills table too
    statuses: Counter[str] = field(default_factory=Counter)
    short_cash: int = 0  # paper fills cut by "not enough balance"
    denied: Counter[str] = field(default_factory=Counter)  # rejections by rule
    trimmed: Counter[str] = field(default_factory=Counter)  # orders resized by a cap rule
    first_measured: float | None = None
    cycles: int = 0  # measured cycles so far
    bound_at: int | None = None  # measured cycle of the first cash / total-exposure denial
    routed_after_bound: int = 0


def runtime_for(tmp: str, markets: int, bankroll: float, position_pct: float, seed: int) -> Runtime:
    settings = load_settings(
        None,
        with_edge(
            {
                "data_dir": tmp,
                "sim": {"markets": markets, "seed": seed, "start": START},
                "risk": {
                    "bankroll": bankroll,
                    "cooldown_seconds": 0.0,
                    "max_position_pct": position_pct,
                    "max_deploy_per_hour_pct": 1.0,  # unpaced: the bankroll is what binds
                },
                "control": {"enabled": False},
            }
        ),
    )
    return build_runtime(settings, speed=None)


def count(t: Tally, out: StepResult, measured: bool) -> None:
    executed = [r for r in out.reports if not r.stored]
    t.all_orders += len(executed)
    t.all_fills += sum(len(r.fills) for r in executed)
    t.settlements += len(out.settlements)
    if not measured:
        return
    t.orders_done += len(executed)
    t.fills += sum(len(r.fills) for r in executed)
    t.statuses.update(r.status for r in executed)
    t.short_cash += sum("not enough balance" in (r.reason or "") for r in executed)
    if out.outcome is None:
        return
    t.cycles += 1
    t.orders_routed += out.outcome.routed
    if t.bound_at is not None:
        t.routed_after_bound += out.outcome.routed
    for s in out.outcome.signals:
        rule = (s.reason or "").split(":", 1)[0]
        if s.decision == "rejected":
            t.denied[rule] += 1
            if t.bound_at is None and rule in ("cash_available", "max_total_exposure"):
                t.bound_at = t.cycles
        elif s.reason:
            for part in s.reason.split("; "):
                name = part.split(":", 1)[0]
                if name in CAP_RULES:
                    t.trimmed[name] += 1


def stored_counts(rt: Runtime) -> tuple[int, int]:
    """Rows of this run in the orders and fills tables."""
    orders, fills = OrderRow.__table__, FillRow.__table__  # type: ignore[attr-defined]
    with rt.storage.db.read() as conn:
        n_orders = conn.execute(
            select(func.count()).select_from(orders).where(orders.c.run_id == rt.run_id)
        ).scalar_one()
        n_fills = conn.execute(
            select(func.count()).select_from(fills).where(fills.c.run_id == rt.run_id)
        ).scalar_one()
    return int(n_orders), int(n_fills)


def bench(
    markets: int, cycles: int, bankroll: float, position_pct: float, seed: int
) -> tuple[Tally, dict[str, float]]:
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        rt = runtime_for(tmp, markets, bankroll, position_pct, seed)
        engine = rt.engine
        step = engine.step

        def measured(t: float, do_cycle: bool) -> StepResult:
            warm = rt.cycle.count >= WARMUP  # this step comes after the warm-up cycles
            if warm and tally.first_measured is None:
                tally.first_measured = time.perf_counter()
            t0 = time.perf_counter()
            out = step(t, do_cycle)
            if warm:
                tally.step_ms.append((time.perf_counter() - t0) * 1000)
            count(tally, out, warm)
            return out

        engine.step = measured  # type: ignore[method-assign]
        engine.freeze_gc = True  # as the daemon runs it
        summary = asyncio.run(engine.run(asyncio.Event(), cycles=WARMUP + cycles))
        # `Engine.run` ended by closing the writer (every queued step stored); flush says so
        # or raises the write that failed.
        engine.recorder.flush()
        stored_at = time.perf_counter()
        db_orders, db_fills = stored_counts(rt)
        rt.storage.db.close()
    assert tally.first_measured is not None
    figures = {
        "wall_s": stored_at - tally.first_measured,
        "db_orders": float(db_orders),
        "db_fills": float(db_fills),
        "equity": summary.equity,
    }
    return tally, figures


def _pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.epilog = __doc__.split("\n", 2)[2]
    ap.add_argument("--markets", type=int, default=1_000)
    ap.add_argument("--cycles", type=int, default=600, help="measured cycles (10 s engine time)")
    ap.add_argument("--bankroll", type=float, default=5_000.0, help="starting cash, USDC")
    ap.add_argument(
        "--max-position-pct",
        type=float,
        default=0.004,
        help="per-market cap, share of equity (20 USDC at the default bankroll)",
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    t, f = bench(args.markets, args.cycles, args.bankroll, args.max_position_pct, args.seed)
    ms = t.step_ms
    wall = f["wall_s"]
    print(
        f"workload: Engine.run at --speed max, paper, sim {args.markets:,} markets (seed "
        f"{args.seed}), bankroll {args.bankroll:,.0f} USDC, max_position_pct "
        f"{args.max_position_pct:g}, "
        "cooldown 0, no deployment pace, other caps at their defaults; "
        f"{WARMUP} warm-up + {args.cycles} measured cycles ({len(ms)} steps), SQLite in a "
        "temp dir through the writer thread"
    )
    print(
        f"orders: {t.orders_routed:,} routed, {t.orders_done:,} executed "
        f"({dict(t.statuses)}); {t.short_cash} cut short by the executor's cash check"
    )
    caps = ", ".join(f"{r} {t.denied[r]:,}" for r in CAP_RULES)
    trims = ", ".join(f"{r} {t.trimmed[r]:,}" for r in CAP_RULES if t.trimmed[r])
    print(f"bankroll bound: rejected by {caps}; orders trimmed by {trims or 'none'}")
    if t.bound_at is None:
        print("  the cash and total-exposure caps never denied an order: raise --cycles")
    else:
        print(
            f"  first cash/total-exposure denial in measured cycle {t.bound_at} of {t.cycles}; "
            f"{t.routed_after_bound:,} orders routed after it"
        )
    others = ", ".join(f"{r} {n:,}" for r, n in t.denied.most_common() if r not in CAP_RULES)
    print(f"other rejections: {others or 'none'}; final equity {f['equity']:,.2f}")
    print(
        f"throughput (first measured step to every record stored, {wall:.1f} s wall): "
        f"{t.orders_done / wall:,.1f} orders/s, {t.fills / wall:,.1f} fills/s"
    )
    print(
        f"per step (Engine.step): mean {statistics.fmean(ms):.2f} ms, p50 "
        f"{statistics.median(ms):.2f} ms, p99 {_pct(ms, 0.99):.2f} ms, max {max(ms):.2f} ms"
    )
    want_orders, want_fills = t.all_orders, t.all_fills + t.settlements
    ok = f["db_orders"] == want_orders and f["db_fills"] == want_fills
    print(
        f"database: {f['db_orders']:,.0f} orders, {f['db_fills']:,.0f} fills stored; engine "
        f"reported {want_orders:,} orders, {t.all_fills:,} fills + {t.settlements:,} "
        f"settlements over the whole run: {'match' if ok else 'MISMATCH'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""How many paper orders per second the executor fills, walking real 8-level books.

Workload: a `MarketState` of N markets with 8-level YES books (NO books mirrored), orders
sized to walk several levels, submitted in cycles of `--batch` orders and filled after the
configured latency (submit + process_due timed together; building the `OrderRequest`s is the
risk manager's work and is not timed). A share of the orders are SELLs of held tokens, so the
clip-to-held path and realized PnL run too. Target: >= 20,000 orders/s.

    python bench/paper.py [--orders 100000] [--markets 1000] [--batch 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

import numpy as np

from engine.events import BookSnapshot, SourceEvent
from engine.execution.paper import PaperExecutor
from engine.execution.portfolio import Portfolio
from engine.models import ExecutionReport, Market, OrderRequest, Outcome, Side
from engine.state.book import walk
from engine.state.market_state import MarketState

LEVELS = 8
TICK = 0.01
LATENCY = 0.25


def build_state(n_markets: int, rng: np.random.Generator) -> MarketState:
    st = MarketState(depth=LEVELS, history=8, capacity=n_markets)
    events: list[SourceEvent] = []
    for i in range(n_markets):
        m = Market(
            market_id=f"m{i:05d}",
            question=f"Bench market {i}?",
            category="politics",
            yes_token=f"y{i}",
            no_token=f"n{i}",
            created_ts=0.0,
            end_ts=1e10,
            fee_rate=float(rng.choice([0.0, 0.03, 0.04, 0.072])),
        )
        st.add_market(m)
        mid = round(float(rng.uniform(0.2, 0.8)), 2)
        steps = np.arange(LEVELS, dtype=np.float64) * TICK
        events.append(
            BookSnapshot(
                asset_id=m.yes_token,
                ts=0.0,
                bid_px=mid - TICK - steps,
                bid_sz=rng.uniform(20.0, 200.0, LEVELS),
                ask_px=mid + TICK + steps,
                ask_sz=rng.uniform(20.0, 200.0, LEVELS),
            )
        )
    res = st.apply(events)
    assert not res.errors, res.errors[:3]
    return st


def build_orders(
    st: MarketState, n_orders: int, sell_share: float, rng: np.random.Generator
) -> list[OrderRequest]:
    """BUYs sized 150-600 shares (about 2-6 levels) with a limit 7 ticks deep; some SELLs."""
    orders = []
    market_idx = rng.integers(0, st.n, n_orders)
    is_sell = rng.random(n_orders) < sell_share
    outcomes = rng.integers(0, 2, n_orders)
    sizes = np.round(rng.uniform(150.0, 600.0, n_orders), 2)
    for k in range(n_orders):
        m = st.markets[int(market_idx[k])]
        outcome = Outcome(int(outcomes[k]))
        side = Side.SELL if is_sell[k] else Side.BUY
        prices, _ = st.ladder(m.market_id, outcome, side)
        deep = prices[0] + 7 * TICK if side is Side.BUY else prices[0] - 7 * TICK
        orders.append(
            OrderRequest(
                order_id=f"o{k:07d}",
                ts=0.0,
                market_id=m.market_id,
                token_id=m.token(outcome),
                outcome=outcome,
                side=side,
                size=float(sizes[k]),
                limit_price=round(deep, 2),
                p_model=0.5,
                edge=0.05,
            )
        )
    return orders


def run_once(
    st: MarketState, orders: list[OrderRequest], batch: int
) -> tuple[float, list[ExecutionReport]]:
    ex = PaperExecutor(Portfolio(1e12), st, LATENCY)
    reports: list[ExecutionReport] = []
    now = 0.0
    t0 = time.perf_counter()
    for start in range(0, len(orders), batch):
        for o in orders[start : start + batch]:
            ex.submit(o, now)
        now += 10.0
        reports.extend(ex.process_due(now))
    return time.perf_counter() - t0, reports


def levels_walked(st: MarketState, reports: list[ExecutionReport]) -> float:
    """Average book levels each filled order touched (books are static during the run)."""
    touched = []
    for r in reports:
        if not r.fills:
            continue
        o = r.order
        prices, sizes = st.ladder(o.market_id, o.outcome, o.side)
        touched.append(walk(prices, sizes, r.filled_size, o.side, limit=o.limit_price).levels)
    return statistics.fmean(touched) if touched else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=100_000)
    ap.add_argument("--markets", type=int, default=1_000)
    ap.add_argument("--batch", type=int, default=1_000, help="orders submitted per cycle")
    ap.add_argument("--sell-share", type=float, default=0.2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    st = build_state(args.markets, rng)
    orders = build_orders(st, args.orders, args.sell_share, rng)
    timings = []
    reports: list[ExecutionReport] = []
    for _ in range(args.repeat):
        seconds, reports = run_once(st, orders, args.batch)
        timings.append(seconds)

    status = Counter(r.status for r in reports)
    best, median = min(timings), statistics.median(timings)
    print(
        f"workload: {args.orders:,} orders over {args.markets:,} markets, {LEVELS}-level books, "
        f"batches of {args.batch:,}, {args.sell_share:.0%} sells, latency {LATENCY}s"
    )
    print(
        f"fills: {dict(status)}; avg levels walked per filled order: "
        f"{levels_walked(st, reports):.2f}"
    )
    print(
        f"paper orders/s (submit + process_due): best {args.orders / best:,.0f}, "
        f"median {args.orders / median:,.0f} over {args.repeat} runs "
        f"({best / args.orders * 1e6:.1f} us/order best)"
    )


if __name__ == "__main__":
    main()

"""The console under load: 10,000 market rows receiving 2,000 row updates a second.

Workload: a headless console (`App.run_test(headless=True)`, 160x48 by default; Textual still
lays out and renders every frame, only the terminal write is skipped) over a link backed by
a real `ViewStore`. A feeder thread writes 2,000 changed rows a second into the store, as 20
batches of 100 random rows every 50 ms (bid, ask, mid, volume and edge move), and replaces
the small panes (100 signals, 20 pending intents, a portfolio of 30 positions, one expert)
once a second, like an engine cycle. The console pulls `ui.refresh_per_second` times a
second (default 4) and is sorted by edge, a column that keeps moving, so its order goes stale
and is rebuilt on the table's slow cadence (once a second).

Measures, over the load window:
- UI CPU seconds per wall second: the process's CPU time minus the feeder thread's own CPU
  time (`time.thread_time` inside it), so the figure is the console's share alone (pulls,
  applying deltas, rendering). Target <= 0.15.
- keypress-to-render latency: `down` is pressed every 250 ms; latency is the time from
  posting the key to the moment the table has rendered the line the cursor moved to
  (`render_line` instrumented). Target <= 50 ms.

Run: python bench/tui.py  [--rows 10000] [--rate 2000] [--seconds 10] [--size 160x48]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from typing import Any

from engine.config import load_settings
from engine.feed.view import (
    CommandResult,
    ExpertView,
    IntentView,
    MarketDetail,
    MarketRow,
    PortfolioView,
    PositionView,
    SignalView,
    StatusView,
    ViewDelta,
    ViewStore,
)
from polyb0t_tui.app import make_app
from polyb0t_tui.widgets.market_table import MarketTable

T0 = 1_772_409_600.0
BATCHES_PER_SECOND = 20
CATEGORIES = ("politics", "sports", "crypto", "economics", "geopolitics", "culture", "tech")


class StoreLink:
    """An EngineLink over a ViewStore that another thread writes (what LocalLink does)."""

    def __init__(self, store: ViewStore) -> None:
        self.store = store

    def pull(self, since: int) -> ViewDelta:
        return self.store.pull(since)

    async def command(self, name: str, **args: Any) -> CommandResult:
        return CommandResult(True, name)

    async def detail(self, market_id: str) -> MarketDetail | None:
        return None

    async def close(self) -> None:
        return None


def market(i: int, rng: random.Random) -> MarketRow:
    mid = rng.uniform(0.03, 0.97)
    return MarketRow(
        row=i,
        market_id=f"0x{i:064x}",
        question=f"Will market number {i} resolve YES before the end of 2026?",
        category=CATEGORIES[i % len(CATEGORIES)],
        bid=mid - 0.005,
        ask=mid + 0.005,
        mid=mid,
        spread=0.01,
        change_24h=rng.uniform(-0.05, 0.05),
        volume=rng.uniform(0, 5e6),
        end_ts=T0 + rng.uniform(3600, 200 * 86400),
        p_model=min(max(mid + rng.gauss(0, 0.03), 0.0), 1.0),
        edge=rng.gauss(0, 0.03),
        active=True,
        trusted=True,
    )


def panes(t: float, rows: list[MarketRow], rng: random.Random) -> dict[str, Any]:
    """A cycle's small panes: fresh signals; the same 20 intents counting down and the same
    30 positions re-marked (fills and new intents are rare events, not the steady load)."""
    signals = tuple(
        SignalView(
            t,
            r.market_id,
            r.question,
            "YES",
            "BUY",
            r.p_model,
            r.ask,
            r.edge,
            50.0,
            "rejected",
            "max_total_exposure",
        )
        for r in rng.sample(rows, 100)
    )
    intents = tuple(
        IntentView(
            f"i-{n}",
            r.market_id,
            r.question,
            "YES",
            "BUY",
            r.ask,
            60.0,
            60.0 * r.ask,
            0.06,
            "PENDING",
            T0,
            T0 + 3600.0,
            T0,
            None,
        )
        for n, r in enumerate(rows[:20])
    )
    positions = tuple(
        PositionView(
            r.market_id, r.question, "YES", 50.0, 0.5, r.mid, 50 * (r.mid - 0.5), 0.0, None
        )
        for r in rows[20:50]
    )
    equity = 1000.0 + sum(p.unrealized for p in positions)
    portfolio = PortfolioView(
        500.0,
        equity,
        1.0,
        equity - 1000.0,
        500.0,
        (("e1", 100.0),),
        positions,
        tuple(1000.0 + k % 7 for k in range(int(t) % 300)),
    )
    experts = (ExpertView("baseline", "ACTIVE", 1.0, 0.2, 0.21, 10, None),)
    return {"signals": signals, "intents": intents, "portfolio": portfolio, "experts": experts}


class Feeder(threading.Thread):
    def __init__(self, store: ViewStore, rows: list[MarketRow], rate: int) -> None:
        super().__init__(name="feeder", daemon=True)
        self.store = store
        self.rows = rows
        self.batch = max(rate // BATCHES_PER_SECOND, 1)
        self.stop = threading.Event()
        self.cpu = 0.0
        self.updates = 0

    def run(self) -> None:
        c0 = time.thread_time()
        rng = random.Random(2)
        n = len(self.rows)
        t = T0
        batch_no = 0
        pane_values = panes(t, self.rows, rng)
        next_at = time.monotonic()
        while not self.stop.is_set():
            changed = []
            for i in rng.sample(range(n), self.batch):
                r = self.rows[i]
                step = rng.choice((-0.01, 0.01))
                mid = min(max(r.mid + step, 0.01), 0.99)
                new = replace(
                    r,
                    bid=mid - 0.005,
                    ask=mid + 0.005,
                    mid=mid,
                    volume=r.volume + 10.0,
                    edge=r.edge + rng.gauss(0, 0.005),
                )
                self.rows[i] = new
                changed.append(new)
            batch_no += 1
            if batch_no % BATCHES_PER_SECOND == 0:
                t += 10.0
                pane_values = panes(t, self.rows, rng)
            status = StatusView(
                "PAPER", "bench", "running", None, 0.0, 500.0, 1000.0, 0.0, batch_no, t
            )
            self.store.apply(ViewDelta(0, n, tuple(changed), status, log=(), **pane_values))
            self.updates += len(changed)
            self.cpu = time.thread_time() - c0  # readable from outside between batches
            next_at += 1.0 / BATCHES_PER_SECOND
            self.stop.wait(max(next_at - time.monotonic(), 0.0))
        self.cpu = time.thread_time() - c0


async def bench(n_rows: int, rate: int, seconds: float, size: tuple[int, int]) -> dict[str, float]:
    rng = random.Random(1)
    rows = [market(i, rng) for i in range(n_rows)]
    store = ViewStore()
    store.apply(ViewDelta(0, n_rows, tuple(rows), None, (), (), None, (), ()))
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(None, {"data_dir": tmp})
    app = make_app(settings, StoreLink(store), clock=time.time, freeze_gc=True)  # as the CLI
    app.animation_level = "none"

    rendered: dict[str, float] = {"at": 0.0}
    original = MarketTable.render_line

    def render_line(self: MarketTable, y: int) -> Any:
        strip = original(self, y)
        if not rendered["at"] and y == self.cursor - round(self.scroll_offset.y) + 1:
            rendered["at"] = time.perf_counter()  # the first render after the press
        return strip

    MarketTable.render_line = render_line  # type: ignore[method-assign]
    feeder = Feeder(store, rows, rate)
    latencies: list[float] = []
    try:
        async with app.run_test(headless=True, size=size) as pilot:
            assert app.dashboard is not None
            app.dashboard.table.sort_by("edge")
            await pilot.pause(0.5)
            feeder.start()
            await asyncio.sleep(1.0)  # let the load settle before measuring
            pulls0 = app.bridge.pulls
            cpu0, wall0 = time.process_time(), time.perf_counter()
            feeder_cpu0 = feeder.cpu
            end = wall0 + seconds
            key = "down"
            while time.perf_counter() < end:
                await asyncio.sleep(0.25)
                rendered["at"] = 0.0
                t_press = time.perf_counter()
                await pilot.press(key)  # returns once the app is idle again (later)
                while not rendered["at"] and time.perf_counter() - t_press < 1.0:
                    await asyncio.sleep(0.0005)
                latencies.append((rendered["at"] or time.perf_counter()) - t_press)
                key = "up" if key == "down" else "down"
            wall = time.perf_counter() - wall0
            cpu = time.process_time() - cpu0
            pulls = app.bridge.pulls - pulls0
            feeder.stop.set()
            feeder.join()
    finally:
        MarketTable.render_line = original  # type: ignore[method-assign]
        feeder.stop.set()
    feeder_cpu = feeder.cpu - feeder_cpu0
    return {
        "wall_s": wall,
        "ui_cpu_per_s": (cpu - feeder_cpu) / wall,
        "process_cpu_per_s": cpu / wall,
        "feeder_cpu_per_s": feeder_cpu / wall,
        "updates_per_s": feeder.updates / (wall + 1.0),
        "pulls_per_s": pulls / wall,
        "latency_median_ms": statistics.median(latencies) * 1000,
        "latency_p90_ms": sorted(latencies)[int(0.9 * (len(latencies) - 1))] * 1000,
        "latency_max_ms": max(latencies) * 1000,
        "presses": float(len(latencies)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--rate", type=int, default=2_000, help="row updates per second")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", default="160x48", help="terminal WIDTHxHEIGHT")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    r = asyncio.run(bench(args.rows, args.rate, args.seconds, (width, height)))
    print(
        f"console, headless {width}x{height}: {args.rows:,} rows, {args.rate:,} row updates/s "
        f"({r['updates_per_s']:,.0f} measured), {r['pulls_per_s']:.1f} pulls/s, "
        f"{r['wall_s']:.1f} s measured"
    )
    print(
        f"  UI CPU {r['ui_cpu_per_s']:.3f} s per wall second (target <= 0.15; feeder thread "
        f"excluded: {r['feeder_cpu_per_s']:.3f}; whole process {r['process_cpu_per_s']:.3f})"
    )
    print(
        f"  keypress to render: median {r['latency_median_ms']:.1f} ms, p90 "
        f"{r['latency_p90_ms']:.1f} ms, max {r['latency_max_ms']:.1f} ms over "
        f"{r['presses']:.0f} presses (target <= 50 ms)"
    )


if __name__ == "__main__":
    main()

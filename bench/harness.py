"""The fast headless harness: `polyb0t run --daemon --source sim --speed max`, timed whole.

Workload: the product's own command, run in this process through the CLI's `main`: the seeded
sim (default 2,000 markets, 8-level books, default sim and loop steps of 10 s), paper mode,
baseline strategy with an edge it knows (bench/sim_edge.py: it trades), every risk rule, SQLite
in a temporary data dir, the control socket on (no console attached, so no view is built), for
`--days` of simulated time. Timed: the wall time of the whole command (start-up, every step, the
final flush), and the steps per second. The engine's step count is the number of cycles the run
reports (one every `loop_interval_seconds`) plus the paper-fill steps between them.

Printed: wall time, start-up (until the first step), ms per cycle over the steps, simulated
seconds per wall second, the CPU time per cycle of the engine's thread and of the database
writer's (what to cut next), and the wall time a 30-day run would take (start-up + the steps
at this rate; marked as projected unless `--days 30` was run).

Run: python bench/harness.py [--markets 2000] [--days 1] [--seed 1]
Targets (issue 14): 2,000 markets x 30 days <= 10 min; 10,000 markets x 30 days <= 60 min
(2 cores).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import re
import tempfile
import time
from pathlib import Path

from sim_edge import toml_lines

from engine.run.runner import Engine
from engine.storage.writer import RecordWriter
from polyb0t_tui.cli import main

DAY = 86_400.0


def run(markets: int, days: float, seed: int) -> tuple[float, float, int, float, float]:
    """Wall seconds of one harness run, of its start-up (until the first step), the cycles it
    reports, and the CPU seconds of the engine's thread and of the database writer's."""
    opened: list[float] = []
    writer_cpu: list[float] = []
    real_open = Engine.open
    real_writer_run = RecordWriter._run

    async def timed_open(self: Engine, *args: object, **kw: object) -> float:
        start: float = await real_open(self, *args, **kw)  # type: ignore[arg-type]
        opened.append(time.perf_counter())
        return start

    def timed_writer(self: RecordWriter) -> None:
        c0 = time.thread_time()
        try:
            real_writer_run(self)
        finally:
            writer_cpu.append(time.thread_time() - c0)

    Engine.open = timed_open  # type: ignore[method-assign]
    RecordWriter._run = timed_writer  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "bench.toml"
        edge_sim, edge_strategy = toml_lines()
        lines = [f'data_dir = "{Path(tmp, "data").as_posix()}"', 'log_level = "WARNING"']
        lines += ["[sim]", f"seed = {seed}", f"markets = {markets}"]
        lines += ['start = "2026-03-02T00:00:00Z"', *edge_sim, *edge_strategy]
        cfg.write_text("\n".join([*lines, "[control]", "port = 0"]) + "\n")
        cfg.chmod(0o600)
        out = io.StringIO()
        t0 = time.perf_counter()
        c0 = time.thread_time()
        with contextlib.redirect_stdout(out):
            rc = main(
                ["run", "--daemon", "--source", "sim", "--speed", "max",
                 "--duration", str(days * DAY), "--config", str(cfg)]
            )  # fmt: skip
        wall = time.perf_counter() - t0
        main_cpu = time.thread_time() - c0
    Engine.open = real_open  # type: ignore[method-assign]
    RecordWriter._run = real_writer_run  # type: ignore[method-assign]
    if rc != 0 or not opened:
        raise SystemExit(f"polyb0t run exited {rc}")
    found = re.search(r"(\d+) cycles", out.getvalue())
    cycles = int(found.group(1)) if found else 0
    return wall, opened[0] - t0, cycles, main_cpu, sum(writer_cpu)


def main_bench() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--markets", type=int, default=2000)
    ap.add_argument("--days", type=float, default=1.0, help="simulated days to run")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    print(f"python {platform.python_version()}, {platform.machine()}")
    print(
        f"workload: polyb0t run --daemon --source sim --speed max, {args.markets:,} markets, "
        f"{args.days:g} simulated days, seed {args.seed}, SQLite, control socket on, no console"
    )
    wall, startup, cycles, main_cpu, writer_cpu = run(args.markets, args.days, args.seed)
    sim_s = args.days * DAY
    steps = wall - startup
    per_cycle = steps / cycles * 1000 if cycles else float("nan")
    month = startup + steps * 30 / args.days
    kind = "measured" if args.days >= 30 else "projected: start-up + this run's steps x 30 days"
    print(f"wall {wall:.1f} s: start-up {startup:.1f} s (world, database, markets stored)")
    print(f"steps: {steps:.1f} s for {cycles:,} cycles, {per_cycle:.2f} ms per cycle (all steps)")
    print(f"speed {sim_s / steps:,.0f} simulated s per wall s")
    if cycles:
        print(
            f"CPU per cycle: engine thread {main_cpu / cycles * 1000:.2f} ms, database writer "
            f"thread {writer_cpu / cycles * 1000:.2f} ms (whole run; the two share the GIL)"
        )
    print(f"30-day run: {month / 60:.1f} min ({kind})")


if __name__ == "__main__":
    main_bench()

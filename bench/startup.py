"""How fast the command line answers when it has nothing to do but parse: help and bad flags.

Workload: each case is a fresh interpreter running what the `polyb0t` console script runs
(`from polyb0t_tui.cli import main; sys.exit(main())`), so the figure is what a person
waits for after typing the command: interpreter start, imports, building the parser,
printing. Cases: `polyb0t --help`, `polyb0t run --help`, `polyb0t run --seed -1` (an
argument error, exit 2) and `polyb0t status --help`, `--runs` times each (default 20),
interleaved so that a burst of load on the machine spreads over every case. Each run's
exit status is checked: a command that crashed early would look fast.

Printed: median and max wall time per case against the target (<= 300 ms), the bare
interpreter start (`python -c pass`) as the floor nothing here can go below, then the top
import costs of `polyb0t --help` from `python -X importtime`, per top-level package (the
self time of its modules, so the rows add up to the total), and the heavy libraries loaded.

Run: python bench/startup.py [--runs 20] [--top 12]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

TARGET_MS = 300.0
ENTRY = "import sys; from polyb0t_tui.cli import main; sys.exit(main())"
CASES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("polyb0t --help", ("--help",), 0),
    ("polyb0t run --help", ("run", "--help"), 0),
    ("polyb0t run --seed -1", ("run", "--seed", "-1"), 2),
    ("polyb0t status --help", ("status", "--help"), 0),
)
# What the command line must not load just to parse (see tests/test_cli_startup.py).
HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "pydantic_settings",
    "numpy",
    "httpx",
    "websockets",
    "aiohttp",
    "msgspec",
    "rich",
    "textual",
)


@dataclass(frozen=True)
class Figures:
    label: str
    median_ms: float
    max_ms: float


def _time_once(argv: tuple[str, ...], expected: int) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *argv], capture_output=True, text=True, check=False
    )
    elapsed = (time.perf_counter() - start) * 1000.0
    if done.returncode != expected or not (done.stdout or done.stderr):
        raise SystemExit(
            f"polyb0t {' '.join(argv)}: exit {done.returncode}, expected {expected}\n"
            f"{done.stderr[-2000:]}"
        )
    return elapsed


def measure(runs: int) -> tuple[list[Figures], Figures]:
    """Each case `runs` times, round-robin; and the bare interpreter start."""
    times: dict[str, list[float]] = {label: [] for label, _, _ in CASES}
    floor: list[float] = []
    for _ in range(runs):
        for label, argv, expected in CASES:
            times[label].append(_time_once(argv, expected))
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        floor.append((time.perf_counter() - start) * 1000.0)
    figures = [Figures(k, statistics.median(v), max(v)) for k, v in times.items()]
    return figures, Figures("python -c pass", statistics.median(floor), max(floor))


@dataclass(frozen=True)
class Import:
    name: str
    self_us: int


def import_costs(argv: tuple[str, ...]) -> list[Import]:
    """`python -X importtime` of one command, parsed (it writes to stderr, one line each)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", ENTRY, *argv],
        capture_output=True,
        text=True,
        check=False,
    )
    out: list[Import] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _cumulative, name = line[len("import time:") :].split("|")
        out.append(Import(name.strip(), int(self_us)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20, help="runs of each case (default 20)")
    ap.add_argument("--top", type=int, default=12, help="import costs shown (default 12)")
    args = ap.parse_args()
    if args.runs < 1 or args.top < 0:
        ap.error("--runs takes 1 or more, --top 0 or more")

    print(
        f"workload: {len(CASES)} commands x {args.runs} fresh interpreters each "
        f"({sys.executable}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})"
    )
    figures, floor = measure(args.runs)
    print(f"target: <= {TARGET_MS:.0f} ms wall per command\n")
    print(f"{'command':<26} {'median ms':>10} {'max ms':>8}  vs target")
    for f in figures:
        verdict = "ok" if f.median_ms <= TARGET_MS else "OVER"
        print(f"{f.label:<26} {f.median_ms:>10.1f} {f.max_ms:>8.1f}  {verdict}")
    print(f"{floor.label + ' (floor)':<26} {floor.median_ms:>10.1f} {floor.max_ms:>8.1f}")

    imports = import_costs(("--help",))
    by_package: dict[str, list[Import]] = {}
    for i in imports:
        by_package.setdefault(i.name.split(".")[0], []).append(i)
    costs = sorted(
        ((sum(i.self_us for i in mods), len(mods), name) for name, mods in by_package.items()),
        reverse=True,
    )
    total = sum(c for c, _, _ in costs)
    print(f"\nimports of `polyb0t --help`: {len(imports)} modules, {total / 1000:.1f} ms in all")
    print(f"{'package':<28} {'ms (own modules)':>17} {'modules':>8}")
    for cost, count, name in costs[: args.top]:
        print(f"{name:<28} {cost / 1000:>17.1f} {count:>8}")
    loaded = {i.name.split(".")[0] for i in imports}
    heavy = [h for h in HEAVY if h in loaded]
    print(f"heavy libraries loaded: {', '.join(heavy) if heavy else 'none'}")


if __name__ == "__main__":
    main()

"""The flags of `polyb0t run` (the command itself is `polyb0t_tui.cli.run`, loaded to run)."""

from __future__ import annotations

import argparse
import math

from polyb0t_tui.cli.common import (
    LazyCommand,
    config_parent,
    markets_flag,
    one_line,
    positive_number,
    seed_flag,
    shown_value,
)


def _speed(text: str) -> float | None:
    if text.lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"takes a number > 0 or 'max', got {shown_value(text)}")
    return value


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run",
        parents=[config_parent()],
        help="run the trading engine (paper by default)",
        description="Run the engine: discover markets, compute signals, size them under risk "
        "limits and execute (paper fills) or propose intents (--live). Creates the data dir "
        "and database on first use.",
    )
    p.add_argument("--daemon", action="store_true", help="headless: no screen, logs to stderr")
    p.add_argument("--source", choices=["sim", "polymarket", "replay"], help="market data source")
    p.add_argument(
        "--live",
        action="store_true",
        help="live mode: trade intents for a person to approve (dry run by default)",
    )
    p.add_argument(
        "--cycles", type=positive_number(int), metavar="N", help="stop after N decision cycles"
    )
    p.add_argument(
        "--duration",
        type=positive_number(float),
        metavar="SECONDS",
        help="stop after this much engine time (simulated seconds on the sim)",
    )
    p.add_argument("--seed", type=seed_flag(), help="simulated world seed")
    p.add_argument("--markets", type=markets_flag(), metavar="N", help="simulated market count")
    p.add_argument(
        "--speed",
        type=_speed,
        metavar="X|max",
        default=argparse.SUPPRESS,
        help="simulated seconds per wall second, or 'max' (as fast as it computes)",
    )
    p.add_argument(
        "--record", action="store_true", help="store every source event for --source replay"
    )
    p.add_argument(
        "--replay-run",
        type=one_line(200),
        metavar="RUN_ID",
        help="with --source replay: which recording (latest)",
    )
    p.set_defaults(func=LazyCommand("polyb0t_tui.cli.run", "cmd_run"))

"""The flags of `polyb0t backfill` (the command is `polyb0t_tui.cli.backfill`)."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from engine.limits import RESOLVED_FIDELITY
from polyb0t_tui.cli.common import LazyCommand, config_parent, number

# Polymarket's first markets are from mid-2020: a window reaching further back only asks
# for nothing (and 100,000 days would start it before 1970).
POLYMARKET_START = datetime(2020, 6, 1, tzinfo=UTC).timestamp()
MAX_FIDELITY = 10_080  # a week of minutes
MAX_CONCURRENCY = 32  # the rate limiter caps requests anyway: more only queues
MAX_MARKETS = 1_000_000
MAX_TAG_ID = 2**31 - 1


def max_days(now: float | None = None) -> int:
    """The widest --days: back to Polymarket's start (grows by a day each day)."""
    return int(((time.time() if now is None else now) - POLYMARKET_START) // 86_400)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "backfill",
        parents=[config_parent()],
        help="fetch price history and resolved markets from Polymarket into the database",
        description="Fetch Polymarket's price history (CLOB /prices-history, YES token) for "
        "resolved and active markets, and store resolved markets with their payouts (the "
        "labels for training). Hosts and retries come from [polymarket] in the settings. "
        "Resumable: progress is saved as it goes; run the same command again after an "
        "interruption and only what is missing is fetched.",
    )
    days = max_days()
    p.add_argument(
        "--days",
        type=number(float, 0, days, above=True, why=" (Polymarket's history starts in June 2020)"),
        default=30.0,
        metavar="N",
        help=f"history window: the last N days (default 30; at most {days}, back to "
        "Polymarket's first markets in June 2020)",
    )
    p.add_argument(
        "--fidelity",
        type=number(int, 1, MAX_FIDELITY),
        default=60,
        metavar="MINUTES",
        help=f"minutes between points (default 60, up to {MAX_FIDELITY}). Polymarket answers "
        "resolved markets with "
        f"an empty history below about 12 h, so for those the backfill asks again at "
        f"{RESOLVED_FIDELITY} and keeps the coarser points (the summary counts them)",
    )
    p.add_argument(
        "--max-markets",
        type=number(int, 1, MAX_MARKETS),
        metavar="N",
        help="at most N markets in all, most traded first, resolved and active taken in turn "
        "(default: every market listed)",
    )
    p.add_argument(
        "--closed",
        action="store_true",
        help="resolved markets (closed, ending within the window)",
    )
    p.add_argument("--active", action="store_true", help="active markets (default: both kinds)")
    p.add_argument(
        "--tag-id",
        type=number(int, 1, MAX_TAG_ID),
        metavar="ID",
        help="only markets with this Gamma tag",
    )
    p.add_argument(
        "--concurrency",
        type=number(int, 1, MAX_CONCURRENCY),
        default=4,
        metavar="N",
        help=f"markets fetched at once (default 4, up to {MAX_CONCURRENCY}; the client rate "
        "limits still apply)",
    )
    p.add_argument(
        "--restart",
        action="store_true",
        help="ignore saved progress and fetch the whole window again",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=LazyCommand("polyb0t_tui.cli.backfill", "cmd_backfill"))

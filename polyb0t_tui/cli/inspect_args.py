"""The flags of `polyb0t status`, `report` and `intents` (the commands are
`polyb0t_tui.cli.inspect`)."""

from __future__ import annotations

import argparse

from polyb0t_tui.cli.common import LazyCommand, config_parent, number, one_line

INSPECT = "polyb0t_tui.cli.inspect"
MAX_LIST = 10_000  # intents listed at once
MAX_REASON_CHARS = 200
MAX_ID_CHARS = 200


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "status",
        parents=[config_parent()],
        help="engine state, bankroll, positions and exposure",
        description="Show the latest run: engine state, cash, equity, exposure and open positions.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=LazyCommand(INSPECT, "cmd_status"))

    p = sub.add_parser(
        "report",
        parents=[config_parent()],
        help="PnL, fills, signals and rejections by reason",
        description="Summarise trading: PnL, fills, signals and why signals "
        "were rejected. Default: the latest run.",
    )
    p.add_argument("--today", action="store_true", help="everything recorded today (UTC)")
    p.add_argument(
        "--run", type=one_line(MAX_ID_CHARS), metavar="RUN_ID", help="one run (default: the latest)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=LazyCommand(INSPECT, "cmd_report"))

    p = sub.add_parser(
        "intents",
        help="list, approve or reject live trade intents",
        description="Trade intents are live-mode orders waiting for a person. "
        "Approval is atomic: if two people approve at once, exactly one wins.",
    )
    isub = p.add_subparsers(dest="intents_command", metavar="ACTION", required=True)
    lp = isub.add_parser(
        "list",
        parents=[config_parent()],
        help="pending and recent intents",
        description="List open intents (pending, approved, submitted).",
    )
    lp.add_argument("--all", action="store_true", help="include closed intents")
    lp.add_argument(
        "--limit",
        type=number(int, 1, MAX_LIST),
        default=50,
        help=f"at most this many (default 50, up to {MAX_LIST})",
    )
    lp.add_argument("--json", action="store_true", help="machine-readable output")
    lp.set_defaults(func=LazyCommand(INSPECT, "cmd_intents_list"))
    ap = isub.add_parser(
        "approve",
        parents=[config_parent()],
        help="approve a pending intent",
        description="Approve a pending intent; the engine re-checks the book "
        "and executes it (EXECUTED_DRYRUN while dry_run is on).",
    )
    ap.add_argument(
        "intent_id",
        type=one_line(MAX_ID_CHARS),
        metavar="ID",
        help="intent id (a unique prefix is enough)",
    )
    ap.set_defaults(func=LazyCommand(INSPECT, "cmd_intents_approve"))
    rp = isub.add_parser(
        "reject",
        parents=[config_parent()],
        help="reject a pending intent",
        description="Reject a pending intent; it will not be proposed again "
        "until the market's cooldown passes.",
    )
    rp.add_argument(
        "intent_id",
        type=one_line(MAX_ID_CHARS),
        metavar="ID",
        help="intent id (a unique prefix is enough)",
    )
    rp.add_argument(
        "--reason",
        type=one_line(MAX_REASON_CHARS),
        default="rejected by operator",
        help=f"recorded with the intent (one line, up to {MAX_REASON_CHARS} characters)",
    )
    rp.set_defaults(func=LazyCommand(INSPECT, "cmd_intents_reject"))

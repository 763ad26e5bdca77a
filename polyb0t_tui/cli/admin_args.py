"""The flags of `polyb0t db`, `config`, `doctor` and `diagnose-filters` (the commands are
`polyb0t_tui.cli.admin`, and `polyb0t_tui.cli.db_prune` for `db prune`)."""

from __future__ import annotations

import argparse

from polyb0t_tui.cli.common import LazyCommand, config_parent, markets_flag, number, seed_flag

ADMIN = "polyb0t_tui.cli.admin"
MAX_EXAMPLES = 100


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = sub.add_parser(
        "db",
        help="create or reset the database",
        description="Manage the database named by database_url (default: SQLite under data_dir).",
    )
    dsub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    p = dsub.add_parser(
        "init",
        parents=[config_parent()],
        help="create tables (idempotent)",
        description="Create the schema if missing and record its version; "
        "migrate an older database. Safe to run again.",
    )
    p.set_defaults(func=LazyCommand(ADMIN, "cmd_db_init"))
    p = dsub.add_parser(
        "reset",
        parents=[config_parent()],
        help="drop and recreate every table (asks first)",
        description="Delete ALL stored data (runs, fills, intents...) and "
        "recreate an empty schema. A SQLite file that is not a readable database "
        "(damaged, or something else) is replaced by a new one.",
    )
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=LazyCommand(ADMIN, "cmd_db_reset"))
    _register_db_prune(dsub)

    cfg = sub.add_parser(
        "config",
        help="check or print the settings",
        description="Settings come from defaults < TOML file < POLYBOT_* "
        "environment < command-line flags.",
    )
    csub = cfg.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    p = csub.add_parser(
        "validate",
        parents=[config_parent()],
        help="check the settings; one line per problem",
        description="Load and validate the settings, the console's [ui.keys] remaps "
        "included; exit 2 on problems.",
    )
    p.set_defaults(func=LazyCommand(ADMIN, "cmd_config_validate"))
    p = csub.add_parser(
        "show",
        parents=[config_parent()],
        help="print the effective settings (secrets masked)",
        description="Print the settings in force, as TOML-like text or JSON.",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=LazyCommand(ADMIN, "cmd_config_show"))

    p = sub.add_parser(
        "doctor",
        parents=[config_parent()],
        help="check config, database, data dir, source and clock",
        description="Run each check and print PASS or FAIL with a hint; exit 1 if any check fails.",
    )
    p.add_argument(
        "--live",
        action="store_true",
        help="also check live trading: credentials, signature type vs funder, balance and "
        "allowances, geoblock, clock skew against the exchange (on when live.dry_run = false)",
    )
    p.set_defaults(func=LazyCommand(ADMIN, "cmd_doctor"))

    p = sub.add_parser(
        "diagnose-filters",
        parents=[config_parent()],
        help="how many markets each universe rule removes, with examples",
        description="Build the market universe from the source and show, rule "
        "by rule, how many markets fail it and which ones.",
    )
    p.add_argument("--seed", type=seed_flag(), help="simulated world seed")
    p.add_argument("--markets", type=markets_flag(), metavar="N", help="simulated market count")
    p.add_argument(
        "--examples",
        type=number(int, 0, MAX_EXAMPLES),
        default=3,
        help=f"examples per rule (default 3, up to {MAX_EXAMPLES})",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=LazyCommand(ADMIN, "cmd_diagnose_filters"))


def _register_db_prune(dsub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `prune` to the `db` command's actions."""
    p = dsub.add_parser(
        "prune",
        parents=[config_parent()],
        help="delete rows older than the [retention] settings keep",
        description="Delete old snapshots, signals, engine events, rejection counts and "
        "ended recordings as the [retention] settings say; fills, orders, intents, "
        "positions, daily PnL, runs and markets are never deleted. Prints the rows removed "
        "per table and the database size before and after.",
    )
    p.add_argument("--dry-run", action="store_true", help="count what would go; delete nothing")
    p.add_argument(
        "--vacuum",
        action="store_true",
        help="then give the freed space back to the disk (SQLite: blocks writers meanwhile, "
        "and turns on incremental auto-vacuum so later prunes shrink the file themselves)",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=LazyCommand("polyb0t_tui.cli.db_prune", "cmd_db_prune"))

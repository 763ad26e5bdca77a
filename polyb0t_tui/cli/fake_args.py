"""The flags of `polyb0t fake-exchange` (the command is `polyb0t_tui.cli.fake`)."""

from __future__ import annotations

import argparse

from polyb0t_tui.cli.common import (
    LazyCommand,
    config_parent,
    markets_flag,
    number,
    positive_number,
    seed_flag,
)

MAX_PORT = 65533  # PORT, PORT+1 and PORT+2 are used


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "fake-exchange",
        parents=[config_parent()],
        help="serve a local fake Polymarket (Gamma, CLOB REST, websockets) on 127.0.0.1",
        description="Serve Gamma on PORT, the CLOB REST API on PORT+1 and the market and user "
        "websockets on PORT+2, in Polymarket's wire formats, backed by the simulated exchange "
        "(settings [sim]). Accepts orders signed by py_clob_client_v2. Ctrl-C stops it.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=number(int, 0, MAX_PORT, why=" (it and the next two are used)"),
        default=0,
        help="first of three ports (default: random)",
    )
    p.add_argument(
        "--speed",
        type=positive_number(float),
        default=1.0,
        help="simulated seconds per wall second",
    )
    p.add_argument("--seed", type=seed_flag(), help="simulated world seed")
    p.add_argument("--markets", type=markets_flag(), metavar="N", help="simulated market count")
    p.set_defaults(func=LazyCommand("polyb0t_tui.cli.fake", "cmd_fake_exchange"))

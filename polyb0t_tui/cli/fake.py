"""`polyb0t fake-exchange`: the local fake Polymarket, for trying the real clients offline."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from polyb0t_tui.cli.common import (
    CliError,
    config_parent,
    markets_flag,
    number,
    positive_number,
    seed_flag,
    settings_from,
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
    p.set_defaults(func=cmd_fake_exchange)


def cmd_fake_exchange(args: argparse.Namespace) -> int:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise CliError("the fake exchange only binds loopback (127.0.0.1)", code=2)
    sim: dict[str, object] = {}
    if args.seed is not None:
        sim["seed"] = args.seed
    if args.markets is not None:
        sim["markets"] = args.markets
    settings = settings_from(args, **({"sim": sim} if sim else {}))
    from engine.fake_exchange.server import main_async

    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main_async(args.host, args.port, settings.sim, args.speed))
    except OSError as exc:  # a port in use, mostly
        ports = f"ports {args.port}-{args.port + 2}" if args.port else "free ports"
        raise CliError(
            f"fake-exchange: cannot listen on {args.host} {ports}: {exc.strerror or exc}; "
            "pick another --port (0 picks free ones) or stop what is using them",
            code=2,
        ) from None
    return 0

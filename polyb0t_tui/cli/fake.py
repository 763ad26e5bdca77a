"""`polyb0t fake-exchange`: the local fake Polymarket, for trying the real clients offline."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from polyb0t_tui.cli.common import CliError, config_parent, settings_from


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
    p.add_argument("--port", type=int, default=0, help="first of three ports (default: random)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per wall second")
    p.add_argument("--seed", type=int, help="simulated world seed")
    p.add_argument("--markets", type=int, metavar="N", help="simulated market count")
    p.set_defaults(func=cmd_fake_exchange)


def cmd_fake_exchange(args: argparse.Namespace) -> int:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise CliError("the fake exchange only binds loopback (127.0.0.1)", code=2)
    if not 0 <= args.port <= 65533 or args.speed <= 0:
        raise CliError("--port must be 0..65533 and --speed > 0", code=2)
    sim: dict[str, object] = {}
    if args.seed is not None:
        sim["seed"] = args.seed
    if args.markets is not None:
        sim["markets"] = args.markets
    settings = settings_from(args, **({"sim": sim} if sim else {}))
    from engine.fake_exchange.server import main_async

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(args.host, args.port, settings.sim, args.speed))
    return 0

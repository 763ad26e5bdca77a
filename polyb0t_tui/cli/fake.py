"""`polyb0t fake-exchange`: the local fake Polymarket, for trying the real clients offline."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from polyb0t_tui.cli.common import (
    CliError,
    settings_from,
)


def cmd_fake_exchange(args: argparse.Namespace) -> int:
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise CliError("the fake exchange only binds loopback (127.0.0.1)", code=2)
    sim: dict[str, object] = {}
    if args.seed is not None:
        sim["seed"] = args.seed
    if args.markets is not None:
        sim["markets"] = args.markets
    settings = settings_from(args, **({"sim": sim} if sim else {}))
    try:
        from fake_polymarket.server import main_async
    except ModuleNotFoundError as exc:  # aiohttp lives in the `fake` extra
        raise CliError(
            f"fake-exchange needs the `fake` extra ({exc.name} is not installed): "
            "pip install -e '.[fake]' (or '.[dev]')",
            code=2,
        ) from None

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

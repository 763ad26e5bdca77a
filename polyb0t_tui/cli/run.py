"""`polyb0t run`: the engine, headless (--daemon) or in the foreground.

Until the console lands, `run` without --daemon runs the same engine in the foreground.
SIGINT/SIGTERM set a stop event; the engine finishes the step it is on (milliseconds) and
shuts down cleanly, recording the run's end.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Callable
from typing import Any

from engine.config import Settings
from engine.logs import setup_logging
from engine.runner import RunSummary
from polyb0t_tui.cli.common import CliError, config_parent, settings_from, storage_from
from polyb0t_tui.runtime import StartupError, build_runtime

log = logging.getLogger("polyb0t.cli")


def _speed(text: str) -> float | None:
    if text.lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--speed takes a number > 0 or 'max', got {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"--speed must be > 0, got {text}")
    return value


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type for a number > 0 of `kind`, with a message naming what was given."""
    word = "a whole number" if kind is int else "a number"

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {word}, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
        return value

    return parse


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
        "--cycles", type=_positive(int), metavar="N", help="stop after N decision cycles"
    )
    p.add_argument(
        "--duration",
        type=_positive(float),
        metavar="SECONDS",
        help="stop after this much engine time (simulated seconds on the sim)",
    )
    p.add_argument("--seed", type=int, help="simulated world seed")
    p.add_argument("--markets", type=_positive(int), metavar="N", help="simulated market count")
    p.add_argument(
        "--speed",
        type=_speed,
        metavar="X|max",
        default=argparse.SUPPRESS,
        help="simulated seconds per wall second, or 'max' (as fast as it computes)",
    )
    p.set_defaults(func=cmd_run)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if args.source:
        out["source"] = args.source
    sim: dict[str, Any] = {}
    if args.seed is not None:
        sim["seed"] = args.seed
    if args.markets is not None:
        sim["markets"] = args.markets
    if sim:
        out["sim"] = sim
    speed = getattr(args, "speed", "unset")
    if speed != "unset" and speed is not None:
        out["speed"] = speed
    return out


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_from(args, **_overrides(args))
    speed = getattr(args, "speed", settings.speed)
    setup_logging(settings.log_level, settings.log_file, _secrets(settings))
    try:
        summary = asyncio.run(_run(settings, args, speed))
    except StartupError as exc:
        raise CliError(str(exc), code=2) from None
    print(
        f"run {summary.run_id}: {summary.cycles} cycles, {summary.signals} signals, "
        f"{summary.fills} fills, equity {summary.equity:.2f} ({summary.stopped_by})"
    )
    return 0


async def _run(settings: Settings, args: argparse.Namespace, speed: float | None) -> RunSummary:
    storage = storage_from(settings, create=True)
    rt = build_runtime(settings, live=args.live, speed=speed, storage=storage)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    mode = rt.mode.value + (" (dry run)" if args.live and settings.live.dry_run else "")
    log.info(
        "polyb0t %s, source %s, data %s, speed %s",
        mode,
        settings.source,
        settings.data_dir,
        "max" if speed is None else f"{speed:g}x",
    )
    try:
        return await rt.engine.run(stop, cycles=args.cycles, duration=args.duration)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _secrets(settings: Settings) -> list[str]:
    live = settings.live
    return [
        s.get_secret_value()
        for s in (live.private_key, live.api_key, live.api_secret, live.api_passphrase)
        if s is not None
    ]
